"""Reading derivation files: every problem names the file and the line or key."""
import pytest

from symbolic_bp.derivations.derivation import discover, load, loads
from symbolic_bp.errors import InputError

from .conftest import GOOD


def test_good_file(good_file):
    d = load(good_file)
    assert d.title == "a small derivation" and d.document == "notes.md"
    assert [e.name for e in d.entries] == ["linear", "transposed"]
    first, second = d.entries
    assert first.expect == "verified" and second.expect == "refuted"
    assert first.claim.shapes == "A:m,n x:n y:m" and first.section == "1"
    assert first.latex.startswith("\\boxed{") and first.line == 6 and second.line == 13
    assert d.where(second) == f"{good_file}:13"


BAD = [
    ("toml-syntax", 'title = "x"\n[[claim]\n', "f.toml:2:"),
    ("unknown-file-key", GOOD.replace("document =", "documnet ="), "f.toml: unknown key 'documnet' (did you mean 'document'?)"),
    ("unknown-claim-key", GOOD.replace('wrt = "A"\nclaim = "y @ x.T"', 'wrt = "A"\nclaim = "y @ x.T"\ncots = "1"', 1),
     "f.toml:6: unknown key 'cots' (did you mean 'cost'?)"),
    ("missing-key", GOOD.replace('wrt = "A"\nclaim = "x @ y.T"', 'claim = "x @ y.T"'), "f.toml:13: missing key 'wrt'"),
    ("wrong-type", GOOD.replace('cost = "y.T @ A @ x"', "cost = 3", 1), "f.toml:6: key 'cost' must be a string, got int"),
    ("bad-expect", GOOD.replace('expect = "refuted"', 'expect = "wrong"'), "f.toml:18: expect must be one of"),
    ("duplicate-name", GOOD.replace('name = "transposed"', 'name = "linear"'), "f.toml:13: the name 'linear' is used twice"),
    ("no-claims", 'title = "x"\nclaim = []\n', "f.toml: no [[claim]] sections"),
    ("claim-not-table", 'title = "x"\nclaim = "y"\n', "f.toml: 'claim' must be an array of tables"),
    ("no-shapes", GOOD.replace('shapes = "A:m,n x:n y:m"\n', ""), "has no 'shapes' and the file gives no default"),
    ("empty", "", "f.toml: missing key 'title'"),
]


@pytest.mark.parametrize("text,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_file_is_one_line_naming_the_place(text, message):
    with pytest.raises(InputError) as e:
        loads(text, "f.toml")
    assert message in str(e.value) and "\n" not in str(e.value)


def test_unreadable_files(tmp_path):
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match=r"b.toml: not UTF-8 text"):
        load(binary)
    with pytest.raises(InputError, match=r"missing.toml: cannot read"):
        load(tmp_path / "missing.toml")


def test_discover_sorts_and_recurses(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("b/z.toml", "a.toml", "b/readme.md"):
        (tmp_path / name).write_text("")
    assert [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])] == ["a.toml", "b/z.toml"]
