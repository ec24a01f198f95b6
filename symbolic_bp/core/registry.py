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
from dataclasses import dataclass
from typing import Callable



class ShapeError(Exception):
    """A shape rule's complaint; the type pass adds the column and the snippet."""


@dataclass(frozen=True)
class Operation:
    """A primitive operation of whole matrices.

    * ``arity`` value arguments, then ``params`` (``"dim"``: a dimension such
      as the n of ``eye(n)``; ``"int"``: an integer literal such as the k of
      ``matrix_power(X, k)``);
    * ``shape(shapes, params)`` -> the result's shape, or raise
      :class:`ShapeError` with the message for the user;
    * ``vjp(b, node, g)`` -> one adjoint per value argument (``None`` where
      it has none), built with the builder ``b``
      (:class:`symbolic_bp.calculus.builder.Builder`) from the typed ``node``
      and its adjoint ``g``;
    * ``exact(*args, *params)`` on SymPy matrices, ``numeric(*args, *params)``
      on float64 arrays (params as integers);
    * ``latex(args, atoms, params)`` from the LaTeX of the arguments (``atoms``:
      the same, parenthesised where a postfix such as ``^{-1}`` follows) and
      of the parameters; ``numpy(args, params)`` from the NumPy code of the
      arguments and parameters.
    """

    name: str
    arity: int
    shape: Callable
    vjp: Callable
    exact: Callable
    numeric: Callable
    latex: Callable
    numpy: Callable
    params: tuple[str, ...] = ()
    summary: str = ""
    positive: bool = False      # its argument must be positive where drawn at random (logdet)

    @property
    def argument_count(self) -> int:
        return self.arity + len(self.params)


@dataclass(frozen=True)
class Elementwise:
    """A function applied entry by entry, with all its derivatives.

    ``exact(t)`` is the SymPy expression at ``t`` (derivatives by SymPy);
    ``numeric(x, order)`` the order-th derivative on a float64 array;
    ``derivative`` f'(u) written in the claim language (``None`` where it has
    no closed form there), ``rule`` the same as a sentence; ``domain`` where
    random draws must fall ("real" or "positive"); ``smooth`` False where the
    function has a kink (relu and abs at 0).
    """

    name: str
    exact: Callable
    numeric: Callable
    latex: str
    derivative: str | None = None
    rule: str = ""
    domain: str = "real"
    smooth: bool = True


@dataclass(frozen=True)
class Macro:
    """A composite function, defined in primitives: ``expand(args)`` returns
    the surface tree that replaces the call (its arguments substituted)."""

    name: str
    arity: int
    expand: Callable
    summary: str = ""


@dataclass(frozen=True)
class Unsupported:
    """A name users write that the language deliberately does not read."""

    name: str
    reason: str


OPERATIONS: dict[str, Operation] = {}
ELEMENTWISE: dict[str, Elementwise] = {}
MACROS: dict[str, Macro] = {}
UNSUPPORTED: dict[str, Unsupported] = {}


def register(entry: "Operation | Elementwise | Macro | Unsupported"):
    """Add an entry to its table; a name is registered once, in one table."""
    table = {Operation: OPERATIONS, Elementwise: ELEMENTWISE, Macro: MACROS, Unsupported: UNSUPPORTED}[type(entry)]
    if entry.name in known_names():
        raise ValueError(f"{entry.name!r} is registered twice")
    table[entry.name] = entry
    return entry


def _load() -> None:
    # the entries live beside the registry; importing them fills the tables
    from . import elementwise, macros, operations  # noqa: F401


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


def arguments(name: str) -> int | None:
    """How many arguments a registered operation or macro takes (None for an
    elementwise or unknown name, which takes one)."""
    op = operation(name)
    if op is not None:
        return op.argument_count
    m = macro(name)
    return m.arity if m is not None else None
