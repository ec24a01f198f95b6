"""Which sizes the checks use.

Exact checks run at two assignments in which all dimensions are distinct and
at least 2 (so a missing transpose cannot hide behind a square matrix); the
numeric check runs at a third assignment, disjoint from both where possible.

>>> exact_sizes(("m", "n"))
[{'m': 2, 'n': 3}, {'m': 3, 'n': 2}]
>>> numeric_sizes(("m", "n"))
{'m': 4, 'n': 5}
"""
from __future__ import annotations

from itertools import product


def exact_sizes(dims: tuple[str, ...]) -> list[dict[str, int]]:
    if not dims:
        return [{}]
    values = list(range(2, 2 + len(dims)))
    first = dict(zip(dims, values))
    second = dict(zip(dims, reversed(values))) if len(dims) > 1 else {dims[0]: 3}
    return [first, second]


def numeric_sizes(dims: tuple[str, ...]) -> dict[str, int]:
    return {d: 4 + i for i, d in enumerate(dims)}


def smallest_sizes(dims: tuple[str, ...], limit: int = 40) -> list[dict[str, int]]:
    """Assignments with every dimension in 1..3, smallest total first."""
    combos = sorted(product(range(1, 4), repeat=len(dims)), key=lambda c: (sum(c), max(c, default=0), c))
    return [dict(zip(dims, c)) for c in combos[:limit]]


def show_sizes(sizes: dict[str, int]) -> str:
    return ",".join(f"{k}={v}" for k, v in sizes.items()) or "fixed sizes"
