"""From index notation back to matrix form, and from there to the claim
(steps 6 and 7 of :mod:`symbolic_bp.rendering.proof`).

:func:`reassemble` turns the collected index terms of a gradient entry into
a claim-language tree (``(u v^T)_cd = u_c v_d``, ``(XY)_cd = sum_k X_ck
Y_kd``, ``(u . v)_k = u_k v_k``); :func:`rearrangement_rule` says which rules
(associativity, distributivity, ``(XY)^T = Y^T X^T``, commutativity of the
Hadamard product) turn one typed tree into another, comparing their normal
forms; :func:`known_derivatives` writes f'(u) of registered functions in
closed form, from their registry entries.

>>> from symbolic_bp.language.parser import parse
>>> from symbolic_bp.language.printer import to_text
>>> node, used = known_derivatives(parse("y * sigmoid'(A @ x)"))
>>> to_text(node), used
('y * (sigmoid(A @ x) * (1 - sigmoid(A @ x)))', ["sigmoid' = sigmoid (1 - sigmoid)"])
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from functools import lru_cache
from itertools import product

from ..core import registry
from ..core.dims import ONE, Dim, is_scalar
from ..core.expression import (
    Add, Apply, Broadcast, Call, Div, Hadamard, MatMul, Mul, Neg, Node, Num, Pow, Scale, Sub, Sym, Transpose,
    substitute,
)
from ..language.parser import parse
from ..language.printer import to_text
from ..language.shapes import untype
from .index_form import Delta, Element, Func, Power, Size, Term, Unsupported


# -- reassembly into matrix form ------------------------------------------------------------
# reassembly builds surface trees (Mul, MatMul, Call with dimension arguments), typed afterwards

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
    if isinstance(f, Size):
        return _dim_value(f.dim), None, None
    if isinstance(f, Power):
        p = f.exponent
        return Pow(base=f.node, exponent=int(p) if p.denominator == 1 else p), f.idx[0], f.idx[1]
    if isinstance(f, Func):
        return Apply(name=f.name, arg=f.node, order=f.order), f.idx[0], f.idx[1]
    if isinstance(f, Delta):
        return Call(name="eye", args=(_dim_node(ranges[f.a]),)), f.a, f.b
    raise Unsupported(f"cannot reassemble {type(f).__name__}")


def _dim_value(dim: Dim) -> Node:
    """A dimension as the number it is (typed: ``size``): ``N``, ``2 * n``."""
    out = Num(value=Fraction(dim.coef)) if dim.coef != 1 or not dim.names else None
    for name in dim.names:
        out = Sym(name=name) if out is None else Mul(left=out, right=Sym(name=name))
    return out


def _dim_node(dim: Dim) -> Node:
    if len(dim.names) > 1 or (dim.names and dim.coef != 1):
        raise Unsupported("an identity or ones matrix of a product dimension is outside the index prover")
    return Sym(name=dim.names[0]) if dim.names else Num(value=Fraction(dim.coef))


def _parallel(edges: list) -> list:
    """Matrices on the same pair of indices multiplied entrywise first:
    ``X_ik Y_ik = (X . Y)_ik``, ``X_ik Y_ki = (X . Y^T)_ik``."""
    merged: dict = {}
    for node, r, c in edges:
        key = frozenset((r, c))
        if key in merged:
            first, r0, c0 = merged[key]
            merged[key] = (Mul(left=first, right=node if (r, c) == (r0, c0) else _t(node)), r0, c0)
        else:
            merged[key] = (node, r, c)
    return list(merged.values())


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
        self.edges = _parallel(self.edges)
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
    def rule(n: Node) -> Node | None:
        # bottom-up, the factors of a product are already left-associated: fold them to the left
        if not isinstance(n, MatMul):
            return None
        parts = _chain(n)
        out = parts[0]
        for p in parts[1:]:
            out = MatMul(left=out, right=p)
        return out
    return substitute(node, rule, bottom_up=True)


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


def _product_kind(node: Node) -> str | None:
    """How a product multiplies: "mat" (a matrix product), "scale_l"/"scale_r"
    (the 1x1 factor on the left/right) or "hadamard"; None for any other node.
    A product of two 1x1 operands, whatever its operator, is a product of
    scalars and commutes: "scale_l"."""
    if not isinstance(node, (MatMul, Hadamard, Scale)):
        return None
    if is_scalar(node.left.shape) and is_scalar(node.right.shape):
        return "scale_l"
    if isinstance(node, Scale):
        return "scale_l" if is_scalar(node.left.shape) else "scale_r"
    return "mat" if isinstance(node, MatMul) else "hadamard"


def _combine(left: dict, right: dict, kind: str) -> dict:
    """The normal form of a product of two normal forms: ``mat`` (chains
    concatenated), ``scale_l``/``scale_r`` (the 1x1 side's chain becomes a scalar)."""
    out: dict = {}
    for (ls, lc), lv in left.items():
        for (rs, rc), rv in right.items():
            if kind == "mat":
                key = (tuple(sorted(ls + rs)), lc + rc)
            elif kind == "scale_l":
                key = (tuple(sorted(ls + rs + (lc,) if lc else ls + rs)), rc)
            else:
                key = (tuple(sorted(ls + rs + (rc,) if rc else ls + rs)), lc)
            out[key] = out.get(key, 0) + lv * rv
    return out


def _ones(rows, cols) -> Node:
    return Call(name="ones", args=(), params=(rows, cols), shape=(rows, cols))


def _power(base: Node, p) -> Node:
    """``base`` to the power ``p`` entrywise, typed (a 1x1 base to an integer power: Pow)."""
    if is_scalar(base.shape) and Fraction(p).denominator == 1:
        return Pow(base=base, exponent=int(p), shape=base.shape)
    return Call(name="power", args=(base,), params=(int(p) if Fraction(p).denominator == 1 else Fraction(p),),
                shape=base.shape)


def _power_of(node: Node):
    """(base, exponent) of a typed power, or None."""
    if isinstance(node, Pow):
        return node.base, Fraction(node.exponent)
    if isinstance(node, Call) and node.name == "power" and node.params and node.shape is not None:
        return node.args[0], Fraction(node.params[0])
    return None


def _lowered(node: Node, used: set) -> Node | None:
    """The NumPy constructs as products, which the normal form reads: a
    broadcast row ``1 b``, column ``a 1^T`` or 1x1 value ``s 1``; a sum along an
    axis ``1^T X`` / ``X 1``; ``M / s`` as ``s^{-1} M``; None for anything else."""
    power = _power_of(node)
    if power is not None and isinstance(power[0], Broadcast):
        # (b 1^T)^{\\circ p} = b^{\\circ p} 1^T: the power of what is broadcast
        return Broadcast(arg=_power(power[0].arg, power[1]), shape=node.shape)
    if isinstance(node, Apply) and isinstance(node.arg, Broadcast):
        return Broadcast(arg=replace(node, arg=node.arg.arg, shape=node.arg.arg.shape), shape=node.shape)
    if isinstance(node, Broadcast):
        rows, cols = node.shape
        arg = node.arg
        used.add("broadcasting as a product with ones")
        if is_scalar(arg.shape):
            return Scale(left=arg, right=_ones(rows, cols), shape=node.shape)
        if arg.shape[0] == ONE:
            return MatMul(left=_ones(rows, ONE), right=arg, shape=node.shape)
        return MatMul(left=arg, right=Transpose(arg=_ones(cols, ONE), shape=(ONE, cols)), shape=node.shape)
    if isinstance(node, Call) and node.name == "sum" and node.shape is not None and len(node.params) == 2 \
            and node.params[0] is not None:
        (x,), (axis, keepdims) = node.args, node.params
        rows, cols = x.shape
        used.add("sums along an axis as products with ones")
        if axis == 0:
            return MatMul(left=Transpose(arg=_ones(rows, ONE), shape=(ONE, rows)), right=x, shape=(ONE, cols))
        column = MatMul(left=x, right=_ones(cols, ONE), shape=(rows, ONE))
        return column if keepdims else Transpose(arg=column, shape=(ONE, rows))
    if isinstance(node, Div) and not isinstance(node.right, Num):
        used.add("quotients as powers")
        return Scale(left=_power(node.right, -1), right=node.left, shape=node.shape)
    return None


def _nf(node: Node, transposed: bool, used: set) -> dict:
    if is_scalar(node.shape):
        transposed = False                  # a 1x1 matrix is its own transpose
    if isinstance(node, Transpose):
        if isinstance(node.arg, MatMul):
            used.add("transpose of a product")
        return _nf(node.arg, not transposed, used)
    lowered = _lowered(node, used)
    if lowered is not None:
        return _nf(lowered, transposed, used)
    if isinstance(node, (Add, Sub)):
        return _merge(_nf(node.left, transposed, used), _nf(node.right, transposed, used), 1 if isinstance(node, Add) else -1)
    if isinstance(node, Neg):
        return {k: -v for k, v in _nf(node.arg, transposed, used).items()}
    if isinstance(node, Num):
        return {((), ()): node.value}
    if isinstance(node, Div) and isinstance(node.right, Num):
        return {k: v / node.right.value for k, v in _nf(node.left, transposed, used).items()}
    if isinstance(node, Call) and node.name == "ones" and node.shape is not None:
        rows, cols = node.shape if not transposed else node.shape[::-1]
        return {((), (("ones", str(rows), str(cols)),)): Fraction(1)}
    kind = _product_kind(node)
    if kind in ("mat", "scale_l", "scale_r"):
        left, right = _nf(node.left, transposed, used), _nf(node.right, transposed, used)
        if kind == "mat" and transposed:
            left, right = right, left
        if len(left) > 1 or len(right) > 1:
            used.add("distributivity")
        return _combine(left, right, kind)
    power = _power_of(node)
    if kind == "hadamard" or power is not None and power[1].denominator == 1 and power[1] >= 2 \
            or isinstance(node, Call) and node.name == "divide" and node.shape is not None:
        return _hadamard_nf(node, transposed, used)
    if power is not None:
        base, p = power
        inner = _power_of(base)
        while inner is not None and p.denominator == 1 and inner[1].denominator == 1:
            base, p = inner[0], p * inner[1]              # (B^2)^{-1} = B^{-2}
            used.add("powers of powers")
            inner = _power_of(base)
        if p == 1:
            return _nf(base, transposed, used)
        if p.denominator == 1 and p >= 2:
            return _hadamard_nf(_power(base, p), transposed, used)
        return {((), (("power", _key(base, transposed, used), p),)): Fraction(1)}
    if isinstance(node, Apply):
        # [f(M)]^T = f(M^T); the argument compared in normal form
        return {((), (("apply", node.label, _key(node.arg, transposed, used)),)): Fraction(1)}
    # any other leaf (a symbol, sum(...), ...) is compared by its text
    return {((), (("text", to_text(node), transposed),)): Fraction(1)}


def _hadamard_nf(node: Node, transposed: bool, used: set) -> dict:
    """X . Y = Y . X, and (X . Y)^T = X^T . Y^T: a leaf keyed by its sorted
    factors, distributed over sums ((A + B) . C = A . C + B . C); the scalars
    of a factor scale the product, a ones matrix (the broadcast 1 of 1 - X,
    1 / B) is the product's identity."""
    factors = _hadamard_factors(node, used)
    forms = [normal_form(n, used, transposed) for n in factors]
    if len(forms) == 1:
        return forms[0]
    if any(len(f) > 1 for f in forms):
        used.add("distributivity")
    out: dict = {}
    for combination in product(*(f.items() for f in forms)):
        coefficient, scalars, parts, ones = Fraction(1), (), [], None
        for (s, chain), value in combination:
            coefficient *= value
            scalars += s
            if len(chain) == 1 and chain[0][0] == "ones":
                ones = chain                         # 1 . X = X
            elif chain:
                parts.append(repr(chain))
            else:                                    # pragma: no cover - a 1x1 factor scales
                continue
        if len(parts) > 1 and [p for p in parts] != sorted(parts):
            used.add("commutativity of the Hadamard product")
        if not parts:
            chain = ones or ()
        elif len(parts) == 1:
            chain = next(c for (_, c), _ in combination if repr(c) == parts[0])
        else:
            chain = (("hadamard", tuple(sorted(parts))),)
        key = (tuple(sorted(scalars)), chain)
        out[key] = out.get(key, 0) + coefficient
    return {k: v for k, v in out.items() if v != 0}


def _hadamard_factors(node: Node, used: set | None = None) -> list[Node]:
    """The factors of an entrywise product: ``A / B`` is ``A . B^{-1}``, ``X^{\\circ 2}`` is ``X . X``."""
    used = set() if used is None else used
    if _product_kind(node) == "hadamard":
        return _hadamard_factors(node.left, used) + _hadamard_factors(node.right, used)
    if isinstance(node, Call) and node.name == "divide" and node.shape is not None:
        used.add("quotients as powers")
        return _hadamard_factors(node.args[0], used) + _hadamard_factors(_power(node.args[1], -1), used)
    power = _power_of(node)
    if power is not None and power[1].denominator == 1 and power[1] >= 2 and not is_scalar(node.shape):
        return _hadamard_factors(power[0], used) * int(power[1])
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


# -- derivatives of registered functions in closed form -------------------------------------------

@lru_cache(maxsize=None)
def _closed_derivative(name: str) -> tuple[str, Node] | None:
    """(rule, f'(u) as a surface tree in ``u``) from the registry entry of
    ``name``; None for an opaque function or one without a closed form."""
    entry = registry.elementwise(name)
    if entry is None:
        return None
    if entry.derivative is None:
        # a closed form the claim language can write now that it has entrywise powers
        power = _POWER_DERIVATIVES.get(name)
        return (entry.rule, parse(power)) if power is not None else None
    return entry.rule, parse(entry.derivative)


# f'(u) of registered functions whose registry entry has no closed form in the language (log' = 1/u),
# written with entrywise powers
_POWER_DERIVATIVES = {"log": "u**(-1)", "sqrt": "1/2 * sqrt(u)**(-1)"}


def known_derivatives(node: Node) -> tuple[Node, list[str]]:
    """``node`` (typed or not) as a surface tree with f'(u) of registered
    functions written in closed form, and the rules used."""
    used: list[str] = []

    def closed_form(n: Node) -> Node | None:
        if not (isinstance(n, Apply) and n.order == 1):
            return None
        known = _closed_derivative(n.name)
        if known is None:
            return None
        rule, derivative = known
        if rule not in used:
            used.append(rule)
        u = untype(n.arg)
        return substitute(derivative, lambda k: u if isinstance(k, Sym) and k.name == "u" else None)
    return untype(substitute(node, closed_form)), used
