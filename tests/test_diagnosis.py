"""The diagnosis judges a repaired claim against the claim's own error: a
coincidental near-match (every value tiny where a tanh saturates) is not a slip.
And it answers what issue 13 asked of it: a zero true gradient is said to be
zero (no ratio of rounding errors), an extra sigma' is named in any spelling, a
transpose is placed outside an elementwise function, the location says which
of two equal subexpressions, and where no slip is found what is known is said.
(The rates on published identities and backward passes: tests/test_slips.py.)"""
import numpy as np

from symbolic_bp.checks.checker import check
from symbolic_bp.checks.claim import Claim, prepare
from symbolic_bp.checks.diagnosis import NO_SLIP, diagnose
from symbolic_bp.checks.finite_differences import relative_difference
from symbolic_bp.checks.numeric import NumericModel, draw_env

# one RNN step, h = tanh(W @ h_prev + U @ x); the slip: h written where h_prev is meant
SHAPES = "W:m,m U:m,n h_prev:m x:n dh:m"
H = "tanh(W @ h_prev + U @ x)"
COST = f"sum(dh * {H})"
H_FOR_H_PREV = f"(dh * (1 - {H} * {H})) @ {H}.T"
SIZES = {"m": 4, "n": 5}


def saturated_envs(prep):
    """Positive draws (as when a log anywhere in the cost made every symbol
    positive): W @ h_prev + U @ x ~ 9, tanh' ~ 1e-7, so the claim and the truth
    are both tiny and any tiny matrix is 'within 1e-6' of them."""
    envs = [draw_env(prep, SIZES, np.random.default_rng(s), positive=True) for s in (1, 2)]
    model = NumericModel(prep, SIZES, 0)
    assert all(model.saturation(e) > 9 for e in envs)
    return model, envs


def test_h_for_h_prev_in_saturated_draws_is_not_a_transposition():
    prep = prepare(Claim(SHAPES, COST, "W", H_FOR_H_PREV))
    model, envs = saturated_envs(prep)
    # the old absolute rule (1e-6) would call the transposed claim a match here
    claimed = [model.value(prep.claim, e) for e in envs]
    truth = [model.value(prep.derived, e) for e in envs]
    assert all(relative_difference(k.T, g) <= 1e-6 for k, g in zip(claimed, truth))
    assert "transposed" not in diagnose(prep, model, envs)


def test_a_real_transposition_is_still_named_in_saturated_draws():
    prep = prepare(Claim(SHAPES, COST, "W", f"h_prev @ (dh * (1 - {H} * {H})).T"))
    model, envs = saturated_envs(prep)
    assert diagnose(prep, model, envs) == "the claim is the true gradient transposed"


def test_the_rnn_slip_through_check_is_not_called_transposed():
    for cost in (COST, COST + " + log(sum(exp(y)))"):        # a log elsewhere made every draw positive
        r = check(Claim(SHAPES + " y:k", cost, "W", H_FOR_H_PREV))
        assert r.verdict == "refuted" and "transposed" not in r.diagnosis, r


def test_a_tiny_extra_term_is_an_extra_term_not_a_factor_1():
    tanh_true = "(dh * (1 - tanh(W @ x + b) * tanh(W @ x + b))) @ x.T"
    r = check(Claim("W:m,n x:n b:m dh:m", "sum(dh * tanh(W @ x + b))", "W", tanh_true + " + 1e-9 * W"))
    assert r.verdict == "refuted" and r.diagnosis.startswith("an extra term"), r


def test_whole_claim_slips_are_still_found():
    r = check(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "2 * y @ x.T"))
    assert r.diagnosis == "the claim is 2 times the true gradient: an extra factor 2"
    r = check(Claim("A:m,n x:n y:m", "y.T @ A @ x + x.T @ x", "A", "2 * x"))
    assert r.verdict == "refuted" and r.diagnosis != NO_SLIP


# -- issue 13: answers a learner can use ---------------------------------------------------------

def test_a_true_gradient_that_is_zero_is_said_to_be_zero_not_a_ratio_of_rounding_errors():
    # tr(inv(X^T C X) X^T B X) = tr(C^-1 B) for an invertible X: the gradient is identically zero
    r = check(Claim("X:n,n:invertible B:n,n C:n,n", "tr(inv(X.T @ C @ X) @ (X.T @ B @ X))", "X",
                    "-inv(X).T @ B.T @ X @ inv(X.T @ C @ X)"))
    assert r.verdict == "refuted" and "times the true gradient" not in r.diagnosis, r.diagnosis
    assert "the true gradient is zero" in r.diagnosis
    assert r.suggestion == "zeros_like(X)"


