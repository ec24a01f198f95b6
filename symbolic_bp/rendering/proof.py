"""Index-notation proofs of gradient claims, every line checked before use.

The proof is the one the post does by hand, for all dimensions at once:

1. write the cost as a sum over indices, ``C = sum_{i,j} y_i a_ij x_j``
   (entries of products, transposes, Hadamard products, elementwise
   functions);
2. differentiate with respect to the entry ``a_cd`` (linearity, product rule,
   chain rule through elementwise functions);
3. replace ``da_ij/da_cd`` by ``delta_ic delta_jd``;
4. contract the Kronecker deltas (``sum_i delta_ic f_i = f_c``);
5. rename summed indices and collect equal terms;
6. reassemble the entry ``(c,d)`` into matrix form (``(u v^T)_cd = u_c v_d``,
   ``(XY)_cd = sum_k X_ck Y_kd``, ``(u . v)_k = u_k v_k``);
7. rearrange into the claim as written (associativity, distributivity,
   ``(XY)^T = Y^T X^T``).

Every line is then *checked*: both of its sides are evaluated on explicit
symbolic matrices (:func:`symbolic_bp.checks.exact.exact_truth`, whose gradient comes
from scalar calculus on the expanded cost -- a route that shares nothing with
this module) at two size assignments with all dimensions distinct, and
compared exactly.  Only a :class:`CheckedProof` can be printed; a line the
check rejects turns the whole proof into a :class:`NoProof` with the reason.

>>> from symbolic_bp.checks.claim import Claim
>>> p = index_proof(Claim(shapes="A:m,n x:n y:m", cost="y.T @ A @ x", wrt="A", claim="y @ x.T"))
>>> type(p).__name__, [line.rule for line in p.lines][:2]
('CheckedProof', ['the cost', 'entries of products and transposes'])
>>> index_proof(Claim(shapes="A:n,n", cost="det(A)", wrt="A", claim="det(A) * inv(A).T")).reason
'det(...) is outside what the index prover handles'
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from fractions import Fraction
from itertools import count, permutations

import numpy as np
import sympy as sp

from ..checks.budget import run_with_budget
from ..checks.claim import Claim, Prepared, prepare
from ..errors import InputError
from ..calculus.evaluate import Evaluator, ExactBackend
from ..checks.exact import exact_truth, unknowns, zero_test, SYMBOLIC_LIMIT
from ..core.expression import Add, Apply, Call, Div, MatMul, Mul, Neg, Node, Num, Pow, Sub, Sym, Transpose
from ..core import functions
from ..language.printer import to_text
from ..language.shapes import ONE, Dim, is_scalar, typecheck
from ..checks.sizes import exact_sizes, show_sizes

PROOF_SECONDS = 30.0
MAX_TERMS = 64            # beyond this the proof would not be readable anyway
MAX_PERMUTED = 7          # summed indices canonicalised by trying every renaming


class Unsupported(Exception):
    """The claim is outside what the index prover handles (not an input error)."""


# -- index-notation objects ---------------------------------------------------------------
# An index is a string; ``None`` stands for a dimension of size 1 (no index).

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
class Term:
    """``coef * sum_{summed} prod(factors)``."""

    coef: Fraction
    factors: tuple
    summed: tuple = ()


def _indices(factor) -> tuple:
    if isinstance(factor, Delta):
        return (factor.a, factor.b)
    if isinstance(factor, Partial):
        return tuple(i for i in factor.idx + factor.wrt_idx if i is not None)
    return tuple(i for i in factor.idx if i is not None)


def _rename(factor, mapping: dict):
    """The factor with its (outer) indices renamed; a Func's argument is closed."""
    m = lambda i: mapping.get(i, i) if i is not None else None
    if isinstance(factor, Delta):
        return Delta(m(factor.a), m(factor.b))
    if isinstance(factor, Partial):
        return Partial(factor.name, tuple(map(m, factor.idx)), tuple(map(m, factor.wrt_idx)))
    return replace(factor, idx=tuple(map(m, factor.idx)))


