"""Random values by declared property (symbolic_bp.checks.sampling) and the
finite differences and relative difference (symbolic_bp.checks.finite_differences)."""
import random

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from symbolic_bp.checks.finite_differences import central_differences, relative_difference, relative_step
from symbolic_bp.checks.sampling import (float_matrix, gram_plus_identity, integer_matrix, mirrored, rational_matrix,
                                         symmetrised)

FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None)
seeds = st.integers(0, 2 ** 32 - 1)
sizes = st.integers(1, 4)


# -- symmetric ------------------------------------------------------------------------------

@FAST
@given(seed=seeds, n=sizes)
def test_symmetric_draws_are_symmetric(seed, n):
    assert rational_matrix(random.Random(seed), (n, n), "symmetric").is_symmetric()
    assert integer_matrix(random.Random(seed), (n, n), "symmetric", positive=False).is_symmetric()
    for positive in (False, True):
        m = float_matrix(np.random.default_rng(seed), (n, n), "symmetric", positive)
        assert np.array_equal(m, m.T)


def test_symmetric_integer_draws_stay_integer():
    m = integer_matrix(random.Random(3), (3, 3), "symmetric", positive=False)
    assert all(v.is_Integer and v != 0 for v in m)


# -- spd --------------------------------------------------------------------------------------

@FAST
@given(seed=seeds, n=sizes)
def test_spd_draws_have_positive_eigenvalues(seed, n):
    for m in (rational_matrix(random.Random(seed), (n, n), "spd"),
              integer_matrix(random.Random(seed), (n, n), "spd", positive=True)):
        assert m.is_symmetric() and m.is_positive_definite
    for positive in (False, True):
        m = float_matrix(np.random.default_rng(seed), (n, n), "spd", positive)
        assert np.array_equal(m, m.T)
        assert np.min(np.linalg.eigvalsh(m)) >= 1 - 1e-12          # M Mᵀ/n + I: eigenvalues >= 1


# -- invertible -------------------------------------------------------------------------------

@FAST
@given(seed=seeds, n=sizes)
def test_invertible_draws_have_nonzero_determinant(seed, n):
    assert rational_matrix(random.Random(seed), (n, n), "invertible").det() != 0
    m = integer_matrix(random.Random(seed), (n, n), "invertible", positive=False)
    assert m is None or m.det() != 0
    for positive in (False, True):
        assert abs(np.linalg.det(float_matrix(np.random.default_rng(seed), (n, n), "invertible", positive))) > 0


def test_a_singular_integer_draw_is_reported_not_returned():
    # with entries from {1, 2, 3} some 2x2 draws are singular: those come back as None
    results = [integer_matrix(random.Random(s), (2, 2), "invertible", positive=True) for s in range(200)]
    assert any(m is None for m in results)
    assert all(m.det() != 0 for m in results if m is not None)


# -- the draws themselves ---------------------------------------------------------------------

def test_same_seed_same_values_and_entries_in_their_ranges():
    a = rational_matrix(random.Random(7), (3, 2), None)
    assert a == rational_matrix(random.Random(7), (3, 2), None)
    assert all(abs(v.p) <= 99 and 1 <= v.q <= 99 for v in a)
    m = integer_matrix(random.Random(7), (3, 2), None, positive=True)
    assert set(m) <= {1, 2, 3}
    f = float_matrix(np.random.default_rng(7), (3, 2), None, positive=True)
    assert np.array_equal(f, float_matrix(np.random.default_rng(7), (3, 2), None, positive=True))
    assert np.all((0.5 <= f) & (f < 1.5))


def test_the_rules_are_the_same_math_on_sympy_and_numpy():
    m = [[1, 2], [4, -3]]
    assert np.array_equal(symmetrised(np.array(m, float)), np.array(symmetrised(sp.Matrix(m)), float))
    assert np.array_equal(gram_plus_identity(np.array(m, float), np.eye),
                          np.array(gram_plus_identity(sp.Matrix(m), sp.eye), float))
    assert np.array_equal(gram_plus_identity(np.array(m, float), np.eye, 2),
                          np.array(m) @ np.array(m).T / 2 + np.eye(2))
    assert mirrored(sp.Matrix(m)) == sp.Matrix([[1, 2], [2, -3]])


# -- finite differences -----------------------------------------------------------------------

def test_central_differences_of_a_known_function_match_its_derivative():
    # f(X) = sum(sin(X) * X) + (sum X)^2: df/dX_ij = cos(X_ij) X_ij + sin(X_ij) + 2 sum X
    x = np.random.default_rng(0).standard_normal((3, 4)) * 3

    def f(m):
        return float(np.sum(np.sin(m) * m) + np.sum(m) ** 2)

    exact = np.cos(x) * x + np.sin(x) + 2 * np.sum(x)
    assert relative_difference(central_differences(f, x), exact) < 1e-7


def test_central_differences_use_the_step_rule_and_leave_other_entries_nan():
    x = np.array([[2.0, -5.0]])
    steps = []

    def rule(v):
        steps.append(float(v))
        return relative_step(v)

    fd = central_differences(lambda m: float(m[0, 0] * m[0, 1]), x, rule, entries=[(0, 1)])
    assert steps == [-5.0]
    assert np.isnan(fd[0, 0]) and fd[0, 1] == pytest.approx(2.0, rel=1e-9)
    # a quadratic: central differences are exact up to rounding, whatever the step
    assert central_differences(lambda m: float(m[0, 0] ** 2), np.array([[3.0]]), lambda v: 0.5)[0, 0] == 6.0


def test_relative_step():
    assert relative_step(0.25) == 1e-6 and relative_step(-4.0) == 4e-6


# -- relative difference ----------------------------------------------------------------------

@pytest.mark.parametrize("k, g, expected", [
    ([[1.0, 2.0]], [[1.5, -3.0]], 5 / 3),           # max|K-G| = 5, max|G| = 3
    ([[1e-3, 0.0]], [[0.0, 0.0]], 1e-3),            # |G| below 1: the absolute floor
    ([[10.0]], [[10.0]], 0.0),
    ([[-200.0, 1.0]], [[-100.0, 1.0]], 1.0),
])
def test_relative_difference_on_known_arrays(k, g, expected):
    assert relative_difference(np.array(k), np.array(g)) == pytest.approx(expected, rel=1e-15)


def test_relative_difference_of_empty_arrays_is_zero():
    assert relative_difference(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0
