"""LaTeX (and GitHub/Jupyter Markdown) for claim-language trees, index-notation
proofs and results.

One printer, :class:`LatexPrinter`, dispatches on the class of what it prints
(``_print_MatMul``, ``_print_Element``, ``_print_Counterexample``...).  Every
string that comes from the user goes through
:func:`~symbolic_bp.rendering.safe_math.escape_text` or :func:`latex_name`, so
that no user text can reach TeX as a command (``\\input``, ``\\write18``); the
boundary itself is :mod:`symbolic_bp.rendering.safe_math`.

>>> from symbolic_bp.language.parser import parse
>>> latex(parse("(y * sigma_2'(A @ x)) @ x.T"))
"\\\\left[y \\\\odot \\\\sigma_{2}'\\\\left(A x\\\\right)\\\\right] x^{T}"
"""
from __future__ import annotations

import re
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..core import registry
from ..core.dims import Dim, is_scalar
from ..core.expression import (
    Add, Apply, Broadcast, Call, Div, Hadamard, MatMul, Mul, Neg, Node, Num, Pow, Scale, Sub, Sym, Transpose,
)
from ..language.printer import ATOM as _ATOM, POSTFIX as _POSTFIX, POWER as _POWER, PRODUCT as _PRODUCT
from ..language.printer import SUM as _SUM, UNARY as _UNARY, precedence
from .proof import CheckedProof, Delta, Element, Func, Partial, Power, Size, Term
from .safe_math import GREEK, escape_text
from .text import require_result

if TYPE_CHECKING:                   # a Result is taken, never imported: the result module imports this one
    from ..checks.result import Counterexample, Result



_NAME = re.compile(r"([A-Za-z]+?)(\d+|_.*)?\Z")


def latex_name(name: str) -> str:
    """A claim-language name as mathematics: ``sigma_2`` -> ``\\sigma_{2}``,
    ``W01`` -> ``W_{01}``, ``a_prev`` -> ``a_{\\mathrm{prev}}``.

    >>> [latex_name(n) for n in ("x", "W01", "sigma_1", "a_prev", "dW1", "theta")]
    ['x', 'W_{01}', '\\\\sigma_{1}', 'a_{\\\\mathrm{prev}}', '\\\\mathrm{dW}_{1}', '\\\\theta']
    """
    m = _NAME.match(name)
    if not m:
        return r"\mathrm{" + escape_text(name) + "}"
    base, sub = m.group(1), m.group(2)
    if base in GREEK:
        head = "\\" + base
    elif len(base) == 1:
        head = base
    else:
        head = r"\mathrm{" + base + "}"
    if not sub:
        return head
    sub = sub[1:] if sub.startswith("_") else sub
    if not sub:
        return head + r"\_"
    if sub.isdigit():
        inner = sub
    elif len(sub) == 1 and sub.isalpha() or sub in GREEK:
        inner = latex_name(sub)
    else:
        inner = r"\mathrm{" + escape_text(sub) + "}"
    return f"{head}_{{{inner}}}"


def _number(value: Fraction) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value.denominator == 1:
        return f"{sign}{value.numerator}"
    return f"{sign}\\frac{{{value.numerator}}}{{{value.denominator}}}"


def function_latex(name: str) -> str:
    """An elementwise function's name: its registry entry's LaTeX, or a
    declared opaque name written as a name (``sigma_2`` -> ``\\sigma_{2}``)."""
    entry = registry.elementwise(name)
    return entry.latex if entry is not None else latex_name(name)


