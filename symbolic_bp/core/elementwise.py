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
from functools import lru_cache

import numpy as np
import sympy as sp

from .entries import ELEMENTWISE, Elementwise, register

MAX_ORDER = 16      # above the parser's 8 primes: derivation and diagnosis add orders


class _Known(sp.Function):
    """Base of the SymPy forms written here: one argument, a derivative in
    terms of known functions, a value at numbers where it has one, and the
    claim-language name when printed."""

    nargs = 1
    label = ""
    derivative = staticmethod(lambda t: sp.Integer(0))
    at_number = staticmethod(lambda t: None)

    @classmethod
    def eval(cls, t):
        if t.is_Number:
            return cls.at_number(t)

    def fdiff(self, argindex=1):
        return self.derivative(self.args[0])

    def _sympystr(self, printer):
        return f"{self.label}({printer.doprint(self.args[0])})"


def _known(label: str, derivative=None, at_number=None, rewrite_exp=None, doc: str = "") -> type:
    body = {"label": label, "__doc__": doc}
    if derivative is not None:
        body["derivative"] = staticmethod(derivative)
    if at_number is not None:
        body["at_number"] = staticmethod(at_number)
    if rewrite_exp is not None:
        body["_eval_rewrite_as_exp"] = lambda self, t, **kwargs: rewrite_exp(t)
    return type(label.replace("'", "_prime").capitalize(), (_Known,), body)


Sigmoid = _known("sigmoid", lambda t: Sigmoid(t) * (1 - Sigmoid(t)),          # s' = s(1-s)
                 rewrite_exp=lambda t: 1 / (1 + sp.exp(-t)))
Softplus = _known("softplus", lambda t: Sigmoid(t),                            # log(1+e^t)' = sigmoid
                  rewrite_exp=lambda t: sp.log(1 + sp.exp(t)))
Step = _known("relu'", at_number=lambda t: sp.Integer(1 if t > 0 else 0),
              doc="Heaviside step with step(0) = 0: the derivative of relu.")
Relu = _known("relu", lambda t: Step(t), at_number=lambda t: t if t > 0 else sp.Integer(0))
Sign = _known("sign", at_number=lambda t: sp.Integer(1 if t > 0 else -1 if t < 0 else 0),
              doc="sign(t), the derivative of |t| (0 at 0, where |t| has a kink).")
Abs = _known("abs", lambda t: Sign(t), at_number=abs,
             doc="|t| for real t; SymPy's Abs assumes complex symbols and differentiates through re and im, "
                 "the claim language's symbols are real.")


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
    entry = ELEMENTWISE.get(name)
    if entry is None:
        return opaque_class(name, order)
    t = sp.Dummy("t")
    expr = entry.exact(t)
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


def _sin_derivs(x, order):
    return np.sin(x + order * np.pi / 2)      # sin^(k)(x) = sin(x + k pi/2)


def _cos_derivs(x, order):
    return np.cos(x + order * np.pi / 2)


# -- the entries: one per function ---------------------------------------------------

for _entry in (
    Elementwise("sigmoid", Sigmoid, _sigmoid_derivs, r"\mathrm{sigmoid}", "sigmoid(u) * (1 - sigmoid(u))",
                "sigmoid' = sigmoid (1 - sigmoid)"),
    Elementwise("tanh", sp.tanh, _tanh_derivs, r"\mathrm{tanh}", "1 - tanh(u) * tanh(u)", "tanh' = 1 - tanh^2"),
    Elementwise("relu", Relu, _relu_derivs, r"\mathrm{relu}", None, "relu' = step (0 at 0)", smooth=False),
    Elementwise("exp", sp.exp, _exp_derivs, r"\mathrm{exp}", "exp(u)", "exp' = exp"),
    Elementwise("log", sp.log, _log_derivs, r"\mathrm{log}", None, "log' = 1/u", domain="positive"),
    Elementwise("softplus", Softplus, _softplus_derivs, r"\mathrm{softplus}", "sigmoid(u)",
                "softplus' = sigmoid"),
    Elementwise("abs", Abs, _abs_derivs, r"\mathrm{abs}", "sign(u)", "abs' = sign (0 at 0)", smooth=False),
    Elementwise("sign", Sign, _sign_derivs, r"\mathrm{sign}", None, "sign' = 0 (away from 0)", smooth=False),
    Elementwise("sqrt", sp.sqrt, _sqrt_derivs, r"\mathrm{sqrt}", None, "sqrt' = 1/(2 sqrt)", domain="positive"),
    Elementwise("sin", sp.sin, _sin_derivs, r"\sin", "cos(u)", "sin' = cos"),
    Elementwise("cos", sp.cos, _cos_derivs, r"\cos", "-sin(u)", "cos' = -sin"),
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
