"""The pieces of a piecewise cost or claim (symbolic_bp.checks.regions), and
claims wrong on one piece only, which both checks must refute."""
import numpy as np
import pytest

from symbolic_bp import Claim, check
from symbolic_bp.checks.regions import moves, path, pieces, sides
from symbolic_bp.language.shapes import parse_declarations, parse_typed


def _m(*rows):
    return np.array(rows, dtype=float)


# -- the side of each kink ------------------------------------------------------------------

def test_sides_of_relu_abs_and_sign_are_the_signs_of_their_arguments():
    d = parse_declarations("x:n")
    tree = parse_typed("sum(relu(x)) + sum(abs(x - 1)) + sum(sign(x + 1))", d)
    assert sides((tree,), {"x": _m([2.0], [-0.5])}, {"n": 2}).tolist() == [1, -1, 1, -1, 1, 1]


def test_sides_of_a_comparison_and_of_maximum_say_which_argument_is_larger():
    d = parse_declarations("x:n y:n")
    tree = parse_typed("sum(maximum(x, y)) + sum(x > 2 * y)", d)
    got = sides((tree,), {"x": _m([1.0], [0.0]), "y": _m([0.0], [3.0])}, {"n": 2})
    assert got.tolist() == [1, -1, 1, -1]          # x - y, then x - 2 y


@pytest.mark.parametrize("cost, chosen", [
    ("sum(max(X, axis=1))", [0, 1, 0, 1, 0, 0]),
    ("sum(min(X, axis=0))", [1, 0, 0, 0, 1, 1]),
    ("max(X)", [0, 1, 0, 0, 0, 0]),
])
def test_sides_of_an_extreme_along_an_axis_are_the_entries_it_chooses(cost, chosen):
    d = parse_declarations("X:n,k")
    got = sides((parse_typed(cost, d),), {"X": _m([1.0, 5.0, 2.0], [4.0, 3.0, 0.0])}, {"n": 2, "k": 3})
    assert got.tolist() == chosen


def test_a_smooth_tree_has_no_sides_and_an_undefined_one_none():
    d = parse_declarations("A:n,n")
    assert sides((parse_typed("sum(exp(A))", d),), {"A": np.eye(2)}, {"n": 2}).size == 0
    assert sides((parse_typed("sum(relu(inv(A)))", d),), {"A": np.zeros((2, 2))}, {"n": 2}) is not None


# -- paths: how each symbol moves -------------------------------------------------------------

def test_paths_keep_every_declared_property():
    d = parse_declarations("x:n S:n,n:symmetric P:n,n:spd p:n:positive Y:n,n:onehot s:scalar q:n")
    how = moves(d, positive={"q"})
    assert how == {"x": "line", "S": "line", "P": "segment", "p": "segment", "Y": "fixed", "s": "line",
                   "q": "segment"}
    rng = np.random.default_rng(0)
    sym = lambda: (lambda m: m + m.T)(rng.standard_normal((3, 3)))      # noqa: E731
    spd = lambda: (lambda m: m @ m.T + np.eye(3))(rng.standard_normal((3, 3)))      # noqa: E731
    a = {"x": rng.standard_normal((3, 1)), "S": sym(), "P": spd(), "p": rng.uniform(0.5, 1.5, (3, 1)),
         "Y": np.eye(3), "s": _m([1.0]), "q": rng.uniform(0.5, 1.5, (3, 1))}
    b = dict(a, x=rng.standard_normal((3, 1)), S=sym(), P=spd(), p=rng.uniform(0.5, 1.5, (3, 1)), Y=np.eye(3)[::-1],
             s=_m([-1.0]), q=rng.uniform(0.5, 1.5, (3, 1)))
    at = path(a, b, how)
    for tau in np.linspace(-1, 2, 13):
        env = at(tau)
        assert np.allclose(env["S"], env["S"].T) and np.all(np.linalg.eigvalsh(env["P"]) > 0)
        assert np.all(env["p"] > 0) and np.all(env["q"] > 0) and np.array_equal(env["Y"], np.eye(3))
    assert at(2.0)["s"][0, 0] == -3.0 and np.array_equal(at(2.0)["p"], b["p"])     # extended; held at b


def test_a_narrow_piece_between_two_samples_is_found_by_halving():
    # three pieces along s: below 0.3, the sliver (0.3, 0.31), above 0.31 -- only halving finds the sliver
    at = lambda tau: {"s": _m([tau])}                                       # noqa: E731
    sides_at = lambda env: np.sign(env["s"] - _m([0.3], [0.31])).ravel().astype(np.int8)      # noqa: E731
    found, used = pieces(at, sides_at, 40)
    assert [np.frombuffer(key, dtype=np.int8).tolist() for key, _ in found] == [[-1, -1], [1, -1], [1, 1]]
    assert 0.3 < found[1][1]["s"][0, 0] < 0.31 and used <= 40
    found, _ = pieces(at, sides_at, 0)                                      # no budget for halving: missed
    assert len(found) == 2


# -- claims wrong on one piece only -------------------------------------------------------------

@pytest.mark.parametrize("shapes, cost, wrt, claim", [
    # the dropped term t / 4 decides the sign of s - t / 4 in a wedge of ~8% of the draws
    ("s:scalar t:scalar", "abs(s - t / 4)", "s", "sign(s)"),
    # maximum(s / 4, t) takes t where t > s / 4, not where t > 0
    ("s:scalar t:scalar", "maximum(s / 4, t)", "t", "t > 0"),
    # a relu whose argument lost a small term: wrong where s and s + t / 5 differ in sign
    ("s:scalar t:scalar u:scalar", "relu(s + t / 5 + u / 7)", "s", "relu'(s + t / 5)"),
    # a max along an axis: the runner-up within 0.05 of the maximum is counted too
    ("x:n", "max(x)", "x", "x > max(x) - 0.05"),
])
def test_a_claim_wrong_on_one_piece_is_refuted_by_both_checks(shapes, cost, wrt, claim):
    for seed in range(3):
        r = check(Claim(shapes, cost, wrt, claim), seed=seed)
        assert r.verdict == "refuted", (seed, r.error, [e.detail for e in r.evidence])


def test_the_exact_check_is_asked_at_the_numeric_checks_point():
    r = check(Claim("s:scalar t:scalar", "minimum(-2 * s, s + t)", "s", "-2 * (-2 * s <= s + t) + (-2 * s > s)"))
    exact = next(e for e in r.evidence if e.method == "exact")
    assert r.verdict == "refuted" and exact.outcome == "differ"
    assert "the float64 point at which the numeric check found the claim differing" in exact.detail


@pytest.mark.parametrize("shapes, cost, wrt, claim", [
    ("s:scalar t:scalar", "abs(s - t / 4)", "s", "sign(s - t / 4)"),
    ("s:scalar t:scalar", "maximum(s / 4, t)", "t", "t >= s / 4"),
    ("x:n", "max(x)", "x", "x == max(x)"),
])
def test_the_true_piecewise_claims_stay_verified(shapes, cost, wrt, claim):
    for seed in range(3):
        r = check(Claim(shapes, cost, wrt, claim), seed=seed)
        assert r.verdict == "verified", (seed, r.error)
