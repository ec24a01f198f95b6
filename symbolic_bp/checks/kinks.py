"""Kinks and ties: the points where a cost or a claim is not differentiable.

relu, abs and sign (registry entries with ``Elementwise.smooth`` False) have
their kink at argument 0, their derivatives a jump there; an operation with a
``kink`` rule (comparisons, ``maximum`` / ``minimum``, ``max`` / ``min``
along an axis) says how far its arguments are from a tie.  At such a point
the derivative is a convention (relu'(0) = 0), and finite differences
straddle the jump, so a claim is checked only where it is differentiable:

* the numeric check redraws a point within :data:`symbolic_bp.checks.numeric.KINK_MARGIN`
  of a kink (a thousand finite-difference steps);
* the exact check and the counterexample search redraw a point that lies on
  a kink (distance below :data:`ON_KINK`, evaluated in float64 at the
  rational point);
* a verified claim with a kink holds almost everywhere, and says so
  (:func:`almost_everywhere`).

The distance of a point from the kinks is the smallest, over the non-smooth
nodes of the tree, of min |u| over the entries u of a non-smooth elementwise
function's argument, and of ``op.kink(*args, *params)`` for an operation.  A
node whose arguments hold no drawn (continuous) symbol -- only constants and
0/1 data -- is constant in every direction that is differentiated or
perturbed, so it is not a kink there (``Y > 0`` with Y one-hot).
"""
from __future__ import annotations

import math

import numpy as np

from ..calculus.evaluate import Evaluator, NumericBackend
from ..core import registry
from ..core.expression import Apply, Call, Node
from .sampling import symbols_in

ON_KINK = 1e-9      # the exact check and the counterexample search: a float64 distance below this is on the kink


def _kinked_apply(node: Node) -> bool:
    if not isinstance(node, Apply):
        return False
    entry = registry.elementwise(node.name)
    return entry is not None and not entry.smooth


def _kinked_call(node: Node) -> bool:
    if not isinstance(node, Call):
        return False
    op = registry.operation(node.name)
    return op is not None and getattr(op, "kink", None) is not None


def nonsmooth(node: Node) -> bool:
    """A node that is not differentiable everywhere: a non-smooth elementwise
    function (relu, abs, sign, any derivative order) or an operation with a
    ``kink`` rule.

    >>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
    >>> d = parse_declarations("x:n")
    >>> [nonsmooth(n) for n in parse_typed("sum(relu(x))", d).walk() if n.__class__.__name__ == "Apply"]
    [True]
    """
    return _kinked_apply(node) or _kinked_call(node)


def kink_names(*trees: Node) -> tuple[list[str], list[str]]:
    """(the non-smooth elementwise functions, the operations with ties) in the
    trees, each sorted.

    >>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
    >>> d = parse_declarations("A:m,n x:n y:m")
    >>> kink_names(parse_typed("y.T @ relu(A @ x) + sum(abs(x))", d), parse_typed("relu'(A @ x) @ x.T", d))
    (['abs', 'relu'], [])
    """
    functions = {n.name for tree in trees for n in tree.walk() if _kinked_apply(n)}
    operations = {n.name for tree in trees for n in tree.walk() if _kinked_call(n)}
    return sorted(functions), sorted(operations)


def almost_everywhere(*trees: Node) -> str | None:
    """What a verified claim with kinks says about where it holds; None for smooth trees.

    >>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
    >>> d = parse_declarations("x:n")
    >>> almost_everywhere(parse_typed("sum(relu(x))", d))
    'holds almost everywhere (away from the kinks of relu): both checks drew their points away from them'
    >>> almost_everywhere(parse_typed("sum(exp(x))", d)) is None
    True
    """
    functions, operations = kink_names(*trees)
    if not functions and not operations:
        return None
    where = " and ".join(part for part in (f"the kinks of {'/'.join(functions)}" * bool(functions),
                                            f"the ties of {'/'.join(operations)}" * bool(operations)) if part)
    return f"holds almost everywhere (away from {where}): both checks drew their points away from them"


PERTURBATION = 2.0 ** -10     # relative size of the perturbation that tells structural zeros from kinks
NUDGE = 2.0 ** -30            # ... and its absolute part, so that a drawn 0 moves too


class _Watching(NumericBackend):
    """The float64 backend, reporting every non-smooth application to its evaluator."""

    def __init__(self, watcher: "_KinkEvaluator"):
        self.watcher = watcher

    def apply(self, name, order, m, seed):
        self.watcher.seen(lambda: np.abs(np.asarray(m, dtype=float)))
        return super().apply(name, order, m, seed)

    def call(self, op, args, params):
        if getattr(op, "kink", None) is not None:
            self.watcher.seen(lambda: op.kink(*args, *params))
        return super().call(op, args, params)


class _KinkEvaluator(Evaluator):
    """Evaluates a tree in float64, recording, in evaluation order, the
    distances from a kink (an array of |u| for an elementwise function, the
    ``kink`` value of an operation) of the non-smooth nodes whose arguments
    hold a symbol of ``drawn``.  The node being applied is the top of
    ``stack`` when the backend reports it (its arguments, evaluated first,
    have pushed and popped theirs)."""

    def __init__(self, sizes: dict, seed: int, drawn: set[str]):
        super().__init__(_Watching(self), sizes, seed)
        self.drawn, self.stack, self.records = drawn, [], []
        self._counts: dict[int, bool] = {}

    def _counted(self, node: Node) -> bool:
        key = id(node)
        if key not in self._counts:
            self._counts[key] = nonsmooth(node) and bool(symbols_in(node) & self.drawn)
        return self._counts[key]

    def seen(self, distance) -> None:
        if self.stack and self._counted(self.stack[-1]):
            d = distance()
            self.records.append(None if d is None else np.asarray(d, dtype=float))

    def eval_Apply(self, node):
        self.stack.append(node)
        try:
            return super().eval_Apply(node)
        finally:
            self.stack.pop()

    def eval_Call(self, node):
        self.stack.append(node)
        try:
            return super().eval_Call(node)
        finally:
            self.stack.pop()


