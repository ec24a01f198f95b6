"""Index notation: entries of matrix expressions as sums of index terms, and
the steps of an index proof on them (steps 1-5 of
:mod:`symbolic_bp.rendering.proof`).

A term is ``coef * sum_{summed} prod(factors)``; a factor is the entry of a
declared symbol (:class:`Element`), a derivative of one (:class:`Partial`), a
Kronecker delta (:class:`Delta`) or an elementwise function of an entry of a
matrix expression (:class:`Func`).  An index is a string; ``None`` stands for
a dimension of size 1 (no index).

>>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
>>> form = IndexForm()
>>> terms = form(parse_typed("y.T @ A @ x", parse_declarations("A:m,n x:n y:m")), None, None)
>>> [(f.name, f.idx) for f in terms[0].factors], terms[0].summed
([('y', ('_2', None)), ('A', ('_2', '_1')), ('x', ('_1', None))], ('_2', '_1'))
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from itertools import count, permutations

from ..core import registry
from ..core.dims import ONE, Dim, is_scalar
from ..core.expression import (
    Add, Apply, Broadcast, Call, Div, Hadamard, MatMul, Neg, Node, Num, Pow, Scale, Sub, Sym, Transpose,
)
from ..language.printer import to_text

MAX_TERMS = 64            # beyond this the proof would not be readable anyway
MAX_PERMUTED = 7          # summed indices canonicalised by trying every renaming


class Unsupported(Exception):
    """The claim is outside what the index prover handles (not an input error)."""


# -- index-notation objects ---------------------------------------------------------------

@dataclass(frozen=True)
class Element:
    """The entry ``name[row, col]`` of a declared symbol (``None`` where the
    dimension is 1: ``x_i`` of a column vector, ``s`` of a scalar)."""

    name: str
    idx: tuple


@dataclass(frozen=True)
class Partial:
    """``d name[idx] / d name[wrt_idx]``: equals ``delta delta`` (step 3)."""

    name: str
    idx: tuple
    wrt_idx: tuple


@dataclass(frozen=True)
class Delta:
    """The Kronecker delta ``delta_ab``."""

    a: str
    b: str


@dataclass(frozen=True)
class Func:
    """``[f^(order)(M)]_idx`` for an elementwise function f of the matrix M
    (``node``, a typed claim-language tree); ``arg`` is M in index form with
    the placeholder indices ``holes`` (``None`` where a dimension is 1) for
    its row and column."""

    name: str
    order: int
    node: Node
    idx: tuple
    arg: tuple = field(compare=False)
    holes: tuple = field(default=(None, None), compare=False)

    @property
    def label(self) -> str:
        return self.name + "'" * self.order


@dataclass(frozen=True)
class Power(Func):
    """``[M^{\\circ p}]_idx = (M_idx)^p``, an entrywise power with a rational
    exponent (``p = -1``: the reciprocal of ``A / B`` and of ``X / s``).  Its
    ``name`` is ``**p``, so that two powers of one matrix differ; it is never
    differentiated into a prime: ``d u^p = p u^(p-1) du``."""

    exponent: Fraction = Fraction(1)


@dataclass(frozen=True)
class Size:
    """A dimension used as a number (the N of ``1/N``): a constant factor."""

    dim: Dim

    @property
    def idx(self) -> tuple:
        return ()


@dataclass(frozen=True)
class Term:
    """``coef * sum_{summed} prod(factors)``."""

    coef: Fraction
    factors: tuple
    summed: tuple = ()


def _indices(factor) -> tuple:
    if isinstance(factor, Size):
        return ()
    if isinstance(factor, Delta):
        return (factor.a, factor.b)
    if isinstance(factor, Partial):
        return tuple(i for i in factor.idx + factor.wrt_idx if i is not None)
    return tuple(i for i in factor.idx if i is not None)


def _rename(factor, mapping: dict):
    """The factor with its (outer) indices renamed; a Func's argument is closed."""
    m = lambda i: mapping.get(i, i) if i is not None else None
    if isinstance(factor, Size):
        return factor
    if isinstance(factor, Delta):
        return Delta(m(factor.a), m(factor.b))
    if isinstance(factor, Partial):
        return Partial(factor.name, tuple(map(m, factor.idx)), tuple(map(m, factor.wrt_idx)))
    return replace(factor, idx=tuple(map(m, factor.idx)))


def _kept(shape, r, c) -> tuple:
    """The indices of an entry of a value of ``shape`` broadcast: none along a dimension 1."""
    return (r if shape[0] != ONE else None, c if shape[1] != ONE else None)


