"""Results as HTML: a verdict badge, the mathematics as MathML, the evidence folded.

The LaTeX is the project's own (:mod:`symbolic_bp.rendering.latex`: the claim
printer, :func:`~symbolic_bp.rendering.latex.bmatrix`), converted to MathML by
``latex2mathml``, so that a notebook, a plain web page and the web server
show the same formulas without a TeX engine or MathJax.

Two boundaries keep user text inert:

* every user string shown as text (claim, diagnosis, error, evidence, labels)
  goes through :func:`html.escape`;
* every MathML fragment is checked before it is used (:func:`tex_to_mathml`):
  it must parse as XML and consist of MathML elements only, with no TeX
  command left over in its text.  ``latex2mathml`` copies ``\\text{...}``
  verbatim and keeps unknown commands as ``<mi>\\cmd</mi>``, so anything else
  falls back to the escaped source text in ``<code>``; rendering never raises.

>>> from symbolic_bp.checks.result import Result
>>> page = result_html(Result("verified", claim="y @ x.T", derived="y @ x.T"), "A")
>>> page.startswith('<div class="sbp-result sbp-verified">'), "<math" in page, "\\\\frac" in page
(True, True, False)
"""
from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ElementTree
from typing import TYPE_CHECKING, Iterable

from .latex import bmatrix, counterexample_sizes, gradient_variable, latex_name, latex_of_text

if TYPE_CHECKING:                   # a Result is taken, never imported: the result module imports this one
    from ..checks.result import Counterexample, Result

MATHML = "http://www.w3.org/1998/Math/MathML"
_MATH_TAG = re.compile(r"\A<math\b[^>]*>(.*)</math>\Z", re.S)

# verdict -> badge colour (white text on it): green, red, grey, amber
BADGE_COLOURS = {"verified": "#1a7f37", "refuted": "#cf222e", "invalid": "#6e7781", "undecided": "#b35900"}
HIGHLIGHT = "#ffd33d"               # the differing entry of a counterexample

STYLE = """<style>
.sbp-result, .sbp-table { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.5;
  margin: 0.4em 0; }
.sbp-result { border-left: 4px solid #d0d7de; padding: 0.3em 0.8em; }
.sbp-result.sbp-verified { border-left-color: #1a7f37; }
.sbp-result.sbp-refuted { border-left-color: #cf222e; }
.sbp-result.sbp-invalid { border-left-color: #6e7781; }
.sbp-result.sbp-undecided { border-left-color: #b35900; }
.sbp-badge { display: inline-block; padding: 0 0.6em; border-radius: 1em; color: #fff; font-weight: 600;
  font-size: 0.85em; margin-right: 0.5em; vertical-align: middle; }
.sbp-badge.sbp-verified { background: #1a7f37; }
.sbp-badge.sbp-refuted { background: #cf222e; }
.sbp-badge.sbp-invalid { background: #6e7781; }
.sbp-badge.sbp-undecided { background: #b35900; }
.sbp-line { margin: 0.25em 0; }
.sbp-label { color: #57606a; margin-right: 0.4em; }
.sbp-values math { margin-right: 1.2em; }
.sbp-entry { background: #ffd33d; color: #000; }
.sbp-unknown { color: #8c959f; }
.sbp-error-line { color: #cf222e; }
.sbp-result details, .sbp-table details { margin-top: 0.3em; }
.sbp-result summary, .sbp-table summary { cursor: pointer; color: #57606a; }
.sbp-table table { border-collapse: collapse; }
.sbp-table td { padding: 0.2em 0.6em; vertical-align: top; border-bottom: 1px solid #d0d7de; text-align: left; }
.sbp-error { border: 1px solid #cf222e; background: #ffebe9; color: #82071e; padding: 0.4em 0.8em;
  border-radius: 4px; font-family: ui-monospace, monospace; }
</style>"""


# -- MathML ----------------------------------------------------------------------------------------

# the presentation elements latex2mathml writes; anything else (an HTML tag copied from \text{...},
# which the default namespace would make a "MathML" element) is refused
MATHML_TAGS = frozenset(
    "math mrow mi mn mo mtext mspace ms mfrac msqrt mroot mstyle mpadded mphantom menclose msub msup msubsup "
    "munder mover munderover mmultiscripts mprescripts none mtable mtr mtd mlabeledtr".split())