def _product(left: list[Term], right: list[Term]) -> list[Term]:
    return [Term(a.coef * b.coef, a.factors + b.factors, a.summed + b.summed) for a in left for b in right]


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
        return terms

    def unsupported(self, node, r, c):
        raise Unsupported(f"{type(node).__name__} is outside what the index prover handles")

    def form_Num(self, node: Num, r, c):
        return [Term(node.value, ())]

    def form_Sym(self, node: Sym, r, c):
        return [Term(Fraction(1), (Element(node.name, (r, c)),))]

    def form_Neg(self, node: Neg, r, c):
        return [replace(t, coef=-t.coef) for t in self(node.arg, r, c)]

    def _sides(self, node, r, c):
        left = self(node.left, None, None) if node.kind == "bcast_l" else self(node.left, r, c)
        right = self(node.right, None, None) if node.kind == "bcast_r" else self(node.right, r, c)
        return left, right

    def form_Add(self, node: Add, r, c):
        left, right = self._sides(node, r, c)
        return left + right

    def form_Sub(self, node: Sub, r, c):
        left, right = self._sides(node, r, c)
        return left + [replace(t, coef=-t.coef) for t in right]

    def _scaled(self, node, r, c):
        if node.kind == "scale_l":
            return _product(self(node.left, None, None), self(node.right, r, c))
        return _product(self(node.left, r, c), self(node.right, None, None))

    def form_MatMul(self, node: MatMul, r, c):
        if node.kind != "mat":
            return self._scaled(node, r, c)
        # (XY)_rc = sum_k X_rk Y_kc; no sum over a dimension of size 1
        k = self.fresh(node.left.shape[1])
        terms = _product(self(node.left, r, k), self(node.right, k, c))
        return [replace(t, summed=t.summed + (k,)) for t in terms] if k else terms

    def form_Mul(self, node: Mul, r, c):
        if node.kind != "hadamard":
            return self._scaled(node, r, c)
        return _product(self(node.left, r, c), self(node.right, r, c))      # (X . Y)_rc = X_rc Y_rc

    def form_Div(self, node: Div, r, c):
        if not isinstance(node.right, Num) or node.right.value == 0:
            raise Unsupported("division by anything but a nonzero number is outside the index prover")
        return [replace(t, coef=t.coef / node.right.value) for t in self(node.left, r, c)]

    def form_Pow(self, node: Pow, r, c):
        if node.exponent < 1:
            raise Unsupported("negative or zero powers are outside the index prover")
        terms = [Term(Fraction(1), ())]
        for _ in range(node.exponent):
            terms = _product(terms, self(node.base, None, None))
        return terms

    def form_Transpose(self, node: Transpose, r, c):
        return self(node.arg, c, r)                                          # (X^T)_rc = X_cr

    def form_Apply(self, node: Apply, r, c):
        # [f(M)]_rc = f(M_rc): the argument is kept as a closed template
        shape = node.arg.shape
        holes = (self.fresh(shape[0]), self.fresh(shape[1]))
        template = tuple(self(node.arg, *holes))
        return [Term(Fraction(1), (Func(node.name, node.order, node.arg, (r, c), template, holes),))]

    def form_Call(self, node: Call, r, c):
        if node.name == "sum":                                               # sum(X) = sum_ij X_ij
            arg = node.args[0]
            i, j = self.fresh(arg.shape[0]), self.fresh(arg.shape[1])
            return [replace(t, summed=t.summed + tuple(x for x in (i, j) if x)) for t in self(arg, i, j)]
        if node.name == "tr":                                                # tr(X) = sum_i X_ii
            arg = node.args[0]
            i = self.fresh(arg.shape[0])
            return [replace(t, summed=t.summed + ((i,) if i else ())) for t in self(arg, i, i)]
        if node.name == "ones":                                              # ones(m, n)_rc = 1
            return [Term(Fraction(1), ())]
        if node.name == "eye":                                               # eye(n)_rc = delta_rc
            return [Term(Fraction(1), (Delta(r, c),) if r is not None else ())]
        raise Unsupported(f"{node.name}(...) is outside what the index prover handles")

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


