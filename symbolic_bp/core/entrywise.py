"""Entrywise binary operations with NumPy broadcasting, one entry each.

Written as operators or as NumPy functions: ``A / B`` (``divide``, when B is
not 1x1: division by a 1x1 value stays the core node ``Div``), ``X ** p``
(``power``, for a matrix base or a non-integer exponent: a 1x1 value to an
integer power stays ``Pow``), the comparisons ``> >= < <= == !=`` (0/1
matrices, derivative 0 almost everywhere) and ``maximum`` / ``minimum``.
The type pass broadcasts the value arguments to a common shape by NumPy's
rules (``broadcasts=True``), so every rule here sees equal shapes.

>>> OPERATIONS["greater"].infix, OPERATIONS["maximum"].broadcasts
('>', True)
"""
from __future__ import annotations

from fractions import Fraction

from .dims import show
from .entries import OPERATIONS, Operation, ShapeError, register
from .lazy import LazyModule

np = LazyModule("numpy", globals(), "np")
sp = LazyModule("sympy", globals(), "sp")


def _same(shapes, params):
    a, b = shapes
    if a != b:          # pragma: no cover - the type pass broadcasts first
        raise ShapeError(f"{show(a)} and {show(b)} do not broadcast")
    return a


def _one(shapes, params):
    return shapes[0]


# -- exact (SymPy) and float64 forms ------------------------------------------------------------

def _exact_entrywise(f):
    return lambda a, b: sp.Matrix(a.rows, a.cols, lambda i, j: f(a[i, j], b[i, j]))


def _exact_divide(a, b):
    if any(v == 0 for v in b):
        raise ZeroDivisionError("division by zero")
    return _exact_entrywise(lambda x, y: x / y)(a, b)


def _exact_power(m, p):
    exponent = sp.Rational(p.numerator, p.denominator) if isinstance(p, Fraction) else sp.Integer(p)
    if p < 0 and any(v == 0 for v in m):
        raise ZeroDivisionError("zero to a negative power")
    return m.applyfunc(lambda v: v ** exponent)


def _numeric_power(m, p):
    with np.errstate(all="ignore"):         # a negative base to a real power is nan: the draw is redrawn
        return np.power(m, float(p)) if isinstance(p, Fraction) else np.power(m.astype(float), p)


def _numeric_divide(a, b):
    with np.errstate(all="ignore"):
        return a / b


def _indicator(test):
    return lambda x, y: sp.Integer(1) if test(x - y) else sp.Integer(0)


# -- dual forms (the exact check, symbolic_bp.checks.dual) ---------------------------------------

def _zeros_like(m):
    return m.build(m.rows, m.cols, lambda i, j: 0)


def _tangents(x, count):
    return x.tangents if x.tangents is not None else [_zeros_like(x.value)] * count


def _select(kit, mask, a, b):
    """Entry (i, j) of ``a`` where ``mask[i][j]``, else of ``b`` -- value and tangents."""
    va, vb = a.value.pair(b.value)
    value = va.build(va.rows, va.cols, lambda i, j: va[i, j] if mask[i][j] else vb[i, j])
    if a.tangents is None and b.tangents is None:
        return type(a)(value)
    count = len(a.tangents if a.tangents is not None else b.tangents)
    tangents = []
    for ta, tb in zip(_tangents(a, count), _tangents(b, count)):
        ta, tb = ta.pair(tb)
        tangents.append(ta.build(ta.rows, ta.cols, lambda i, j, ta=ta, tb=tb: ta[i, j] if mask[i][j] else tb[i, j]))
    return type(a)(value, tangents)


def _dual_compare(test):
    # a comparison is piecewise constant: its tangents are 0
    def dual(kit, a, b):
        signs = (a.value - b.value).signs()
        return kit.constant([[1 if test(s) else 0 for s in row] for row in signs])
    return dual


def _dual_extreme(larger: bool):
    # maximum(a, b) is a where a >= b, else b: the derivative of the chosen argument (ties: measure 0)
    def dual(kit, a, b):
        signs = (a.value - b.value).signs()
        return _select(kit, [[(s >= 0) if larger else (s <= 0) for s in row] for row in signs], a, b)
    return dual


def _dual_divide(kit, a, b):
    r = b.value.reciprocals()                   # d(a/b) = da/b - a db/b^2
    value = a.value * r
    if a.tangents is None and b.tangents is None:
        return type(a)(value)
    count = len(a.tangents if a.tangents is not None else b.tangents)
    return type(a)(value, [ta * r - value * r * tb for ta, tb in zip(_tangents(a, count), _tangents(b, count))])


def _integer_power(v, k: int):
    """v^k entrywise for an integer k (k < 0: of the reciprocals)."""
    if k == 0:
        return v.build(v.rows, v.cols, lambda i, j: 1)
    base = v if k > 0 else v.reciprocals()
    out = base
    for _ in range(abs(k) - 1):
        out = out * base
    return out


def _dual_power(kit, x, p):
    v = x.value
    if isinstance(p, int):
        value = _integer_power(v, p)
        slope = _integer_power(v, p - 1) if p != 0 else _zeros_like(v)
    else:
        # x^p = exp(p log x) for x > 0 (log of a non-positive entry: the point is redrawn)
        log = v.apply("log")
        value = log.scale(kit.ctx.exact([[p]])).apply("exp")
        slope = log.scale(kit.ctx.exact([[p - 1]])).apply("exp")
    coefficient = kit.ctx.exact([[p]])
    return x.push(value, lambda t: (slope * t).scale(coefficient))     # d x^p = p x^(p-1) dx


# -- adjoint rules (G the adjoint of the result, equal shapes) ------------------------------------