def test_a_claim_orthogonal_to_the_truth_warns_of_no_division_by_zero():
    import warnings
    # the claim is 0: <K, G> / <G, G> is 0, and no factor is read from it (it used to divide by it)
    prep = prepare(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "A - A"))
    sizes = {"m": 4, "n": 5}
    envs = [draw_env(prep, sizes, np.random.default_rng(s), positive=False) for s in (1, 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # "invalid value encountered in divide" fails the test
        found = diagnose(prep, NumericModel(prep, sizes, 0), envs)
    assert found == "a missing term 'y @ x.T'", found


def test_an_extra_sigma_prime_is_named_in_any_spelling():
    shapes, cost = "W:m,n x:n y:m", "sum(y * sigmoid(W @ x))"
    right = "(y * sigmoid'(W @ x)) @ x.T"
    for spelled in ("sigmoid'(W @ x)", "sigmoid(W @ x) * (1 - sigmoid(W @ x))", "(1 - sigmoid(W @ x)) * sigmoid(W @ x)"):
        r = check(Claim(shapes, cost, "W", f"(y * sigmoid'(W @ x) * {spelled}) @ x.T"))
        assert r.verdict == "refuted" and r.diagnosis.startswith("an extra factor"), (spelled, r.diagnosis)
        assert check(Claim(shapes, cost, "W", r.suggestion)).verdict == "verified", r.suggestion
    assert check(Claim(shapes, cost, "W", right)).verdict == "verified"


def test_a_transpose_is_placed_outside_an_elementwise_function():
    r = check(Claim("A:n,n x:n", "sum(exp(A @ x))", "A", "x @ exp(A @ x).T"))
    assert r.diagnosis == "the claim is the true gradient transposed"
    assert r.suggestion == "exp(A @ x) @ x.T"         # not exp(x.T @ A.T)... inside the function


def test_a_missing_factor_says_which_of_two_equal_subexpressions_needs_it():
    cost = "sum(u * sigmoid(W @ x)) + sum(u * (W @ x))"
    r = check(Claim("W:n,n x:n u:n", cost, "x", "W.T @ u + W.T @ u"))
    assert r.verdict == "refuted" and "the first 'u'" in r.diagnosis, r.diagnosis
    assert r.suggestion == "W.T @ (u * sigmoid'(W @ x)) + W.T @ u"


def test_the_seed_posts_cost_expansion_names_the_swapped_symbol():
    # the post's x3^T y / 2 for x3^T x3 / 2 (x3 = W23 W12 W01 x0, as the chain writes it out)
    from symbolic_bp.checks.identity import check_equal
    x3 = "(W23 @ W12 @ W01 @ x0)"
    r = check_equal("W01:h1,n W12:h2,h1 W23:p,h2 x0:n y:p", f"({x3}.T @ {x3} - 2 * y.T @ {x3}) / 2",
                    f"{x3}.T @ y / 2 - y.T @ {x3}")
    assert r.verdict == "refuted" and "the first 'y' where 'W23 @ W12 @ W01 @ x0' is meant" in r.diagnosis
    assert r.suggestion.startswith(f"{x3}.T @ {x3} / 2")


def test_what_is_known_when_no_slip_explains_the_difference():
    # A + B - B.T + C - C.T: right on the diagonal and up to symmetrisation, no single edit repairs it
    r = check(Claim("X:n,n A:n,n B:n,n C:n,n", "sum(X * A)", "X", "A + B - B.T + C - C.T"))
    assert r.diagnosis.startswith(NO_SLIP) and r.suggestion is None, r.diagnosis
    assert "the claim is right on the diagonal" in r.diagnosis
    assert "right up to symmetrisation" in r.diagnosis


def test_a_ratio_that_holds_at_the_drawn_sizes_only_is_reported_as_such():
    # (n + 1) / (n + 3) is 5/7 at every draw at n = 4, and something else at other sizes: what is
    # known about the difference says so (an edit such as 1 -> 3 repairs it; this is what is said
    # when none does)
    from symbolic_bp.checks.diagnosis import View
    from symbolic_bp.checks.difference import describe
    prep = prepare(Claim("X:n,k", "sum(X)", "X", "(n + 1) / (n + 3) * ones_like(X)"))
    sizes = {"n": 4, "k": 5}
    envs = [draw_env(prep, sizes, np.random.default_rng(s), positive=False) for s in (1, 2)]
    known = describe(View(prep, NumericModel(prep, sizes, 0), envs))
    assert known.startswith(NO_SLIP) and "every entry differs at (n=4,k=5)" in known, known
    assert "the claim is 5/7 times the true gradient at (n=4,k=5) at every draw" in known, known


def test_a_row_that_fails_is_reported_as_a_bug_and_the_refutation_stands(monkeypatch):
    from symbolic_bp.checks import diagnosis
    from symbolic_bp.checks.slips import Slip

    def broken(view):
        raise KeyError("boom")
        yield  # pragma: no cover
    monkeypatch.setattr(diagnosis, "CATALOGUE", (Slip("transpose", "a row with a bug", broken),))
    prep = prepare(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "2 * y @ x.T"))
    sizes = {"m": 4, "n": 5}
    envs = [draw_env(prep, sizes, np.random.default_rng(s), positive=False) for s in (1, 2)]
    found = diagnose(prep, NumericModel(prep, sizes, 0), envs)
    assert found.startswith(NO_SLIP) and "broken: KeyError" in found and "bug in symbolic_bp" in found, found
