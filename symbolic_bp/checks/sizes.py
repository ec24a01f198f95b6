"""Which sizes the checks use.

Exact checks run at two assignments in which all dimensions are distinct and
at least 2 (so a missing transpose cannot hide behind a square matrix); the
numeric check runs at a third assignment, disjoint from both where possible.

>>> exact_sizes(("m", "n"))
[{'m': 2, 'n': 3}, {'m': 3, 'n': 2}]
>>> numeric_sizes(("m", "n"))
{'m': 4, 'n': 5}

A claim may be defined at some sizes only (``log(det(X.T @ X))`` needs as many
rows as columns): the checks then move on to the next candidate assignment,
of the same kind, and say which ones they skipped.

>>> exact_candidates(("m", "n"))[:4]
[{'m': 2, 'n': 3}, {'m': 3, 'n': 2}, {'m': 3, 'n': 4}, {'m': 4, 'n': 3}]
>>> numeric_candidates(("m", "n"))
[{'m': 4, 'n': 5}, {'m': 5, 'n': 4}, {'m': 5, 'n': 6}]
"""
from __future__ import annotations

from itertools import permutations, product


def exact_sizes(dims: tuple[str, ...]) -> list[dict[str, int]]:
    if not dims:
        return [{}]
    values = list(range(2, 2 + len(dims)))
    first = dict(zip(dims, values))
    second = dict(zip(dims, reversed(values))) if len(dims) > 1 else {dims[0]: 3}
    return [first, second]


def numeric_sizes(dims: tuple[str, ...]) -> dict[str, int]:
    return {d: 4 + i for i, d in enumerate(dims)}


def _candidates(dims: tuple[str, ...], start: int, first: list[dict[str, int]], limit: int) -> list[dict[str, int]]:
    """``first``, then assignments of distinct values from ``start`` up, in
    every order (so that each dimension is once the largest), smallest first."""
    out = list(first)
    low = start
    while len(out) < limit and dims:
        values = range(low, low + len(dims))
        for perm in permutations(values):
            candidate = dict(zip(dims, perm))
            if candidate not in out and len(out) < limit:
                out.append(candidate)
        low += 1
    return out or [{}]


def exact_candidates(dims: tuple[str, ...], limit: int = 6) -> list[dict[str, int]]:
    """:func:`exact_sizes` first, then further assignments with all dimensions
    distinct and >= 2, for a claim undefined at the first ones."""
    return _candidates(dims, 2, exact_sizes(dims), limit)


def numeric_candidates(dims: tuple[str, ...], limit: int = 3) -> list[dict[str, int]]:
    """:func:`numeric_sizes` first, then the same values in other orders."""
    return _candidates(dims, 4, [numeric_sizes(dims)], limit) if dims else [{}]


def smallest_sizes(dims: tuple[str, ...], limit: int = 40) -> list[dict[str, int]]:
    """Assignments with every dimension in 1..3, smallest total first."""
    combos = sorted(product(range(1, 4), repeat=len(dims)), key=lambda c: (sum(c), max(c, default=0), c))
    return [dict(zip(dims, c)) for c in combos[:limit]]


def show_sizes(sizes: dict[str, int]) -> str:
    return ",".join(f"{k}={v}" for k, v in sizes.items()) or "fixed sizes"