# -- the steps ----------------------------------------------------------------------------

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


# -- reassembly into matrix form ------------------------------------------------------------

def _t(node: Node) -> Node:
    return node.arg if isinstance(node, Transpose) else Transpose(arg=node)


def _hadamard(nodes: list[Node]) -> Node:
    out = nodes[0]
    for n in nodes[1:]:
        out = Mul(left=out, right=n)
    return out


def _leaf(f, ranges: dict):
    """(node, row index, column index) of a factor, as a matrix."""
    if isinstance(f, Element):
        return Sym(name=f.name), f.idx[0], f.idx[1]
    if isinstance(f, Func):
        return Apply(name=f.name, arg=f.node, order=f.order), f.idx[0], f.idx[1]
    if isinstance(f, Delta):
        return Call(name="eye", args=(_dim_node(ranges[f.a]),)), f.a, f.b
    raise Unsupported(f"cannot reassemble {type(f).__name__}")


def _dim_node(dim: Dim) -> Node:
    if len(dim.names) > 1 or (dim.names and dim.coef != 1):
        raise Unsupported("an identity or ones matrix of a product dimension is outside the index prover")
    return Sym(name=dim.names[0]) if dim.names else Num(value=Fraction(dim.coef))


class Reassembly:
    """The matrix whose entry (r, c) a term is: a tree walk over the indices."""

    def __init__(self, term: Term, ranges: dict):
        self.ranges = ranges
        self.vectors: dict = {}      # index -> column vectors v with v_index
        self.edges: list = []        # (node, row index, col index)
        self.scalars: list = []
        for f in term.factors:
            node, r, c = _leaf(f, ranges)
            if r is None and c is None:
                self.scalars.append(node)
            elif c is None:
                self.vectors.setdefault(r, []).append(node)
            elif r is None:
                self.vectors.setdefault(c, []).append(_t(node))
            elif r == c:
                raise Unsupported("a diagonal entry X_ii is outside what the index prover reassembles")
            else:
                self.edges.append((node, r, c))
        self.used_edges: set = set()
        self.visited: set = set()

    def vector(self, p: str, stop: set) -> Node:
        """The column vector u with u_p = product of everything hanging at p."""
        if p in self.visited:
            raise Unsupported("a closed loop of indices (a trace) is outside what the index prover reassembles")
        self.visited.add(p)
        parts = []
        for k, (node, r, c) in enumerate(self.edges):
            if k in self.used_edges or p not in (r, c):
                continue
            q = c if r == p else r
            if q in stop:
                raise Unsupported("an index joined to both free indices is outside the index prover")
            self.used_edges.add(k)
            oriented = node if r == p else _t(node)
            parts.append(MatMul(left=oriented, right=self.vector(q, stop)))
        parts += self.vectors.get(p, [])          # [A^T v . s]: products first, as on paper
        if not parts:
            # sum_i X_ci alone: X times the vector of ones
            parts = [Call(name="ones", args=(_dim_node(self.ranges[p]), Num(value=Fraction(1))))]
        return _hadamard(parts)

    def path(self, start: str, end: str) -> Node | None:
        """The product of matrices along the path start -> end, if there is one
        and nothing else hangs on it."""
        frontier = [(start, [])]
        seen = {start}
        while frontier:
            p, route = frontier.pop()
            if p == end:
                nodes = []
                for k, forward in route:
                    node, r, c = self.edges[k]
                    nodes.append(node if forward else _t(node))
                    self.used_edges.add(k)
                    self.visited.update((r, c))
                if any(i in self.vectors for k, _ in route for i in self.edges[k][1:]):
                    raise Unsupported("a vector hanging on a matrix chain is outside the index prover")
                out = nodes[0]
                for n in nodes[1:]:
                    out = MatMul(left=out, right=n)
                return out
            for k, (node, r, c) in enumerate(self.edges):
                if p in (r, c) and k not in self.used_edges:
                    q = c if r == p else r
                    if q not in seen:
                        seen.add(q)
                        frontier.append((q, route + [(k, r == p)]))
        return None

    def _hangs(self, p: str) -> bool:
        return bool(self.vectors.get(p)) or any(p in (a, b) for k, (_, a, b) in enumerate(self.edges)
                                                if k not in self.used_edges)

    def matrix(self, r, c) -> Node:
        if r is not None and c is not None:
            # matrices indexed by (r, c) itself multiply entrywise: X_rc Y_rc = (X . Y)_rc
            direct = []
            for k, (node, a, b) in enumerate(self.edges):
                if {a, b} == {r, c}:
                    direct.append(node if a == r else _t(node))
                    self.used_edges.add(k)
            chain = self.path(r, c)
            routes = [chain] if chain is not None else []
            if chain is None and (not direct or self._hangs(r) or self._hangs(c)):
                routes.append(MatMul(left=self.vector(r, {c}), right=_t(self.vector(c, {r}))))   # (u v^T)_rc = u_r v_c
            self.visited.update((r, c))
            body = _hadamard(routes + direct)            # [W^T delta] . s'(z), as on paper
        elif r is not None:
            body = self.vector(r, set())
        elif c is not None:
            body = _t(self.vector(c, set()))
        else:
            body = None
        scalars = list(self.scalars)
        for p in list(self.vectors) + [i for _, a, b in self.edges for i in (a, b)]:
            if p in self.visited:
                continue
            parts = self.vector_parts(p)
            scalars.append(MatMul(left=_t(parts[0]), right=_hadamard(parts[1:])) if len(parts) > 1
                           else Call(name="sum", args=(parts[0],)))
        if len(self.used_edges) != len(self.edges):
            raise Unsupported("a matrix left over after reassembly")
        factors = scalars + ([body] if body is not None else [])
        if not factors:
            return Num(value=Fraction(1))
        out = factors[0]
        for f in factors[1:]:
            out = Mul(left=out, right=f)
        return out

    def vector_parts(self, p: str) -> list[Node]:
        """A closed component rooted at p, as a list to combine into u^T (v . w)."""
        whole = self.vector(p, set())
        parts = []
        while isinstance(whole, Mul):
            parts.insert(0, whole.right)
            whole = whole.left
        return [whole] + parts


