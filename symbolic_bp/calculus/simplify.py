"""Rewrite derived gradients into their textbook form: equal, shorter claim-language trees.

The rules only ever replace an expression by an equal one (equal wherever the
original is defined, and away from the kinks the checks avoid):

* known derivatives in closed form, from the registry entry of each
  elementwise function (``log'(u) = 1/u``, ``exp' = exp``, ``tanh' = 1 - tanh^2``,
  ``abs' = sign`` ...: the entry's ``derivative``);
* entrywise products are monomials: numbers are collected, equal factors
  combine into powers and cancel (``u**1 = u``, ``x / norm(x) * norm(x) = x``),
  ``sign(u) * u = abs(u)``, ``M * M = M`` for 0/1 data;
* sums collect like terms, then give up what all their terms share: a
  number (``1/2 a - 1/2 b = 1/2 (a - b)``), a factor, the first or last
  factors of matrix products (``A X B - A Y B = A (X - Y) B``);
* transposes move to the leaves: (AB)^T = B^T A^T, (A+B)^T = A^T + B^T,
  (A^T)^T = A, s^T = s for a 1x1 s, S^T = S for a declared symmetric S;
* matrix products are read from the left, the identity drops out, and equal
  neighbours become powers (``X @ X @ X = matrix_power(X, 3)``,
  ``inv(X) @ X = I``);
* reductions are linear: what is constant along the summed axis comes out
  of ``sum``, ``tr``, ``blocksum``, ``tilesum``; the rows of one-hot data
  sum to 1; the adjoints of ``kron`` fold back into
  ``sum``, ``tr`` and ``eye`` where they are those;
* sum() and tr() of a 1x1 expression are the expression itself.

Every derived gradient is checked against entrywise differentiation anyway
(see :mod:`symbolic_bp.checks.checker`), so a bug here shows up as a loud
disagreement, never as a wrong verdict.

>>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
>>> from symbolic_bp.language.printer import to_text
>>> d = parse_declarations("x:n X:n,n")
>>> to_text(simplify(parse_typed("2 * (norm(x)**1 * (x / norm(x)))", d), d))
'2 * x'
>>> to_text(simplify(parse_typed("2 * matrix_power(X, 2).T + X.T @ X.T", d), d))
'3 * matrix_power(X, 2).T'
>>> to_text(simplify(parse_typed("log'(x) * exp'(x) * x", d), d))
'exp(x)'
"""
from __future__ import annotations

from dataclasses import fields, replace
from fractions import Fraction
from functools import lru_cache

from ..core.dims import ONE, Dim
from ..core.expression import (
    Add, Apply, Broadcast, Call, Div, Hadamard, MatMul, Neg, Node, Num, Pow, Scale, Sub, Sym, Transpose, substitute,
)
from ..core import registry
from ..language.shapes import Declarations, Typer, is_flat, is_scalar, keyword_params
from .builder import Builder

# a term of a sum: (coefficient, factors), the factors ((base, exponent), ...) with distinct
# bases in the order first met; a base is a node that is no entrywise product, quotient or power
Factors = tuple
Term = tuple
ONE_COEF = Fraction(1)


