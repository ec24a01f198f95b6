"""The pieces of a piecewise cost or claim: points on every side of its kinks and ties.

Where the cost or the claim has a kink or a tie (relu, abs, sign; a
comparison, ``maximum``, ``minimum``, ``max`` along an axis:
:mod:`symbolic_bp.checks.kinks`), the space of drawn values falls into
*pieces*: the sets on which every such node is on one given side -- the
sign of relu's argument, which argument of a comparison or of ``maximum`` is
the larger, which entries of a line are its ``max``.  On one piece the claim
and the true gradient are each one smooth function, so a claim that differs
somewhere on a piece differs almost everywhere there; but it may be right on
some pieces and wrong on others (``-2 s > s`` written for ``-2 s > s + t``
is wrong only where t, not s, decides the sign), and a piece that no random
draw falls in is never seen.  So the numeric check also takes one point in
each piece that a few paths through the space cross:

* :func:`sides`: at a point, the side of every entry of every such node of
  the trees, one vector (the nodes in evaluation order, so that the vectors
  of two points line up entry by entry);
* :func:`path`: the points a + τ (b − a) between two random draws a and b,
  extended to τ in :data:`SPAN` for the symbols whose declared property
  survives it (none, scalar, symmetric), held on the segment (τ clipped to
  [0, 1]) for those that only a convex combination keeps (positive, spd,
  invertible), 0/1 data fixed at a;
* :func:`pieces`: the sides at :data:`LINE_POINTS` points along the path;
  where two neighbours differ in more than one entry a narrow piece may lie
  between them, so their midpoint is added (the widest intervals first, at
  most :data:`DEPTH` halvings deep, within a budget of evaluations); then one
  point per run of equal sides, the middle of the run.

Along a path every boundary it crosses is crossed from one side to the other,
so the points taken lie on both sides of it.
"""
from __future__ import annotations

from collections import deque
from typing import Callable

import numpy as np

from ..calculus.evaluate import Evaluator, NumericBackend
from ..core import registry
from ..core.expression import Node
from .sampling import drawn_property, is_discrete

SPAN = (-1.0, 2.0)      # τ along a path: the segment between the two draws, and as far again beyond each end
LINE_POINTS = 9         # evenly spaced points of a path at which the sides are evaluated first
DEPTH = 6               # at most this many halvings of an interval between two points of different sides
AFFINE = (None, "scalar", "symmetric")   # drawn properties that every affine combination keeps
FAILURES = (ValueError, ZeroDivisionError, ArithmeticError, np.linalg.LinAlgError)


# -- the side of each kink ------------------------------------------------------------------

def _pair(op, args, params) -> np.ndarray:
    """A tie of two arguments (a comparison, maximum, minimum): which one is larger, entry by entry."""
    a, b = args
    return np.sign(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))


def _extreme(op, args, params) -> np.ndarray | None:
    """A tie within a line (max, min along an axis): which entries of each line are chosen,
    the extreme taken with ``keepdims`` so that it lines up with its argument."""
    names = list(op.params) + [k.name for k in op.keywords]
    if "keepdims" not in names:
        return None
    params = list(params)
    params[names.index("keepdims")] = True
    (x,) = args
    return (x == op.numeric(x, *params)).astype(float)


# an operation with a ``kink`` rule, by its number of value arguments
_SIDE_RULES: dict[int, Callable] = {2: _pair, 1: _extreme}


class _Sides(NumericBackend):
    """The float64 backend, recording the side of every non-smooth application:
    the sign of the argument of relu, abs, sign (their kink is at 0), the rule of
    :data:`_SIDE_RULES` for an operation with a ``kink``."""

    def __init__(self):
        self.records: list[np.ndarray] = []

    def apply(self, name, order, m, seed):
        entry = registry.elementwise(name)
        if entry is not None and not entry.smooth:
            self.records.append(np.sign(np.asarray(m, dtype=float)))
        return super().apply(name, order, m, seed)

    def call(self, op, args, params):
        rule = _SIDE_RULES.get(op.arity) if getattr(op, "kink", None) is not None else None
        side = rule(op, args, params) if rule is not None else None
        if side is not None:
            self.records.append(side)
        return super().call(op, args, params)


