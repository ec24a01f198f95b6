"""The project's own matrix-calculus: reverse-mode accumulation on the tree.

For a scalar cost C and a node N of the cost with adjoint G = dC/dN (shape of
N), each rule below hands every child its share of G.  The rules are the
standard matrix identities, one per operation; the result is simplified by
:mod:`symbolic_bp.calculus.simplify` into readable claim-language text.

Convention: the gradient with respect to X has the shape of X, entry (i,j)
being dC/dX_ij, with the entries of X treated as independent even when X is
declared symmetric (the "unstructured" gradient).

>>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
>>> from symbolic_bp.language.printer import to_text
>>> d = parse_declarations("A:m,n x:n y:m")
>>> to_text(gradient(parse_typed("y.T @ A @ x", d), "A", d))
'y @ x.T'
>>> to_text(gradient(parse_typed("1/2 * x.T @ A.T @ A @ x", d), "A", d))
'A @ x @ x.T'
"""
from __future__ import annotations

from ..core import registry
from ..core.expression import (
    Add, Apply, Broadcast, Call, Div, Hadamard, MatMul, Neg, Node, Pow, Scale, Sub, Sym, Transpose,
)
from ..language.shapes import Declarations, is_scalar
from .builder import Builder
from .simplify import Simplifier


class Backprop:
    """Walk the cost tree from the root, pushing adjoints to the leaves: one
    local rule per core node; a registered operation's rule is its registry
    entry's ``vjp``."""

    def __init__(self, wrt: set[str], decls: Declarations):
        self.b = Builder(decls)
        self.wrt = wrt
        self.found: dict[str, list[Node]] = {name: [] for name in wrt}

    def push(self, node: Node, g: Node) -> None:
        if not self.depends(node):
            return
        self.rule(node, g)

    def rule(self, node: Node, g: Node) -> None:
        getattr(self, "rule_" + type(node).__name__)(node, g)

    def depends(self, node: Node) -> bool:
        return any(isinstance(n, Sym) and n.name in self.wrt for n in node.walk())

    # -- one local rule per core node -------------------------------------------
    def rule_Sym(self, node: Sym, g):
        self.found[node.name].append(g)

    def rule_Neg(self, node: Neg, g):
        self.push(node.arg, self.b.neg(g))

    def rule_Broadcast(self, node: Broadcast, g):
        # a broadcast value receives the sum of G over the axes it was repeated along
        rows, cols = node.arg.shape
        if is_scalar(node.arg.shape):
            self.push(node.arg, self.b.call("sum", g))
        elif rows == node.shape[0]:                         # a column, repeated along the rows
            self.push(node.arg, self.b.call("sum", g, params=(1, True)))
        elif cols == node.shape[1]:                         # a row, repeated down the columns
            self.push(node.arg, self.b.call("sum", g, params=(0, True)))

    def rule_Add(self, node: Add, g):
        self.push(node.left, g)
        self.push(node.right, g)

    def rule_Sub(self, node: Sub, g):
        self.push(node.left, g)
        self.push(node.right, self.b.neg(g))

    def rule_Scale(self, node: Scale, g):
        s, m = node.scalar, node.matrix
        self.push(s, self.b.call("sum", self.b.mul(g, m)))  # N = s M: ds = sum(G * M)
        self.push(m, self.b.mul(s, g))                      # dM = s G

    def rule_MatMul(self, node: MatMul, g):
        a, b = node.left, node.right
        self.push(a, self.b.matmul(g, self.b.t(b)))        # d(AB)/dA: G B^T
        self.push(b, self.b.matmul(self.b.t(a), g))        # d(AB)/dB: A^T G

    def rule_Hadamard(self, node: Hadamard, g):
        self.push(node.left, self.b.mul(g, node.right))    # d(A*B)/dA: G * B
        self.push(node.right, self.b.mul(g, node.left))

    def rule_Div(self, node: Div, g):
        a, s = node.left, node.right
        self.push(a, self.b.div(g, s))                     # d(A/s)/dA = G / s
        # d(A/s)/ds = -sum(G * A) / s^2
        self.push(s, self.b.neg(self.b.div(self.b.call("sum", self.b.mul(g, a)), self.b.pow(s, 2))))

    def rule_Pow(self, node: Pow, g):
        k = node.exponent
        if k == 0:
            return
        factor = self.b.number(k) if k == 1 else self.b.mul(self.b.number(k), self.b.pow(node.base, k - 1))
        self.push(node.base, self.b.mul(factor, g))        # d(s^k)/ds = k s^(k-1)

    def rule_Transpose(self, node: Transpose, g):
        self.push(node.arg, self.b.t(g))

    def rule_Apply(self, node: Apply, g):
        # elementwise f: dC/du = G * f'(u)
        self.push(node.arg, self.b.mul(g, self.b.apply(node.name, node.arg, node.order + 1)))

    def rule_Call(self, node: Call, g):
        for arg, adjoint in zip(node.args, registry.operation(node.name).vjp(self.b, node, g)):
            if adjoint is not None:
                self.push(arg, adjoint)


def gradients(cost: Node, wrt: list[str], decls: Declarations) -> dict[str, Node]:
    """dC/dX for every X in ``wrt``, simplified; a zero gradient is ``0``."""
    if not is_scalar(cost.shape):
        raise ValueError("the cost must be a scalar")
    back = Backprop(set(wrt), decls)
    back.push(cost, back.b.number(1))
    out = {}
    simplifier = Simplifier(decls)          # the gradients share the cost's subexpressions
    for name in wrt:
        parts = back.found[name]
        total = parts[0] if parts else back.b.number(0)
        for part in parts[1:]:
            total = back.b.add(total, part)
        out[name] = simplifier.simplify(total)
    return out


def gradient(cost: Node, wrt: str, decls: Declarations) -> Node:
    """dC/d``wrt`` as a typed, simplified tree."""
    return gradients(cost, [wrt], decls)[wrt]