def _size_power(f) -> tuple[Dim, Fraction] | None:
    """(N, p) of a factor N (a :class:`Size`) or N^p (a power of one), else None."""
    if isinstance(f, Size):
        return f.dim, Fraction(1)
    if isinstance(f, Power) and len(f.arg) == 1 and f.arg[0].coef == 1 and not f.arg[0].summed \
            and len(f.arg[0].factors) == 1 and isinstance(f.arg[0].factors[0], Size):
        return f.arg[0].factors[0].dim, f.exponent
    return None


def _power_base(f) -> tuple | None:
    """(base key, exponent) of a factor that is a power of an entry: a Power,
    or an Element beside a Power of the same entry (x_k x_k^{-1})."""
    if isinstance(f, Power):
        return (to_text(f.node), f.idx), f.exponent
    if isinstance(f, Element):
        return (f.name, f.idx), Fraction(1)
    return None


def _powers(t: Term) -> Term:
    """Powers of one entry multiplied: ``u_k^{-1} u_k^{-1} = u_k^{-2}``,
    ``x_k x_k^{-1} = 1`` (a Power of a symbol's entry with exponent 1 is the entry)."""
    t = _sizes(t)
    bases = [_power_base(f) for f in t.factors]
    keys = [b[0] for b, f in zip(bases, t.factors) if b is not None and isinstance(f, Power)]
    if not keys or all(sum(1 for b in bases if b is not None and b[0] == k) < 2 for k in keys):
        return t
    exponents: dict = {}
    template: dict = {}
    factors = []
    for f, b in zip(t.factors, bases):
        if b is None or b[0] not in keys:
            factors.append(f)
            continue
        exponents[b[0]] = exponents.get(b[0], Fraction(0)) + b[1]
        if isinstance(f, Power):
            template.setdefault(b[0], f)
    for key, p in exponents.items():
        base = template[key]
        if p == 0:
            continue
        if p == 1 and isinstance(base.node, Sym):
            factors.append(Element(base.node.name, base.idx))
        else:
            factors.append(replace(base, name=f"**{p}", exponent=p))
    return Term(t.coef, tuple(factors), t.summed)


def _sizes(t: Term) -> Term:
    """The sizes of a term gathered: ``N N^{-1}`` cancels, ``N^{-1} N^{-1}`` is ``N^{-2}``."""
    found = [(k, _size_power(f)) for k, f in enumerate(t.factors)]
    sized = [(k, dp) for k, dp in found if dp is not None]
    if len(sized) < 2:
        return t
    exponents: dict = {}
    for k, (dim, p) in sized:
        exponents[dim] = exponents.get(dim, Fraction(0)) + p
    if len(exponents) == len(sized):
        return t
    factors = [f for f, dp in zip(t.factors, (dp for _, dp in found)) if dp is None]
    for dim, p in exponents.items():
        if p.denominator == 1 and p > 0:
            factors.extend([Size(dim)] * int(p))           # N N stays N N
        elif p != 0:
            base = next(t.factors[k] for k, (d, _) in sized if d == dim and isinstance(t.factors[k], Power))
            factors.append(replace(base, name=f"**{p}", exponent=p))
    return Term(t.coef, tuple(factors), t.summed)


def _product(left: list[Term], right: list[Term]) -> list[Term]:
    return [Term(a.coef * b.coef, a.factors + b.factors, a.summed + b.summed) for a in left for b in right]


# -- step 1: entries as sums of index terms -----------------------------------------------------

