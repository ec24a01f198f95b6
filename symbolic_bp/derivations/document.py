"""The math of a document, as an author writes it: Markdown (MyST included),
LaTeX, or a Jupyter notebook's Markdown cells.

The LaTeX structure (math modes, environments, macros, groups, comments) is
read by pylatexenc's :class:`~pylatexenc.latexwalker.LatexWalker`; what is not
LaTeX (Markdown headings, code fences, MyST ``{math}`` blocks, notebook JSON)
is read here.  Each math segment keeps its line, its section and whether it
is displayed; math inside figures (``tikzpicture``, ``figure``), captions and
code is never read: the numbers of a figure are not definitions.

>>> doc = "# Setup\\nLet $x = 3$ apples.\\n$$L = \\\\frac12 \\\\|Wx - y\\\\|^2$$\\n"
>>> [(m.line, m.section, m.display, m.text) for m in read_document(doc, "markdown")]
[(2, 'Setup', False, 'x = 3'), (3, 'Setup', True, 'L = \\\\frac12 \\\\|Wx - y\\\\|^2')]
"""
from __future__ import annotations

import json
import re
from bisect import bisect_left
from itertools import accumulate
from dataclasses import dataclass
from pathlib import Path

from pylatexenc.latexwalker import (
    LatexEnvironmentNode, LatexGroupNode, LatexMacroNode, LatexMathNode, LatexWalker,
)

from ..errors import InputError

MAX_BYTES = 5_000_000

# environments whose body is displayed math
MATH_ENVIRONMENTS = {"equation", "align", "alignat", "flalign", "gather", "multline", "eqnarray", "displaymath",
                     "math", "dmath"}
# environments and macros whose math is never a claim nor a definition (figures, their labels, captions)
SKIPPED_ENVIRONMENTS = {"tikzpicture", "figure", "table", "tabular", "verbatim", "lstlisting", "minted", "comment",
                        "axis", "pgfpicture", "circuitikz"}
SKIPPED_MACROS = {"caption", "node", "draw", "label", "footnote", "href", "url", "includegraphics"}
# \chapter is level 0, \section 1 ...; a Markdown heading of k '#' is level k
SECTION_LEVELS = {"part": -1, "chapter": 0, "section": 1, "subsection": 2, "subsubsection": 3, "paragraph": 4}


@dataclass(frozen=True)
class Math:
    """One math segment: its LaTeX, where it is, and how it is set."""

    text: str            # the LaTeX between the delimiters
    line: int            # 1-based line of its start
    offset: int
    section: str         # the heading above it ('' before the first)
    display: bool = True
    environment: str = ""    # align, equation ... ('' for $$ \\[ $ \\()
    scope: int = 0       # the definition scope: a new one at each section (see :func:`read_document`)
    outline: tuple[int, ...] = ()   # the headings it is under, outermost first (their indices)
    level: int = 0                  # the level of the heading right above it (2 for '##'; 0: none)


@dataclass(frozen=True)
class _Heading:
    offset: int
    level: int
    title: str


def kind_of(path: str) -> str:
    """``latex`` for .tex/.ltx, ``notebook`` for .ipynb, else ``markdown``.

    >>> kind_of("notes.tex"), kind_of("a.ipynb"), kind_of("post.md")
    ('latex', 'notebook', 'markdown')
    """
    suffix = Path(path).suffix.lower()
    return {".tex": "latex", ".ltx": "latex", ".latex": "latex", ".ipynb": "notebook"}.get(suffix, "markdown")