def _vjp_divide(b, node, g):
    a, c = node.args
    # d(A/B)/dA = G / B;  d(A/B)/dB = -G * A / B^2
    return (b.call("divide", g, c),
            b.neg(b.call("divide", b.mul(g, a), b.call("power", c, params=(2,)))))


def _vjp_power(b, node, g):
    x, p = node.args[0], node.params[0]
    if p == 0:
        return (None,)
    power = x if p == 2 else b.call("power", x, params=(p - 1,))        # x**1 is x
    slope = b.number(p) if p == 1 else b.mul(b.number(p), power)
    return (b.mul(slope, g),)               # d x^p = p x^(p-1) dx


def _vjp_extreme(chosen: str, other: str):
    # maximum(A, B): G flows to A where A > B (ties: measure 0), to B elsewhere
    def vjp(b, node, g):
        a, c = node.args
        return (b.mul(g, b.call(chosen, a, c)), b.mul(g, b.call(other, a, c)))
    return vjp


def _no_gradient(b, node, g):
    return (None, None)           # piecewise constant: derivative 0 away from the ties


# -- degree bounds for the exact check --------------------------------------------------------------

def _degree_divide(d, shapes, params):
    (p1, q1), (p2, q2) = d
    return (p1 + q2, q1 + p2)


def _degree_power(d, shapes, params):
    (p, q), k = d[0], params[0]
    if not isinstance(k, int):
        return None
    return (k * p, k * q) if k >= 0 else (-k * q, -k * p)


def _degree_pieces(d, shapes, params):
    # on each side of a tie the entry is one of the arguments
    (p1, q1), (p2, q2) = d
    return (max(p1, p2), max(q1, q2))


def _degree_constant(d, shapes, params):
    return (0, 0)


def _tie_distance(a, b):
    """How far each entry is from a tie of a and b (0 on one)."""
    return np.abs(a - b)


def _positive_base(node) -> bool:
    """A non-integer power needs a positive base where drawn."""
    return not isinstance(node.params[0], int) if node.params else False


def _latex_power(a, atoms, p):
    return f"{atoms[0]}^{{{p[0]}}}"              # the exponent's text: 2, -1, 1/2


def _numpy_power(a, p):
    return f"np.power({a[0]}, {float(Fraction(p[0]))!r})"


_COMPARISONS = (
    # name, infix, LaTeX, SymPy/NumPy test on the difference a - b, sign test
    ("greater", ">", ">", lambda d: d > 0, lambda s: s > 0),
    ("greater_equal", ">=", r"\geq", lambda d: d >= 0, lambda s: s >= 0),
    ("less", "<", "<", lambda d: d < 0, lambda s: s < 0),
    ("less_equal", "<=", r"\leq", lambda d: d <= 0, lambda s: s <= 0),
    ("equal", "==", "=", lambda d: d == 0, lambda s: s == 0),
    ("not_equal", "!=", r"\neq", lambda d: d != 0, lambda s: s != 0),
)


def _comparison(name, symbol, latex, test, sign_test):
    return Operation(
        name, 2, _same, broadcasts=True, infix=symbol,
        vjp=_no_gradient,
        exact=_exact_entrywise(_indicator(test)),
        numeric=lambda a, b: test(a - b).astype(float),
        latex=lambda a, atoms, p: rf"\left[{a[0]} {latex} {a[1]}\right]",
        numpy=lambda a, p: f"({a[0]} {symbol} {a[1]}).astype(float)",
        summary=f"1 where a {symbol} b, else 0 (NumPy broadcasting; derivative 0 almost everywhere)",
        dual=_dual_compare(sign_test), degree=_degree_constant,
        # equality is how data is read (Y == 1 of one-hot labels), never a kink of the cost
        kink=None if symbol in ("==", "!=") else _tie_distance)


def _extreme(name: str, larger: bool, summary: str) -> Operation:
    """``maximum`` (larger) or ``minimum``: the chosen argument entry by entry."""
    chosen, other = ("greater_equal", "less") if larger else ("less_equal", "greater")
    exact = sp.Max if larger else sp.Min
    return Operation(
        name, 2, _same, broadcasts=True,
        vjp=_vjp_extreme(chosen, other),
        exact=_exact_entrywise(lambda x, y: exact(x, y)),
        numeric=lambda a, b: np.maximum(a, b) if larger else np.minimum(a, b),
        latex=lambda a, atoms, p: rf"\{name[:3]}\left({a[0]}, {a[1]}\right)",
        numpy=lambda a, p: f"np.{name}({a[0]}, {a[1]})",
        summary=summary, dual=_dual_extreme(larger), degree=_degree_pieces, kink=_tie_distance)


for _entry in (
    Operation(
        "divide", 2, _same, broadcasts=True, infix="/",
        vjp=_vjp_divide, exact=_exact_divide, numeric=_numeric_divide,
        latex=lambda a, atoms, p: rf"\frac{{{a[0]}}}{{{a[1]}}}",
        numpy=lambda a, p: f"({a[0]} / {a[1]})",
        summary="entrywise division A / B (NumPy broadcasting; B nonzero where drawn)",
        dual=_dual_divide, degree=_degree_divide),
    Operation(
        "power", 1, _one, params=("real",), infix="**",
        vjp=_vjp_power, exact=_exact_power, numeric=_numeric_power,
        latex=_latex_power, numpy=_numpy_power,
        summary="X ** p entrywise, p a number literal (a non-integer p needs a positive base)",
        positive=_positive_base, dual=_dual_power, degree=_degree_power),
    _extreme("maximum", larger=True, summary="the entrywise maximum (NumPy broadcasting; np.maximum(0, Z) is relu)"),
    _extreme("minimum", larger=False, summary="the entrywise minimum (NumPy broadcasting)"),
    *(_comparison(*row) for row in _COMPARISONS),
):
    register(_entry)