class LatexPrinter:
    """Print trees, index terms, proofs and results as LaTeX.

    ``entries`` maps a symbol name to how its entries are written (the post
    writes ``a_{ij}`` for the entries of A); ``indices`` maps internal index
    names to the letters printed."""

    def __init__(self, entries: dict | None = None, indices: dict | None = None, expand_functions: bool = False):
        self.entries = entries or {}
        self.indices = indices or {}
        self.expand_functions = expand_functions

    def doprint(self, obj) -> str:
        method = getattr(self, "_print_" + type(obj).__name__, None)
        if method is None:
            raise TypeError(f"LatexPrinter cannot print {type(obj).__name__}")
        return method(obj)

    # -- claim-language trees --------------------------------------------------------------

    def _wrap(self, node: Node, needed: int) -> str:
        text = self.doprint(node)
        return rf"\left({text}\right)" if _latex_precedence(node) < needed else text

    def _print_Num(self, node: Num) -> str:
        return _number(node.value)

    def _print_Sym(self, node: Sym) -> str:
        return latex_name(node.name)

    def _print_Neg(self, node: Neg) -> str:
        return "-" + self._wrap(node.arg, _PRODUCT)

    def _print_Add(self, node: Add) -> str:
        return f"{self.doprint(node.left)} + {self._wrap(node.right, _SUM)}"

    def _print_Sub(self, node: Sub) -> str:
        return f"{self.doprint(node.left)} - {self._wrap(node.right, _SUM + 1)}"

    def _print_MatMul(self, node: MatMul) -> str:
        # (XY) is juxtaposition; a right operand that is itself a product keeps
        # its parentheses, as the claim groups it: A(xx^T)
        return f"{self._factor(node.left, _PRODUCT)} {self._factor(node.right, _PRODUCT + 1)}"

    def _factor(self, node: Node, needed: int) -> str:
        # juxtaposition binds tighter than the eye reads an odot: [y . s'(Ax)] x^T
        if isinstance(node, Hadamard) or isinstance(node, Mul) and _is_hadamard(node):
            return rf"\left[{self.doprint(node)}\right]"
        return self._wrap(node, needed)

    def _product(self, node: Node, op: str) -> str:
        return f"{self._wrap(node.left, _PRODUCT)}{op}{self._wrap(node.right, _PRODUCT + 1)}"

    def _print_Mul(self, node: Mul) -> str:
        if _is_hadamard(node):
            return self._product(node, r" \odot ")
        # a product with a number: juxtaposed, but 2 \cdot 3, not 2\,3 (which reads 23)
        return self._product(node, r" \cdot " if _starts_with_digit(self._wrap(node.right, _PRODUCT + 1)) else r"\,")

    def _print_Hadamard(self, node: Hadamard) -> str:
        if node.left.shape is not None and is_scalar(node.left.shape) and is_scalar(node.right.shape):
            # a product of two 1x1 values is an ordinary product: 2 N, not 2 \odot N
            return self._product(node, r" \cdot " if _starts_with_digit(self.doprint(node.right)) else r"\,")
        return self._product(node, r" \odot ")

    def _print_Scale(self, node: Scale) -> str:
        return self._product(node, r"\,")

    def _print_Broadcast(self, node: Broadcast) -> str:
        # a 1x1 value, a row or a column filled into a larger shape: written as itself, as
        # NumPy and the papers write it (X W + b, X - mu)
        return self.doprint(node.arg)

    def _print_Div(self, node: Div) -> str:
        return rf"\frac{{{self.doprint(node.left)}}}{{{self.doprint(node.right)}}}"

    def _print_Pow(self, node: Pow) -> str:
        return f"{self._wrap(node.base, _ATOM)}^{{{_exponent(node.exponent)}}}"

    def _print_Transpose(self, node: Transpose) -> str:
        return f"{self._wrap(node.arg, _ATOM)}^{{T}}"

    def _print_Apply(self, node: Apply) -> str:
        return rf"{function_latex(node.name)}{chr(39) * node.order}\left({self.doprint(node.arg)}\right)"

    def _print_Call(self, node: Call) -> str:
        op = registry.operation(node.name)
        if op is None or (op.params and not node.params) or node.keywords or \
                (node.shape is None and len(node.args) != op.arity):
            # an untyped call (dimension or keyword arguments still nodes), or a macro as written
            return self._untyped_call(node)
        args = [self.doprint(a) for a in node.args]
        atoms = [self._wrap(a, _ATOM) for a in node.args]
        if node.name == "power" and node.params:
            # entrywise: X^{\circ p} (Hadamard power) for a matrix, so that it is not read as the
            # matrix power X X or the inverse; a 1x1 base to a real power is an ordinary power
            scalar = node.args[0].shape is not None and is_scalar(node.args[0].shape)
            return f"{atoms[0]}^{{{'' if scalar else chr(92) + 'circ '}{_exponent(node.params[0])}}}"
        keywords = keyword_values(node, op)
        if keywords is not None and "keepdims" in keywords:
            return _reduction(node.name, args[0], keywords["axis"], keywords["keepdims"])
        params = [r"\,".join(f if f.isdigit() else latex_name(f) for f in p.factors()) if isinstance(p, Dim)
                  else str(p) for p in node.params]
        return op.latex(args, atoms, params)

    def _untyped_call(self, node: Call) -> str:
        """A call as written: a reduction (or a macro over one: mean, var...)
        along an axis printed as the typed one is (``\\operatorname{sum}_{\\mathrm{axis}=0}``)
        when its axis, keepdims and ddof are literals, given by name or by position."""
        values = _axis_keywords(node)
        if values is not None:
            return _reduction(escape_text(node.name), self.doprint(node.args[0]), values.get("axis"),
                              values.get("keepdims", False), values.get("ddof", 0))
        args = [self.doprint(a) for a in node.args]
        args += [rf"\mathrm{{{escape_text(k)}}}={self.doprint(v)}" for k, v in node.keywords]
        return rf"\operatorname{{{escape_text(node.name)}}}\left({', '.join(args)}\right)"

    # -- index notation ---------------------------------------------------------------------

    def index(self, i) -> str:
        return self.indices.get(i, escape_text(str(i)))

    def _subscript(self, idx) -> str:
        shown = [self.index(i) for i in idx if i is not None]
        return "".join(shown) if all(len(s) == 1 for s in shown) else ",".join(shown)

    def entry(self, name: str, idx) -> str:
        sub = self._subscript(idx)
        head = self.entries.get(name) or latex_name(name)
        if not sub:
            return head
        if "_" in head:
            head = rf"\left({head}\right)"
        return f"{head}_{{{sub}}}"

    def _print_Element(self, f: Element) -> str:
        return self.entry(f.name, f.idx)

    def _print_Partial(self, f: Partial) -> str:
        return rf"\frac{{\partial {self.entry(f.name, f.idx)}}}{{\partial {self.entry(f.name, f.wrt_idx)}}}"

    def _print_Delta(self, f: Delta) -> str:
        return rf"\delta_{{{self.index(f.a)}{self.index(f.b)}}}" if len(self.index(f.a) + self.index(f.b)) == 2 \
            else rf"\delta_{{{self.index(f.a)},{self.index(f.b)}}}"

    def _print_Func(self, f: Func) -> str:
        head = function_latex(f.name) + "'" * f.order
        sub = self._subscript(f.idx)
        if self.expand_functions:
            # f(M)_k written f(M_k) with M_k in index notation
            inner = LatexPrinter(self.entries, dict(self.indices), True)
            mapping = {h: i for h, i in zip(f.holes, f.idx) if h is not None}
            for h, i in mapping.items():
                inner.indices[h] = self.index(i)
            _name_indices(inner.indices, [t.summed for t in f.arg], avoid=set(inner.indices.values()))
            return rf"{head}\Bigl({inner.terms(list(f.arg))}\Bigr)"
        argument = self.doprint(f.node)
        return rf"\left[{head}\left({argument}\right)\right]_{{{sub}}}" if sub else rf"{head}\left({argument}\right)"

    def _print_Size(self, f: Size) -> str:
        return r"\,".join(x if x.isdigit() else latex_name(x) for x in f.dim.factors())

    def _print_Power(self, f: Power) -> str:
        """``(M_k)^p``: the entry of the base, in index notation on the first
        lines (``b_{j}^{-1}``), else as ``[M]_k``; a power of the entry."""
        sub = self._subscript(f.idx)
        exponent = _exponent(f.exponent)
        if self.expand_functions:
            inner = LatexPrinter(self.entries, dict(self.indices), True)
            for h, i in zip(f.holes, f.idx):
                if h is not None and i is not None:
                    inner.indices[h] = self.index(i)
            _name_indices(inner.indices, [t.summed for t in f.arg], avoid=set(inner.indices.values()))
            single = len(f.arg) == 1 and f.arg[0].coef == 1 and not f.arg[0].summed and len(f.arg[0].factors) == 1 \
                and isinstance(f.arg[0].factors[0], (Element, Size))
            base = inner.terms(list(f.arg)) if single else rf"\Bigl({inner.terms(list(f.arg))}\Bigr)"
            return f"{{{base}}}^{{{exponent}}}"
        if isinstance(f.node, Sym):
            base = self.entry(f.node.name, f.idx)
        elif sub:
            base = rf"\left[{self.doprint(f.node)}\right]_{{{sub}}}"
        else:
            base = self._wrap(f.node, _ATOM)
        return f"{{{base}}}^{{{exponent}}}"

    def _print_Term(self, t: Term) -> str:
        return self.term(t, first=True)

    def term(self, t: Term, first: bool) -> str:
        sign = "-" if t.coef < 0 else ("" if first else "+")
        magnitude = abs(t.coef)
        coef = "" if magnitude == 1 and t.factors else _number(magnitude) + r"\,"
        summed = [self.index(i) for i in _appearance(t)]
        sigma = rf"\sum_{{{','.join(summed)}}} " if summed else ""
        body = r"\,".join(self.doprint(f) for f in t.factors) or ""
        return f"{sign} {coef}{sigma}{body}".strip()

    def terms(self, terms: list[Term]) -> str:
        if not terms:
            return "0"
        return " ".join(self.term(t, i == 0) for i, t in enumerate(terms))

    def _print_list(self, terms: list) -> str:
        return self.terms(terms)

    # -- results ------------------------------------------------------------------------------

    def _print_Counterexample(self, ce: Counterexample) -> str:
        parts = [rf"{latex_name(name)} = {bmatrix(rows)}" for name, rows in ce.values.items()]
        return r",\quad ".join(parts)