def _records(tree: Node, env: dict, sizes: dict, drawn: set[str], seed: int) -> list:
    evaluator = _KinkEvaluator(sizes, seed, drawn)
    with np.errstate(all="ignore"):
        evaluator(tree, env)
    return evaluator.records


def perturbed(env: dict, drawn: set[str], seed: int = 0, free: set[str] | frozenset = frozenset()) -> dict:
    """``env`` with every symbol of ``drawn`` moved to X ⊙ (1 + ε H) + ε' G
    (ε = :data:`PERTURBATION`, ε' = :data:`NUDGE`, H and G random in [-1, 1),
    symmetric for a square matrix): symmetric, spd, invertible and positive
    values keep their property (every drawn positive value is far above ε');
    the other symbols (0/1 data) are left as they are.  The symbols of
    ``free`` (the variable of an unstructured gradient, differentiated entry
    by entry) move every entry independently, H and G not symmetrized: a
    symmetric S leaves its symmetry, as its partial derivatives do.

    >>> x = np.array([[1.0, 2.0], [2.0, 0.0]])
    >>> y = perturbed({"x": x}, {"x"})["x"]
    >>> bool(np.array_equal(y, y.T) and y[1, 1] != 0 and np.all(np.abs(y - x) <= 1e-3 * np.abs(x) + 1e-9))
    True
    >>> z = perturbed({"x": x}, {"x"}, free={"x"})["x"]
    >>> bool(z[0, 1] != z[1, 0])
    True
    """
    rng = np.random.default_rng(seed)
    out = dict(env)
    for name in sorted(drawn):
        value = np.asarray(env[name], dtype=float)
        h, g = rng.uniform(-1.0, 1.0, value.shape), rng.uniform(-1.0, 1.0, value.shape)
        if value.ndim == 2 and value.shape[0] == value.shape[1] and name not in free:
            h, g = (h + h.T) / 2, (g + g.T) / 2
        out[name] = value * (1 + PERTURBATION * h) + NUDGE * g
    return out


def kink_distance(tree: Node, env: dict, sizes: dict, constant: set[str] | frozenset = frozenset(),
                  seed: int = 0, free: set[str] | frozenset = frozenset()) -> float:
    """The distance of the point ``env`` (float64 arrays) from the nearest kink
    or tie of ``tree``: the smallest min |u| over the arguments u of its
    non-smooth elementwise functions and ``op.kink(*args, *params)`` over its
    operations with ties, evaluated with
    ``Evaluator(NumericBackend(), sizes)``; inf when the tree is smooth.

    Not kinks: the nodes whose arguments hold only symbols of ``constant``
    (the 0/1 data) and constants; and a *structural* zero, an entry (or an
    operation's kink value) that is exactly 0 both at the point and at the
    point :func:`perturbed` -- the argument is then constant 0 near the
    point (``abs(y * w)`` where a one-hot y is 0, ``relu(Y @ w)`` at a zero
    row of Y), differentiable.  "Near" is along the directions that are
    drawn or differentiated: a structured symbol (symmetric ...) moves within
    its structure, but a symbol of ``free`` -- the variable, when ``tree`` is
    the cost: its gradient is unstructured, one partial derivative per entry
    -- moves entry by entry, so the tie of S_ij and S_ji of a symmetric S in
    ``min(S)`` is a kink of the cost's gradient with respect to S (and no
    kink of a claim, evaluated at symmetric points only).  NaN entries are
    ignored; evaluation errors (a zero divisor) propagate.

    >>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
    >>> d = parse_declarations("A:m,n x:n y:n")
    >>> env = {"A": np.array([[1.0, -2.0], [0.5, 0.25]]), "x": np.array([[1.0], [0.75]]),
    ...        "y": np.array([[0.0], [1.0]])}
    >>> kink_distance(parse_typed("sum(relu(A @ x))", d), env, {"m": 2, "n": 2})      # A @ x = (-0.5, 0.6875)
    0.5
    >>> kink_distance(parse_typed("sum(exp(A @ x))", d), env, {"m": 2, "n": 2})
    inf
    >>> kink_distance(parse_typed("sum(abs(y * x)) + sum(abs(y))", d), env, {"m": 2, "n": 2}, constant={"y"})
    0.75
    """
    if not any(nonsmooth(n) for n in tree.walk()):
        return math.inf
    drawn = set(env) - set(constant)
    records = _records(tree, env, sizes, drawn, seed)
    if any(r is not None and np.any(r == 0) for r in records):
        try:
            again = _records(tree, perturbed(env, drawn, seed, free), sizes, drawn, seed)
        except (ValueError, ZeroDivisionError, ArithmeticError, np.linalg.LinAlgError):
            again = []
        if len(again) == len(records):
            # structural zeros, 0 at both points, are not kinks
            records = [r if r is None or a is None or r.shape != a.shape else np.where((r == 0) & (a == 0), np.inf, r)
                       for r, a in zip(records, again)]
    distance = math.inf
    for r in records:
        if r is not None and r.size and not np.all(np.isnan(r)):
            distance = min(distance, float(np.nanmin(r)))
    return distance
