"""Claims from documents: ``symbolic-bp extract FILE.md|FILE.tex|FILE.ipynb [-o out.toml] [--check]``.

A claim is any statement whose left side is a derivative -- ``\\frac{\\partial L}{\\partial W}``,
``\\nabla_W J``, ``\\partial_W E``, ``dL/dW``, ``\\frac{dJ}{d\\theta}``, ``\\frac{\\delta C}{\\delta A}``
-- of a cost defined before it under any name (``L = …``, ``\\mathcal{L}(W) = …``, ``CE = …``;
:func:`derivative_of`, :func:`name_of`), in a display, an ``align`` row, an inline
formula or a ``\\boxed{…}``.  The rows of an ``align`` (``aligned``, ``eqnarray``)
are read by :func:`statements`: a row that starts with ``&=`` is the next line
of a chain whose last line is the claim (written as a ``[[chain]]``); the
document's structure (math modes, environments, sections, figures) is read by
:mod:`.document` with pylatexenc, index notation by :mod:`.index_notation`, the
side file of declarations by :mod:`.declarations`.

Definitions (``z = W x + b``, ``:=``, ``\\equiv``, underbrace labels) apply from
where they are written (:class:`Scope`); a name given a number is never one,
nor is math in figures, captions or code.  Each formula is translated from
LaTeX into the claim language by a small hand-written LaTeX-math grammar
(:class:`LatexParser`; nothing is evaluated):

=================================  ===================================
LaTeX                              claim language
=================================  ===================================
``y^T``, ``y^{T}``, ``y^\\top``      ``y.T``
``x_0``, ``W_{12}``                 ``x0``, ``W12``
``\\sigma'(Ax)``, ``\\sigma_2’(z)``   ``sigma'(A @ x)``, ``sigma_2'(z)``
``a \\odot b``, ``a .* b``, ``a*b``  ``a * b`` (Hadamard)
``ABx`` (juxtaposition)            ``A @ B @ x``
``\\frac{1}{2} x``, ``2 x``          ``1 / 2 * x``, ``2 * x``
``\\left( … \\right)``, ``[…]``,     parentheses
``\\{…\\}``
``\\begin{bmatrix} x_1 \\\\ \\vdots    ``x`` (a vector of the entries of x)
\\\\ x_n \\end{bmatrix}``
``\\underbrace{Bx}_{x'}``            ``B @ x``, and a definition of x'
``X^{-1}``, ``s^2``                 ``inv(X)``, ``s**2``
``A^{3}`` of a matrix A              ``matrix_power(A, 3)``
``X^{\\circ 2}``, ``s^{1/2}``       ``X**2`` (entrywise), ``s**(1/2)``
``\\frac{A}{B}``                    ``A / B`` (entrywise for a matrix B)
``\\max\\left(0, Z\\right)``        ``maximum(0, Z)`` (one argument: ``max``)
``\\left[A > B\\right]``, ``\\geq``  ``A > B``, ``>=`` (an Iverson bracket)
``\\operatorname{sum}_{\\mathrm{axis}=1,\\,\\mathrm{keepdims}}(X)``
                                   ``sum(X, axis=1, keepdims=True)``
``\\mathrm{dY}``, ``\\mathrm{exp}(X)`` ``dY``, ``exp(X)``
``\\mathbf{1}_{m \\times n}``, ``I_n`` ``ones(m, n)``, ``eye(n)``
``\\begin{aligned} C &= … \\\\ \\frac{\\partial C}{\\partial W} &= … \\end{aligned}``
                                   a cost and its gradient (as the proofs document boxes them)
``{\\bf x}``, ``\\boldsymbol{\\delta}``   ``x``, ``delta`` (fonts dropped; ``\\big(`` too)
``\\hat{y}``, ``\\tilde{z}``, ``\\bar{x}`` ``y_hat``, ``z_tilde``, ``x_bar``
``W^{(l)}``, ``a^{[l-1]}``             ``Wl``, ``alm1`` (a layer index is part of the name)
``A \\otimes B``, ``\\Vert x \\Vert``    ``kron(A, B)``, ``norm(x)`` (also ``\\|x\\|_F``)
``\\mathrm{tr}(AB)``, ``\\operatorname{Tr}`` ``tr(A @ B)``
``\\sigma(x)(1-\\sigma(x))``           ``sigma(x) * (1 - sigma(x))`` (a function's value
                                   beside a parenthesis: entrywise)
``\\log \\sigma(Xw)``, ``e^{-t}``      ``log(sigma(X @ w))``, ``exp(-t)``
``\\sum_i x_i y_i``                  ``sum(x * y)``
=================================  ===================================

The notation of the project's own LaTeX printer
(:mod:`symbolic_bp.rendering.latex`) reads back into the claim it was
printed from; a dimension used as a number (the N of ``\\frac{1}{N}``) is
read as a symbol that is only ever divided by, declared a scalar.

A gradient takes the latest definition of its cost written before it; names
defined before it (``D \\equiv W_{23}W_{12}``, ``x_3 = W_{23}W_{12}W_{01}x_0``,
underbraces) are substituted, except the variable itself (``\\partial L/\\partial a``
keeps a free).  Shapes are inferred from how the symbols are used (a name
with a capital -- A, W01, dY -- is a matrix, any other a column vector, a
product ties inner dimensions, a sum, Hadamard product or comparison
broadcasts as NumPy does, the cost is 1x1, a gradient has the shape of its
variable, so that the b of X W + b whose gradient is a row is a row);
dimensions nothing ties are named and listed; a side file's shapes, layout
(rows) and functions (``sigma = "sigmoid"``) take precedence.  A claim that
cannot be translated is listed with the reason and what to add.

>>> to_claim_text(r"[y \\odot \\sigma'(Ax)] x^T")      # '*' and '@' bind equally, left to right
"y * sigma'(A @ x) @ x.T"
>>> to_claim_text(r"\\frac{1}{2} x^TA^TAx")
'1 / 2 * x.T @ A.T @ A @ x'
>>> doc = r"Hence \\[\\boxed{C = y^T A x \\implies \\frac{\\delta C}{\\delta A} = y x^T}\\]"
>>> found = extract_text(doc, "doc.md")
>>> [(c.cost, c.wrt, c.claim, c.shapes) for c in found.claims]
[('y.T @ A @ x', 'A', 'y @ x.T', 'A:m,n x:n y:m')]
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import InputError
from ..core.expression import (
    Add, Apply, Call, Node, Sym, Transpose, num, substitute,
)
from ..core import registry
from ..language.printer import to_text
from .latex_reader import (  # noqa: F401  (LatexParser, latex_tokens ... are this module's API too)
    ACCENTS, FUNCTION_LETTERS, GREEK, KNOWN_DEFINITIONS, OPERATOR_WORDS, EntrywisePow, LatexParser, Tok, Untranslatable, latex_tokens,
    columnwise,
)
from .shape_inference import _reading_score, infer_shapes, resolve_powers, resolve_products  # noqa: F401
from .declarations import Declarations, load_for
from .prose import layout_from_prose, one_example_from_prose, one_example_of, one_hot_from_prose, shapes_from_text
from .document import MAX_BYTES, Math, kind_of, read_document, read_file  # noqa: F401  (MAX_BYTES: as before)
from .dotted_matrix import read_with_dotted_matrices
from .index_notation import IndexError_, entry_expression

MAX_FORMULA = 20_000


def to_claim_text(latex: str, shapes: str | None = None) -> str:
    """One LaTeX expression in the claim language (:class:`Untranslatable` if
    not); with the declarations ``shapes``, a power ``X^{k}`` of a matrix is
    its matrix power (:func:`resolve_powers`)."""
    tree = LatexParser(latex).parse()
    if shapes is not None:
        tree = resolve_powers(tree, shapes)
    return to_text(tree)


# -- finding the claims of a document ----------------------------------------------------

@dataclass
class Extracted:
    """A claim found in the document, translated: the gradient of ``cost``
    with respect to ``wrt`` is ``claim``; a chain of steps (an ``align`` of
    ``&=`` lines) has every line in ``steps``, the last one the claim."""

    name: str
    cost: str
    wrt: str
    claim: str
    shapes: str
    latex: str
    line: int
    section: str
    boxed: bool
    note: str = ""
    steps: list[str] = field(default_factory=list)
    step_latex: list[str] = field(default_factory=list)
    unchecked: list[tuple[str, str]] = field(default_factory=list)   # (latex, reason) of lines not stated
    definitions: list[str] = field(default_factory=list)             # 'name = expr (line n)' used
    step_lines: list[int] = field(default_factory=list)              # the line of each of the steps


@dataclass
class Skipped:
    """A claim the reader would check that is not translated, with the reason (and what to add)."""

    line: int
    latex: str
    reason: str


@dataclass
class Extraction:
    path: str
    claims: list[Extracted] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def math_segments(text: str, kind: str = "markdown") -> list[Math]:
    """Every math segment with its line and the heading above it (:func:`~.document.read_document`)."""
    return read_document(text, kind)


def split_top(text: str, separators: tuple[str, ...], found: list | None = None) -> list[str]:
    """Split at separators outside braces, brackets and environments (``=``, ``\\implies``, ``,``)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and (text.startswith("\\left", i) and not text[i + 5:i + 6].isalpha()
                           or text.startswith("\\begin", i)):
            depth += 1
            i += 5 if text.startswith("\\left", i) else 6
            continue
        if ch == "\\" and (text.startswith("\\right", i) and not text[i + 6:i + 7].isalpha()
                           or text.startswith("\\end", i) and not text[i + 4:i + 5].isalpha()):
            depth -= 1
            i += 6 if text.startswith("\\right", i) else 4
            continue
        if ch == "\\" and text.startswith("\\\\", i) and depth == 0 and "\\\\" in separators:
            parts.append(text[start:i])
            start = i + 2
            i = start
            continue
        if ch == "\\" and text[i + 1:i + 2] in (",", ";", ":", "!", " ", "{", "}", "|", "\\"):
            i += 2                       # a thin space \, an escaped brace, a row break: not separators
            continue
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif depth == 0:
            for sep in separators:
                if text.startswith(sep, i) and not (sep[-1].isalpha() and text[i + len(sep):i + len(sep) + 1].isalpha()):
                    if found is not None:
                        found.append(sep)
                    parts.append(text[start:i])
                    start = i + len(sep)
                    i = start - 1
                    break
        i += 1
    parts.append(text[start:])
    return parts


