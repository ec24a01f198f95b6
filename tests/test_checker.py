"""Verdicts, counterexamples and diagnoses of symbolic_bp.checks.checker.check."""
import json

import pytest

from symbolic_bp import Claim, check

YAX = "A:m,n x:n y:m"


def run(shapes, cost, wrt, claim, **kw):
    return check(Claim(shapes, cost, wrt, claim), **kw)


# -- true identities -------------------------------------------------------------------

TRUE = [
    ("linear", YAX, "y.T @ A @ x", "A", "y @ x.T"),
    ("linear-wrt-x", YAX, "y.T @ A @ x", "x", "A.T @ y"),
    ("quadratic", "A:m,n x:n", "1/2 * x.T @ A.T @ A @ x", "A", "A @ x @ x.T"),
    ("quadratic-form", "B:n,n x:n", "x.T @ B @ x", "x", "(B + B.T) @ x"),
    ("symmetric-form", "S:n,n:symmetric x:n", "x.T @ S @ x", "x", "2 * S @ x"),
    ("trace", "A:m,n X:n,m", "tr(A @ X)", "X", "A.T"),
    ("trace-bias", "x:n w:n b:scalar", "tr(x.T @ w) + b", "w", "x"),
    ("inverse-trace", "X:n,n", "tr(inv(X))", "X", "-inv(X).T @ inv(X).T"),
    ("inverse-quadratic", "X:n,n:invertible a:n b:n", "a.T @ inv(X) @ b", "X", "-inv(X).T @ a @ b.T @ inv(X).T"),
    ("determinant", "X:n,n", "det(X)", "X", "det(X) * inv(X).T"),
    ("logdet-spd", "S:n,n:spd", "logdet(S)", "S", "inv(S)"),
    ("reciprocal-trace", "x:n", "1/tr(x.T @ x)", "x", "-2 * x / (x.T @ x)**2"),
    ("scalar-power", "s:scalar x:n", "s**3 * sum(x)", "s", "3 * s**2 * sum(x)"),
    ("norm", "A:m,n", "norm(A)", "A", "A / norm(A)"),
    ("sum", "A:m,n B:m,n", "sum(A * B)", "A", "B"),
    ("matrix-power", "X:n,n", "tr(matrix_power(X, 2))", "X", "2 * X.T"),
    ("kron", "A:m,n B:p,q", "sum(kron(A, B))", "A", "sum(B) * ones(m, n)"),
    ("opaque-sigma", "A:m,n x:n y:m sigma:function", "y.T @ sigma(A @ x)", "A", "(y * sigma'(A @ x)) @ x.T"),
    ("opaque-nested", "A:k,m B:m,n x:n y:k sigma_1:function sigma_2:function", "y.T @ sigma_2(A @ sigma_1(B @ x))", "B",
     "((A.T @ (y * sigma_2'(A @ sigma_1(B @ x)))) * sigma_1'(B @ x)) @ x.T"),
    ("sigmoid-closed-form", "W:m,n a:n y:m", "1/2 * (sigmoid(W @ a) - y).T @ (sigmoid(W @ a) - y)", "W",
     "((sigmoid(W @ a) - y) * sigmoid(W @ a) * (1 - sigmoid(W @ a))) @ a.T"),
    ("tanh", YAX, "y.T @ tanh(A @ x)", "A", "(y * (1 - tanh(A @ x) * tanh(A @ x))) @ x.T"),
    ("relu", YAX, "y.T @ relu(A @ x)", "A", "(y * relu'(A @ x)) @ x.T"),
    ("softplus", YAX, "y.T @ softplus(A @ x)", "A", "(y * sigmoid(A @ x)) @ x.T"),
    ("exp", YAX, "sum(exp(A @ x))", "A", "exp(A @ x) @ x.T"),
    ("log", YAX, "sum(log(A @ x))", "A", "log'(A @ x) @ x.T"),
    ("zero-gradient", YAX, "y.T @ y", "A", "0"),
]


@pytest.mark.parametrize("shapes,cost,wrt,claim", [c[1:] for c in TRUE], ids=[c[0] for c in TRUE])
def test_true_identity_is_verified_by_two_checks(shapes, cost, wrt, claim):
    r = run(shapes, cost, wrt, claim)
    assert r.verdict == "verified", (r.error, r.evidence)
    assert set(r.methods) == {"exact", "numeric"}
    assert r.counterexample is None and r.diagnosis is None and r.error is None
    exact = next(e for e in r.evidence if e.method == "exact")
    assert "=2" in exact.detail and "=3" in exact.detail or "fixed sizes" in exact.detail


