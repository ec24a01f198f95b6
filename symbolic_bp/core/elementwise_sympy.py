"""The SymPy side of the elementwise functions (:mod:`.elementwise`): the
SymPy classes of the registered functions SymPy lacks (sigmoid, relu...) and
of the opaque ones (sigma, sigma', ...).  A module of its own so that the
registry's entries -- and the parser and the type pass that read them -- do
not load SymPy; :mod:`.elementwise` imports it on first use.

>>> import sympy
>>> Sigmoid(sympy.Symbol("t")).diff()
(1 - sigmoid(t))*sigmoid(t)
>>> opaque_class("sigma", 1)(sympy.Symbol("t")).diff()
sigma''(t)
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp


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