def sides(trees: tuple[Node, ...], env: dict, sizes: dict, seed: int = 0) -> np.ndarray | None:
    """The side of every entry of every kink or tie of ``trees`` at ``env``
    (-1, 0, 1; 2 where undefined), one vector; None where a tree cannot be
    evaluated there.

    >>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
    >>> d = parse_declarations("s:scalar t:scalar")
    >>> tree = parse_typed("minimum(-2 * s, s + t) + relu(s)", d)
    >>> sides((tree,), {"s": np.array([[1.0]]), "t": np.array([[-5.0]])}, {})     # -2 s > s + t, s > 0
    array([1, 1], dtype=int8)
    >>> sides((tree,), {"s": np.array([[1.0]]), "t": np.array([[0.0]])}, {})
    array([-1,  1], dtype=int8)
    """
    backend = _Sides()
    try:
        with np.errstate(all="ignore"):
            for tree in trees:
                Evaluator(backend, sizes, seed)(tree, env)
    except FAILURES:
        return None
    if not backend.records:
        return np.zeros(0, dtype=np.int8)
    flat = np.concatenate([np.asarray(r, dtype=float).ravel() for r in backend.records])
    return np.nan_to_num(flat, nan=2.0).astype(np.int8)


# -- paths and the pieces they cross --------------------------------------------------------

def moves(decls, positive: set[str]) -> dict[str, str]:
    """How each declared symbol moves along a path: ``"line"`` where any
    affine combination keeps its drawn property (:data:`AFFINE`),
    ``"segment"`` where only a convex one does (positive -- declared, or
    drawn so for a log --, spd, invertible), ``"fixed"`` for 0/1 data."""
    out = {}
    for name, sym in decls.symbols.items():
        prop = drawn_property(sym)
        if is_discrete(prop):
            out[name] = "fixed"
        elif prop in AFFINE and name not in positive:
            out[name] = "line"
        else:
            out[name] = "segment"
    return out


def path(a: dict, b: dict, how: dict[str, str]) -> Callable[[float], dict]:
    """The point at τ of the path from ``a`` (τ = 0) to ``b`` (τ = 1), each
    symbol moving as ``how`` says (:func:`moves`).

    >>> at = path({"x": np.array([[0.0]]), "p": np.array([[1.0]])}, {"x": np.array([[1.0]]), "p": np.array([[2.0]])},
    ...           {"x": "line", "p": "segment"})
    >>> float(at(2.0)["x"][0, 0]), float(at(2.0)["p"][0, 0])
    (2.0, 2.0)
    """
    def at(tau: float) -> dict:
        out = {}
        for name, start in a.items():
            kind = how.get(name, "fixed")
            if kind == "fixed":
                out[name] = start
                continue
            t = tau if kind == "line" else min(1.0, max(0.0, tau))
            out[name] = start + t * (b[name] - start)
        return out
    return at


def _apart(u: np.ndarray | None, v: np.ndarray | None) -> int:
    """In how many entries two side vectors differ (many when either is unknown)."""
    if u is None or v is None or u.shape != v.shape:
        return 2
    return int(np.count_nonzero(u != v))


def pieces(at: Callable[[float], dict], sides_at: Callable[[dict], np.ndarray | None],
           budget: int) -> tuple[list[tuple[bytes, dict]], int]:
    """(one (sides, point) per run of equal sides along the path ``at``, in
    order; the evaluations of ``sides_at`` used: :data:`LINE_POINTS`, then
    halvings while fewer than ``budget`` were).

    >>> at = lambda tau: {"s": np.array([[tau]])}
    >>> found, used = pieces(at, lambda env: np.sign(env["s"] - [[0.55], [0.58]]).ravel().astype(np.int8), 50)
    >>> [np.frombuffer(key, dtype=np.int8).tolist() for key, _ in found]     # s < 0.55, between, s > 0.58
    [[-1, -1], [1, -1], [1, 1]]
    >>> bool(0.55 < found[1][1]["s"][0, 0] < 0.58), used <= 50
    (True, True)
    """
    samples = {float(t): sides_at(at(float(t))) for t in np.linspace(*SPAN, LINE_POINTS)}
    used = len(samples)
    taus = sorted(samples)
    queue = deque((left, right, 0) for left, right in zip(taus, taus[1:]))
    while queue and used < budget:
        left, right, depth = queue.popleft()
        if depth >= DEPTH or _apart(samples[left], samples[right]) <= 1:
            continue          # at most one entry changes side: no piece can lie between (or deep enough)
        mid = (left + right) / 2
        samples[mid] = sides_at(at(mid))
        used += 1
        queue += [(left, mid, depth + 1), (mid, right, depth + 1)]
    found: list[tuple[bytes, dict]] = []
    run: list[float] = []
    for tau in sorted(samples) + [None]:
        if run and (tau is None or _apart(samples[run[0]], samples[tau]) > 0):
            if samples[run[0]] is not None:
                found.append((samples[run[0]].tobytes(), at((run[0] + run[-1]) / 2)))
            run = []
        if tau is not None:
            run.append(tau)
    return found, used