def test_evidence_names_sizes_and_tolerance():
    r = run(YAX, "y.T @ A @ x", "A", "y @ x.T")
    exact, numeric = (next(e for e in r.evidence if e.method == m) for m in ("exact", "numeric"))
    assert "(m=2,n=3) and (m=3,n=2)" in exact.detail
    assert "m=4,n=5" in numeric.detail and "1e-08" in numeric.detail and "finite differences" in numeric.detail


# -- slips: refuted, with the diagnosis named -------------------------------------------

SLIPS = [
    ("transposed", YAX, "y.T @ A @ x", "A", "x @ y.T", "transposed"),
    ("transposed-square", "A:n,n x:n y:n", "y.T @ A @ x", "A", "x @ y.T", "transposed"),
    ("extra-factor-2", "A:m,n x:n", "1/2 * x.T @ A.T @ A @ x", "A", "2 * A @ x @ x.T", "extra factor 2"),
    ("missing-factor-2", "A:m,n x:n", "x.T @ A.T @ A @ x", "A", "A @ x @ x.T", "missing factor 2"),
    ("wrong-sign", YAX, "y.T @ A @ x", "A", "-(y @ x.T)", "wrong sign"),
    ("missing-symmetrisation", "B:n,n x:n", "x.T @ B @ x", "x", "2 * B @ x", "missing symmetrisation"),
    ("extra-symmetrisation", "B:n,n x:n y:n", "y.T @ B @ x", "B", "y @ x.T + (y @ x.T).T", "extra symmetrisation"),
    ("hadamard-as-matmul", "X:n,n A:n,n", "sum(X * X * A)", "X", "2 * X @ A",
     "Hadamard product written as a matrix product"),
    ("matmul-as-hadamard", "A:n,n X:n,n", "sum(A @ X)", "X", "A.T * ones(n, n)",
     "matrix product written as a Hadamard product"),
    ("missing-sigma-prime", "A:m,n x:n y:m sigma:function", "y.T @ sigma(A @ x)", "A", "y @ x.T", "missing factor sigma'(A @ x)"),
    ("missing-inner-sigma-prime", "A:k,m B:m,n x:n y:k sigma_1:function sigma_2:function", "y.T @ sigma_2(A @ sigma_1(B @ x))", "B",
     "(A.T @ (y * sigma_2'(A @ sigma_1(B @ x)))) @ x.T", "missing factor sigma_1'(B @ x)"),
    ("other-variable-same-shape", "A:n,n B:n,n x:n y:n", "y.T @ A @ B @ x", "A", "A.T @ y @ x.T",
     "gradient with respect to B"),
    ("other-variable-other-shape", "A:m,k B:k,n x:n y:m", "y.T @ A @ B @ x", "A", "A.T @ y @ x.T",
     "gradient with respect to B"),
    ("missing-transpose-inside", "A:k,m B:m,n x:n y:k", "y.T @ A @ B @ x", "B", "A @ y @ x.T", None),
    ("no-simple-slip", YAX, "y.T @ A @ x", "A", "A", "no simple slip found"),
]


@pytest.mark.parametrize("shapes,cost,wrt,claim,diagnosis", [c[1:] for c in SLIPS if c[5]],
                         ids=[c[0] for c in SLIPS if c[5]])
def test_slip_is_refuted_and_named(shapes, cost, wrt, claim, diagnosis):
    r = run(shapes, cost, wrt, claim)
    assert r.verdict == "refuted", (r.error, r.evidence)
    assert set(r.methods) == {"exact", "numeric"}
    assert diagnosis in r.diagnosis, r.diagnosis
    assert r.counterexample is not None


def test_shape_slip_in_a_product_is_invalid_with_both_shapes():
    r = run("A:k,m B:m,n x:n y:k", "y.T @ A @ B @ x", "B", "A @ y @ x.T")
    assert r.verdict == "invalid"
    assert r.error == "claim: column 3: shape mismatch in 'A @ y': (k,m) @ (k,1): inner dimensions m and k differ"


def test_counterexample_is_small_exact_and_shows_the_entry():
    r = run("A:m,n x:n", "1/2 * x.T @ A.T @ A @ x", "A", "2 * A @ x @ x.T")
    ce = r.counterexample
    assert ce.sizes == {"m": 1, "n": 1}
    assert ce.entry == [1, 1]
    a, x = ce.values["A"][0][0], ce.values["x"][0][0]
    assert ce.claimed == str(2 * a * x * x) and ce.true == str(a * x * x)


