"""Elementwise functions: their exact (SymPy) and numeric (NumPy) forms.

Known functions carry their true derivatives.  In exact arithmetic each is a
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
from functools import lru_cache

import numpy as np
import sympy as sp

from .expression import KNOWN_ELEMENTWISE

MAX_ORDER = 16      # above the parser's 8 primes: derivation and diagnosis add orders


class Sigmoid(sp.Function):
    nargs = 1

    def fdiff(self, argindex=1):
        return Sigmoid(self.args[0]) * (1 - Sigmoid(self.args[0]))   # s' = s(1-s)

    def _eval_rewrite_as_exp(self, t, **kwargs):
        return 1 / (1 + sp.exp(-t))

    _sympystr = lambda self, printer: f"sigmoid({printer.doprint(self.args[0])})"


class Softplus(sp.Function):
    nargs = 1

    def fdiff(self, argindex=1):
        return Sigmoid(self.args[0])                                  # log(1+e^t)' = sigmoid

    def _eval_rewrite_as_exp(self, t, **kwargs):
        return sp.log(1 + sp.exp(t))

    _sympystr = lambda self, printer: f"softplus({printer.doprint(self.args[0])})"


class Step(sp.Function):
    """Heaviside step with step(0) = 0: the derivative of relu."""

    nargs = 1

    @classmethod
    def eval(cls, t):
        if t.is_Number:
            return sp.Integer(1 if t > 0 else 0)

    def fdiff(self, argindex=1):
        return sp.Integer(0)

    _sympystr = lambda self, printer: f"relu'({printer.doprint(self.args[0])})"


class Relu(sp.Function):
    nargs = 1

    @classmethod
    def eval(cls, t):
        if t.is_Number:
            return t if t > 0 else sp.Integer(0)

    def fdiff(self, argindex=1):
        return Step(self.args[0])

    _sympystr = lambda self, printer: f"relu({printer.doprint(self.args[0])})"


_KNOWN_EXACT = {"sigmoid": Sigmoid, "softplus": Softplus, "relu": Relu,
                "tanh": sp.tanh, "exp": sp.exp, "log": sp.log}


class Opaque(sp.Function):
    """Base of the undefined elementwise functions; subclasses per (name, order)."""

    nargs = 1
    base_name = "sigma"
    order = 0

    def fdiff(self, argindex=1):
        return opaque_class(self.base_name, self.order + 1)(self.args[0])


@lru_cache(maxsize=None)
def opaque_class(name: str, order: int) -> type:
    return type(name + "'" * order, (Opaque,), {"base_name": name, "order": order})


@lru_cache(maxsize=None)
def exact(name: str, order: int):
    """A callable t -> the exact order-th derivative of ``name`` at t."""
    if name not in _KNOWN_EXACT:
        return opaque_class(name, order)
    t = sp.Dummy("t")
    expr = _KNOWN_EXACT[name](t)
    for _ in range(order):
        expr = sp.diff(expr, t)
    return sp.Lambda(t, expr)


# -- numeric ----------------------------------------------------------------------

def _sigmoid(x):
    # 1/(1+e^-x) without overflow for |x| large
    return 0.5 * (1.0 + np.tanh(0.5 * x))


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
    return [s, s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s)][order]


def _tanh_derivs(x, order):
    t = np.tanh(x)
    if order > 3:                   # t' = 1 - t^2
        return _chain_polynomial(t, order, (1.0, 0.0, -1.0))
    return [t, 1 - t * t, -2 * t * (1 - t * t), -2 * (1 - t * t) * (1 - 3 * t * t)][order]


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


_KNOWN_NUMERIC = {"sigmoid": _sigmoid_derivs, "tanh": _tanh_derivs, "relu": _relu_derivs,
                  "log": _log_derivs, "softplus": _softplus_derivs, "exp": _exp_derivs}


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
    if name in _KNOWN_NUMERIC:
        f = _KNOWN_NUMERIC[name]
    else:
        f = opaque_numeric(name, seed)
    return lambda x: f(x, order)


def is_known(name: str) -> bool:
    return name in KNOWN_ELEMENTWISE
