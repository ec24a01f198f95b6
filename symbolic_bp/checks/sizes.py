"""Which sizes the checks use.

Exact checks run at two assignments in which all dimensions are distinct and
at least 2 (so a missing transpose cannot hide behind a square matrix); the
numeric check runs at a third assignment, disjoint from both where possible.

>>> exact_sizes(("m", "n"))
[{'m': 2, 'n': 3}, {'m': 3, 'n': 2}]
>>> numeric_sizes(("m", "n"))
{'m': 4, 'n': 5}

Consecutive sizes are coprime, so these alone never show a claim that holds
only when the sizes share no factor -- index arithmetic of ``kron``,
``tilesum`` or ``blocksum`` that is right when gcd(k, n) = 1 -- or only when
they differ.  With two dimensions or more both checks therefore also run at
one *shared* assignment, the same for both so that what one sees there the
other can: every dimension equal to 2 (any two sizes then share every factor
and are equal), or, where the claim is undefined at equal sizes, distinct
even sizes (each pair sharing the factor 2).

>>> shared_candidates(("m", "n"))
[{'m': 2, 'n': 2}, {'m': 2, 'n': 4}, {'m': 4, 'n': 2}]

A claim may be defined at some sizes only (``log(det(X.T @ X))`` needs as many
rows as columns): the checks then move on to the next candidate assignment,
of the same kind, and say which ones they skipped.

>>> exact_candidates(("m", "n"))[:4]
[{'m': 2, 'n': 3}, {'m': 3, 'n': 2}, {'m': 3, 'n': 4}, {'m': 4, 'n': 3}]
>>> numeric_candidates(("m", "n"))
[{'m': 4, 'n': 5}, {'m': 5, 'n': 4}, {'m': 5, 'n': 6}]

What each check runs, as a plan: the exact check takes the first ``wanted``
defined assignments of its candidates (the two distinct ones, then the shared
ones, then the other distinct ones); the numeric check runs once per group of
candidates, at the first defined assignment of each.

>>> candidates, wanted = exact_plan(("m", "n"))
>>> candidates[:5], wanted
([{'m': 2, 'n': 3}, {'m': 3, 'n': 2}, {'m': 2, 'n': 2}, {'m': 2, 'n': 4}, {'m': 4, 'n': 2}], 3)
>>> numeric_plan(("n",))
[[{'n': 4}, {'n': 5}, {'n': 6}]]
"""
from __future__ import annotations

from itertools import permutations, product

SHARED = 2          # the size of every dimension in the shared assignment: the smallest that shares a factor


def exact_sizes(dims: tuple[str, ...]) -> list[dict[str, int]]:
    if not dims:
        return [{}]
    values = list(range(2, 2 + len(dims)))
    first = dict(zip(dims, values))
    second = dict(zip(dims, reversed(values))) if len(dims) > 1 else {dims[0]: 3}
    return [first, second]


def numeric_sizes(dims: tuple[str, ...]) -> dict[str, int]:
    return {d: 4 + i for i, d in enumerate(dims)}


def _candidates(dims: tuple[str, ...], start: int, first: list[dict[str, int]], limit: int,
                step: int = 1) -> list[dict[str, int]]:
    """``first``, then assignments of distinct values ``start``, ``start + step``, ...
    in every order (so that each dimension is once the largest), smallest first."""
    out = list(first)
    low = start
    while len(out) < limit and dims:
        values = range(low, low + step * len(dims), step)
        for perm in permutations(values):
            candidate = dict(zip(dims, perm))
            if candidate not in out and len(out) < limit:
                out.append(candidate)
        low += step
    return out or [{}]


def exact_candidates(dims: tuple[str, ...], limit: int = 6) -> list[dict[str, int]]:
    """:func:`exact_sizes` first, then further assignments with all dimensions
    distinct and >= 2, for a claim undefined at the first ones."""
    return _candidates(dims, 2, exact_sizes(dims), limit)


def numeric_candidates(dims: tuple[str, ...], limit: int = 3) -> list[dict[str, int]]:
    """:func:`numeric_sizes` first, then the same values in other orders."""
    return _candidates(dims, 4, [numeric_sizes(dims)], limit) if dims else [{}]


def shared_candidates(dims: tuple[str, ...], limit: int = 3) -> list[dict[str, int]]:
    """Assignments in which every two dimensions share a factor: all equal to
    :data:`SHARED` first, then distinct multiples of it (for a claim undefined
    at equal sizes); none for fewer than two dimensions (nothing to share:
    the distinct assignments already give a single dimension 2 and 3).

    >>> shared_candidates(("k", "m", "n"), limit=2)
    [{'k': 2, 'm': 2, 'n': 2}, {'k': 2, 'm': 4, 'n': 6}]
    >>> shared_candidates(("n",))
    []
    """
    if len(dims) < 2:
        return []
    return _candidates(dims, SHARED, [{d: SHARED for d in dims}], limit, step=SHARED)


def exact_plan(dims: tuple[str, ...]) -> tuple[list[dict[str, int]], int]:
    """(the candidate assignments of the exact check, how many it uses): the
    two of :func:`exact_sizes`, then one of :func:`shared_candidates` (with two
    dimensions or more), the further distinct ones standing in for those
    undefined."""
    distinct = exact_candidates(dims)
    shared = shared_candidates(dims)
    candidates = distinct[:2] + [s for s in shared if s not in distinct] + distinct[2:]
    return candidates, 2 + bool(shared)


def numeric_plan(dims: tuple[str, ...]) -> list[list[dict[str, int]]]:
    """The groups of candidate assignments of the numeric check, one run per
    group: :func:`numeric_candidates`, then (two dimensions or more)
    :func:`shared_candidates`."""
    shared = shared_candidates(dims)
    return [numeric_candidates(dims)] + ([shared] if shared else [])


def smallest_sizes(dims: tuple[str, ...], limit: int = 40) -> list[dict[str, int]]:
    """Assignments with every dimension in 1..3, smallest total first."""
    combos = sorted(product(range(1, 4), repeat=len(dims)), key=lambda c: (sum(c), max(c, default=0), c))
    return [dict(zip(dims, c)) for c in combos[:limit]]


def show_sizes(sizes: dict[str, int]) -> str:
    return ",".join(f"{k}={v}" for k, v in sizes.items()) or "fixed sizes"
