"""Elementwise functions: one registry entry each, with their exact (SymPy)
and numeric (NumPy) forms and their derivatives.

Registered functions carry their true derivatives.  In exact arithmetic each is a
SymPy function whose derivative is written in terms of the function itself
(sigmoid' = sigmoid (1 - sigmoid)), so identities between derivatives are
polynomial identities; ``rewrite(exp)`` gives the closed form when needed.

An opaque function (``sigma``, ``g``, ``sigma_1``) is an undefined SymPy
function: sigma, sigma', sigma''... are independent atoms, so an identity
holds exactly only if it holds for *every* differentiable sigma.  Numerically
an opaque function is a random member of a rich smooth family, drawn per
name and per run (see :func:`opaque_numeric`).

>>> import sympy
>>> t = sympy.Symbol("t")
>>> exact("sigmoid", 1)(t)
(1 - sigmoid(t))*sigmoid(t)
>>> exact("sigma", 2)(t)
sigma''(t)
"""
from __future__ import annotations

import hashlib
import math
from fractions import Fraction
from functools import lru_cache

from .entries import ELEMENTWISE, Elementwise, register
from .lazy import LazyModule

# imported on first use: the parser and the type pass read the entries without them
np = LazyModule("numpy", globals(), "np")
sp = LazyModule("sympy", globals(), "sp")

MAX_ORDER = 16      # above the parser's 8 primes: derivation and diagnosis add orders


# The SymPy classes (Sigmoid, Relu ..., Opaque and opaque_class for the opaque
# functions) live in .elementwise_sympy, imported on first use; they are still
# importable from here.
_SYMPY_NAMES = ("Sigmoid", "Softplus", "Step", "Relu", "Sign", "Abs", "Opaque", "opaque_class")