def _exponent(value) -> str:
    """An exponent as printed: ``2``, ``-1``, ``1/2``, ``-3/2``."""
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _starts_with_digit(text: str) -> bool:
    return text[:1].isdigit() or text.startswith(r"\frac")


def keyword_values(node: Call, op) -> dict | None:
    """The keyword parameters of a typed call, by name (None for an untyped one
    or an operation without keywords)."""
    if not op.keywords or node.shape is None or len(node.params) != len(op.params) + len(op.keywords):
        return None
    return dict(zip((k.name for k in op.keywords), node.params[len(op.params):]))


def _reduction(name: str, arg: str, axis, keepdims: bool, ddof=0) -> str:
    r"""A reduction of the matrix ``arg`` (LaTeX): over every entry, or along
    an axis with the axis, ``keepdims`` and ``ddof`` in the subscript, as NumPy
    writes them -- ``\operatorname{sum}_{\mathrm{axis}=1,\,\mathrm{keepdims}}``
    is the n x 1 column of row sums, ``\operatorname{sum}_{\mathrm{axis}=1}``
    NumPy's 1-D array of them (a row here).

    >>> _reduction("sum", "X", 1, True)
    '\\operatorname{sum}_{\\mathrm{axis}=1,\\,\\mathrm{keepdims}}\\left(X\\right)'
    """
    parts = [] if axis is None else [rf"\mathrm{{axis}}={axis}"]
    if keepdims and axis is not None:            # over every entry the result is 1x1 either way
        parts.append(r"\mathrm{keepdims}")
    if ddof:
        parts.append(rf"\mathrm{{ddof}}={ddof}")
    sub = "_{" + r",\,".join(parts) + "}" if parts else ""
    return rf"\operatorname{{{name}}}{sub}\left({arg}\right)"