def test_counterexample_with_opaque_function_keeps_sigma_symbolic():
    r = run("A:m,n x:n y:m sigma:function", "y.T @ sigma(A @ x)", "A", "y @ x.T")
    ce = r.counterexample
    assert "sigma'(" in ce.true and "sigma" not in ce.claimed


def test_transposed_counterexample_reports_the_shapes():
    r = run(YAX, "y.T @ A @ x", "A", "x @ y.T")
    ce = r.counterexample
    assert ce.entry is None and ce.sizes == {"m": 1, "n": 2}
    assert ce.claimed == "a 2x1 matrix" and ce.true.startswith("a 1x2 matrix")


# -- opaque functions are never guessed ---------------------------------------------------

def test_sigmoid_identity_holds_for_sigmoid():
    r = run("z:n", "sum(sigmoid(z))", "z", "sigmoid(z) * (1 - sigmoid(z))")
    assert r.verdict == "verified"


def test_sigmoid_identity_is_not_assumed_for_an_opaque_sigma():
    r = run("z:n sigma:function", "sum(sigma(z))", "z", "sigma(z) * (1 - sigma(z))")
    assert r.verdict == "refuted"
    assert "sigma'(" in r.counterexample.true


def test_distinct_opaque_functions_are_distinct():
    r = run("z:n sigma_1:function sigma_2:function", "sum(sigma_1(z))", "z", "sigma_2'(z)")
    assert r.verdict == "refuted"


# -- invalid input -------------------------------------------------------------------------

INVALID = [
    ("parse", YAX, "y.T @ A @ x", "A", "y @* x.T", "claim: column 4: expected an operand, found '*'"),
    ("unknown-name", YAX, "y.T @ A @ x", "A", "z @ x.T", "claim: column 1: unknown name 'z'"),
    ("shape", YAX, "y.T @ A @ x", "A", "A * x", "did you mean the matrix product '@'?"),
    ("cost-not-scalar", YAX, "A @ x", "A", "y @ x.T", "cost: the cost must be a scalar"),
    ("unknown-wrt", YAX, "y.T @ A @ x", "B", "y @ x.T", "wrt: 'B' is not a declared symbol"),
    ("bad-shapes", "A:m,n x:0", "y.T @ A @ x", "A", "y @ x.T", "shapes: column 7"),
    ("code", YAX, "y.T @ A @ x", "A", "__import__('os').system('touch PWNED')", "claim: column 12: expected an operand"),
]


