"""How much float64 rounding a value can carry: a running error bound.

The numeric check trusts a draw only where float64 can resolve its
tolerance.  The rounding error of a computed value is bounded to first
order by propagating, operation by operation, an absolute error bound
``e(v)`` next to every intermediate value ``v`` (Wilkinson's running error
analysis; Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
§3.3), with u = 2^-53 the unit roundoff and ``|.|`` entrywise:

=====================  ==================================================
operation              bound of its result
=====================  ==================================================
a ± b                  e(a) + e(b) + u |a ± b|
a * b, s * A           |a| e(b) + e(a) |b| + u |a b|
A @ B (inner size n)   |A| e(B) + e(A) |B| + n u |A| |B|
a / b                  (e(a) + |a/b| e(b)) / |b| + 2u |a/b|
f(x)                   |f'(x)| e(x) + 4u (|f(x)| + |x f'(x)|)
sum of n entries       sum of e + n u sum of |entries|
max, maximum           the max of e (a largest entry moves at most that far)
inv, det, logdet       first-order perturbation, plus n u cond(A) of the value
=====================  ==================================================

A sum of terms much larger than the result (``2*x + 1e10 - 1e10``) keeps
the rounding of its terms, so the bound is large; products and quotients
carry relative errors, so ``exp(z) / sum(exp(z))`` stays within a few u of
its value however large exp(z) is (a softmax of large logits is accurate;
only a sum that cancels is not).

>>> import numpy as np
>>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
>>> d = parse_declarations("x:n")
>>> env = {"x": np.array([[0.5], [1.5]])}
>>> bound = lambda text: float(np.max(rounding_bound(parse_typed(text, d), env, {"n": 2})[1]))
>>> bound("2 * x + 10000000000 - 10000000000") > 1e-7
True
>>> bound("exp(30 * x) / sum(exp(30 * x))") < 1e-13
True
"""
from __future__ import annotations

import numpy as np

from ..calculus.evaluate import Evaluator, NumericBackend
from ..core import elementwise, registry
from ..core.dims import Dim
from ..core.expression import Node

UNIT_ROUNDOFF = 2.0 ** -53
APPLY_ULPS = 4          # an elementwise function: a few roundings of its value and of its argument's use
OPAQUE_TERMS = 2        # an opaque sigma's family member c0 + c1 t + c2 t^2 + c3 sin(...): |terms| <= 2 + |t| + t^2
GENERIC_OPERATIONS = 64  # an operation without a rule of its own: this many roundings of its largest value

U = UNIT_ROUNDOFF


