"""Declared data (positive, onehot, binary) in every kind of draw, the exact
check's configurations of 0/1 data, and kinks (symbolic_bp.checks.sampling,
symbolic_bp.checks.kinks, the checks that use them)."""
import math
import random
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symbolic_bp import Claim, check
from symbolic_bp.checks import counterexample as counterexample_module
from symbolic_bp.checks import exact as exact_module
from symbolic_bp.checks import numeric as numeric_module
from symbolic_bp.checks.claim import prepare
from symbolic_bp.checks.counterexample import find_counterexample
from symbolic_bp.checks.dual import Context, draw_matrix
from symbolic_bp.checks.exact import (
    DATA_ENUMERATE,
    DATA_SAMPLES,
    data_configurations,
    degree,
    exact_check,
    on_kink,
)
from symbolic_bp.checks.kinks import almost_everywhere, kink_distance, perturbed
from symbolic_bp.checks.numeric import (
    KINK_MARGIN,
    NumericModel,
    draw_env,
    numeric_check,
)
from symbolic_bp.checks.sampling import (
    ONEHOT_COLUMN,
    drawn_property,
    float_matrix,
    integer_matrix,
    rational_matrix,
    zero_one,
    zero_one_all,
    zero_one_count,
)
from symbolic_bp.checks.sizes import exact_candidates
from symbolic_bp.core import registry
from symbolic_bp.language.shapes import parse_declarations, parse_typed
from symbolic_bp.rendering.text import cli_lines

FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None)
seeds = st.integers(0, 2 ** 32 - 1)
shapes = st.tuples(st.integers(1, 4), st.integers(1, 4))


def all_kinds(seed, shape, prop, positive=False):
    """One draw of each kind of value, as float arrays: exact rationals (the
    proofs), dyadic rationals (the exact check), small integers
    (counterexamples), float64 (the numeric check)."""
    return {
        "rational": np.array(rational_matrix(random.Random(seed), shape, prop).tolist(), dtype=float),
        "dual": np.array(draw_matrix(Context(), random.Random(seed), shape, prop, positive).to_fractions(),
                         dtype=float),
        "integer": np.array(integer_matrix(random.Random(seed), shape, prop, positive).tolist(), dtype=float),
        "float": float_matrix(np.random.default_rng(seed), shape, prop, positive),
    }


# -- the draws --------------------------------------------------------------------------------

@FAST
@given(seed=seeds, shape=shapes)
def test_onehot_rows_sum_to_one_with_0_1_entries_in_every_kind(seed, shape):
    for kind, m in all_kinds(seed, shape, "onehot", positive=True).items():
        assert m.shape == shape, kind
        assert set(np.unique(m)) <= {0.0, 1.0}, (kind, m)
        assert np.array_equal(m.sum(axis=1), np.ones(shape[0])), (kind, m)


@FAST
@given(seed=seeds, rows=st.integers(1, 5))
def test_a_onehot_column_vector_is_onehot_as_a_whole(seed, rows):
    for kind, m in all_kinds(seed, (rows, 1), ONEHOT_COLUMN).items():
        assert set(np.unique(m)) <= {0.0, 1.0} and m.sum() == 1, (kind, m)


def test_which_rule_a_declared_onehot_symbol_follows():
    d = parse_declarations("Y:n,k:onehot y:n:onehot z:n,1:onehot r:1,k:onehot")
    assert [drawn_property(s) for s in d.symbols.values()] == ["onehot", ONEHOT_COLUMN, ONEHOT_COLUMN, "onehot"]
    # a one-hot n x k matrix at a size where k = 1: every row is [1]
    assert zero_one("onehot", (3, 1), random.Random(0).randrange) == [[1], [1], [1]]


@FAST
@given(seed=seeds, shape=shapes)
def test_binary_draws_are_0_or_1_in_every_kind(seed, shape):
    for kind, m in all_kinds(seed, shape, "binary", positive=True).items():
        assert set(np.unique(m)) <= {0.0, 1.0}, (kind, m)


def test_binary_draws_take_both_values():
    values = np.concatenate([m.ravel() for s in range(20) for m in all_kinds(s, (2, 3), "binary").values()])
    assert 0.3 < values.mean() < 0.7


