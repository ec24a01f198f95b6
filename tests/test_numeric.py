"""The numeric check on its own: where the draws fall (per domain, away from
saturation), the high-precision re-check of draws too close to call or too
small for the tolerance's floor, the pieces of a piecewise claim, and the
plan of size assignments."""
import numpy as np
import pytest

from symbolic_bp.checks.claim import Claim, prepare
from symbolic_bp.checks.numeric import (
    PRECISE_AGREE, PRECISE_DIFFER, REL_TOL, SATURATION, NumericModel, _opaque_precise, draw_env, numeric_check,
    numeric_check_plan,
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


def test_a_saturation_that_shrinking_cannot_remove_is_left_as_drawn():
    # (5 + v)^2 >= 25 whatever v: shrinking v only pulls it toward 0, where 10 * w.T * sigmoid'(...)
    # meets the truth 2 * (5 + v) * w.T * sigmoid'(...)
    p = prep(shapes="v:n w:1,n", cost="w @ sigmoid((5 + v) ** 2)", claim="10 * w.T * sigmoid'((5 + v) ** 2)", wrt="v")
    model = NumericModel(p, {"n": 4}, 0)
    for seed in range(5):
        env = draw_env(p, {"n": 4}, np.random.default_rng(seed), positive=False)
        assert model.saturation(env) > 25
        kept = model.desaturated(env)
        assert np.array_equal(kept["v"], env["v"]), seed


# -- values all below 1: compared relative to their own size ----------------------------------

SMALL = ("x:n w:1,n", "w @ sigmoid(x + 30)", "x")        # sigmoid'(x + 30) ~ 1e-13: below the floor 1


@pytest.mark.parametrize("claim, status", [
    ("w.T * sigmoid'(x + 30)", "agree"),
    ("2 * w.T * sigmoid'(x + 30)", "differ"),               # off by a factor 2, by ~1e-13
    ("w.T * sigmoid'(x + 30) * (1 + 1e-6)", "differ"),      # off by a relative 1e-6, by ~1e-19
])
def test_values_all_below_one_are_compared_relative_to_their_size(claim, status):
    shapes, cost, wrt = SMALL
    out = numeric_check(prep(shapes=shapes, cost=cost, claim=claim, wrt=wrt), {"n": 4}, seed=0)
    assert out.status == status, out.detail()
    if status == "differ":
        assert out.tiny == out.draws == 3 and "differing relative to their own size" in out.detail()
    else:
        assert out.precise == out.tiny == 0


def test_relative_precise_difference_has_a_floor_of_the_intermediate_values():
    # values ~1e-30 computed from values ~1: a factor 2 between them is a difference, but a relative
    # 1e-7 of them is below 1e-15 of the intermediates, where rounding could have put it
    env = draw_env(prep(shapes="x:n y:n", cost="sum(x * y)", claim="y", wrt="x"), {"n": 3},
                   np.random.default_rng(0), positive=False)
    cost = "sum(x * y) * 1e-30"
    wrong = prep(shapes="x:n y:n", cost=cost, claim="y * 2e-30", wrt="x")
    assert NumericModel(wrong, {"n": 3}, 0).precise_difference(env, relative=True) >= PRECISE_DIFFER
    assert NumericModel(wrong, {"n": 3}, 0).precise_difference(env) < PRECISE_DIFFER     # the floor 1: unseen
    noise = prep(shapes="x:n y:n", cost=cost, claim="y * 1e-30 + 1e-37 * x", wrt="x")
    assert NumericModel(noise, {"n": 3}, 0).precise_difference(env, relative=True) < PRECISE_DIFFER


# -- piecewise claims: one point per piece along paths between draws --------------------------

REGION = ("s:scalar t:scalar", "minimum(-2 * s, s + t)", "s")


@pytest.mark.parametrize("seed", range(5))
def test_a_claim_wrong_on_one_piece_is_found_along_the_paths(seed):
    shapes, cost, wrt = REGION
    out = numeric_check(prep(shapes=shapes, cost=cost, claim="-2 * (-2 * s <= s + t) + (-2 * s > s)", wrt=wrt),
                        {}, seed)
    assert out.status == "differ", out.detail()
    assert out.differing and any(env is out.differing[-1] for env in out.envs)      # for the diagnosis
    s, t = (float(out.differing[-1][name][0, 0]) for name in ("s", "t"))
    assert (-2 * s > s + t) != (-2 * s > s)                                         # the wrong piece


def test_a_true_piecewise_claim_agrees_on_every_piece_and_says_so():
    shapes, cost, wrt = REGION
    out = numeric_check(prep(shapes=shapes, cost=cost, claim="-2 * (-2 * s <= s + t) + (-2 * s > s + t)", wrt=wrt),
                        {}, 0)
    assert out.status == "agree" and out.lines >= 1 and out.screened >= 2, out.detail()
    assert "on both sides of the kinks and ties" in out.detail()


def test_a_smooth_claim_walks_no_paths():
    out = numeric_check(prep(), SIZES, 0)
    assert out.status == "agree" and out.lines == out.screened == 0


# -- the plan: a difference at any group of sizes is a difference -----------------------------

def test_a_plan_reports_the_group_where_the_claim_differs():
    p = prep(shapes="A:m,n", cost="sum(A)", claim="ones(m, n) * (n - m) ** 2", wrt="A")
    out = numeric_check_plan(p, [[{"m": 4, "n": 5}], [{"m": 2, "n": 2}]], 0)
    assert out.status == "differ" and out.sizes == {"m": 2, "n": 2}
    assert [o.sizes for o in out.others] == [{"m": 4, "n": 5}] and out.others[0].status == "agree"
    assert "(m=2,n=2)" in out.detail() and "(m=4,n=5)" in out.detail()


def test_a_later_group_decides_an_inconclusive_first_one_which_is_reported():
    # as the exact check's: an agreement counts at the sizes where the check could decide
    p = prep(shapes="A:m,n", cost="sum(A) / (n - 5)", claim="ones(m, n) / (n - 5)", wrt="A")
    out = numeric_check_plan(p, [[{"m": 4, "n": 5}], [{"m": 2, "n": 2}]], 0)
    assert out.status == "agree" and out.sizes == {"m": 2, "n": 2}
    assert out.others[0].status == "inconclusive" and "(m=4,n=5)" in out.detail()