class _NotLiteral(Exception):
    pass


def _literal_value(node: Node):
    """The value of a keyword argument written as a literal: an integer, True,
    False or None; raises _NotLiteral for anything else."""
    if isinstance(node, Sym) and node.name in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.name]
    sign, k = (-1, node.arg) if isinstance(node, Neg) else (1, node)
    if isinstance(k, Num) and k.value.denominator == 1 and abs(k.value) <= 64:
        return sign * int(k.value)
    raise _NotLiteral


def _axis_keywords(node: Call) -> dict | None:
    """The literal axis / keepdims / ddof of an untyped reduction (or a macro
    over one) of one argument, given by name or by NumPy's position
    (``np.sum(X, 0)``); None when the call is anything else."""
    entry = registry.operation(node.name) or registry.macro(node.name)
    names = {k.name for k in getattr(entry, "keywords", ())}
    if entry is None or not names or not names <= {"axis", "keepdims", "ddof"} or not node.args:
        return None
    required = entry.argument_count if isinstance(entry, registry.Operation) else entry.arity
    if required != 1:
        return None
    takes = [k.name for k in entry.keywords if k.positional]
    positional = node.args[1:]
    if len(positional) > len(takes) or not (positional or node.keywords):
        return None
    given = list(zip(takes, positional)) + list(node.keywords)
    if len({k for k, _ in given}) != len(given) or any(k not in names for k, _ in given):
        return None
    try:
        values = {k: _literal_value(v) for k, v in given}
    except _NotLiteral:
        return None
    axis = values.get("axis")
    if axis is not None and axis not in (0, 1, -1, -2) or not isinstance(values.get("keepdims", False), bool) \
            or not isinstance(values.get("ddof", 0), int) or isinstance(values.get("ddof", 0), bool):
        return None
    if axis is not None:
        values["axis"] = axis % 2
    return values


def _is_hadamard(node: Mul) -> bool:
    """An untyped ``*``: a product of two non-numbers is taken as Hadamard."""
    return not (_numeric(node.left) or _numeric(node.right))


def _numeric(node: Node) -> bool:
    """A number, or built from numbers only (``-2``, ``sigma'(-2)``): a scalar."""
    if isinstance(node, Num):
        return True
    if isinstance(node, (Sym, Call)):
        return False
    return all(_numeric(k) for k in node.children())


def _latex_precedence(node: Node) -> int:
    if isinstance(node, Broadcast):
        return _latex_precedence(node.arg)
    if isinstance(node, Num) and node.value.denominator != 1:
        return _ATOM if node.value > 0 else _UNARY       # \frac{1}{2} needs no parentheses
    if isinstance(node, Call) and node.name in ("inv", "matrix_power") or \
            isinstance(node, Call) and node.name == "power" and node.params:
        return _POSTFIX                                 # X^{-1}, X^{k}, X^{\circ p}: a superscript
    if isinstance(node, Div) or isinstance(node, Call) and node.name == "divide" and node.shape is not None:
        return _POWER                                   # \frac{A}{B}: parenthesised only under a superscript
    if isinstance(node, Call) and node.name == "size" and node.params and len(node.params[0].factors()) > 1:
        return _PRODUCT                                 # 2\,n
    if isinstance(node, (Apply, Call)):
        return _ATOM                                    # f(...), \operatorname{sum}(...), [A > B], \max(...)
    return precedence(node)