# wrappers whose contents are the formula: \boxed{…}, plain TeX's \eqalign{a &= b \cr &= c} (MathJax)
_WRAPPERS = re.compile(r"\\(?:boxed|eqalignno|eqalign|displaylines)(?![A-Za-z])\s*(?=\{)")


def _strip(text: str) -> str:
    """Remove \\label{…}, \\tag{…}, \\boxed{ } and \\eqalign{ } wrappers (keeping the contents), trailing punctuation."""
    text = re.sub(r"\\label\s*\{[^}]*\}", "", text)
    text = re.sub(r"\\tag\*?\s*\{[^}]*\}|\\nonumber|\\notag", "", text)
    out, i = [], 0
    while i < len(text):
        wrapper = _WRAPPERS.match(text, i)
        if wrapper and "{" in text[i:]:
            j = text.find("{", i)
            depth, k = 1, j + 1
            while k < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[k], 0)
                k += 1
            out.append(text[j + 1:k - 1])
            i = k
        else:
            out.append(text[i])
            i += 1
    return "".join(out).strip().rstrip(".,;").strip()


# environments inside a display whose rows are lines of a derivation
_ROWS_ENV = re.compile(r"\\(?:begin|end)\s*\{(?:aligned|alignedat|split|gathered|multlined|eqnarray\*?|align\*?|alignat\*?"
                       r"|gather\*?|equation\*?)\}(?:\{\d+\})?")
# plain TeX's row end (\eqalign{… \cr …}): a LaTeX row break
_CR = re.compile(r"\\cr(?![A-Za-z])")
STATEMENT_SEPARATORS = ("\\implies", "\\Rightarrow", "\\Longrightarrow", "\\qquad", "\\quad", ",", ";",
                        "\\text{and}", "\\text{ and }", "\\mbox{and}", "\\textrm{and}")
RELATIONS = ("\\coloneqq", "\\triangleq", "\\equiv", ":=", "=")


def _rows(body: str) -> list[str]:
    """The rows of a display (split at ``\\\\`` outside braces and matrices), ``&`` removed."""
    body = _CR.sub(r"\\\\", _ROWS_ENV.sub(" ", body))
    rows = split_top(body, ("\\\\",))
    out = []
    for row in rows:
        row = re.sub(r"^\s*\[[^\]]*\]", "", row)          # \\[2pt]: a row's spacing
        pieces = split_top(row, ("&",))
        out.append(" ".join(pieces))
    return out


_REMARK = re.compile(r"\s*\(?\s*\\(?:text|mbox|textrm|textit|textbf|mathrm|hbox)\s*\{[^{}]*\}\s*\)?[\s.,;]*")


def _relation_split(piece: str) -> list[str]:
    """The sides of ``a = b = c`` (``\\equiv``, ``:=`` too)."""
    return [s.strip().rstrip(":").strip() for s in split_top(piece, RELATIONS)]


def statements(segment: str) -> list[list[str]]:
    """The statements of a math segment: lists of sides ``[left, right, right2 …]``.

    A row that starts with ``=`` (``&= …`` in an align) continues the
    statement above it as its next line; a row with no relation continues
    its last side (a long right side broken over rows); ``\\implies``,
    ``\\quad``, ``,`` separate statements written on one row.

    >>> statements(r"\\frac{\\partial L}{\\partial W} &= A \\\\ &= B, \\quad b = c")
    [['\\\\frac{\\\\partial L}{\\\\partial W}', 'A', 'B'], ['b', 'c']]
    """
    out: list[list[str]] = []
    for row in _rows(_strip(segment)):
        seps: list[str] = []
        parts = split_top(row, STATEMENT_SEPARATORS, seps)
        pieces: list[str] = []
        for part, sep in zip(parts, [""] + seps):   # a piece without a relation belongs to the one before it
            if pieces and _REMARK.fullmatch(part):
                continue                          # \quad \text{(by BP4)}: a remark, not math
            if pieces and len(split_top(part, RELATIONS)) < 2:
                pieces[-1] += (sep if sep in (",", ";") else " ") + part if part.strip() else ""
            else:
                pieces.append(part)
        for k, piece in enumerate(pieces):
            sides = _relation_split(piece)
            sides = [s.strip().rstrip(".,;").strip() for s in sides]
            if len(sides) < 2:
                if out and k == 0 and sides[0]:
                    out[-1][-1] += " " + sides[0]
                continue
            if not sides[0] and out and k == 0:
                out[-1].extend(s for s in sides[1:] if s)
            elif sides[0]:
                out.append([s for s in sides if s] if all(sides[1:]) else sides[:1] + [s for s in sides[1:] if s])
    return [s for s in out if len(s) >= 2]


_D = r"(?:\\partial|\\delta|\\mathrm\s*\{\s*d\s*\}|\\operatorname\s*\{\s*d\s*\}|\\text\s*\{\s*d\s*\}|\\mathop\s*\{\s*d\s*\}|d)"


def _braced_at(text: str, i: int) -> tuple[str, int] | None:
    """The contents of the ``{…}`` group starting at ``text[i]`` and the index after it."""
    if i >= len(text) or text[i] != "{":
        return None
    depth = 0
    for k in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[k], 0)
        if depth == 0:
            return text[i + 1:k], k + 1
    return None


def _without_d(text: str) -> str | None:
    """``\\partial L`` -> ``L``; ``d`` -> '' (the operator d/dW); None when no d is written."""
    m = re.match(rf"\s*{_D}(?![A-Za-z]{{2}})", text)
    if not m or text.strip().startswith(("\\partial^", "d^")):
        return None
    rest = text[m.end():].strip()
    if m.group().strip() == "d" and rest[:1].isalpha() and len(rest) > 1 and rest[1:2].isalpha() \
            and not rest.isalpha():
        return None
    return rest


def _unbrace(text: str) -> str:
    """``{\\partial L}`` -> ``\\partial L``: a group that is the whole text, opened."""
    group = _braced_at(text, 0)
    return group[0] if group is not None and group[1] == len(text) else text


