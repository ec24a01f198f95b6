"""Smart constructors: build typed trees from typed children.

Every derivation pass (reverse mode, simplification, the adjoint rules of the
registry) builds its trees here, so that each new node goes through the type
pass and is an explicit core node with its shape.

>>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
>>> from symbolic_bp.language.printer import to_text
>>> d = parse_declarations("A:m,n s:scalar")
>>> b = Builder(d)
>>> node = b.mul(parse_typed("s", d), b.t(parse_typed("A", d)))
>>> type(node).__name__, to_text(node), node.shape
('Scale', 's * A.T', (Dim('n'), Dim('m')))
>>> to_text(b.ones((Dim.of("m"), Dim(1))))
'ones(m, 1)'
"""
from __future__ import annotations

from ..core.dims import Dim
from ..core.expression import Add, Apply, Call, Div, MatMul, Mul, Neg, Node, Pow, Sub, Transpose, num
from ..language.shapes import Declarations, Typer


class Builder:
    """Typed nodes from typed children (``mul`` is ``*``: Hadamard or scaling)."""

    def __init__(self, decls: Declarations):
        self.type = Typer(decls, numpy_rules=False)

    def matmul(self, a: Node, b: Node) -> Node:
        return self.type(MatMul(left=a, right=b))

    def mul(self, a: Node, b: Node) -> Node:
        return self.type(Mul(left=a, right=b))

    def add(self, a: Node, b: Node) -> Node:
        return self.type(Add(left=a, right=b))

    def sub(self, a: Node, b: Node) -> Node:
        return self.type(Sub(left=a, right=b))

    def neg(self, a: Node) -> Node:
        return self.type(Neg(arg=a))

    def div(self, a: Node, b: Node) -> Node:
        return self.type(Div(left=a, right=b))

    def pow(self, a: Node, k: int) -> Node:
        return self.type(Pow(base=a, exponent=k))

    def t(self, a: Node) -> Node:
        return self.type(Transpose(arg=a))

    def call(self, name: str, *args: Node, params: tuple = ()) -> Node:
        return self.type(Call(name=name, args=tuple(args), params=tuple(params)))

    def apply(self, name: str, arg: Node, order: int) -> Node:
        return self.type(Apply(name=name, arg=arg, order=order))

    def ones(self, shape: tuple[Dim, Dim]) -> Node:
        return self.call("ones", params=shape)

    def eye(self, d: Dim) -> Node:
        return self.call("eye", params=(d,))

    def number(self, value) -> Node:
        return self.type(num(value))
