"""Composite functions, written in primitives, and the names the language
deliberately does not read.

A :class:`~symbolic_bp.core.registry.Macro` is expanded by the type pass
into its definition, so every pass (derivation, both checks, printing) sees
only primitives and nothing about it is written twice.

>>> from symbolic_bp.language.printer import to_text
>>> from symbolic_bp.core.expression import Sym
>>> to_text(MACROS["pinv"].expand((Sym(name="X"),)))
'inv(X.T @ X) @ X.T'
>>> UNSUPPORTED["expm"].reason.split(";")[0]
'expm is the matrix exponential, not an elementwise function'
"""
from __future__ import annotations

from .expression import Call, MatMul, Transpose
from .entries import MACROS, UNSUPPORTED, Macro, Unsupported, register


def _pinv(args):
    # full column rank: pinv(X) = (X^T X)^-1 X^T
    (x,) = args
    return MatMul(left=Call(name="inv", args=(MatMul(left=Transpose(arg=x), right=x),)), right=Transpose(arg=x))


_MATRIX_FUNCTION = ("{name} is the matrix {what}, not an elementwise function; matrix functions are not "
                    "supported yet (the gradient of tr f(X) is f'(X).T, but a general f(X) needs its "
                    "Frechet derivative)")

for _entry in (
    Macro("pinv", 1, _pinv, "the Moore-Penrose pseudo-inverse of a matrix of full column rank, "
                            "inv(X.T @ X) @ X.T"),
    *(Unsupported(name, _MATRIX_FUNCTION.format(name=name, what=what))
      for name, what in (("expm", "exponential"), ("logm", "logarithm"), ("sqrtm", "square root"),
                         ("sinm", "sine"), ("cosm", "cosine"), ("funm", "function"))),
    *(Unsupported(name, f"{name} normalises along an axis of its argument, it is not an elementwise "
                        "function, and the claim language cannot write it yet")
      for name in ("softmax", "log_softmax", "logsumexp")),
):
    register(_entry)