def _chain(node: Node) -> list[Node]:
    if isinstance(node, MatMul):
        return _chain(node.left) + _chain(node.right)
    return [node]


def left_associated(node: Node) -> Node:
    """Matrix products re-associated to the left, ``A @ (B @ x)`` -> ``A @ B @ x``
    (associativity; printed as on paper, without parentheses)."""
    if isinstance(node, MatMul):
        parts = [left_associated(n) for n in _chain(node)]
        out = parts[0]
        for p in parts[1:]:
            out = MatMul(left=out, right=p)
        return out
    return node.with_children(tuple(left_associated(n) for n in node.children())) if node.children() else node


def reassemble(terms: list[Term], ranges: dict, r, c) -> Node:
    """The untyped claim-language tree whose entry (r, c) is the sum of terms."""
    if not terms:
        raise Unsupported("the gradient is zero")
    out = None
    for t in terms:
        body = Reassembly(t, ranges).matrix(r, c)
        magnitude = abs(t.coef)
        if magnitude != 1:
            body = Mul(left=Num(value=magnitude), right=body)
        if out is None:
            out = Neg(arg=body) if t.coef < 0 else body
        else:
            out = (Sub if t.coef < 0 else Add)(left=out, right=body)
    return left_associated(out)


# -- rearrangement into the claim -------------------------------------------------------------

def normal_form(node: Node, used: set, transposed: bool = False) -> dict:
    """A typed tree as {(scalars, chain): coefficient}: transposes pushed to
    the leaves, products of sums distributed, chains flattened.  ``used``
    collects the rules applied."""
    return {k: v for k, v in _nf(node, transposed, used).items() if v != 0}


def _merge(a: dict, b: dict, sign=1) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + sign * v
    return out


