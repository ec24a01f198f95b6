"""Index notation read back as matrices: ``\\sum_j A_{kj} x_j`` is ``A @ x``.

An entry of a gradient written with indices -- ``\\frac{\\partial f}{\\partial X_{pq}} =
\\sum_{i,j} a_i \\delta_{ip} \\delta_{jq} b_j = a_p b_q``, ``\\frac{\\partial f}{\\partial x_k} =
\\sum_j A_{kj} x_j + \\sum_i x_i A_{ik}`` -- is the matrix (vector) whose entry (p, q) (k)
it gives.  Each product of indexed factors is read as a graph: a matrix entry
``A_{ij}`` is an edge between its indices (A going one way, ``A.T`` the other), a
vector entry ``x_i`` an edge from its index to the end; the Kronecker delta
``\\delta_{ip}`` renames a summed index.  The path from the first free index to
the second (or to the end) is the matrix product; a path between two ends is a
number (``x.T @ A @ y``), a cycle a trace.  Every index that is not free is summed
(an explicit ``\\sum`` or Einstein's convention); a summed index must appear twice.

>>> from symbolic_bp.language.printer import to_text
>>> to_text(entry_expression(r"\\sum_{i,j} a_i \\delta_{ip} \\delta_{jq} b_j", ("p", "q")))
'a @ b.T'
>>> to_text(entry_expression(r"\\sum_{j} A_{kj} x_j + \\sum_{i} x_i A_{ik}", ("k",)))
'A @ x + A.T @ x'
>>> to_text(entry_expression(r"\\sum_{i,j} a_i X_{ij} b_j", ()))
'a.T @ X @ b'
>>> to_text(entry_expression(r"\\big(A^T B^T\\big)_{pq}", ("p", "q")))
'A.T @ B.T'
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from ..core.expression import Add, Apply, Call, MatMul, Mul, Neg, Node, Num, Sub, Sym, Transpose
from .index_broadcast import BroadcastError, broadcast_expression
from .latex_reader import LatexParser, Untranslatable, group_rest, latex_tokens

END = "1"          # the end of a vector's edge
# the document's function letters and the named ones, applied to a vector of entries
ELEMENTWISE = {"\\sigma": "sigma", "\\phi": "phi", "\\exp": "exp", "\\log": "log", "\\tanh": "tanh"}
GREEK_VECTORS = {"theta", "beta", "omega", "mu"}
FUNCTIONS = {"\\sigma", "\\phi", "\\varphi", "\\exp", "\\log", "\\tanh", "\\ln", "f", "g", "h"}


class IndexError_(Exception):
    """What cannot be read as index notation (the reason)."""


@dataclass
class Term:
    """``coefficient * prod(factors)``: factors are (matrix expression, indices)."""

    coefficient: Node = field(default_factory=lambda: Num(value=Fraction(1)))
    factors: list[tuple[Node, tuple[str, ...]]] = field(default_factory=list)


def _times(a: list[Term], b: list[Term]) -> list[Term]:
    return [Term(_scale(x.coefficient, y.coefficient), x.factors + y.factors) for x in a for y in b]


def _scale(a: Node, b: Node) -> Node:
    if isinstance(a, Num) and isinstance(b, Num):
        return Num(value=a.value * b.value)
    if isinstance(a, Num) and a.value == 1:
        return b
    if isinstance(b, Num) and b.value == 1:
        return a
    if isinstance(b, Num):                     # numbers first: a sign is then seen at the front
        a, b = b, a
    return Mul(left=a, right=b)


class _Reader:
    """expr := term (('+'|'-') term)* ; term := factor+ ; factor := \\sum_{...} term | '(' expr ')' [_{ij}]
    | \\frac{expr}{expr} | symbol [_{ij}] [^T] | number."""

    def __init__(self, latex: str, source: str | None = None):
        self.LatexParser = LatexParser
        self.source = source if source is not None else latex     # the whole expression (rows_of looks in it)
        self.toks = latex_tokens(latex)
        self.i = 0

    @property
    def tok(self):
        return self.toks[self.i]

    def take(self):
        t = self.toks[self.i]
        if t.kind != "end":
            self.i += 1
        return t

    def at(self, *texts):
        return self.tok.kind != "end" and self.tok.text in texts

    def fail(self, what: str):
        raise IndexError_(what)

    def read(self) -> list[Term]:
        terms = self.expr()
        if self.tok.kind != "end":
            self.fail(f"unexpected {self.tok.text!r} in index notation")
        return terms

    def expr(self) -> list[Term]:
        sign = 1
        if self.at("-", "+"):
            sign = -1 if self.take().text == "-" else 1
        terms = self.term()
        if sign < 0:
            terms = [Term(_scale(Num(value=Fraction(-1)), t.coefficient), t.factors) for t in terms]
        while self.at("+", "-"):
            negative = self.take().text == "-"
            more = self.term()
            if negative:
                more = [Term(_scale(Num(value=Fraction(-1)), t.coefficient), t.factors) for t in more]
            terms += more
        return terms

    def starts_factor(self) -> bool:
        t = self.tok
        return t.kind in ("letter", "number") or t.text in ("(", "[", "{") or \
            t.kind == "command" and t.text not in ("\\right", "\\cdots", "\\ldots")

    def term(self) -> list[Term]:
        out = self.factor()
        while self.starts_factor() or self.at("\\cdot", "\\times"):
            if self.at("\\cdot", "\\times"):
                self.take()
            out = _times(out, self.factor())
        return out

    def indices(self) -> tuple[str, ...]:
        """``_i``, ``_{ij}``, ``_{i,j}``: the index letters (digits: part of a name, not indices)."""
        self.take()                                  # '_'
        if self.at("{"):
            self.take()
            found = []
            while not self.at("}"):
                t = self.take()
                if t.kind == "end":
                    self.fail("unclosed '{' in a subscript")
                if t.text != ",":
                    found.append(t.text)
            self.take()
        else:
            found = [self.take().text]
        if not all(re.fullmatch(r"[a-z]", x) for x in found) or not 1 <= len(found) <= 2:
            self.fail(f"subscript {''.join(found)!r} is not one or two index letters")
        return tuple(found)

    def factor(self) -> list[Term]:
        t = self.tok
        if t.text == "-":
            self.take()
            return [Term(_scale(Num(value=Fraction(-1)), x.coefficient), x.factors) for x in self.factor()]
        if t.kind == "number":
            self.take()
            return [Term(Num(value=Fraction(t.text)))]
        if t.text == "\\sum":
            self.take()
            if self.at("_"):
                self._skip_group()              # which indices: every index not free is summed
            if self.at("^"):
                self.take()
                self._skip_group() if self.at("{") else self.take()
            return self.term()
        if t.text in ("\\frac", "\\dfrac", "\\tfrac"):
            self.take()
            top, bottom = self._group_text(), self._group_text()
            if re.match(r"\s*(\\partial|\\delta|d\b)", top) and re.match(r"\s*(\\partial|\\delta|d)", bottom):
                self.fail("a derivative written inside the expression (left unevaluated) does not translate")
            top_terms = _Reader(top, self.source).read()
            scalar = self.LatexParser(bottom).parse()
            return [Term(Mul(left=x.coefficient, right=_reciprocal(scalar)) if not _one(x.coefficient)
                         else _reciprocal(scalar), x.factors) for x in top_terms]
        if t.text in ("(", "[", "\\left") or t.text == "{":
            start = self.i
            text = self._balanced()
            if self.at("_"):                         # (A^T B^T)_{pq}: an entry of a matrix expression
                matrix = self.LatexParser(text).parse()
                return [Term(factors=[(matrix, self.indices())])]
            del start
            return _Reader(text, self.source).read()
        # a symbol, maybe bold, with its indices
        name_toks = [self.take()]
        if name_toks[0].text in ("\\mathbf", "\\boldsymbol", "\\bm", "\\vec", "\\mathrm"):
            name_toks += self._group_tokens()
        if self.tok.text == "_" and not self._digits_follow():
            sub = self.indices()
        else:
            sub = ()
            while self.at("_"):                      # x_0, W_{12}: part of the name
                name_toks.append(self.take())
                name_toks += self._group_tokens() if self.at("{") else [self.take()]
        transposed = False
        if self.at("^"):
            self.take()
            sup = "".join(x.text for x in (self._group_tokens() if self.at("{") else [self.take()]))
            if sup.strip("{}") not in ("T", "\\top", "\\intercal"):
                self.fail(f"superscript {sup!r} in index notation")
            transposed = True
        if name_toks[0].text in ELEMENTWISE and not sub and self.at("(", "\\left"):
            return self.function_of_entries(name_toks[0].text)
        if self.at("(", "\\left") or name_toks[0].text in FUNCTIONS:
            self.fail(f"a function {name_toks[0].text}(…) of entries in index notation")
        if name_toks[0].text == "\\delta" and len(sub) == 2:
            return [Term(factors=[(None, sub)])]           # the Kronecker delta
        node = self.LatexParser(" ".join(x.text for x in name_toks)).parse()
        rows = self.rows_of(node, sub, transposed)
        if rows is not None:
            return rows
        if not sub:
            if transposed:                                   # w^T x_i: a vector, not a number
                self.fail(f"a transposed {' '.join(x.text for x in name_toks)} without indices beside entries")
            if isinstance(node, Sym) and any(ch.isupper() for ch in node.name):
                # e_j^T X e_i: a matrix by its capital, not a number that scales the entries
                self.fail(f"a matrix {node.name} without indices beside entries")
            return [Term(node)]                              # a number or a scalar symbol
        if transposed and len(sub) == 2:
            sub = sub[::-1]
        return [Term(factors=[(node, sub)])]

    def rows_of(self, node: Node, sub: tuple[str, ...], transposed: bool) -> list[Term] | None:
        """``x_i^\\top w`` where the x_i are the rows of a matrix X the expression
        also indexes (``X_{ij}``): the entry i of ``X @ w``."""
        if not (transposed and len(sub) == 1 and isinstance(node, Sym) and node.name.islower()
                and (self.tok.kind == "letter" or self.tok.kind == "command" and self.tok.text[1:] in GREEK_VECTORS)):
            return None
        upper = node.name.upper()
        if not re.search(rf"(?<![A-Za-z\\]){upper}\s*_", self.source):
            return None
        vector = self.LatexParser(self.take().text).parse()
        if self.at("_", "^"):
            self.fail("an indexed vector after a row x_i^T")
        return [Term(factors=[(MatMul(left=Sym(name=upper), right=vector), sub)])]

    def function_of_entries(self, name: str) -> list[Term]:
        """``\\sigma(x_i^\\top w)``: entry i of the function applied to the vector of
        the entries its argument gives (one index, free in the argument)."""
        inner = self._balanced()
        terms = _Reader(inner, self.source).read()
        counts: dict[str, int] = {}
        for t in terms:
            for _, ix in t.factors:
                for x in ix:
                    counts[x] = counts.get(x, 0) + 1
        once = sorted({x for t in terms for _, ix in t.factors for x in ix
                       if sum(x in ix2 for _, ix2 in t.factors) == 1})
        if len(once) != 1:
            self.fail(f"a function {name}(…) of entries whose argument has no single free index")
        vector: Node | None = None
        for t in terms:
            e = _term_expression(t, (once[0],))
            vector = e if vector is None else Add(left=vector, right=e)
        return [Term(factors=[(Apply(name=ELEMENTWISE[name], arg=vector), (once[0],))])]

    def _digits_follow(self) -> bool:
        nxt = self.toks[self.i + 1]
        if nxt.kind == "number":
            return True
        return nxt.text == "{" and self.toks[self.i + 2].kind == "number"

    def _range_follows(self) -> bool:
        k, depth = self.i + 1, 0
        while k < len(self.toks):
            depth += {"{": 1, "}": -1}.get(self.toks[k].text, 0)
            if self.toks[k].text == "=":
                return True
            if depth == 0:
                return False
            k += 1
        return False

    def _skip_group(self) -> None:
        if self.at("_"):
            self.take()
        self._group_tokens() if self.at("{") else self.take()

    def _group_tokens(self) -> list:
        if not self.at("{"):
            return [self.take()]
        self.take()
        return group_rest(self.take, self.fail)

    def _group_text(self) -> str:
        return " ".join(t.text for t in self._group_tokens())

    def _balanced(self) -> str:
        """The text inside ``( … )``, ``[ … ]``, ``{ … }`` or ``\\left( … \\right)``."""
        if self.at("\\left"):
            self.take()
        opener = self.take().text
        closer = {"(": ")", "[": "]", "{": "}"}[opener]
        out, depth = [], 1
        while True:
            t = self.take()
            if t.kind == "end":
                self.fail(f"unclosed {opener!r}")
            if t.text == opener:
                depth += 1
            elif t.text == closer:
                depth -= 1
                if depth == 0:
                    if out and out[-1].text == "\\right":
                        out.pop()
                    return " ".join(x.text for x in out)
            out.append(t)


def _one(node: Node) -> bool:
    return isinstance(node, Num) and node.value == 1


def _reciprocal(node: Node) -> Node:
    from ..core.expression import Div
    return Div(left=Num(value=Fraction(1)), right=node)


def _walk_path(edges: list, start: str, stop: set[str], node: Node | None = None) -> tuple[Node | None, str]:
    """Follow edges from ``start`` until an index in ``stop`` (or the end): the product
    (continuing ``node``), and where it stopped."""
    here = start
    while True:
        k = next((k for k, (_, a, b) in enumerate(edges) if here in (a, b)), None)
        if k is None:
            raise IndexError_(f"the index {here!r} leads nowhere (a summed index must appear twice)")
        matrix, a, b = edges.pop(k)
        step, here = (matrix, b) if a == here else (_transpose(matrix), a)
        node = step if node is None else MatMul(left=node, right=step)
        if here in stop or here == END:
            return node, here


def _transpose(node: Node) -> Node:
    return node.arg if isinstance(node, Transpose) else Transpose(arg=node)


def _term_expression(term: Term, free: tuple[str, ...]) -> Node:
    factors = list(term.factors)
    # Kronecker deltas rename a summed index to the other one
    while any(m is None for m, _ in factors):
        k = next(k for k, (m, _) in enumerate(factors) if m is None)
        _, (a, b) = factors.pop(k)
        old, new = (a, b) if a not in free else (b, a) if b not in free else (None, None)
        if old is None:
            raise IndexError_("a Kronecker delta between the two free indices (an identity matrix)")
        factors = [(m, tuple(new if x == old else x for x in ix)) for m, ix in factors]
    edges = []
    for m, ix in factors:
        if len(ix) == 2 and ix[0] == ix[1]:
            raise IndexError_(f"a repeated index {ix[0]}{ix[1]} (a diagonal or trace) in one entry")
        edges.append((m, ix[0], ix[1]) if len(ix) == 2 else (m, ix[0], END))
    counts: dict[str, int] = {}
    for _, a, b in edges:
        for x in (a, b):
            if x != END:
                counts[x] = counts.get(x, 0) + 1
    for x, n in counts.items():
        if n != (1 if x in free else 2):
            times = "once" if n == 1 else "twice" if n == 2 else f"{n} times"
            raise IndexError_(f"the free index {x!r} appears {times} (it must appear once)" if x in free else
                              f"the summed index {x!r} appears {times} (it must appear twice)")
    if any(x not in counts for x in free):
        raise IndexError_(f"a free index of the entry ({', '.join(free)}) does not appear in a term")
    result: Node | None = None
    if len(free) == 2:
        left, end = _walk_path(edges, free[0], {free[1]})
        if end == END:                              # a_p b_q: an outer product
            right, _ = _walk_path(edges, free[1], set())
            left = MatMul(left=left, right=_transpose(right))
        result = left
    elif len(free) == 1:
        result, _ = _walk_path(edges, free[0], set())
    scalars = []
    while edges:                                     # what is left: numbers x^T ... y, or traces
        ends = [k for k, (_, a, b) in enumerate(edges) if END in (a, b)]
        if ends:
            m, a, b = edges.pop(ends[0])
            start = a if b == END else b
            first = _transpose(m) if b == END else m
            if start == END:
                scalars.append(first)
                continue
            whole, _ = _walk_path(edges, start, set(), first)
            scalars.append(whole)
        else:
            m, a, b = edges.pop(0)
            whole, _ = _walk_path(edges, b, {a}, m)
            scalars.append(Call(name="tr", args=(whole,)))
    node = result
    for s in scalars:
        node = s if node is None else MatMul(left=s, right=node) if len(free) == 0 else Mul(left=s, right=node)
    coefficient, negative = term.coefficient, False
    if isinstance(coefficient, Num) and coefficient.value < 0:
        coefficient, negative = Num(value=-coefficient.value), True
    elif isinstance(coefficient, Mul) and isinstance(coefficient.left, Num) and coefficient.left.value == -1:
        coefficient, negative = coefficient.right, True
    if node is None:
        node = coefficient
    elif not _one(coefficient):
        node = Mul(left=coefficient, right=node)
    return Neg(arg=node) if negative else node


def entry_expression(latex: str, free: tuple[str, ...], mark_columns: bool = False) -> Node:
    """The matrix (vector, number) whose entry ``free`` (two, one or no indices) the
    index expression ``latex`` gives; :class:`IndexError_` with the reason if it cannot.
    (``mark_columns``: see :func:`.index_broadcast.broadcast_expression`.)"""
    try:
        return _products(latex, free)
    except IndexError_ as e:
        if _UNIT.search(latex) and len(free) == 2:
            return unit_vector_entry(latex, free)      # tr(A e_i e_j^T B): the unit vectors select an entry
        # entrywise products, functions of entries, sums over examples: read by broadcasting
        try:
            return broadcast_expression(latex, free, mark_columns)
        except BroadcastError:
            raise e from None


# e_i, {\bf e}_i, \mathbf{e}_i: the unit vector i (the i-th column of the identity)
_UNIT = re.compile(r"(?:\\mathbf\s*\{\s*e\s*\}|\\mathbf\s+e|\{\s*\\bf\s+e\s*\}|(?<![A-Za-z\\])e)\s*_\s*\{?\s*([a-z])\s*\}?")


def unit_vector_entry(latex: str, free: tuple[str, ...]) -> Node:
    r"""The matrix whose entry ``free`` (i, j) is ``latex``, a number written with the unit vectors
    e_i, e_j: ``e_i^T M e_j`` is M_{ij}, ``tr(A e_i e_j^T B)`` is ``e_j^T B A e_i`` = (B A)_{ji}
    (the trace turned round), so the matrix is ``(B @ A).T``.

    >>> from symbolic_bp.language.printer import to_text
    >>> to_text(unit_vector_entry(r"\mbox{tr} \left( {\bf A} \, {\bf e}_i {\bf e}_j^\top {\bf B} \right)", ("i", "j")))
    '(B @ A).T'
    >>> to_text(unit_vector_entry(r"e_i^T A^T B e_j", ("i", "j")))
    'A.T @ B'
    """
    numbers: dict[str, str] = {}     # the index of each unit vector -> the number of its stand-in \Upsilon_{8NN}

    def stand_in(m: re.Match) -> str:
        return f" \\Upsilon_{{{numbers.setdefault(m.group(1), f'8{len(numbers):02d}')}}} "
    text = _UNIT.sub(stand_in, latex)
    if set(numbers) != set(free):
        raise IndexError_(f"the unit vectors e_{', e_'.join(sorted(numbers))} are not those of the entry "
                          f"({', '.join(free)})")
    unit = {f"Upsilon_{number}": index for index, number in numbers.items()}   # the stand-in symbol -> its index
    try:
        tree = LatexParser(text).parse()
    except (Untranslatable, RecursionError) as e:
        raise IndexError_(str(e) or "nested too deeply") from None
    trace = isinstance(tree, Call) and tree.name == "tr"
    factors = _factors(tree.args[0] if trace else tree)
    if trace:                                       # turn the product round to start at e^T
        start = next((k for k, f in enumerate(factors) if isinstance(f, Transpose) and _unit(f.arg, unit)), None)
        if start is None:
            raise IndexError_("a trace with no row e_j^T to start from")
        factors = factors[start:] + factors[:start]
    if len(factors) < 2 or not (isinstance(factors[0], Transpose) and _unit(factors[0].arg, unit)) \
            or not _unit(factors[-1], unit):
        raise IndexError_("the unit vectors are not at the two ends of the product (e_i^T M e_j)")
    row, col = unit[factors[0].arg.name], unit[factors[-1].name]
    middle = factors[1:-1]
    if not middle or any(_unit(f, unit) or isinstance(f, Transpose) and _unit(f.arg, unit) for f in middle):
        raise IndexError_("more than two unit vectors in one product")
    matrix = middle[0]
    for f in middle[1:]:
        matrix = MatMul(left=matrix, right=f)
    return matrix if (row, col) == tuple(free) else _transpose(matrix)


def _unit(node: Node, unit: dict) -> bool:
    return isinstance(node, Sym) and node.name in unit


def _factors(node: Node) -> list[Node]:
    """The factors of a matrix product, in order."""
    if isinstance(node, MatMul):
        return _factors(node.left) + _factors(node.right)
    return [node]


def _products(latex: str, free: tuple[str, ...]) -> Node:
    """:func:`entry_expression` as a product of matrices (each term a path of indices)."""
    try:
        terms = _Reader(latex).read()
    except (Untranslatable, RecursionError) as e:
        raise IndexError_(str(e) or "nested too deeply") from None
    node: Node | None = None
    for term in terms:
        expr = _term_expression(term, free)
        if node is None:
            node = expr
        elif isinstance(expr, Neg):
            node = Sub(left=node, right=expr.arg)
        else:
            node = Add(left=node, right=expr)
    if node is None:
        raise IndexError_("an empty index expression")
    return node
