"""The ``symbolic-bp`` command line, as a user runs it."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from symbolic_bp.integrations.cli import main

CHECK = ["check", "--shapes", "A:m,n x:n y:m", "--cost", "y.T @ A @ x", "--wrt", "A"]


def test_readme_example_verifies_in_a_subprocess(cli):
    p = cli(*CHECK, "--claim", "y @ x.T")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("verified: dC/dA = y @ x.T")
    assert "exact" in p.stdout and "numeric" in p.stdout


def test_refuted_prints_counterexample_and_diagnosis(capsys):
    assert main(CHECK + ["--claim", "x @ y.T"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("refuted: dC/dA = x @ y.T")
    assert "counterexample: at m=1,n=2" in out
    assert "diagnosis:      the claim is the true gradient transposed" in out


def test_json_has_the_contract_fields(capsys):
    assert main(CHECK + ["--claim", "2 * y @ x.T", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"verdict", "claim", "derived", "evidence", "counterexample", "diagnosis", "suggestion",
                         "error"}
    assert data["verdict"] == "refuted" and data["derived"] == "y @ x.T"
    assert set(data["counterexample"]) == {"sizes", "values", "entry", "claimed", "true"}
    assert all(set(e) == {"method", "outcome", "detail"} for e in data["evidence"])
    assert "factor 2" in data["diagnosis"]


def test_json_is_byte_identical_across_runs(cli):
    a = cli(*CHECK, "--claim", "x @ y.T", "--json")
    b = cli(*CHECK, "--claim", "x @ y.T", "--json")
    assert a.returncode == b.returncode == 1
    assert a.stdout == b.stdout


def test_invalid_claim_is_one_line_on_stderr_exit_2(capsys):
    assert main(CHECK + ["--claim", "y @ x"]) == 2
    err = capsys.readouterr().err
    assert err == ("symbolic-bp: invalid input: claim: column 3: shape mismatch in 'y @ x': "
                   "(m,1) @ (n,1): inner dimensions 1 and n differ\n")


def test_invalid_json_carries_the_error(capsys):
    assert main(CHECK + ["--claim", "y @ (x.T", "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "invalid" and data["error"].startswith("claim: column")


def test_undecided_exit_3(capsys):
    from .test_checker import HEAVY
    shapes, cost, wrt, claim = HEAVY
    args = ["check", "--shapes", shapes, "--cost", cost, "--wrt", wrt, "--claim", claim, "--budget", "1"]
    assert main(args) == 3
    assert "time budget of 1 s ran out during the exact check" in capsys.readouterr().out


@pytest.mark.parametrize("args", [
    ["check", "--shapes", "A:m,n"],
    ["check"] + CHECK[1:] + ["--claim", "y", "--budget", "-1"],
    ["check"] + CHECK[1:] + ["--claim", "y", "--seed", "x"],
    ["frobnicate"],
], ids=["missing-args", "negative-budget", "bad-seed", "unknown-command"])
def test_usage_errors_are_one_line_exit_2(cli, args):
    p = cli(*args)
    assert p.returncode == 2
    assert p.stdout == "" and p.stderr.count("\n") == 1 and "error:" in p.stderr


def test_report_on_a_file(good_file, capsys):
    assert main(["report", str(good_file)]) == 0
    out = capsys.readouterr().out
    assert "good::linear" in out and "good::transposed" in out
    assert "2 claims: 1 refuted, 1 verified; 0 not as expected; 0 unreadable files" in out


def test_report_missing_path_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope.toml")]) == 2
    assert "no such file or folder" in capsys.readouterr().err




def test_commands_load_on_first_use_and_the_layers_below_never_import_the_edge():
    """The command table names modules (one per command, each with its COMMAND);
    no module below integrations imports from it, so the CLI has no cycle."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    from symbolic_bp.integrations.commands import COMMANDS
    assert all(command.module.startswith("symbolic_bp.integrations.") for command in COMMANDS.values())
    lazy = subprocess.run([sys.executable, "-c", "import sys, symbolic_bp.integrations.cli as c; "
                           "c.build_parser(['extract', 'x.md']); print(sorted(m for m in sys.modules if "
                           "m.endswith('_command')), 'sympy' in sys.modules)"], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent)
    assert lazy.stdout.split() == ["['symbolic_bp.integrations.extract_command']", "False"], lazy.stderr
    package = Path(__file__).resolve().parent.parent / "symbolic_bp"
    below = [p for p in package.rglob("*.py") if p.parent.name not in ("integrations", "symbolic_bp")]
    for path in below:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            assert not any("integrations" in n for n in names), f"{path.relative_to(package)} imports {names}"


# -- values as users type them: a claim-language option's value may start with '-' (issue 12) ------------

MINUS = ["check", "--shapes", "x:n a:n X:n,n", "--wrt", "x"]


def test_a_claim_that_starts_with_a_minus_sign_in_a_subprocess(cli):
    p = cli(*MINUS, "--cost", "x.T @ a", "--claim", "-a")
    assert p.returncode == 1 and "expected one argument" not in p.stderr, p.stderr
    assert p.stdout.startswith("refuted: dC/dx = -a")
    assert "the wrong sign" in p.stdout


@pytest.mark.parametrize("args, status", [
    (["--cost", "-x.T @ a", "--claim", "-a"], 0),                              # cost and claim
    (["--cost", "-(x.T @ a)", "--claim", "-(a)"], 0),
    (["--cost", "-x.T @ X @ a", "--claim", "-X @ a"], 0),
    (["--cost", "x.T @ X @ a", "--cla", "-X @ a"], 1),                          # an abbreviated option
    (["--cost=-x.T @ a", "--claim=-a"], 0),                                    # the = form still works
], ids=["minus-cost-and-claim", "minus-brackets", "minus-matrix", "abbreviated", "equals-form"])
def test_expression_values_may_start_with_a_minus_sign(capsys, args, status):
    assert main(MINUS + args) == status
    assert capsys.readouterr().out.startswith(("verified", "refuted"))


