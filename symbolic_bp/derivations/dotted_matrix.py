"""Matrices written with dots: a column ``\\sum_j a_{1j} b_j \\\\ \\vdots \\\\ \\sum_j a_{nj} b_j`` is ``A @ b``.

Notes write a vector or a matrix by its first and last entries with ``\\vdots``, ``\\cdots``
or ``\\ddots`` between them.  The entry the dots stand for is found from the corners: the
first entry and the last one (down a column: the row index; along a row: the column index)
differ only where the first has 1 and the last the size (n, m, K...).  There the entry's
index is; the entry, written with it, is read by :func:`.index_notation.entry_expression`
as the vector (matrix) it is the entry of.  ``a_{ij}``, a lower-case letter with two
indices, is the entry of the matrix ``A``, as such notes write it.

>>> from symbolic_bp.language.printer import to_text
>>> body = r"\\sum_j^n a_{1j} b_j + \\sum_i^n b_i a_{i1} \\\\ \\vdots \\\\ \\sum_j^n a_{nj} b_j + \\sum_i^n b_i a_{in}"
>>> to_text(dotted_matrix(body))
'A @ b + A.T @ b'
>>> to_text(dotted_matrix(r"a_{11} + a_{11} & \\cdots & a_{1n} + a_{n1} \\\\ \\vdots & \\ddots & \\vdots \\\\ "
...                       r"a_{n1} + a_{1n} & \\cdots & a_{nn} + a_{nn}"))
'A + A.T'
>>> to_text(read_with_dotted_matrices(r"\\begin{bmatrix} a_{11} & \\cdots & a_{1n} \\\\ \\vdots & \\ddots & \\vdots "
...         r"\\\\ a_{n1} & \\cdots & a_{nn} \\end{bmatrix} \\begin{bmatrix} b_1 \\\\ \\vdots \\\\ b_n \\end{bmatrix}"))
'A @ b'
"""
from __future__ import annotations

import re

from ..core.expression import Node, Sym, Transpose, substitute
from .index_notation import IndexError_, entry_expression
from .latex_reader import LatexParser, Untranslatable

_ENVIRONMENT = re.compile(r"\\begin\{([bpvB]?matrix)\}(.*?)\\end\{\1\}", re.S)
_DOTS = {r"\vdots", r"\cdots", r"\ddots", r"\ldots", r"\dots", "..."}
_ROW_BREAK = re.compile(r"\\\\(?:\[[^\]]*\])?")
_FONTS = {r"\mathbf", r"\boldsymbol", r"\bm"}
_PLACEHOLDER = "Upsilon_{9%02d}"          # a matrix read here stands in the rest of the formula as this


def _cells(body: str) -> list[list[str]]:
    rows = [[c.strip() for c in row.split("&")] for row in _ROW_BREAK.split(body)]
    return [row for row in rows if any(row)]


def _dots(cell: str) -> bool:
    return cell.replace(" ", "") in _DOTS


def _tokens(text: str) -> list[str]:
    """One token per command or character (``a_{11}``: a, _, {, 1, 1, })."""
    return re.findall(r"\\[A-Za-z]+|\S", text)


def _difference(first: str, last: str) -> list[int]:
    """The tokens where ``first`` has 1 and ``last`` a size letter (the index's places);
    :class:`Untranslatable` if they differ otherwise."""
    a, b = _tokens(first), _tokens(last)
    if len(a) != len(b):
        raise Untranslatable(f"the entries {first!r} and {last!r} are not one entry at two indices")
    places = [k for k, (x, y) in enumerate(zip(a, b)) if x != y]
    sizes = {b[k] for k in places}
    if not places or any(a[k] != "1" for k in places) or len(sizes) != 1 or not sizes.pop().isalpha():
        raise Untranslatable(f"the entries {first!r} and {last!r} differ other than by an index 1 .. n")
    return places


