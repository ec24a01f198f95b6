"""Regressions of the checks reported in issue 16, and two leftovers.

* an opaque function under log, exp and a quotient (log sigmoid of phi);
* a two-layer network with a softmax cross-entropy cost whose labels are
  ``u / sum(u)``: the numeric check's cancellation guard rejected every draw
  (a softmax of large logits is a quotient of large values, not a sum that
  cancels: :mod:`symbolic_bp.checks.rounding`);
* :func:`symbolic_bp.checks.exact.check_at` records a point as the random
  points of :func:`~symbolic_bp.checks.exact.exact_check` are;
* a suggestion keeps the user's spelling (``np.sum``, ``dout.sum(...)``).
"""
from __future__ import annotations

import numpy as np
import pytest

from symbolic_bp import Claim, check
from symbolic_bp.checks.claim import prepare
from symbolic_bp.checks.exact import ExactOutcome, check_at, exact_check
from symbolic_bp.checks.numeric import FD_TOL, REL_TOL, NumericModel, numeric_check
from symbolic_bp.checks.rounding import rounding_bound
from symbolic_bp.language.parser import parse
from symbolic_bp.language.printer import spelling_of, to_text
from symbolic_bp.language.shapes import parse_declarations, parse_typed


def _outcomes(result) -> dict:
    return {e.method: e.outcome for e in result.evidence}


# -- an opaque function inside log, exp and a quotient --------------------------------------------

LOG_SIGMOID = ("x:scalar phi:function", "log(exp(phi(x)) / (1 + exp(phi(x))))", "x")


@pytest.mark.parametrize("claim, verdict, outcome", [
    # d/dx log sigmoid(phi(x)) = phi'(x) (1 - sigmoid(phi(x))) = phi'(x) / (1 + exp(phi(x)))
    ("phi'(x) / (1 + exp(phi(x)))", "verified", "agree"),
    ("phi'(x) * exp(phi(x)) / (1 + exp(phi(x)))", "refuted", "differ"),
])
def test_log_sigmoid_of_an_opaque_function(claim, verdict, outcome):
    shapes, cost, wrt = LOG_SIGMOID
    r = check(Claim(shapes, cost, wrt, claim))
    assert r.verdict == verdict and r.error is None, r
    assert _outcomes(r)["exact"] == _outcomes(r)["numeric"] == outcome


# -- softmax of large logits: no cancellation --------------------------------------------------------

NET = "X:1,20 W1:20,30 W2:30,10 u:1,10:positive"       # a row input, 30 hidden units, 10 classes
H1 = "relu(X @ W1)"
Z = f"{H1} @ W2"
P = f"softmax({Z}, axis=1)"
NET_COST = f"-sum((u / sum(u)) * log({P}))"             # labels u / sum(u): they sum to 1


def _net(wrt: str, claim: str):
    return check(Claim(NET, NET_COST, wrt, claim))


def _assert_decided(r, verdict: str, outcome: str):
    assert r.verdict == verdict, (r.verdict, r.error)
    numeric = next(e for e in r.evidence if e.method == "numeric")
    assert _outcomes(r)["exact"] == numeric.outcome == outcome, numeric.detail
    assert "cancellation" not in numeric.detail and "3 draws" in numeric.detail


def test_two_layer_softmax_cross_entropy_dW2():
    # dC/dz = softmax(z) - u / sum(u), since the labels sum to 1
    _assert_decided(_net("W2", f"{H1}.T @ ({P} - u / sum(u))"), "verified", "agree")
    _assert_decided(_net("W2", f"{H1}.T @ ({P} - u)"), "refuted", "differ")


@pytest.mark.slow
def test_two_layer_softmax_cross_entropy_dW1():
    _assert_decided(_net("W1", f"X.T @ ((({P} - u / sum(u)) @ W2.T) * relu'(X @ W1))"), "verified", "agree")
    _assert_decided(_net("W1", f"X.T @ ((({P} - u) @ W2.T) * relu'(X @ W1))"), "refuted", "differ")


SOFTMAX_CUBE = ("k:n y:n", "-sum(y * log(softmax(k**3)))", "k", "3 * k**2 * (softmax(k**3) * sum(y) - y)")


def test_softmax_of_large_logits_is_not_cancellation():
    """exp(27) ~ 5e11 on the way, yet softmax(k**3) is accurate to a few ulps:
    the rounding noise is bounded operation by operation, not by the largest
    intermediate value (64 u 5e11 ~ 4e-3 would have rejected the draw)."""
    shapes, cost, wrt, claim = SOFTMAX_CUBE
    p = prepare(Claim(shapes, cost, wrt, claim))
    sizes = {"n": 4}
    env = {"k": np.array([[3.0], [2.5], [-1.0], [0.5]]), "y": np.array([[0.3], [-1.2], [0.8], [2.0]])}
    model = NumericModel(p, sizes, 0)
    assert model.magnitude(p.derived, env) > 1e11          # the intermediate values are large
    value_noise, fd_noise = model.rounding_noise(env, model.value(p.derived, env))
    assert value_noise < 1e-12 and fd_noise < 1e-3 * FD_TOL