class Simplifier:
    """The rules, one method per kind of node (``rule_MatMul``) or per registered
    operation (:data:`_CALL_RULES`), applied bottom-up; what it has computed is kept per
    node object, so one simplifier serves several trees of the same declarations."""

    def __init__(self, decls: Declarations):
        self.decls = decls
        self.type = Typer(decls, numpy_rules=False)
        self.b = Builder(decls)
        self.done: dict[int, tuple[Node, Node]] = {}       # id(node) -> (node, simplified)
        self.keys: dict[int, tuple[Node, int]] = {}        # id(node) -> (node, key)
        self.interned: dict[tuple, int] = {}
        self.products: dict[int, tuple] = {}                # id(node) -> (node, its monomial)
        self.sums: dict[int, tuple] = {}                    # id(node) -> (node, its terms)

    def simplify(self, node: Node) -> Node:
        """An equal, simpler tree: the rules applied until nothing changes (at most 8 passes).
        One simplifier for several trees of the same declarations shares what they share."""
        for _ in range(8):
            new = self(node)
            if new == node:
                return new
            node = new
        return node

    def __call__(self, node: Node) -> Node:
        seen = self.done.get(id(node))
        if seen is not None and seen[0] is node:
            return seen[1]
        original = node
        children = _children(node)
        if children:
            new = tuple(self(c) for c in children)
            if any(a is not b for a, b in zip(new, children)):
                # every rule returns an equal value, so of the same shape: the node keeps its type
                node = node.with_children(new)
        rule = getattr(self, "rule_" + type(node).__name__, None)
        out = rule(node) if rule else node
        self.done[id(original)] = (original, out)
        return out

    def key(self, node: Node) -> int:
        """A number per tree: equal trees (as compared, shapes and positions aside) get
        equal numbers, so that products and sums compare their factors at the cost of a
        dictionary look-up."""
        seen = self.keys.get(id(node))
        if seen is not None and seen[0] is node:
            return seen[1]
        own = tuple(getattr(node, name) for name in _own_fields(type(node)))
        signature = (type(node), own, tuple(self.key(c) for c in _children(node)))
        number = self.interned.setdefault(signature, len(self.interned))
        self.keys[id(node)] = (node, number)
        return number

    def same(self, a: Node, b: Node) -> bool:
        return a is b or self.key(a) == self.key(b)

    # -- transposes move to the leaves -------------------------------------------
    def rule_Transpose(self, node: Transpose) -> Node:
        a = node.arg
        if is_scalar(a.shape):
            return a
        if isinstance(a, Transpose):
            return a.arg
        if isinstance(a, Sym) and self.symmetric(a):
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

    # -- entrywise products: monomials -------------------------------------------------
    def product(self, node: Node) -> tuple[Fraction, Factors]:
        """``node`` as coef * prod(base ** exponent), entrywise (a 1x1 base scales)."""
        seen = self.products.get(id(node))
        if seen is not None and seen[0] is node:
            return seen[1]
        out = self._product(node)
        self.products[id(node)] = (node, out)
        return out

    def _product(self, node: Node) -> tuple[Fraction, Factors]:
        try:
            return self._monomial(node)
        except ZeroDivisionError:                   # a division by a 0 (undefined everywhere): as it is
            return ONE_COEF, ((node, 1),)

    def _monomial(self, node: Node) -> tuple[Fraction, Factors]:
        kind = type(node)
        if kind is Num:
            return node.value, ()
        if kind is Neg:
            c, f = self.product(node.arg)
            return -c, f
        if kind is Broadcast:                       # the same values, repeated
            return self.product(node.arg)
        if kind in (Hadamard, Scale):
            return self.times(self.product(node.left), self.product(node.right))
        if kind is Div:
            return self.times(self.product(node.left), self.raised(self.product(node.right), -1))
        if kind is Pow:
            return self.raised(self.product(node.base), node.exponent)
        if kind is MatMul:
            coef, scalars, core = self.chain(node)
            return coef, self.merge(scalars, ((core, 1),) if core is not None else ())
        if kind is Call:
            if node.name == "divide":
                return self.times(self.product(node.args[0]), self.raised(self.product(node.args[1]), -1))
            if node.name == "power" and isinstance(node.params[0], int):
                return self.raised(self.product(node.args[0]), node.params[0])
            if node.name == "power":               # a real power of a positive base: the base is whole
                return ONE_COEF, ((node.args[0], Fraction(node.params[0])),)
            if node.name == "ones":                 # a shape only
                return ONE_COEF, ()
            if node.name == "size" and len(node.params[0].factors()) > 1:     # the size m*n is m times n
                d = node.params[0]
                names = sorted(set(d.names))
                return Fraction(d.coef), tuple((self.size(Dim.of(name)), d.names.count(name)) for name in names)
        return Fraction(1), ((node, 1),)

    def raised(self, p: tuple[Fraction, Factors], k: int) -> tuple[Fraction, Factors]:
        """(coef * prod(b^e))^k for an integer k (ZeroDivisionError: 0 to a negative power)."""
        coef, factors = p
        if k == 0:
            return ONE_COEF, ()
        return Fraction(coef) ** k, self.identities(tuple((b, e * k) for b, e in factors))

    def times(self, a, b):
        return a[0] * b[0], self.merge(a[1], b[1])

    def merge(self, a: Factors, b: Factors) -> Factors:
        """The factors of a product: equal bases add their exponents (x * x^-1 = 1)."""
        if not b:
            return a
        if not a:
            return b
        out = {self.key(x): [x, e] for x, e in a}
        for x, e in b:
            k = self.key(x)
            if k in out:
                out[k][1] += e
            else:
                out[k] = [x, e]
        return self.identities(tuple((x, e) for x, e in out.values() if e != 0))

    def identities(self, factors: Factors) -> Factors:
        """Products that are simpler: 0/1 data is its own square (M * M = M); abs(u) =
        sign(u) * u, and beside u or abs(u) sign(u)^2 = 1 (where u = 0 the product is 0, or
        undefined, either way); sqrt(u)^2 = u (u >= 0 where sqrt is defined)."""
        if not any(isinstance(x, Sym) and e > 1 or isinstance(x, Apply) and x.name in ("sign", "sqrt")
                   for x, e in factors):
            return factors
        out = {self.key(x): [x, e] for x, e in factors}
        more: Factors = ()
        for base, e in factors:
            if isinstance(base, Apply) and base.name == "sqrt" and base.order == 0 and abs(e) > 1 and \
                    e.denominator == 1:
                coef, inner = self.product(base.arg)
                if coef == 1:
                    half = int(e / 2)                   # sqrt(u)^-3 = u^-1 sqrt(u)^-1
                    out[self.key(base)][1] = e - 2 * half
                    more = self.merge(more, tuple((b, k * half) for b, k in inner))
            if isinstance(base, Sym) and e > 1 and e.denominator == 1 and self.zero_one(base):
                out[self.key(base)][1] = 1
            if isinstance(base, Apply) and base.name == "sign" and base.order == 0 and self.key(base) in out:
                u, absolute = base.arg, _apply("abs", base.arg)
                keys = [self.key(base), self.key(absolute), self.key(u)]
                if keys[1] not in out and keys[2] not in out:
                    continue                            # sign(u)^2 is 1 only where u != 0: data can be 0
                if any(k in out and out[k][1].denominator != 1 for k in keys):
                    continue
                a, b, c = (out.pop(k)[1] if k in out else 0 for k in keys)
                parity, power = (a + b) % 2, b + c      # sign^a abs^b u^c = sign^(a+b) u^(b+c)
                if parity and power in (1, -1):
                    out[keys[1]] = [absolute, power]          # sign(u) u = abs(u), sign(u) / u = 1 / abs(u)
                else:
                    if parity:
                        out[keys[0]] = [base, 1]
                    if power:
                        out[keys[2]] = [u, power]
        result = tuple((x, e) for x, e in out.values() if e != 0)
        return self.merge(result, more) if more else result

    def zero_one(self, node: Sym) -> bool:
        symbol = self.decls.symbols.get(node.name)
        return symbol is not None and symbol.prop in ("onehot", "binary")

    # -- sums: terms -----------------------------------------------------------------------
    def terms(self, node: Node) -> list[Term]:
        """``node`` as sum(coef * monomial); a number times a sum is distributed."""
        seen = self.sums.get(id(node))
        if seen is not None and seen[0] is node:
            return seen[1]
        out = self._terms(node)
        self.sums[id(node)] = (node, out)
        return out

    def _terms(self, node: Node) -> list[Term]:
        kind = type(node)
        if kind is Add:
            return self.terms(node.left) + self.terms(node.right)
        if kind is Sub:
            return self.terms(node.left) + [(-c, f) for c, f in self.terms(node.right)]
        if kind is Neg:
            return [(-c, f) for c, f in self.terms(node.arg)]
        if kind is Broadcast:
            return self.terms(node.arg)
        coef, factors = self.product(node)
        if len(factors) == 1 and factors[0][1] == 1 and isinstance(factors[0][0], (Add, Sub)):
            return [(coef * c, f) for c, f in self.terms(factors[0][0])]
        return [(coef, factors)]

    def polynomial(self, terms: list[Term], shape) -> Node:
        """The tree of sum(terms) of ``shape``: like terms collected, the common factors of
        the terms pulled out."""
        merged: dict = {}
        for coef, factors in terms:
            key = frozenset((self.key(x), e) for x, e in factors)
            if key in merged:
                merged[key][0] += coef
            else:
                merged[key] = [coef, factors]
        items = [(c, f) for c, f in merged.values() if c != 0]
        if not items:
            return self.term(Fraction(0), (), shape)
        if len(items) == 1:
            return self.term(items[0][0], items[0][1], shape)
        first = next((i for i, (c, _) in enumerate(items) if c > 0), 0)    # b - a rather than -a + b
        items = [items[first]] + items[:first] + items[first + 1:]
        coef = _common_factor([c for c, _ in items])
        coef = Fraction(1) if abs(coef) == 1 else coef         # -a - b rather than -(a + b)
        shared = self.shared_factors([f for _, f in items])
        inner = [(c / coef, self.divided(f, shared)) for c, f in items]
        return self.term(coef, self.merge(shared, ((self.matmul_factored(inner), 1),)), shape)

    def divided(self, factors: Factors, shared: Factors) -> Factors:
        if not shared:
            return factors
        less = {self.key(x): e for x, e in shared}
        return tuple((x, e - less.get(self.key(x), 0)) for x, e in factors if e != less.get(self.key(x), 0))

    def shared_factors(self, monomials: list[Factors]) -> Factors:
        """The factors every monomial has, with the smallest exponent of one sign."""
        out = []
        for base, e in monomials[0]:
            k = self.key(base)
            exponents = [next((e for x, e in m if self.key(x) == k), 0) for m in monomials]
            if all(x > 0 for x in exponents):
                out.append((base, min(exponents)))
            elif all(x < 0 for x in exponents):
                out.append((base, max(exponents)))
        return tuple(out)

    def matmul_factored(self, terms: list[Term]) -> Node:
        """sum(terms), the first and last factors that every term's matrix product shares
        pulled out: A @ X @ B - A @ Y @ B = A @ (X - Y) @ B."""
        chains = []
        for coef, factors in terms:
            matrices = [(b, e) for b, e in factors if not is_scalar(b.shape)]
            if len(matrices) != 1 or matrices[0][1] != 1 or not isinstance(matrices[0][0], MatMul):
                return self.sum_tree(terms)
            chains.append(_operands(matrices[0][0]))
        shortest = min(len(c) for c in chains)
        head = 0
        while head < shortest - 1 and all(self.same(c[head], chains[0][head]) for c in chains):
            head += 1
        tail = 0
        while head + tail < shortest - 1 and all(self.same(c[-1 - tail], chains[0][-1 - tail]) for c in chains):
            tail += 1
        if head == tail == 0:
            return self.sum_tree(terms)
        inner = []
        for (coef, factors), ops in zip(terms, chains):
            middle = ops[head:len(ops) - tail]
            core = middle[0]
            for op in middle[1:]:
                core = self.b.matmul(core, op)
            scalars = tuple((b, e) for b, e in factors if is_scalar(b.shape))
            inner.append((coef, scalars + ((core, 1),)))
        first, last = chains[0][head], chains[0][len(chains[0]) - tail - 1]
        middle = self.polynomial(inner, (first.shape[0], last.shape[1]))
        ops = chains[0][:head] + [middle] + chains[0][len(chains[0]) - tail:]
        out = ops[0]
        for op in ops[1:]:
            out = self.b.matmul(out, op)
        return out

    def sum_tree(self, terms: list[Term]) -> Node:
        out = None
        for coef, factors in terms:
            negative = out is not None and coef < 0
            part = self.term(-coef if negative else coef, factors, None)
            out = part if out is None else (self.b.sub if negative else self.b.add)(out, part)
        return out

    def term(self, coef: Fraction, factors: Factors, shape) -> Node:
        """The tree of coef * prod(base ** e), in ``shape`` (None: its own):
        numbers and 1x1 factors first, then the others as met, divided by the
        negative powers; a matrix product takes the leading factors into its
        first operand (``2 * A @ x``), the sign into its first factor (``-A @ x``)."""
        top = [(b, e) for b, e in factors if e > 0]
        top = [f for f in top if is_scalar(f[0].shape)] + [f for f in top if not is_scalar(f[0].shape)]
        bottom = [(b, -e) for b, e in factors if e < 0]
        if coef == 0 or not top and not bottom:
            if shape is None or is_scalar(shape):
                return self.b.number(coef)
            ones = self.b.ones(shape)
            return ones if coef == 1 else self.b.neg(ones) if coef == -1 else self.b.mul(self.b.number(coef), ones)
        parts = [self.power(b, e) for b, e in top]
        under = None
        if coef.denominator != 1 and bottom:        # x / (2 * sqrt(y)) rather than 1/2 * x / sqrt(y)
            coef, under = Fraction(coef.numerator), self.b.number(coef.denominator)
        out = None
        if parts and abs(coef) == 1:
            if coef < 0:
                parts[0] = _negated(self.b, parts[0])
        else:
            out = self.b.number(coef)
        for part in parts:
            out = part if out is None else _lead_into(self.b, out, part)
        for i, (b, e) in enumerate(bottom):
            below = self.power(b, e)
            out = self.b.div(out, below if i or under is None else _lead_into(self.b, under, below))
        if shape is not None and out.shape != shape:
            out = self.b.mul(out, self.b.ones(shape))       # a 1x1, row or column value filled in
        return out

    def power(self, base: Node, e: Fraction) -> Node:
        if e == 1:
            return base
        k = int(e) if e.denominator == 1 else e
        if is_scalar(base.shape) and isinstance(k, int):
            return self.b.pow(base, k)
        return self.b.call("power", base, params=(k,))

    def normal(self, node: Node) -> Node:
        return self.polynomial(self.terms(node), node.shape)

    rule_Add = rule_Sub = rule_Neg = rule_Div = rule_Hadamard = rule_Scale = rule_Pow = normal

    # -- matrix products -----------------------------------------------------------------------
    def chain(self, node: MatMul) -> tuple[Fraction, Factors, Node | None]:
        """A matrix product as coef * (1x1 factors) * (product of matrices), the product
        read from the left, without identities, equal neighbours as powers."""
        coef, scalars, cores = Fraction(1), (), []
        for operand in _operands(node):
            if cores and is_flat(operand):
                operand = _row(operand)                 # NumPy reads a 1-D array right of @ as a column
            c, factors = self.product(operand)
            coef *= c
            scalars = self.merge(scalars, tuple((b, e) for b, e in factors if is_scalar(b.shape)))
            rest = tuple((b, e) for b, e in factors if not is_scalar(b.shape))
            if not is_scalar(operand.shape):
                whole = len(rest) == 1 and rest[0][0] is operand and rest[0][1] == 1
                cores.append(operand if whole else self.term(ONE_COEF, rest, operand.shape))
        powers: list[list] = []
        for core in cores:
            base, k, transposed = self.as_power(core)
            if k == 0:
                continue
            if powers and self.same(powers[-1][0], base) and powers[-1][2] == transposed:
                powers[-1][1] += k                      # X^a X^b = X^(a+b)
                if powers[-1][1] == 0:
                    powers.pop()
            else:
                powers.append([base, k, transposed])
        ops = [self.matrix_power(*p) for p in powers]
        if not ops:
            return coef, scalars, (None if is_scalar(node.shape) else self.b.eye(node.shape[0]))
        out = ops[0]
        for op in ops[1:]:
            out = self.b.matmul(out, op)
        return coef, scalars, out

    def as_power(self, node: Node) -> tuple[Node, int, bool]:
        """``node`` as (X, k, transposed): X^k or (X^k)^T; the identity is X^0."""
        if isinstance(node, Call) and node.name == "eye":
            return node, 0, False
        if isinstance(node, Transpose):
            base, k, transposed = self.as_power(node.arg)
            return base, k, not transposed
        if isinstance(node, Call) and node.name in ("inv", "matrix_power"):
            base, k, transposed = self.as_power(node.args[0])
            return base, k * (node.params[0] if node.name == "matrix_power" else -1), transposed
        return node, 1, False

    def matrix_power(self, base: Node, k: int, transposed: bool) -> Node:
        out = base if k == 1 else self.b.call("inv", base) if k == -1 else \
            self.b.call("matrix_power", base, params=(k,))
        return self.rule_Transpose(self.b.t(out)) if transposed else out

    def rule_MatMul(self, node: MatMul) -> Node:
        coef, scalars, core = self.chain(node)
        factors = self.merge(scalars, ((core, 1),) if core is not None else ())
        return self.term(coef, factors, node.shape)

    # -- elementwise functions: known derivatives in closed form ---------------------------
    def rule_Apply(self, node: Apply) -> Node:
        closed = _closed_form(node.name) if node.order == 1 else None
        if closed is None:
            return node
        u = node.arg                                # f'(u) as its registry entry writes it
        tree = substitute(closed, lambda n: u if isinstance(n, Sym) and n.name == "u" else None)
        return self(self.type(tree))

    # -- registered operations, one rule per name -------------------------------------------
    def rule_Call(self, node: Call) -> Node:
        rule = _CALL_RULES.get(node.name)
        return getattr(self, rule)(node) if rule else node

    def constant_call(self, node: Call) -> Node:
        if is_scalar(node.shape):                   # the 1x1 identity, the 1x1 ones: 1
            return self.b.number(1)
        return node

    def entrywise_call(self, node: Call) -> Node:
        return self.normal(node)

    def power_call(self, node: Call) -> Node:
        base, k, transposed = self.as_power(node)
        if k == 0:
            return self.b.eye(node.shape[0])
        out = self.matrix_power(base, k, transposed)
        return node if out == node else self(out)

    def linear_call(self, node: Call, constant) -> Node:
        """A linear reduction of its one argument: ``constant(base)`` says which factors
        are constant along what it sums, and come out (sum(s * X) = s * sum(X))."""
        coef, factors = self.product(node.args[0])
        out = tuple(f for f in factors if constant(f[0]))
        if coef == 1 and not out:
            return node
        rest = tuple(f for f in factors if not constant(f[0]))
        inner = self.term(Fraction(1), rest, node.args[0].shape)
        core = replace(node, args=(inner,) + node.args[1:])
        return self.term(coef, self.merge(out, ((self(core), 1),)), node.shape)

    def sum_call(self, node: Call) -> Node:
        x = node.args[0]
        axis, keepdims = node.params
        if is_scalar(x.shape):
            return x
        ones = self.onehot_sum(x, axis, keepdims)
        if ones is not None:
            return ones
        if keepdims and axis != 1:
            # the sum of all entries is 1x1, the sum down the rows a row, either way; NumPy's
            # 1-D row reads shorter, and is made 2-D again where 1-D is not read alike (right
            # of @: see chain)
            return self(replace(node, params=(axis, False)))
        if _is_call(x, "ones"):                      # the sum of ones counts them
            count = x.shape[0] * x.shape[1] if axis is None else x.shape[axis]
            return self.term(ONE_COEF, ((self.size(count), 1),), node.shape)
        if axis is None:
            along = lambda b: is_scalar(b.shape)
        elif axis == 1 and keepdims:
            along = lambda b: b.shape[1] == ONE
        elif axis == 0:
            along = lambda b: b.shape[0] == ONE
        else:                                       # a 1-D result: only numbers and 1x1 factors come out
            along = lambda b: is_scalar(b.shape)
        parts = self.terms(x)
        constant = [i for i, (_, f) in enumerate(parts) if all(along(b) for b, _ in f)]
        if len(parts) > 1 and constant:
            # sum(X - m) = sum(X) - n m for m constant along the axis: the terms that are sum apart
            varying = [p for i, p in enumerate(parts) if i not in constant]
            groups = ([self.polynomial(varying, x.shape)] if varying else []) + \
                [self.term(c, f, x.shape) for i, (c, f) in enumerate(parts) if i in constant]
            out = []
            for group in groups:
                out += self.terms(self(replace(node, args=(group,))))
            return self.polynomial(out, node.shape)
        return self.linear_call(node, along)

    def onehot_sum(self, x: Node, axis, keepdims) -> Node | None:
        """The sums of one-hot data: every row of a one-hot matrix sums to 1, a one-hot
        column vector (one-hot as a whole) to 1."""
        if not (isinstance(x, Sym) and self.decls.symbols[x.name].prop == "onehot"):
            return None
        rows, cols = x.shape
        if cols == ONE and rows != ONE:             # one-hot as a whole
            return self.b.number(1) if axis in (None, 0) else None
        if axis is None:
            return self.size(rows)
        if axis == 1:
            return self.b.ones((rows, ONE) if keepdims else (ONE, rows))
        return None

    def size(self, d: Dim) -> Node:
        """The dimension ``d`` as a number: a literal, else size(d)."""
        if not d.names:
            return self.b.number(d.coef)
        return self.b.call("size", params=(d,))

    def trace_call(self, node: Call) -> Node:
        x = node.args[0]
        if is_scalar(x.shape):
            return x
        if _is_call(x, "eye"):                        # tr(I_n) = n
            return self.size(x.params[0])
        if isinstance(x, Transpose):                 # tr(X^T) = tr(X)
            return self(self.b.call("tr", x.arg))
        return self.linear_call(node, lambda b: is_scalar(b.shape))

    def blocksum_call(self, node: Call) -> Node:
        return self.kron_sum(node, left=True)

    def tilesum_call(self, node: Call) -> Node:
        return self.kron_sum(node, left=False)

    def kron_sum(self, node: Call, left: bool) -> Node:
        """blocksum and tilesum, the adjoints of kron, of the Hadamard products that come
        out of them, folded back where they are simpler forms.  With K = kron(A, C),
        A m x n and C p x q:

        * blocksum(K, p, q) = sum(C) * A and tilesum(K, m, n) = sum(A) * C;
        * blocksum(eye(mp) * K, p, p) = tr(C) * (A * eye(m)) (m = n, p = q), and
          tilesum(eye(mp) * K, m, m) = tr(A) * (C * eye(p)); with A or C all ones,
          that is tr(C) * eye(m), tr(A) * eye(p);
        * a kron factor with ones on the side summed over is constant on each block
          (grid cell), and comes out: blocksum(kron(A, ones(p, q)) * G, p, q) =
          A * blocksum(G, p, q).
        """
        coef, factors = self.product(node.args[0])
        scalars = tuple(f for f in factors if is_scalar(f[0].shape))
        rest = [f for f in factors if not is_scalar(f[0].shape)]
        kron = [b for b, e in rest if e == 1 and _is_call(b, "kron")]
        block = tuple(node.params)
        out = None
        for k in kron:
            a, c = k.args
            summed, kept = (c, a) if left else (a, c)          # blocksum sums C's entries, tilesum A's
            others = [f for f in rest if f[0] is not k]
            if tuple(summed.shape) != block:
                continue
            if not others:                                     # the sum of each copy of C, times A
                out = self.b.mul(self(self.b.call("sum", summed)), kept)
            elif others == [(others[0][0], 1)] and _is_call(others[0][0], "eye") \
                    and summed.shape[0] == summed.shape[1] and kept.shape[0] == kept.shape[1]:
                diagonal = self.b.eye(kept.shape[0])          # the diagonal blocks' diagonals
                out = self.b.mul(self(self.b.call("tr", summed)),
                                 diagonal if _is_call(kept, "ones") else self.b.mul(kept, diagonal))
            if out is not None:
                break
        if out is None:
            # a factor kron(A, ones(p, q)) (blocksum) or kron(ones(m, n), C) (tilesum) is constant on
            # the blocks summed: it comes out as A (C)
            for k in kron:
                a, c = k.args
                constant, kept = (c, a) if left else (a, c)
                if _is_call(constant, "ones") and tuple(constant.shape) == block:
                    others = tuple(f for f in rest if f[0] is not k)
                    inner = self.term(Fraction(1), others, node.args[0].shape)
                    out = self.b.mul(kept, self(replace(node, args=(inner,))))
                    break
        if out is None:
            if coef == 1 and not scalars:
                return node
            inner = self.term(Fraction(1), tuple(rest), node.args[0].shape)
            out = self(replace(node, args=(inner,)))
            return self.term(coef, self.merge(scalars, ((out, 1),)), node.shape)
        return self(self.term(coef, self.merge(scalars, ((self(out), 1),)), node.shape))