@FAST
@given(seed=seeds, shape=shapes)
def test_positive_draws_are_positive_in_every_kind_without_a_log(seed, shape):
    for kind, m in all_kinds(seed, shape, "positive", positive=False).items():
        assert np.all(m > 0), (kind, m)
    assert set(np.unique(all_kinds(seed, shape, "positive")["integer"])) <= {1.0, 2.0, 3.0}
    f = all_kinds(seed, shape, "positive")["float"]
    assert np.all((0.5 <= f) & (f < 1.5))


def test_positive_and_binary_scalars():
    prep = prepare(Claim("s:scalar:positive b:scalar:binary x:n", "s * b * sum(x)", "x", "s * b * ones(n,1)"))
    for seed in range(10):
        env = draw_env(prep, {"n": 2}, np.random.default_rng(seed), positive=False)
        assert env["s"].shape == (1, 1) and env["s"][0, 0] > 0
        assert env["b"][0, 0] in (0.0, 1.0)


# -- counting and enumerating the 0/1 configurations -----------------------------------------

@pytest.mark.parametrize("prop,shape,count", [
    ("onehot", (2, 3), 9), ("onehot", (3, 2), 8), ("onehot", (4, 5), 625), ("onehot", (3, 1), 1),
    (ONEHOT_COLUMN, (4, 1), 4), ("binary", (2, 2), 16), ("binary", (1, 1), 2),
])
def test_enumeration_lists_every_configuration_once(prop, shape, count):
    assert zero_one_count(prop, shape) == count
    if count <= 64:
        every = list(zero_one_all(prop, shape))
        assert len(every) == count
        assert len({repr(m) for m in every}) == count
        for m in every:
            a = np.array(m)
            assert a.shape == shape and set(np.unique(a)) <= {0, 1}
            if prop == "onehot":
                assert np.all(a.sum(axis=1) == 1)
            if prop == ONEHOT_COLUMN:
                assert a.sum() == 1


def test_the_exact_check_enumerates_few_configurations_and_samples_many():
    prep = prepare(Claim("S:n,k Y:n,k:onehot M:n,k:binary", "sum(Y * S)", "S", "Y"))
    few = data_configurations(prep, {"n": 2, "k": 3}, random.Random(0))     # M unused: not enumerated
    assert few.enumerated and few.total == 9 and len(few.values) == 9 <= DATA_ENUMERATE
    assert len({repr(v) for v in few.values}) == 9 and few.text() == "all 9 one-hot Y"
    many = data_configurations(prep, {"n": 4, "k": 5}, random.Random(0))
    assert not many.enumerated and many.total == 625 and len(many.values) == DATA_SAMPLES
    assert len({repr(v) for v in many.values}) == DATA_SAMPLES
    assert many.text() == "8 random one-hot Y of 625"
    both = prepare(Claim("S:n,k Y:n,k:onehot M:n,k:binary", "sum(Y * S) + sum(M * S)", "S", "Y + M"))
    assert data_configurations(both, {"n": 2, "k": 2}, random.Random(0)).text() == \
        "8 random configurations of one-hot Y and binary M of 64"
    assert data_configurations(prepare(Claim("S:n,k", "sum(S)", "S", "ones(n,k)")), {"n": 2, "k": 2},
                               random.Random(0)) is None


def test_data_are_constants_of_degree_0_in_the_bound():
    prep = prepare(Claim("S:n,k Y:n,k:onehot P:n,k:positive", "sum(Y * S * P)", "S", "Y * P"))
    assert degree(prep.cost, prep, {"n": 2, "k": 3}) == (2, 0)       # Y constant; S and P of degree 1
    plain = prepare(Claim("S:n,k Y:n,k", "sum(Y * S)", "S", "Y"))
    assert degree(plain.cost, plain, {"n": 2, "k": 3}) == (2, 0)
    onehot = prepare(Claim("S:n,k Y:n,k:onehot", "sum(Y * S)", "S", "Y"))
    assert degree(onehot.cost, onehot, {"n": 2, "k": 3}) == (1, 0)


# -- invalid: a gradient with respect to data ---------------------------------------------------

