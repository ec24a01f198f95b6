"""Derivation chains: relations, definitions, candidates, a wrong middle line, bad input."""
import pytest

from symbolic_bp.rendering import report
from symbolic_bp.derivations.chain import StepEntry, substitute
from symbolic_bp.derivations.derivation import load, loads
from symbolic_bp.errors import InputError
from symbolic_bp.language.parser import parse

HEAD = '''title = "chains"
document = "notes.md"
shapes = "W1:2,n W2:p,2 x:n y:p"
'''

# C = 1/2 |W2 W1 x - y|^2, written out line by line; line 3 is wrong
# (a transpose is lost), lines 4 and 5 follow from it / from line 2
CHAIN = HEAD + '''
[[chain]]
name = "net"
start = "(x2 - y).T @ (x2 - y) / 2"
expect = "invalid"

[[chain.define]]
name = "x2"
expr = "W2 @ x1"

[[chain.define]]
name = "x1"
expr = "W1 @ x"

[[step]]
relation = "up-to-constant"
in = "W2"
expr = "x2.T @ x2 / 2 - y.T @ x2"

[[step]]
relation = "gradient"
wrt = "W1"
expr = "W2.T @ (x2 - y) @ x.T"

[[step]]
relation = "="
expr = "W2 @ (x2 - y) @ x.T"
expect = "invalid"

[[step]]
relation = "candidate"
wrt = "W1"
expr = "W2.T @ (x2 - y) @ x1.T"
expect = "refuted"

[[step]]
relation = "="
from = 2
expr = "W2.T @ x2 @ x.T - W2.T @ y @ x.T"

[[step]]
relation = "gradient"
wrt = "W2"
expr = "(x2 - y) @ x1.T"
'''


@pytest.fixture(scope="module")
def chain_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("chain") / "c.toml"
    path.write_text(CHAIN)
    return path


@pytest.fixture(scope="module")
def rows(chain_file):
    # the same file read again gets the same chain, which remembers its results
    d = load(chain_file)
    return {e.name: (e, e.run(60, 0)) for e in d.entries}


def test_rows_one_per_line_plus_the_chain(rows):
    assert list(rows) == ["net", "net/1", "net/2", "net/3", "net/4", "net/5", "net/6"]
    assert all(isinstance(rows[f"net/{i}"][0], StepEntry) for i in range(1, 7))


def test_each_relation_gets_its_verdict(rows):
    verdicts = {name: r.verdict for name, (e, r) in rows.items()}
    assert verdicts == {"net": "invalid", "net/1": "verified", "net/2": "verified", "net/3": "invalid",
                        "net/4": "refuted", "net/5": "verified", "net/6": "verified"}
    assert all(r.verdict == e.expect for e, r in rows.values())


def test_definitions_are_substituted_so_gradients_see_through_them(rows):
    step = rows["net/2"][0].step
    assert step.text == "W2.T @ (W2 @ (W1 @ x) - y) @ x.T" and step.expr == "W2.T @ (x2 - y) @ x.T"
    # the cost of a gradient line is the latest line that is not a gradient: line 1 here
    assert rows["net/2"][0].claim.cost == "(W2 @ (W1 @ x)).T @ (W2 @ (W1 @ x)) / 2 - y.T @ (W2 @ (W1 @ x))"


def test_what_each_line_is_compared_with(rows):
    steps = [rows[f"net/{i}"][0].step for i in range(1, 7)]
    assert [s.previous for s in steps] == [0, 1, 2, 3, 2, 5]
    # a gradient line claims the gradient of the latest line that is not a gradient
    assert steps[1].cost == 1 and steps[5].cost == 1


def test_the_chain_names_its_first_wrong_line_and_what_follows(rows):
    entry, r = rows["net"]
    assert r.diagnosis.startswith("line 3 of 6 is the first wrong line; after it, lines 5, 6 hold")
    assert "discarded candidates: line 4 refuted" in r.diagnosis
    assert r.error.startswith("line 3:") and "shape mismatch" in r.error


def test_candidate_does_not_break_the_chain(rows):
    assert rows["net/5"][0].step.previous == 2
    assert rows["net/4"][0].statement().startswith("candidate (discarded by the source)")


def test_wrong_middle_line_refuted_with_counterexample_and_diagnosis():
    text = HEAD + '''
[[chain]]
name = "mid"
shapes = "A:m,m B:m,m"
start = "(A @ B).T"
[[step]]
relation = "="
expr = "B.T @ A.T"
[[step]]
relation = "="
expr = "A.T @ B.T"
expect = "refuted"
[[step]]
relation = "="
expr = "(B @ A).T"
expect = "refuted"
[[step]]
relation = "="
expr = "A.T @ B.T"
'''
    entries = loads(text, "m.toml").entries
    results = [e.run(60, 0) for e in entries]
    assert [r.verdict for r in results] == ["refuted", "verified", "refuted", "verified", "verified"]
    summary = results[0]
    assert summary.diagnosis.startswith("line 2 of 4 is the first wrong line; after it, lines 3, 4 hold")
    assert summary.counterexample is not None and summary.claim == "A.T @ B.T"
    assert results[2].counterexample is not None and results[2].diagnosis


