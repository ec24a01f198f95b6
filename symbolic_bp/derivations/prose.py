"""What a document declares in words: row vectors, one-hot labels.

Notes say some of what a claim means in a sentence, not in a formula: "We use row vectors
and row gradients", "We'll use a one-hot encoding for the response, meaning each $y$ is a
vector ...".  These are read here, narrowly (a sentence that says it plainly, never one that
negates it), and reported with the words and the line they come from; a side file's own
declaration always wins.  Numbers in prose are never read (they are not definitions).
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import replace
from itertools import islice

from ..core.expression import Sym
from .declarations import Declarations
from .latex_reader import LatexParser, Untranslatable

_ROW_VECTORS = re.compile(r"(?i)(?<![A-Za-z])(?:we\s+use|we'll\s+use|we\s+work\s+with|all\s+(?:our\s+)?vectors\s+are"
                          r"|vectors\s+are\s+(?:all\s+)?)\s*[_*]*\s*row\s+vectors")
_ONE_HOT = re.compile(r"(?i)one[-\s]hot")
_NEGATED = re.compile(r"(?i)\b(?:not|unlike|instead|rather|soft|smooth(?:ed|ing)?)\b")
# "a vector of length $K$": a size, not the one-hot name
_SIZE_BEFORE = re.compile(r"(?i)(?:length|size|dimension|classes|elements|entries)\s*$")
# the display after "...as a one-hot vector:": its first name before '='
_DISPLAY_START = re.compile(r"\s*(?:<script[^>]*>|\$\$|\\\[|\\begin\{(?:aligned|align\*?|equation\*?|gather\*?)\})+\s*"
                            r"(?:\\begin\{aligned\}\s*)?(.{1,40}?)\s*&?\s*=")
_INLINE = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)", re.S)
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s|\n\s*\n")
SENTENCE = 400                        # the most of a sentence read on either side of its key words
MATCHES = 200                         # the most sentences of one kind read (a document says each thing a few times)


class _Lines:
    """Line numbers of offsets in a text, by bisection (a long text stays linear)."""

    def __init__(self, text: str):
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> int:
        return bisect_left(self.newlines, offset) + 1


def layout_from_prose(text: str, declarations: Declarations) -> Declarations:
    """``declarations`` with layout = row when the document says so in words ("We use row vectors",
    "all vectors are row vectors") and its side file does not say otherwise.

    >>> layout_from_prose("Here _we use row vectors and row gradients_.", Declarations()).layout_from
    'line 1: "we use row vectors"'
    >>> layout_from_prose("All vectors are column vectors.", Declarations()).layout
    'column'
    """
    m = _ROW_VECTORS.search(text)
    if m is None or declarations.layout_said:
        return declarations
    line = _Lines(text).at(m.start())
    words = " ".join(re.sub(r"[_*]", "", m.group()).split())
    return replace(declarations, layout="row", layout_from=f'line {line}: "{words}"')


def _symbol(latex: str) -> str | None:
    try:
        node = LatexParser(latex).parse()
    except (Untranslatable, RecursionError):
        return None
    return node.name if isinstance(node, Sym) else None


def one_hot_from_prose(text: str) -> dict[str, tuple[int, str]]:
    """The names the document says are one-hot, each with the line and the words that say it: a
    sentence saying "one-hot" (not negated) with one symbol in its math, or that ends with a colon
    before a display defining one symbol (``... as a one-hot vector: $$\\mathbf y = ...$$``).

    >>> one_hot_from_prose("We'll use a one-hot encoding, meaning each $y$ is a vector of 0's and one 1.")
    {'y': (1, "We'll use a one-hot encoding, meaning each $y$ is a vector of 0's and one 1.")}
    >>> one_hot_from_prose("encode it as a one-hot vector:\\n\\n$$\\\\mathbf y = \\\\begin{bmatrix} 0 \\\\end{bmatrix}$$")
    {'y': (1, 'encode it as a one-hot vector:')}
    >>> one_hot_from_prose("Unlike one-hot labels, our $t$ is soft."), one_hot_from_prose("one-hot $y$ and $z$.")
    ({}, {})
    """
    found: dict[str, tuple[int, str]] = {}
    ends = [e for e in _SENTENCE_END.finditer(text)]      # once: a text full of "one-hot" stays linear
    starts = [e.end() for e in ends]
    seen: set[int] = set()
    lines = _Lines(text)
    for m in islice(_ONE_HOT.finditer(text), MATCHES):
        k = bisect_right(starts, m.start())
        start = starts[k - 1] if k else 0
        later = bisect_left(starts, m.end())
        end = ends[later].start() if later < len(ends) else len(text)
        # a sentence is read once, and only as far as a sentence goes (no text is one huge sentence)
        start, end = max(start, m.start() - SENTENCE), min(end, m.end() + SENTENCE)
        if start in seen:
            continue
        seen.add(start)
        sentence = text[start:end].strip()
        if _NEGATED.search(_INLINE.sub(" ", sentence)):
            continue
        names = {_symbol(next(g for g in i.groups() if g is not None)) for i in _INLINE.finditer(sentence)
                 if not _SIZE_BEFORE.search(sentence[:i.start()])}
        names.discard(None)
        if not names and sentence.endswith(":"):
            shown = _DISPLAY_START.match(text, end)
            names = {_symbol(shown.group(1))} - {None} if shown else set()
        if len(names) == 1:
            name = names.pop()
            said = " ".join(sentence.split())
            at = _ONE_HOT.search(said).start()
            words = said[max(0, said.rfind(",", 0, at) + 1):].strip()[:100]     # the clause that says it
            found.setdefault(name, (lines.at(start), words))
    return found


_REAL = r"\\(?:mathbb|Bbb|mathbf|mathrm)\s*\{?\s*R\s*\}?"
_IN_REALS = re.compile(rf"\\in\s*{_REAL}")
# x \in \mathbb{R}^{n}, {\bf A}, {\bf B} \in \Bbb R^{n \times n}
_MEMBER = re.compile(rf"\s*((?:[^$\\,=\s]|\\(?:mathbf|boldsymbol|bf|bm)\b)[^$=]{{0,80}}?)\s*\\in\s*{_REAL}\s*\^\s*(\{{[^{{}}]*\}}|\w)")
_DIMENSION = re.compile(r"[A-Za-z](?:_?[A-Za-z0-9])?|\d{1,3}")
# $w$ is now an $m \times K$ matrix; $x$ is a vector of length $m$; $h$ is a row vector of length $k$
_MATRIX_WORDS = re.compile(r"\$([^$]{1,30})\$\s+is\s+(?:now\s+)?(?:an?\s+)?\$([^$]{1,30})\$\s+matrix")
_VECTOR_WORDS = re.compile(r"\$([^$]{1,30})\$\s+is\s+(?:now\s+)?an?\s+(row\s+|column\s+)?vector\s+"
                           r"(?:of\s+(?:length|size|dimension)\s+)\$([^$]{1,12})\$")


def _dimensions(latex: str) -> list[str] | None:
    parts = [p.strip().strip("{}").replace("_", "") for p in re.split(r"\\times|\\cdot|\*", latex.strip().strip("{}"))]
    if not 1 <= len(parts) <= 2 or not all(_DIMENSION.fullmatch(p) for p in parts):
        return None
    return parts


def shapes_from_text(text: str) -> list[tuple[int, str, str, str]]:
    """Shapes the document states: ``x \\in \\mathbb{R}^n``, ``W \\in \\mathbb R^{m \\times n}`` (in
    any math), "$w$ is an $m \\times K$ matrix", "$x$ is a vector of length $m$" (in words), as
    (line, name, shape as the claim language declares it, the words).

    >>> [s[1:3] for s in shapes_from_text(r"Let ${\\bf A}, {\\bf B} \\in \\Bbb R^{n \\times n}$ and $x \\in \\mathbb{R}^m$.")]
    [('A', 'n,n'), ('B', 'n,n'), ('x', 'm')]
    >>> [s[1:3] for s in shapes_from_text(r"$w$ is now an $m \\times K$ matrix, $h$ is a row vector of length $k$")]
    [('h', '1,k'), ('w', 'm,K')]
    """
    found = []
    lines = _Lines(text)
    # anchored at "\in \mathbb R": the names before it are looked for only there (a long text stays linear)
    for anchor in islice(_IN_REALS.finditer(text), MATCHES):
        start = max(text.rfind("$", 0, anchor.start()) + 1, text.rfind("\n", 0, anchor.start()) + 1,
                    anchor.start() - 80)
        m = _MEMBER.match(text, start)
        if m is None or m.end() < anchor.end():
            continue
        dims = _dimensions(m.group(2))
        if dims is None:
            continue
        for name_latex in m.group(1).split(","):
            name = _symbol(name_latex)
            if name:
                found.append((m.start(), name, ",".join(dims), " ".join(m.group().split())))
    for m in islice(_MATRIX_WORDS.finditer(text), MATCHES):
        name, dims = _symbol(m.group(1)), _dimensions(m.group(2))
        if name and dims and len(dims) == 2:
            found.append((m.start(), name, ",".join(dims), " ".join(m.group().split())))
    for m in islice(_VECTOR_WORDS.finditer(text), MATCHES):
        name, dims = _symbol(m.group(1)), _dimensions(m.group(3))
        if name and dims and len(dims) == 1:
            shape = f"1,{dims[0]}" if (m.group(2) or "").startswith("row") else dims[0]
            found.append((m.start(), name, shape, " ".join(m.group().split())))
    return sorted((lines.at(at), name, shape, words) for at, name, shape, words in found)


_ONE_EXAMPLE = re.compile(r"(?i)(?:for|on|with|to)\s+(?:a\s+|one\s+)?single\s+(?:observation|example|sample|data\s+point|"
                          r"training\s+example)|dropping\s+the\s+(?:summation|sum)|one\s+(?:observation|example)\s+at\s+a\s+time")
_ALL_EXAMPLES = re.compile(r"(?i)(?:back\s+in\s+terms\s+of|returning\s+to|back\s+to|over)\s+(?:all\s+)?(?:the\s+)?\$?[a-zA-Z]?\$?\s*"
                           r"(?:observations|examples|samples|data\s+points)")


def one_example_from_prose(text: str) -> list[tuple[int, bool, str]]:
    """Where the text turns to one example ("for a single observation", "dropping the summation")
    and back to all ("putting everything back in terms of $n$ observations"): (line, one example
    from here, the words), in order.

    >>> one_example_from_prose("let's do this for a single observation.\\nThen, back in terms of $n$ observations:")
    [(1, True, 'for a single observation'), (2, False, 'back in terms of $n$ observations')]
    """
    events = [(m.start(), True, m.group()) for m in islice(_ONE_EXAMPLE.finditer(text), MATCHES)]
    events += [(m.start(), False, m.group()) for m in islice(_ALL_EXAMPLES.finditer(text), MATCHES)]
    lines = _Lines(text)
    return [(lines.at(at), on, " ".join(words.split())) for at, on, words in sorted(events)]


def _top_level_sign(latex: str) -> bool:
    """A + or - outside every bracket: the sum's term ends there."""
    depth = 0
    for ch in latex:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and ch in "+-":
            return True
    return False