def _appearance(t: Term) -> list:
    """The summed indices of a term in the order they first appear."""
    order = []
    for f in t.factors:
        for i in (f.idx + f.wrt_idx if isinstance(f, Partial) else (f.a, f.b) if isinstance(f, Delta) else f.idx):
            if i in t.summed and i not in order:
                order.append(i)
    return order + [i for i in t.summed if i not in order]


POOL = ("i", "j", "k", "l", "p", "q", "r", "s", "t", "u", "v", "w", "g", "h")


def _name_indices(indices: dict, summed_lists, avoid: set) -> None:
    """Give every summed index a letter; within one term letters are distinct."""
    for summed in summed_lists:
        free_letters = [p for p in POOL if p not in avoid]
        free_letters += [f"{p}_{n}" for n in range(1, 9) for p in POOL]
        for k, i in enumerate(summed):
            if i not in indices:
                indices[i] = free_letters[k]


def bmatrix(rows) -> str:
    """Integer rows as a ``bmatrix``; a 1x1 matrix as its number.

    >>> bmatrix([[1, -2], [3, 4]])
    '\\\\begin{bmatrix} 1 & -2 \\\\\\\\ 3 & 4 \\\\end{bmatrix}'
    """
    if len(rows) == 1 and len(rows[0]) == 1:
        return str(int(rows[0][0]))
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(str(int(v)) for v in row) for row in rows) + r" \end{bmatrix}"


def latex(node: Node, **options) -> str:
    """LaTeX of a claim-language tree (typed or not)."""
    if not isinstance(node, Node):
        raise TypeError(f"latex() needs an expression tree, got {type(node).__name__}")
    return LatexPrinter(**options).doprint(node)


def latex_of_text(text: str, shapes: str | None = None) -> str:
    """LaTeX of claim-language text, parsed by the project's parser (and typed
    with the declarations ``shapes`` when given, so that ``*`` is printed as
    scaling or as a Hadamard product correctly); text that does not parse is
    shown verbatim (escaped) in a typewriter font."""
    from ..errors import InputError
    from ..language.parser import parse
    from ..language.shapes import parse_declarations, parse_typed
    if shapes is not None:
        try:
            return latex(parse_typed(text, parse_declarations(shapes)))
        except (InputError, RecursionError, TypeError):
            pass
    try:
        return latex(parse(text))
    except (InputError, RecursionError, TypeError):
        return r"\texttt{" + escape_text(text) + "}"


# -- proofs -------------------------------------------------------------------------------------

RULE_FORMULAS = {
    "entries of products and transposes": r"(XY)_{ik} = \textstyle\sum_j X_{ij} Y_{jk},\ (X^T)_{ij} = X_{ji}",
    "entries of Hadamard products": r"(X \odot Y)_{ij} = X_{ij} Y_{ij}",
    "elementwise functions act entry by entry": r"[f(X)]_{ij} = f(X_{ij})",
    "sum and trace as sums of entries": r"\operatorname{tr} X = \textstyle\sum_i X_{ii},\ "
                                        r"\operatorname{sum}_{\mathrm{axis}=0}(X)_{j} = \textstyle\sum_i X_{ij}",
    "entries of broadcast rows and columns": r"(X + b)_{ij} = X_{ij} + b_{j},\ (X + a)_{ij} = X_{ij} + a_{i}",
    "entries of quotients and powers": r"(X / Y)_{ij} = X_{ij} Y_{ij}^{-1},\ (X^{\circ p})_{ij} = X_{ij}^{p}",
    "derivative of an entry": r"\partial w_{ij}/\partial w_{cd} = \delta_{ic}\delta_{jd}",
    "Kronecker contraction": r"\textstyle\sum_i \delta_{ic} f_i = f_c",
    "reassemble into matrix form": r"(XY)_{cd} = \textstyle\sum_k X_{ck}Y_{kd},\ (uv^T)_{cd} = u_c v_d",
    "transpose of a product": r"(XY)^T = Y^T X^T",
}


def rule_latex(rule: str) -> str:
    """A proof rule as LaTeX text (escaped), with its formula where known."""
    formula = RULE_FORMULAS.get(rule)
    text = r"\text{" + escape_text(rule) + "}"
    return text if formula is None else text + r"\text{: }" + formula


