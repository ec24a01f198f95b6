"""Values drawn for the checks: random matrices that have a declared property.

A declared property (``symmetric``, ``spd``, ``invertible``; ``scalar`` and
none impose nothing) is imposed on a random draw by one of a few rules, the
same math for every kind of value where the kind allows it:

================  ==============================  ==========================  =======================
property          exact rationals (exact check)   small integers              float64 (numeric check)
                                                  (counterexamples)
================  ==============================  ==========================  =======================
symmetric         (M + Mᵀ)/2                      upper triangle mirrored     (M + Mᵀ)/2
spd               M Mᵀ + I                        L Lᵀ + I, L lower-triang.   M Mᵀ/n + I
invertible        redraw M while det M = 0        redraw all while det = 0    M ± √n I
================  ==============================  ==========================  =======================

The draws take their random numbers in a fixed order, so a seed gives the
same values every time.
"""
from __future__ import annotations

import random
from typing import Callable

import numpy as np
import sympy as sp

from ..core import registry
from ..core.expression import Apply, Call, Node, Sym

# -- which symbols are drawn positive ------------------------------------------------------


def _wants_positive(n: Node) -> bool:
    if isinstance(n, Apply):
        entry = registry.elementwise(n.name)
        return entry is not None and entry.domain == "positive"
    return isinstance(n, Call) and registry.operation(n.name).positive


def needs_positive(*nodes: Node) -> bool:
    """A function whose registry entry wants positive arguments (log, sqrt,
    logdet) appears (the counterexample search draws positive integers then)."""
    return any(_wants_positive(n) for node in nodes for n in node.walk())


def symbols_in(node: Node) -> set[str]:
    """The names of the symbols in a tree."""
    return {n.name for n in node.walk() if isinstance(n, Sym)}


def positive_symbols(*nodes: Node) -> set[str]:
    """The symbols that reach the argument of a function needing a positive
    one (an elementwise function of domain "positive", an operation marked
    ``positive``): only these are drawn positive.

    >>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
    >>> d = parse_declarations("W:m,n x:n y:k")
    >>> sorted(positive_symbols(parse_typed("sum(tanh(W @ x)) + log(sum(exp(y)))", d)))
    ['y']
    """
    out: set[str] = set()
    for node in nodes:
        for n in node.walk():
            if _wants_positive(n):
                out |= symbols_in(n)
    return out



# -- the property rules --------------------------------------------------------------------


def symmetrised(m):
    """(M + Mᵀ)/2, which equals its own transpose (SymPy or NumPy).

    >>> symmetrised(np.array([[1.0, 2.0], [4.0, 3.0]]))
    array([[1., 3.],
           [3., 3.]])
    """
    return (m + m.T) / 2


def mirrored(m: sp.Matrix) -> sp.Matrix:
    """The upper triangle of M reflected onto the lower one: symmetric, and
    integer when M is.

    >>> mirrored(sp.Matrix([[1, 2], [4, 3]]))
    Matrix([
    [1, 2],
    [2, 3]])
    """
    return sp.Matrix(m.rows, m.cols, lambda i, j: m[min(i, j), max(i, j)])


def gram_plus_identity(g, eye: Callable[[int], object], scale: int = 1):
    """G Gᵀ/scale + I: G Gᵀ is positive semidefinite (xᵀ G Gᵀ x = |Gᵀ x|²), so
    every eigenvalue is ≥ 1 -- symmetric positive definite.  ``eye`` is
    ``sp.eye`` or ``np.eye``.

    >>> gram_plus_identity(sp.Matrix([[1, 0], [2, 1]]), sp.eye)
    Matrix([
    [2, 2],
    [2, 6]])
    """
    gram = g @ g.T
    return (gram / scale if scale != 1 else gram) + eye(g.shape[0])


def impose(m, prop: str | None, eye: Callable[[int], object], spd_scale: int = 1):
    """``m`` made symmetric or spd by the rules shared by exact and float
    draws; any other property is left to the draw (see the table above).

    >>> impose(sp.Matrix([[1, 2], [0, 1]]), "symmetric", sp.eye)
    Matrix([
    [1, 1],
    [1, 1]])
    """
    if prop == "symmetric":
        return symmetrised(m)
    if prop == "spd":
        return gram_plus_identity(m, eye, spd_scale)
    return m


def singular(m: sp.Matrix) -> bool:
    """det M = 0, decided exactly (rational or integer entries)."""
    return m.det() == 0


# -- the draws, one per kind of value ------------------------------------------------------


def rational(rng: random.Random, bound: int = 99) -> sp.Rational:
    """A random rational p/q, -bound <= p <= bound, 1 <= q <= bound (p drawn first).

    >>> rational(random.Random(0))
    -1/98
    """
    return sp.Rational(rng.randint(-bound, bound), rng.randint(1, bound))


def rational_matrix(rng: random.Random, shape: tuple[int, int], prop: str | None) -> sp.Matrix:
    """Exact random rationals (see :func:`rational`), respecting symmetric / spd / invertible.

    >>> m = rational_matrix(random.Random(1), (3, 3), "spd")
    >>> m == m.T and m.is_positive_definite
    True
    """
    rows, cols = shape
    while True:
        m = impose(sp.Matrix(rows, cols, lambda i, j: rational(rng)), prop, sp.eye)
        # invertible: a singular draw (det = 0, probability ~0) is drawn again
        if prop != "invertible" or not singular(m):
            return m


def integer_matrix(rng: random.Random, shape: tuple[int, int], prop: str | None,
                   positive: bool) -> sp.Matrix | None:
    """Small nonzero integers (in 1..3 when ``positive``), respecting symmetric
    and spd; None for a singular draw of an invertible matrix (the caller draws
    all its values again).

    >>> m = integer_matrix(random.Random(2), (3, 3), "spd", positive=False)
    >>> m == m.T and m.is_positive_definite
    True
    """
    rows, cols = shape
    pool = [1, 2, 3] if positive else [1, 2, -1, 3, -2]
    m = sp.Matrix(rows, cols, lambda i, j: rng.choice(pool))
    if prop == "symmetric":
        return mirrored(m)              # (M + Mᵀ)/2 would leave the integers
    if prop == "spd":
        # a fresh lower-triangular L of small integers (M is drawn all the same)
        low = sp.Matrix(rows, rows, lambda i, j: rng.choice([0, 1, -1, 2]) if j <= i else 0)
        return gram_plus_identity(low, sp.eye)
    if prop == "invertible" and singular(m):
        return None
    return m


def float_matrix(rng: np.random.Generator, shape: tuple[int, int], prop: str | None,
                 positive: bool) -> np.ndarray:
    """float64 standard normal entries (uniform in [0.5, 1.5) when ``positive``),
    respecting symmetric / spd / invertible.

    >>> m = float_matrix(np.random.default_rng(0), (3, 3), "spd", positive=False)
    >>> bool(np.allclose(m, m.T) and np.all(np.linalg.eigvalsh(m) >= 1))
    True
    """
    rows, cols = shape
    m = rng.uniform(0.5, 1.5, shape) if positive else rng.standard_normal(shape)
    if prop == "invertible":
        # invertible: M + c I is singular only if -c is an eigenvalue of M
        # (probability 0 for a continuous draw); |c| = √n is the scale of M's
        # spectrum, and the numeric check redraws ill-conditioned draws
        return m + np.sqrt(rows) * np.eye(rows) * (1 if positive else rng.choice([-1, 1]))
    # spd scaled by 1/n: the entries of M Mᵀ/n stay O(1) at every size
    return impose(m, prop, np.eye, spd_scale=rows)