@pytest.mark.parametrize("shapes,cost,wrt,claim,message", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_input_gives_one_line_reason(shapes, cost, wrt, claim, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run(shapes, cost, wrt, claim)
    assert r.verdict == "invalid" and r.exit_code == 2
    assert message in r.error and "\n" not in r.error
    assert list(tmp_path.iterdir()) == []


# -- undecided, determinism, robustness ----------------------------------------------------

# the (true) derived gradient of det(X kron X kron X kron X): its exact check at
# n=3 takes tens of seconds (an exact 81x81 determinant, adjugate and products
# per point)
_K = "kron(kron(X, X), kron(X, X))"
_B = f"inv({_K}).T"
HEAVY = ("X:n,n", f"det({_K})", "X",
         f"det({_K}) * ("
         f"blocksum(blocksum({_B} * kron(ones(n*n, n*n), kron(X, X)), n*n, n*n) * kron(ones(n, n), X), n, n) + "
         f"tilesum(blocksum({_B} * kron(ones(n*n, n*n), kron(X, X)), n*n, n*n) * kron(X, ones(n, n)), n, n) + "
         f"blocksum(tilesum({_B} * kron(kron(X, X), ones(n*n, n*n)), n*n, n*n) * kron(ones(n, n), X), n, n) + "
         f"tilesum(tilesum({_B} * kron(kron(X, X), ones(n*n, n*n)), n*n, n*n) * kron(X, ones(n, n)), n, n))")


def test_budget_running_out_is_undecided_with_the_phase():
    r = run(*HEAVY, seconds=1)
    assert r.verdict == "undecided" and r.exit_code == 3
    assert r.error.startswith("the time budget of 1 s ran out during the exact check at (n=")
    assert r.derived == HEAVY[3]


def test_same_input_same_json():
    a = run("A:m,n x:n y:m sigma:function", "y.T @ sigma(A @ x)", "A", "y @ x.T").to_dict()
    b = run("A:m,n x:n y:m sigma:function", "y.T @ sigma(A @ x)", "A", "y @ x.T").to_dict()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_overflowing_draws_are_never_a_refutation():
    r = run("x:n", "sum(exp(exp(exp(exp(x)))))", "x", "exp'(exp(exp(exp(x)))) * exp'(exp(exp(x))) * exp'(exp(x)) * exp'(x)")
    assert r.verdict in ("verified", "undecided")
    if r.verdict == "undecided":
        assert "a verdict needs both" in r.error


def test_near_singular_draws_are_redrawn_not_refuted():
    r = run("X:n,n", "tr(inv(X @ X.T))", "X", "-2 * inv(X @ X.T) @ inv(X @ X.T) @ X")
    assert r.verdict == "verified", r.error


# -- draws per domain, saturation, claims too close for float64 (issue 12) ----------------------

_TANH = "tanh(3 * (W @ x + b))"
_TANH_LOG = ("W:m,n x:n b:m dh:m y:k", f"sum(dh * {_TANH}) + log(sum(exp(y)))", "W")


@pytest.mark.parametrize("claim, verdict, diagnosis", [
    # the log of y made every symbol positive, so tanh saturated and the factor 2 hid below the
    # tolerance: "the checks disagree ... a bug"; y alone is drawn positive now, and W, x, b shrunk
    (f"6 * ((dh * (1 - {_TANH} * {_TANH})) @ x.T)", "refuted", "an extra factor 2"),
    (f"3 * ((dh * (1 - {_TANH} * {_TANH})) @ x.T)", "verified", None),
    # a difference of 1e-9 relative: within 1e3 of the tolerance, decided at 50 digits
    (f"3 * ((dh * (1 - {_TANH} * {_TANH})) @ x.T) + 1e-9 * W", "refuted", "an extra term"),
])
def test_a_log_elsewhere_does_not_hide_a_slip_in_a_tanh(claim, verdict, diagnosis):
    r = run(*_TANH_LOG, claim)
    assert r.verdict == verdict and r.error is None, r
    if diagnosis:
        assert diagnosis in r.diagnosis


def test_issue_12_example_is_refuted_with_its_factor():
    r = run("W:m,n x:n b:m dh:m y:k", "sum(dh * tanh(W @ x + b)) + log(sum(exp(y)))", "W",
            "2 * ((dh * (1 - tanh(W @ x + b) * tanh(W @ x + b))) @ x.T)")
    assert r.verdict == "refuted" and r.diagnosis.endswith("an extra factor 2")


def test_a_difference_below_the_tolerance_is_not_a_bug():
    # 2.000000000001 x: float64 sees 5e-13, far above its rounding; 50 digits settle it
    r = run("x:n", "x.T @ x", "x", "2.000000000001 * x")
    numeric = next(e for e in r.evidence if e.method == "numeric")
    assert r.verdict == "refuted" and "decided at 50 digits" in numeric.detail, r


def test_a_difference_below_float64_is_undecided_not_a_bug():
    # the exact check is certain (exact rationals); float64 cannot see a relative 5e-17 (the
    # claim's 2.0000000000000001 is 2.0 in float64)
    r = check(Claim(shapes="x:n", cost="x.T @ x", wrt="x", claim="2.0000000000000001 * x"))
    assert r.verdict == "undecided"
    assert "below what float64 resolves" in r.error and "bug" not in r.error
    # a difference float64 resolves is refuted as before; so is a relative 5e-15, ten times
    # the rounding bound of 2.00000000000001 * x: decided at 50 digits
    assert check(Claim(shapes="x:n", cost="x.T @ x", wrt="x", claim="2.001 * x")).verdict == "refuted"
    assert check(Claim(shapes="x:n", cost="x.T @ x", wrt="x", claim="2.00000000000001 * x")).verdict == "refuted"


def test_a_refutation_without_dimensions_still_finds_a_counterexample():
    # one size assignment only, and p drawn from 1..3: p and 1/p agree at p = 1, so the
    # first four draws can all miss; a longer second pass finds the difference
    r = check(Claim("x:scalar p:scalar:positive", "x / p", "x", "p"), seed=12)
    assert r.verdict == "refuted"
    assert r.counterexample is not None and r.counterexample.values["p"] != [[1]]