def _only_mathml(element: ElementTree.Element) -> bool:
    """Every element a MathML presentation element, no attribute a script
    hook or a link, no TeX command left in the text."""
    for node in element.iter():
        namespace, _, tag = node.tag.rpartition("}")
        if namespace != "{" + MATHML or tag not in MATHML_TAGS:
            return False
        if any(name.lower().startswith("on") or "href" in name.lower() for name in node.attrib):
            return False
        if "\\" in (node.text or "") or "\\" in (node.tail or ""):
            return False
    return True


def tex_to_mathml(tex: str) -> str | None:
    r"""``tex`` as a ``<math>`` element, or None when latex2mathml cannot
    convert it or its output is not plain MathML (raw TeX, HTML tags).

    >>> tex_to_mathml(r"x^{T}")
    '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mrow><msup><mi>x</mi><mrow><mi>T</mi></mrow></msup></mrow></math>'
    >>> tex_to_mathml(r"\frac{1}{"), tex_to_mathml(r"\unknowncommand x"), tex_to_mathml(r"\text{<b>x</b>}")
    (None, None, None)
    """
    from latex2mathml.converter import convert
    try:
        out = convert(tex)
        if not _only_mathml(ElementTree.fromstring(out)):
            return None
    except Exception:           # noqa: BLE001 - any converter failure: the caller shows the text instead
        return None
    return out


def _inner(mathml: str) -> str:
    """The children of a ``<math>`` element, to embed in a larger one."""
    m = _MATH_TAG.match(mathml)
    return m.group(1) if m else mathml


def _math(tex: str, text: str) -> str:
    """``tex`` as MathML, or ``text`` escaped in ``<code>`` when it cannot be."""
    if not tex.startswith(r"\texttt{"):                 # latex_of_text's sign of text it could not parse
        out = tex_to_mathml(tex)
        if out is not None:
            return out
    return f"<code>{html.escape(str(text))}</code>"


def _grad(w: str) -> str:
    return rf"\frac{{\partial C}}{{\partial {w}}}"


def _formula(grad: str, text: str, shapes: str | None = None) -> str:
    """``grad = text`` typeset (the claim printer's LaTeX), or ``text`` as code."""
    tex = latex_of_text(text, shapes)
    if tex.startswith(r"\texttt{"):
        return f"{_math(grad + ' =', '')}&#8201;<code>{html.escape(text)}</code>"
    return _math(f"{grad} = {tex}", text)


def formula_html(text: str, lhs_tex: str | None = None) -> str:
    """Claim-language ``text`` typeset as MathML, after ``lhs_tex =`` when
    given; text that cannot be typeset is shown escaped in ``<code>``.

    >>> formula_html("x.T @ x", "C").count("<msup>"), formula_html("<x> @@")
    (1, '<code>&lt;x&gt; @@</code>')
    """
    if lhs_tex is None:
        return _math(latex_of_text(text), text)
    return _formula(lhs_tex, text)


# -- counterexamples -------------------------------------------------------------------------------

def _values_html(ce: Counterexample) -> str:
    """Each symbol's value as a typeset matrix (``latex_name = bmatrix``, as
    :func:`~symbolic_bp.rendering.latex.counterexample_values` writes them)."""
    parts = []
    for name, rows in ce.values.items():
        try:
            parts.append(_math(rf"{latex_name(str(name))} = {bmatrix(_rows(rows))}", f"{name} = {rows}"))
        except (TypeError, ValueError):
            parts.append(f"<code>{html.escape(f'{name} = {rows}')}</code>")
    return " ".join(parts)


def _rows(rows):
    """A value's rows: a list of lists, or its JSON text (``"[[3, 3]]"``)."""
    return json.loads(rows) if isinstance(rows, str) else rows


def _shape_of(ce: Counterexample, wrt: str | None) -> tuple[int, int] | None:
    """The gradient's shape at the counterexample: that of the variable's value."""
    try:
        rows = _rows(ce.values.get(wrt)) if wrt else None
    except ValueError:
        return None
    if isinstance(rows, list) and rows and all(isinstance(r, list) for r in rows):
        shape = (len(rows), len(rows[0]))
        if 1 <= int(ce.entry[0]) <= shape[0] and 1 <= int(ce.entry[1]) <= shape[1]:
            return shape
    return None


