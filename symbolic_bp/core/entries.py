"""What a registry entry is: the kinds of entries and the tables they are
registered in (the entries themselves are in :mod:`.operations`,
:mod:`.elementwise` and :mod:`.macros`; look them up with :mod:`.registry`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


class ShapeError(Exception):
    """A shape rule's complaint; the type pass adds the column and the snippet."""


@dataclass(frozen=True)
class Keyword:
    """A keyword parameter: ``kind`` is ``"axis"`` (0, 1 or None; -1 and -2
    count from the end), ``"bool"`` or ``"int"``; ``positional`` when NumPy
    also takes it as the next positional argument (``np.sum(X, 0)``)."""

    name: str
    kind: str
    default: object = None
    positional: bool = False


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
      arguments and parameters;
    * ``index(form, node, r, c)``: the entry (r, c) in index notation, for the
      index-notation proofs (:class:`symbolic_bp.rendering.index_form.IndexForm`
      is ``form``: ``form(arg, i, j)`` is an argument's entry, ``form.fresh(dim)``
      a new summed index), or None where the prover has no index form;
    * ``dual(kit, *args, *params)``: the operation on dual numbers, for the
      exact check (:mod:`symbolic_bp.checks.dual`): each argument is a
      ``Dual`` (``.value``, a matrix, and ``.tangents``, one matrix per
      direction or None for a constant), the result a ``Dual`` whose tangents
      are the directional derivatives (built with ``x.push(value, tangent)``,
      ``x.linear(f)``, ``a.bilinear(b, f)`` and the matrices' arithmetic:
      ``+ - @ .T``, ``*``, ``/`` by 1x1, ``inv() det() adjugate() trace()
      total() apply(name, order) build(rows, cols, f)``); ``kit.constant(rows)``
      and ``kit.identity(n)`` make constants;
    * ``degree(degrees, shapes, params)``: from the (numerator, denominator)
      degree bounds of the arguments' entries as rational functions of the
      drawn values (and their concrete shapes), the same bounds for the
      result, for the Schwartz-Zippel bound of the exact check; None where
      the result is not a rational function (log det, norm).
    * ``keywords``: the keyword parameters after the positional ones, each a
      :class:`Keyword` (``axis=``, ``keepdims=``, ``ddof=``); typed, their
      values follow the positional ``params`` in this order (defaults filled);
    * ``broadcasts``: the value arguments are broadcast to a common shape by
      NumPy's rules before ``shape`` sees them (elementwise binary operations);
    * ``infix``: the operator that writes the operation (``">"`` for
      ``greater``), so that it prints as written;
    * ``kink(*args, *params)`` on float64 arrays: the distance of the point
      from where the operation is not differentiable (a tie of a comparison,
      of ``maximum``, of a ``max`` along an axis), an array with one distance
      per entry (0 on a tie); None for a smooth operation.  Both checks draw
      their points away from kinks (:mod:`symbolic_bp.checks.kinks`).
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
    index: Callable | None = None
    summary: str = ""
    positive: bool = False      # its argument must be positive where drawn at random (logdet)
    dual: Callable | None = None
    degree: Callable | None = None
    keywords: tuple["Keyword", ...] = ()
    broadcasts: bool = False
    infix: str | None = None
    kink: Callable | None = None

    @property
    def argument_count(self) -> int:
        return self.arity + len(self.params)


@dataclass(frozen=True)
class Elementwise:
    """A function applied entry by entry, with all its derivatives.

    ``exact(t)`` is the SymPy expression at ``t`` (derivatives by SymPy);
    ``numeric(x, order)`` the order-th derivative on a float64 array;
    ``derivative`` f'(u) written in the claim language (``None`` where it has
    no closed form there), which derived gradients are written with
    (:mod:`symbolic_bp.calculus.simplify`) unless ``keeps_prime``: then they
    keep f'(u) (sigmoid': its closed form repeats the argument twice), ``rule``
    the same as a sentence; ``domain`` where
    random draws must fall ("real" or "positive"); ``smooth`` False where the
    function has a kink (relu and abs at 0).

    For the exact check (:mod:`symbolic_bp.checks.dual`): ``rational(x,
    order)`` is the order-th derivative at an exact rational ``x``
    (:class:`fractions.Fraction`) when it is rational there (relu, abs, sign;
    log' = 1/x), else None; ``interval(iv, x, order)`` an enclosure of it at
    the interval ``x`` in the mpmath interval context ``iv``, raising
    ValueError where ``x`` is not certainly inside the domain.
    """

    name: str
    exact: Callable
    numeric: Callable
    latex: str
    derivative: str | None = None
    rule: str = ""
    domain: str = "real"
    smooth: bool = True
    positive_values: bool = False      # f(u) > 0 for every real u (exp, sigmoid, softplus)
    keeps_prime: bool = False          # derived gradients write f'(u), not the closed form ``derivative``
    rational: Callable | None = None
    interval: Callable | None = None


@dataclass(frozen=True)
class Macro:
    """A composite function, defined in primitives: ``expand(args, kw)``
    returns the tree that replaces the call, from the typed arguments (their
    shapes known: ``mean`` divides by the size of an axis) and the keyword
    values ``kw`` (a dict over ``keywords``, defaults filled in).  ``fold``:
    derived gradients are printed with the macro where its definition
    appears in them (``softmax(z)`` for ``exp(z) / sum(exp(z))``,
    :mod:`symbolic_bp.calculus.textbook`)."""

    name: str
    arity: int
    expand: Callable
    summary: str = ""
    keywords: tuple[Keyword, ...] = ()
    fold: bool = False


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
    if any(entry.name in t for t in (OPERATIONS, ELEMENTWISE, MACROS, UNSUPPORTED)):
        raise ValueError(f"{entry.name!r} is registered twice")
    table[entry.name] = entry
    return entry
