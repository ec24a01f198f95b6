"""The pytest plugin, driven through pytest's own ``pytester``."""
import os

import pytest

from .conftest import GOOD, ROOT
from .test_checker import HEAVY

PLUGIN = ("-p", "symbolic_bp.integrations.plugin", "-p", "no:cacheprovider")

WRONG = GOOD.replace('claim = "y @ x.T"', 'claim = "2 * y @ x.T"')

UNDECIDED = '''title = "heavy"
[[claim]]
name = "det-kron"
shapes = "{}"
cost = "{}"
wrt = "{}"
claim = "{}"
'''.format(*HEAVY)


@pytest.fixture
def notes(pytester):
    pytester.mkdir("derivations")
    return pytester


def write(pytester, name, text):
    path = pytester.path / "derivations" / name
    path.write_text(text)
    return path


def test_collects_one_item_per_claim_with_readable_ids(notes):
    write(notes, "lecture.toml", GOOD)
    result = notes.runpytest(*PLUGIN, "--collect-only", "-q")
    result.stdout.fnmatch_lines([
        "derivations/lecture.toml::a-small-derivation::linear",
        "derivations/lecture.toml::a-small-derivation::transposed",
    ])


def test_pass_and_expected_refuted(notes):
    write(notes, "lecture.toml", GOOD)
    notes.runpytest(*PLUGIN).assert_outcomes(passed=2)


def test_failure_reads_like_the_derivation(notes):
    write(notes, "lecture.toml", WRONG)
    result = notes.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*linear: expected verified, got refuted  (*lecture.toml:6)",
        "*as written:  \\boxed{C = y^T A x*",
        "*claim:       dC/dA = 2 * y @ x.T   for C = y.T @ A @ x",
        "*derived:     y @ x.T",
        "*counterexample: at m=1,n=1 with A=*: entry (1,1) of dC/dA is claimed * but is *",
        "*diagnosis:   the claim is 2 times the true gradient: an extra factor 2",
    ])
    assert "Traceback" not in result.stdout.str() and "plugin.py" not in result.stdout.str()


def test_k_selects_by_claim_name(notes):
    write(notes, "lecture.toml", GOOD)
    notes.runpytest(*PLUGIN, "-k", "transposed").assert_outcomes(passed=1, deselected=1)


def test_undecided_fails_unless_allowed(notes):
    write(notes, "heavy.toml", UNDECIDED)
    failed = notes.runpytest(*PLUGIN, "--symbolic-bp-budget", "1")
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["*expected verified, got undecided*", "*time budget of 1 s ran out*"])
    allowed = notes.runpytest(*PLUGIN, "--symbolic-bp-budget", "1", "--symbolic-bp-allow-undecided", "-rs")
    allowed.assert_outcomes(skipped=1)
    allowed.stdout.fnmatch_lines(["*undecided: the time budget of 1 s ran out*"])


def test_configuration_in_ini(pytester):
    pytester.mkdir("notes")
    (pytester.path / "notes" / "week1.deriv.toml").write_text(WRONG)
    (pytester.path / "notes" / "other.toml").write_text("not toml at all [")
    pytester.makeini("""
        [pytest]
        symbolic_bp_paths = notes
        symbolic_bp_pattern = *.deriv.toml
        symbolic_bp_budget = 1
        symbolic_bp_allow_undecided = true
    """)
    write_heavy = pytester.path / "notes" / "heavy.deriv.toml"
    write_heavy.write_text(UNDECIDED)
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1, failed=1, skipped=1)


def test_bad_file_is_a_one_line_collection_error(notes):
    write(notes, "broken.toml", GOOD.replace('wrt = "A"', 'wrt = 3', 1))
    result = notes.runpytest(*PLUGIN)
    result.stdout.fnmatch_lines(["*broken.toml:6: key 'wrt' must be a string, got int*"])
    assert result.ret != 0


def test_invalid_bad_option(notes):
    write(notes, "lecture.toml", GOOD)
    result = notes.runpytest(*PLUGIN, "--symbolic-bp-budget", "-3")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


NETWORK = """title = "deltas"
[[network]]
name = "recursion"
convention = "nielsen"
activation = "sigma"
cost = "mse"
claim = "delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])"
"""


def test_skip_slow_leaves_out_the_deep_numeric_check(notes):
    write(notes, "net.toml", NETWORK)
    notes.makeconftest("""
        import pytest
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(item, call):
            outcome = yield
            if call.when == "call" and item.result is not None:
                print("EVIDENCE", [(e.method, e.outcome) for e in item.result.evidence])
    """)
    fast = notes.runpytest(*PLUGIN, "--symbolic-bp-skip-slow", "-s")
    fast.assert_outcomes(passed=1)
    assert "EVIDENCE [('induction', 'agree'), ('unrolled', 'agree'), ('numeric', 'skipped')]" in fast.stdout.str()
    full = notes.runpytest(*PLUGIN, "-s")
    full.assert_outcomes(passed=1)
    assert "EVIDENCE [('induction', 'agree'), ('unrolled', 'agree'), ('numeric', 'agree')]" in full.stdout.str()


def _subprocess_env(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def test_works_with_xdist(notes, monkeypatch):
    pytest.importorskip("xdist")
    _subprocess_env(monkeypatch)
    write(notes, "a.toml", GOOD)
    write(notes, "b.toml", WRONG)
    result = notes.runpytest_subprocess(*PLUGIN, "-n", "2")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*diagnosis:   the claim is 2 times the true gradient*"])


def test_a_run_without_derivations_does_not_import_sympy(pytester, monkeypatch):
    _subprocess_env(monkeypatch)
    pytester.makepyfile(test_plain="""
        import sys
        def test_no_sympy():
            assert "sympy" not in sys.modules and "numpy" not in sys.modules
    """)
    pytester.runpytest_subprocess(*PLUGIN).assert_outcomes(passed=1)


# -- "did you mean": the corrected claim in the failure (issue 13) -------------------------------------

# a conftest that gives every refuted result the suggestion "y @ x.T" for the session, so that the
# failure's rendering is tested apart from the checks that offer one; restored when the session ends
SUGGESTING = '''
import dataclasses
from symbolic_bp.derivations.derivation import Entry

_run = Entry.run

def pytest_configure(config):
    def run(self, seconds, seed):
        r = _run(self, seconds, seed)
        return dataclasses.replace(r, suggestion=SUGGESTION) if r.verdict == "refuted" else r
    Entry.run = run

def pytest_unconfigure(config):
    Entry.run = _run
'''


@pytest.mark.parametrize("suggestion", ["y @ x.T", None])
def test_failure_ends_with_the_corrected_claim_when_offered(notes, suggestion):
    notes.makeconftest(f"SUGGESTION = {suggestion!r}\n" + SUGGESTING)
    write(notes, "lecture.toml", WRONG)
    result = notes.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    if suggestion:
        result.stdout.fnmatch_lines([
            "*diagnosis:   the claim is 2 times the true gradient: an extra factor 2",
            "*did you mean: dC/dA = y @ x.T   (verified)",
        ])
    else:
        assert "did you mean" not in out
