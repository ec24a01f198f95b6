"""Run derivation files and render what came out: a text table, JSON, Markdown.

The runner never stops at a bad file: an unreadable file becomes a row-less
entry with its one-line error, and the other files still run.  With
``jobs`` > 1 the claims are checked in that many forked worker processes at
once (:func:`~symbolic_bp.checks.budget.forked_map`), each still under its own
budget; the rows, and so every rendering, are the same as one after the other.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..checks.budget import DEFAULT_SECONDS, Outcome, forked_map
from ..derivations.derivation import Derivation, Entry, discover, load
from ..errors import InputError
from .text import REPORT, quantity_lead, result_lines

if TYPE_CHECKING:                  # a Result is taken, never imported: the result module imports the renderers
    from ..checks.result import Result


@dataclass
class Row:
    file: str
    title: str
    document: str
    entry: Entry
    result: Result

    @property
    def matches(self) -> bool:
        return self.result.verdict == self.entry.expect

    @property
    def source(self) -> str:
        doc = Path(self.document).name if self.document else Path(self.file).name
        return f"{doc} {self.entry.section}".strip()

    def to_dict(self) -> dict:
        return {"file": self.file, "name": self.entry.name, "kind": self.entry.kind, "source": self.source,
                "section": self.entry.section, "latex": self.entry.latex, **self.entry.fields(),
                "expected": self.entry.expect, "matches": self.matches, "note": self.entry.note,
                **self.result.to_dict()}


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)     # unreadable files, one line each

    @property
    def exit_code(self) -> int:
        """2 on unreadable input, 1 if a verdict differs from its expectation, else 0."""
        if self.errors:
            return 2
        return 0 if all(r.matches for r in self.rows) else 1

    def to_dict(self) -> dict:
        return {"claims": [r.to_dict() for r in self.rows], "errors": self.errors,
                "summary": self.summary()}

    def summary(self) -> dict:
        counts = {}
        for r in self.rows:
            counts[r.result.verdict] = counts.get(r.result.verdict, 0) + 1
        return {"claims": len(self.rows), "verdicts": dict(sorted(counts.items())),
                "mismatches": sum(not r.matches for r in self.rows), "unreadable": len(self.errors)}


def run(paths: list[str | Path], *, seconds: float = DEFAULT_SECONDS, seed: int = 0,
        progress=lambda row: None, jobs: int = 1, planned=lambda count: None) -> Report:
    """Check every claim of every derivation file under ``paths``, in ``jobs``
    worker processes at once (1: one after the other, in this process).

    ``planned(count)`` is called once the files are read, with the number of
    items to check; ``progress(row)`` as each row is done (with ``jobs`` > 1,
    in the order they finish; the report's rows are in the files' order)."""
    report = Report()
    derivations = []
    for path in discover(paths):
        try:
            derivations.append(load(path))
        except InputError as e:
            report.errors.append(str(e))
    count = sum(len(d.entries) for d in derivations)
    planned(count)
    if jobs > 1 and count > 1:            # one item: no worker to fork
        report.rows = _run_parallel(derivations, seconds, seed, jobs, progress)
        return report
    for derivation in derivations:
        for row in run_derivation(derivation, seconds=seconds, seed=seed):
            report.rows.append(row)
            progress(row)
    return report


def run_derivation(derivation: Derivation, *, seconds: float = DEFAULT_SECONDS, seed: int = 0):
    for entry in derivation.entries:
        yield _row(derivation, entry, entry.run(seconds, seed))


def _row(derivation: Derivation, entry: Entry, result: Result) -> Row:
    if result.verdict == "invalid":        # a copy: a chain remembers its lines' results and reads them again
        result = replace(result, error=f"{derivation.where(entry)}: claim {entry.name!r}: {result.error}")
    return Row(derivation.path, derivation.title, derivation.document, entry, result)


def _run_parallel(derivations: list[Derivation], seconds: float, seed: int, jobs: int, progress) -> list[Row]:
    """The rows of all derivations, checked by ``jobs`` workers.  Items that
    share state -- the lines of a chain and its summary share the chain's
    results -- go to one worker together, in file order, as they would run in
    one process; the largest groups are handed out first."""
    slots = [(d, e) for d in derivations for e in d.entries]
    groups: dict = {}
    for k, (_, entry) in enumerate(slots):
        shared = getattr(entry, "chain", None)
        groups.setdefault(("chain", id(shared)) if shared is not None else ("item", k), []).append(k)
    units = sorted(groups.values(), key=len, reverse=True)
    rows: list[Row | None] = [None] * len(slots)
    # what the items' checks import on first use (SymPy, NumPy...), imported once here and
    # shared by the forked workers instead of once in each
    from ..checks import checker, identity  # noqa: F401
    from ..networks import network_check  # noqa: F401

    def finished(unit: list[int], outcome: Outcome) -> None:
        results = outcome.value if outcome.status == "done" else [_worker_failed(outcome)] * len(unit)
        for k, result in zip(unit, results):
            rows[k] = _row(*slots[k], result)
            progress(rows[k])

    forked_map(lambda unit: [slots[k][1].run(seconds, seed) for k in unit], units, jobs, done=finished)
    return rows


def _worker_failed(outcome: Outcome) -> Result:
    from ..checks.result import Result
    why = (f"the worker process died (exit code {outcome.value})" if outcome.status == "died"
           else f"the worker process failed: {outcome.value}")
    return Result("undecided", error=f"{why}; this is a bug in symbolic_bp, please report it")


# -- rendering ------------------------------------------------------------------------

def to_json(report: Report) -> str:
    """Deterministic: sorted keys, no timings."""
    return json.dumps(report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)


def _mark(row: Row) -> str:
    return "ok" if row.matches else f"MISMATCH (expected {row.entry.expect})"


# the columns that give way when the table is wider than the terminal (the
# widest first; among equals, in this order); their cells wrap onto
# continuation lines, and none becomes narrower than MIN_COLUMN
SHRINKING = ("source", "claim", "methods")
MIN_COLUMN = 16


def to_text(report: Report, timings: bool = True, width: int | None = None) -> str:
    """The table, the noteworthy claims explained, the summary.  With
    ``width`` (a terminal's), long sources, claim names and methods wrap
    inside their columns so that each line of the table fits in it."""
    head = ["claim", "source", "verdict", "expected", "methods"] + (["time"] if timings else [])
    body = []
    for r in report.rows:
        cells = [f"{Path(r.file).stem}::{r.entry.name}", r.source, r.result.verdict, _mark(r),
                 "+".join(r.result.methods) or "-"]
        if timings:
            cells.append(f"{r.result.seconds:.2f}s")
        body.append(cells)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)] if body else [len(h) for h in head]
    if width:
        widths = fit_columns(head, widths, width)
    fmt = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    lines = [fmt(head), fmt(["-" * w for w in widths])]
    for cells in body:
        wrapped = [wrap_cell(str(c), w) for c, w in zip(cells, widths)]
        lines += [fmt([col[i] if i < len(col) else "" for col in wrapped])
                  for i in range(max(map(len, wrapped)))]
    for r in report.rows:
        if r.result.verdict == "refuted" or r.result.error or not r.matches:
            lines.append("")
            lines.extend(explain(r))
    for e in report.errors:
        lines.append(f"error: {e}")
    s = report.summary()
    lines.append("")
    lines.append(f"{s['claims']} claims: " + ", ".join(f"{n} {v}" for v, n in s["verdicts"].items())
                 + f"; {s['mismatches']} not as expected; {s['unreadable']} unreadable files")
    return "\n".join(lines)


def fit_columns(head: list[str], widths: list[int], width: int) -> list[int]:
    """Column widths whose table (two spaces between columns) fits in
    ``width``: the widest of the :data:`SHRINKING` columns gives way, one
    character at a time, none below :data:`MIN_COLUMN`.

    >>> fit_columns(["claim", "source", "verdict"], [30, 50, 8], 80)
    [30, 38, 8]
    >>> fit_columns(["claim", "source", "verdict"], [30, 50, 8], 50)
    [19, 19, 8]
    >>> fit_columns(["claim", "source", "verdict"], [30, 50, 8], 20)      # as narrow as it goes
    [16, 16, 8]
    """
    widths = list(widths)
    flexible = [head.index(name) for name in SHRINKING if name in head]
    excess = sum(widths) + 2 * (len(widths) - 1) - width
    while excess > 0:
        wide = [i for i in flexible if widths[i] > MIN_COLUMN]
        if not wide:
            break
        widths[max(wide, key=lambda i: widths[i])] -= 1       # max: the first of the widest
        excess -= 1
    return widths


def wrap_cell(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken after a space,
    ``::``, ``+`` or ``-`` where it can be, inside a word where it must.

    >>> wrap_cell("post_III::linear-yAx", 12)
    ['post_III::', 'linear-yAx']
    >>> wrap_cell("induction+unrolled+numeric", 12)
    ['induction+', 'unrolled+', 'numeric']
    """
    if len(text) <= width:
        return [text]
    lines, line = [], ""
    for piece in re.findall(r".*?(?:\s+|::|\+|-|$)", text):
        if not piece:
            continue
        if len(line) + len(piece.rstrip()) > width and line:
            lines.append(line.rstrip())
            line = ""
        while len(piece.rstrip()) > width:
            lines.append(piece[:width])
            piece = piece[width:]
        line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines


def explain(row: Row) -> list[str]:
    """The lines a reader needs about one noteworthy claim: as written, the
    claim, derived, counterexample, diagnosis, the corrected claim ("did you
    mean", when the checks offer one), error, note."""
    r, e = row.result, row.entry
    return result_lines(r, f"{Path(row.file).stem}::{e.name}: {r.verdict} ({_mark(row)})", quantity=e.quantity(),
                        before=[("as written", e.latex), ("claim", e.statement())], after=[("note", e.note)],
                        layout=REPORT, suggestion_lead=quantity_lead(r, e.quantity()))


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Report) -> str:
    from ..checks.counterexample import describe             # imported here: they load SymPy, the table does not
    from .latex import markdown_items, refutation_math
    lines = ["| claim | source | verdict | expected | methods |", "|---|---|---|---|---|"]
    for r in report.rows:
        lines.append("| " + " | ".join(_md_cell(c) for c in (
            f"`{Path(r.file).stem}::{r.entry.name}`", r.source, f"**{r.result.verdict}**", _mark(r),
            ", ".join(r.result.methods) or "-")) + " |")
    for r in report.rows:
        if r.result.verdict != "refuted" and not r.result.error:
            continue
        res, e = r.result, r.entry
        lines += ["", f"### `{e.name}` ({res.verdict})", ""]
        if e.latex:
            lines += ["As written in the source:", "", "```math", e.latex.replace("\\boxed", ""), "```", ""]
        # the fields as the claim language writes them (the ```math block below typesets them)
        lines += markdown_items(res, {"derived": lambda d: f"`{d}`", "diagnosis": str, "error": _md_cell,
                                      "counterexample": lambda ce: _md_cell(describe(ce, e.quantity())),
                                      "suggestion": lambda s: f"`{quantity_lead(res, e.quantity())}{s}` (verified)"},
                                before=[("claim", f"`{e.statement()}`")])
        lines += refutation_math(e, res)      # claim, truth, counterexample, correction as a ```math block
    for err in report.errors:
        lines += ["", f"**error:** {_md_cell(err)}"]
    return "\n".join(lines) + "\n"