def entry_names(decls) -> dict:
    """How the entries of each symbol are written: a_{ij} for a single capital
    letter A when no symbol a is declared (as the post does), else A_{ij}."""
    out = {}
    for name in decls.symbols:
        if len(name) == 1 and name.isupper() and name.lower() not in decls.symbols:
            out[name] = name.lower()
    return out


def proof_latex(proof: CheckedProof, decls, width: int = 150) -> str:
    """The ``align*`` environment of a checked proof, one rule per line.

    Only a :class:`~symbolic_bp.rendering.proof.CheckedProof` can be printed."""
    if not isinstance(proof, CheckedProof):
        raise TypeError(f"only a CheckedProof can be printed, got {type(proof).__name__}")
    indices = {"c": "c", "d": "d"}
    for line in proof.lines:
        if isinstance(line.body, list):
            _name_indices(indices, [_appearance(t) for t in line.body], avoid={"c", "d"})
    entries = entry_names(decls)
    wrt = proof.claim.wrt.strip()
    r, c = proof.free
    w_entry = LatexPrinter(entries, indices).entry(wrt, (r, c))
    lhs = {"C": "C", "entry": rf"\frac{{\partial C}}{{\partial {w_entry}}}",
           "matrix": rf"\frac{{\partial C}}{{\partial {latex_name(wrt)}}}"}
    rows, previous = [], None
    for number, line in enumerate(proof.lines):
        printer = LatexPrinter(entries, indices, expand_functions=(number <= 1))
        if isinstance(line.body, list):
            chunks = _chunks(printer, line.body, width)
        else:
            body = printer.doprint(line.body)
            sub = printer._subscript(proof.free)
            chunks = [rf"\left[{body}\right]_{{{sub}}}" if line.entry and sub else body]
        head = lhs[line.lhs] if line.lhs != previous else ""
        previous = line.lhs
        rule = rule_latex(line.rule)
        if line.rule == "derivative of an entry":
            # the rule in the variable's own entries: d b_ij / d b_cd = delta_ic delta_jd
            p = LatexPrinter(entries, {"i": "i", "j": "j", "c": "c", "d": "d"})
            ij = tuple(x if f is not None else None for x, f in zip(("i", "j"), proof.free))
            rule = (r"\text{derivative of an entry: }\partial " + p.entry(wrt, ij) + r"/\partial " + p.entry(wrt, proof.free)
                    + " = " + "".join(rf"\delta_{{{a}{b}}}" for a, b in zip(ij, proof.free) if a is not None))
        if ", " in line.rule and line.rule not in RULE_FORMULAS and len(line.rule) > 60:
            # several rules: one per line, so that the tag stays narrow
            rule = r"\begin{array}{r}" + r" \\ ".join(r"\text{" + escape_text(part) + "}"
                                                      for part in line.rule.split(", ")) + r"\end{array}"
        tag = rf"\tag*{{\footnotesize ${rule}$}}"
        rows.append(f"{head} &= {chunks[0]} {tag}")
        rows.extend(rf"&\quad {chunk}" for chunk in chunks[1:])
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


def _chunks(printer: LatexPrinter, terms: list, width: int) -> list[str]:
    """The terms of a long line split into several lines of about ``width`` characters."""
    out, current = [], ""
    for k, t in enumerate(terms):
        piece = printer.term(t, k == 0)
        if current and len(_visible(current + piece)) > width:
            out.append(current)
            current = ""
        current = f"{current} {piece}".strip()
    out.append(current or "0")
    return out


def _visible(text: str) -> str:
    return re.sub(r"\\[a-zA-Z]+|[{}]", "", text)


# -- results (Jupyter, Markdown) ------------------------------------------------------------------

VERDICT_WORDS = {"verified": r"\text{verified}", "refuted": r"\text{refuted}",
                 "invalid": r"\text{invalid}", "undecided": r"\text{undecided}"}


def gradient_variable(result: Result, wrt: str | None = None) -> str:
    r"""The variable of the gradient ``result`` is about, as LaTeX: ``wrt`` when
    given, else read from the derivation evidence ("dC/dA = ..."); ``X`` when
    it is not a name.

    >>> from symbolic_bp.checks.result import Evidence, Result
    >>> r = Result("verified", evidence=[Evidence("derivation", "derived", "one rule per operation: dC/dW1 = y")])
    >>> gradient_variable(r), gradient_variable(r, "theta"), gradient_variable(r, "2 * x")
    ('W_{1}', '\\theta', 'X')
    """
    if wrt is None:
        found = [re.search(r"dC/d([A-Za-z_]\w*) =", e.detail) for e in result.evidence]
        wrt = next((m.group(1) for m in found if m), "X")
    return latex_name(wrt) if re.match(r"[A-Za-z_]\w*\Z", wrt or "") else "X"


