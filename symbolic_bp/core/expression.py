"""Expression trees of the claim language.

A tree comes out of :mod:`symbolic_bp.language.parser` as *surface* nodes
(``shape is None``), written as the user wrote them: ``*`` is a :class:`Mul`,
``@`` a :class:`MatMul`, a function call a :class:`Call` or an :class:`Apply`.
The type pass (:mod:`symbolic_bp.language.shapes`) lowers them into explicit
*core* nodes that carry their shapes and say what each operation is:

=================  ===========================================================
core node          meaning
=================  ===========================================================
``MatMul``         the matrix product (inner dimensions agree)
``Hadamard``       the entrywise product of two equal shapes
``Scale``          a 1x1 operand times a matrix (written ``s * M`` or ``s @ M``)
``Broadcast``      a 1x1 value filled into a shape (``M + 1``: ``M + Broadcast(1)``)
``Add``/``Sub``    sums of equal shapes
``Div``            a matrix divided by a 1x1 value
``Pow``            a 1x1 value to an integer power
``Transpose``,     as written
``Neg``
``Apply``          an elementwise function: registered, or declared opaque
``Call``           a registered operation, its dimension/integer ``params`` apart
=================  ===========================================================

No later pass re-derives what ``*`` meant: it reads the node's type.  Nodes are
immutable and compare structurally (position and shape are ignored), so equal
subexpressions can be collected.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from typing import Callable, Iterator

from .dims import is_scalar


@dataclass(frozen=True, kw_only=True)
class Node:
    """Base of all nodes.  ``pos`` is the 1-based column in the source."""

    pos: int = field(default=0, compare=False, repr=False)
    shape: tuple | None = field(default=None, compare=False, repr=False)

    def children(self) -> tuple["Node", ...]:
        out = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Node):
                out.append(value)
            elif isinstance(value, tuple) and value and isinstance(value[0], Node):
                out.extend(value)
        return tuple(out)

    def walk(self) -> Iterator["Node"]:
        """All nodes of the tree, parents before children."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children()))

    def with_children(self, new: tuple["Node", ...]) -> "Node":
        """A copy with the child nodes replaced (in ``children()`` order)."""
        it = iter(new)
        changes = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Node):
                changes[f.name] = next(it)
            elif isinstance(value, tuple) and value and isinstance(value[0], Node):
                changes[f.name] = tuple(next(it) for _ in value)
        return replace(self, **changes)


@dataclass(frozen=True, kw_only=True)
class Num(Node):
    value: Fraction


@dataclass(frozen=True, kw_only=True)
class Sym(Node):
    name: str


@dataclass(frozen=True, kw_only=True)
class Neg(Node):
    arg: Node


@dataclass(frozen=True, kw_only=True)
class Binary(Node):
    """A node with a ``left`` and a ``right`` operand."""

    left: Node
    right: Node


@dataclass(frozen=True, kw_only=True)
class Add(Binary):
    """``+``; typed, of equal shapes (a 1x1 operand is a :class:`Broadcast`)."""


@dataclass(frozen=True, kw_only=True)
class Sub(Binary):
    """``-``; typed, of equal shapes (a 1x1 operand is a :class:`Broadcast`)."""


@dataclass(frozen=True, kw_only=True)
class MatMul(Binary):
    """``@``; typed, always the matrix product (a 1x1 operand whose inner
    dimension does not fit is a :class:`Scale`)."""


@dataclass(frozen=True, kw_only=True)
class Mul(Binary):
    """``*`` as written (surface only): the type pass lowers it into a
    :class:`Hadamard` product or a :class:`Scale`."""


@dataclass(frozen=True, kw_only=True)
class Hadamard(Binary):
    """The entrywise product of two operands of equal shape (typed, written ``*``)."""