@pytest.mark.parametrize("shapes,wrt", [("S:n,k Y:n,k:onehot", "Y"), ("S:n,k Y:n,k:binary", "Y"),
                                        ("S:n,k Y:scalar:binary", "Y"), ("S:n,k Y:n:onehot", "Y")])
def test_a_gradient_with_respect_to_discrete_data_is_invalid(shapes, wrt):
    r = check(Claim(shapes, "sum(S) * sum(Y)", wrt, "0"))
    assert r.verdict == "invalid"
    prop = shapes.rsplit(":", 1)[1]
    assert r.error == (f"wrt: Y is declared {prop} (discrete data); a gradient with respect to it is not defined")
    assert "\n" not in r.error


# -- kinks ------------------------------------------------------------------------------------

D = parse_declarations("A:m,n x:n y:n")
SIZES = {"m": 2, "n": 2}
ENV = {"A": np.array([[1.0, -2.0], [0.5, 0.25]]), "x": np.array([[1.0], [0.75]]), "y": np.array([[0.0], [1.0]])}


def test_kink_distance_of_relu_is_the_smallest_argument():
    # A @ x = (1 - 1.5, 0.5 + 0.1875) = (-0.5, 0.6875): relu's kink is 0.5 away
    assert kink_distance(parse_typed("sum(relu(A @ x))", D), ENV, SIZES) == 0.5
    # every non-smooth node counts, at every derivative order: abs(x) is 0.75 away, relu'(x - 0.7) 0.05
    assert kink_distance(parse_typed("sum(abs(x))", D), ENV, SIZES) == 0.75
    assert kink_distance(parse_typed("sum(relu'(x - 0.7 * ones(n, 1)))", D), ENV, SIZES) == pytest.approx(0.05)
    assert kink_distance(parse_typed("sum(sign(A @ x)) + sum(abs(x))", D), ENV, SIZES) == 0.5


def test_kink_distance_of_a_smooth_tree_is_infinite():
    assert kink_distance(parse_typed("sum(exp(A @ x)) + tr(A.T @ A)", D), ENV, SIZES) == math.inf


def test_data_and_structural_zeros_are_not_kinks():
    # abs(y) holds only the constant y: no kink even where y is 0
    assert kink_distance(parse_typed("sum(abs(y))", D), ENV, SIZES, constant={"y"}) == math.inf
    assert kink_distance(parse_typed("sum(abs(y))", D), ENV, SIZES) == 0.0
    # y * x is 0 wherever y is: constant 0 near the point, differentiable; the other entry is 0.75 away
    assert kink_distance(parse_typed("sum(abs(y * x))", D), ENV, SIZES, constant={"y"}) == 0.75
    # a real zero of a drawn argument is a kink: A @ x = 0 at this x
    on = dict(ENV, x=np.array([[2.0], [1.0]]), A=np.array([[1.0, -2.0], [1.0, 1.0]]))
    assert kink_distance(parse_typed("sum(relu(A @ x))", D), on, SIZES) == 0.0


def test_kink_distance_of_an_operation_with_ties(monkeypatch):
    # an operation's kink rule on its float64 arguments: here a made-up tie of the two diagonal entries
    tied = replace(registry.operation("tr"), kink=lambda m: float(abs(m[0, 0] - m[1, 1])))
    monkeypatch.setitem(registry.OPERATIONS, "tr", tied)
    d = parse_declarations("X:n,n Y:n,n")
    tree = parse_typed("tr(X) + tr(Y)", d)
    env = {"X": np.array([[1.0, 0.0], [0.0, 1.25]]), "Y": np.eye(2)}
    assert kink_distance(tree, env, {"n": 2}, constant={"Y"}) == 0.25       # tr(Y) of data only: no tie
    assert kink_distance(tree, env, {"n": 2}) == 0.0                         # a drawn Y on the tie


def test_perturbed_values_keep_their_properties():
    s = np.array([[2.0, 1.0], [1.0, 3.0]])
    p = perturbed({"S": s, "Y": np.eye(2), "P": np.full((2, 3), 2.0 ** -20)}, {"S", "P"}, seed=3)
    assert np.array_equal(p["S"], p["S"].T) and not np.array_equal(p["S"], s)
    assert np.all(np.linalg.eigvalsh(p["S"]) > 0) and np.all(p["P"] > 0)
    assert np.array_equal(p["Y"], np.eye(2))