def test_report_shows_every_step(chain_file, rows):
    rep = report.run([chain_file], seconds=60)
    assert [r.entry.name for r in rep.rows][:3] == ["net", "net/1", "net/2"] and rep.exit_code == 0
    data = rep.to_dict()["claims"]
    assert data[3]["kind"] == "step" and data[3]["relation"] == "=" and data[3]["compared_with"] == 2
    assert data[0]["kind"] == "chain" and data[0]["definitions"] == {"x2": "W2 @ x1", "x1": "W1 @ x"}
    text = report.to_text(rep)
    assert "c::net/3" in text and "line 3 of 6 is the first wrong line" in text


def test_substitute_keeps_precedence_and_leaves_unparsable_text():
    assert substitute("W23 @ D @ x", {"D": parse("W12 @ W01")}) == "W23 @ (W12 @ W01) @ x"
    assert substitute("2 * d", {"d": parse("a - b")}) == "2 * (a - b)"
    assert substitute("x +* y", {"x": parse("z")}) == "x +* y"


def _chain(steps: str, extra: str = "") -> str:
    return HEAD + f'[[chain]]\nname = "c"\nstart = "y.T @ W2 @ W1 @ x"\n{extra}\n' + steps


BAD = [
    ("relation", _chain('[[step]]\nrelation = "=="\nexpr = "x"\n'), "c.toml:8: relation must be one of"),
    ("no-wrt", _chain('[[step]]\nrelation = "gradient"\nexpr = "x"\n'), "c.toml:8: a gradient line needs 'wrt'"),
    ("no-in", _chain('[[step]]\nrelation = "up-to-constant"\nexpr = "x"\n'), "needs 'in'"),
    ("from-future", _chain('[[step]]\nrelation = "="\nfrom = 3\nexpr = "x"\n'), "'from' must be the number"),
    ("from-candidate", _chain('[[step]]\nrelation = "candidate"\nexpr = "x"\n[[step]]\nrelation = "="\n'
                              'from = 1\nexpr = "x"\n'), "c.toml:11: 'from' must be"),
    ("step-key", _chain('[[step]]\nrelation = "="\nexpr = "x"\nwtr = "x"\n'), "c.toml:8: unknown key 'wtr'"),
    ("no-steps", _chain(""), "chain 'c' has no [[step]] lines"),
    ("orphan-step", HEAD + '[[step]]\nrelation = "="\nexpr = "x"\n[[chain]]\nname = "c"\nstart = "x"\n',
     "must follow the [[chain]]"),
    ("declared-define", _chain('[[step]]\nrelation = "="\nexpr = "x"\n', '[[chain.define]]\nname = "x"\nexpr = "y"\n'),
     "define 'x': the name is already declared in shapes"),
    ("bad-define", _chain('[[step]]\nrelation = "="\nexpr = "x"\n', '[[chain.define]]\nname = "D"\nexpr = "W2 @"\n'),
     "define 'D': column"),
    ("define-not-name", _chain('[[step]]\nrelation = "="\nexpr = "x"\n', '[[chain.define]]\nname = "D+"\nexpr = "x"\n'),
     "define 'D+'"),
    ("circular", _chain('[[step]]\nrelation = "="\nexpr = "x"\n', '[[chain.define]]\nname = "D"\nexpr = "E"\n'
                        '[[chain.define]]\nname = "E"\nexpr = "D"\n'), "the definitions are circular (D -> E -> D)"),
    ("from-type", _chain('[[step]]\nrelation = "="\nfrom = "0"\nexpr = "x"\n'), "'from' must be"),
]


