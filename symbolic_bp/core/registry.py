"""The registry: every operation of the claim language, declared once.

An :class:`Operation` (``tr``, ``inv``, ``kron`` ...) carries everything the
passes need to know about it -- its parameters, its shape rule (with the error
message), its adjoint (VJP) rule, its exact (SymPy) and float64 (NumPy)
evaluation, its LaTeX and its NumPy code -- so that a new operation is one
entry in :mod:`symbolic_bp.core.operations`.  An :class:`Elementwise`
function (``sigmoid``, ``log``, ``abs`` ...) carries its exact form (whose
derivatives SymPy takes), its numeric derivatives of every order, its
derivative in closed form, its domain and its LaTeX; the entries are in
:mod:`symbolic_bp.core.elementwise`.  Composite functions are
:class:`Macro` entries: a definition in primitives, expanded by the type
pass (:mod:`symbolic_bp.core.macros`).

Names that are neither registered nor declared are not guessed at:
:func:`unknown_function` says what the user can write instead.

>>> operation("tr").arity, operation("eye").params
(1, ('dim',))
>>> elementwise("sigmoid").derivative
'sigmoid(u) * (1 - sigmoid(u))'
>>> unknown_function("sinm")
"unknown function 'sinm' (did you mean sin?); declare 'sinm:function' for an opaque elementwise function"
"""
from __future__ import annotations

import difflib

from .entries import (  # noqa: F401  (the kinds of entries, for the registry's users)
    ELEMENTWISE, MACROS, OPERATIONS, UNSUPPORTED, Elementwise, Keyword, Macro, Operation, ShapeError,
    Unsupported, register,
)


def _load() -> None:
    # the entries live beside the registry; importing them fills the tables
    from . import elementwise, entrywise, macros, operations, reductions  # noqa: F401


def known_names() -> set[str]:
    return set(OPERATIONS) | set(ELEMENTWISE) | set(MACROS) | set(UNSUPPORTED)


def _lookup(table: dict, name: str):
    _load()
    return table.get(name)


def operation(name: str) -> Operation | None:
    return _lookup(OPERATIONS, name)


def elementwise(name: str) -> Elementwise | None:
    return _lookup(ELEMENTWISE, name)


def macro(name: str) -> Macro | None:
    return _lookup(MACROS, name)


def unsupported(name: str) -> Unsupported | None:
    return _lookup(UNSUPPORTED, name)


def reserved() -> set[str]:
    """Names that cannot be declared as symbols, dimensions or functions."""
    _load()
    return known_names() | {"T"}


# names users reach for, mapped to the language's spelling, for suggestions
_ALIASES = {"trace": "tr", "inverse": "inv", "determinant": "det", "logistic": "sigmoid", "ReLU": "relu",
            "ln": "log", "fabs": "abs", "transpose": ".T"}


def unknown_function(name: str) -> str:
    """The one-line reason why ``name(...)`` cannot be read."""
    _load()
    choices = sorted(set(OPERATIONS) | set(ELEMENTWISE) | set(MACROS))
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    hint = _ALIASES.get(name) or (close[0] if close else None)
    did_you_mean = f" (did you mean {hint}?)" if hint and hint != name else ""
    return (f"unknown function {name!r}{did_you_mean}; declare '{name}:function' for an opaque "
            "elementwise function")


def arguments(name: str) -> tuple[int, int] | None:
    """How many arguments a registered operation or macro takes, as (required,
    at most): the value arguments and positional parameters, then the keyword
    parameters NumPy also takes by position (``np.sum(X, 0)``).  None for an
    elementwise or unknown name, which takes one.

    >>> arguments("eye"), arguments("sum")
    ((1, 1), (1, 2))
    """
    entry = operation(name) or macro(name)
    if entry is None:
        return None
    required = entry.argument_count if isinstance(entry, Operation) else entry.arity
    return required, required + sum(k.positional for k in entry.keywords)


def keywords(name: str) -> tuple[str, ...]:
    """The keyword parameters of a registered operation or macro."""
    entry = operation(name) or macro(name)
    return tuple(k.name for k in entry.keywords) if entry is not None else ()


def infix(symbol: str) -> str:
    """The operation an infix operator writes: ``infix(">")`` is ``greater``."""
    _load()
    return next(op.name for op in OPERATIONS.values() if op.infix == symbol)


# -- NumPy's spellings -------------------------------------------------------------------------
# np.<name> (np., numpy., scipy. prefixes dropped) where it differs from the language's name;
# a registered name is its own NumPy spelling (np.exp, np.sum, np.maximum ...)
NUMPY_NAMES = {
    "trace": "tr", "linalg.inv": "inv", "linalg.det": "det", "linalg.norm": "norm",
    "linalg.matrix_power": "matrix_power", "linalg.pinv": "pinv", "absolute": "abs", "amax": "max",
    "amin": "min", "special.softmax": "softmax", "special.log_softmax": "log_softmax",
    "special.logsumexp": "logsumexp", "special.expit": "sigmoid",
}
# the language's operators spelled as NumPy functions (the parser builds the operator's node)
NUMPY_OPERATORS = ("dot", "matmul", "multiply", "divide", "add", "subtract", "transpose", "negative")
NUMPY_METHODS = ("sum", "mean", "var", "std", "max", "min", "dot", "transpose")
_NOT_NUMPY = ("size",)          # registered, but not what np.size means


def numpy_function(name: str) -> str | None:
    """The language's name of ``np.<name>``, or None.

    >>> numpy_function("linalg.inv"), numpy_function("exp"), numpy_function("fft.fft")
    ('inv', 'exp', None)
    """
    if name in NUMPY_NAMES:
        return NUMPY_NAMES[name]
    if name in NUMPY_OPERATORS:
        return name
    _load()
    return name if name in known_names() - set(UNSUPPORTED) - set(_NOT_NUMPY) else None


def numpy_method(name: str) -> str | None:
    """The language's name of the method ``X.<name>(...)``, or None."""
    return name if name in NUMPY_METHODS else None


def numpy_methods() -> tuple[str, ...]:
    return NUMPY_METHODS