def test_the_exact_check_sees_a_point_on_a_kink():
    prep = prepare(Claim("A:m,n x:n y:m", "y.T @ relu(A @ x)", "A", "(y * relu'(A @ x)) @ x.T"))
    values = {"A": [[Fraction(1), Fraction(-2)], [Fraction(1, 2), Fraction(1, 4)]], "y": [[Fraction(1)], [Fraction(1)]]}
    assert on_kink(prep, SIZES, dict(values, x=[[Fraction(2)], [Fraction(1)]]))         # A @ x = (0, 5/4)
    assert not on_kink(prep, SIZES, dict(values, x=[[Fraction(1)], [Fraction(3, 4)]]))


def test_the_exact_check_redraws_points_on_kinks(monkeypatch):
    prep = prepare(Claim("A:m,n x:n y:m", "y.T @ relu(A @ x)", "A", "(y * relu'(A @ x)) @ x.T"))
    monkeypatch.setattr(exact_module, "ON_KINK", math.inf)     # every point is "on a kink"
    out = exact_check(prep, exact_candidates(prep.decls.dims), 0)
    assert out.status == "inconclusive" and "on a kink or a tie" in out.note and out.kinked > 0


def test_the_numeric_check_redraws_points_near_kinks(monkeypatch):
    prep = prepare(Claim("A:m,n x:n y:m", "y.T @ relu(A @ x)", "A", "(y * relu'(A @ x)) @ x.T"))
    model = NumericModel(prep, SIZES, 0)
    assert model.kink_distance(ENV | {"y": np.ones((2, 1))}) == 0.5
    assert KINK_MARGIN == pytest.approx(1e-3)
    monkeypatch.setattr(numeric_module, "KINK_MARGIN", math.inf)
    out = numeric_check(prep, {"m": 4, "n": 5}, 0)
    assert out.status == "inconclusive" and out.kinked == numeric_module.MAX_REDRAWS
    assert "of a kink or a tie" in out.note


def test_counterexamples_avoid_kinks(monkeypatch):
    # 1 - relu'(-u) is relu'(u) except at u = 0 (1, not 0): true almost everywhere, and small
    # integers often give A @ w = 0 (1*1 + (-1)*1), where only the conventions differ
    prep = prepare(Claim("A:n,k w:k", "sum(relu(A @ w))", "w", "A.T @ (1 - relu'(-(A @ w)))"))
    assert all(find_counterexample(prep, seed) is None for seed in range(3))
    monkeypatch.setattr(counterexample_module, "on_kink", lambda *args: False)
    assert any(find_counterexample(prep, seed) is not None for seed in range(3))


def test_counterexamples_respect_the_data():
    wrong = prepare(Claim("Y:n,k:onehot w:k", "sum(relu(Y @ w))", "w", "Y.T @ sign(Y @ w)"))
    ce = find_counterexample(wrong, 0)
    y = np.array(ce.values["Y"])
    assert set(np.unique(y)) <= {0, 1} and np.all(y.sum(axis=1) == 1)


# -- end to end -------------------------------------------------------------------------------

# the summed softmax cross-entropy -sum(Y * log(softmax(S))), written without elementwise division:
# sum_i sum_j Y_ij (lse_i - S_ij), lse_i = log(sum_j exp(S_ij)); its gradient softmax(S) * rowsum(Y) - Y
# is softmax(S) - Y exactly when every row of Y sums to 1
CE = "sum(Y * (log(exp(S) @ ones(k,1)) @ ones(1,k))) - sum(Y * S)"
SOFTMAX_MINUS_Y = "exp(S - log(exp(S) @ ones(k,1)) @ ones(1,k)) - Y"


@pytest.mark.parametrize("declared,verdict", [("Y:n,k:onehot", "verified"), ("Y:n,k", "refuted"),
                                              ("Y:n,k:binary", "refuted")])