def derivative_of(lhs: str) -> tuple[str, str] | None:
    """(the differentiated function's LaTeX, the variable's LaTeX) of a
    derivative written on the left of ``=``, else None.

    >>> derivative_of(r"\\frac{\\partial \\mathcal{L}}{\\partial W^{(l)}}")
    ('\\\\mathcal{L}', 'W^{(l)}')
    >>> derivative_of(r"\\nabla_{\\theta} J"), derivative_of("dL/dW"), derivative_of(r"\\partial_W E")
    (('J', '\\\\theta'), ('L', 'W'), ('E', 'W'))
    >>> derivative_of(r"\\frac{dJ}{d\\theta}"), derivative_of(r"x^T y")
    (('J', '\\\\theta'), None)
    """
    t = " ".join(lhs.split())
    m = re.match(r"\\[dt]?frac\s*", t)
    if m:
        top = _braced_at(t, m.end())
        if top is None:
            return None
        bottom = _braced_at(t, top[1] + len(t[top[1]:]) - len(t[top[1]:].lstrip()))
        if bottom is None:
            return None
        rest = t[bottom[1]:].strip()
        cost, wrt = _without_d(top[0]), _without_d(bottom[0])
        if cost is None or not wrt:
            return None
        if not cost:                   # \frac{\partial}{\partial W} L: the operator, then the function
            return (rest, wrt) if rest else None
        while rest:                    # the chain rule: dL/dp dp/dz is dL/dz (each factor's top the last bottom)
            inner = _chain_factor(rest)
            if inner is None or " ".join(inner[0].split()) != " ".join(wrt.split()):
                return None
            wrt, rest = inner[1], inner[2]
        return cost, wrt
    m = re.match(r"\\(?:mathbf|boldsymbol|bm)\s*(?:\{\s*J\s*\}|J)\s*_\s*", t)
    if m:                              # \mathbf J_{\mathbf S}(H): the Jacobian of the scalar H, its gradient
        group = _braced_at(t, m.end())
        wrt, end = group if group is not None else (t[m.end():m.end() + 1], m.end() + 1)
        rest = t[end:].strip()
        inner = rest[1:-1].strip() if rest[:1] == "(" and rest[-1:] == ")" and "(" not in rest[1:-1] else ""
        return (inner, wrt.strip()) if inner and wrt.strip() else None
    m = re.match(r"\\(?:nabla|partial)\s*_\s*", t)
    if m:
        group = _braced_at(t, m.end())
        if group is not None:
            wrt, end = group
        else:
            w = re.match(r"\\[A-Za-z]+|[A-Za-z0-9]", t[m.end():])
            if not w:
                return None
            wrt, end = w.group(), m.end() + w.end()
        cost = t[end:].strip()
        return (cost, wrt.strip()) if cost and wrt.strip() else None
    parts = split_top(t, ("/",))
    if len(parts) == 2:
        cost, wrt = (_without_d(_unbrace(p.strip())) for p in parts)
        if cost and wrt:
            return cost, wrt
    return None


def _chain_factor(text: str) -> tuple[str, str, str] | None:
    """``\\frac{\\partial p}{\\partial z} rest``: (p, z, rest) for one factor of a chain-rule product."""
    m = re.match(r"\\[dt]?frac\s*", text)
    if not m:
        return None
    top = _braced_at(text, m.end())
    if top is None:
        return None
    k = top[1] + len(text[top[1]:]) - len(text[top[1]:].lstrip())
    bottom = _braced_at(text, k)
    if bottom is None:
        return None
    num, den = _without_d(top[0]), _without_d(bottom[0])
    if not num or not den:
        return None
    return num.strip(), den.strip(), text[bottom[1]:].strip()


def name_of(latex: str) -> str | None:
    """The name of a function or value as written on the left of a
    definition or under a derivative: ``\\mathcal{L}(W)`` -> ``L``,
    ``J(\\theta)`` -> ``J``, ``CE`` -> ``CE``, ``z^{(1)}`` -> ``z1``.

    >>> [name_of(t) for t in (r"\\mathcal{L}(W)", r"J(\\theta)", "CE", r"\\mathbf{z}^{(1)}", r"\\text{CE}", "x^T y")]
    ['L', 'J', 'CE', 'z1', 'CE', None]
    """
    t = latex.strip()
    cut = re.match(r"(.+?)\s*(?:\\left\s*)?([(\[])", t)
    candidates = [t]
    if cut:                                # L(W), J[\theta]: an argument list that ends the text
        rest = re.sub(r"\\(?:left|right)\s*", "", t[cut.end(2) - 1:])
        close = {"(": ")", "[": "]"}[cut.group(2)]
        depth = 0
        for k, ch in enumerate(rest):
            depth += (ch == cut.group(2)) - (ch == close)
            if depth == 0:
                if k == len(rest) - 1:
                    candidates.append(cut.group(1))
                break
    try:
        whole = LatexParser(t).parse()
    except (Untranslatable, RecursionError):
        whole = None
    if isinstance(whole, Call) or isinstance(whole, Apply) and whole.name.split("_")[0] not in FUNCTION_LETTERS:
        return None                        # \mathrm{tr}(AXB), \log(x): an expression, not a name
    for text in candidates:
        try:
            node = LatexParser(text).parse()
        except (Untranslatable, RecursionError):
            node = None
        if isinstance(node, Sym):
            return node.name
        m = re.fullmatch(r"\\(?:text|mathrm|operatorname|textrm|mathit)\s*\{\s*([A-Za-z]+)\s*\}|([A-Z]{2,4})", text)
        if m:
            return m.group(1) or m.group(2)
    return None


@dataclass
class Definition:
    """``name = …`` as the document writes it: its tree, or why it does not translate."""

    name: str
    tree: Node | None
    line: int
    latex: str
    error: str = ""
    repairs: tuple[str, ...] = ()
    section: str = ""
    # every side that translates, in the order of preference (the first is ``tree``): a claim on a
    # variable the first does not reach takes the first that does (L = -y^T log p = -y^T log phi(z))
    alternatives: tuple[Node, ...] = ()
    sides: tuple[str, ...] = ()       # the LaTeX of every side (a cost read again for one example)
    # the names read as entries of one index under a sum (y, p of \sum_i y_i \log p_i): one shape
    same_shape: tuple[frozenset[str], ...] = ()
    outline: tuple[int, ...] = ()     # the headings it was written under
    level: int = 0                    # the level of the heading right above it
    previous: "Definition | None" = None   # the definition it replaced (in force again after its subsection)


