"""Result objects: what every edge (CLI, report, LaTeX, pytest) consumes.

>>> r = Result(verdict="verified", claim="y @ x.T", derived="y @ x.T")
>>> r.exit_code, sorted(r.to_dict())[:3]
(0, ['claim', 'counterexample', 'derived'])
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

VERDICTS = ("verified", "refuted", "invalid", "undecided")
EXIT_CODES = {"verified": 0, "refuted": 1, "invalid": 2, "undecided": 3}


@dataclass
class Evidence:
    """One check that ran: ``method`` (exact | numeric | derivation), its
    ``outcome`` (agree | differ | inconclusive | skipped) and a sentence; or
    where a verified claim holds: ``method`` scope, ``outcome`` note (a claim
    with kinks or ties holds almost everywhere)."""

    method: str
    outcome: str
    detail: str


@dataclass
class Counterexample:
    """Sizes and small integer values at which claim and truth differ.

    ``entry`` is the 1-based (row, column) of the first differing entry, or
    None when the shapes already differ; ``claimed`` and ``true`` are exact
    values written out (e.g. ``"3"``, ``"2*sigma'(1)"``) or shapes."""

    sizes: dict
    values: dict
    entry: list | None
    claimed: str
    true: str


@dataclass
class Result:
    """The outcome of one check: the ``verdict``, the ``claim`` as given, the
    ``derived`` gradient, the ``evidence`` from each method that ran, a
    ``counterexample`` when refuted, the ``diagnosis`` naming the slip,
    ``suggestion`` -- the corrected claim, the slip repaired, verified by the
    checks before it is offered -- and the ``error`` when invalid.

    >>> r = Result("refuted", claim="x @ y.T", diagnosis="transposed", suggestion="y @ x.T")
    >>> Result.from_dict(r.to_dict()).suggestion
    'y @ x.T'
    >>> list(r.to_dict())
    ['verdict', 'claim', 'derived', 'evidence', 'counterexample', 'diagnosis', 'suggestion', 'error']
    """

    verdict: str
    claim: str = ""
    derived: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    counterexample: Counterexample | None = None
    diagnosis: str | None = None
    suggestion: str | None = None
    error: str | None = None
    seconds: float = 0.0

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def methods(self) -> list[str]:
        return [e.method for e in self.evidence if e.outcome in ("agree", "differ")]

    @property
    def scope(self) -> str | None:
        """Where a verified claim holds, when not everywhere (``holds almost
        everywhere (away from the kinks of relu) ...``), else None.

        >>> Result("verified", evidence=[Evidence("scope", "note", "holds almost everywhere")]).scope
        'holds almost everywhere'
        """
        return next((e.detail for e in self.evidence if e.method == "scope"), None)

    # Jupyter display.  The one arrow between results and their renderers is
    # this one, imported on use: the renderers name Result in type hints only,
    # and a result that is never displayed does not load the LaTeX printer.

    def _repr_latex_(self) -> str:
        """Jupyter display as math (see :func:`symbolic_bp.rendering.latex.result_latex`)."""
        from ..rendering.latex import result_latex
        return result_latex(self)

    def _repr_markdown_(self) -> str:
        """Jupyter display as Markdown (see :func:`symbolic_bp.rendering.latex.result_markdown`)."""
        from ..rendering.latex import result_markdown
        return result_markdown(self)

    def _repr_html_(self) -> str:
        """Jupyter display as HTML: badge, MathML, counterexample matrices (see
        :func:`symbolic_bp.rendering.html.result_html`)."""
        from ..rendering.html import result_html
        return result_html(self)

    def to_dict(self) -> dict:
        """The JSON object of the CLI contract (time excluded: it varies)."""
        return {
            "verdict": self.verdict,
            "claim": self.claim,
            "derived": self.derived,
            "evidence": [asdict(e) for e in self.evidence],
            "counterexample": asdict(self.counterexample) if self.counterexample else None,
            "diagnosis": self.diagnosis,
            "suggestion": self.suggestion,
            "error": self.error,
        }

    @staticmethod
    def from_dict(data: dict) -> "Result":
        ce = data.get("counterexample")
        return Result(
            verdict=data["verdict"], claim=data.get("claim", ""), derived=data.get("derived"),
            evidence=[Evidence(**e) for e in data.get("evidence", [])],
            counterexample=Counterexample(**ce) if ce else None,
            diagnosis=data.get("diagnosis"), suggestion=data.get("suggestion"),
            error=data.get("error"),
            seconds=data.get("seconds", 0.0))
