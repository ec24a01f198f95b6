"""Values drawn for the checks: random matrices that have a declared property.

A declared property (``symmetric``, ``spd``, ``invertible`` for square
matrices; ``positive``, ``onehot``, ``binary`` for data; ``scalar`` and none
impose nothing) is imposed on a random draw by one of a few rules, the same
math for every kind of value where the kind allows it:

================  ==============================  ==========================  =======================
property          exact rationals (exact check)   small integers              float64 (numeric check)
                                                  (counterexamples)
================  ==============================  ==========================  =======================
symmetric         (M + Mᵀ)/2                      upper triangle mirrored     (M + Mᵀ)/2
spd               M Mᵀ + I                        L Lᵀ + I, L lower-triang.   M Mᵀ/n + I
invertible        redraw M while det M = 0        redraw all while det = 0    M ± √n I
positive          positive dyadics k/2^20 > 0     integers in 1..3            uniform in [0.5, 1.5)
onehot            each row: one 1 at a uniformly random column, 0 elsewhere (:func:`zero_one`);
                  a column vector (declared with one dimension) is one-hot as a whole
binary            each entry 0 or 1, each with probability 1/2 (:func:`zero_one`)
================  ==============================  ==========================  =======================

The square-matrix rules are :func:`impose` (and the invertible redraws), the
positive one is each kind's positive range (also used for every symbol that
reaches a log, a sqrt or a logdet, :func:`positive_symbols`), and the data
rules are :func:`zero_one`, exact 0/1 values in every kind.  ``onehot`` and
``binary`` data range over finitely many values (:func:`zero_one_count` of
them, all listed by :func:`zero_one_all`): the exact check enumerates them or
samples a few, rather than treating them as a large random set.

The draws take their random numbers in a fixed order, so a seed gives the
same values every time.
"""
from __future__ import annotations

import random
from itertools import product
from typing import Callable, Iterator

import numpy as np
import sympy as sp

from ..core import registry
from ..core.dims import ONE
from ..core.expression import (
    Add, Apply, Broadcast, Call, Div, Hadamard, MatMul, Node, Num, Scale, Sym, Transpose,
)

# -- which symbols are drawn positive ------------------------------------------------------


def _wants_positive(n: Node) -> bool:
    if isinstance(n, Apply):
        entry = registry.elementwise(n.name)
        return entry is not None and entry.domain == "positive"
    if isinstance(n, Call):
        positive = registry.operation(n.name).positive
        return positive(n) if callable(positive) else positive
    return False


def _arguments(n: Node) -> tuple[Node, ...]:
    return (n.arg,) if isinstance(n, Apply) else n.args


# entries > 0 whatever the drawn values, when all of their (value) arguments are
_POSITIVE_IF_ALL = (Add, Hadamard, MatMul, Scale, Div, Broadcast, Transpose)
_POSITIVE_CALLS_IF_ALL = ("divide", "sum", "max", "min", "kron", "power", "blocksum", "tilesum", "norm")


def certainly_positive(node: Node) -> bool:
    """Every entry of ``node`` is > 0 at any drawn values: exp, sigmoid and
    softplus of anything, positive numbers, ones and sizes, and sums,
    products, quotients, powers and reductions of such (a softmax, the
    argument of log in a cross-entropy).  A conservative test: False where
    it cannot tell.

    >>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
    >>> d = parse_declarations("S:n,k X:n,k")
    >>> certainly_positive(parse_typed("exp(S) / exp(S).sum(axis=1, keepdims=True)", d))
    True
    >>> certainly_positive(parse_typed("X * X + 1", d)), certainly_positive(parse_typed("exp(S) - 1", d))
    (False, False)
    """
    if isinstance(node, Num):
        return node.value > 0
    if isinstance(node, Apply):
        entry = registry.elementwise(node.name)
        return entry is not None and entry.positive_values and (node.order == 0 or node.name == "exp")
    if isinstance(node, _POSITIVE_IF_ALL):
        return all(certainly_positive(c) for c in node.children())
    if isinstance(node, Call):
        if node.name in ("ones", "size"):
            return True
        if node.name == "maximum":
            return any(certainly_positive(a) for a in node.args)
        return node.name in _POSITIVE_CALLS_IF_ALL and all(certainly_positive(a) for a in node.args)
    return False


def symbols_in(node: Node) -> set[str]:
    """The names of the symbols in a tree."""
    return {n.name for n in node.walk() if isinstance(n, Sym)}


def _symbols_besides_sign(node: Node) -> set[str]:
    """The symbols of a tree, except those only inside a ``sign``: its value
    there is its argument's sign, which drawing them positive would pin to +1
    at every draw (the std of sign(X), 0 for X > 0, undefined under a sqrt
    at every positive point, is not 0 at most points)."""
    if isinstance(node, Sym):
        return {node.name}
    if isinstance(node, Apply) and node.name == "sign":
        return set()
    return set().union(*(_symbols_besides_sign(c) for c in node.children()))


