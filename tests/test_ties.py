"""Claims on which the exact and the numeric check once saw different pieces
(difftest seeds 5330 and 2980: "the exact check says 'differ' but the numeric
check says 'agree'"), shrunk, and the mechanisms that now decide them:

* an opaque sigma gets random jets in the exact check -- every sign -- but
  one random smooth function in the numeric check, whose values may all lie
  on one side of a comparison: the numeric check tries other functions
  (:func:`symbolic_bp.checks.checker._other_functions`);
* the float64 draws may all fall where claim and gradient are both 0 (the
  0/1 data, a piece): the numeric check is asked at the exact check's own
  point, which is a float64 point (:func:`symbolic_bp.checks.checker._numeric_at_exact_point`,
  :func:`symbolic_bp.checks.numeric.judge_at`).
"""
from __future__ import annotations

import numpy as np
import pytest

from symbolic_bp.checks.checker import check
from symbolic_bp.checks.claim import Claim, prepare
from symbolic_bp.checks.numeric import NumericModel, judge_at

# difftest seed 5330, as shrunk: -(v0 + v1 != v1 + 1) > sqrt(2 v2) sigma(s3) is 0 wherever sigma(s3) > 0
SHAPES_5330 = "v0:1,k:onehot v1:1,k v2:1,k:positive s3:scalar:positive v4:k X5:k,m:positive v6:m sigma:function"
COST_5330 = ("(np.greater((-not_equal((v0 + v1), (v1 - (-1)))), (np.sqrt((v2 + v2)) * sigma(s3))) "
             "@ exp'(((tanh'(v4) + (X5 @ v6)) - v4)))")
TRUTH_5330 = "X5.T @ ((-(v0 + v1 != v1 + 1) > sigma(s3) * sqrt(2 * v2)).T * exp''(1 - tanh(v4)**2 + X5 @ v6 - v4))"
MUTANT_5330 = "X5.T @ ((-(v0 + v1 != v1 + 1) > sigma(s3) * sqrt(2 * v2)).T * exp''(v4))"

# difftest seed 2980: a constant cost (logsumexp of a log-softmax is log 1); the claim and the gradient
# vanish unless the binary X5 is 1 where the one-hot v1 and v3 point
SHAPES_2980 = "v0:m v1:k:onehot v2:1,k v3:1,n:onehot X4:m,k X5:k,n:binary"
COST_2980 = "scipy.special.logsumexp(np.log_softmax(((kron(v0, v1) @ np.kron(v2, v3)) / sigmoid(np.kron(X4, X5)))))"
_Z = "kron(v0, v1) @ kron(v2, v3) / sigmoid(kron(X4, X5))"
_TAIL = f"(kron(v0, v1) @ kron(v2, v3)) * sigmoid'(kron(X4, X5)) * kron(ones(m, k), X5) / sigmoid(kron(X4, X5))**2, k, n)"
TRUTH_2980 = (f"blocksum(exp({_Z}) * {_TAIL} / sum(exp({_Z})) - "
              f"blocksum(exp({_Z} - log(sum(exp({_Z})))) * {_TAIL} / sum(exp({_Z} - log(sum(exp({_Z})))))")
MUTANT_2980 = (f"blocksum(exp({_Z}) * {_TAIL} / sum(exp({_Z})) - "
               f"blocksum(exp(log(sum(exp({_Z})))) * {_TAIL} / sum(exp({_Z} - log(sum(exp({_Z})))))")

BUG = "bug in symbolic_bp"


def _numeric(result) -> str:
    return next(e.detail for e in result.evidence if e.method == "numeric")


def test_opaque_comparison_difftest_5330():
    mutant = check(Claim(shapes=SHAPES_5330, cost=COST_5330, wrt="v6", claim=MUTANT_5330))
    assert mutant.verdict == "refuted", mutant.error
    assert "random smooth function number" in _numeric(mutant)
    truth = check(Claim(shapes=SHAPES_5330, cost=COST_5330, wrt="v6", claim=TRUTH_5330))
    assert truth.verdict == "verified", truth.error


@pytest.mark.parametrize("cost, claim", [
    ("(0 > sigma(s)) * sum(exp(w))", "(0 > sigma(s)) * w"),
    ("(sigma(s) > 0) * sum(exp(w))", "(sigma(s) > 0) * w"),
])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_opaque_comparison_shrunk(cost, claim, seed):
    """Wrong only on one side of sigma(s) = 0: refuted for every seed, whichever
    side the numeric check's first function lies on; the truth is verified."""
    shapes = "s:scalar:positive w:k sigma:function"
    mutant = check(Claim(shapes=shapes, cost=cost, wrt="w", claim=claim), seed=seed)
    assert mutant.verdict == "refuted", mutant.error
    truth = check(Claim(shapes=shapes, cost=cost, wrt="w", claim=claim.replace("* w", "* exp(w)")), seed=seed)
    assert truth.verdict == "verified", truth.error


def test_other_function_needed():
    """At seed 1 the first function is positive at every draw: only another one shows the difference."""
    r = check(Claim(shapes="s:scalar:positive w:k sigma:function", cost="(0 > sigma(s)) * sum(exp(w))", wrt="w",
                    claim="(0 > sigma(s)) * w"), seed=1)
    assert r.verdict == "refuted" and "random smooth function number" in _numeric(r)


@pytest.mark.parametrize("seed", [3, 18])
def test_data_configuration_missed_by_the_draws(seed):
    """At these seeds every float64 draw has b = 0 where y points, so claim and gradient are both 0
    there; the exact check's point, taken in float64, shows the difference, and the diagnosis finds
    the slip there."""
    claim = Claim(shapes="y:n:onehot b:n:binary w:n", cost="y.T @ (b * exp(w))", wrt="w", claim="y * b * w")
    r = check(claim, seed=seed)
    assert r.verdict == "refuted", r.error
    assert _numeric(r).startswith("at the point at which the exact check found the claim differing")
    assert "exp(w)" in r.diagnosis
    truth = check(Claim(shapes="y:n:onehot b:n:binary w:n", cost="y.T @ (b * exp(w))", wrt="w",
                        claim="y * b * exp(w)"), seed=seed)
    assert truth.verdict == "verified", truth.error


def test_judge_at():
    prep = prepare(Claim(shapes="y:n:onehot b:n:binary w:n", cost="y.T @ (b * exp(w))", wrt="w", claim="y * b * w"))
    model = NumericModel(prep, {"n": 2}, 0)
    at = {"y": np.array([[1.0], [0.0]]), "b": np.array([[1.0], [0.0]]), "w": np.array([[0.5], [2.0]])}
    how, rel, differs = judge_at(model, at)
    assert differs and rel > 0.1
    at["b"] = np.array([[0.0], [1.0]])          # b = 0 where y points: both 0
    assert judge_at(model, at)[2] is False


@pytest.mark.slow
def test_constant_cost_difftest_2980():
    mutant = check(Claim(shapes=SHAPES_2980, cost=COST_2980, wrt="X4", claim=MUTANT_2980), seconds=120)
    assert mutant.verdict == "refuted", mutant.error
    assert "at 50 digits" in _numeric(mutant)         # float64 cancels at the exact check's point
    truth = check(Claim(shapes=SHAPES_2980, cost=COST_2980, wrt="X4", claim=TRUTH_2980), seconds=120)
    assert truth.verdict == "verified", truth.error
