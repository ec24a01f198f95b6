"""Index notation read by broadcasting: each index is an axis.

What :mod:`.index_notation` cannot read as a product of matrices -- entrywise
products and functions of entries, sums that exclude an index, sums over examples
of vectors -- is read here the way NumPy would compute it.  An index runs along
the rows (axis 0) or the columns (axis 1): the entry ``x_k`` is the column ``x``
when k runs along the rows and the row ``x.T`` when it runs along the columns,
``A_{ik}`` is ``A`` or ``A.T``; a product of entries is then the entrywise product
with broadcasting (``x_i y_k`` the outer product), a function of entries the
function of the vector, and ``\\sum_k`` the sum along k's axis.
``\\sum_{k \\neq i} f(k)`` is ``\\sum_k f(k) - f(i)``.

Vectors indexed by an example (``x_i`` in ``w^T x_i``, transposed or in a matrix
product) are the rows of a matrix named by the capital (``X``, the design matrix:
one row per example).  While reading they are held as the columns of ``X.T``: the
example index runs along the columns, the vector's entries along the rows; a row
per example is held as its transpose and a flag; ``\\sum_i x_i v_i^T`` is ``X.T @ V``.

>>> from symbolic_bp.language.printer import to_text
>>> to_text(broadcast_expression(r"-\\sum_k y_k \\log a_k", ()))
'-sum(y * log(a))'
>>> to_text(broadcast_expression(r"a_i \\sum_k y_k - y_i", ("i",)))
'a * sum(y) - y'
>>> to_text(broadcast_expression(r"\\frac{e^{z_j}}{\\sum_k e^{z_k}}", ("j",)))
'exp(z) / sum(exp(z))'
>>> to_text(broadcast_expression(r"- \\sum_{i=1}^n \\left[ y_i - \\phi(w^T x_i) \\right] x_i", ()))
'-sum((y.T - phi(w.T @ X.T)) * X.T, axis=1, keepdims=True)'
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..core import registry
from ..core.expression import (
    Add, Apply, Call, Div, MatMul, Mul, Neg, Node, Num, Pow, Sub, Sym, Transpose, num, substitute,
)
from .latex_reader import (
    COLUMNWISE, INDEX_CLOSE, INDEX_OPEN, SUM_MARK, EntrywisePow, LatexParser, Untranslatable, columnwise,
)

_ENTRY = re.compile(rf"^(?P<base>.+){INDEX_OPEN}(?P<ix>[a-z]{{1,2}}){INDEX_CLOSE}$")
_SUM = re.compile(rf"^{SUM_MARK}{INDEX_OPEN}(?P<k>[a-z?])(?:≠(?P<other>[a-z]))?{INDEX_CLOSE}$")
# through these a symbol in a matrix product is still that product's operand
_TRANSPARENT = (Transpose, Neg)


class BroadcastError(Exception):
    """What cannot be read this way (the reason)."""


@dataclass(frozen=True)
class Value:
    """A translated subexpression: ``node`` and what it holds.

    kind: ``const`` (no index), ``entry`` (a number for each value of its indices,
    broadcast along their axes), ``col``/``row`` (a column/row vector for each example,
    held as the columns of ``node``), ``outer`` (``node`` is already the sum over the
    examples of a column times a row: only a sum over the example may take it)."""

    node: Node
    kind: str
    live: frozenset[str] = frozenset()


def _keyword_sum(node: Node, axis: int) -> Node:
    """``sum(node, axis=axis, keepdims=True)``: the sum along one index, its axis kept for broadcasting."""
    return Call(name="sum", args=(node,), keywords=(("axis", num(axis)), ("keepdims", Sym(name="True"))))


class _Reader:
    def __init__(self, tree: Node):
        self.vectors = self._example_vectors(tree)          # bases whose entries are vectors per example
        self.examples = {ix for base, ix in self._entries(tree) if base in self.vectors}

    @staticmethod
    def _entries(tree: Node) -> set[tuple[str, str]]:
        return {(m.group("base"), m.group("ix")) for n in tree.walk() if isinstance(n, Sym)
                for m in [_ENTRY.match(n.name)] if m}

    @staticmethod
    def _example_vectors(tree: Node) -> set[str]:
        """Bases of the indexed symbols that are an operand of a matrix product or transposed:
        vectors (one per value of the index), not entries."""
        found: set[str] = set()

        def operand(node: Node) -> None:
            while isinstance(node, _TRANSPARENT) or isinstance(node, Apply) and not _SUM.match(node.name):
                node = node.arg
            if isinstance(node, (Add, Sub)):         # (W x_i - t_i)^T: what is added to a vector is one
                operand(node.left)
                operand(node.right)
                return
            m = _ENTRY.match(node.name) if isinstance(node, Sym) else None
            if m and len(m.group("ix")) == 1:
                found.add(m.group("base"))
        for n in tree.walk():
            if isinstance(n, MatMul):
                operand(n.left)
                operand(n.right)
            elif isinstance(n, Transpose):
                operand(n.arg)
        return found

    @staticmethod
    def _bound(tree: Node) -> set[str]:
        """The indices summed inside ``tree``."""
        return {m.group("k") for n in tree.walk() if isinstance(n, Apply) for m in [_SUM.match(n.name)] if m}

    # -- one rule per node type -------------------------------------------------------------------
    def read(self, node: Node, axes: dict[str, int]) -> Value:
        rule = getattr(self, "read_" + type(node).__name__, None)
        if rule is None:
            raise BroadcastError(f"{type(node).__name__.lower()} in index notation")
        return rule(node, axes)

    def read_Num(self, node: Num, axes) -> Value:
        return Value(node, "const")

    def read_Sym(self, node: Sym, axes) -> Value:
        m = _ENTRY.match(node.name)
        if not m:
            return Value(node, "const")
        base, ix = m.group("base"), m.group("ix")
        if base in self.vectors:
            if ix not in axes:
                raise BroadcastError(f"the index {ix!r} of {base}_{ix} is neither free nor summed")
            return Value(Sym(name=_capital(base)), "col", frozenset(ix))
        for x in ix:
            if x not in axes:
                raise BroadcastError(f"the index {x!r} of {base}_{{{ix}}} is neither free nor summed")
        if base == "delta" and len(ix) == 2:
            raise BroadcastError(f"the Kronecker delta delta_{{{ix}}} beside entries (write the sum it selects)")
        if len(ix) == 1:
            entry = Sym(name=base) if axes[ix] == 0 else Transpose(arg=Sym(name=base))
            return Value(entry, "entry", frozenset(ix))
        if ix[0] == ix[1]:
            raise BroadcastError(f"a diagonal entry {base}_{{{ix}}}")
        matrix = Sym(name=base)
        return Value(matrix if axes[ix[0]] < axes[ix[1]] else Transpose(arg=matrix), "entry", frozenset(ix))

    def read_Neg(self, node: Neg, axes) -> Value:
        v = self.read(node.arg, axes)
        return Value(Neg(arg=v.node), v.kind, v.live)

    def read_Transpose(self, node: Transpose, axes) -> Value:
        v = self.read(node.arg, axes)
        flipped = {"const": None, "entry": "entry", "col": "row", "row": "col"}.get(v.kind, "?")
        if flipped is None:
            return Value(Transpose(arg=v.node), "const")
        if flipped == "?":
            raise BroadcastError("the transpose of a sum over examples of outer products")
        return Value(v.node, flipped, v.live)

    def _entrywise(self, make, left: Value, right: Value) -> Value:
        kinds = {left.kind, right.kind} - {"const", "entry"}
        if "outer" in kinds:
            if {left.kind, right.kind} <= {"outer", "const"} and make in (Add, Sub):
                return Value(make(left=left.node, right=right.node), "outer", left.live | right.live)
            raise BroadcastError("a per-example outer product used other than summed")
        if len(kinds) > 1:
            raise BroadcastError("a row and a column vector of the same example combined entrywise")
        kind = kinds.pop() if kinds else "entry" if "entry" in (left.kind, right.kind) else "const"
        return Value(make(left=left.node, right=right.node), kind, left.live | right.live)

    def read_Add(self, node: Add, axes) -> Value:
        return self._entrywise(Add, self.read(node.left, axes), self.read(node.right, axes))

    def read_Sub(self, node: Sub, axes) -> Value:
        return self._entrywise(Sub, self.read(node.left, axes), self.read(node.right, axes))

    def read_Div(self, node: Div, axes) -> Value:
        return self._entrywise(Div, self.read(node.left, axes), self.read(node.right, axes))

    def read_Mul(self, node: Mul, axes) -> Value:
        left, right = self.read(node.left, axes), self.read(node.right, axes)
        if "outer" in (left.kind, right.kind) and "const" in (left.kind, right.kind):
            return Value(Mul(left=left.node, right=right.node), "outer", left.live | right.live)
        return self._entrywise(Mul, left, right)

    def read_Pow(self, node: Pow, axes) -> Value:
        v = self.read(node.base, axes)
        if v.kind == "const":
            return Value(Pow(base=v.node, exponent=node.exponent), "const")
        # a power of entries is the entrywise power of the vector (x_i^2: x**2 in NumPy)
        return Value(EntrywisePow(base=v.node, exponent=node.exponent), v.kind, v.live)

    def read_Apply(self, node: Apply, axes) -> Value:
        m = _SUM.match(node.name)
        if m:
            k = m.group("k")
            if k == "?":                         # \sum e^{x_j}: the one index the term leaves open
                open_ = sorted({x for _, ix in self._entries(node.arg) for x in ix} - set(axes) - self._bound(node.arg))
                if len(open_) != 1:
                    raise BroadcastError(f"\\sum without its index over a term with "
                                         f"{'no open index' if not open_ else 'open indices ' + ', '.join(open_)}")
                k = open_[0]
            return self.summation(node.arg, k, m.group("other"), axes)
        v = self.read(node.arg, axes)
        if v.kind == "outer":
            raise BroadcastError(f"{node.name} of a per-example outer product")
        # phi(w^T x_i), each example a column: marked, so that a phi the document defines as the
        # softmax normalises each column (axis=0), not the whole matrix
        name = node.name + COLUMNWISE if v.kind in ("col", "row") and node.order == 0 \
            and registry.elementwise(node.name) is None else node.name
        return Value(Apply(name=name, arg=v.node, order=node.order), v.kind, v.live)

    def read_MatMul(self, node: MatMul, axes) -> Value:
        left, right = self.read(node.left, axes), self.read(node.right, axes)
        rule = _MATMUL.get((left.kind, right.kind))
        if rule is None:
            raise BroadcastError(f"a matrix product of a {_WORDS[left.kind]} and a {_WORDS[right.kind]}")
        return rule(left, right)

    def read_Call(self, node: Call, axes) -> Value:
        values = [self.read(a, axes) for a in node.args]
        if any(v.kind != "const" for v in values):
            raise BroadcastError(f"{node.name}(…) of entries")
        return Value(node, "const")

    # -- sums -------------------------------------------------------------------------------------
    def summation(self, body: Node, k: str, other: str | None, axes: dict[str, int]) -> Value:
        if k in axes:
            raise BroadcastError(f"a sum over {k!r} inside another over {k!r}, or over a free index")
        if other is not None:
            if other not in axes:
                raise BroadcastError(f"\\sum_{{{k} \\neq {other}}}: {other!r} is neither free nor summed")
            # sum over k != i of f(k) = (sum over k of f(k)) - f(i)
            whole = self.summation(body, k, None, axes)
            at_i = self.read(_rename_index(body, k, other), axes)
            return self._entrywise(Sub, whole, at_i)
        if k in self.examples:
            if axes:
                raise BroadcastError(f"a sum over the examples {k!r} inside index notation in {', '.join(axes)}")
            v = self.read(body, {k: 1})
            if k not in v.live:
                raise BroadcastError(f"a sum over {k!r} of a term without {k!r}")
            summed = {"col": lambda n: _keyword_sum(n, 1), "row": lambda n: Transpose(arg=_keyword_sum(n, 1)),
                      "entry": lambda n: Call(name="sum", args=(n,)), "outer": lambda n: n}[v.kind]
            return Value(summed(v.node), "const")
        if axes and not self.examples & set(axes):
            try:                  # a sum of k alone (a_i \sum_k y_k): read with k along the rows, sum(y)
                alone = self.read(body, {k: 0})
            except BroadcastError:
                alone = None
            if alone is not None and alone.live == {k} and alone.kind == "entry":
                return Value(Call(name="sum", args=(alone.node,)), "const")
        used = set(axes.values())
        if self.examples & set(axes):
            raise BroadcastError(f"a sum over {k!r} inside a sum over examples")
        free = [a for a in (0, 1) if a not in used]
        if not free:
            raise BroadcastError(f"a sum over {k!r} with two other indices live (three axes)")
        v = self.read(body, {**axes, k: free[0]})
        if k not in v.live:
            raise BroadcastError(f"a sum over {k!r} of a term without {k!r}")
        if v.kind not in ("entry", "const"):
            raise BroadcastError(f"a sum over {k!r} of vectors")
        rest = v.live - {k}
        node = Call(name="sum", args=(v.node,)) if not rest else _keyword_sum(v.node, free[0])
        return Value(node, "entry" if rest else "const", frozenset(rest))


def _capital(base: str) -> str:
    """The matrix of the vectors x_i: ``X`` (``T_`` for t_i: T is the transpose's name)."""
    name = base.upper() if len(base) == 1 else base[0].upper() + base[1:]
    return name + "_" if name in registry.reserved() else name


def _rename_index(tree: Node, old: str, new: str) -> Node:
    def rule(n: Node) -> Node | None:
        m = _ENTRY.match(n.name) if isinstance(n, Sym) else None
        if m and old in m.group("ix"):
            return Sym(name=f"{m.group('base')}{INDEX_OPEN}{m.group('ix').replace(old, new)}{INDEX_CLOSE}")
        return None
    return substitute(tree, rule)


def _inner(a: Value, b: Value) -> Value:            # a_i^T b_i for each example: a number each
    return Value(_keyword_sum(Mul(left=a.node, right=b.node), 0), "entry", a.live | b.live)


_WORDS = {"const": "matrix", "entry": "number per index", "col": "column per example", "row": "row per example",
          "outer": "sum of outer products"}
# (kind of the left factor, kind of the right one) -> the product, the example along the columns
_MATMUL = {
    ("const", "const"): lambda a, b: Value(MatMul(left=a.node, right=b.node), "const"),
    ("const", "col"): lambda a, b: Value(MatMul(left=a.node, right=b.node), "col", b.live),        # A x_i
    # x_i^T B for each example: the row (B^T x_i)^T, held as its column B^T x_i
    ("row", "const"): lambda a, b: Value(MatMul(left=Transpose(arg=b.node), right=a.node), "row", a.live),
    ("row", "col"): _inner,
    ("col", "row"): lambda a, b: Value(MatMul(left=a.node, right=Transpose(arg=b.node)), "outer",
                                       a.live | b.live),                                           # x_i v_i^T
    ("entry", "entry"): lambda a, b: Value(Mul(left=a.node, right=b.node), "entry", a.live | b.live),
    ("const", "entry"): lambda a, b: Value(Mul(left=a.node, right=b.node), "entry", b.live),
    ("entry", "const"): lambda a, b: Value(Mul(left=a.node, right=b.node), "entry", a.live),
    ("entry", "col"): lambda a, b: Value(Mul(left=a.node, right=b.node), "col", a.live | b.live),
    ("row", "entry"): lambda a, b: Value(Mul(left=a.node, right=b.node), "row", a.live | b.live),
}


def broadcast_expression(latex: str, free: tuple[str, ...], mark_columns: bool = False) -> Node:
    """The vector (matrix, number) whose entry ``free`` the index expression ``latex``
    gives, computed by broadcasting; :class:`BroadcastError` with the reason if it cannot.
    With ``mark_columns``, a function of the document's own (phi) applied to each example's
    vector keeps the mark :data:`.latex_reader.COLUMNWISE` on its name (for a caller that may
    learn phi is the softmax, which then normalises each example)."""
    try:
        tree = LatexParser(latex, index_mode=True).parse()
    except (Untranslatable, RecursionError) as e:
        raise BroadcastError(str(e) or "nested too deeply") from None
    reader = _Reader(tree)
    if len(free) > 2:
        raise BroadcastError("more than two free indices")
    if reader.examples & set(free):
        raise BroadcastError(f"a free index {', '.join(sorted(reader.examples & set(free)))} of vectors")
    try:
        value = reader.read(tree, {x: a for a, x in enumerate(free)})
    except RecursionError:
        raise BroadcastError("nested too deeply") from None
    if value.kind not in ("const", "entry") or value.live != frozenset(free):
        missing = sorted(set(free) - value.live)
        raise BroadcastError(f"the entry does not depend on {', '.join(missing)}" if missing else
                             f"indices left unsummed: {', '.join(sorted(value.live - set(free)))}"
                             if value.live - set(free) else "a vector per example left unsummed")
    # the examples' vectors were held as columns; the matrix that holds them is named for its rows,
    # x_i^T the rows of X (the design matrix; one-hot labels Y:n,k:onehot, a row per example)
    stacked = {_capital(base) for base in reader.vectors}

    def rows(n: Node) -> Node | None:
        if isinstance(n, Transpose) and isinstance(n.arg, Sym) and n.arg.name in stacked:
            return n.arg
        return Transpose(arg=n) if isinstance(n, Sym) and n.name in stacked else None
    node = substitute(value.node, rows)
    if not mark_columns:
        node = substitute(node, lambda n: Apply(name=columnwise(n.name)[0], arg=n.arg, order=n.order)
                          if isinstance(n, Apply) and columnwise(n.name)[1] else None)
    return node


__all__ = ["BroadcastError", "broadcast_expression"]