# name -> the method that simplifies a call of that registered operation
_CALL_RULES = {
    "eye": "constant_call", "ones": "constant_call",
    "divide": "entrywise_call", "power": "entrywise_call",
    "matrix_power": "power_call", "inv": "power_call",
    "sum": "sum_call", "tr": "trace_call",
    "blocksum": "blocksum_call", "tilesum": "tilesum_call",
}


@lru_cache(maxsize=None)
def _closed_form(name: str) -> Node | None:
    """f'(u) of a registered function, as its registry entry writes it (a surface
    tree in ``u``), or None: an opaque function, no closed form, or an entry whose
    derivative reads best as f' (sigmoid')."""
    from ..language.parser import parse
    entry = registry.elementwise(name)
    if entry is None or entry.derivative is None or entry.keeps_prime:
        return None
    return parse(entry.derivative)


@lru_cache(maxsize=None)
def _child_fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind) if f.name in ("left", "right", "arg", "base", "args"))


def _children(node: Node) -> tuple[Node, ...]:
    """``node.children()``, read from the fields that hold them (a hot path)."""
    out: list = []
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, tuple):
            out.extend(value)
        else:
            out.append(value)
    return tuple(out)


@lru_cache(maxsize=None)
def _own_fields(kind: type) -> tuple[str, ...]:
    """The compared fields of a node class that are not child nodes (a name, a value, params)."""
    children = {"left", "right", "arg", "base", "args"}
    return tuple(f.name for f in fields(kind) if f.compare and f.name not in children)


