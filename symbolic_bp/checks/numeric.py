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

The draws follow the domains of the registry and the declarations: a symbol
is drawn positive (uniform in [0.5, 1.5)) when it is declared ``positive`` or
reaches the argument of a function that needs a positive one (``log``,
``sqrt``, ``logdet``, :func:`positive_symbols`); a ``onehot`` or ``binary``
symbol gets exact 0/1 values, fresh at every draw
(:mod:`symbolic_bp.checks.sampling`); every other symbol is standard normal.
A draw within :data:`KINK_MARGIN` of a kink or a tie (relu, abs, sign at 0; a
comparison, ``maximum``, ``max`` along an axis at a tie;
:func:`~symbolic_bp.checks.kinks.kink_distance` of the cost and the claim) is
redrawn: there the derivative is a convention and finite differences
straddle the jump.  A draw at which a saturating
function (``sigmoid``, ``tanh``, ``softplus``) gets an argument beyond
:data:`SATURATION` is shrunk, the symbols feeding those arguments scaled
down, so that its derivatives are not ~1e-10 (which would hide a wrong factor
below the tolerance).  A draw whose claim-vs-truth margin is within
:data:`RECHECK_BAND` of the tolerance (either side), or below the tolerance
but :data:`NOISE_MARGIN` times above its estimated rounding noise, is evaluated again at
:data:`PRECISE_DIGITS` digits (:class:`PreciseBackend`, exact SymPy forms of
every function, an opaque sigma's family member evaluated by mpmath) and
decided there: equal to ~1e-30 agrees, different by more than 1e-20 differs;
a draw still undecided there is not counted, and a check left without
counted draws is *inconclusive*, never a disagreement.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import mpmath
import numpy as np
import sympy as sp

from .claim import Prepared
from ..calculus.evaluate import Evaluator, ExactBackend, NumericBackend
from ..core import elementwise
from ..core.expression import Apply, Node
from ..language.shapes import concrete
from .finite_differences import FD_STEP, central_differences, relative_difference as rel_diff
from .kinks import kink_distance
from .sampling import drawn_property, float_matrix, is_discrete, positive_symbols, symbols_in
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
# saturating functions: beyond |t| = SATURATION their derivatives fall off as e^-2|t| (tanh' (12) ~ 1e-10)
SATURATING = ("sigmoid", "tanh", "softplus")
SATURATION = 3.0
MAX_SHRINKS = 12
# a draw whose float64 margin is within RECHECK_BAND of REL_TOL (either side) is decided at PRECISE_DIGITS
RECHECK_BAND = 1e3
NOISE_MARGIN = 10           # ... and so is one whose difference is 10x above its estimated float64 rounding
PRECISE_DIGITS = 50
PRECISE_AGREE = 1e-30       # at 50 digits: equal (rounding is ~1e-48 of the intermediates)
PRECISE_DIFFER = 1e-20      # at 50 digits: a real difference, far above any rounding
# kinks and ties: a draw closer than this to one is redrawn.  A central difference moves an
# argument u of relu (a comparison ...) by about h |du/dx| with h = FD_STEP ~ 1e-6 at unit-scale
# draws; a margin of a thousand steps keeps both sides x ± h on the same smooth piece
KINK_MARGIN = 1e3 * FD_STEP


def draw_env(prep: Prepared, sizes: dict, rng: np.random.Generator, positive: bool | set) -> dict:
    """One random value per declared symbol, by its declared property
    (positive, 0/1 data ...: :func:`~symbolic_bp.checks.sampling.float_matrix`);
    ``positive``: True (all drawn positive), False (none) or the set of names
    drawn positive (those declared positive are drawn positive in any case)."""
    def wanted(name: str) -> bool:
        return name in positive if isinstance(positive, (set, frozenset)) else bool(positive)
    return {name: float_matrix(rng, concrete(sym.shape, sizes), drawn_property(sym), wanted(name))
            for name, sym in prep.decls.symbols.items()}


class _Magnitudes(Evaluator):
    """An evaluator that also records the largest |entry| of every intermediate value."""

    largest = 0.0

    def eval(self, node: Node):
        out = super().eval(node)
        if isinstance(out, np.ndarray) and out.size:
            self.largest = max(self.largest, float(np.max(np.abs(out))))
        return out


class _Saturation(Evaluator):
    """An evaluator that also records the largest |entry| of the argument of a
    saturating function, and whether every value was finite."""

    worst = 0.0
    finite = True

    def eval(self, node: Node):
        out = super().eval(node)
        if isinstance(out, np.ndarray) and not np.all(np.isfinite(out)):
            self.finite = False
        return out

    def eval_Apply(self, node):
        arg = self.eval(node.arg)
        if node.name in SATURATING and arg.size:
            self.worst = max(self.worst, float(np.max(np.abs(arg))))
        return self.b.apply(node.name, node.order, arg, self.seed)


class Unresolved(Exception):
    """The high-precision evaluation could not give a real number."""


def _opaque_precise(name: str, order: int, seed: int):
    """The opaque ``name``'s random family member (:func:`~symbolic_bp.core.elementwise.opaque_numeric`:
    the same coefficients, taken as exact binary numbers) and its derivatives, in mpmath."""
    digest = hashlib.sha256(f"{name}:{seed}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    c0, c1, c2, c3 = (mpmath.mpf(float(c)) for c in rng.uniform(-1, 1, 4))
    c4, c5 = mpmath.mpf(float(rng.uniform(0.5, 1.5))), mpmath.mpf(float(rng.uniform(0, 2 * np.pi)))

    def f(t):
        poly = [c0 + c1 * t + c2 * t * t, c1 + 2 * c2 * t, 2 * c2][order] if order < 3 else 0
        return poly + c3 * c4 ** order * mpmath.sin(c4 * t + c5 + order * mpmath.pi / 2)
    return f


class PreciseBackend(ExactBackend):
    """SymPy matrices of :data:`PRECISE_DIGITS`-digit floats: the exact
    backend's arithmetic, every elementwise function evaluated to that
    precision from its exact SymPy form (an opaque one from its numeric
    family member, in mpmath)."""

    def apply(self, name, order, m, seed):
        if elementwise.is_known(name):
            f = elementwise.exact(name, order)
            return m.applyfunc(lambda t: _number(f(t)))
        g = _opaque_precise(name, order, seed)

        def opaque(t):
            with mpmath.workdps(PRECISE_DIGITS + 10):
                return sp.Float(g(mpmath.mpf(_number(t)._mpf_)), PRECISE_DIGITS)
        return m.applyfunc(opaque)


def _number(e) -> sp.Float:
    """``e`` evaluated to a real float of :data:`PRECISE_DIGITS` digits, or :class:`Unresolved`."""
    v = e.evalf(PRECISE_DIGITS)
    if not v.is_Number:
        v = e.rewrite(sp.exp).evalf(PRECISE_DIGITS)
    if not (v.is_Number and v.is_finite and v.is_real):
        raise Unresolved(f"{e} is not a real number")
    return v


def _precise_matrix(a: np.ndarray) -> sp.Matrix:
    """A float64 array as exact binary numbers, carried at :data:`PRECISE_DIGITS` digits."""
    return sp.Matrix(a.shape[0], a.shape[1], lambda i, j: sp.Float(float(a[i, j]), PRECISE_DIGITS))


class NumericModel:
    """Numeric evaluation of a prepared claim at one size assignment."""

    def __init__(self, prep: Prepared, sizes: dict, seed: int):
        self.prep, self.sizes, self.seed = prep, sizes, seed
        self.evaluate = Evaluator(NumericBackend(), sizes, seed)
        self.shape = concrete(prep.wrt_shape, sizes)

    # -- where the draws fall ---------------------------------------------------------
    def saturation(self, env: dict) -> float:
        """The largest |entry| of an argument of sigmoid/tanh/softplus (any
        derivative) in the cost, the claim or the derived gradient at ``env``
        (0 if there is none; inf if a value there is not finite)."""
        tracker = _Saturation(NumericBackend(), self.sizes, self.seed)
        try:
            with np.errstate(all="ignore"):
                for tree in (self.prep.cost, self.prep.claim, self.prep.derived):
                    tracker(tree, env)
        except (ValueError, ZeroDivisionError, np.linalg.LinAlgError):
            return float("inf")
        return tracker.worst if tracker.finite else float("inf")

    @cached_property
    def feeding(self) -> set[str]:
        """The symbols in the argument of a saturating function (but 0/1 data,
        which scaling would take out of its declared values)."""
        return {name for tree in (self.prep.cost, self.prep.claim, self.prep.derived) for n in tree.walk()
                if isinstance(n, Apply) and n.name in SATURATING for name in symbols_in(n.arg)
                if name not in self.data}

    @cached_property
    def data(self) -> set[str]:
        """The symbols declared onehot or binary: constants at every draw."""
        return {name for name, sym in self.prep.decls.symbols.items() if is_discrete(sym.prop)}

    def kink_distance(self, env: dict) -> float:
        """The distance of ``env`` from the nearest kink or tie of the cost
        and the claim (:func:`~symbolic_bp.checks.kinks.kink_distance`; inf
        when both are smooth, NaN where it cannot be evaluated)."""
        try:
            return min(kink_distance(tree, env, self.sizes, self.data, self.seed)
                       for tree in (self.prep.cost, self.prep.claim))
        except (ValueError, ZeroDivisionError, ArithmeticError, np.linalg.LinAlgError):
            return float("nan")

    def desaturated(self, env: dict) -> dict:
        """``env`` with the symbols feeding a saturating argument scaled down
        until every such argument is within :data:`SATURATION` (the least
        saturated finite try when shrinking does not get there, as through an
        inverse or into a log of a negative number)."""
        if not self.feeding:
            return env
        worst = self.saturation(env)
        best = (worst, env)
        for _ in range(MAX_SHRINKS):
            if worst <= SATURATION:
                break
            factor = min(0.9, max(0.1, (SATURATION / worst) ** 0.5)) if worst < float("inf") else 0.5
            env = {k: v * factor if k in self.feeding else v for k, v in env.items()}
            worst = self.saturation(env)
            if worst < best[0]:
                best = (worst, env)
        return best[1]

    def draw(self, rng: np.random.Generator, positive: set[str]) -> dict:
        """A random point: :func:`draw_env` (positive where a domain needs it), desaturated."""
        return self.desaturated(draw_env(self.prep, self.sizes, rng, positive))

    # -- at high precision --------------------------------------------------------------
    def precise_difference(self, env: dict) -> float:
        """max|K - G| / max(1, max|G|) with claim and derived gradient evaluated at
        :data:`PRECISE_DIGITS` digits; :class:`Unresolved` when that is not possible."""
        evaluate = Evaluator(PreciseBackend(), self.sizes, self.seed)
        penv = {name: _precise_matrix(value) for name, value in env.items()}
        try:
            true, claim = evaluate(self.prep.derived, penv), evaluate(self.prep.claim, penv)
        except (ZeroDivisionError, ValueError, TypeError, ArithmeticError) as e:
            raise Unresolved(str(e)) from e
        if claim.shape != true.shape and claim.shape == (1, 1):
            claim = sp.Matrix(true.rows, true.cols, lambda i, j: claim[0, 0])
        if claim.shape != true.shape:
            raise Unresolved("the claim and the gradient have different shapes")
        entries = [(_number(k), _number(g)) for k, g in zip(claim, true)]
        diff = max((abs(k - g) for k, g in entries), default=sp.Float(0))
        scale = max([sp.Float(1)] + [abs(g) for _, g in entries])
        return float(diff / scale)

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
    finite: int = 0                  # draws with finite values (counted or not)
    precise: int = 0                 # counted draws decided at PRECISE_DIGITS digits
    kinked: int = 0                  # draws within KINK_MARGIN of a kink or a tie, drawn again
    differs: bool = False            # some counted draw differs (at float64, or at high precision)

    def detail(self) -> str:
        where = f"float64 random values at ({show_sizes(self.sizes)}), {self.draws} draws"
        rule = f"tolerance max|K-G| <= {REL_TOL:g} * max(1, max|G|)"
        fd = f"derived gradient vs central finite differences: {self.fd_rel:.1e} (tolerance {FD_TOL:g})"
        if self.status == "inconclusive":
            return f"{where}: {self.note}"
        verb = "max relative difference" if self.status == "agree" else "claim differs from the derived gradient: relative difference"
        skipped = f" ({self.note}, so undefined there)" if self.note else ""
        precise = (f"; {self.precise} draw{'s' * (self.precise > 1)} too close to call in float64 "
                   f"decided at {PRECISE_DIGITS} digits" if self.precise else "")
        kinked = (f"; {self.kinked} draw{'s' * (self.kinked > 1)} within {KINK_MARGIN:g} of a kink or a tie "
                  f"drawn again" if self.kinked else "")
        return f"{where}{skipped}: {verb} {self.max_rel:.1e} ({rule}{precise}{kinked}); {fd}"


def numeric_check(prep: Prepared, sizes: dict, seed: int, progress=lambda phase: None) -> NumericOutcome:
    progress(f"the numeric check at ({show_sizes(sizes)})")
    rng = np.random.default_rng(seed)
    model = NumericModel(prep, sizes, seed)
    positive = positive_symbols(prep.cost, prep.claim)
    out = NumericOutcome(sizes=sizes)
    attempts = cancelled = unresolved = 0
    while out.draws < DRAWS and attempts < MAX_REDRAWS:
        attempts += 1
        env = model.draw(rng, positive)
        if model.kink_distance(env) < KINK_MARGIN:
            out.kinked += 1
            continue      # too close to a kink or a tie: finite differences would straddle it
        true = model.value(prep.derived, env)
        claim = model.value(prep.claim, env)
        fd = model.finite_differences(env)
        if not (np.all(np.isfinite(true)) and np.all(np.isfinite(claim)) and np.all(np.isfinite(fd))):
            continue      # overflow, log of a negative, a singular matrix: draw again
        out.finite += 1
        value_noise, fd_noise = model.rounding_noise(env, true)
        if value_noise > REL_TOL or fd_noise > FD_TOL:
            cancelled += 1
            continue      # cancellation: float64 cannot resolve the tolerance at this draw
        rel = rel_diff(claim, true)
        differs = rel > REL_TOL
        if min(REL_TOL / RECHECK_BAND, NOISE_MARGIN * value_noise) < rel < REL_TOL * RECHECK_BAND:
            # too close to the tolerance for float64 to say (or a difference below the tolerance
            # but far above float64 rounding): decide at high precision
            progress(f"the numeric check at ({show_sizes(sizes)}), {PRECISE_DIGITS} digits")
            try:
                rel = model.precise_difference(env)
            except Unresolved:
                rel = None
            if rel is None or PRECISE_AGREE < rel < PRECISE_DIFFER:
                unresolved += 1
                continue  # not even 50 digits settle it: not counted
            differs = rel >= PRECISE_DIFFER
            out.precise += 1
        out.draws += 1
        out.envs.append(env)
        out.differs = out.differs or differs
        out.max_rel = max(out.max_rel, rel)
        out.fd_rel = max(out.fd_rel, rel_diff(fd, true))
    if out.draws == 0:
        reasons = [f"{cancelled} lost to cancellation: intermediate values far larger than the result"] * bool(cancelled)
        reasons += [f"{unresolved} too close to call in float64 and not settled at "
                    f"{PRECISE_DIGITS} digits"] * bool(unresolved)
        reasons += [f"{out.kinked} within {KINK_MARGIN:g} of a kink or a tie"] * bool(out.kinked)
        other = attempts - out.finite - out.kinked
        reasons += [f"{other} non-finite or ill-conditioned"] * bool((out.finite or out.kinked) and other)
        what = f"{attempts} draws: {'; '.join(reasons)}" if out.finite or out.kinked else \
            f"{attempts} draws all gave non-finite or ill-conditioned values"
        out.status, out.note = "inconclusive", f"numeric check not possible: {what}"
        return out
    out.fd_ok = out.fd_rel <= FD_TOL
    out.status = "differ" if out.differs else "agree"
    return out


def numeric_check_where_defined(prep: Prepared, candidates: list[dict], seed: int,
                                progress=lambda phase: None) -> NumericOutcome:
    """:func:`numeric_check` at the first of ``candidates`` where some draw
    is finite (a claim undefined at these sizes, such as a singular X.T @ X
    with fewer rows than columns, moves on to the next; a finite draw that
    cancellation or the tolerance left undecided does not)."""
    skipped = []
    for sizes in candidates:
        out = numeric_check(prep, sizes, seed, progress)
        if out.status != "inconclusive" or out.finite or out.kinked:
            break     # decided, or defined there but not resolvable (cancellation, kinks): not undefined
        skipped.append(f"({show_sizes(sizes)})")
    if skipped and out.status != "inconclusive":
        out.note = f"no finite draw at {', '.join(skipped)}"
    return out