class IndexForm:
    """Entries of typed claim-language trees as sums of index terms.

    ``ranges`` maps every index made to its dimension."""

    def __init__(self, ranges: dict | None = None):
        self.ranges = {} if ranges is None else ranges
        self._fresh = count(1)

    def fresh(self, dim: Dim) -> str | None:
        if dim == ONE:
            return None
        name = f"_{next(self._fresh)}"
        self.ranges[name] = dim
        return name

    def __call__(self, node: Node, r, c) -> list[Term]:
        terms = getattr(self, "form_" + type(node).__name__, self.unsupported)(node, r, c)
        if len(terms) > MAX_TERMS:
            raise Unsupported(f"the cost has more than {MAX_TERMS} terms in index form")
        return [_powers(self._absorb(t)) for t in terms]

    def _absorb(self, t: Term) -> Term:
        """``sum_i f`` with no factor carrying i is ``N f`` (N the range of i):
        a sum of a broadcast value over the axis it was broadcast along."""
        carried = {i for f in t.factors for i in _indices(f)}
        loose = [i for i in t.summed if i not in carried]
        if not loose:
            return t
        return Term(t.coef, t.factors + tuple(Size(self.ranges[i]) for i in loose),
                    tuple(i for i in t.summed if i in carried))

    def unsupported(self, node, r, c):
        raise Unsupported(f"{type(node).__name__} is outside what the index prover handles")

    def form_Num(self, node: Num, r, c):
        return [Term(node.value, ())]

    def form_Sym(self, node: Sym, r, c):
        return [Term(Fraction(1), (Element(node.name, (r, c)),))]

    def form_Neg(self, node: Neg, r, c):
        return [replace(t, coef=-t.coef) for t in self(node.arg, r, c)]

    def form_Broadcast(self, node: Broadcast, r, c):
        # a 1x1 value, a row or a column filled into the shape: (s 1)_rc = s, (1 b)_rc = b_c, (a 1^T)_rc = a_r
        return self(node.arg, *_kept(node.arg.shape, r, c))

    def form_Add(self, node: Add, r, c):
        return self(node.left, r, c) + self(node.right, r, c)

    def form_Sub(self, node: Sub, r, c):
        return self(node.left, r, c) + [replace(t, coef=-t.coef) for t in self(node.right, r, c)]

    def form_Scale(self, node: Scale, r, c):
        # (s M)_rc = s M_rc, the factors in the order written
        if is_scalar(node.left.shape):
            return _product(self(node.left, None, None), self(node.right, r, c))
        return _product(self(node.left, r, c), self(node.right, None, None))

    def form_MatMul(self, node: MatMul, r, c):
        # (XY)_rc = sum_k X_rk Y_kc; no sum over a dimension of size 1
        k = self.fresh(node.left.shape[1])
        terms = _product(self(node.left, r, k), self(node.right, k, c))
        return [replace(t, summed=t.summed + (k,)) for t in terms] if k else terms

    def form_Hadamard(self, node: Hadamard, r, c):
        return _product(self(node.left, r, c), self(node.right, r, c))      # (X . Y)_rc = X_rc Y_rc

    def form_Div(self, node: Div, r, c):
        # (M / s)_rc = M_rc s^{-1}: a number divides the coefficient, anything else is a reciprocal factor
        if isinstance(node.right, Num):
            if node.right.value == 0:
                raise Unsupported("a division by the number 0 has no index form")
            return [replace(t, coef=t.coef / node.right.value) for t in self(node.left, r, c)]
        return _product(self(node.left, r, c), self.power(node.right, Fraction(-1), None, None))

    def form_Pow(self, node: Pow, r, c):
        return self.power(node.base, Fraction(node.exponent), None, None)

    def power(self, base: Node, p: Fraction, r, c) -> list[Term]:
        """``(base_rc)^p``: a positive integer power as a product of copies of
        the entry (each with its own summed indices), any other one as a
        :class:`Power` factor of the entry."""
        if p == 0:
            return [Term(Fraction(1), ())]
        if isinstance(base, Broadcast):              # ((1 b)_rc)^p = (b_c)^p
            return self.power(base.arg, p, *_kept(base.arg.shape, r, c))
        if p.denominator == 1 and 1 <= p <= 8:
            terms = [Term(Fraction(1), ())]
            for _ in range(int(p)):
                terms = _product(terms, self(base, r, c))
            return terms
        shape = base.shape
        holes = (self.fresh(shape[0]), self.fresh(shape[1]))
        template = tuple(self(base, *holes))
        return [Term(Fraction(1), (Power(f"**{p}", 0, base, (r, c), template, holes, exponent=p),))]

    def form_Transpose(self, node: Transpose, r, c):
        return self(node.arg, c, r)                                          # (X^T)_rc = X_cr

    def form_Apply(self, node: Apply, r, c):
        # [f(M)]_rc = f(M_rc): the argument is kept as a closed template
        if isinstance(node.arg, Broadcast):          # f(1 b)_rc = f(b)_c: the function of what is broadcast
            inner = node.arg.arg
            return self(replace(node, arg=inner, shape=inner.shape), *_kept(inner.shape, r, c))
        shape = node.arg.shape
        holes = (self.fresh(shape[0]), self.fresh(shape[1]))
        template = tuple(self(node.arg, *holes))
        return [Term(Fraction(1), (Func(node.name, node.order, node.arg, (r, c), template, holes),))]

    def form_Call(self, node: Call, r, c):
        # a registered operation's entry (r, c), from its registry entry's index rule
        local = ENTRYWISE_INDEX.get(node.name)
        if local is not None:
            return local(self, node, r, c)
        op = registry.operation(node.name)
        if op is None or op.index is None:
            raise Unsupported(no_index_form(node))
        return op.index(self, node, r, c)

    # -- what an operation's index rule may use -------------------------------------
    def summed(self, terms: list[Term], *indices) -> list[Term]:
        """``sum_{indices} terms`` (an index of None, a dimension 1, is no sum)."""
        extra = tuple(i for i in indices if i)
        return [replace(t, summed=t.summed + extra) for t in terms]

    def constant(self) -> list[Term]:
        """The entry 1."""
        return [Term(Fraction(1), ())]

    def with_delta(self, terms: list[Term], a, b) -> list[Term]:
        """``terms * delta_ab`` (no factor where a dimension is 1)."""
        if a is None or b is None:
            return terms
        return [replace(t, factors=t.factors + (Delta(a, b),)) for t in terms]

    def instantiate(self, func: Func) -> list[Term]:
        """The argument of ``func`` at its indices, with fresh summed indices."""
        mapping = {p: i for p, i in zip(func.holes, func.idx) if i is not None}
        out = []
        for t in func.arg:
            local = dict(mapping)
            for s in t.summed:
                local[s] = self.fresh(self.ranges[s])
            out.append(Term(t.coef, tuple(_rename(f, local) for f in t.factors), tuple(local[s] for s in t.summed)))
        return out


