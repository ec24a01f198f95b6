"""``symbolic-bp step``: one line of a derivation against the line before it."""
import json

import pytest

from symbolic_bp.integrations.step_command import COMMAND, add_step, cmd_step, run_step


def test_verified_step_exit_0(cli):
    r = cli("step", "--shapes", "A:m,n B:n,k", "--lhs", "(A @ B).T", "--rhs", "B.T @ A.T")
    assert r.returncode == 0 and r.stdout.startswith("verified: (A @ B).T  =  B.T @ A.T")
    assert "exact" in r.stdout and "numeric" in r.stdout


def test_refuted_step_json_has_the_fields_of_check(cli):
    r = cli("step", "--shapes", "A:m,m B:m,m", "--lhs", "A @ B", "--rhs", "(A @ B).T", "--json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert set(data) == {"verdict", "claim", "derived", "evidence", "counterexample", "diagnosis", "suggestion",
                         "error"}
    assert data["verdict"] == "refuted" and data["claim"] == "(A @ B).T"
    assert data["diagnosis"] == "the right-hand side is the left-hand side transposed"
    assert set(data["counterexample"]) == {"sizes", "values", "entry", "claimed", "true"}


def test_invalid_step_is_one_line_exit_2(cli):
    r = cli("step", "--shapes", "A:m,n", "--lhs", "A @ A", "--rhs", "A")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "lhs: column 3: shape mismatch" in r.stderr


def test_up_to_constant_step(cli):
    args = ["step", "--shapes", "x:n y:n", "--lhs", "(x - y).T @ (x - y)", "--rhs", "x.T @ x - 2 * y.T @ x"]
    assert cli(*args).returncode == 1                      # not equal ...
    ok = cli(*args, "--up-to-constant-in", "x")            # ... but equal up to y^T y
    assert ok.returncode == 0 and "up to a term constant in x" in ok.stdout
    bad = cli(*args, "--up-to-constant-in", "x,y")
    assert bad.returncode == 1 and "depends on y" in bad.stdout


def test_run_step_in_process():
    import argparse
    p = argparse.ArgumentParser()
    add_step(p)
    args = p.parse_args(["--shapes", "s:scalar", "--lhs", "s * s", "--rhs", "s**2", "--budget", "30"])
    assert run_step(args).verdict == "verified"
    assert COMMAND == (add_step, cmd_step)


def test_lines_that_start_with_a_minus_sign(cli):
    """``--lhs -...`` is the line, not an unknown option (as for check's --claim)."""
    r = cli("step", "--shapes", "A:m,n B:n,k", "--lhs", "-(A @ B).T", "--rhs", "-B.T @ A.T")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("verified: -(A @ B).T  =  -B.T @ A.T")
    wrong = cli("step", "--shapes", "A:m,n B:n,k", "--lhs", "(A @ B).T", "--rhs", "-B.T @ A.T", "--json")
    assert wrong.returncode == 1 and json.loads(wrong.stdout)["claim"] == "-B.T @ A.T"


# -- the NumPy dialect -------------------------------------------------------------------------------

def test_a_mean_centering_step_in_the_numpy_dialect(cli):
    shapes = "X:N,D dY:N,D"
    r = cli("step", "--shapes", shapes, "--lhs", "np.sum(dY * (X - X.mean(axis=0)))",
            "--rhs", "np.sum((dY - dY.mean(axis=0)) * X)")
    assert r.returncode == 0 and r.stdout.startswith("verified: "), r.stdout + r.stderr
    # dropping the mean is not a constant in X: refuted, with the reason
    r = cli("step", "--shapes", shapes, "--lhs", "np.sum(dY * (X - X.mean(axis=0)))", "--rhs", "np.sum(dY * X)",
            "--up-to-constant-in", "X", "--json")
    assert r.returncode == 1 and "depends on X" in json.loads(r.stdout)["diagnosis"]


@pytest.mark.parametrize("shapes, lhs, rhs, verdict", [
    ("X:N,D W:D,K b:1,K", "np.maximum(0, X @ W + b)", "(X @ W + b) * (X @ W + b > 0)", "verified"),
    ("X:N,D", "X.var(axis=0)", "np.mean(X ** 2, axis=0) - X.mean(axis=0) ** 2", "verified"),
    ("X:N,D", "X.var(axis=0, ddof=1)", "np.sum((X - X.mean(axis=0)) ** 2, axis=0) / (N - 1)", "verified"),
    ("X:N,D", "np.std(X, axis=0) ** 2", "X.var(axis=0)", "verified"),
    ("Z:N,K", "softmax(Z, axis=1)", "np.exp(Z - logsumexp(Z, axis=1, keepdims=True))", "verified"),
    ("Z:N,K", "log_softmax(Z, axis=1)", "Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))", "verified"),
    ("X:N,D", "X / X.sum(axis=1, keepdims=True)", "X / X.sum(axis=0)", "refuted"),
    ("X:N,D:positive", "np.sqrt(X) ** 2", "X", "verified"),
    ("X:N,D", "X.sum(axis=1)", "X.sum(axis=1, keepdims=True)", "refuted"),
])
def test_steps_in_the_numpy_dialect(shapes, lhs, rhs, verdict):
    import argparse
    p = argparse.ArgumentParser()
    add_step(p)
    args = p.parse_args(["--shapes", shapes, f"--lhs={lhs}", f"--rhs={rhs}", "--budget", "60"])
    result = run_step(args)
    assert result.verdict == verdict, result


def test_an_ill_formed_dialect_step_is_one_line(cli):
    r = cli("step", "--shapes", "X:N,D", "--lhs", "np.sum(X, axis=0, axis=1)", "--rhs", "X")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "given twice" in r.stderr