class Scope:
    """The definitions in force where the reader is: each from where it is
    written to its next definition, within one part of the document."""

    def __init__(self, declarations: Declarations | None = None):
        self.declarations = declarations or Declarations()
        self.defs: dict[str, Definition] = {}
        self.functions: dict[str, str] = dict(self.declarations.functions)   # sigma -> sigmoid
        self.opaque: dict[str, tuple[int, str]] = {}    # functions defined by a formula that is no known one
        self.onehot: dict[str, tuple[int, str]] = {}    # names the text says are one-hot: (line, words)
        self.said_shapes: list[tuple[int, str, str, str]] = []   # shapes the text states: (line, name, shape, words)
        self.one_example: list[tuple[int, bool, str]] = []      # "for a single observation" and back
        self.scope = None
        self.outline: tuple[int, ...] = ()
        self.level = 0
        self.local: set[str] = set()       # names whose definition is a subsection's own (see enter)
        self.side_defs: dict[str, Definition] = {}
        for name, latex in self.declarations.definitions.items():
            try:
                self.side_defs[name] = Definition(name, LatexParser(latex).parse(), 0, latex)
            except (Untranslatable, RecursionError) as e:
                self.side_defs[name] = Definition(name, None, 0, latex, str(e) or "nested too deeply")

    def enter(self, scope: int, outline: tuple[int, ...] = (), level: int = 0) -> None:
        if scope != self.scope:
            self.scope = scope
            self.defs, self.local = dict(self.side_defs), set()
        self.outline, self.level = outline, level
        # a redefinition made in a deeper subsection than the definition it replaces is in force to
        # that subsection's end; after it, the one it replaced is again ("### Why this works" restates
        # H for flattened vectors; the next section's H is the batch cost again)
        for name in [n for n in self.local if n in self.defs]:
            d = self.defs[name]
            while _local(d) and outline[:len(d.outline)] != d.outline:
                d = d.previous
            self.defs[name] = d
            if not _local(d):
                self.local.discard(name)

    def define(self, sides: list[str], line: int, section: str = "") -> None:
        """Record ``sides[0] = sides[1] (= …)`` if it is a definition: a name
        given an expression of other names (in a display or inline: "where
        $z = Wx + b$").  A name given a number is an example value, never a
        definition (the sizes and rates of prose and figures); ``x = … x …`` is
        an equation, ``y = f(x)`` an abstract map, ``a = b`` a renaming."""
        lhs = sides[0]
        try:
            head = LatexParser(lhs).parse()
        except (Untranslatable, RecursionError):
            head = None
        if isinstance(head, Apply) and head.order == 0 and isinstance(head.arg, Sym):
            # sigma(t) = 1/(1 + e^{-t}) names a function; f(x) = a x + b is also the value f
            self._define_function(head, sides[1], line)
        name, free = name_of(lhs), ()
        if name is not None and name in self.side_defs:
            return                        # the side file says what the name is: it is said for the whole document
        if not _plain_arguments(lhs):
            return                        # s(x + c)_i = …: the function at another point, an identity
        if name is None:
            entry = re.fullmatch(r"\s*(.+?)\s*_\s*\{?\s*([a-z])\s*\}?\s*", lhs)
            if entry is None or name_of(entry.group(1)) is None:
                return
            name, free = name_of(entry.group(1)), (entry.group(2),)   # a_j = …: the entry j of a vector a
        try:
            p, tree, alternatives = self._definition_side(sides[1:], free, lhs, name)
        except (Untranslatable, RecursionError) as e:
            # remembered, so that a claim on it says what failed; an earlier good one is kept for
            # a name the document then restates in index notation (f = a^T X b = \sum ...)
            # a restatement that does not translate (in components, with \ldots) in the same section
            # keeps the definition before it; a new section's one replaces it, and says why it fails
            earlier = self.defs.get(name)
            if earlier is None or earlier.tree is None or earlier.section != section:
                self.defs[name] = Definition(name, None, line, sides[1], str(e) or "nested too deeply",
                                             section=section)
            return
        for label, labelled in p.defined.items():
            self.defs[label] = Definition(label, labelled, line, sides[1])
        symbols = {n.name for n in tree.walk() if isinstance(n, Sym)}
        if not symbols or name in symbols or isinstance(tree, Sym):
            return                        # an example value, an equation, a renaming
        if any(isinstance(n, Apply) and n.name in ("f", "g", "h") for n in tree.walk()):
            return
        self.defs[name] = Definition(name, tree, line, sides[1], repairs=tuple(p.repairs), section=section,
                                     alternatives=alternatives, sides=tuple(sides[1:]), outline=self.outline,
                                     level=self.level, previous=self.defs.get(name),
                                     same_shape=tuple(frozenset(v) for v in p.entries_of.values() if len(v) > 1))
        if _local(self.defs[name]):
            self.local.add(name)

    def _definition_side(self, sides: list[str], free: tuple[str, ...], lhs: str,
                         name: str) -> tuple[LatexParser, Node, tuple[Node, ...]]:
        """The reading of ``name = sides[0] = sides[1] …`` to keep: each side read as matrices, else as
        index notation (``\\sum_i [y_i \\log \\phi(w^T x_i) + …]``, the entry ``a_j = e^{z_j} / \\sum_k
        e^{z_k}``); of those that translate, the one written most in the document's own variables
        (fewest names defined elsewhere: ``-\\sum_i y_i \\log p_i`` says less than the line that
        writes p_i out), then one read as matrices, then the first; :class:`Untranslatable` (the first side's reason) if none."""
        readings: list[tuple[int, bool, int, LatexParser, Node]] = []
        first: Exception | None = None
        for k, side in enumerate(sides):
            try:
                if free:
                    raise Untranslatable(f"the entry {lhs.strip()} of {name} is not given in index notation")
                p = LatexParser(side)
                tree = p.parse()
                indices = False
            except (Untranslatable, RecursionError) as e:
                first = first or e
                try:
                    p, tree = LatexParser(""), _in_index_notation(side, e if isinstance(e, Untranslatable)
                                                                   else Untranslatable("nested too deeply"), free)
                except (Untranslatable, RecursionError):
                    continue
                indices = True
            defined = {n.name for n in tree.walk() if isinstance(n, Sym) and n.name in self.defs
                       and self.defs[n.name].tree is not None and n.name != name}
            readings.append((len(defined), indices, k, p, tree))
        if not readings:
            raise first
        # in the document's own variables first, then a side written in matrices, then the first
        readings.sort(key=lambda r: r[:3])
        *_, p, tree = readings[0]
        return p, tree, tuple(r[-1] for r in readings)

    def _define_function(self, head: Apply, latex: str, line: int = 0) -> None:
        """``\\sigma(t) = \\frac{1}{1 + e^{-t}}``: the document says sigma is the sigmoid."""
        try:
            tree = LatexParser(latex).parse()
        except (Untranslatable, RecursionError) as e:
            try:                        # \phi(z) = e^z / \sum_j e^{z_j}: in index notation
                tree = _in_index_notation(latex, e if isinstance(e, Untranslatable) else Untranslatable(""))
            except (Untranslatable, RecursionError):
                tree = None
        if tree is not None:
            tree = substitute(tree, lambda n: Sym(name="t") if isinstance(n, Sym) and n.name == head.arg.name
                              else None)
        known = KNOWN_DEFINITIONS.get(to_text(tree)) if tree is not None else None
        if head.name in self.declarations.functions:
            return
        if known:
            self.functions[head.name] = known
            self.opaque.pop(head.name, None)
        else:
            # defined by a formula that is not a known function (phi, the sigmoid above, is now the
            # softmax): a claim about it is not checked with phi read as any function
            self.functions.pop(head.name, None)
            self.opaque[head.name] = (line, " ".join(latex.split())[:60])


def _declared(shapes: str, name: str) -> str | None:
    """What ``shapes`` (``"A:m,n x:n y:scalar"``) declares ``name`` to be, properties included
    (``"m,n:spd"``, ``"scalar"``), or None.

    >>> _declared("A:m,n:spd x:n y:scalar", "A"), _declared("A:m,n", "y")
    ('m,n:spd', None)
    """
    m = re.search(rf"(?:^|(?<=\s)){re.escape(name)}:(\S+)", shapes)
    return m.group(1) if m else None


def _shapes_of(groups, shapes: str, local: dict[str, Node], functions: dict[str, str]) -> dict[str, str]:
    """The shapes (rows x columns, as text) the reading gives the names of ``groups``: declared, or
    of the definition substituted for them; a name that does not type is left out."""
    from ..language.shapes import parse_declarations, typecheck
    from .latex_reader import _plain
    try:
        decls = parse_declarations(shapes)
    except InputError:
        return {}
    out = {}
    for name in sorted({n for g in groups for n in g}):
        try:
            tree = _rename_functions(_substitute(local[name], local), functions) if name in local else Sym(name=name)
            shape = typecheck(_plain(tree), decls).shape
        except (InputError, KeyError, RecursionError):
            continue
        out[name] = "x".join(str(d) for d in shape)
    return out


def _local(d: Definition) -> bool:
    """A redefinition made under a deeper heading than the definition it replaces (which translates)."""
    return d.previous is not None and d.previous.tree is not None and bool(d.previous.level) \
        and d.level > d.previous.level


def _substitute(tree: Node, defs: dict[str, Node], depth: int = 0) -> Node:
    """``tree`` with each defined name replaced by its definition, itself
    substituted, up to 20 definitions deep (where a cyclic definition stops)."""
    if depth > 20:
        return tree
    return substitute(tree, lambda node: _substitute(defs[node.name], defs, depth + 1)
                      if isinstance(node, Sym) and node.name in defs else None)


def _rename_functions(tree: Node, functions: dict[str, str]) -> Node:
    """sigma(z) as the registered function the document or side file says it is; phi(z) as
    ``softmax(z)`` where the document defines phi as the softmax (of each example's column,
    ``softmax(Z, axis=0)``, where the function is applied example by example)."""
    def rule(n: Node) -> Node | None:
        if not isinstance(n, Apply):
            return None
        name, columns = columnwise(n.name)
        target = functions.get(name, "function")
        kept = target == "function" or n.order and registry.elementwise(target) is None  # phi'(z) of the softmax
        if kept and not columns:
            return None                   # nothing to rename here: substitute goes on into the argument
        arg = _rename_functions(n.arg, functions)
        if kept:
            return Apply(name=name, arg=arg, order=n.order)
        if registry.elementwise(target) is not None:
            return Apply(name=target, arg=arg, order=n.order)           # sigma'(z): sigmoid'(z)
        keywords = (("axis", num(0)),) if columns else ()
        return Call(name=target, args=(arg,), keywords=keywords)
    return substitute(tree, rule)