def __getattr__(name: str):
    if name in _SYMPY_NAMES:
        from . import elementwise_sympy
        return getattr(elementwise_sympy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _own(name: str):
    """The exact form of an entry that is one of our SymPy classes, found on first call."""
    def form(t):
        from . import elementwise_sympy
        return getattr(elementwise_sympy, name)(t)
    form.__name__ = name
    return form


@lru_cache(maxsize=None)
def exact(name: str, order: int):
    """A callable t -> the exact order-th derivative of ``name`` at t."""
    entry = ELEMENTWISE.get(name)
    if entry is None:
        from .elementwise_sympy import opaque_class
        return opaque_class(name, order)
    t = sp.Dummy("t")
    expr = entry.exact(t)
    for _ in range(order):
        expr = sp.diff(expr, t)
    return sp.Lambda(t, expr)


# -- numeric ----------------------------------------------------------------------

def _sigmoid(x):
    # 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below: e = e^-|x| never overflows, and each side keeps its
    # relative precision (0.5 (1 + tanh(x/2)) loses it below x = -20, where the sum cancels)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))[()]


def _chain_polynomial(u, order: int, du: tuple) -> np.ndarray:
    """The order-th derivative of u(x) when u' = P(u) (coefficients ``du``):
    d/dx Q(u) = Q'(u) P(u), starting from Q = u."""
    q, p = np.polynomial.Polynomial([0.0, 1.0]), np.polynomial.Polynomial(du)
    for _ in range(order):
        q = q.deriv() * p
    return q(u)


def _sigmoid_derivs(x, order):
    s = _sigmoid(x)
    if order > 3:                   # s' = s - s^2
        return _chain_polynomial(s, order, (0.0, 1.0, -1.0))
    # 1 - s written as sigmoid(-x): computed as 1 - s it is 0 above x = 37, and s' with it
    r = _sigmoid(-x)
    # 1 - 2s = -tanh(x/2): as a difference it loses its relative precision near 0
    return [s, s * r, -s * r * np.tanh(0.5 * x), s * r * (1 - 6 * s * r)][order]


def _tanh_derivs(x, order):
    t = np.tanh(x)
    if order > 3:                   # t' = 1 - t^2
        return _chain_polynomial(t, order, (1.0, 0.0, -1.0))
    # 1 - t^2 = sech^2 x = 4 sigmoid(2x) sigmoid(-2x): computed as 1 - t^2 it is 0 above |x| = 19
    q = 4 * _sigmoid(2 * x) * _sigmoid(-2 * x)
    return [t, q, -2 * t * q, -2 * q * (3 * q - 2)][order]


def _relu_derivs(x, order):
    if order == 0:
        return np.maximum(x, 0.0)
    return (x > 0).astype(float) if order == 1 else np.zeros_like(x)


def _log_derivs(x, order):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if order == 0:
            return np.log(x)
        # log^(k)(x) = (-1)^(k-1) (k-1)! / x^k
        return (-1) ** (order - 1) * math.factorial(order - 1) / x ** order


def _softplus_derivs(x, order):
    return np.logaddexp(0.0, x) if order == 0 else _sigmoid_derivs(x, order - 1)


def _exp_derivs(x, order):
    with np.errstate(over="ignore"):
        return np.exp(x)


def _abs_derivs(x, order):
    if order == 0:
        return np.abs(x)
    return np.sign(x) if order == 1 else np.zeros_like(x)


def _sign_derivs(x, order):
    return np.sign(x) if order == 0 else np.zeros_like(x)


def _sqrt_derivs(x, order):
    # d^k/dx^k x^(1/2) = (1/2)(1/2 - 1)...(1/2 - k + 1) x^(1/2 - k)
    coef = math.prod(0.5 - i for i in range(order))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return coef * np.sqrt(x) / x ** order


# sin^(k) cycles through sin, cos, -sin, -cos: each evaluated at x itself (sin(x + k pi/2) is
# 6e-17, not 0, where the derivative is exactly 0, and its sign() is then 1)
_SIN_CYCLE = ((1, "sin"), (1, "cos"), (-1, "sin"), (-1, "cos"))


def _sin_derivs(x, order):
    sign, name = _SIN_CYCLE[order % 4]
    return sign * getattr(np, name)(x)


def _cos_derivs(x, order):
    sign, name = _SIN_CYCLE[(order + 1) % 4]     # cos = sin'
    return sign * getattr(np, name)(x)


# -- exact points and enclosures (the exact check: symbolic_bp.checks.dual) -----------------
# rational(x, order): the order-th derivative at a Fraction x where it is rational, else None;
# interval(iv, x, order): an enclosure of it at the mpmath interval x (context iv),
# ValueError where x is not certainly inside the domain (or straddles a kink).

@lru_cache(maxsize=None)
def _chain_coefficients(order: int, du: tuple) -> tuple:
    """Integer coefficients of the polynomial Q_k with f^(k) = Q_k(f) when f' = P(f)
    (coefficients ``du``): Q_0 = u, Q_(k+1) = Q_k' P."""
    q = [0, 1]
    for _ in range(order):
        dq = [i * c for i, c in enumerate(q)][1:] or [0]
        out = [0] * (len(dq) + len(du) - 1)
        for i, a in enumerate(dq):
            for j, b in enumerate(du):
                out[i + j] += a * b
        q = out
    return tuple(q)


def _horner(coefficients, u, zero):
    out = zero
    for c in reversed(coefficients):
        out = out * u + c
    return out


def _sigmoid_interval(iv, x, order):
    s = 1 / (1 + iv.exp(-x))
    return _horner(_chain_coefficients(order, (0, 1, -1)), s, iv.mpf(0))      # s' = s - s^2


def _tanh_interval(iv, x, order):
    t = 1 - 2 / (iv.exp(2 * x) + 1)
    return _horner(_chain_coefficients(order, (1, 0, -1)), t, iv.mpf(0))      # t' = 1 - t^2


def _softplus_interval(iv, x, order):
    return iv.log(1 + iv.exp(x)) if order == 0 else _sigmoid_interval(iv, x, order - 1)


def _positive(x, name: str, strict: bool = True):
    if not (x.a > 0 if strict else x.a >= 0):
        raise ValueError(f"{name} of a number that is not certainly positive")


def _log_interval(iv, x, order):
    _positive(x, "log")
    if order == 0:
        return iv.log(x)
    return (-1) ** (order - 1) * math.factorial(order - 1) / x ** order


def _log_rational(x, order):
    if x <= 0:
        return None
    if order == 0:
        return Fraction(0) if x == 1 else None
    return Fraction((-1) ** (order - 1) * math.factorial(order - 1)) / x ** order


def _sqrt_interval(iv, x, order):
    _positive(x, "sqrt", strict=order > 0)
    coef = math.prod((Fraction(1, 2) - i for i in range(order)), start=Fraction(1))
    return iv.sqrt(x) * coef.numerator / coef.denominator / x ** order


def _sqrt_rational(x, order):
    if order == 0 and x >= 0:
        p, q = math.isqrt(x.numerator), math.isqrt(x.denominator)
        if p * p == x.numerator and q * q == x.denominator:
            return Fraction(p, q)
    return None


def _cyclic(*functions):
    """f^(k) = functions[k % 4](x), each a name of the interval context (with a sign)."""
    def interval(iv, x, order):
        sign, name = functions[order % 4]
        return sign * getattr(iv, name)(x)
    return interval


def _at_zero(values: tuple, cyclic: bool = False):
    """Exact only at 0: f^(k)(0) = values[k] (values[k % len] when ``cyclic``), None past them."""
    def rational(x, order):
        if x != 0 or (order >= len(values) and not cyclic):
            return None
        value = values[order % len(values)]
        return None if value is None else Fraction(value)
    return rational


def _relu_rational(x, order):
    if order == 0:
        return max(x, Fraction(0))
    return Fraction(1 if x > 0 else 0) if order == 1 else Fraction(0)


def _abs_rational(x, order):
    if order == 0:
        return abs(x)
    return Fraction((x > 0) - (x < 0)) if order == 1 else Fraction(0)


def _sign_rational(x, order):
    return Fraction((x > 0) - (x < 0)) if order == 0 else Fraction(0)


def _piecewise_interval(rational, linear: bool):
    """A function that is constant (``linear``: linear through 0) on each side of
    0, its derivatives constant there: its enclosure where the sign of x is
    certain (or x is exactly 0), else ValueError."""
    def interval(iv, x, order):
        if x.a == 0 and x.b == 0:
            value = rational(Fraction(0), order)
            return iv.mpf(value.numerator) / value.denominator
        if not (x.a > 0 or x.b < 0):
            raise ValueError("the sign of an enclosure that contains 0 is unknown")
        side = Fraction(1 if x.a > 0 else -1)
        value = rational(side, order)
        if order == 0 and linear:                   # f(x) = f(side) / side * x on that side
            return x * (value.numerator * side.numerator)
        return iv.mpf(value.numerator) / value.denominator
    return interval


# -- the entries: one per function ---------------------------------------------------

for _entry in (
    Elementwise("sigmoid", _own("Sigmoid"), _sigmoid_derivs, r"\mathrm{sigmoid}", "sigmoid(u) * (1 - sigmoid(u))",
                "sigmoid' = sigmoid (1 - sigmoid)",
                rational=_at_zero((Fraction(1, 2),)), interval=_sigmoid_interval, positive_values=True,
                keeps_prime=True),
    Elementwise("tanh", lambda t: sp.tanh(t), _tanh_derivs, r"\mathrm{tanh}", "1 - tanh(u) * tanh(u)",
                "tanh' = 1 - tanh^2",
                rational=_at_zero((0,)), interval=_tanh_interval),
    Elementwise("relu", _own("Relu"), _relu_derivs, r"\mathrm{relu}", None, "relu' = step (0 at 0)", smooth=False,
                rational=_relu_rational, interval=_piecewise_interval(_relu_rational, linear=True)),
    Elementwise("exp", lambda t: sp.exp(t), _exp_derivs, r"\mathrm{exp}", "exp(u)", "exp' = exp",
                rational=_at_zero((1,), cyclic=True), interval=lambda iv, x, order: iv.exp(x), positive_values=True),
    Elementwise("log", lambda t: sp.log(t), _log_derivs, r"\mathrm{log}", "1 / u", "log' = 1/u", domain="positive",
                rational=_log_rational, interval=_log_interval),
    Elementwise("softplus", _own("Softplus"), _softplus_derivs, r"\mathrm{softplus}", "sigmoid(u)",
                "softplus' = sigmoid",
                rational=None, interval=_softplus_interval, positive_values=True),
    Elementwise("abs", _own("Abs"), _abs_derivs, r"\mathrm{abs}", "sign(u)", "abs' = sign (0 at 0)", smooth=False,
                rational=_abs_rational, interval=_piecewise_interval(_abs_rational, linear=True)),
    Elementwise("sign", _own("Sign"), _sign_derivs, r"\mathrm{sign}", None, "sign' = 0 (away from 0)", smooth=False,
                rational=_sign_rational, interval=_piecewise_interval(_sign_rational, linear=False)),
    Elementwise("sqrt", lambda t: sp.sqrt(t), _sqrt_derivs, r"\mathrm{sqrt}", "1 / (2 * sqrt(u))", "sqrt' = 1/(2 sqrt)",
                domain="positive",
                rational=_sqrt_rational, interval=_sqrt_interval),
    Elementwise("sin", lambda t: sp.sin(t), _sin_derivs, r"\sin", "cos(u)", "sin' = cos",
                rational=_at_zero((0, 1, 0, -1), cyclic=True),
                interval=_cyclic((1, 'sin'), (1, 'cos'), (-1, 'sin'), (-1, 'cos'))),
    Elementwise("cos", lambda t: sp.cos(t), _cos_derivs, r"\cos", "-sin(u)", "cos' = -sin",
                rational=_at_zero((1, 0, -1, 0), cyclic=True),
                interval=_cyclic((1, 'cos'), (-1, 'sin'), (-1, 'cos'), (1, 'sin'))),
):
    register(_entry)


def opaque_numeric(name: str, seed: int):
    """A random smooth function for the opaque ``name``, with all derivatives.

    f(t) = c0 + c1 t + c2 t^2 + c3 sin(c4 t + c5), coefficients drawn from a
    generator seeded by the name and ``seed``: an identity that holds for
    every sigma holds for f; one that does not fails for f almost surely.
    """
    digest = hashlib.sha256(f"{name}:{seed}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    c0, c1, c2, c3 = rng.uniform(-1, 1, 4)
    c4, c5 = rng.uniform(0.5, 1.5), rng.uniform(0, 2 * np.pi)

    def f(x, order):
        poly = [c0 + c1 * x + c2 * x * x, c1 + 2 * c2 * x, 2 * c2 + 0 * x][order] if order < 3 else 0 * x
        # d^k/dt^k sin(c4 t + c5) = c4^k sin(c4 t + c5 + k pi/2)
        return poly + c3 * c4 ** order * np.sin(c4 * x + c5 + order * np.pi / 2)
    return f


def numeric(name: str, order: int, seed: int):
    """A callable array -> the order-th derivative of ``name``, elementwise."""
    if not 0 <= order <= MAX_ORDER:
        raise ValueError(f"derivative order {order} is outside 0..{MAX_ORDER}")
    entry = ELEMENTWISE.get(name)
    f = entry.numeric if entry is not None else opaque_numeric(name, seed)
    return lambda x: f(x, order)


def is_known(name: str) -> bool:
    """A registered (not an opaque, declared) elementwise function."""
    return name in ELEMENTWISE