def one_example_of(latex: str) -> str | None:
    """The summand of a cost written as a sum over examples, the example's index dropped:
    ``-\\sum_{i=1}^n y_i^T \\log p_i`` -> ``- y^T \\log p``; None if it is not one.

    >>> one_example_of(r"-\\sum_{i=1}^n y_i^T \\log p_i"), one_example_of(r"\\sum_k y_k + c")
    ('- y^T \\\\log p', None)
    """
    m = re.match(r"\s*(-?)\s*\\sum\s*_\s*(?:\{\s*([a-z])\s*(?:=[^{}]*)?\}|([a-z]))\s*(?:\^\s*(?:\{[^{}]*\}|\w))?\s*(.*)$",
                 latex, re.S)
    if not m:
        return None
    index, body = m.group(2) or m.group(3), m.group(4).strip()
    dropped = re.sub(rf"_\s*(?:\{{\s*{index}\s*\}}|{index})(?![A-Za-z0-9])", "", body)
    if re.search(rf"(?<![A-Za-z\\]){index}(?![A-Za-z])|_\s*\{{[^{{}}]*{index}", dropped) \
            or _top_level_sign(dropped.lstrip().lstrip("-")):
        return None                   # the index left elsewhere, or terms outside the sum (\sum_k y_k + c)
    return f"{m.group(1)} {dropped}".strip() if m.group(1) else dropped


__all__ = ["layout_from_prose", "one_example_from_prose", "one_example_of", "one_hot_from_prose",
           "shapes_from_text"]
