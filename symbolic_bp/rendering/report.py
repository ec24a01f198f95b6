"""Run derivation files and render what came out: a text table, JSON, Markdown.

The runner never stops at a bad file: an unreadable file becomes a row-less
entry with its one-line error, and the other files still run.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..checks.budget import DEFAULT_SECONDS
from ..checks.counterexample import describe
from ..derivations.derivation import Derivation, Entry, discover, load
from ..errors import InputError
from .text import REPORT, result_lines

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
        progress=lambda row: None) -> Report:
    """Check every claim of every derivation file under ``paths``."""
    report = Report()
    for path in discover(paths):
        try:
            derivation = load(path)
        except InputError as e:
            report.errors.append(str(e))
            continue
        for row in run_derivation(derivation, seconds=seconds, seed=seed):
            report.rows.append(row)
            progress(row)
    return report


def run_derivation(derivation: Derivation, *, seconds: float = DEFAULT_SECONDS, seed: int = 0):
    for entry in derivation.entries:
        result = entry.run(seconds, seed)
        if result.verdict == "invalid":
            result.error = f"{derivation.where(entry)}: claim {entry.name!r}: {result.error}"
        yield Row(derivation.path, derivation.title, derivation.document, entry, result)


# -- rendering ------------------------------------------------------------------------

def to_json(report: Report) -> str:
    """Deterministic: sorted keys, no timings."""
    return json.dumps(report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)


def _mark(row: Row) -> str:
    return "ok" if row.matches else f"MISMATCH (expected {row.entry.expect})"


def to_text(report: Report, timings: bool = True) -> str:
    head = ["claim", "source", "verdict", "expected", "methods"] + (["time"] if timings else [])
    body = []
    for r in report.rows:
        cells = [f"{Path(r.file).stem}::{r.entry.name}", r.source, r.result.verdict, _mark(r),
                 "+".join(r.result.methods) or "-"]
        if timings:
            cells.append(f"{r.result.seconds:.2f}s")
        body.append(cells)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)] if body else [len(h) for h in head]
    fmt = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(c) for c in body]
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


def explain(row: Row) -> list[str]:
    """The lines a reader needs about one noteworthy claim."""
    r, e = row.result, row.entry
    return result_lines(r, f"{Path(row.file).stem}::{e.name}: {r.verdict} ({_mark(row)})", quantity=e.quantity(),
                        before=[("as written", e.latex), ("claim", e.statement())], after=[("note", e.note)],
                        layout=REPORT)


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Report) -> str:
    from .latex import markdown_items, refutation_math      # imported here: it loads SymPy, the table does not need it
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
                                      "counterexample": lambda ce: _md_cell(describe(ce, e.quantity()))},
                                before=[("claim", f"`{e.statement()}`")])
        lines += refutation_math(e, res)      # claim, truth and counterexample as a ```math block
    for err in report.errors:
        lines += ["", f"**error:** {_md_cell(err)}"]
    return "\n".join(lines) + "\n"
