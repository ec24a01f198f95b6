"""Rewrite derived gradients into readable, equivalent claim-language trees.

The rules only ever replace an expression by an equal one:

* transposes move to the leaves: (AB)^T = B^T A^T, (A+B)^T = A^T + B^T,
  (A^T)^T = A, s^T = s for a 1x1 s, S^T = S for a declared symmetric S;
* numeric factors are pulled out of products, and equal terms of a sum are
  collected (so the two halves of d/dA 1/2 x^T A^T A x add up);
* matrix-product chains are re-associated to the left, as they are read;
* sum() and tr() of a 1x1 expression are the expression itself.

Every derived gradient is checked against entrywise differentiation anyway
(see :mod:`symbolic_bp.checks.checker`), so a bug here shows up as a loud
disagreement, never as a wrong verdict.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from ..core.expression import (
    Add, Apply, Binary, Broadcast, Call, Div, Hadamard, MatMul, Mul, Neg, Node, Num, Scale, Sub, Sym, Transpose, num,
)
from ..core import registry
from ..language.shapes import Declarations, Typer, is_flat, is_scalar, keyword_params
from .builder import Builder


class _Simplifier:
    def __init__(self, decls: Declarations):
        self.decls = decls
        self.type = Typer(decls, numpy_rules=False)
        self.b = Builder(decls)

    def __call__(self, node: Node) -> Node:
        children = node.children()
        if children:
            new = tuple(self(c) for c in children)
            if any(a is not b for a, b in zip(new, children)):
                # every rule returns an equal value, so of the same shape: the node keeps its type
                node = node.with_children(new)
        rule = getattr(self, "rule_" + type(node).__name__, None)
        return rule(node) if rule else node

    # -- transposes move to the leaves -------------------------------------------
    def rule_Transpose(self, node: Transpose) -> Node:
        a = node.arg
        if is_scalar(a.shape):
            return a
        if isinstance(a, Transpose):
            return a.arg
        if isinstance(a, Sym) and self.decls.symbols[a.name].prop in ("symmetric", "spd"):
            return a
        if isinstance(a, Call) and a.name == "eye":
            return a
        if isinstance(a, Call) and a.name == "ones":
            return self.b.ones(a.params[::-1])
        if isinstance(a, Call) and a.name == "inv" and self.symmetric(a.args[0]):
            return a
        t = lambda x: self(self.b.t(x))
        if isinstance(a, MatMul):           # (AB)^T = B^T A^T
            return self(self.b.matmul(t(a.right), t(a.left)))
        if isinstance(a, Broadcast):         # a repeated row transposed is a repeated column
            return self.type(Broadcast(arg=t(a.arg), shape=node.shape))
        if isinstance(a, (Add, Sub, Hadamard, Scale, Div)):
            # entrywise and scaling operations commute with the transpose; a 1x1 operand stays
            left = a.left if is_scalar(a.left.shape) else t(a.left)
            right = a.right if is_scalar(a.right.shape) or isinstance(a, Div) else t(a.right)
            return self(self.type(replace(a, left=left, right=right, shape=None)))
        if isinstance(a, Neg):
            return self(self.b.neg(t(a.arg)))
        if isinstance(a, Apply):
            return self(self.b.apply(a.name, t(a.arg), a.order))
        if isinstance(a, Call):
            return self.transposed_call(a, t) or node
        return node

    def transposed_call(self, a: Call, t) -> Node | None:
        """The transpose of a value NumPy holds as 1-D (which .T leaves as it is, so the text
        would not read back), moved inside: a reduction along an axis without keepdims
        becomes the column it is, the reduction with keepdims=True along axis 1; an entrywise
        operation of such values takes the transposes of its operands.  None: left as it is
        -- elsewhere the transpose of a call stays outside, so that the two sides of a tie
        test (X == max(X), from the adjoint of max) are computed alike in float64."""
        if not is_flat(a):
            return None
        op = registry.operation(a.name)
        kw = keyword_params(a)
        if kw.get("axis") is not None and kw.get("keepdims") is False:
            x = a.args[0] if kw["axis"] == 1 else t(a.args[0])
            values = dict(kw, axis=1, keepdims=True)
            params = a.params[:len(op.params)] + tuple(values[k.name] for k in op.keywords)
            return self(self.b.call(a.name, x, params=params))
        if op is not None and (op.broadcasts or op.name == "power"):
            args = tuple(x if is_scalar(x.shape) else t(x) for x in a.args)
            return self(self.type(replace(a, args=args, shape=None)))
        return None

    def symmetric(self, node: Node) -> bool:
        return isinstance(node, Sym) and self.decls.symbols[node.name].prop in ("symmetric", "spd")

    # -- sums and products: collect terms, pull out numbers ----------------------
    def terms(self, node: Node) -> list[tuple[Fraction, Node | None]]:
        """``node`` as sum(coef * core); a core of None is the number 1."""
        if isinstance(node, Num):
            return [(node.value, None)]
        if isinstance(node, Neg):
            return [(-c, t) for c, t in self.terms(node.arg)]
        if isinstance(node, (Add, Sub)):
            sign = -1 if isinstance(node, Sub) else 1
            return self.terms(node.left) + [(sign * c, t) for c, t in self.terms(node.right)]
        if isinstance(node, Div) and isinstance(node.right, Num) and node.right.value != 0:
            return [(c / node.right.value, t) for c, t in self.terms(node.left)]
        if isinstance(node, Broadcast):         # the value of a broadcast scalar, refilled by rebuild
            return self.terms(node.arg)
        if isinstance(node, (Hadamard, Scale, MatMul)):
            for number, other in ((node.left, node.right), (node.right, node.left)):
                # a number times anything of the product's shape is a coefficient
                if isinstance(number, Num) and (not isinstance(node, MatMul) or node.shape == other.shape):
                    return [(number.value * c, t) for c, t in self.terms(other)]
            left, right = self.single(node.left), self.single(node.right)
            if left and right and (left[0] != 1 or right[0] != 1):
                core = self.product(node, left[1], right[1])
                return [(left[0] * right[0], core)]
        return [(Fraction(1), node)]

    def single(self, node: Node):
        """``node`` as one (coef, core): a sum gives up its common factor."""
        terms = self.terms(node)
        if len(terms) == 1:
            return terms[0]
        common = _common_factor([c for c, _ in terms])
        if common == 1:
            return (Fraction(1), node)
        return (common, self.rebuild([(c / common, t) for c, t in terms], node.shape))

    def product(self, node, left, right):
        if left is None:
            return right
        if right is None:
            return left
        return self.type(replace(node, left=left, right=right, shape=None))

    def rebuild(self, terms: list[tuple[Fraction, Node | None]], shape) -> Node:
        merged: dict = {}
        for coef, core in terms:
            merged[core] = merged.get(core, Fraction(0)) + coef
        items = [(c, t) for t, c in merged.items() if c != 0]
        if not items:
            zero = self.type(num(0))
            return zero if is_scalar(shape) else self.type(Mul(left=zero, right=self.ones(shape)))
        out = None
        for coef, core in items:
            negative = out is not None and coef < 0
            part = self.scaled(-coef if negative else coef, core)
            if out is None:
                out = part
            else:
                out = self.type((Sub if negative else Add)(left=out, right=part))
        if out.shape != shape:
            # only broadcast scalars are left (0 * X + 2): keep the matrix shape
            out = self.type(Mul(left=out, right=self.ones(shape)))
        return out

    def ones(self, shape):
        return self.b.ones(shape)

    def scaled(self, coef: Fraction, core: Node | None) -> Node:
        if core is None:
            return self.type(num(coef))
        if coef == 1:
            return core
        if coef == -1:
            return self.type(Neg(arg=core))
        return self.type(Mul(left=self.type(num(coef)), right=core))

    def linear(self, node: Node) -> Node:
        terms = self.terms(node)
        if len(terms) == 1 and terms[0][0] == 1 and terms[0][1] is node:
            return node
        common = _common_factor([c for c, _ in terms]) if len(terms) > 1 else Fraction(1)
        if common != 1:     # 1/2 a - 1/2 b -> 1/2 * (a - b)
            inner = self.rebuild([(c / common, t) for c, t in terms], node.shape)
            out = self.scaled(common, inner)
        else:
            out = self.rebuild(terms, node.shape)
        if out.shape != node.shape:   # a bare number left in a broadcast context
            return node
        return out

    rule_Add = rule_Sub = rule_Neg = rule_Div = linear

    def rule_Scale(self, node: Binary) -> Node:
        if isinstance(node.left, Num) and node.left.value == 0 or \
                isinstance(node.right, Num) and node.right.value == 0:
            return self.rebuild([], node.shape)
        return self.linear(node)

    def rule_Hadamard(self, node: Hadamard) -> Node:
        for ones, other in ((node.left, node.right), (node.right, node.left)):
            if _is_call(ones, "ones") and not isinstance(other, Broadcast):    # ones * X = X
                return other
        return self.rule_Scale(node)

    def rule_MatMul(self, node: MatMul) -> Node:
        # I X = X I = X
        if _is_call(node.left, "eye"):
            return node.right
        if _is_call(node.right, "eye"):
            return node.left
        # left-associate chains: A @ (B @ C) -> (A @ B) @ C
        if isinstance(node.right, MatMul):
            inner = self.b.matmul(node.left, node.right.left)
            return self(self.b.matmul(inner, node.right.right))
        return self.linear(node)

    def rule_Call(self, node: Call) -> Node:
        if node.name in ("sum", "tr") and is_scalar(node.args[0].shape):
            return node.args[0]
        if node.name in ("eye", "ones") and is_scalar(node.shape):    # the 1x1 identity is 1
            return self.type(num(1))
        return node


MAX_FACTORED = 64      # a common factor is pulled out only if what is left are integers up to this


def _common_factor(coefs: list[Fraction]) -> Fraction:
    """The largest fraction dividing every coefficient, with the first one's
    sign; 1 where pulling it out would leave large coefficients (x + 1e-8 is
    not 1e-8 * (1e8 x + 1): the float64 check would see 1e8-sized intermediates).

    >>> _common_factor([Fraction(1, 2), Fraction(-3, 2)]), _common_factor([Fraction(1), Fraction(1, 10**8)])
    (Fraction(1, 2), Fraction(1, 1))
    """
    from math import gcd, lcm
    nonzero = [c for c in coefs if c != 0]
    if not nonzero:
        return Fraction(1)
    g = Fraction(gcd(*(c.numerator for c in nonzero)), lcm(*(c.denominator for c in nonzero)))
    if any(abs(c / g) > MAX_FACTORED for c in nonzero):
        return Fraction(1)
    return g if nonzero[0] > 0 else -g


def _is_call(node: Node, name: str) -> bool:
    return isinstance(node, Call) and node.name == name


def simplify(node: Node, decls: Declarations) -> Node:
    """An equal, simpler tree (typed)."""
    s = _Simplifier(decls)
    for _ in range(8):
        new = s(node)
        if new == node:
            return new
        node = new
    return node