def entry_matrix(shape: tuple[int, int], entry, value: str) -> str:
    """A ``shape`` matrix showing only ``value`` at the 1-based ``entry``,
    highlighted; the other entries were not computed and are shown as dots.

    >>> entry_matrix((1, 2), (1, 2), "7")
    '<mrow><mo>[</mo><mtable><mtr><mtd><mi class="sbp-unknown" mathcolor="#8c959f">&#x022EF;</mi></mtd><mtd class="sbp-entry" mathbackground="#ffd33d"><mrow><mn>7</mn></mrow></mtd></mtr></mtable><mo>]</mo></mrow>'
    """
    cell = _inner(_math(latex_of_text(value), value))
    if cell.startswith("<code>"):
        cell = f"<mtext>{html.escape(value)}</mtext>"
    rows = []
    for i in range(1, shape[0] + 1):
        cells = [f'<mtd class="sbp-entry" mathbackground="{HIGHLIGHT}">{cell}</mtd>' if (i, j) == tuple(entry)
                 else '<mtd><mi class="sbp-unknown" mathcolor="#8c959f">&#x022EF;</mi></mtd>'
                 for j in range(1, shape[1] + 1)]
        rows.append("<mtr>" + "".join(cells) + "</mtr>")
    return "<mrow><mo>[</mo><mtable>" + "".join(rows) + "</mtable><mo>]</mo></mrow>"


def counterexample_html(ce: Counterexample, grad: str, wrt: str | None = None) -> str:
    """The counterexample: sizes, each symbol's value as a matrix, and the
    claimed against the true value -- as two matrices of the gradient's shape
    with the differing entry highlighted when the shape is known, else as
    the entry's two values; a shape mismatch as a sentence."""
    out = [f'<div class="sbp-line"><span class="sbp-label">counterexample at '
           f'{html.escape(counterexample_sizes(ce))}:</span><span class="sbp-values">{_values_html(ce)}</span></div>']
    if not ce.entry:
        out.append(f'<div class="sbp-line">the claim is {html.escape(str(ce.claimed))}, '
                   f'the gradient {html.escape(str(ce.true))}</div>')
        return "".join(out)
    try:
        i, j = (int(k) for k in ce.entry)
    except (TypeError, ValueError):
        out.append(f'<div class="sbp-line">entry {html.escape(str(ce.entry))}: claimed '
                   f'{html.escape(str(ce.claimed))}, true {html.escape(str(ce.true))}</div>')
        return "".join(out)
    shape = _shape_of(ce, wrt)
    if shape is not None:
        head = _inner(tex_to_mathml(grad) or "<mi>G</mi>")
        for label, value in (("claimed", ce.claimed), ("true", ce.true)):
            out.append(f'<div class="sbp-line"><span class="sbp-label">{label}:</span>'
                       f'<math xmlns="{MATHML}" display="inline"><mrow>{head}<mo>=</mo>'
                       f'{entry_matrix(shape, (i, j), str(value))}</mrow></math></div>')
    out.append(f'<div class="sbp-line"><span class="sbp-label">entry ({html.escape(str(i))},'
               f'{html.escape(str(j))}):</span>claimed {_value(ce.claimed)}, true {_value(ce.true)}</div>')
    return "".join(out)


def _value(text) -> str:
    return _math(latex_of_text(str(text)), str(text))


# -- results ---------------------------------------------------------------------------------------

def badge(verdict: str) -> str:
    """The verdict as a coloured badge.

    >>> badge("refuted")
    '<span class="sbp-badge sbp-refuted">refuted</span>'
    """
    v = html.escape(str(verdict))
    return f'<span class="sbp-badge sbp-{v}">{v}</span>'


def _line(label: str, body: str) -> str:
    return f'<div class="sbp-line"><span class="sbp-label">{html.escape(label)}</span>{body}</div>'


def _wrt_name(result: Result, wrt: str | None) -> str | None:
    if wrt is None:
        found = [re.search(r"dC/d([A-Za-z_]\w*) =", e.detail) for e in result.evidence]
        wrt = next((m.group(1) for m in found if m), None)
    return wrt


def _head(result: Result, wrt: str | None, lhs: str | None) -> str:
    """The left-hand side as LaTeX: the gradient, or the line ``lhs`` (an equality)."""
    if lhs is None:
        return _grad(gradient_variable(result, wrt))
    return latex_of_text(lhs)


