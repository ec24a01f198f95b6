"""The numeric check on its own: where the draws fall (per domain, away from
saturation), and the high-precision re-check of draws too close to call."""
import numpy as np
import pytest

from symbolic_bp.checks.claim import Claim, prepare
from symbolic_bp.checks.numeric import (
    PRECISE_AGREE, PRECISE_DIFFER, REL_TOL, SATURATION, NumericModel, _opaque_precise, draw_env, numeric_check,
)
from symbolic_bp.checks.sampling import positive_symbols
from symbolic_bp.core import elementwise

RNN_SHAPES = "W:m,n x:n b:m dh:m y:k"
TANH_COST = "sum(dh * tanh(W @ x + b)) + log(sum(y * y) + 1)"
TANH_TRUE = "(dh * (1 - tanh(W @ x + b) * tanh(W @ x + b))) @ x.T"
SIZES = {"m": 4, "n": 5, "k": 6}


def prep(cost=TANH_COST, claim=TANH_TRUE, shapes=RNN_SHAPES, wrt="W"):
    return prepare(Claim(shapes, cost, wrt, claim))


# -- positive only where a domain needs it --------------------------------------------------

@pytest.mark.parametrize("shapes, cost, wanted", [
    (RNN_SHAPES, TANH_COST, {"y"}),                                   # only y reaches the log
    ("A:n,n x:n", "logdet(A) + sum(tanh(A @ x))", {"A"}),             # an operation marked positive
    ("x:n y:n", "sum(sqrt(x * x + y * y))", {"x", "y"}),              # everything under the sqrt
    ("W:m,n x:n", "sum(tanh(W @ x))", set()),                         # no domain at all
    ("S:n,k W:k,k", "sum(log(softmax(S @ W, axis=1)))", set()),      # a log of what is positive anyway
    ("x:n", "sum(x ** 0.5) + sum(x ** 2)", {"x"}),                    # a real power needs a positive base
])
def test_positive_symbols_are_those_reaching_a_positive_argument(shapes, cost, wanted):
    p = prep(cost=cost, shapes=shapes, wrt=shapes.split(":")[0], claim="0")
    assert positive_symbols(p.cost, p.claim) == wanted


def test_a_log_elsewhere_leaves_the_other_symbols_standard_normal():
    p = prep()
    env = NumericModel(p, SIZES, 0).draw(np.random.default_rng(0), positive_symbols(p.cost, p.claim))
    assert np.all((env["y"] >= 0.5) & (env["y"] < 1.5))
    assert all(np.any(env[name] < 0) for name in ("W", "x", "dh"))


def test_saturated_draws_are_shrunk_below_the_saturation_limit():
    # all positive and n = 30: W @ x + b is ~30, far in tanh's flat tail
    p = prep()
    sizes = {"m": 4, "n": 30, "k": 3}
    model = NumericModel(p, sizes, 0)
    env = draw_env(p, sizes, np.random.default_rng(1), positive=True)
    assert model.feeding == {"W", "x", "b"}
    assert model.saturation(env) > 20
    shrunk = model.desaturated(env)
    assert model.saturation(shrunk) <= SATURATION
    assert np.array_equal(shrunk["dh"], env["dh"]) and np.array_equal(shrunk["y"], env["y"])   # not feeding tanh
    assert np.all(shrunk["W"] > 0) and np.all(shrunk["x"] > 0)          # scaled, still positive


def test_shrinking_never_makes_a_draw_worse():
    # through an inverse, scaling A down makes inv(A) larger: the least saturated try is kept
    p = prep(shapes="A:n,n x:n", cost="sum(tanh(inv(A) @ x))", claim="0", wrt="x")
    model = NumericModel(p, {"n": 4}, 0)
    env = draw_env(p, {"n": 4}, np.random.default_rng(3), positive=False)
    assert model.saturation(model.desaturated(env)) <= model.saturation(env)


def test_a_draw_without_saturating_functions_is_left_alone():
    p = prep(shapes="x:n", cost="sum(exp(1000 * x))", claim="1000 * exp(1000 * x)", wrt="x")
    model = NumericModel(p, {"n": 4}, 0)
    env = draw_env(p, {"n": 4}, np.random.default_rng(0), positive=False)
    assert model.feeding == set() and model.desaturated(env) is env


# -- the high-precision re-check -----------------------------------------------------------

def test_precise_difference_of_a_true_and_of_a_slightly_wrong_claim():
    env = draw_env(prep(), SIZES, np.random.default_rng(0), positive=False)
    assert NumericModel(prep(), SIZES, 0).precise_difference(env) <= PRECISE_AGREE
    wrong = prep(claim=TANH_TRUE + " + 1e-12 * W")
    rel = NumericModel(wrong, SIZES, 0).precise_difference(env)
    assert PRECISE_DIFFER < rel < 1e-11


def test_precise_opaque_function_is_the_numeric_family_member():
    x = np.linspace(-3, 3, 13)
    for order in range(5):
        f = _opaque_precise("sigma", order, 7)
        precise = np.array([float(f(v)) for v in x])
        assert np.allclose(precise, elementwise.numeric("sigma", order, 7)(x), rtol=1e-12, atol=1e-12), order


def test_precise_difference_with_opaque_functions_and_inverses():
    p = prep(shapes="A:n,n x:n sigma:function", cost="sum(sigma(inv(A) @ x))",
             claim="-inv(A).T @ (sigma'(inv(A) @ x) @ x.T) @ inv(A).T", wrt="A")
    env = draw_env(p, {"n": 3}, np.random.default_rng(2), positive=False)
    assert NumericModel(p, {"n": 3}, 5).precise_difference(env) <= PRECISE_AGREE


@pytest.mark.parametrize("claim, status", [
    (TANH_TRUE + " + 1e-9 * W", "differ"),          # within 1e3 of the tolerance: decided at 50 digits
    ("2.000000000001 * x", "differ"),                 # below the tolerance, far above the rounding
    ("2 * x", "agree"),
])
def test_differences_too_close_for_float64_are_decided_at_high_precision(claim, status):
    p = prep(claim=claim) if "W" in claim else prep(shapes="x:n", cost="x.T @ x", claim=claim, wrt="x")
    out = numeric_check(p, {d: 4 + i for i, d in enumerate(p.decls.dims)}, seed=0)
    assert out.status == status, out.detail()
    if status == "differ":
        assert out.max_rel < 1e3 * REL_TOL and out.precise == out.draws == 3
        assert "decided at 50 digits" in out.detail()
    else:
        assert out.precise == 0