def _nf(node: Node, transposed: bool, used: set) -> dict:
    if is_scalar(node.shape):
        transposed = False                  # a 1x1 matrix is its own transpose
    if isinstance(node, Transpose):
        if isinstance(node.arg, MatMul) and node.arg.kind == "mat":
            used.add("transpose of a product")
        return _nf(node.arg, not transposed, used)
    if isinstance(node, (Add, Sub)) and node.kind == "same":
        return _merge(_nf(node.left, transposed, used), _nf(node.right, transposed, used), 1 if isinstance(node, Add) else -1)
    if isinstance(node, Neg):
        return {k: -v for k, v in _nf(node.arg, transposed, used).items()}
    if isinstance(node, Num):
        return {((), ()): node.value}
    if isinstance(node, Div) and isinstance(node.right, Num):
        return {k: v / node.right.value for k, v in _nf(node.left, transposed, used).items()}
    if isinstance(node, (MatMul, Mul)) and is_scalar(node.left.shape) and is_scalar(node.right.shape):
        node = replace(node, kind="scale_l")      # a product of scalars commutes
    if isinstance(node, (MatMul, Mul)) and (node.kind in ("mat", "scale_l", "scale_r")):
        left, right = _nf(node.left, transposed, used), _nf(node.right, transposed, used)
        if node.kind == "mat" and transposed:
            left, right = right, left
        if len(left) > 1 or len(right) > 1:
            used.add("distributivity")
        out: dict = {}
        for (ls, lc), lv in left.items():
            for (rs, rc), rv in right.items():
                if node.kind == "mat":
                    key = (tuple(sorted(ls + rs)), lc + rc)
                elif node.kind == "scale_l":
                    key = (tuple(sorted(ls + rs + (lc,) if lc else ls + rs)), rc)
                else:
                    key = (tuple(sorted(ls + rs + (rc,) if rc else ls + rs)), lc)
                out[key] = out.get(key, 0) + lv * rv
        return out
    if isinstance(node, Mul) and node.kind == "hadamard":
        # X . Y = Y . X, and (X . Y)^T = X^T . Y^T: a leaf keyed by its sorted factors
        parts = [_key(n, transposed, used) for n in _hadamard_factors(node)]
        if parts != sorted(parts):
            used.add("commutativity of the Hadamard product")
        return {((), (("hadamard", tuple(sorted(parts))),)): Fraction(1)}
    if isinstance(node, Apply):
        # [f(M)]^T = f(M^T); the argument compared in normal form
        return {((), (("apply", node.label, _key(node.arg, transposed, used)),)): Fraction(1)}
    # any other leaf (a symbol, sum(...), ...) is compared by its text
    return {((), ((to_text(node), transposed),)): Fraction(1)}


def _hadamard_factors(node: Node) -> list[Node]:
    if isinstance(node, Mul) and node.kind == "hadamard":
        return _hadamard_factors(node.left) + _hadamard_factors(node.right)
    return [node]


def _key(node: Node, transposed: bool, used: set) -> str:
    return repr(sorted(normal_form(node, used, transposed).items()))


def rearrangement_rule(derived: Node, claim: Node) -> str | None:
    """The rules that turn ``derived`` into ``claim`` (typed trees), or None
    when they are not the same sum of products."""
    used: set = set()
    if normal_form(derived, used) != normal_form(claim, used):
        return None
    rules = ["associativity of the matrix product"] + sorted(used)
    return ", ".join(rules)


# f' of the known elementwise functions, in closed form where the claim language has it
KNOWN_DERIVATIVES = {
    "sigmoid": ("sigmoid' = sigmoid (1 - sigmoid)",
                lambda u: Mul(left=Apply(name="sigmoid", arg=u), right=Sub(left=Num(value=Fraction(1)),
                                                                            right=Apply(name="sigmoid", arg=u)))),
    "softplus": ("softplus' = sigmoid", lambda u: Apply(name="sigmoid", arg=u)),
    "tanh": ("tanh' = 1 - tanh^2", lambda u: Sub(left=Num(value=Fraction(1)),
                                                  right=Mul(left=Apply(name="tanh", arg=u), right=Apply(name="tanh", arg=u)))),
    "exp": ("exp' = exp", lambda u: Apply(name="exp", arg=u)),
}