def extract_text(text: str, path: str = "<text>", declarations: Declarations | None = None,
                 kind: str | None = None) -> Extraction:
    """The claims of a document's text (see the module docstring)."""
    out = Extraction(path)
    raw_lines = text.splitlines()
    scope = Scope(layout_from_prose(text, declarations or Declarations()))
    scope.onehot = {name: said for name, said in one_hot_from_prose(text).items()
                    if name not in scope.declarations.shapes}
    scope.said_shapes = [s for s in shapes_from_text(text) if s[1] not in scope.declarations.shapes]
    scope.one_example = one_example_from_prose(text)
    counter = 0
    names: set[str] = set()
    announced: tuple[str, int] | None = None     # "$\frac{\partial L}{\partial p}$ is a row vector ...:"
    operators: dict[str, str] = {}               # \partial_{ij} -> \partial_{x_{ij}} (the document's shorthand)
    named: dict[str, tuple[str, str]] = {}       # \delta^{(@)} -> (L, z^{(@)}): a derivative the text names
    layers = sorted(set(re.findall(r"\^\s*\{?\s*[(\[]\s*([0-9]|[A-Z])\s*[)\]]", text)))[:12]  # the layers it names
    for seg in _continued(read_document(text, kind or kind_of(path))):
        scope.enter(seg.scope, seg.outline, seg.level)
        if not seg.display:
            if "=" not in seg.text and derivative_of(seg.text.strip()) is not None:
                announced = (seg.text.strip(), seg.line)
        elif announced is not None:
            introduced = _introduced(raw_lines, announced, seg)
            announced = None
            if introduced is not None:
                seg = replace(seg, text=f"{introduced} = {seg.text.strip()}")
        if len(seg.text) > MAX_FORMULA:
            if "\\partial" in seg.text or "\\nabla" in seg.text or "\\boxed" in seg.text:
                out.skipped.append(Skipped(seg.line, seg.text.strip()[:2000],
                                           f"formula longer than {MAX_FORMULA} characters"))
            continue
        boxed = "\\boxed" in seg.text
        if not boxed and not re.search(r"=|\\equiv|\\coloneqq|\\triangleq", seg.text):
            continue                         # neither a claim nor a definition
        try:
            found = statements(seg.text)
        except RecursionError:
            found = []
        found = [[_spelled_out(_without_label(st[0]), operators)] + st[1:] for st in found]
        found = [[side for k, side in enumerate(st) if k == 0 or not _only_dots(side)] for st in found]
        lines = _statement_lines(seg, found)
        claims = []
        for k, st in enumerate(found):
            d = derivative_of(st[0])
            if d is None:                     # \delta^{(l)} = \frac{\partial L}{\partial z^{(l)}} (= …), \delta^{(L)} = …
                st, d, skip = _named_derivative(st, named)
                lines[k] = lines[k][skip:]
            claims.append((st, d))
        if any(d for _, d in claims) or boxed:
            counter += 1
        kind_name = "boxed" if boxed else "implies" if re.search(r"\\(?:implies|Rightarrow|Longrightarrow)", seg.text) \
            else "chain" if any(d and len(st) > 2 for st, d in claims) else "display" if seg.display else "inline"
        any_claim = False
        for (st, d), side_lines in zip(claims, lines):
            line = side_lines[0] if len(st) > 2 else side_lines[-1]
            if d is None:
                shorthand = _operator_shorthand(st)
                if shorthand:                # \partial_{ij} := \partial_{x_{ij}}: a name for the operator
                    operators[shorthand[0]] = shorthand[1]
                    continue
                scope.define(st, line, seg.section)
                # a^{(l)} = \sigma(z^{(l)}) for every layer l: also a^{(2)} = \sigma(z^{(2)}) for each layer the
                # document names (an explicit definition of a layer, before or after, is its own)
                for instance in _layer_instances(st, layers):
                    if name_of(instance[0]) not in scope.defs:
                        scope.define(instance, line, seg.section)
                continue
            any_claim = True
            try:
                claim = _claim(seg, st, d, scope, f"{kind_name}-{counter}", boxed, line, side_lines[1:],
                               _row_said(raw_lines, seg.line))
            except (Untranslatable, RecursionError) as e:
                reason = str(e) if isinstance(e, Untranslatable) else "formula nested too deeply"
                # each line of a chain is a claim: each is listed, at its line
                for at in dict.fromkeys([line] + (side_lines[1:] if len(st) > 2 else [])):
                    out.skipped.append(Skipped(at, seg.text.strip()[:2000], reason))
                continue
            except InputError as e:           # a translated formula the claim language rejects
                out.skipped.append(Skipped(line, seg.text.strip()[:2000], str(e)))
                continue
            for latex, reason in claim.unchecked:   # a step of the chain not checked: listed at its line
                at = next((side_lines[k] for k, side in enumerate(st[1:], 1) if side == latex and k < len(side_lines)),
                          None)
                if at is not None and at != claim.line:
                    out.skipped.append(Skipped(at, latex.strip()[:2000], f"a step of the chain of line {line}: {reason}"))
            base, k = claim.name, 1
            while claim.name in names:
                k += 1
                claim.name = f"{base}-{k}"
            names.add(claim.name)
            out.claims.append(claim)
        if boxed and not any_claim:
            out.skipped.append(Skipped(seg.line, seg.text.strip()[:2000],
                                       "a boxed formula that is not a gradient (dC/dX = ...)"))
    return out


def _continued(segments: list[Math]) -> list[Math]:
    """Displays that continue a chain: ``$$ \\frac{\\partial L}{\\partial z} = a $$`` then ``$$ = b $$``
    (a display that starts with ``=``) is one display of two rows, its lines kept.

    >>> from symbolic_bp.derivations.document import read_document
    >>> [(m.line, m.text) for m in _continued(read_document("$$ L = a $$\\n$$ = b $$\\n"))]
    [(1, ' L = a  \\\\\\\\\\n = b ')]
    """
    out: list[Math] = []
    for seg in segments:
        last = out[-1] if out else None
        if last is not None and seg.display and last.display and last.scope == seg.scope \
                and re.match(r"\s*(?:&\s*)?=", seg.text) and "=" in last.text:
            gap = max(1, seg.line - last.line - last.text.count("\n"))
            out[-1] = replace(last, text=last.text + " \\\\" + "\n" * gap + seg.text)
        else:
            out.append(seg)
    return out


def _statement_lines(seg: Math, found: list[list[str]]) -> list[list[int]]:
    """The line of each side of each statement: where it is written in the segment."""
    out, pos = [], 0
    for st in found:
        lines = []
        for side in st:
            key = side.strip()[:40]
            k = seg.text.find(key, pos) if key else -1
            if k >= 0:
                pos = k + len(key)
            lines.append(seg.line + seg.text.count("\n", 0, k if k >= 0 else pos))
        out.append(lines)
    return out


def _what_to_add(scope: Scope, name: str) -> str:
    where = scope.declarations.path or "the side file NAME.symbolic-bp.toml"
    return f"write it in display math, or add it under [definitions] of {where}"


