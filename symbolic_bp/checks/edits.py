"""Editing the user's tree: the small operations the catalogue of slips
(:mod:`symbolic_bp.checks.slips`) repairs a claim with, written so that the
repaired claim prints as close to the user's text as it can: a transpose
pushed to the leaves (never into an elementwise function's argument), a
factor folded into the factors already there (``2 * reg * W`` halved is
``reg * W``, ``dout * m`` over ``p`` is ``dout * m / p``, a sign turns a
difference around), a factor joining the product it belongs to.

Every function takes and returns surface trees (as parsed, before the type
pass); a node is found by identity, so of two equal subexpressions exactly
the one meant is edited.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import reduce

from ..core.expression import (
    Add,
    Apply,
    Call,
    Div,
    MatMul,
    Mul,
    Neg,
    Node,
    Num,
    Sub,
    Sym,
    Transpose,
    num,
    substitute,
)
from ..language.parser import parse  # noqa: F401 (the doctests parse)
from ..language.printer import to_text


def replaced(tree: Node, target: Node, new: Node) -> Node:
    """``tree`` with the node ``target`` (by identity) replaced by ``new``.

    >>> t = parse("a + a")
    >>> to_text(replaced(t, t.right, parse("b")))
    'a + b'
    """
    return substitute(tree, lambda node: new if node is target else None)


def replaced_all(tree: Node, mapping: dict[int, Node]) -> Node:
    """``tree`` with each node whose ``id`` is a key of ``mapping`` replaced."""
    return substitute(tree, lambda node: mapping.get(id(node)))


def spine(node: Node, kind: type) -> list[Node]:
    """The operands of a left-associated chain ``a op b op c`` of ``kind``
    (a parenthesised right operand stays whole, as the user grouped it).

    >>> [to_text(n) for n in spine(parse("a * (b * c) * d"), Mul)]
    ['a', 'b * c', 'd']
    """
    out = []
    while isinstance(node, kind):
        out.append(node.right)
        node = node.left
    out.append(node)
    return out[::-1]


def chained(nodes: list[Node], kind: type) -> Node:
    """The left-associated chain of ``nodes``: the inverse of :func:`spine`."""
    return reduce(lambda a, b: kind(left=a, right=b), nodes)


def terms(node: Node) -> list[tuple[int, Node]]:
    """The signed terms of a left-associated sum ``a - b + c``.

    >>> [(s, to_text(t)) for s, t in terms(parse("a - b + c"))]
    [(1, 'a'), (-1, 'b'), (1, 'c')]
    """
    out = []
    while isinstance(node, (Add, Sub)):
        out.append((1 if isinstance(node, Add) else -1, node.right))
        node = node.left
    out.append((1, node))
    return out[::-1]


def summed(signed: list[tuple[int, Node]]) -> Node:
    """The sum of signed terms: the inverse of :func:`terms`.

    >>> to_text(summed([(-1, parse("a")), (1, parse("b"))]))
    '-a + b'
    """
    (sign, first), rest = signed[0], signed[1:]
    out = first if sign > 0 else Neg(arg=first)
    for sign, t in rest:
        out = (Add if sign > 0 else Sub)(left=out, right=t)
    return out


def signed_terms(node: Node) -> list[tuple[int, Node]]:
    """The signed terms of a typed or surface sum, through negations:
    ``-(a - b)`` is ``-a + b``."""
    if isinstance(node, Neg):
        return [(-s, t) for s, t in signed_terms(node.arg)]
    if isinstance(node, (Add, Sub)):
        sign = 1 if isinstance(node, Add) else -1
        return signed_terms(node.left) + [(sign * s, t) for s, t in signed_terms(node.right)]
    return [(1, node)]


def transposed(node: Node, scalar: Callable[[Node], bool]) -> Node:
    """``node.T`` pushed to the leaves as a learner writes it: ``(A @ B).T``
    is ``B.T @ A.T``, ``A.T.T`` is ``A``; a transpose stays outside an
    elementwise function (never inside its argument).

    >>> to_text(transposed(parse("dout.T @ x"), lambda n: False))
    'x.T @ dout'
    """
    def t(n: Node) -> Node:
        if isinstance(n, Transpose):
            return n.arg
        if isinstance(n, MatMul):
            return MatMul(left=t(n.right), right=t(n.left))
        if isinstance(n, (Add, Sub)):
            return type(n)(left=t(n.left), right=t(n.right))
        if isinstance(n, Neg):
            return Neg(arg=t(n.arg))
        if isinstance(n, Mul):
            return Mul(left=n.left if scalar(n.left) else t(n.left), right=n.right if scalar(n.right) else t(n.right))
        if isinstance(n, Div) and scalar(n.right):
            return Div(left=t(n.left), right=n.right)
        if isinstance(n, Num) or scalar(n):
            return n
        return Transpose(arg=n)
    return t(node)


# -- constant factors ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Factor:
    """``q * atom**power``: a number, or a number times a size (``N``,
    ``sqrt(D)``) or a scalar symbol of the cost (``tau``) to the power +-1."""

    q: Fraction
    atom: Node | None = None
    power: int = 0
    size: bool = False          # the atom is a size (its natural unit is 1/N), not a symbol

    @property
    def inverse(self) -> Factor:
        return Factor(1 / self.q, self.atom, -self.power, self.size)

    @property
    def trivial(self) -> bool:
        return self.q == 1 and not self.power

    def text(self) -> str:
        """``2``, ``-1/2``, ``N``, ``1/N``, ``2/N``, ``tau``, ``-1/sqrt(D)``.

        >>> Factor(Fraction(2), parse("N"), -1, True).text(), Factor(Fraction(-1), parse("tau"), 1).text()
        ('2/N', '-tau')
        """
        if not self.power:
            return _number(self.q)
        atom, sign, q = to_text(self.atom), "-" if self.q < 0 else "", abs(self.q)
        if self.power > 0:
            return f"{sign}{atom}" if q == 1 else f"{sign}{_number(q)} * {atom}"
        if q.denominator == 1:
            return f"{sign}{q.numerator}/{atom}"
        return f"{sign}{q.numerator}/({q.denominator} * {atom})"

    def value(self, atoms: dict, e: int) -> float:
        """The factor's value at draw ``e`` (``atoms``: atom text -> values per draw)."""
        v = float(self.q)
        if self.power:
            v *= atoms[to_text(self.atom)][e] ** self.power
        return v