def known_derivatives(node: Node) -> tuple[Node, list[str]]:
    """``node`` with f'(u) of known functions written in closed form, and the rules used."""
    used: list[str] = []

    def walk(n: Node) -> Node:
        if isinstance(n, Apply) and n.order == 1 and n.name in KNOWN_DERIVATIVES:
            rule, closed = KNOWN_DERIVATIVES[n.name]
            if rule not in used:
                used.append(rule)
            return closed(_untyped(n.arg))
        return n.with_children(tuple(walk(k) for k in n.children())) if n.children() else n
    return _untyped(walk(node)), used


def _untyped(node: Node) -> Node:
    """A copy without shapes and kinds, to be typed again."""
    node = replace(node, shape=None, kind="")
    return node.with_children(tuple(_untyped(k) for k in node.children())) if node.children() else node


# -- lines and their check -------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One line of a proof: ``lhs = body`` by ``rule``.

    ``lhs`` is "C" (the cost), "entry" (dC/dW_cd) or "matrix" (dC/dW); ``body``
    is a list of terms (index notation) or a typed tree; ``entry`` says the
    tree is read at the entry (c, d)."""

    lhs: str
    body: object
    rule: str
    entry: bool = False


@dataclass(frozen=True)
class CheckedProof:
    """A proof every line of which passed the check.  Made only by :func:`build`."""

    claim: Claim
    lines: tuple
    free: tuple                  # the free indices (row, col) of the gradient entry
    ranges: dict
    checked_at: tuple            # size assignments of the check
    hybrid: bool = False         # non-variable symbols were exact random rationals

    @property
    def evidence(self) -> str:
        where = " and ".join(f"({show_sizes(s)})" for s in self.checked_at)
        mode = ("explicit matrices (the variable symbolic, the other symbols exact random rationals)"
                if self.hybrid else "explicit symbolic matrices")
        return (f"Every line was checked by symbolic_bp before printing: both sides evaluated on {mode} "
                f"at {where} and compared exactly with the cost and with its entrywise derivative.")


@dataclass(frozen=True)
class NoProof:
    """Why no index proof is given."""

    reason: str


class _Checker:
    """Evaluate lines at explicit matrices and compare with the truth."""

    def __init__(self, prep: Prepared, ranges: dict, seed: int):
        self.prep, self.ranges = prep, ranges
        rng = random.Random(seed)
        self.sizes = exact_sizes(prep.decls.dims)
        self.hybrid = any(unknowns(prep, s) > SYMBOLIC_LIMIT for s in self.sizes)
        self.truths = [exact_truth(prep, s, rng if unknowns(prep, s) > SYMBOLIC_LIMIT else None) for s in self.sizes]
        self.costs = [Evaluator(ExactBackend(), t.sizes)(prep.cost, t.env)[0, 0] for t in self.truths]
        self.rng = rng

    def size(self, index: str, sizes: dict) -> int:
        return self.ranges[index].value(sizes)

    def tensor(self, terms, free: tuple, truth) -> np.ndarray:
        """The sum of terms as an array over the free indices (object dtype)."""
        shape = tuple(self.size(i, truth.sizes) for i in free)
        total = np.full(shape, sp.Integer(0), dtype=object)
        for t in terms:
            total = total + self.term(t, free, truth)
        return total

    def term(self, t: Term, free: tuple, truth) -> np.ndarray:
        letters: dict = {}

        def letter(i: str) -> str:
            return letters.setdefault(i, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(letters)])
        specs, operands = [], []
        for f in t.factors:
            value, idx = self.factor(f, truth)
            operands.append(value)
            specs.append("".join(letter(i) for i in idx))
        for i in free:
            if i not in letters:          # a term constant along a free index
                operands.append(np.full(self.size(i, truth.sizes), sp.Integer(1), dtype=object))
                specs.append(letter(i))
        if any(s not in letters for s in t.summed):
            # a sum of something constant in the index: a factor of a dimension
            raise Unsupported("a sum over an index that no factor carries (a factor of a dimension)")
        coef = sp.Rational(t.coef.numerator, t.coef.denominator)
        if not operands:
            return np.array(coef, dtype=object)
        value = np.einsum(",".join(specs) + "->" + "".join(letters[i] for i in free), *operands, optimize="greedy")
        return np.asarray(value, dtype=object) * coef

    def factor(self, f, truth):
        idx = _indices(f)
        if isinstance(f, Element):
            m = truth.env[f.name]
            rows = [k for k, i in enumerate(f.idx) if i is not None]
            arr = np.array(m.tolist(), dtype=object)
            if len(rows) == 2:
                return arr, idx
            if len(rows) == 1:
                return (arr[:, 0] if rows[0] == 0 else arr[0, :]), idx
            return np.array(arr[0, 0], dtype=object), idx
        if isinstance(f, (Delta, Partial)):
            # d a_ij / d a_cd = 1 exactly when (i,j) = (c,d): the identity tensor
            sizes = [self.size(i, truth.sizes) for i in idx]
            arr = np.empty(sizes, dtype=object)
            half = len(idx) // 2
            for pos in np.ndindex(*sizes):
                arr[pos] = sp.Integer(1 if pos[:half] == pos[half:] else 0)
            return arr, idx
        # [f(M)]_idx = f(M_idx), M evaluated from the index form of the argument
        placeholders = tuple(p for p in f.holes if p is not None)
        arg = self.tensor(list(f.arg), placeholders, truth)
        fn = functions.exact(f.name, f.order)
        return np.vectorize(lambda t: fn(sp.expand(t)), otypes=[object])(arg), idx

    def same(self, a, b) -> bool:
        a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
        if a.shape != b.shape:
            return False
        return all(zero_test(sp.expand(x - y), self.rng)[0] is True for x, y in zip(a.flat, b.flat))

    def truth_tensor(self, truth, free) -> np.ndarray:
        arr = np.array(truth.true.tolist(), dtype=object)
        keep = [k for k, i in enumerate(free) if i is not None]
        if len(keep) == 2:
            return arr
        if len(keep) == 1:
            return arr[:, 0] if keep[0] == 0 else arr[0, :]
        return np.array(arr[0, 0], dtype=object)

    def check(self, line: Line, free: tuple) -> bool:
        present = tuple(i for i in free if i is not None)
        for truth, cost in zip(self.truths, self.costs):
            if isinstance(line.body, list):
                value = self.tensor(line.body, present if line.lhs != "C" else (), truth)
            else:
                m = Evaluator(ExactBackend(), truth.sizes)(line.body, truth.env)
                value = np.array(m.tolist(), dtype=object)
                if line.lhs == "C":
                    value = value[0, 0]
                else:
                    value = self.truth_shape(value, free)
            want = np.array(cost, dtype=object) if line.lhs == "C" else self.truth_tensor(truth, free)
            if not self.same(value, want):
                return False
        return True

    def truth_shape(self, value, free):
        keep = [k for k, i in enumerate(free) if i is not None]
        if len(keep) == 2:
            return value
        if len(keep) == 1:
            return value[:, 0] if keep[0] == 0 else value[0, :]
        return value[0, 0]


def _rules_of_form(cost: Node) -> str:
    rules = ["entries of products and transposes"]
    kinds = {(type(n).__name__, n.kind) for n in cost.walk()}
    if ("Mul", "hadamard") in kinds:
        rules.append("entries of Hadamard products")
    if any(isinstance(n, Apply) for n in cost.walk()):
        rules.append("elementwise functions act entry by entry")
    if any(isinstance(n, Call) for n in cost.walk()):
        rules.append("sum and trace as sums of entries")
    return ", ".join(rules)


def build(prep: Prepared, seed: int = 0, check_line=None) -> CheckedProof | NoProof:
    """The index proof of a prepared claim, every line checked (no budget:
    see :func:`index_proof`).  ``check_line(line) -> bool`` replaces the check
    (tests use it to show that a rejected line is never printed)."""
    try:
        return _build(prep, seed, check_line)
    except Unsupported as e:
        return NoProof(str(e))


def _build(prep: Prepared, seed: int, check_line) -> CheckedProof | NoProof:
    ranges: dict = {}
    form = IndexForm(ranges)
    shape = prep.wrt_shape
    r = "c" if shape[0] != ONE else None
    c = "d" if shape[1] != ONE else None
    for name, dim in (("c", shape[0]), ("d", shape[1])):
        ranges[name] = dim
    free = (r, c)
    wrt_idx = free

    lines = [Line("C", prep.cost, "the cost")]
    cost_terms = form(prep.cost, None, None)
    lines.append(Line("C", cost_terms, _rules_of_form(prep.cost)))
    partial, rules = differentiate(cost_terms, prep.wrt, wrt_idx, form)
    order = ["linearity", "product rule", "chain rule"]
    lines.append(Line("entry", partial, "differentiate: " + ", ".join(r_ for r_ in order if r_ in rules)))
    deltas = kronecker(partial)
    lines.append(Line("entry", deltas, "derivative of an entry"))
    contracted = contract(deltas)
    lines.append(Line("entry", contracted, "Kronecker contraction"))
    collected = collect(contracted)
    if collected != contracted:
        lines.append(Line("entry", collected, "rename summed indices, collect equal terms"))
    if len(collected) > MAX_TERMS:
        raise Unsupported(f"the gradient has more than {MAX_TERMS} terms in index form")
    matrix = typecheck(reassemble(collected, ranges, r, c), prep.decls)
    lines.append(Line("entry", matrix, "reassemble into matrix form", entry=True))
    lines.append(Line("matrix", matrix, "holds for every entry, at every size"))
    if to_text(matrix) != to_text(prep.claim) and rearrangement_rule(matrix, prep.claim) is None:
        closed, used = known_derivatives(matrix)
        if used:
            matrix = typecheck(closed, prep.decls)
            lines.append(Line("matrix", matrix, "derivatives of known functions: " + ", ".join(used)))
    if to_text(matrix) != to_text(prep.claim):
        rule = rearrangement_rule(matrix, prep.claim)
        if rule is None:
            raise Unsupported(f"the claim is not a rearrangement of the reassembled gradient "
                              f"{to_text(matrix)} that the prover can justify")
        lines.append(Line("matrix", prep.claim, rule))

    checker = _Checker(prep, ranges, seed)
    for number, line in enumerate(lines[1:], start=2):
        ok = check_line(line) if check_line is not None else checker.check(line, free)
        if not ok:
            return NoProof(f"line {number} ({line.rule}) did not pass the check, so no proof is printed")
    return CheckedProof(prep.source, tuple(lines), free, dict(ranges), tuple(checker.sizes), checker.hybrid)


def index_proof(claim: Claim, *, seed: int = 0, seconds: float = PROOF_SECONDS) -> CheckedProof | NoProof:
    """The checked index proof of ``claim``, or why there is none.

    Runs in a forked worker under ``seconds``; never raises on bad input."""
    if not isinstance(claim, Claim):
        raise TypeError(f"index_proof needs a Claim, got {type(claim).__name__}")
    try:
        prep = prepare(claim)
    except InputError as e:
        return NoProof(f"invalid claim: {e}")
    outcome = run_with_budget(lambda progress: build(prep, claim.seed(seed)), seconds=seconds)
    if outcome.status != "done":
        reason = {"timeout": f"the time budget of {seconds:g} s ran out while checking the proof",
                  "memory": "the memory cap was hit while checking the proof"}.get(
            outcome.status, f"the proof could not be built ({outcome.status}: {outcome.value})")
        return NoProof(reason)
    result = outcome.value
    assert isinstance(result, (CheckedProof, NoProof)), result
    return result
