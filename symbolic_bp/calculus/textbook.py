"""The derived gradient as a textbook writes it: the composite functions written back.

A derived gradient is a tree of primitives (the checks evaluate it, and every
macro is expanded by the type pass).  Where the definition of a registry
:class:`~symbolic_bp.core.registry.Macro` entry marked ``fold`` appears in it
(``exp(z) / sum(exp(z))``), the printed form writes the macro
(``softmax(z)``) -- the text reads back to the same tree, so the checks of
that text are the checks of the derived gradient.

Matching is by the macros' own definitions, nothing is written twice: a
macro applied to a placeholder ``u`` is expanded and simplified
(:mod:`symbolic_bp.calculus.simplify`) into a monomial; a factor of a product
in the gradient that has the shape of the monomial's first factor names the
argument x; the macro expanded at x and simplified must then be factors of
that product, which are replaced by the call.  Larger macros are tried first
(the variance before the mean it is made of), and a factor constant along
what a sum sums moves into the sum where that completes a macro there
(``sum(G * exp(S), axis=1, keepdims=True) / sum(exp(S), axis=1, keepdims=True)``
is ``sum(G * softmax(S, axis=1), axis=1, keepdims=True)``).

>>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
>>> from symbolic_bp.calculus.simplify import simplify
>>> d = parse_declarations("z:n y:n")
>>> g = simplify(parse_typed("exp(z) / sum(exp(z)) - y", d), d)
>>> textbook_text(g, d)
'softmax(z) - y'
>>> X = parse_declarations("X:n,k")
>>> textbook_text(simplify(parse_typed("X - sum(X, axis=0) / n", X), X), X)
'X - mean(X, axis=0)'
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from itertools import product as combinations

from ..core import registry
from ..core.dims import ONE, Dim, is_scalar
from ..core.expression import Call, Node, Num, Sym
from ..errors import InputError
from ..language.printer import to_text
from ..language.shapes import Declarations, Typer, parse_declarations
from .simplify import Simplifier

PLACEHOLDER = "u"           # the argument of a macro in its template (declared u:r,c there)
_TEMPLATE_DECLS = "u:r,c"
_VALUES = {"axis": (None, 0, 1), "bool": (False, True), "int": (0, 1)}     # the keyword values tried


def textbook(node: Node, decls: Declarations) -> Node:
    """``node``, a simplified derived gradient, with the foldable macros written as calls
    (for printing: a macro call is no typed core node)."""
    return _Folder(decls)(node)


def textbook_text(node: Node, decls: Declarations) -> str:
    """The claim-language text of a derived gradient in textbook form."""
    return to_text(textbook(node, decls))


@dataclass(frozen=True)
class _Template:
    """A macro with its keyword values, as the monomial its expansion simplifies to."""

    macro: object                  # the registry entry
    values: tuple                  # its keyword values, in the order of macro.keywords
    anchor: Node                   # the first factor that holds the placeholder
    sign: int                      # the sign of its exponent
    needs: frozenset               # (kind, name, sign) of every factor: a product without one is no match
    size: int                      # the number of nodes of the expansion (larger ones are tried first)

    @property
    def kw(self) -> dict:
        return {k.name: v for k, v in zip(self.macro.keywords, self.values)}

    def call(self, arg: Node, shape) -> Call:
        """The call that writes the macro, keyword arguments that differ from their defaults by name."""
        keywords = tuple((k.name, _value_node(v)) for k, v in zip(self.macro.keywords, self.values)
                         if v != k.default)
        return Call(name=self.macro.name, args=(arg,), keywords=keywords, shape=shape)


@lru_cache(maxsize=None)
def _templates() -> tuple[_Template, ...]:
    """The templates of the foldable macros, larger first.  A template's own factors are
    written with the smaller macros (the variance with the mean)."""
    registry.macro("mean")             # the tables are filled on first use
    decls = parse_declarations(_TEMPLATE_DECLS)
    u = Typer(decls, numpy_rules=False)(Sym(name=PLACEHOLDER))
    expansions = []
    for macro in registry.MACROS.values():
        if macro.fold:
            for values in combinations(*(_VALUES[k.kind] for k in macro.keywords)):
                kw = {k.name: v for k, v in zip(macro.keywords, values)}
                expansion = _Folder(decls, ()).expanded(macro, u, kw)
                if expansion is not None and expansion.factors:
                    expansions.append((expansion.size, macro, values, expansion.factors))
    out, seen = [], set()
    for size, macro, values, factors in sorted(expansions, key=lambda x: x[0]):
        folder = _Folder(decls, tuple(sorted((t for t in out if t.size < size), key=lambda t: -t.size)))
        factors = tuple((folder(b), e) for b, e in factors)
        anchor = next(((b, e) for b, e in factors if any(isinstance(n, Sym) and n.name == PLACEHOLDER
                                                              for n in b.walk())), None)
        signature = (macro.name, tuple((to_text(b), e) for b, e in factors))
        if anchor is None or signature in seen:
            continue
        seen.add(signature)                  # keepdims=True down the rows reads as without it
        needs = frozenset(_head(b) + (e > 0,) for b, e in factors)
        out.append(_Template(macro, values, anchor[0], 1 if anchor[1] > 0 else -1, needs, size))
    return tuple(sorted(out, key=lambda t: -t.size))


class _Folder:
    """Folds macros (``templates``, all when None) into a typed tree, bottom-up, product by product."""

    def __init__(self, decls: Declarations, templates: tuple | None = None):
        self.decls = decls
        self.templates = templates
        self.s = Simplifier(decls)
        self.done: dict[int, tuple[Node, Node]] = {}
        self.others: dict[int, _Folder] = {}

    def __call__(self, node: Node) -> Node:
        seen = self.done.get(id(node))
        if seen is not None and seen[0] is node:
            return seen[1]
        out = node
        children = node.children()
        if children:
            new = tuple(self(c) for c in children)
            if any(a is not b for a, b in zip(new, children)):
                out = node.with_children(new)
        out = self.fold(out)
        self.done[id(node)] = (node, out)
        return out

    def fold(self, node: Node) -> Node:
        if isinstance(node, (Num, Sym)):
            return node
        coef, factors = self.s.product(node)
        changed = False
        while True:
            found = self.match(coef, factors)
            if found is None:
                moved = self.absorbed(factors)
                if moved is None:
                    break
                found = coef, moved
            coef, factors = found
            changed = True
        return self.s.term(coef, factors, node.shape) if changed else node

    def absorbed(self, factors):
        """The factors with one that is constant along what a sum sums moved into it, where
        the sum then writes a macro: sum(G * exp(S), axis=1, keepdims=True) / sum(exp(S),
        axis=1, keepdims=True) is sum(G * softmax(S, axis=1), axis=1, keepdims=True).  None:
        no such move."""
        for i, (total, e) in enumerate(factors):
            if e != 1 or not (isinstance(total, Call) and total.name == "sum" and total.shape is not None):
                continue
            axis, keepdims = total.params
            for j, (b, k) in enumerate(factors):
                # sum(M) * c = sum(M * c) for c constant along the summed axis
                constant = is_scalar(b.shape) or axis == 1 and keepdims and b.shape[1] == ONE or \
                    axis == 0 and b.shape[0] == ONE
                if j == i or not constant or _calls(b):
                    continue
                x = total.args[0]
                coef, inner = self.s.product(x)
                moved = self(replace(total, args=(self.s.term(coef, self.s.merge(inner, ((b, k),)), x.shape),)))
                if _calls(moved) > _calls(total):
                    return tuple((moved, 1) if n == i else f for n, f in enumerate(factors) if n != j)
        return None

    def match(self, coef, factors):
        """The first template whose expansion is among ``factors``: (coef, factors) with
        it folded, or None."""
        templates = _templates() if self.templates is None else self.templates
        heads = {_head(b) + (e > 0,) for b, e in factors}
        for t in templates:
            if not t.needs <= heads:
                continue
            for base, e in factors:
                if (e > 0) != (t.sign > 0) or _head(t.anchor) != _head(base):
                    continue
                arg = _unify(t.anchor, base)
                if arg is None or is_scalar(arg.shape):
                    continue
                found = self.folded(t, arg, coef, factors)
                if found is not None:
                    return found
        return None

    def folded(self, t: _Template, arg: Node, coef, factors):
        """(coef, factors) with t's macro at ``arg`` written as its call, if its expansion is
        among the factors, else None."""
        expansion = self.smaller(t).expanded(t.macro, arg, t.kw)
        if expansion is None or not expansion.factors:
            return None
        c, wanted = expansion.coef, expansion.factors
        have = {self.s.key(b): e for b, e in factors}
        ratios = []
        for b, e in wanted:
            k = self.s.key(b)
            if k not in have or have[k] / e < 1:
                return None
            ratios.append(have[k] / e)
        times = int(min(ratios))
        new_coef = Fraction(coef) / Fraction(c) ** times
        if c != 1 and _plainness(new_coef) >= _plainness(Fraction(coef)):
            return None                      # 2 * sum(x) is not 6 * mean(x) of 3 rows
        less = {self.s.key(b): e * times for b, e in wanted}
        call = t.call(arg, expansion.shape)
        out = []
        for b, e in factors:                # the call where the first of its factors was
            k = self.s.key(b)
            if k in less and call is not None:
                out.append((call, times))
                call = None
            if e != less.get(k, 0):
                out.append((b, e - less.get(k, 0)))
        return new_coef, tuple(out)

    def smaller(self, t: _Template) -> "_Folder":
        """The folder of the expansion of ``t``: the macros smaller than it."""
        if t.size not in self.others:
            known = _templates() if self.templates is None else self.templates
            self.others[t.size] = _Folder(self.decls, tuple(x for x in known if x.size < t.size))
        return self.others[t.size]

    def expanded(self, macro, arg: Node, kw: dict) -> "_Expansion | None":
        """macro(arg) expanded, simplified, its factors folded by the macros of this folder;
        None where the macro does not expand at this shape."""
        try:
            tree = Typer(self.decls, numpy_rules=False)(macro.expand((arg,), kw))
        except (registry.ShapeError, InputError):         # a shape the macro refuses
            return None
        tree = self.s.simplify(tree)
        coef, factors = self.s.product(tree)
        size = sum(sum(1 for _ in b.walk()) for b, _ in factors)
        return _Expansion(coef, tuple((self(b), e) for b, e in factors), size, tree.shape)


@dataclass(frozen=True)
class _Expansion:
    coef: Fraction
    factors: tuple             # ((base, exponent), ...), the bases with the smaller macros written back
    size: int                  # the number of nodes of the bases before that
    shape: tuple


def _calls(node: Node) -> int:
    """How many macro calls ``node`` writes."""
    return sum(1 for n in node.walk() if isinstance(n, Call) and n.shape is not None
               and registry.macro(n.name) is not None)


def _plainness(value: Fraction) -> int:
    return abs(value.numerator) + value.denominator


def _value_node(value) -> Node:
    """A keyword value as the surface node that writes it: ``1``, ``None``, ``True``."""
    if value is None or isinstance(value, bool):
        return Sym(name=str(value))
    return Num(value=Fraction(value))


def _head(node: Node) -> tuple:
    return type(node).__name__, getattr(node, "name", None)


_CHILDREN = {"left", "right", "arg", "base", "args", "pos", "shape"}


def _unify(template: Node, node: Node) -> Node | None:
    """The subtree of ``node`` where ``template`` has its placeholder, when the two have
    the same structure elsewhere (dimensions of the placeholder's shape match any), else
    None."""
    binding: list[Node] = []

    def walk(t: Node, n: Node) -> bool:
        if isinstance(t, Sym) and t.name == PLACEHOLDER:
            if binding:
                return binding[0] == n
            binding.append(n)
            return True
        if type(t) is not type(n):
            return False
        for name in t.__dataclass_fields__:
            if name in _CHILDREN:
                continue
            a, b = getattr(t, name), getattr(n, name)
            if name == "params":
                if len(a) != len(b) or not all(_param_matches(x, y) for x, y in zip(a, b)):
                    return False
            elif a != b:
                return False
        tc, nc = t.children(), n.children()
        return len(tc) == len(nc) and all(walk(x, y) for x, y in zip(tc, nc))

    return binding[0] if walk(template, node) and binding else None


def _param_matches(t, n) -> bool:
    if isinstance(t, Dim) and set(t.names) & {"r", "c"}:
        return isinstance(n, Dim)          # a dimension of the placeholder's shape
    return t == n