@pytest.mark.parametrize("text,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_chain_is_one_line_naming_the_place(text, message):
    with pytest.raises(InputError) as e:
        loads(text, "c.toml")
    assert message in str(e.value) and "\n" not in str(e.value) and str(e.value).startswith("c.toml")


def test_ill_typed_line_is_an_invalid_verdict_not_a_load_error():
    d = loads(_chain('[[step]]\nrelation = "gradient"\nwrt = "W1"\nexpr = "y.T @ x.T"\nexpect = "invalid"\n'), "c.toml")
    r = d.entries[1].run(60, 0)
    assert r.verdict == "invalid" and "shape mismatch" in r.error


@pytest.mark.slow
def test_bundled_chains_of_both_seed_documents_match_their_hand_verified_verdicts():
    from pathlib import Path
    files = sorted((Path(__file__).resolve().parent.parent / "derivations").glob("chain_*.toml"))
    assert len(files) >= 4
    rep = report.run(files, seconds=120)
    mismatches = [(r.entry.name, r.result.verdict, r.entry.expect) for r in rep.rows if not r.matches]
    assert mismatches == [] and rep.errors == []
    steps = [r for r in rep.rows if r.entry.kind == "step"]
    # the README's table: 24 lines of the answer, 115 of the post
    assert sum("000_" in r.source for r in steps) == 24 and sum("001_" in r.source for r in steps) == 115
    assert {r.result.verdict for r in steps} == {"verified", "refuted", "invalid"}


def test_other_reading_is_checked_and_reported_without_breaking_the_chain():
    text = _chain('[[step]]\nrelation = "gradient"\nwrt = "W2"\nexpr = "y @ x.T @ W1.T"\n'
                  '[[step]]\nrelation = "reading"\nwrt = "W2"\nexpr = "x @ y.T"\nexpect = "refuted"\n'
                  '[[step]]\nrelation = "="\nexpr = "y @ (W1 @ x).T"\n', 'expect = "verified"')
    entries = loads(text, "r.toml").entries
    results = [e.run(60, 0) for e in entries]
    assert [r.verdict for r in results] == ["verified", "verified", "refuted", "verified"]
    assert entries[3].step.previous == 1 and entries[2].statement().startswith("other reading: ")
    assert results[0].derived == "all 2 lines hold; other readings: line 2 refuted"


# -- a batch-norm chain in the NumPy dialect -------------------------------------------------------------

BATCH_NORM = '''title = "batch norm, by steps"
shapes = "X:N,D dY:N,D gamma:1,D beta:1,D eps:scalar:positive"

[[chain]]
name = "centering"
start = "np.sum(dY * (X - X.mean(axis=0)))"
expect = "verified"

[[step]]
relation = "="
expr = "np.sum(dY * X) - np.sum(dY.sum(axis=0) * X.sum(axis=0)) / N"

[[step]]
relation = "="
expr = "np.sum((dY - dY.mean(axis=0)) * X)"

[[step]]
relation = "gradient"
wrt = "X"
expr = "dY - dY.mean(axis=0)"

[[chain]]
name = "normalise"
start = "np.sum(dY * (gamma * (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + eps) + beta))"
expect = "refuted"

[[chain.define]]
name = "xhat"
expr = "(X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + eps)"

[[step]]
relation = "="
expr = "np.sum(dY * (gamma * xhat + beta))"

[[step]]
relation = "gradient"
wrt = "gamma"
expr = "np.sum(dY * xhat, axis=0, keepdims=True)"

[[step]]
relation = "gradient"
wrt = "beta"
expr = "dY.sum(axis=0)"

[[step]]
relation = "gradient"
wrt = "X"
expr = "gamma / np.sqrt(X.var(axis=0) + eps) / N * (N * dY - dY.sum(axis=0) - xhat * np.sum(dY * xhat, axis=0))"

[[step]]
relation = "up-to-constant"
in = "X"
from = 1
expr = "np.sum(dY * gamma * xhat)"

[[step]]
name = "forgot-the-variance"
relation = "gradient"
wrt = "X"
expr = "gamma / np.sqrt(X.var(axis=0) + eps) * (dY - dY.mean(axis=0))"
expect = "refuted"
'''


def test_a_batch_norm_chain_in_the_numpy_dialect(tmp_path):
    path = tmp_path / "bn.toml"
    path.write_text(BATCH_NORM)
    rep = report.run([path], seconds=60)
    verdicts = {r.entry.name: r.result.verdict for r in rep.rows}
    assert verdicts == {"centering": "verified", "centering/1": "verified", "centering/2": "verified",
                        "centering/3": "verified", "normalise": "refuted", "normalise/1": "verified",
                        "normalise/2": "verified", "normalise/3": "verified", "normalise/4": "verified",
                        "normalise/5": "verified", "forgot-the-variance": "refuted"}, verdicts
    assert all(r.matches for r in rep.rows)
    chain = next(r for r in rep.rows if r.entry.name == "normalise")
    assert "line 6 of 6 is the first wrong line" in chain.result.diagnosis
    # the lines are typeset typed, the definitions declared with their shapes: N dY is a scaling
    from symbolic_bp.rendering.document import render
    tex = render(rep, {})
    assert r"N\,\mathrm{dY}" in tex and r"\operatorname{sum}_{\mathrm{axis}=0,\,\mathrm{keepdims}}" in tex
