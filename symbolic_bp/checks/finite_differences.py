"""Finite differences: central differences of a scalar function of a matrix,
and the relative difference by which a value is compared with a truth.

Central differences, entry by entry::

    dC/dx_i ≈ (C(x + h e_i) - C(x - h e_i)) / 2h,    h = 1e-6 * max(1, |x_i|)

(truncation error O(h²), rounding error O(eps |C| / h); the step grows with
|x_i| so that x_i ± h stays representable to about 10 digits).

Relative difference of a value K from a truth G::

    max|K - G| / max(1, max|G|)

a relative error with an absolute floor of 1, so exact zeros compare sanely.
Used by the numeric check (:mod:`symbolic_bp.checks.numeric`), the diagnosis
and the hand-written network backprop (:mod:`symbolic_bp.networks.backprop`).
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

FD_STEP = 1e-6


def relative_step(value: float) -> float:
    """The step at an entry of value ``value``: 1e-6 * max(1, |value|).

    >>> relative_step(0.5), relative_step(-3.0)
    (1e-06, 3e-06)
    """
    return FD_STEP * max(1.0, abs(value))


def central_differences(f: Callable[[np.ndarray], float], x: np.ndarray,
                        step_rule: Callable[[float], float] = relative_step,
                        entries: Iterable[tuple] | None = None) -> np.ndarray:
    """(f(x + h e_i) - f(x - h e_i)) / 2h at every index i of ``x`` (or at
    the indices ``entries`` only: the others are NaN), h = ``step_rule(x_i)``.

    >>> x = np.array([[1.0, -2.0], [0.5, 3.0]])
    >>> fd = central_differences(lambda m: float(np.sum(m ** 3)), x)
    >>> bool(np.allclose(fd, 3 * x ** 2, rtol=1e-8))
    True
    >>> central_differences(lambda m: float(np.sum(m ** 2)), x, entries=[(0, 1)]).round(6)
    array([[nan, -4.],
           [nan, nan]])
    """
    out = np.full(x.shape, np.nan)
    for index in np.ndindex(x.shape) if entries is None else entries:
        h = step_rule(x[index])
        plus, minus = x.copy(), x.copy()
        plus[index] += h
        minus[index] -= h
        out[index] = (f(plus) - f(minus)) / (2 * h)
    return out


def relative_difference(k: np.ndarray, g: np.ndarray) -> float:
    """max|K - G| / max(1, max|G|); 0 for empty arrays.

    >>> relative_difference(np.array([[1.0, 2.0]]), np.array([[1.5, -3.0]]))    # 5 / 3
    1.6666666666666667
    >>> relative_difference(np.array([[1e-3]]), np.array([[0.0]]))              # the floor 1
    0.001
    """
    return float(np.max(np.abs(k - g), initial=0.0) / max(1.0, float(np.max(np.abs(g), initial=0.0))))