def _template(text: str, places: dict[int, str]) -> str:
    tokens = _tokens(text)
    for k, index in places.items():
        tokens[k] = index
    # a_{ij}: the entry of the matrix A (a lower-case letter with two indices)
    for k in range(len(tokens) - 5):
        if re.fullmatch(r"[a-z]", tokens[k]) and tokens[k + 1:k + 3] == ["_", "{"] and tokens[k + 5] == "}" \
                and (k == 0 or not re.fullmatch(r"\\[A-Za-z]+", tokens[k - 1]) or tokens[k - 1] in _FONTS):
            tokens[k] = tokens[k].upper()
    return " ".join(tokens)


def _stacked_rows(tokens: list[str], places: dict[int, str]) -> Node | None:
    """A column of bold vectors, ``\\mathbf s_1 - \\mathbf y_1 \\\\ … \\\\ \\mathbf s_m - \\mathbf y_m``: the
    rows s_i of the matrices S and Y stacked, ``S - Y`` (each bold symbol with the index its capital);
    None when the indexed symbols are not all bold."""
    indexed = [k for k in places if k >= 3 and tokens[k - 1] == "_"]
    if not indexed or len(indexed) != len(places):
        return None
    out = list(tokens)
    for k in sorted(indexed, reverse=True):
        bold = tokens[k - 3] in _FONTS and re.fullmatch(r"[a-z]", tokens[k - 2])
        braced = k >= 5 and tokens[k - 5] in _FONTS and tokens[k - 4] == "{" and tokens[k - 2] == "}" \
            and re.fullmatch(r"[a-z]", tokens[k - 3])
        if bold:
            out[k - 3:k + 1] = [tokens[k - 2].upper()]
        elif braced:
            out[k - 5:k + 1] = [tokens[k - 3].upper()]
        else:
            return None
    return LatexParser(" ".join(out)).parse()


def dotted_matrix(body: str) -> Node:
    """The vector or matrix whose entries ``body`` (the inside of a bmatrix) writes with dots."""
    cells = _cells(body)
    written = [[c for c in row if not _dots(c)] for row in cells]
    written = [row for row in written if row]
    if len(written) < 2 and not (len(written) == 1 and len(written[0]) >= 2):
        raise Untranslatable("a matrix with dots needs its first and last entries written")
    used = set(_tokens(body))
    letters = [x for x in "rcpqsuvwxyz" if x not in used]
    if len(letters) < 2:
        raise Untranslatable("no index letter is free in the matrix's entries")
    row_index, column_index = letters[:2]
    if all(len(row) == 1 for row in written):                # a column
        first, last = written[0][0], written[-1][0]
        places = {k: row_index for k in _difference(first, last)}
        stacked = _stacked_rows(_tokens(first), places)
        if stacked is not None:
            return stacked
        return entry_expression(_template(first, places), (row_index,))
    if len(written) == 1:                                    # a row
        first, last = written[0][0], written[0][-1]
        places = {k: row_index for k in _difference(first, last)}
        return Transpose(arg=entry_expression(_template(first, places), (row_index,)))
    corner, right, below = written[0][0], written[0][-1], written[-1][0]
    places = {k: row_index for k in _difference(corner, below)}
    places.update({k: column_index for k in _difference(corner, right)})
    return entry_expression(_template(corner, places), (row_index, column_index))


def read_with_dotted_matrices(latex: str) -> Node | None:
    """``latex`` read with each matrix written with dots as the vector or matrix it is; None when
    it has none; :class:`Untranslatable` with the reason when one does not read."""
    found: dict[str, Node] = {}

    def stand_in(m: re.Match) -> str:
        cells = _cells(m.group(2))
        if not any(_dots(c) for row in cells for c in row):
            return m.group(0)
        try:
            node = dotted_matrix(m.group(2))
        except IndexError_ as e:
            raise Untranslatable(f"a matrix written with dots: {e}") from None
        name = _PLACEHOLDER % len(found)
        found[name.replace("{", "").replace("}", "")] = node
        return f" \\{name} "

    text = _ENVIRONMENT.sub(stand_in, latex)
    if not found:
        return None
    tree = LatexParser(text).parse()
    return substitute(tree, lambda n: found.get(n.name) if isinstance(n, Sym) else None)


__all__ = ["dotted_matrix", "read_with_dotted_matrices"]