# the index rules of the entrywise operations of the NumPy dialect (they have the signature of
# Operation.index, and could live in their registry entries)

def _index_divide(form: IndexForm, node: Call, r, c) -> list[Term]:
    a, b = node.args                                   # (A / B)_rc = A_rc (B_rc)^{-1}
    return _product(form(a, r, c), form.power(b, Fraction(-1), r, c))


def _index_power(form: IndexForm, node: Call, r, c) -> list[Term]:
    return form.power(node.args[0], Fraction(node.params[0]), r, c)     # (X^{\\circ p})_rc = (X_rc)^p


def _index_size(form: IndexForm, node: Call, r, c) -> list[Term]:
    return [Term(Fraction(1), (Size(node.params[0]),))]                 # N, a constant


ENTRYWISE_INDEX = {"divide": _index_divide, "power": _index_power, "size": _index_size}


def no_index_form(node: Call) -> str:
    """Why a call stops the index prover, in plain words: which construct has
    no index form."""
    op = registry.operation(node.name)
    if op is not None and op.infix is not None:
        what = f"the comparison {op.infix!r} ({node.name}, an Iverson bracket [A {op.infix} B])"
    elif node.name in ("maximum", "minimum"):
        what = f"the entrywise {node.name[:3]}imum {node.name}(...)"
    elif op is not None and any(k.name == "axis" for k in op.keywords):
        what = f"the reduction {node.name}(...) (the entry where the {node.name[:3]}imum is attained)"
    else:
        what = f"{node.name}(...)"
    return f"{what} has no index form (the index prover writes the cost entry by entry)"


# -- steps 2-5: differentiate, deltas, contract, collect ------------------------------------------

def differentiate(terms: list[Term], wrt: str, wrt_idx: tuple, form: IndexForm) -> tuple[list[Term], set]:
    """d/d wrt[wrt_idx] of a sum of terms, and the rules used
    (linearity, product rule, chain rule)."""
    out, rules = [], {"linearity"}
    for t in terms:
        for pos, f in enumerate(t.factors):
            rest_before, rest_after = t.factors[:pos], t.factors[pos + 1:]
            for d in _d_factor(f, wrt, wrt_idx, form, rules):
                out.append(Term(t.coef * d.coef, rest_before + d.factors + rest_after, t.summed + d.summed))
        if sum(1 for f in t.factors if _depends(f, wrt)) > 1:
            rules.add("product rule")
    return out, rules


def _depends(factor, wrt: str) -> bool:
    if isinstance(factor, Element):
        return factor.name == wrt
    if isinstance(factor, Func):
        return any(_depends(g, wrt) for t in factor.arg for g in t.factors)
    return False


