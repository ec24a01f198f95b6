"""Expression trees of the claim language.

A tree comes out of :mod:`symbolic_bp.language.parser` untyped (``shape is None``);
:mod:`symbolic_bp.language.shapes` returns a typed copy in which every node carries its
shape and, where an operator is overloaded (``*`` is Hadamard or scaling,
``+`` may broadcast a scalar, ``@`` with a 1x1 operand may scale), the
resolved ``kind``.  Nodes are immutable and compare structurally (position,
shape and kind are ignored), so equal subexpressions can be collected.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from typing import Iterator

# Functions of whole matrices, with their number of arguments.
MATRIX_FUNCTIONS = {
    "sum": 1, "tr": 1, "inv": 1, "det": 1, "logdet": 1, "norm": 1,
    "kron": 2, "matrix_power": 2, "eye": 1, "ones": 2,
    # adjoints of kron, used by derived gradients (see gradient.py)
    "blocksum": 3, "tilesum": 3,
}

# Elementwise functions whose derivatives are known; any other name applied
# to an argument is an opaque elementwise function.
KNOWN_ELEMENTWISE = ("sigmoid", "tanh", "relu", "exp", "log", "softplus")

RESERVED = set(MATRIX_FUNCTIONS) | set(KNOWN_ELEMENTWISE) | {"T"}


@dataclass(frozen=True, kw_only=True)
class Node:
    """Base of all nodes.  ``pos`` is the 1-based column in the source."""

    pos: int = field(default=0, compare=False, repr=False)
    shape: tuple | None = field(default=None, compare=False, repr=False)
    kind: str = field(default="", compare=False, repr=False)

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
class Add(Node):
    left: Node
    right: Node


@dataclass(frozen=True, kw_only=True)
class Sub(Node):
    left: Node
    right: Node


@dataclass(frozen=True, kw_only=True)
class MatMul(Node):
    left: Node
    right: Node


@dataclass(frozen=True, kw_only=True)
class Mul(Node):
    """``*``: Hadamard product, or a scalar times anything."""

    left: Node
    right: Node


@dataclass(frozen=True, kw_only=True)
class Div(Node):
    """``/`` by a scalar."""

    left: Node
    right: Node


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
    """A function of whole matrices: ``tr(X)``, ``inv(X)``, ``eye(n)``...

    Dimension arguments (of ``eye``, ``ones``, ``blocksum``, ``tilesum``) are
    kept as ``Sym``/``Num`` nodes and interpreted by the shape checker.
    """

    name: str
    args: tuple


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