def _body(result: Result, wrt: str | None, lhs: str | None = None) -> str:
    grad = _head(result, wrt, lhs)
    claim = _formula(grad, result.claim) if result.claim else "(no claim)"
    out = [f'<div class="sbp-line">{badge(result.verdict)}{claim}</div>']
    if result.derived and result.derived != result.claim:
        out.append(_line("derived:", _formula(grad, result.derived)))
    if result.scope:
        out.append(_line("scope:", html.escape(result.scope)))
    if result.counterexample:
        out.append(counterexample_html(result.counterexample, grad, _wrt_name(result, wrt) if lhs is None else None))
    if result.diagnosis:
        out.append(_line("diagnosis:", html.escape(result.diagnosis)))
    if getattr(result, "suggestion", None):
        # as suggestion_latex writes it, the label and "(verified)" in HTML (the text font of the page)
        out.append(_line("did you mean:", f"{_formula(grad, result.suggestion)} "
                                          f'<span class="sbp-label">(verified)</span>'))
    if result.error:
        out.append(f'<div class="sbp-line sbp-error-line">{html.escape(result.error)}</div>')
    shown = [e for e in result.evidence if e.method != "scope"]
    if shown:
        items = "".join(f"<li><b>{html.escape(e.method)}</b> ({html.escape(e.outcome)}): {html.escape(e.detail)}</li>"
                        for e in shown)
        out.append(f"<details><summary>evidence</summary><ul>{items}</ul></details>")
    return "".join(out)


def _result_div(result: Result, wrt: str | None, style: bool, lhs: str | None = None) -> str:
    verdict = html.escape(str(result.verdict))
    return (f'<div class="sbp-result sbp-{verdict}">' + (STYLE if style else "")
            + _body(result, wrt, lhs) + "</div>")


def result_html(result: Result, wrt: str | None = None, *, lhs: str | None = None) -> str:
    r"""A result as a self-contained HTML fragment (one ``<div>``, its own
    style): the verdict badge, the claim and the derived gradient as MathML,
    the counterexample (each symbol's value as a matrix, the differing entry
    highlighted in the claimed and the true gradient), the diagnosis, the
    corrected claim, the error of an invalid claim, and the evidence folded
    in a ``<details>``.  ``wrt`` names the variable (else read from the
    evidence); ``lhs``, claim-language text, replaces the gradient on the
    left of "=" (a line of a derivation checked against the one before it).

    >>> from symbolic_bp.checks.result import Result
    >>> page = result_html(Result("invalid", claim="x @@ <y>", error="claim: column 4: expected an operand"))
    >>> "<code>x @@ &lt;y&gt;</code>" in page, "sbp-badge sbp-invalid" in page, "column 4" in page
    (True, True, True)
    """
    from .text import require_result
    require_result(result, "result_html")
    return _result_div(result, wrt, style=True, lhs=lhs)


def results_table_html(rows: Iterable[tuple]) -> str:
    """(label, result) pairs as a table, one row each: the label, the verdict
    badge, and the whole result folded in a ``<details>`` (a document's claims).
    A row may carry the ``wrt`` and ``lhs`` of :func:`result_html` as a third
    and fourth item.

    >>> from symbolic_bp.checks.result import Result
    >>> page = results_table_html([("eq. <1>", Result("verified", claim="y @ x.T"))])
    >>> page.count("<tr>"), "eq. &lt;1&gt;" in page, "sbp-badge sbp-verified" in page
    (1, True, True)
    """
    body = []
    for label, result, *more in rows:
        wrt, lhs = (list(more) + [None, None])[:2]
        body.append(f"<tr><td>{html.escape(str(label))}</td><td>{badge(result.verdict)}</td><td><details>"
                    f"<summary>{html.escape(result.claim) or 'details'}</summary>"
                    f"{_result_div(result, wrt, style=False, lhs=lhs)}</details></td></tr>")
    return f'<div class="sbp-table">{STYLE}<table>{"".join(body)}</table></div>'


def error_html(message: str) -> str:
    """A one-line error as a red box (bad notebook input: no traceback).

    >>> error_html("line 2: unknown key 'cots'").endswith("line 2: unknown key &#x27;cots&#x27;</div>")
    True
    """
    return f'<div class="sbp-error">{STYLE}{html.escape(str(message))}</div>'