def _claim(seg: Math, sides: list[str], derivative: tuple[str, str], scope: Scope, name: str,
           boxed: bool, line: int, side_lines: list[int] = (), row_said: str = "") -> Extracted:
    """The claim of one statement ``∂L/∂W = e1 (= e2 …)``."""
    cost_latex, wrt_latex = derivative
    free: tuple[str, ...] | None = None          # the indices of an entry X_{pq}: index notation
    try:
        wrt_tree = LatexParser(wrt_latex).parse()
    except Untranslatable as e:
        entry = re.fullmatch(r"\s*(.+?)\s*_\s*\{?\s*([a-z])\s*,?\s*([a-z])?\s*\}?\s*", wrt_latex)
        if "index" not in str(e) or not entry:
            raise Untranslatable(f"the variable {wrt_latex!r}: {e}") from None
        try:
            wrt_tree = LatexParser(entry.group(1)).parse()
        except Untranslatable as e2:
            raise Untranslatable(f"the variable {wrt_latex!r}: {e2}") from None
        free = tuple(x for x in entry.group(2, 3) if x)
    if not isinstance(wrt_tree, Sym):
        raise Untranslatable(f"the variable {wrt_latex!r} is not a symbol")
    wrt = wrt_tree.name
    key = name_of(cost_latex)
    cost_def: Definition | None
    if key is None:                          # \frac{\partial}{\partial W}(…): the function is written out
        try:
            cost_def = Definition("", LatexParser(cost_latex).parse(), seg.line, cost_latex)
        except Untranslatable as e:
            raise Untranslatable(f"the differentiated function {cost_latex!r} does not translate: {e}") from None
    else:
        cost_def = scope.defs.get(key)
        if cost_def is None:
            raise Untranslatable(f"no cost '{key} = ...' is written before this gradient ({_what_to_add(scope, key)})")
        if cost_def.tree is None:
            raise Untranslatable(f"the cost {key} (line {cost_def.line}: {' '.join(cost_def.latex.split())[:80]}) "
                                 f"does not translate: {cost_def.error}")
    one_example = _one_example_cost(cost_def, scope, line)
    if one_example is not None:
        cost_def, said_one = one_example
    lines, latexes, unchecked, repairs, step_lines = [], [], [], list(cost_def.repairs), []
    defined: dict[str, Node] = {}
    for k, rhs in enumerate(sides[1:]):
        try:
            if free is not None:                # the entry (p, q) of the gradient: the matrix it is
                p = LatexParser("")
                try:
                    tree = entry_expression(rhs, free)
                except IndexError_ as e:
                    raise Untranslatable(f"index notation: {e}") from None
            else:
                p = LatexParser(rhs)
                try:
                    tree = p.parse()
                except Untranslatable as first:
                    tree = _in_index_notation(rhs, first)
        except Untranslatable as e:
            if k == len(sides) - 2:
                raise Untranslatable(f"the claimed gradient does not translate: {e}" if len(sides) == 2 else
                                     f"the last line {' '.join(rhs.split())[:60]!r} does not translate: {e}") from None
            unchecked.append((rhs, str(e)))
            continue
        defined.update(p.defined)
        repairs += p.repairs
        lines.append(tree)
        latexes.append(rhs)
        step_lines.append(side_lines[k] if k < len(side_lines) else line)
    local = {n: d.tree for n, d in scope.defs.items() if d.tree is not None and n != wrt and n != key}
    local.update({n: t for n, t in defined.items() if n != wrt})
    wrt_def = scope.defs.get(wrt)
    if wrt_def is not None and wrt_def.tree is not None and not isinstance(wrt_def.tree, Sym):
        # z = w^T x: a line that writes the variable out ([\phi(w^T x) - y]^T) writes z
        lines = [substitute(t, lambda n: Sym(name=wrt) if n == wrt_def.tree else None) for t in lines]
    if wrt not in _symbols(_substitute(cost_def.tree, local)):
        # the cost's first reading does not reach the variable, a later side of its chain may
        reaching = next((a for a in cost_def.alternatives[1:] if wrt in _symbols(_substitute(a, local))), None)
        if reaching is not None:
            cost_def = replace(cost_def, tree=reaching)
    substituted = [_substitute(t, local) for t in [cost_def.tree] + lines]
    in_cost = _symbols(substituted[0])
    if wrt not in in_cost and wrt.upper() not in in_cost:
        # the cost is written in other names (s = softmax(x) said in words): its gradient is not zero,
        # its link to the variable is missing
        raise Untranslatable(f"{wrt} is not in the cost {cost_def.name or ''} ({to_text(substituted[0])[:60]}) and no "
                             f"definition written before this line links them (write it in display math, or "
                             f"under [definitions] of the side file)")
    if free is not None and wrt not in in_cost and wrt.upper() in in_cost:
        # a_{kl}: the entries of the matrix A, written in lower case
        rename = {wrt: Sym(name=wrt.upper())}
        substituted[1:] = [substitute(t, lambda n: rename.get(n.name) if isinstance(n, Sym) else None)
                           for t in substituted[1:]]
        wrt = wrt.upper()
    # a line with a symbol the cost does not have (and nothing defines) is about something else:
    # listed, never checked (its gradient would be refuted for a reason that is not a slip)
    kept = []
    for k, (tree, latex) in enumerate(zip(substituted[1:], latexes)):
        stray = sorted(_symbols(tree) - in_cost - {wrt})
        if stray:
            reason = (f"{', '.join(stray)} {'is' if len(stray) == 1 else 'are'} not in the cost and not defined "
                      f"before this line (define {'it' if len(stray) == 1 else 'them'} in display math, or under "
                      f"[definitions] of the side file)")
            if k == len(latexes) - 1:
                raise Untranslatable(f"the claimed gradient uses {reason}")
            unchecked.append((latex, reason))
        else:
            kept.append(k)
    substituted = substituted[:1] + [substituted[1 + k] for k in kept]
    latexes = [latexes[k] for k in kept]
    step_lines = [step_lines[k] for k in kept]
    lines = [lines[k] for k in kept]
    applied = {columnwise(n.name)[0] for t in substituted for n in t.walk() if isinstance(n, Apply)}
    for f in sorted(applied & set(scope.opaque)):
        at, formula = scope.opaque[f]
        raise Untranslatable(f"{f} is defined at line {at} as {formula!r}, which is not a function the checks "
                             f"know (declare it under [functions] of the side file: an entrywise one such as "
                             f"{f} = \"tanh\", or {f} = \"function\" for any)")
    cost_tree = _rename_functions(substituted[0], scope.functions)
    trees = [_rename_functions(t, scope.functions) for t in substituted[1:]]
    together = trees[0]
    for t in trees[1:]:
        together = Add(left=together, right=t)
    # the shapes the text states before this line (the last statement of each name), unless the side
    # file declares them
    present = _symbols(cost_tree) | _symbols(together) | {wrt}
    stated = {name: (shape, at) for at, name, shape, _ in scope.said_shapes if at <= line and name in present}
    declarations = replace(scope.declarations, shapes={**{n: s for n, (s, _) in stated.items()},
                                                       **scope.declarations.shapes}) if stated else scope.declarations
    shapes, unknown = infer_shapes(cost_tree, together, wrt, declarations)
    if any(ch.isupper() for ch in wrt) and wrt not in scope.declarations.shapes \
            and _declared(shapes, wrt) == "scalar":
        # a capital names a matrix: read as a number only because the function is no scalar otherwise
        # (d/dX of A X B, a matrix): that reading is not the author's, so it is not checked
        raise Untranslatable(f"{wrt} (a matrix by its capital) reads only as a number here: the differentiated "
                             f"function {to_text(cost_tree)[:60]} is not a scalar cost (give {wrt}'s shape under "
                             f"shapes in the side file if it is a number)")
    row_gradient = False
    if wrt not in declarations.shapes:
        # a gradient written as a row for a column variable (numerator layout: [phi(w^T x) - y] x^T):
        # its transpose, the variables read as columns, keeps more of the dimensions than it does
        # (which types only by reading the vectors as numbers): the document's convention, checked
        # as its transpose once the side file says layout = "row", else listed with that advice
        columns = replace(declarations, layout="column")
        flipped, flipped_unknown = infer_shapes(cost_tree, Transpose(arg=together), wrt, columns)
        direct = _reading_score(shapes, cost_tree, together, wrt)
        transposed = _reading_score(flipped, cost_tree, Transpose(arg=together), wrt)
        if transposed[0] and transposed > direct:
            if scope.declarations.layout != "row" and not row_said:
                where = scope.declarations.path or "NAME.symbolic-bp.toml"
                raise Untranslatable(f"the gradient is written as a row (numerator layout): declare layout = "
                                     f"\"row\" in {where}")
            row_gradient = True
            shapes, unknown = flipped, flipped_unknown
            trees = [t.arg if isinstance(t, Transpose) else Transpose(arg=t) for t in trees]
    # a letter the document writes in bold is a vector: read as a number only because nothing else
    # types (softmax of a row written entrywise, x:scalar makes s = 1), that reading is not the author's
    bold = _bold_letters(" ".join([seg.text, cost_def.latex] + [d.latex for n, d in scope.defs.items() if n in local]))
    numbers = sorted(n for n in bold if n not in scope.declarations.shapes
                     and _declared(shapes, n) == "scalar")
    if numbers:
        where = scope.declarations.path or "NAME.symbolic-bp.toml"
        raise Untranslatable(f"{', '.join(numbers)} (bold: a vector) {'reads' if len(numbers) == 1 else 'read'} only "
                             f"as a number here (declare the shapes, or layout = \"row\" for row vectors, in {where})")
    read = _shapes_of(cost_def.same_shape, shapes, local, scope.functions)
    for names in cost_def.same_shape:
        # \sum_i y_i \log p_i: y and p have one shape; a reading that broadcasts them is not the author's
        of = {n: read[n] for n in names if n in read}
        if len(set(of.values())) > 1:
            raise Untranslatable(f"{', '.join(sorted(of))} are entries of one index in the cost (line "
                                 f"{cost_def.line}) but read with different shapes ("
                                 f"{', '.join(f'{n} {s}' for n, s in sorted(of.items()))}): declare their shapes")
    said_onehot = []
    for said, (at, words) in sorted(scope.onehot.items()):
        # labels the text says are one-hot before this line (data, never the variable); each y_i of a
        # sum over examples one-hot: the rows of Y, the matrix the y_i make
        data = said if _declared(shapes, said) is not None else said.upper()
        part = re.search(rf"(?:^|(?<=\s)){re.escape(data)}:(\S+)", shapes)
        if at <= line and data != wrt and part and part.group(1).split(":")[0] not in ("scalar", "function") \
                and "onehot" not in part.group(1).split(":"):
            shapes = shapes[:part.end()] + ":onehot" + shapes[part.end():]
            said_onehot.append(f"{data} one-hot (the text, line {at}: \"{words[:60]}\")")
    cost_tree = resolve_products(resolve_powers(cost_tree, shapes), shapes)
    trees = [resolve_products(resolve_powers(t, shapes), shapes) for t in trees]
    used = sorted(n for n in local if n in {x.name for t in [cost_def.tree] + lines for x in t.walk()
                                              if isinstance(x, Sym)} | _names_through(cost_def.tree, local))
    definitions = [f"{n} = {to_text(local[n])}" + (f" (line {scope.defs[n].line})" if n in scope.defs else "")
                   for n in used]
    note = f"line {line}; cost from line {cost_def.line}"
    if definitions:
        note += f"; substituted: {', '.join(definitions)}"
    functions = sorted(f"{k} = {v}" for k, v in scope.functions.items() if v != "function" and k in applied)
    if functions:
        note += f"; functions: {', '.join(functions)}"
    if row_gradient:
        note += "; a row gradient (layout = row) of a column variable: its transpose is checked"
        if row_said and scope.declarations.layout != "row":
            note += f" (the text before it: \"{row_said}\")"
    if one_example is not None:
        note += f"; the cost of one example (the text, {said_one})"
    if said_onehot:
        note += "; " + "; ".join(said_onehot)
    if stated:
        note += "; shapes from the text: " + ", ".join(f"{n}:{s} (line {at})" for n, (s, at) in sorted(stated.items()))
    if scope.declarations.layout_from:
        note += f"; vectors are rows (the text, {scope.declarations.layout_from})"
    if repairs:
        note += "; reading: " + "; ".join(repairs)
    if unknown:
        note += f"; shapes not inferred, assumed from the letter case: {unknown}"
    return Extracted(
        name=f"{name}-d{wrt}", cost=to_text(cost_tree), wrt=wrt, claim=to_text(trees[-1]), shapes=shapes,
        latex=seg.text.strip(), line=line, section=seg.section, boxed=boxed, note=note,
        steps=[to_text(t) for t in trees], step_latex=latexes, unchecked=unchecked, definitions=definitions,
        step_lines=step_lines)