def test_a_sum_that_cancels_is_still_cancellation():
    d = parse_declarations("x:n")
    env = {"x": np.array([[0.25], [-1.5], [2.0]])}
    _, bound = rounding_bound(parse_typed("2 * x + 10000000000 - 10000000000", d), env, {"n": 3})
    assert np.max(bound) > 1e-7                     # the rounding of 1e10, ~1e-6
    _, exact = rounding_bound(parse_typed("2 * x", d), env, {"n": 3})
    assert np.max(exact) < 1e-15


@pytest.mark.parametrize("text", [
    "inv(A) @ x", "det(A) * x", "logdet(A) * x", "norm(x) * x", "x**0.5 * 2", "kron(x, x.T) @ x",
    "maximum(x, 0) - min(x) + max(x, axis=0)", "sum(x, axis=0) * tr(A)", "x / sum(x)", "sigma'(x) * tanh(x)",
])
def test_rounding_bound_is_small_and_finite_on_benign_values(text):
    d = parse_declarations("A:n,n x:n:positive sigma:function")
    env = {"A": np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.0, 0.4, 1.8]]), "x": np.array([[0.7], [1.2], [0.9]])}
    value, bound = rounding_bound(parse_typed(text, d), env, {"n": 3})
    assert bound.shape == value.shape and np.all(np.isfinite(bound))
    assert 0 < np.max(bound) < 1e-12 * max(1.0, float(np.max(np.abs(value))))


def test_numeric_check_decides_the_large_softmax_draws():
    shapes, cost, wrt, claim = SOFTMAX_CUBE
    out = numeric_check(prepare(Claim(shapes, cost, wrt, claim)), {"n": 12}, seed=3)
    assert out.status == "agree" and out.draws == 3 and out.max_rel <= REL_TOL, out.detail()


# -- check_at: one recording of a point ------------------------------------------------------------------

def test_check_at_records_a_point_as_exact_check_does():
    p = prepare(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "y @ x.T + A * 0"))
    sizes = {"m": 2, "n": 3}
    out = exact_check(p, [sizes], seed=0, wanted=1)
    assert out.status == "agree"
    points, entries, projections = out.points, out.entries, out.projections
    values = {"A": [[1, 2, 3], [4, 5, 6]], "x": [[1], [-1], [2]], "y": [[3], [1]]}
    assert check_at(p, out, sizes, values, "salt") is False
    # every entry of the given point compared (6), no projection
    assert (out.points, out.entries, out.projections) == (points + 1, entries + 6, projections)
    wrong = prepare(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "2 * y @ x.T"))
    fresh = ExactOutcome()
    assert check_at(wrong, fresh, sizes, values, "salt") is True
    assert fresh.status == "differ" and fresh.difference is not None and fresh.entries == 6
    assert fresh.certain == "exact rationals" and fresh.derived_bad is None


# -- suggestions as the user spelled the claim -------------------------------------------------------------

AFFINE = ("x:4,3 w:3,5 b:1,5 dout:4,5", "np.sum(dout * (np.dot(x, w) + b))", "b")    # modern_layers.toml


@pytest.mark.parametrize("claim, suggestion", [
    ("np.sum(dout, axis=1)", "np.sum(dout, axis=0)"),           # affine-db-wrong-axis
    ("np.sum(dout)", "np.sum(dout, axis=0)"),                   # affine-db-no-axis
    ("dout.sum(axis=1)", "dout.sum(axis=0)"),                   # the method form
    ("sum(dout, axis=1)", "sum(dout, axis=0)"),                 # as written: no prefix
])
def test_suggestion_keeps_the_users_spelling(claim, suggestion):
    shapes, cost, wrt = AFFINE
    r = check(Claim(shapes, cost, wrt, claim))
    assert r.verdict == "refuted" and r.suggestion == suggestion, (r.diagnosis, r.suggestion)
    assert check(Claim(shapes, cost, wrt, r.suggestion)).verdict == "verified"


@pytest.mark.parametrize("written, other, expected", [
    ("np.linalg.inv(A) @ x", "inv(A).T @ x", "np.linalg.inv(A).T @ x"),
    ("(A + B).sum(axis=0, keepdims=True)", "sum(A - B, axis=1)", "(A - B).sum(axis=1)"),
    ("np.exp(A) * np.tanh(B)", "exp(B) * tanh'(A)", "np.exp(B) * tanh'(A)"),
    ("scipy.special.softmax(A, axis=1)", "softmax(B, axis=0)", "scipy.special.softmax(B, axis=0)"),
])
def test_printer_spells_functions_as_written(written, other, expected):
    shown = to_text(parse(other), spelling_of(written, parse(written)))
    assert shown == expected and parse(shown) == parse(other)