def counterexample_sizes(ce: Counterexample) -> str:
    """The sizes of a counterexample as plain text (escape it for LaTeX).

    >>> from symbolic_bp.checks.result import Counterexample
    >>> [counterexample_sizes(Counterexample(sizes, {}, None, "", "")) for sizes in ({"m": 1, "n": 2}, {})]
    ['m=1, n=2', 'fixed sizes']
    """
    return ", ".join(f"{k}={v}" for k, v in ce.sizes.items()) or "fixed sizes"


def counterexample_values(ce: Counterexample, separator: str) -> str:
    r"""The values of a counterexample as ``name = matrix``, joined by ``separator``.

    >>> from symbolic_bp.checks.result import Counterexample
    >>> counterexample_values(Counterexample({"m": 1}, {"W1": [[1, 2]], "x": [[3]]}, None, "", ""), ", ")
    'W_{1} = \\begin{bmatrix} 1 & 2 \\end{bmatrix}, x = 3'
    """
    return separator.join(rf"{latex_name(n)} = {bmatrix(rows)}" for n, rows in ce.values.items())


def result_latex(result: Result, wrt: str | None = None) -> str:
    r"""A result as display math, for Jupyter (``_repr_latex_``).

    >>> from symbolic_bp.checks.result import Result
    >>> result_latex(Result("invalid", claim="x @@ y", error="column 4: 100%"), "A")
    '$\\displaystyle\\begin{array}{l}\\textbf{invalid}:\\ \\frac{\\partial C}{\\partial A} = \\texttt{x @@ y} \\\\ \\text{column 4: 100\\%}\\end{array}$'
    >>> result_latex(Result("refuted", claim="x @ y.T", suggestion="y @ x.T"), "A").split(r" \\ ")[1]
    '\\text{did you mean: }\\frac{\\partial C}{\\partial A} = y x^{T} \\quad\\text{(verified)}\\end{array}$'
    """
    require_result(result, "result_latex")
    w = gradient_variable(result, wrt)
    claim = latex_of_text(result.claim) if result.claim else r"\text{(no claim)}"
    lines = [rf"\textbf{{{result.verdict}}}:\ \frac{{\partial C}}{{\partial {w}}} = {claim}"]
    if result.derived and result.derived != result.claim:
        lines.append(rf"\text{{derived: }}\frac{{\partial C}}{{\partial {w}}} = {latex_of_text(result.derived)}")
    if result.counterexample:
        ce = result.counterexample
        lines.append(r"\text{counterexample at }" + escape_text(counterexample_sizes(ce)) + r":\ "
                     + counterexample_values(ce, r",\quad "))
        if ce.entry:
            lines.append(rf"\text{{entry ({ce.entry[0]},{ce.entry[1]}): claimed }}{latex_of_text(ce.claimed)}"
                         rf"\text{{, true }}{latex_of_text(ce.true)}")
        else:
            lines.append(r"\text{" + escape_text(f"the claim is {ce.claimed}, the gradient {ce.true}") + "}")
    if result.diagnosis:
        lines.append(r"\text{" + escape_text(result.diagnosis) + "}")
    if getattr(result, "suggestion", None):
        lines.append(suggestion_latex(result.suggestion, rf"\frac{{\partial C}}{{\partial {w}}}"))
    if result.error:
        lines.append(r"\text{" + escape_text(result.error) + "}")
    return "$\\displaystyle\\begin{array}{l}" + r" \\ ".join(lines) + r"\end{array}$"


def suggestion_latex(suggestion: str, grad: str, shapes: str | None = None) -> str:
    r"""The corrected claim as a line of math, labelled: ``grad = formula``
    typeset by the claim printer, then "(did you mean; verified)" -- the
    checks verified it before offering it.

    >>> suggestion_latex("y @ x.T", r"\frac{\partial C}{\partial A}")
    '\\text{did you mean: }\\frac{\\partial C}{\\partial A} = y x^{T} \\quad\\text{(verified)}'
    """
    return rf"\text{{did you mean: }}{grad} = {latex_of_text(suggestion, shapes)} \quad\text{{(verified)}}"


# the fields of a result a Markdown bullet list shows, in this order, and their labels where not their names
_FIELDS = ("derived", "counterexample", "diagnosis", "suggestion", "error")
_LABELS = {"suggestion": "did you mean"}