def positive_symbols(*nodes: Node) -> set[str]:
    """The symbols that reach the argument of a function needing a positive
    one (an elementwise function of domain "positive", an operation marked
    ``positive``), unless that argument is positive whatever they are
    (:func:`certainly_positive`: the log of a softmax needs nothing): only
    these are drawn positive, so that a relu or a comparison elsewhere still
    sees both signs.

    >>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
    >>> d = parse_declarations("W:m,n x:n y:k")
    >>> sorted(positive_symbols(parse_typed("sum(tanh(W @ x)) + log(sum(exp(y)))", d)))
    []
    >>> sorted(positive_symbols(parse_typed("sum(relu(W @ x)) + sum(log(y))", d)))
    ['y']

    A symbol only inside a ``sign`` is not drawn positive (that would pin the sign):

    >>> sorted(positive_symbols(parse_typed("sqrt(sum(sign(x) * sign(x)) + sum(y * y))", d)))
    ['y']
    """
    out: set[str] = set()
    for node in nodes:
        for n in node.walk():
            if _wants_positive(n) and not all(certainly_positive(a) for a in _arguments(n)):
                out |= _symbols_besides_sign(n)
    return out


# -- data: positive, one-hot and binary symbols ---------------------------------------------

DISCRETE = ("onehot", "binary")     # data whose entries take finitely many values (0 or 1)
ONEHOT_COLUMN = "onehot column"     # the rule of a one-hot column vector: one 1 in all (see drawn_property)


def drawn_property(symbol) -> str | None:
    """The rule by which a declared symbol is drawn: its property, except
    that a one-hot column vector (declared with one dimension, or n,1) is
    one-hot as a whole (:data:`ONEHOT_COLUMN`), where a one-hot n x k matrix
    is one-hot row by row (even at a size where k = 1).

    >>> from symbolic_bp.language.shapes import parse_declarations
    >>> d = parse_declarations("Y:n,k:onehot y:n:onehot r:1,k:onehot S:n,n:spd")
    >>> [drawn_property(s) for s in d.symbols.values()]
    ['onehot', 'onehot column', 'onehot', 'spd']
    """
    if symbol.prop == "onehot" and symbol.shape[1] == ONE and symbol.shape[0] != ONE:
        return ONEHOT_COLUMN
    return symbol.prop


def is_discrete(prop: str | None) -> bool:
    """A property whose values are 0/1 data (one-hot, binary): no gradient
    with respect to it, and finitely many values (see :func:`zero_one_count`).

    >>> is_discrete("onehot"), is_discrete(ONEHOT_COLUMN), is_discrete("positive")
    (True, True, False)
    """
    return prop in DISCRETE or prop == ONEHOT_COLUMN


def draws_positive(prop: str | None, positive: bool) -> bool:
    """Whether a draw is positive: a domain wants it (``positive``, e.g. a
    log) or the symbol is declared ``positive``.

    >>> draws_positive("positive", False), draws_positive(None, False), draws_positive(None, True)
    (True, False, True)
    """
    return positive or prop == "positive"


def zero_one(prop: str, shape: tuple[int, int], pick: Callable[[int], int]) -> list[list[int]]:
    """The 0/1 entries of a one-hot or binary draw of ``shape``; ``pick(n)``
    is a uniformly random integer in ``range(n)`` (the caller's generator):

    * ``onehot``: each row has its 1 at column pick(cols) (so every row sums to 1);
    * :data:`ONEHOT_COLUMN`: one 1 in all, at position pick(rows * cols) in row-major order;
    * ``binary``: every entry is pick(2).

    >>> rng = random.Random(0)
    >>> zero_one("onehot", (3, 4), rng.randrange)
    [[0, 0, 0, 1], [0, 0, 0, 1], [1, 0, 0, 0]]
    >>> zero_one(ONEHOT_COLUMN, (3, 1), rng.randrange), zero_one("binary", (1, 4), rng.randrange)
    ([[0], [1], [0]], [[1, 1, 1, 1]])
    """
    rows, cols = shape
    if prop == "binary":
        return [[pick(2) for _ in range(cols)] for _ in range(rows)]
    if prop == ONEHOT_COLUMN:
        hot = pick(rows * cols)
        return [[int(i * cols + j == hot) for j in range(cols)] for i in range(rows)]
    if prop == "onehot":
        out = []
        for _ in range(rows):
            hot = pick(cols)
            out.append([int(j == hot) for j in range(cols)])
        return out
    raise ValueError(f"{prop!r} is not a 0/1 data property")