def test_softmax_cross_entropy_gradient_needs_one_hot_labels(declared, verdict):
    r = check(Claim(f"S:n,k {declared}", CE, "S", SOFTMAX_MINUS_Y))
    assert r.verdict == verdict, (r.error, r.evidence)
    exact = next(e for e in r.evidence if e.method == "exact")
    if declared.endswith("onehot"):
        assert "all 9 one-hot Y at (n=2,k=3)" in exact.detail and "all 8 one-hot Y at (n=3,k=2)" in exact.detail
    if declared.endswith("binary"):
        assert "with binary Y = [[" in exact.detail            # the configuration of the counterexample
        y = np.array(r.counterexample.values["Y"])
        assert set(np.unique(y)) <= {0, 1}


def test_many_configurations_are_sampled_and_the_evidence_says_so():
    r = check(Claim("S:3,4 Y:3,4:onehot", CE.replace("k", "4"), "S", SOFTMAX_MINUS_Y.replace("k", "4")))
    assert r.verdict == "verified", (r.error, r.evidence)
    exact = next(e for e in r.evidence if e.method == "exact")
    assert "8 random one-hot Y of 64" in exact.detail and "sampled, not enumerated" in exact.detail


def test_mean_softmax_cross_entropy_with_elementwise_division():
    softmax = "exp(S) / (exp(S) @ ones(k,1) @ ones(1,k))"
    cost = f"-sum(Y * log({softmax})) / 3"
    assert check(Claim("S:3,k Y:3,k:onehot", cost, "S", f"({softmax} - Y) / 3")).verdict == "verified"
    assert check(Claim("S:3,k Y:3,k", cost, "S", f"({softmax} - Y) / 3")).verdict == "refuted"


def test_declared_positive_values_make_abs_the_identity():
    assert check(Claim("P:m,n:positive", "sum(abs(P))", "P", "ones(m,n)")).verdict == "verified"
    r = check(Claim("P:m,n", "sum(abs(P))", "P", "ones(m,n)"))
    assert r.verdict == "refuted" and r.counterexample.values["P"][0][0] < 0
    assert check(Claim("s:scalar:positive x:n", "abs(s) * sum(x)", "x", "s * ones(n,1)")).verdict == "verified"
    # and the exact check draws them positive without any log in sight
    out = exact_check(prepare(Claim("P:m,n:positive", "sum(abs(P))", "P", "ones(m,n)")),
                      exact_candidates(("m", "n")), 0)
    assert out.status == "agree" and out.declared_positive == ["P"] and "declared positive" in out.bound_text()


def test_binary_values_are_idempotent():
    # s^2 = s only for s in {0, 1}
    assert check(Claim("s:scalar:binary x:n", "s * s * sum(x)", "x", "s * ones(n,1)")).verdict == "verified"
    assert check(Claim("s:scalar x:n", "s * s * sum(x)", "x", "s * ones(n,1)")).verdict == "refuted"


def test_a_verified_claim_with_kinks_holds_almost_everywhere():
    r = check(Claim("Y:n,k:binary w:k", "sum(relu(Y @ w))", "w", "Y.T @ relu'(Y @ w)"))
    assert r.verdict == "verified", (r.error, r.evidence)
    assert r.scope.startswith("holds almost everywhere (away from the kinks of relu)")
    assert any(line.startswith("  scope:") and "almost everywhere" in line for line in cli_lines(r, "dC/dw"))
    smooth = check(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "y @ x.T"))
    assert smooth.scope is None and all(e.method != "scope" for e in smooth.evidence)
    prep = prepare(Claim("x:n", "sum(abs(x))", "x", "sign(x)"))
    assert almost_everywhere(prep.cost, prep.claim).startswith(
        "holds almost everywhere (away from the kinks of abs/sign)")


def test_a_one_hot_vector_times_a_variable_is_decidable_despite_its_zeros():
    # y * w is 0 wherever y is: no kink there, so both checks decide
    assert check(Claim("y:n:onehot w:n", "sum(abs(y * w))", "w", "y * sign(w)")).verdict == "verified"
    r = check(Claim("y:n:onehot w:n", "sum(abs(y * w))", "w", "sign(w)"))
    assert r.verdict == "refuted"
    assert sum(v[0] for v in r.counterexample.values["y"]) == 1