def _number(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def missing_factor_label(c: Factor) -> str:
    """Name the factor ``c`` that a claim (or a term) lacks: the truth is ``c``
    times what was written.

    >>> missing_factor_label(Factor(Fraction(1, 2))), missing_factor_label(Factor(Fraction(-1)))
    ('an extra factor 2', 'the wrong sign')
    >>> missing_factor_label(Factor(Fraction(1), parse("N"), -1, True))
    'a missing factor 1/N'
    >>> missing_factor_label(Factor(Fraction(1), parse("tau"), 1))
    'a missing factor tau'
    """
    sign = c.q < 0
    magnitude = Factor(abs(c.q), c.atom, c.power, c.size)
    if magnitude.trivial:
        return "the wrong sign"
    if not magnitude.power:
        q = magnitude.q
        what = (f"a missing factor {_number(q)}" if q.denominator == 1 else
                f"an extra factor {q.denominator}" if q.numerator == 1 else f"a factor {_number(q)} missing")
    else:
        # a size's natural unit is 1/N (a mean), a symbol's the symbol itself (tau, lambda)
        extra = magnitude.power > 0 if magnitude.size else magnitude.power < 0
        shown = magnitude.inverse if extra else magnitude
        what = f"{'an extra' if extra else 'a missing'} factor {shown.text()}"
    return f"the wrong sign and {what}" if sign else what


def times(node: Node, c: Factor) -> Node:
    """``node`` times the factor ``c``, written into the node's own factors
    where it can be: a number into its leading number, an atom cancelled
    against an equal divisor or factor, a sign into a difference.

    >>> to_text(times(parse("2 * reg * W"), Factor(Fraction(1, 2))))
    'reg * W'
    >>> to_text(times(parse("dout * m"), Factor(Fraction(1), parse("p"), -1)))
    'dout * m / p'
    >>> to_text(times(parse("Y - softmax(x)"), Factor(Fraction(-1))))
    'softmax(x) - Y'
    >>> to_text(times(parse("(1 / N) * x"), Factor(Fraction(1), parse("N"), 1, True)))
    'x'
    """
    q = c.q
    if isinstance(node, Neg):
        return times(node.arg, Factor(-q, c.atom, c.power, c.size))
    atom, power = c.atom, c.power
    if power:
        cancelled = _cancel(node, atom, power)
        if cancelled is not None:
            node, atom, power = cancelled, None, 0
    if q != 1:
        node = _times_number(node, q)
    if power > 0:
        node = Mul(left=atom, right=node)
    elif power < 0:
        node = Div(left=node, right=atom)
    return node


def _cancel(node: Node, atom: Node, power: int) -> Node | None:
    """``node * atom**power`` when it simplifies by cancelling, else None."""
    if power > 0:
        if isinstance(node, Div):
            if node.right == atom:
                return node.left
            inner = _cancel(node.left, atom, power)
            return None if inner is None else Div(left=inner, right=node.right)
        if isinstance(node, Mul):
            factors = spine(node, Mul)
            for i, f in enumerate(factors):
                if isinstance(f, Div) and f.right == atom:
                    rest = f.left
                    new = factors[:i] + ([] if rest == num(1) else [rest]) + factors[i + 1:]
                    return chained(new, Mul) if new else num(1)
        return None
    if node == atom:
        return num(1)
    if isinstance(node, Mul):
        factors = spine(node, Mul)
        for i, f in enumerate(factors):
            if f == atom:
                new = factors[:i] + factors[i + 1:]
                return chained(new, Mul)
        root = Apply(name="sqrt", arg=atom)
        if factors[-1] == root:             # M * sqrt(D) / D is M / sqrt(D)
            return Div(left=chained(factors[:-1], Mul), right=root)
    if isinstance(node, Div):
        inner = _cancel(node.left, atom, power)
        return None if inner is None else Div(left=inner, right=node.right)
    return None


def _times_number(node: Node, q: Fraction) -> Node:
    if isinstance(node, Neg):
        return _times_number(node.arg, -q)
    if isinstance(node, Div) and isinstance(node.right, Num) and node.right.value != 0:
        b = node.right.value / q
        if b == 1:
            return node.left
        if b.denominator == 1 and b > 1:
            return Div(left=node.left, right=num(b))
        return _times_number(node.left, 1 / b)
    if isinstance(node, Mul):
        factors = spine(node, Mul)
        if isinstance(factors[0], Num):
            v = factors[0].value * q
            rest = factors[1:]
            if v == 1:
                return chained(rest, Mul)
            if v == -1:
                return _times_number(chained(rest, Mul), Fraction(-1))
            return chained([num(v)] + rest, Mul)
        if q == -1:
            for i, f in enumerate(factors):
                if isinstance(f, Sub):      # -(a - b) * c is (b - a) * c
                    return chained(factors[:i] + [Sub(left=f.right, right=f.left)] + factors[i + 1:], Mul)
            return Neg(arg=node)
        for i, f in enumerate(factors):
            if isinstance(f, Div) and isinstance(f.right, Num):     # 2 * (lam / 2) * W is lam * W
                return chained(factors[:i] + [_times_number(f, q)] + factors[i + 1:], Mul)
        return chained([num(q)] + factors, Mul)
    if isinstance(node, MatMul) and q != -1:     # 2 * (A @ B) is 2 * A @ B
        factors = spine(node, MatMul)
        return chained([_times_number(factors[0], q)] + factors[1:], MatMul)
    if isinstance(node, Num):
        return num(node.value * q)
    if q == -1:
        if isinstance(node, Sub):
            return Sub(left=node.right, right=node.left)
        if isinstance(node, Div) and isinstance(node.left, (Sub, Mul, Neg)):
            return Div(left=_times_number(node.left, q), right=node.right)
        return Neg(arg=node)
    return Mul(left=num(q), right=node)


def multiplied(factor: Node, node: Node, scalar: Callable[[Node], bool], left: bool = True) -> Node:
    """``node`` with one more factor, written into its own product: ``dout / p``
    times ``m`` is ``m * dout / p``, ``(1 - s) * s`` times ``dout`` is
    ``dout * (1 - s) * s``.

    >>> to_text(multiplied(parse("m"), parse("dout / p"), lambda n: to_text(n) == "p"))
    'm * dout / p'
    """
    if isinstance(node, Div) and scalar(node.right):
        return Div(left=multiplied(factor, node.left, scalar, left), right=node.right)
    if isinstance(node, Mul) and not scalar(node):
        factors = spine(node, Mul)
        return chained([factor] + factors if left else factors + [factor], Mul)
    return Mul(left=factor, right=node) if left else Mul(left=node, right=factor)


def with_axis(call: Call, axis: int | None, keepdims: bool) -> Call:
    """``call`` reducing over ``axis`` (None: every entry), with ``keepdims``.

    >>> to_text(with_axis(parse("np.sum(dout, axis=1)"), 0, False))
    'sum(dout, axis=0)'
    """
    kept = tuple((k, v) for k, v in call.keywords if k not in ("axis", "keepdims"))
    if axis is not None:
        kept += (("axis", num(axis)),)
        if keepdims:
            kept += (("keepdims", Sym(name="True")),)
    return replace(call, keywords=kept)


def expanded(node: Node, deep: bool = True, limit: int = 24) -> list[tuple[int, Node]]:
    """The signed terms of a surface tree with its products, quotients and
    transposes distributed over its sums: ``(a + b) * c`` is ``a * c + b * c``
    (a node whose expansion would exceed ``limit`` terms stays whole).  Not
    ``deep``, the terms of a sum are kept whole (``(x - m) * s`` inside one).

    >>> [(s, to_text(t)) for s, t in expanded(parse("(a - b) * c @ d.T"))]
    [(1, 'a * c @ d.T'), (-1, 'b * c @ d.T')]
    >>> [to_text(t) for _, t in expanded(parse("g * (d - (x - m) * s) / v"), deep=False)]
    ['g * d / v', 'g * ((x - m) * s) / v']
    """
    if isinstance(node, (Add, Sub, Neg)):
        if not deep:
            return signed_terms(node)
        if isinstance(node, Neg):
            out = [(-s, t) for s, t in expanded(node.arg, deep, limit)]
        else:
            sign = 1 if isinstance(node, Add) else -1
            out = expanded(node.left, deep, limit) + [(sign * s, t) for s, t in expanded(node.right, deep, limit)]
    elif isinstance(node, (Mul, MatMul)):
        out = [(sa * sb, type(node)(left=a, right=b))
               for sa, a in expanded(node.left, deep, limit) for sb, b in expanded(node.right, deep, limit)]
    elif isinstance(node, Div):
        out = [(s, Div(left=t, right=node.right)) for s, t in expanded(node.left, deep, limit)]
    elif isinstance(node, Transpose):
        out = [(s, Transpose(arg=t)) for s, t in expanded(node.arg, deep, limit)]
    else:
        out = [(1, node)]
    return out if len(out) <= limit else [(1, node)]
