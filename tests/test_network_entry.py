import pytest

from symbolic_bp.derivations.derivation import loads
from symbolic_bp.errors import InputError
from symbolic_bp.derivations.network_entry import NetworkEntry

FILE = '''title = "deltas"
document = "notes.md"

[[network]]
name = "recursion"
convention = "nielsen"
activation = "sigma"
cost = "mse"
batch = "2"
claim = "delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])"

[[network]]
name = "pattern"
convention = "post"
sizes = "2,3,2,2"
bias = "no"
activation = "identity"
cost = "mse"
claim = "grad(W[i,i+1]) = Delta[2-i] @ q[i].T"
expect = "verified"
'''


def test_network_items_are_read_with_their_lines():
    d = loads(FILE, "f.toml")
    assert [e.name for e in d.entries] == ["recursion", "pattern"]
    first, second = d.entries
    assert isinstance(first, NetworkEntry) and first.kind == "network" and first.line == 4
    assert first.spec.batch == 2 and not first.own_network
    assert second.own_network and second.spec.sizes == (2, 3, 2, 2) and not second.spec.bias
    assert first.fields()["convention"] == "nielsen"


@pytest.mark.slow
def test_network_items_run():
    d = loads(FILE, "f.toml")
    assert d.entries[1].run(60, 0).verdict == "verified"


@pytest.mark.parametrize("change, message", [
    (('convention = "nielsen"', 'convention = "lecun"'), r"f.toml:\d+: unknown convention 'lecun'"),
    (('batch = "2"', 'batch = "two"'), r"f.toml:\d+: batch must be an integer"),
    (('bias = "no"', 'bias = "maybe"'), r"f.toml:\d+: bias must be yes or no"),
    (('cost = "mse"\nbatch', 'cost = "hinge"\nbatch'), r"f.toml:4: cost: unknown cost"),
    (('activation = "sigma"', 'activaton = "sigma"'), r"unknown key 'activaton' \(did you mean 'activation'\?\)"),
    (('sizes = "2,3,2,2"', 'sizes = "2,x"'), r"f.toml:\d+: sizes must be integers"),
])
def test_bad_items_name_file_and_line(change, message):
    with pytest.raises(InputError, match=message):
        loads(FILE.replace(*change), "f.toml")


BUNDLED = ["post_I_II_scalar_chains.toml", "post_III_IV_networks.toml", "answer_delta.toml"]


@pytest.mark.slow
def test_bundled_network_derivations_give_the_expected_verdicts():
    from pathlib import Path
    from symbolic_bp.rendering import report
    root = Path(__file__).resolve().parent.parent / "derivations"
    rep = report.run([root / name for name in BUNDLED], seconds=120)
    rows = [r for r in rep.rows if r.entry.kind == "network"]
    assert len(rows) >= 29 and not rep.errors
    bad = [(r.entry.name, r.result.verdict, r.result.error) for r in rows if not r.matches]
    assert not bad
    refuted = {r.entry.name: r.result for r in rows if r.result.verdict == "refuted"}
    assert "wrong layer index" in refuted["comment-theta-l-in-answer-convention"].diagnosis
    assert "without its index" in refuted["II-delta1-green"].diagnosis