def zero_one_count(prop: str, shape: tuple[int, int]) -> int:
    """How many values a one-hot or binary matrix of ``shape`` can take: k^n
    one-hot n x k matrices (row by row), n·k one-hot-as-a-whole ones, 2^(n·k)
    binary ones.

    >>> zero_one_count("onehot", (4, 5)), zero_one_count(ONEHOT_COLUMN, (4, 1)), zero_one_count("binary", (2, 3))
    (625, 4, 64)
    """
    rows, cols = shape
    return {"onehot": cols ** rows, ONEHOT_COLUMN: rows * cols, "binary": 2 ** (rows * cols)}[prop]


def zero_one_all(prop: str, shape: tuple[int, int]) -> Iterator[list[list[int]]]:
    """Every value of a one-hot or binary matrix of ``shape``, by the rule of
    :func:`zero_one` fed every sequence of picks in turn (:func:`zero_one_count` of them).

    >>> list(zero_one_all("onehot", (2, 2)))
    [[[1, 0], [1, 0]], [[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, 1], [0, 1]]]
    """
    rows, cols = shape
    ranges = {"onehot": [cols] * rows, ONEHOT_COLUMN: [rows * cols], "binary": [2] * (rows * cols)}[prop]
    for picks in product(*(range(n) for n in ranges)):
        feed = iter(picks)
        yield zero_one(prop, shape, lambda n: next(feed))


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


def rational(rng: random.Random, bound: int = 99, positive: bool = False) -> sp.Rational:
    """A random rational p/q, -bound <= p <= bound (1 <= p when ``positive``),
    1 <= q <= bound (p drawn first).

    >>> rational(random.Random(0)), rational(random.Random(0), positive=True)
    (-1/98, 25/49)
    """
    return sp.Rational(rng.randint(1 if positive else -bound, bound), rng.randint(1, bound))


def rational_matrix(rng: random.Random, shape: tuple[int, int], prop: str | None) -> sp.Matrix:
    """Exact random rationals (see :func:`rational`), respecting symmetric /
    spd / invertible / positive; 0/1 entries for onehot / binary (:func:`zero_one`).

    >>> m = rational_matrix(random.Random(1), (3, 3), "spd")
    >>> m == m.T and m.is_positive_definite
    True
    >>> rational_matrix(random.Random(1), (2, 3), "onehot")
    Matrix([
    [1, 0, 0],
    [0, 0, 1]])
    """
    rows, cols = shape
    if is_discrete(prop):
        return sp.Matrix(zero_one(prop, shape, rng.randrange))
    positive = prop == "positive"
    while True:
        m = impose(sp.Matrix(rows, cols, lambda i, j: rational(rng, positive=positive)), prop, sp.eye)
        # invertible: a singular draw (det = 0, probability ~0) is drawn again
        if prop != "invertible" or not singular(m):
            return m


def integer_matrix(rng: random.Random, shape: tuple[int, int], prop: str | None,
                   positive: bool) -> sp.Matrix | None:
    """Small nonzero integers (in 1..3 when ``positive`` or declared
    positive), respecting symmetric and spd; 0/1 entries for onehot / binary
    (:func:`zero_one`); None for a singular draw of an invertible matrix (the
    caller draws all its values again).

    >>> m = integer_matrix(random.Random(2), (3, 3), "spd", positive=False)
    >>> m == m.T and m.is_positive_definite
    True
    >>> integer_matrix(random.Random(2), (1, 3), "positive", positive=False)
    Matrix([[1, 1, 1]])
    """
    rows, cols = shape
    if is_discrete(prop):
        return sp.Matrix(zero_one(prop, shape, rng.randrange))
    pool = [1, 2, 3] if draws_positive(prop, positive) else [1, 2, -1, 3, -2]
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
    """float64 standard normal entries (uniform in [0.5, 1.5) when
    ``positive`` or declared positive), respecting symmetric / spd /
    invertible; exact 0/1 entries for onehot / binary (:func:`zero_one`).

    >>> m = float_matrix(np.random.default_rng(0), (3, 3), "spd", positive=False)
    >>> bool(np.allclose(m, m.T) and np.all(np.linalg.eigvalsh(m) >= 1))
    True
    >>> float_matrix(np.random.default_rng(0), (2, 3), "onehot", positive=False)
    array([[0., 0., 1.],
           [0., 1., 0.]])
    """
    rows, cols = shape
    if is_discrete(prop):
        return np.array(zero_one(prop, shape, lambda n: int(rng.integers(n))), dtype=float)
    positive = draws_positive(prop, positive)
    m = rng.uniform(0.5, 1.5, shape) if positive else rng.standard_normal(shape)
    if prop == "invertible":
        # invertible: M + c I is singular only if -c is an eigenvalue of M
        # (probability 0 for a continuous draw); |c| = √n is the scale of M's
        # spectrum, and the numeric check redraws ill-conditioned draws
        return m + np.sqrt(rows) * np.eye(rows) * (1 if positive else rng.choice([-1, 1]))
    # spd scaled by 1/n: the entries of M Mᵀ/n stay O(1) at every size
    return impose(m, prop, np.eye, spd_scale=rows)