_LAYER = re.compile(r"\^\s*\{?\s*[(\[]\s*([A-Za-z0-9+-]{1,6})\s*[)\]]\s*\}?")


def _layered(latex: str) -> tuple[str, str | None]:
    """``\\delta^{(l)}`` -> (``\\delta^{(@)}``, "l"): the LaTeX with its layer index as a placeholder."""
    text = " ".join(latex.split())
    m = _LAYER.search(text)
    return (_LAYER.sub("^{(@)}", text), m.group(1)) if m else (text, None)


def _named_derivative(sides: list[str], named: dict[str, tuple[str, str]]) -> tuple[list[str], tuple | None, int]:
    """A derivative the text names: ``\\delta^{(l)} = \\frac{\\partial L}{\\partial z^{(l)}} (= …)`` records
    the name (and is a claim from the derivative on, if more follows); ``\\delta^{(L)} = …`` later is a claim
    about ∂L/∂z^{(L)}.  (the statement to read, the derivative or None, how many sides were dropped)."""
    for k in range(1, len(sides)):
        d = derivative_of(sides[k])
        if d is not None:
            key, layer = _layered(sides[0])
            if layer is None:
                named[key] = d
            else:
                named[key] = tuple(_layered_as(x, layer) for x in d)
            return (sides[k:], d, k) if len(sides) > k + 1 else (sides, None, 0)
    key, layer = _layered(sides[0])
    if key in named and len(sides) > 1:
        cost, wrt = named[key]
        at = layer or ""
        return sides, (cost.replace("@", at), wrt.replace("@", at)), 0
    return sides, None, 0


def _layer_instances(sides: list[str], layers: list[str]) -> list[list[str]]:
    """``a^{(l)} = \\sigma(z^{(l)})`` (a definition for every layer l) written for each of ``layers``
    (``2``: ``a^{(2)} = \\sigma(z^{(2)})``; ``l-1`` becomes ``1``, or ``L-1`` for a letter)."""
    key, var = _layered(sides[0])
    if var is None or not re.fullmatch(r"[a-z]", var) or len(sides) != 2:
        return []
    pattern = re.compile(rf"\^\s*\{{?\s*[(\[]\s*{var}\s*([-+]\s*\d)?\s*[)\]]\s*\}}?")
    out = []
    for layer in layers:
        def at(m: re.Match) -> str:
            offset = (m.group(1) or "").replace(" ", "")
            if not offset:
                return f"^{{({layer})}}"
            return f"^{{({int(layer) + int(offset)})}}" if layer.isdigit() else f"^{{({layer}{offset})}}"
        out.append([pattern.sub(at, side) for side in sides])
    return out


def _layered_as(latex: str, layer: str) -> str:
    """``z^{(l)}`` with the layer ``l`` as the placeholder @ (other superscripts kept)."""
    return _LAYER.sub(lambda m: "^{(@)}" if m.group(1) == layer else m.group(0), " ".join(latex.split()))


_OPERATOR = re.compile(r"\\(?:partial|nabla)\s*_\s*(?:\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}|\w)")


def _operator_shorthand(sides: list[str]) -> tuple[str, str] | None:
    """``\\partial_{ij} := \\partial_{x_{ij}}``: (the shorthand, what it stands for), else None."""
    if len(sides) != 2:
        return None
    short, long = (" ".join(x.split()) for x in sides)
    if _OPERATOR.fullmatch(short) and _OPERATOR.fullmatch(long) and short != long:
        return short, long
    return None


def _spelled_out(latex: str, operators: dict[str, str]) -> str:
    """``latex`` with the document's operator shorthands written out (\\partial_{ij} f -> \\partial_{x_{ij}} f)."""
    if not operators:
        return latex
    text = " ".join(latex.split())
    for short, long in operators.items():
        text = re.sub(re.escape(short) + r"(?![A-Za-z0-9_])", lambda _: long, text)
    return text


_LABEL = re.compile(r"^\s*\\(?:text|textrm|textbf|mbox)\s*\{[^{}]*\}\s*(?:\\[ ,;:!]|~|\\q?quad\b)?\s*")


def _without_label(lhs: str) -> str:
    """``\\text{Gradient} \\ \\nabla_\\theta J``: the left side without the words that label it
    (``\\text{CE}`` alone is a name, kept)."""
    rest = _LABEL.sub("", lhs, count=1)
    return rest if rest.strip() else lhs


def _only_dots(latex: str) -> bool:
    """A step written as dots (``= \\cdots =``): the author skipping lines, no claim."""
    return re.sub(r"\\[lcv]?dots|\.{3}|\s", "", latex) == ""