def rounding_bound(node: Node, env: dict, sizes: dict, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(the float64 value of ``node`` at ``env``, an entrywise first-order
    bound on its rounding error); the bound is inf where it cannot be had."""
    return RoundingBound(sizes, seed)(node, env)


class RoundingBound(Evaluator):
    """A float64 evaluator that also bounds the rounding error of every
    value (see the module's table); calling it gives (value, bound)."""

    def __init__(self, sizes: dict, seed: int = 0):
        super().__init__(NumericBackend(), sizes, seed)

    def __call__(self, node: Node, env: dict):
        self.known: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        value = super().__call__(node, env)
        return value, self.known[id(node)][1]

    def eval(self, node: Node):
        if id(node) in self.known:
            return self.known[id(node)][0]
        out = super().eval(node)
        with np.errstate(all="ignore"):
            bound = _RULES.get(type(node).__name__, _generic)(self, node, out)
            bound = np.where(np.isnan(bound), np.inf, np.broadcast_to(np.abs(bound), np.shape(out)))
        self.known[id(node)] = (out, bound)
        return out

    def v(self, node: Node) -> np.ndarray:
        return self.known[id(node)][0]

    def e(self, node: Node) -> np.ndarray:
        return self.known[id(node)][1]

    def params(self, node) -> list:
        return [p.value(self.sizes) if isinstance(p, Dim) else p for p in node.params]


# -- the rules, one per node type ----------------------------------------------------------

def _sum(ev, node, out):
    return ev.e(node.left) + ev.e(node.right) + U * np.abs(out)


def _product(a, ea, b, eb, out):
    return np.abs(a) * eb + ea * np.abs(b) + U * np.abs(out)


def _matmul(ev, node, out):
    a, b = ev.v(node.left), ev.v(node.right)
    ea, eb = ev.e(node.left), ev.e(node.right)
    n = a.shape[1]
    return np.abs(a) @ eb + ea @ np.abs(b) + n * U * (np.abs(a) @ np.abs(b))


def _scale(ev, node, out):
    s, m = ev.v(node.scalar)[0, 0], ev.v(node.matrix)
    return _product(s, ev.e(node.scalar)[0, 0], m, ev.e(node.matrix), out)


def _hadamard(ev, node, out):
    return _product(ev.v(node.left), ev.e(node.left), ev.v(node.right), ev.e(node.right), out)


def _quotient(ea, b, eb, out):
    return (ea + np.abs(out) * eb) / np.abs(b) + 2 * U * np.abs(out)


def _div(ev, node, out):
    return _quotient(ev.e(node.left), ev.v(node.right)[0, 0], ev.e(node.right)[0, 0], out)


def _pow(ev, node, out):
    s, k = ev.v(node.base)[0, 0], float(node.exponent)
    slope = abs(k * s ** (k - 1)) if s != 0 or k >= 1 else np.inf
    return slope * ev.e(node.base) + 4 * U * np.abs(out)


def _apply(ev, node, out):
    x = ev.v(node.arg)
    if node.order + 1 > elementwise.MAX_ORDER:
        return _generic(ev, node, out)
    slope = np.abs(elementwise.numeric(node.name, node.order + 1, ev.seed)(x))
    own = np.abs(out) + np.abs(x) * slope
    if not elementwise.is_known(node.name):
        own = own + OPAQUE_TERMS + np.abs(x) + x * x
    return slope * ev.e(node.arg) + APPLY_ULPS * U * own


def _broadcast(ev, node, out):
    return np.broadcast_to(ev.e(node.arg), out.shape).copy()


_RULES = {
    "Num": lambda ev, node, out: U * np.abs(out),
    "Sym": lambda ev, node, out: np.zeros(np.shape(out)),
    "Neg": lambda ev, node, out: ev.e(node.arg),
    "Transpose": lambda ev, node, out: ev.e(node.arg).T,
    "Broadcast": _broadcast,
    "Add": _sum, "Sub": _sum,
    "Scale": _scale, "MatMul": _matmul, "Hadamard": _hadamard, "Div": _div, "Pow": _pow,
    "Apply": _apply,
    "Call": lambda ev, node, out: _CALLS.get(node.name, _generic)(ev, node, out),
}


# -- the registered operations -------------------------------------------------------------

def _again(ev, node, args) -> np.ndarray:
    """The operation of ``node`` applied to other arguments (its errors, their sizes)."""
    return ev.b.call(registry.operation(node.name), args, ev.params(node))


def _summing(ev, node, out):
    # linear with coefficients 0 and 1 (sum, tr, blocksum ...): the errors summed, and the
    # rounding of a sum of n terms, n u times the sum of their sizes
    (a,) = node.args
    n = max(1, ev.v(a).size // max(1, out.size))
    return _again(ev, node, [ev.e(a)]) + n * U * _again(ev, node, [np.abs(ev.v(a))])


def _extreme(ev, node, out):
    # max(a + d) - max(a) is at most max|d|: the operation itself on the errors (no rounding)
    return _again(ev, node, [ev.e(a) for a in node.args])


def _exact_result(ev, node, out):
    return np.zeros(np.shape(out))     # 0/1 results, ones, sizes: no rounding


def _divide(ev, node, out):
    a, b = node.args
    return _quotient(ev.e(a), ev.v(b), ev.e(b), out)


def _power(ev, node, out):
    (a,) = node.args
    x, p = ev.v(a), float(ev.params(node)[0])
    slope = np.abs(p * np.power(x, p - 1)) if p != 1 else np.ones_like(x)
    # a real power is exp(p log x): its rounding grows with |p log x|
    own = np.abs(out) * (4 + (np.abs(p * np.log(np.abs(x))) if p != int(p) else 0))
    return slope * ev.e(a) + U * own


def _kron(ev, node, out):
    a, b = node.args
    return np.kron(np.abs(ev.v(a)), ev.e(b)) + np.kron(ev.e(a), np.abs(ev.v(b))) + U * np.abs(out)


def _conditioning(a: np.ndarray) -> float:
    """n u cond(A): the relative error of a backward-stable inverse or determinant."""
    return a.shape[0] * U * float(np.linalg.cond(a))


def _inv(ev, node, out):
    (a,) = node.args                    # d inv(A) = -inv(A) dA inv(A)
    r = np.abs(out)
    return r @ ev.e(a) @ r + _conditioning(ev.v(a)) * r


def _det(ev, node, out):
    (a,) = node.args                    # d det(A) = det(A) tr(inv(A) dA)
    spread = float(np.sum(np.abs(np.linalg.inv(ev.v(a))).T * ev.e(a)))
    return np.abs(out) * (spread + _conditioning(ev.v(a)))


def _logdet(ev, node, out):
    (a,) = node.args                    # d logdet(A) = tr(inv(A) dA)
    spread = float(np.sum(np.abs(np.linalg.inv(ev.v(a))).T * ev.e(a)))
    return np.full(np.shape(out), spread + _conditioning(ev.v(a)))


def _norm(ev, node, out):
    (a,) = node.args                    # | |a + d| - |a| | <= |d|
    return np.full(np.shape(out), float(np.sum(ev.e(a)))) + ev.v(a).size * U * np.abs(out)


def _generic(ev, node, out):
    """An operation without a rule of its own: its arguments' relative errors
    carried to its largest value, and :data:`GENERIC_OPERATIONS` roundings of it."""
    args = getattr(node, "args", None) or [c for c in node.children()]
    largest = max([float(np.max(np.abs(out), initial=0.0))] +
                  [float(np.max(np.abs(ev.v(a)), initial=0.0)) for a in args])
    carried = sum(float(np.max(ev.e(a), initial=0.0)) / max(float(np.max(np.abs(ev.v(a)), initial=0.0)), 1e-300)
                  for a in args)
    return np.full(np.shape(out), (GENERIC_OPERATIONS * U + GENERIC_OPERATIONS * carried) * largest)


_CALLS = {
    **dict.fromkeys(("sum", "tr", "blocksum", "tilesum", "diag", "diagonal"), _summing),
    **dict.fromkeys(("max", "min", "maximum", "minimum"), _extreme),
    **dict.fromkeys(("greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
                     "ones", "zeros", "eye", "size"), _exact_result),
    "divide": _divide, "power": _power, "kron": _kron,
    "inv": _inv, "det": _det, "logdet": _logdet, "norm": _norm,
}