def _d_factor(f, wrt, wrt_idx, form, rules) -> list[Term]:
    if isinstance(f, Element):
        return [Term(Fraction(1), (Partial(f.name, f.idx, wrt_idx),))] if f.name == wrt else []
    if isinstance(f, Power) and _depends(f, wrt):
        rules.update(("chain rule", "power rule"))
        # d u^p = p u^(p-1) du (u^0 = 1: no factor)
        inner, _ = differentiate(form.instantiate(f), wrt, wrt_idx, form)
        p = f.exponent - 1
        outer = () if p == 0 else (replace(f, name=f"**{p}", exponent=p),)
        return [Term(t.coef * f.exponent, outer + t.factors, t.summed) for t in inner]
    if isinstance(f, Func) and _depends(f, wrt):
        rules.add("chain rule")
        # d f(u_k) = f'(u_k) d u_k
        inner, _ = differentiate(form.instantiate(f), wrt, wrt_idx, form)
        outer = replace(f, order=f.order + 1)
        return [Term(t.coef, (outer,) + t.factors, t.summed) for t in inner]
    return []


def kronecker(terms: list[Term]) -> list[Term]:
    """Replace every ``d a_ij / d a_cd`` by ``delta_ic delta_jd``."""
    out = []
    for t in terms:
        factors = []
        for f in t.factors:
            if isinstance(f, Partial):
                factors.extend(Delta(i, k) for i, k in zip(f.idx, f.wrt_idx) if i is not None)
            else:
                factors.append(f)
        out.append(replace(t, factors=tuple(factors)))
    return out


def contract(terms: list[Term]) -> list[Term]:
    """Sum out every Kronecker delta with a summed index: sum_i delta_ic f_i = f_c."""
    return [_contract_term(t) for t in terms]


def _contract_term(t: Term) -> Term:
    factors, summed = list(t.factors), list(t.summed)
    changed = True
    while changed:
        changed = False
        for pos, f in enumerate(factors):
            if not isinstance(f, Delta):
                continue
            if f.a == f.b:
                raise Unsupported("a trace of the identity (a sum of delta_ii) is outside the index prover")
            gone, stay = (f.a, f.b) if f.a in summed else (f.b, f.a) if f.b in summed else (None, None)
            if gone is None:
                continue
            factors = [_rename(g, {gone: stay}) for i, g in enumerate(factors) if i != pos]
            summed.remove(gone)
            changed = True
            break
    return Term(t.coef, tuple(factors), tuple(summed))


def _factor_key(f, mapping: dict):
    m = lambda i: mapping.get(i, i) if i is not None else "-"
    if isinstance(f, Size):
        return ("S", str(f.dim))
    if isinstance(f, Element):
        return ("E", f.name, tuple(map(m, f.idx)))
    if isinstance(f, Delta):
        return ("D",) + tuple(sorted((m(f.a), m(f.b))))
    if isinstance(f, Func):
        return ("F", f.name, f.order, to_text(f.node), tuple(map(m, f.idx)))
    return ("P", f.name, tuple(map(m, f.idx)), tuple(map(m, f.wrt_idx)))


def canonical(t: Term) -> tuple:
    """A key equal for two terms that differ only in the names of summed indices."""
    names = list(t.summed)
    orders = permutations(names) if len(names) <= MAX_PERMUTED else [tuple(names)]
    return min(tuple(sorted(_factor_key(f, {s: f"~{k}" for k, s in enumerate(order)}) for f in t.factors))
               for order in orders)


def collect(terms: list[Term]) -> list[Term]:
    """Equal terms (up to renaming summed indices) added up; zero terms dropped."""
    groups: dict = {}
    for t in terms:
        key = canonical(t)
        if key in groups:
            first = groups[key]
            groups[key] = replace(first, coef=first.coef + t.coef)
        else:
            groups[key] = t
    return [t for t in groups.values() if t.coef != 0]


def same_entries(a: Node, b: Node, ranges: dict, r, c) -> bool:
    """Whether two typed matrices have the same entry (r, c) as sums of index
    terms, up to the names of summed indices: products distributed over sums,
    entrywise products in any order, broadcasts, sums along an axis and
    powers of one entry gathered.  False (never an error) where either has no
    index form."""
    form = IndexForm(dict(ranges))
    form._fresh = count(10_000)                  # away from the proof's own indices
    try:
        left, right = collect(form(a, r, c)), collect(form(b, r, c))
    except (Unsupported, RecursionError):
        return False

    def keyed(terms):
        out: dict = {}
        for t in terms:
            key = canonical(t)
            out[key] = out.get(key, 0) + t.coef
        return {k: v for k, v in out.items() if v != 0}
    return keyed(left) == keyed(right)