def _apply(name: str, arg: Node) -> Apply:
    return Apply(name=name, arg=arg, shape=arg.shape)


def _row(node: Node) -> Node:
    """A 1-D value (a reduction down the rows, and what is computed from such entrywise) as
    the 1 x k row it is: keepdims=True."""
    if isinstance(node, Call) and node.name == "sum" and node.params == (0, False):
        return replace(node, params=(0, True))
    if isinstance(node, (Add, Sub, Hadamard, Scale, Div, Neg, Apply, Broadcast)) or \
            isinstance(node, Call) and node.name in ("divide", "power"):
        return node.with_children(tuple(_row(c) for c in node.children()))
    return node


def _operands(node: Node) -> list[Node]:
    """The operands of a chain of matrix products, left to right."""
    if isinstance(node, MatMul):
        return _operands(node.left) + _operands(node.right)
    return [node]


def _negated(b: Builder, node: Node) -> Node:
    """-node, the sign on the first factor of a product: -A @ x, -a * b."""
    if isinstance(node, MatMul):
        return b.matmul(_negated(b, node.left), node.right)
    return b.neg(node)


def _lead_into(b: Builder, lead: Node, node: Node) -> Node:
    """lead * node, with the factor ``lead`` taken into the first operand of a matrix
    product (2 * A @ x reads (2 * A) @ x)."""
    if isinstance(node, MatMul) and is_scalar(lead.shape):
        return b.matmul(_lead_into(b, lead, node.left), node.right)
    return b.mul(lead, node)


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
    return Simplifier(decls).simplify(node)