def markdown_items(result: Result, render: dict[str, Callable[[Any], str]],
                   before: Iterable[tuple[str, str]] = ()) -> list[str]:
    """A result's fields as Markdown bullets, ``- label: text``: first the
    ``before`` pairs, then derived, counterexample, diagnosis, the corrected
    claim ("did you mean") and error, each written by ``render[field]``; a
    field that is absent, or that its renderer writes as "", is left out.
    The report and the Jupyter display differ only in their renderers.

    >>> from symbolic_bp.checks.result import Result
    >>> r = Result("refuted", claim="x", derived="y", diagnosis="off by one", suggestion="y")
    >>> markdown_items(r, {"derived": lambda d: f"`{d}`", "diagnosis": str}, before=[("claim", "`x`")])
    ['- claim: `x`', '- derived: `y`', '- diagnosis: off by one']
    >>> markdown_items(r, {"suggestion": lambda s: f"`{s}` (verified)"})
    ['- did you mean: `y` (verified)']
    """
    fields = [*before, *((_LABELS.get(name, name), render[name](getattr(result, name)))
                         for name in _FIELDS if getattr(result, name, None) and name in render)]
    return [f"- {label}: {text}" for label, text in fields if text]


def result_markdown(result: Result, wrt: str | None = None) -> str:
    r"""A result as GitHub/Jupyter Markdown: math in ``$...$``.

    >>> from symbolic_bp.checks.result import Result
    >>> print(result_markdown(Result("invalid", claim="x @@ y", error="column 4: *"), "A"), end="")
    **invalid**: $\frac{\partial C}{\partial A} = \texttt{x @@ y}$
    - error: column 4: \*
    >>> print(result_markdown(Result("refuted", claim="x @ y.T", suggestion="y @ x.T"), "A"), end="")
    **refuted**: $\frac{\partial C}{\partial A} = x y^{T}$
    - did you mean: $\frac{\partial C}{\partial A} = y x^{T}$ (verified)
    """
    require_result(result, "result_markdown")
    gradient = r"\frac{\partial C}{\partial " + gradient_variable(result, wrt) + "} = "
    out = [f"**{result.verdict}**: ${_md_math(gradient + latex_of_text(result.claim))}$"
           if result.claim else f"**{result.verdict}**"]
    out += markdown_items(result, {
        "derived": lambda d: f"${_md_math(latex_of_text(d))}$" if d != result.claim else "",
        "counterexample": counterexample_markdown, "diagnosis": _md_text, "error": _md_text,
        "suggestion": lambda s: f"${_md_math(gradient + latex_of_text(s))}$ (verified)"})
    out += [f"- {e.method} ({e.outcome}): {_md_text(e.detail)}" for e in result.evidence]
    return "\n".join(out) + "\n"


def counterexample_markdown(ce: Counterexample) -> str:
    """Sizes, values as matrices, the differing entry: inline Markdown math."""
    sizes, values = counterexample_sizes(ce), counterexample_values(ce, r",\ ")
    if not ce.entry:
        return f"at {sizes}, ${_md_math(values)}$: the claim is {_md_text(ce.claimed)}, the gradient {_md_text(ce.true)}"
    return (f"at {sizes}, ${_md_math(values)}$: entry ({ce.entry[0]},{ce.entry[1]}) of the claim is "
            f"${_md_math(latex_of_text(ce.claimed))}$, the true value ${_md_math(latex_of_text(ce.true))}$")


def _md_math(text: str) -> str:
    # inside $...$ on GitHub a "|" would end a table cell; "$" cannot occur (escaped)
    return text.replace("|", r"\vert ")


def _md_text(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|$])", r"\\\1", str(text)).replace("\n", " ")


def refutation_math(entry, result: Result) -> list[str]:
    """For a refuted gradient claim: claim, true gradient, counterexample and
    the corrected claim (when the checks offer one) as a GitHub ```math block
    (lines of Markdown; [] for anything else)."""
    claim = getattr(entry, "claim", None)
    if result.verdict != "refuted" or not isinstance(getattr(claim, "wrt", None), str):
        return []
    grad = r"\frac{\partial C}{\partial " + gradient_variable(result, claim.wrt.strip()) + "}"
    shapes = claim.shapes if isinstance(claim.shapes, str) else None
    rows = [grad + " = " + latex_of_text(result.claim, shapes) + r" \quad\text{(claimed)}"]
    if result.derived:
        rows.append(grad + " = " + latex_of_text(result.derived, shapes) + r" \quad\text{(true)}")
    ce = result.counterexample
    if ce:
        rows.append(r"\text{at " + escape_text(counterexample_sizes(ce)) + r":}\ " + counterexample_values(ce, r",\ "))
        if ce.entry:
            rows.append(rf"\left[{grad}\right]_{{{ce.entry[0]},{ce.entry[1]}}}:\ \text{{claimed }}"
                        rf"{latex_of_text(ce.claimed)},\ \text{{true }}{latex_of_text(ce.true)}")
    if getattr(result, "suggestion", None):
        rows.append(suggestion_latex(result.suggestion, grad, shapes))
    return ["", "```math", r"\begin{array}{l}" + r" \\ ".join(rows) + r"\end{array}", "```"]