def test_inverse_transpose_claim_with_a_leading_minus(capsys):
    args = ["check", "--shapes", "X:n,n a:n b:n", "--cost", "a.T @ inv(X) @ b", "--wrt", "X",
            "--claim", "-inv(X).T @ a @ b.T @ inv(X).T"]
    assert main(args) == 0, capsys.readouterr()


def test_the_help_texts_are_unchanged(cli):
    p = cli("check", "--help")
    assert p.returncode == 0
    assert "--claim CLAIM" in p.stdout and "the claimed gradient, e.g. \"y @ x.T\"" in p.stdout
    assert "--cost COST" in p.stdout and "--shapes SHAPES" in p.stdout


def _modules_imported(*args) -> tuple[set[str], subprocess.CompletedProcess]:
    p = subprocess.run([sys.executable, "-X", "importtime", "-m", "symbolic_bp", *args], capture_output=True,
                       text=True, cwd=Path(__file__).resolve().parent.parent, timeout=120)
    names = {line.rsplit("|", 1)[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
    return names, p


@pytest.mark.parametrize("command", ["check", "step", "network", "report", "extract", "fuzz"])
def test_help_does_not_load_sympy_or_numpy(command):
    names, p = _modules_imported(command, "--help")
    assert p.returncode == 0 and "usage:" in p.stdout
    assert not names & {"sympy", "numpy"}


@pytest.mark.parametrize("cost, claim, message", [
    ("x +* y", "a", "cost: column 4: expected an operand, found '*'"),
    ("x.T @ a", "-a @", "claim: column 5: expected an operand"),
    ("x.T @ X", "a", "cost: the cost must be a scalar"),
])
def test_input_the_parser_rejects_is_reported_before_sympy_loads(cost, claim, message):
    names, p = _modules_imported(*MINUS, "--cost", cost, "--claim", claim)
    assert p.returncode == 2
    assert f"symbolic-bp: invalid input: {message}" in p.stderr
    assert not names & {"sympy", "numpy"}


def test_rejected_input_gives_the_json_of_the_checker(capsys):
    from symbolic_bp import Claim, check
    assert main(MINUS + ["--cost", "x +* y", "--claim", "-a", "--json"]) == 2
    printed = json.loads(capsys.readouterr().out)
    assert printed == check(Claim("x:n a:n X:n,n", "x +* y", "x", "-a")).to_dict()


def test_report_jobs_must_be_a_positive_integer(cli, good_file):
    p = cli("report", str(good_file), "-j", "0")
    assert p.returncode == 2 and "must be at least 1" in p.stderr and p.stderr.count("\n") == 1


# -- "did you mean": the corrected claim, verified (issue 13) ----------------------------------------

def test_a_transposed_claim_is_offered_the_true_gradient(capsys):
    # end to end: the checks name the slip and offer its repair, which they verified
    assert main(CHECK + ["--claim", "x @ y.T"]) == 1
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  diagnosis:"))
    assert lines[at + 1] == "  did you mean:   dC/dA = y @ x.T   (verified)"
    assert main(CHECK + ["--claim", "x @ y.T", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["suggestion"] == "y @ x.T"


def _refuted(suggestion):
    from symbolic_bp.checks.result import Evidence, Result
    return Result("refuted", claim="x @ y.T", derived="y @ x.T", diagnosis="the claim is the true gradient transposed",
                  suggestion=suggestion, evidence=[Evidence("exact", "differ", "entry (1,1) differs")])


@pytest.mark.parametrize("suggestion", ["y @ x.T", None])
def test_check_shows_the_suggestion_after_the_diagnosis_only_when_offered(capsys, monkeypatch, suggestion):
    from symbolic_bp.checks import checker
    monkeypatch.setattr(checker, "check", lambda claim, **kw: _refuted(suggestion))
    assert main(CHECK + ["--claim", "x @ y.T"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:3] == ["  derived:        dC/dA = y @ x.T", "  diagnosis:      the claim is the true gradient transposed"]
    fix = ["  did you mean:   dC/dA = y @ x.T   (verified)"] if suggestion else []
    assert lines[3:] == fix + ["  exact      differ    entry (1,1) differs", "  (0.00 s)"]
    assert main(CHECK + ["--claim", "x @ y.T", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert "suggestion" in data and data["suggestion"] == suggestion


@pytest.mark.parametrize("suggestion", ["B.T @ A.T", None])
def test_step_shows_the_corrected_line_and_its_json_has_the_field(capsys, monkeypatch, suggestion):
    from symbolic_bp.integrations import step_command
    from symbolic_bp.checks.result import Result
    monkeypatch.setattr(step_command, "check_step", lambda *a, **kw: Result(
        "refuted", claim="A.T @ B.T", diagnosis="the factors in the wrong order", suggestion=suggestion))
    args = ["step", "--shapes", "A:m,n B:n,m", "--lhs", "(A @ B).T", "--rhs", "A.T @ B.T"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert ("  did you mean:   B.T @ A.T   (verified)" in out.splitlines()) == bool(suggestion)
    assert ("did you mean" in out) == bool(suggestion)
    assert main(args + ["--json"]) == 1
    assert json.loads(capsys.readouterr().out)["suggestion"] == suggestion
