"""The size assignments of the checks (symbolic_bp.checks.sizes): distinct
dimensions, and one assignment where the dimensions share a factor, the same
for both checks."""
from math import gcd
from itertools import combinations

import pytest
from hypothesis import given, settings, strategies as st

from symbolic_bp import Claim, check
from symbolic_bp.checks.sizes import (exact_candidates, exact_plan, exact_sizes, numeric_candidates, numeric_plan,
                                      shared_candidates)

FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None)
DIMS = ("k", "m", "n", "p")


def _sharing(sizes: dict) -> bool:
    return all(gcd(a, b) > 1 for a, b in combinations(sizes.values(), 2))


@FAST
@given(st.integers(2, 4))
def test_every_shared_candidate_has_each_pair_of_dimensions_share_a_factor(count):
    dims = DIMS[:count]
    candidates = shared_candidates(dims)
    assert candidates[0] == {d: 2 for d in dims}                       # all equal first
    assert all(_sharing(c) for c in candidates)
    assert all(len(set(c.values())) == count for c in candidates[1:])  # then distinct, for a claim undefined at equal


@FAST
@given(st.integers(2, 4))
def test_the_exact_plan_keeps_the_distinct_assignments_first_then_a_shared_one(count):
    dims = DIMS[:count]
    candidates, wanted = exact_plan(dims)
    assert wanted == 3
    assert candidates[:2] == exact_sizes(dims)
    assert all(len(set(c.values())) == count for c in candidates[:2])
    assert candidates[2] == shared_candidates(dims)[0]
    assert candidates.index(shared_candidates(dims)[-1]) < candidates.index(exact_candidates(dims)[2])
    assert len(candidates) == len({tuple(c.items()) for c in candidates})


def test_the_numeric_plan_shares_the_exact_plans_shared_assignment():
    dims = ("m", "n")
    principal, shared = numeric_plan(dims)
    assert principal == numeric_candidates(dims)
    assert shared == shared_candidates(dims) and shared[0] == exact_plan(dims)[0][2]


@pytest.mark.parametrize("dims", [(), ("n",)])
def test_with_fewer_than_two_dimensions_nothing_is_shared(dims):
    assert shared_candidates(dims) == []
    assert exact_plan(dims) == (exact_candidates(dims), 2)
    assert numeric_plan(dims) == [numeric_candidates(dims)]


# -- claims that depend on the sizes sharing a factor ---------------------------------------

def test_a_claim_wrong_only_at_equal_sizes_is_refuted_by_both_checks():
    # (n - m)^2 = 1 at (2,3), (3,2) and (4,5): right there, wrong wherever m = n
    r = check(Claim("A:m,n", "sum(A)", "A", "ones(m, n) * (n - m) ** 2"))
    assert r.verdict == "refuted", r.error
    exact, numeric = (next(e for e in r.evidence if e.method == m) for m in ("exact", "numeric"))
    assert "(m=2,n=2)" in exact.detail and "(m=2,n=2)" in numeric.detail


def test_a_tilesum_claim_right_only_for_coprime_sizes_is_refuted():
    # kron(ones(1, k), X) written for kron(X, ones(1, k)): the same tiling exactly when gcd(k, n) = 1
    r = check(Claim("X:k,n v:1,k w:k", "np.sum(w * np.sum(kron(X, v), axis=1, keepdims=True))", "v",
                    "tilesum(w * ones(k, k*n) * kron(ones(1, k), X), k, n)"))
    assert r.verdict == "refuted", r.error


def test_a_true_claim_is_checked_at_the_shared_sizes_by_both():
    r = check(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "y @ x.T"))
    assert r.verdict == "verified"
    exact, numeric = (next(e for e in r.evidence if e.method == m) for m in ("exact", "numeric"))
    assert "(m=2,n=3) and (m=3,n=2) and (m=2,n=2)" in exact.detail
    assert numeric.detail.startswith("float64 random values at (m=4,n=5)") and "(m=2,n=2)" in numeric.detail


def test_a_claim_undefined_at_equal_sizes_moves_on_to_distinct_even_ones():
    r = check(Claim("A:m,n", "sum(A) / (n - m)", "A", "ones(m, n) / (n - m)"))
    assert r.verdict == "verified", r.error
    exact, numeric = (next(e for e in r.evidence if e.method == m) for m in ("exact", "numeric"))
    assert "(m=2,n=4)" in exact.detail and "skipped where undefined" in exact.detail
    assert "(m=2,n=4)" in numeric.detail and "no finite draw at (m=2,n=2)" in numeric.detail
