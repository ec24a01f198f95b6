"""Regressions from a 10,000-program differential test (against autograd):
true claims that the checker left undecided or called invalid."""
from __future__ import annotations

import pytest

from symbolic_bp import Claim, check
from symbolic_bp.checks.claim import prepare
from symbolic_bp.checks.numeric import numeric_check_plan
from symbolic_bp.checks.sampling import positive_symbols


# -- seed 4760: std(sign(...)) under a sqrt -------------------------------------------------
# X drawn positive (it reaches the sqrt of the std) pinned sign(X) to +1 at every draw: the
# variance was 0 everywhere, and sqrt at 0 made the cost "undefined at every point" -- invalid

def test_a_symbol_only_inside_a_sign_is_not_drawn_positive():
    p = prepare(Claim("X:n,n:symmetric Y:n,n", "sum(X) * np.sign(X).std() + sqrt(sum(Y * Y))", "X", "0"))
    assert positive_symbols(p.cost) == {"Y"}


def test_the_std_of_a_sign_is_not_undefined_everywhere():
    r = check(Claim("X:n,n:symmetric", "sum(X) * np.sign(X).std()", "X", "ones(n, n) * np.sign(X).std()"))
    assert r.verdict == "verified", r.error


# -- seed 2220: defined only at n=2, where the exact check decides ---------------------------
# (u v^T + w z^T is of rank 2: singular at every n > 2, the numeric check's own sizes 4, 5, 6)

RANK_TWO = ("u:n v:n w:n z:n X:n,n", "sum(X * inv(np.outer(u, v) + np.outer(w, z)))", "X")


def test_the_numeric_check_falls_back_on_the_sizes_where_the_exact_check_decided():
    p = prepare(Claim(*RANK_TWO, "inv(np.outer(u, v) + np.outer(w, z))"))
    assert numeric_check_plan(p, [[{"n": 4}, {"n": 5}]], 0).status == "inconclusive"
    out = numeric_check_plan(p, [[{"n": 4}, {"n": 5}]], 0, fallback=[{"n": 2}, {"n": 4}])
    assert out.status == "agree" and out.sizes == {"n": 2} and out.fd_ok
    assert out.others[0].status == "inconclusive" and "(n=5)" in out.detail()


@pytest.mark.parametrize("claim, verdict", [
    ("inv(np.outer(u, v) + np.outer(w, z))", "verified"),
    ("inv(np.outer(u, v) + np.outer(w, z)).T", "refuted"),    # a transpose too many
])
def test_a_cost_defined_only_at_the_smallest_size_is_decided(claim, verdict):
    r = check(Claim(*RANK_TWO, claim))
    assert r.verdict == verdict, r.error
    numeric = next(e for e in r.evidence if e.method == "numeric")
    assert numeric.detail.startswith("float64 random values at (n=2)")


# -- seed 5580: float64 cancels at (m=4,n=5), agrees at (m=2,n=2) -----------------------------

DET_KRON = ("s0:scalar:positive X1:m,m:spd X2:n,n:spd s3:scalar s4:scalar",
            "sqrt(s0) * maximum(np.linalg.det(kron(X1, X2)), (s3 >= s4) * np.matrix_power(m*n, 0))", "s4")


def test_agreement_at_a_later_size_assignment_counts_and_the_lost_one_is_reported():
    r = check(Claim(*DET_KRON, "0"))
    assert r.verdict == "verified", r.error
    numeric = next(e for e in r.evidence if e.method == "numeric")
    assert "(m=2,n=2)" in numeric.detail and "(m=4,n=5), 0 draws" in numeric.detail


def test_a_difference_at_the_later_size_assignment_still_refutes():
    r = check(Claim(*DET_KRON, "sqrt(s0)"))
    assert r.verdict == "refuted", r.error
