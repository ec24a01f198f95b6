"""A result as plain-text lines: the one block the CLI, ``step``, the report,
the pytest plugin and the assertion helpers print.

The block is a head line, then one labelled line per field that is present
(derived, counterexample, diagnosis, the corrected claim as "did you mean",
error, and whatever the caller adds before and after them), then -- in the
CLI's layout -- the evidence and the time.  The two layouts differ only in
the width of the label column and in whether evidence and time are shown
(:data:`CLI`, :data:`REPORT`).

>>> from symbolic_bp.checks.result import Evidence, Result
>>> r = Result("refuted", claim="x @ y.T", derived="y @ x.T", diagnosis="transposed", suggestion="y @ x.T",
...            evidence=[Evidence("exact", "differ", "entry (1,1) differs")], seconds=0.5)
>>> print("\\n".join(cli_lines(r, "dC/dA")))
refuted: dC/dA = x @ y.T
  derived:        dC/dA = y @ x.T
  diagnosis:      transposed
  did you mean:   dC/dA = y @ x.T   (verified)
  exact      differ    entry (1,1) differs
  (0.50 s)
>>> print("\\n".join(result_lines(r, "A::linear: refuted", layout=REPORT, before=[("claim", "x @ y.T")])))
A::linear: refuted
  claim:       x @ y.T
  derived:     y @ x.T
  diagnosis:   transposed
  did you mean: y @ x.T   (verified)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:                      # the result module imports the renderers (Jupyter display), not back
    from ..checks.result import Result

# what every Result has; a renderer checks for these instead of importing the class
RESULT_FIELDS = ("verdict", "claim", "derived", "evidence", "counterexample", "diagnosis", "error")


@dataclass(frozen=True)
class TextLayout:
    """How the block is laid out: ``width`` is the label column (from the
    label's first character to the text, after a two-space indent);
    ``evidence`` and ``timing`` add the evidence lines and the time taken."""

    width: int
    evidence: bool
    timing: bool


CLI = TextLayout(width=16, evidence=True, timing=True)          # check, step, network
REPORT = TextLayout(width=13, evidence=False, timing=False)     # report, pytest plugin, assert_* helpers


def require_result(obj, who: str) -> None:
    """Raise :class:`TypeError` unless ``obj`` has the fields of a Result.

    >>> require_result("verified", "result_latex")
    Traceback (most recent call last):
    ...
    TypeError: result_latex needs a Result, got str
    """
    if not all(hasattr(obj, name) for name in RESULT_FIELDS):
        raise TypeError(f"{who} needs a Result, got {type(obj).__name__}")


def labelled(label: str, text: str, layout: TextLayout = CLI) -> str:
    """One field line: the label, padded to the layout's column, then the text.

    >>> labelled("error", "bad"), labelled("note", "n", REPORT)
    ('  error:          bad', '  note:        n')
    """
    return f"  {label + ':':{layout.width - 1}s} {text}"


def result_lines(result: Result, head: str, *, quantity: str | None = None, lead: str = "",
                 before: Iterable[tuple[str, str | None]] = (), after: Iterable[tuple[str, str | None]] = (),
                 layout: TextLayout = CLI, suggestion_lead: str | None = None) -> list[str]:
    """The block of ``result`` under the line ``head``.

    ``quantity`` names what a counterexample's entry is an entry of (None:
    "the truth"); ``lead`` is written before the derived formula and the
    suggestion (``"dC/dA = "``); ``before`` and ``after`` are (label, text)
    fields around the result's own, left out when their text is empty;
    ``suggestion_lead``, when given, is written before the suggestion instead
    of ``lead`` (the report shows the derived formula bare, the corrected
    claim whole)."""
    from ..checks.counterexample import describe       # it loads SymPy; importing this module does not
    # where a verified claim holds, when not everywhere (kinks, ties): a field line, not an evidence line
    scope = next((e.detail for e in result.evidence if e.method == "scope"), None)
    fields = [*before,
              ("derived", f"{lead}{result.derived}" if result.derived else None),
              ("scope", scope),
              ("counterexample", describe(result.counterexample, quantity) if result.counterexample else None),
              ("diagnosis", result.diagnosis), ("did you mean", suggestion_text(result, lead if suggestion_lead is None else suggestion_lead)),
              ("error", result.error), *after]
    lines = [head] + [labelled(label, text, layout) for label, text in fields if text]
    if layout.evidence:
        lines += [f"  {e.method:10s} {e.outcome:9s} {e.detail}" for e in result.evidence if e.method != "scope"]
    if layout.timing:
        lines.append(f"  ({result.seconds:.2f} s)")
    return lines


def quantity_lead(result: Result, quantity: str | None) -> str:
    """``"dC/dA = "`` to write before the result's formulas, or "" when the
    claim names its left-hand side itself (``delta[l] = ...``) or there is
    no quantity.

    >>> from symbolic_bp.checks.result import Result
    >>> quantity_lead(Result("refuted", claim="x @ y.T"), "dC/dA"), quantity_lead(Result("refuted", claim="delta[l] = x"), "delta[l]")
    ('dC/dA = ', '')
    """
    return f"{quantity} = " if quantity and not result.claim.startswith(quantity) else ""


def suggestion_text(result: Result, lead: str = "") -> str | None:
    """The corrected claim of a refuted result, as the "did you mean" line
    writes it (``lead`` before it), or None when the result offers none.
    The checks verified it before offering it, and the line says so.

    >>> from symbolic_bp.checks.result import Result
    >>> suggestion_text(Result("refuted", claim="x @ y.T", suggestion="y @ x.T"), "dC/dA = ")
    'dC/dA = y @ x.T   (verified)'
    >>> suggestion_text(Result("refuted", claim="x @ y.T")) is None
    True
    """
    suggestion = getattr(result, "suggestion", None)
    return f"{lead}{suggestion}   (verified)" if suggestion else None


def cli_lines(result: Result, quantity: str | None) -> list[str]:
    """A result as ``check`` and ``network`` print it; ``quantity`` is what the
    claim is about (``dC/dA``, ``delta[l]``), or None.

    >>> from symbolic_bp.checks.result import Result
    >>> cli_lines(Result("verified", claim="delta[l] = x", seconds=1), "delta[l]")
    ['verified: delta[l] = x', '  (1.00 s)']
    """
    lead = quantity_lead(result, quantity)
    return result_lines(result, f"{result.verdict}: {lead}{result.claim}", quantity=quantity, lead=lead)