@dataclass(frozen=True, kw_only=True)
class Scale(Binary):
    """A 1x1 operand times a matrix of another shape (typed).

    ``written`` is the operator the user wrote, ``*`` or ``@``; exactly one
    operand is 1x1, on either side."""

    written: str = "*"

    @property
    def scalar(self) -> Node:
        return self.left if is_scalar(self.left.shape) else self.right

    @property
    def matrix(self) -> Node:
        return self.right if is_scalar(self.left.shape) else self.left


@dataclass(frozen=True, kw_only=True)
class Div(Binary):
    """``/``: typed, a matrix divided by a 1x1 value."""


@dataclass(frozen=True, kw_only=True)
class Broadcast(Node):
    """A 1x1 value ``arg`` filled into ``shape`` (typed; printed as ``arg``)."""

    arg: Node


@dataclass(frozen=True, kw_only=True)
class Pow(Node):
    """``**``: a scalar to an integer power."""

    base: Node
    exponent: int


@dataclass(frozen=True, kw_only=True)
class Transpose(Node):
    arg: Node


@dataclass(frozen=True, kw_only=True)
class Call(Node):
    """A registered operation of whole matrices: ``tr(X)``, ``inv(X)``, ``eye(n)``...

    Surface calls hold every argument in ``args``; typed, ``args`` are the
    value arguments and ``params`` the dimension (:class:`~symbolic_bp.core.dims.Dim`)
    and integer parameters (``eye(n)``, ``matrix_power(X, 3)``), as the
    operation's registry entry declares them (keyword parameters such as
    ``axis=`` and ``keepdims=`` after the positional ones, defaults filled in).
    """

    name: str
    args: tuple
    params: tuple = ()
    keywords: tuple = ()     # surface only: the keyword arguments as written, (name, node) pairs


@dataclass(frozen=True, kw_only=True)
class Apply(Node):
    """An elementwise function, differentiated ``order`` times (primes)."""

    name: str
    arg: Node
    order: int = 0

    @property
    def label(self) -> str:
        return self.name + "'" * self.order


def num(value, **kw) -> Num:
    return Num(value=Fraction(value), **kw)


ZERO = num(0)
ONE = num(1)


# -- rebuilding a tree -------------------------------------------------------------------------



def substitute(tree: Node, rule: Callable[[Node], Node | None], *, bottom_up: bool = False,
               rebuilt: Callable[[Node], Node] | None = None) -> Node:
    """``tree`` with every node for which ``rule`` returns a node replaced by that node.

    Top-down (the default), ``rule`` sees the nodes of ``tree`` as they are,
    parents first, and a replacement is taken as it is (its nodes are not
    visited: a rule that wants them substituted too calls ``substitute``
    itself).  ``bottom_up``, ``rule`` sees each node after its children were
    substituted.  A node whose children changed is rebuilt with the new ones
    (:meth:`Node.with_children`) and passed through ``rebuilt`` when given (to
    drop a type that is now stale, say); an unchanged subtree is returned as
    the same object.  Recursive: one Python frame per level of the tree.

    >>> tree = Add(left=Sym(name="x"), right=Neg(arg=Sym(name="y")))
    >>> substitute(tree, lambda n: Sym(name="z") if n == Sym(name="y") else None)
    Add(left=Sym(name='x'), right=Neg(arg=Sym(name='z')))
    >>> substitute(tree, lambda n: n.arg if isinstance(n, Neg) else None)
    Add(left=Sym(name='x'), right=Sym(name='y'))
    >>> substitute(tree, lambda n: None) is tree
    True
    """
    def visit(node: Node) -> Node:
        if not bottom_up:
            new = rule(node)
            if new is not None:
                return new
        children = node.children()
        if children:
            changed = []
            for child in children:
                changed.append(visit(child))
            if any(a is not b for a, b in zip(changed, children)):
                node = node.with_children(tuple(changed))
                if rebuilt is not None:
                    node = rebuilt(node)
        if bottom_up:
            new = rule(node)
            if new is not None:
                return new
        return node
    return visit(tree)