def _introduced(lines: list[str], announced: tuple[str, int], seg: Math) -> str | None:
    """The derivative a sentence announces for the display after it ("- $\\frac{\\partial L}{\\partial p}$ is a
    row vector of length $K$:" then ``$$(-y \\odot 1/p)^T = …$$``): its LaTeX, when the sentence ends
    with a colon just before the display, within three lines, and the display is no derivative itself."""
    latex, at = announced
    if not 0 < seg.line - at <= 3:
        return None
    between = " ".join(lines[at - 1:seg.line - 1])
    after = between.split(latex, 1)[-1] if latex in between else between
    after = re.sub(r"\$+|\\\[|<script[^>]*>", " ", after).strip()
    if not after.endswith(":") or len(after) > 200 or any(derivative_of(st[0]) for st in statements(seg.text)):
        return None
    return latex


_ROW_SAID = re.compile(r"(?i)(?:is|gives|as|into)\s+(?:an?\s+)?row\s+vector")


def _row_said(lines: list[str], at: int) -> str:
    """The words just before the display at line ``at`` that say its value is a row ("... gives a
    row vector of length $K$:"), else ''."""
    before = " ".join(lines[max(0, at - 4):at - 1])
    m = _ROW_SAID.search(before)
    return " ".join(m.group().split()) if m else ""


def _one_example_cost(cost: Definition, scope: Scope, line: int) -> tuple[Definition, str] | None:
    """The cost of one example where the text has said the derivation is for one ("for a single
    observation", "dropping the summation") and not turned back to all: each side of the cost
    written as a sum over examples, read without the sum and the example's index (-\\sum_i y_i^T
    \\log p_i -> -y^T \\log p); with where the text says so.  None where the text says nothing."""
    said = [(at, on, words) for at, on, words in scope.one_example if at <= line]
    if not said or not said[-1][1]:
        return None
    readings = []
    for side in cost.sides:
        one = one_example_of(side)
        if one is None:
            continue
        try:
            p = LatexParser(one)
            readings.append(p.parse())
        except (Untranslatable, RecursionError):
            continue
    if not readings:
        return None
    at, _, words = said[-1]
    return replace(cost, tree=readings[0], alternatives=tuple(readings), latex=cost.sides[0]), f'line {at}: "{words}"'


def _bold_letters(latex: str) -> set[str]:
    """The one-letter lower-case names written in bold (``\\mathbf x``, ``{\\bf x}``, ``\\boldsymbol{y}``).

    >>> sorted(_bold_letters(r"\\mathbf x + \\mathbf{W} \\boldsymbol{y} {\\bf z}"))
    ['x', 'y', 'z']
    """
    return set(re.findall(r"\\(?:mathbf|boldsymbol|bm|bf|vec)\s*\{?\s*([a-z])(?![A-Za-z])", latex))


def _plain_arguments(lhs: str) -> bool:
    """Whether the arguments of ``lhs`` (``L(W)``, ``H(\\mathbf y, \\mathbf s)``, ``s(\\mathbf x)_i``), if it
    has any, are symbols: a definition's signature, not the function at an expression (``s(x + c)_i``).

    >>> _plain_arguments(r"H(\\mathbf y, \\mathbf s)"), _plain_arguments(r"s(\\mathbf x + c)_i"), _plain_arguments("E")
    (True, False, True)
    """
    m = re.match(r"\s*(?:\\[A-Za-z]+\s*\{[^{}]*\}|\\?[A-Za-z]+)\s*(?:\\left\s*)?\((.*)\)", lhs)
    if not m:
        return True
    # an argument written with an operation is a point, not a parameter (w_{1:L}, \theta are parameters)
    # p(y=1|X;\theta), a probability conditioned on something: no signature either
    return not re.search(r"[-+*/=|]|\\cdot|\\times|\\mid", re.sub(r"\\right\s*$", "", m.group(1)))


def _in_index_notation(latex: str, first: Untranslatable, free: tuple[str, ...] = ()) -> Node:
    """``latex`` read as index notation (``-\\sum_i [y_i - \\phi(w^T x_i)] x_i``, a sum over examples)
    when it does not translate as matrices; ``first`` (why it did not) if it cannot be read either way."""
    if "\\sum" not in latex and "_" not in latex:
        raise first
    if not free and any(dots in latex for dots in ("\\vdots", "\\cdots", "\\ddots", "\\dots", "\\ldots", "...")):
        try:                                 # [\sum_j a_{1j} b_j \\ \vdots \\ \sum_j a_{nj} b_j]: A @ b
            tree = read_with_dotted_matrices(latex)
        except (Untranslatable, RecursionError) as e:
            raise Untranslatable(str(e) or "nested too deeply") from None
        if tree is not None:
            return tree
    try:
        return entry_expression(latex, free, mark_columns=True)
    except IndexError_ as e:
        if re.search(r"index|\\sum|subscript", str(first)):
            raise Untranslatable(f"index notation: {e}") from None   # why the index reading failed
        raise first from None


def _symbols(tree: Node) -> set[str]:
    """The symbols of ``tree``, not counting a size passed to eye, ones or zeros."""
    sizes = {id(a) for n in tree.walk() if isinstance(n, Call) and n.name in ("eye", "ones", "zeros")
             for a in n.args}
    return {n.name for n in tree.walk() if isinstance(n, Sym) and id(n) not in sizes
            and n.name not in ("True", "False", "None")}


def _names_through(tree: Node, defs: dict[str, Node], depth: int = 0) -> set[str]:
    """The defined names ``tree`` reaches, directly or through other definitions."""
    found = {n.name for n in tree.walk() if isinstance(n, Sym) and n.name in defs}
    if depth < 20:
        for name in list(found):
            found |= _names_through(defs[name], defs, depth + 1)
    return found


# -- output -----------------------------------------------------------------------------

def _q(text: str) -> str:
    """A TOML basic string (JSON escapes are valid TOML escapes)."""
    return json.dumps(text, ensure_ascii=False)


def to_toml(found: Extraction, title: str | None = None) -> str:
    """A derivation file that ``symbolic-bp report`` runs."""
    lines = [f"# Extracted by `symbolic-bp extract {found.path}`: {len(found.claims)} claims.",
             "# expect is 'verified' for every claim: the report then shows where the document is wrong."]
    if found.skipped:
        lines.append(f"# Not translated ({len(found.skipped)}), with the reason:")
        for s in found.skipped:
            lines.append(f"#   line {s.line}: {s.reason}: {' '.join(s.latex.split())[:160]}")
    lines += [f"title = {_q(title or f'Claims extracted from {Path(found.path).name}')}",
              f"document = {_q(found.path)}", ""]
    claims = [c for c in found.claims if len(c.steps) <= 1 and not c.unchecked]
    chains = [c for c in found.claims if len(c.steps) > 1 or c.unchecked]
    for c in claims:
        lines += ["[[claim]]", f"name = {_q(c.name)}", f"section = {_q(c.section or f'line {c.line}')}",
                  f"shapes = {_q(c.shapes)}", f"cost = {_q(c.cost)}", f"wrt = {_q(c.wrt)}",
                  f"claim = {_q(c.claim)}", f"latex = {_q(c.latex)}", f"note = {_q(c.note)}", ""]
    for c in chains:
        # a chain of steps: the first line is the gradient of the cost, each next one equals the one before
        lines += ["[[chain]]", f"name = {_q(c.name)}", f"section = {_q(c.section or f'line {c.line}')}",
                  f"shapes = {_q(c.shapes)}", f"start = {_q(c.cost)}", f"latex = {_q(c.latex)}",
                  f"note = {_q(c.note)}", ""]
        for latex, reason in c.unchecked:
            lines += ["[[chain.unchecked]]", f"latex = {_q(latex)}", f"reason = {_q(reason)}", ""]
        for k, (text, latex) in enumerate(zip(c.steps, c.step_latex)):
            lines += ["[[step]]", f"relation = {_q('gradient' if k == 0 else '=')}"]
            lines += [f"wrt = {_q(c.wrt)}"] if k == 0 else []
            lines += [f"expr = {_q(text)}", f"latex = {_q(latex)}", ""]
    return "\n".join(lines)


def extract_file(path: str | Path) -> Extraction:
    """Read a Markdown or LaTeX file, or a notebook's Markdown cells, with
    the side file of declarations next to it (InputError naming the file if
    either is unreadable)."""
    text, kind = read_file(path)
    return extract_text(text, str(path), load_for(path), kind)
