"""The numeric check: float64 random values at other sizes.

The claim is compared with the derived gradient (reverse mode,
:mod:`symbolic_bp.calculus.gradient`), and the derived gradient with central finite
differences of the cost, at fresh random draws.

Tolerance rule, per draw: the claim K matches the truth G when
``max|K - G| <= 1e-8 * max(1, max|G|)`` (a relative error with an absolute
floor, so exact zeros compare sanely); the derived gradient matches finite
differences (step 1e-6 * max(1, |x|)) when the same quantity is <= 1e-5.
A draw whose values are not finite or whose matrices are ill-conditioned is
redrawn (up to 12 times); it is never taken as a refutation.  So is a draw
whose float64 rounding noise could reach the tolerance: intermediate values far
larger than the result (``2*x + 1e10 - 1e10``) or a cost so large that finite
differences drown in rounding (:meth:`NumericModel.rounding_noise`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .claim import Prepared
from ..calculus.evaluate import Evaluator, NumericBackend
from ..core import registry
from ..core.expression import Apply, Call, Node
from ..language.shapes import concrete
from .finite_differences import FD_STEP, central_differences, relative_difference as rel_diff
from .sampling import float_matrix
from .sizes import show_sizes

REL_TOL = 1e-8
FD_TOL = 1e-5
DRAWS = 3
MAX_REDRAWS = 12
UNIT_ROUNDOFF = 2.0 ** -53
# float64 rounding noise of a value computed from intermediates up to M is about
# UNIT_ROUNDOFF * M * (number of operations): with these factors a draw whose noise
# could reach the tolerance (cancellation: 2*x + 1e10 - 1e10) is not trusted
VALUE_OPERATIONS = 64
FD_OPERATIONS = 4


def needs_positive(*nodes: Node) -> bool:
    """A function whose registry entry wants positive arguments (log, sqrt,
    logdet) appears: draw positive entries then."""
    def positive(n: Node) -> bool:
        if isinstance(n, Apply):
            entry = registry.elementwise(n.name)
            return entry is not None and entry.domain == "positive"
        return isinstance(n, Call) and registry.operation(n.name).positive
    return any(positive(n) for node in nodes for n in node.walk())


def draw_env(prep: Prepared, sizes: dict, rng: np.random.Generator, positive: bool) -> dict:
    return {name: float_matrix(rng, concrete(sym.shape, sizes), sym.prop, positive)
            for name, sym in prep.decls.symbols.items()}


class _Magnitudes(Evaluator):
    """An evaluator that also records the largest |entry| of every intermediate value."""

    largest = 0.0

    def eval(self, node: Node):
        out = super().eval(node)
        if isinstance(out, np.ndarray) and out.size:
            self.largest = max(self.largest, float(np.max(np.abs(out))))
        return out


class NumericModel:
    """Numeric evaluation of a prepared claim at one size assignment."""

    def __init__(self, prep: Prepared, sizes: dict, seed: int):
        self.prep, self.sizes, self.seed = prep, sizes, seed
        self.evaluate = Evaluator(NumericBackend(), sizes, seed)
        self.shape = concrete(prep.wrt_shape, sizes)

    def value(self, node: Node, env: dict) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = self.evaluate(node, env)
        if out.shape != self.shape and out.shape == (1, 1):
            out = np.full(self.shape, out[0, 0])
        return out

    def cost(self, env: dict) -> float:
        with np.errstate(all="ignore"):
            return float(self.evaluate(self.prep.cost, env)[0, 0])

    def magnitude(self, node: Node, env: dict) -> float:
        """The largest |entry| of any intermediate value of ``node`` at ``env`` (inf if one overflowed)."""
        tracker = _Magnitudes(NumericBackend(), self.sizes, self.seed)
        with np.errstate(all="ignore"):
            tracker(node, env)
        return tracker.largest if tracker.largest == tracker.largest else float("inf")

    def rounding_noise(self, env: dict, true: np.ndarray) -> tuple[float, float]:
        """Estimated float64 rounding noise, relative to max(1, max|G|), of the
        claim/derived values and of the central finite differences of the cost."""
        scale = max(1.0, float(np.max(np.abs(true), initial=0.0)))
        values = max(self.magnitude(self.prep.claim, env), self.magnitude(self.prep.derived, env))
        h = FD_STEP * max(1.0, float(np.max(np.abs(env[self.prep.wrt]), initial=0.0)))
        cost = self.magnitude(self.prep.cost, env)
        return (UNIT_ROUNDOFF * VALUE_OPERATIONS * values / scale,
                UNIT_ROUNDOFF * FD_OPERATIONS * cost / h / scale)

    def finite_differences(self, env: dict) -> np.ndarray:
        """Central differences of the cost in the variable, at ``env``."""
        return central_differences(lambda x: self.cost(dict(env, **{self.prep.wrt: x})), env[self.prep.wrt])


@dataclass
class NumericOutcome:
    status: str = "agree"            # agree | differ | inconclusive
    sizes: dict = field(default_factory=dict)
    draws: int = 0
    max_rel: float = 0.0
    fd_rel: float = 0.0
    fd_ok: bool = True
    envs: list = field(default_factory=list)    # the good draws, for the diagnosis
    note: str = ""

    def detail(self) -> str:
        where = f"float64 random values at ({show_sizes(self.sizes)}), {self.draws} draws"
        rule = f"tolerance max|K-G| <= {REL_TOL:g} * max(1, max|G|)"
        fd = f"derived gradient vs central finite differences: {self.fd_rel:.1e} (tolerance {FD_TOL:g})"
        if self.status == "inconclusive":
            return f"{where}: {self.note}"
        verb = "max relative difference" if self.status == "agree" else "claim differs from the derived gradient: relative difference"
        skipped = f" ({self.note}, so undefined there)" if self.note else ""
        return f"{where}{skipped}: {verb} {self.max_rel:.1e} ({rule}); {fd}"


def numeric_check(prep: Prepared, sizes: dict, seed: int, progress=lambda phase: None) -> NumericOutcome:
    progress(f"the numeric check at ({show_sizes(sizes)})")
    rng = np.random.default_rng(seed)
    model = NumericModel(prep, sizes, seed)
    positive = needs_positive(prep.cost, prep.claim)
    out = NumericOutcome(sizes=sizes)
    attempts = cancelled = 0
    while out.draws < DRAWS and attempts < MAX_REDRAWS:
        attempts += 1
        env = draw_env(prep, sizes, rng, positive)
        true = model.value(prep.derived, env)
        claim = model.value(prep.claim, env)
        fd = model.finite_differences(env)
        if not (np.all(np.isfinite(true)) and np.all(np.isfinite(claim)) and np.all(np.isfinite(fd))):
            continue      # overflow, log of a negative, a singular matrix: draw again
        value_noise, fd_noise = model.rounding_noise(env, true)
        if value_noise > REL_TOL or fd_noise > FD_TOL:
            cancelled += 1
            continue      # cancellation: float64 cannot resolve the tolerance at this draw
        out.draws += 1
        out.envs.append(env)
        out.max_rel = max(out.max_rel, rel_diff(claim, true))
        out.fd_rel = max(out.fd_rel, rel_diff(fd, true))
    if out.draws == 0:
        out.status, out.note = "inconclusive", (f"numeric check not possible: {attempts} draws all gave "
                                                "non-finite or ill-conditioned values"
                                                + (f" ({cancelled} lost to cancellation: intermediate values far "
                                                   "larger than the result)" if cancelled else ""))
        return out
    out.fd_ok = out.fd_rel <= FD_TOL
    out.status = "agree" if out.max_rel <= REL_TOL else "differ"
    return out


def numeric_check_where_defined(prep: Prepared, candidates: list[dict], seed: int,
                                progress=lambda phase: None) -> NumericOutcome:
    """:func:`numeric_check` at the first of ``candidates`` where some draw
    is finite (a claim undefined at these sizes, such as a singular X.T @ X
    with fewer rows than columns, moves on to the next; cancellation does not)."""
    skipped = []
    for sizes in candidates:
        out = numeric_check(prep, sizes, seed, progress)
        if out.status != "inconclusive" or "cancellation" in out.note:
            break
        skipped.append(f"({show_sizes(sizes)})")
    if skipped and out.status != "inconclusive":
        out.note = f"no finite draw at {', '.join(skipped)}"
    return out