def notebook_markdown(text: str, path: str) -> tuple[str, list[tuple[int, int]]]:
    """The Markdown cells of a notebook's JSON, joined by blank lines, and
    (first line, cell number) of each cell, to say where a line came from.

    >>> nb = '{"cells": [{"cell_type": "code", "source": "x = 1"}, {"cell_type": "markdown", "source": ["# A\\\\n", "$$L = x$$"]}]}'
    >>> notebook_markdown(nb, "n.ipynb")
    ('# A\\n$$L = x$$\\n\\n', [(1, 2)])
    """
    try:
        data = json.loads(text)
        cells = data["cells"]
        if not isinstance(cells, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{path}: not a Jupyter notebook (no list of cells in its JSON)") from None
    parts, starts, line = [], [], 1
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        source = "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) else str(source)
        starts.append((line, number))
        parts.append(source + "\n\n")
        line += source.count("\n") + 2
    return "".join(parts), starts


def _blank(text: str, start: int, end: int) -> str:
    """``text`` with ``[start, end)`` replaced by spaces, newlines kept (offsets and lines unchanged)."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
                    re.MULTILINE | re.DOTALL)
_SCRIPT_MATH = re.compile(r"<script[ \t]+type=[\"']math/tex(?P<display>;[ \t]*mode=display)?[\"'][ \t]*>"
                          r"(?P<body>[^<]*?)</script>", re.IGNORECASE)
_MD_HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<title>.+?)[ \t#]*$", re.MULTILINE)


def _markdown_as_latex(text: str) -> tuple[str, list[_Heading]]:
    """Markdown made readable by the LaTeX walker, offsets unchanged: code
    blanked (a MyST ``{math}`` block becomes ``$$ … $$``), a '%' of prose
    (a comment in LaTeX) blanked; and the Markdown headings."""
    for m in reversed(list(_FENCE.finditer(text))):
        if m.group("info").strip().startswith(("{math}", "math")):
            body = m.group("body")
            # MyST options (:label: eq1) are not math
            # (a '~', a space in math, keeps the line from being blank: the block stays one paragraph)
            body = re.sub(r"^[ \t]*:[A-Za-z-]+:[^\n]*$", lambda o: "~" + " " * (len(o.group()) - 1), body,
                          flags=re.MULTILINE)
            head = re.sub(r"[^\n]", " ", text[m.start() + 2:m.start("body")])   # newlines kept: lines count
            tail = re.sub(r"[^\n]", " ", text[m.end("body"):m.end() - 2])
            text = text[:m.start()] + "$$" + head + body + tail + "$$" + text[m.end():]
        else:
            text = _blank(text, m.start(), m.end())
    for m in reversed(list(_SCRIPT_MATH.finditer(text))):
        # MathJax's <script type="math/tex; mode=display"> (and math/tex, inline): the math it holds
        mark = "$$" if m.group("display") else "$"
        head = re.sub(r"[^\n]", " ", text[m.start() + len(mark):m.start("body")])
        tail = re.sub(r"[^\n]", " ", text[m.end("body"):m.end() - len(mark)])
        text = text[:m.start()] + mark + head + m.group("body") + tail + mark + text[m.end():]
    for m in reversed(list(re.finditer(r"(?<!`)`[^`\n]+`(?!`)", text))):
        if not text[max(0, m.start() - 6):m.start()].endswith("{math}"):
            text = _blank(text, m.start(), m.end())
    headings = [_Heading(m.start(), len(m.group("hashes")), m.group("title").strip()) for m in _MD_HEADING.finditer(text)]
    text = re.sub(r"(?<!\\)%", " ", text)
    return text, headings


def _walk(nodes, skip: bool, out: list, headings: list, source: str) -> None:
    """Collect (node, skipped) math nodes and LaTeX headings, depth first."""
    for node in nodes or ():
        if node is None:
            continue
        if isinstance(node, LatexMathNode):
            out.append((node, skip))
        elif isinstance(node, LatexEnvironmentNode):
            name = node.environmentname.rstrip("*")
            if name in MATH_ENVIRONMENTS:
                out.append((node, skip))
            else:
                _walk(node.nodelist, skip or name in SKIPPED_ENVIRONMENTS, out, headings, source)
        elif isinstance(node, LatexMacroNode):
            name = node.macroname.rstrip("*")
            args = [a for a in (node.nodeargd.argnlist if node.nodeargd else ()) if a is not None]
            if name in SECTION_LEVELS and args:
                title = args[-1].latex_verbatim().strip("{}").strip()
                headings.append(_Heading(node.pos, SECTION_LEVELS[name], title))
            _walk(args, skip or name in SKIPPED_MACROS, out, headings, source)
        elif isinstance(node, LatexGroupNode):
            _walk(node.nodelist, skip, out, headings, source)


def _body(node, source: str) -> tuple[str, int, str]:
    """The LaTeX inside a math node's delimiters, its offset, and its environment."""
    if isinstance(node, LatexMathNode):
        open_, close = node.delimiters
        start = node.pos + len(open_)
        return source[start:node.pos + node.len - len(close)], start, ""
    verbatim = source[node.pos:node.pos + node.len]
    m = re.match(r"\\begin\s*\{[^}]*\}", verbatim)
    end = verbatim.rfind("\\end")
    start = m.end() if m else 0
    return verbatim[start:end if end > start else len(verbatim)], node.pos + start, node.environmentname.rstrip("*")


_MATH_MARK = re.compile(r"\$|\\\(|\\\[|\\begin")


def read_document(text: str, kind: str = "markdown") -> list[Math]:
    """The math segments of a document, in order, with line and section.

    Definitions are scoped by part: ``Math.scope`` changes at each LaTeX
    ``\\part`` or ``\\chapter``, and at each ``#`` heading of a Markdown
    document that has several; not at sections and subsections, which
    build on the definitions before them."""
    headings: list[_Heading] = []
    if kind != "latex":
        text, headings = _markdown_as_latex(text)
    if not _MATH_MARK.search(text):
        return []
    blocks = [(0, text)]
    if kind != "latex":
        # Markdown math does not cross a blank line: each paragraph is read on its own,
        # so that one unbalanced '$' or environment spoils only its paragraph
        blocks = [(m.start(), m.group()) for m in re.finditer(r"(?:[^\n]|\n(?![ \t]*\n))+", text)]
    # only text that can hold math is walked (the walker reads some 50,000 tokens a second)
    blocks = [(start, block) for start, block in blocks if _MATH_MARK.search(block)]
    found: list = []
    for start, block in blocks:
        walker = LatexWalker(block, tolerant_parsing=True)
        try:
            nodes, _, _ = walker.get_latex_nodes()
        except Exception as e:      # pylatexenc's own errors: the block is not readable LaTeX
            if kind == "latex":
                raise InputError(f"cannot read the document's LaTeX: {str(e).splitlines()[0][:200]}") from None
            continue
        part: list = []
        local: list[_Heading] = []
        _walk(nodes, False, part, local, block)
        found += [(node, skipped, block, start) for node, skipped in part]
        headings += [_Heading(h.offset + start, h.level, h.title) for h in local]
    headings.sort(key=lambda h: h.offset)
    # a part of the document: a LaTeX \part or \chapter, or one of several '#' headings of
    # Markdown; its sections and subsections share its definitions (a cost defined under
    # "Setup" is the cost of the section "Gradients")
    top = [h for h in headings if h.level <= (0 if kind == "latex" else 1)]
    section_level = (0 if kind == "latex" else 1) if len(top) > 1 else -2
    out = []
    newlines = [m.start() for m in re.finditer("\n", text)]      # a line is found by bisection
    offsets = [h.offset for h in headings]
    # the part each heading opens: the count of part headings up to it
    parts = list(accumulate(int(h.level <= section_level) for h in headings))
    # the outline under each heading: the headings it is nested in, and itself
    outlines, stack = [], []
    for k, h in enumerate(headings):
        while stack and headings[stack[-1]].level >= h.level:
            stack.pop()
        stack.append(k)
        outlines.append(tuple(stack))
    for node, skipped, block, base in found:
        if skipped:
            continue
        body, start, environment = _body(node, block)
        start += base
        k = bisect_left(offsets, node.pos + base)          # the headings before the segment
        section, scope = (headings[k - 1].title, parts[k - 1]) if k else ("", 0)
        display = not (isinstance(node, LatexMathNode) and node.displaytype == "inline")
        out.append(Math(body, bisect_left(newlines, start) + 1, start, section, display, environment, scope,
                        outlines[k - 1] if k else (), headings[k - 1].level if k else 0))
    return out


def read_file(path: str | Path) -> tuple[str, str]:
    """The text of a document file and its kind (a notebook's Markdown
    cells joined); InputError naming the file if it cannot be read."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise InputError(f"{path}: file is larger than {MAX_BYTES} bytes")
        text = p.read_bytes().decode("utf-8")
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte {e.start})") from None
    kind = kind_of(str(path))
    if kind == "notebook":
        text, _ = notebook_markdown(text, str(path))
        kind = "markdown"
    return text, kind
