"""Identities "lhs = rhs" and "lhs = rhs up to a constant", by the checker's two checks."""
import pytest

from symbolic_bp.checks.identity import PROBE, check_equal, check_up_to_constant


def test_true_identity_is_verified_by_both_checks():
    r = check_equal("A:m,n B:n,k", "(A @ B).T", "B.T @ A.T")
    assert r.verdict == "verified" and r.methods == ["exact", "numeric"]
    assert r.derived == "B.T @ A.T"
    assert all(PROBE not in e.detail for e in r.evidence)


def test_transposed_right_hand_side_is_diagnosed_in_identity_words():
    r = check_equal("A:m,m B:m,m", "A @ B", "(A @ B).T")
    assert r.verdict == "refuted"
    assert r.diagnosis == "the right-hand side is the left-hand side transposed"
    assert PROBE not in r.counterexample.values and set(r.counterexample.values) == {"A", "B"}
    assert r.counterexample.claimed != r.counterexample.true


def test_factor_slip_is_named():
    r = check_equal("x:n", "x.T @ x", "2 * x.T @ x")
    assert r.verdict == "refuted" and "factor 2" in r.diagnosis


def test_shapes_that_differ_refute_with_a_shape_counterexample():
    r = check_equal("A:m,n B:n,m", "(A @ B).T", "A.T @ B.T")
    assert r.verdict == "refuted" and r.counterexample.entry is None
    assert "the shape of the left-hand side" in r.counterexample.true


def test_scalar_and_vector_sides():
    assert check_equal("s:scalar t:scalar", "(s + t)**2", "s**2 + 2 * s * t + t**2").verdict == "verified"
    assert check_equal("x:n y:n", "x * y", "y * x").verdict == "verified"


@pytest.mark.parametrize("lhs,rhs,where", [("A @", "A", "lhs: column"), ("A", "A @ x", "rhs: column"),
                                           ("A @ A", "A", "lhs: column")])
def test_bad_input_is_invalid_and_names_the_side(lhs, rhs, where):
    r = check_equal("A:m,n x:m", lhs, rhs)
    assert r.verdict == "invalid" and r.error.startswith(where) and "\n" not in r.error


def test_reserved_probe_name_and_bad_shapes():
    assert check_equal(f"{PROBE}:n", PROBE, PROBE).verdict == "invalid"
    assert check_equal("A:m,", "A", "A").error.startswith("shapes:")


def test_up_to_constant_drops_a_term_free_of_the_variables():
    r = check_up_to_constant("x:n y:n", "(x - y).T @ (x - y) / 2", "x.T @ x / 2 - y.T @ x", ["x"])
    assert r.verdict == "verified" and "does not depend on x" in r.derived
    assert {e.method for e in r.evidence} >= {"exact", "numeric"}


def test_up_to_constant_refutes_a_dropped_term_that_depends_on_a_variable():
    r = check_up_to_constant("x:n y:n", "(x - y).T @ (x - y) / 2", "x.T @ x / 2 - y.T @ x", ["x", "y"])
    assert r.verdict == "refuted"
    assert "depends on y" in r.diagnosis and r.counterexample is not None


def test_up_to_constant_is_not_a_silent_equality():
    # equal up to a constant but not equal: '=' refutes what 'up to a constant' accepts
    lhs, rhs = "(x - y).T @ (x - y)", "x.T @ x - 2 * y.T @ x"
    assert check_equal("x:n y:n", lhs, rhs).verdict == "refuted"
    assert check_up_to_constant("x:n y:n", lhs, rhs, ["x"]).verdict == "verified"


@pytest.mark.parametrize("shapes,lhs,rhs,variables,message", [
    ("x:n", "x", "x", ["x"], "compares scalars"),
    ("x:n", "x.T @ x", "x.T @ x", ["z"], "'z' is not a declared symbol"),
    ("x:n", "x.T @ x", "x.T @ x", [], "give at least one"),
    ("x:n", "x.T @ x", "x.T @", ["x"], "rhs: column"),
])
def test_up_to_constant_bad_input(shapes, lhs, rhs, variables, message):
    r = check_up_to_constant(shapes, lhs, rhs, variables)
    assert r.verdict == "invalid" and message in r.error
