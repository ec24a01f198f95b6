"""The diagnosis judges a repaired claim against the claim's own error: a
coincidental near-match (every value tiny where a tanh saturates) is not a slip."""
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
