import pytest

from symbolic_bp.networks.convention import CONVENTIONS, DEPTH_OFFSET, Index, get
from symbolic_bp.errors import InputError


def test_index_arithmetic_and_printing():
    i = Index(var=1) + Index(const=1)
    assert str(i) == "l+1" and i.at(2, 5) == 3
    assert str(Index(depth=1) - Index(var=1)) == "-l+L" and (Index(depth=1) - Index(const=2)).at(None, 3) == 1


@pytest.mark.parametrize("conv, name, written, kind, layer", [
    ("nielsen", "W", Index(var=1, const=1), "W", Index(var=1, const=1)),
    ("answer", "theta", Index(var=1, const=1), "W", Index(var=1, const=1)),
    ("ng", "Theta", Index(var=1), "Theta", Index(var=1)),          # Theta(l) holds canonical layer l's weights
    ("ng", "delta", Index(var=1), "delta", Index(var=1, const=-1)),  # ng layer l is canonical l-1
    ("ng", "a", Index(var=1), "a_aug", Index(var=1, const=-1)),
    ("post", "delta", Index(const=0), "delta", Index(depth=1)),      # delta_0 = dC/dp_L
    ("post", "p", Index(var=1), "z", Index(var=1)),
    ("rows", "Z", Index(var=1), "z", Index(var=1)),                  # rows: the same layers, transposed
    ("rows", "dZ", Index(var=1), "delta", Index(var=1)),
    ("ng", "Delta", Index(var=1), "Delta", Index(var=1)),            # Delta(l) = delta(l+1) a(l)ᵀ: canonical l
    ("ng", "Theta_reg", Index(var=1), "Theta_reg", Index(var=1)),
])
def test_names_map_onto_the_canonical_layout(conv, name, written, kind, layer):
    ref = CONVENTIONS[conv].resolve(name, [written], "here")
    assert (ref.kind, ref.layer) == (kind, layer)


def test_post_weights_need_adjacent_layers():
    post = CONVENTIONS["post"]
    assert post.resolve("W", [Index(var=1), Index(var=1, const=1)], "x").layer == Index(var=1, const=1)
    with pytest.raises(InputError, match="j = i\\+1"):
        post.resolve("W", [Index(const=0), Index(const=2)], "column 3")


def test_unknown_names_and_conventions():
    with pytest.raises(InputError, match="not an indexed name of the nielsen convention"):
        CONVENTIONS["nielsen"].resolve("Theta", [Index()], "column 1")
    with pytest.raises(InputError, match="takes 1 index"):
        CONVENTIONS["nielsen"].resolve("W", [Index(), Index()], "column 1")
    with pytest.raises(InputError, match="unknown convention 'bengio'"):
        get("bengio")


def test_every_convention_has_a_depth_offset_and_examples():
    assert set(DEPTH_OFFSET) == set(CONVENTIONS)
    assert all(c.examples for c in CONVENTIONS.values())


def test_aliases_name_the_rows_convention():
    assert get("rows") is get("row-major") is get("cs231n")
    assert get("rows").layout == "rows" and get("nielsen").layout == "columns"
    with pytest.raises(InputError, match="rows \\(row-major/cs231n\\)"):
        get("pytorch")


def test_only_ng_defines_delta_of_the_summed_cost():
    assert {c.name for c in CONVENTIONS.values() if c.delta_of == "sum"} == {"ng"}
    assert get("ng").delta_factor(True) == "N" and get("ng").delta_factor(False) == 1
    assert all(c.delta_factor(True) == 1 for c in CONVENTIONS.values() if c.name != "ng")
    assert "m" in get("ng").batch_names and "n" in get("nielsen").batch_names
