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
whose float64 rounding noise could reach the tolerance: a sum whose terms are
far larger than the result (``2*x + 1e10 - 1e10``) or a cost whose rounding
drowns its finite differences (:meth:`NumericModel.rounding_noise`, a running
error bound, :mod:`symbolic_bp.checks.rounding`: a quotient of large values, as
in a softmax of large logits, is not cancellation).

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
below the tolerance) -- as far as shrinking helps: not toward 0 where a
constant keeps the argument large (:meth:`NumericModel.desaturated`).  A draw
whose claim-vs-truth margin is within
:data:`RECHECK_BAND` of the tolerance (either side), or below the tolerance
but :data:`NOISE_MARGIN` times above its estimated rounding noise, is evaluated again at
:data:`PRECISE_DIGITS` digits (:class:`PreciseBackend`, exact SymPy forms of
every function, an opaque sigma's family member evaluated by mpmath) and
decided there: equal to ~1e-30 agrees, different by more than 1e-20 differs;
a draw still undecided there is not counted, and a check left without
counted draws is *inconclusive*, never a disagreement.  Where claim and truth
are all below 1 in size, the floor 1 of the tolerance would hide any
relative difference between them (a wrong factor on ``sigmoid'(x + 30)``,
~1e-13): a draw where they differ by more than the tolerance relative to
their own size is also evaluated at :data:`PRECISE_DIGITS` digits, and
differs when max|K - G| exceeds 1e-20 of max(max|K|, max|G|,
:data:`PRECISE_FLOOR` times the largest intermediate value); otherwise
float64's agreement stands.

A cost or a claim with kinks or ties is piecewise smooth, and a claim can be
wrong on a piece that the few draws miss (``-2 s > s`` written for
``-2 s > s + t``).  After the draws, such a claim is also compared with the
derived gradient (without finite differences) at one point of each piece
crossed by :data:`SCREEN_LINES` paths between fresh draws, at most
:data:`SCREEN_POINTS` of them (:mod:`symbolic_bp.checks.regions`).

The check runs at each group of a plan of size assignments
(:func:`numeric_check_plan`, :func:`~symbolic_bp.checks.sizes.numeric_plan`).
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
from .kinks import kink_distance, kink_names
from .regions import moves, path, pieces, sides
from .rounding import rounding_bound
from .sampling import drawn_property, float_matrix, is_discrete, positive_symbols, symbols_in
from .sizes import show_sizes

REL_TOL = 1e-8
FD_TOL = 1e-5
DRAWS = 3
MAX_REDRAWS = 12
# float64 rounding noise of a value: its first-order running error bound
# (symbolic_bp.checks.rounding, a worst case) times this margin for the terms of second
# order; a draw whose noise could reach the tolerance (cancellation: 2*x + 1e10 - 1e10)
# is not trusted.  Finite differences (tolerance FD_TOL, 1000x looser) take the bound as it is
ROUNDING_SAFETY = 2
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
# values all below 1, where the floor 1 of the tolerance would hide any relative difference, are
# compared at 50 digits relative to their own size, with a floor of this fraction of the largest
# intermediate value (50-digit rounding, ~1e-48 of it, stays far below PRECISE_AGREE of the floor)
PRECISE_FLOOR = 1e-15
# a cost or a claim with kinks or ties: after the draws, one point per piece crossed by
# SCREEN_LINES paths (symbolic_bp.checks.regions), at most SCREEN_POINTS of them compared
# and SCREEN_SIDES evaluations of the sides spent on finding them along each path
SCREEN_LINES = 3
SCREEN_POINTS = 8
SCREEN_SIDES = 20
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
            # the cost's variable moves entry by entry, as finite differences move it
            return min(kink_distance(self.prep.cost, env, self.sizes, self.data, self.seed, free={self.prep.wrt}),
                       kink_distance(self.prep.claim, env, self.sizes, self.data, self.seed))
        except (ValueError, ZeroDivisionError, ArithmeticError, np.linalg.LinAlgError):
            return float("nan")

    def desaturated(self, env: dict) -> dict:
        """``env`` with the symbols feeding a saturating argument scaled down
        until every such argument is within :data:`SATURATION`.

        A shrink by a factor f is kept only while it brings the worst argument
        down by at least sqrt(f), that is while the arguments are mostly made
        of the scaled symbols (they fall as f or f² then).  Where they are
        not -- a constant part, ``sigmoid((k + v)**2)`` at k = 5; an inverse,
        whose argument grows as its matrix shrinks -- shrinking further would
        gain nothing but pull the draw toward 0, where a wrong claim can meet
        the truth (``2 * k`` for ``2 * (k + v)`` at v = 0): the draw stays as
        far as it went.  A draw whose values are not finite (a log of a
        negative number) is shrunk until they are."""
        if not self.feeding:
            return env
        worst = self.saturation(env)
        for _ in range(MAX_SHRINKS):
            if worst <= SATURATION:
                break
            factor = min(0.9, max(0.1, (SATURATION / worst) ** 0.5)) if worst < float("inf") else 0.5
            trial = {k: v * factor if k in self.feeding else v for k, v in env.items()}
            tried = self.saturation(trial)
            if worst < float("inf") and not tried <= worst * factor ** 0.5:
                break     # the arguments do not shrink with the symbols
            env, worst = trial, tried
        return env

    @cached_property
    def piecewise(self) -> bool:
        """The cost or the claim has a kink or a tie (:func:`~symbolic_bp.checks.kinks.kink_names`)."""
        functions, operations = kink_names(self.prep.cost, self.prep.claim)
        return bool(functions or operations)

    def draw(self, rng: np.random.Generator, positive: set[str]) -> dict:
        """A random point: :func:`draw_env` (positive where a domain needs it), desaturated."""
        return self.desaturated(draw_env(self.prep, self.sizes, rng, positive))

    # -- at high precision --------------------------------------------------------------
    def precise_difference(self, env: dict, relative: bool = False) -> float:
        """max|K - G| / max(1, max|G|) with claim and derived gradient evaluated at
        :data:`PRECISE_DIGITS` digits; :class:`Unresolved` when that is not possible.
        ``relative``: divided by max(max|K|, max|G|, :data:`PRECISE_FLOOR` times the
        largest intermediate value) instead, for values all below 1."""
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
        if not relative:
            return float(diff / max([sp.Float(1)] + [abs(g) for _, g in entries]))
        floor = PRECISE_FLOOR * max(self.magnitude(self.prep.claim, env), self.magnitude(self.prep.derived, env))
        scale = max([sp.Float(floor)] + [abs(v) for pair in entries for v in pair])
        return float(diff / scale) if diff else 0.0

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
        return self.value_noise(env, true), self.fd_noise(env, true)

    def rounding(self, node: Node, env: dict) -> float:
        """The largest first-order bound on the float64 rounding error of an
        entry of ``node`` at ``env`` (:mod:`symbolic_bp.checks.rounding`:
        propagated operation by operation, so a sum that cancels keeps the
        rounding of its large terms while a quotient of large values, as in a
        softmax, does not); inf where it cannot be had."""
        try:
            _, bound = rounding_bound(node, env, self.sizes, self.seed)
        except (ValueError, ZeroDivisionError, ArithmeticError, np.linalg.LinAlgError):
            return float("inf")
        largest = float(np.max(bound, initial=0.0))
        return float("inf") if np.isnan(largest) else largest

    def value_noise(self, env: dict, true: np.ndarray) -> float:
        """The rounding noise of the claim and derived values (:meth:`rounding_noise`)."""
        scale = max(1.0, float(np.max(np.abs(true), initial=0.0)))
        return ROUNDING_SAFETY * max(self.rounding(self.prep.claim, env), self.rounding(self.prep.derived, env)) / scale

    def fd_noise(self, env: dict, true: np.ndarray) -> float:
        """The rounding noise of the central differences of the cost (:meth:`rounding_noise`):
        (C(x+h) - C(x-h)) / 2h is off by up to twice the cost's rounding bound over 2h."""
        scale = max(1.0, float(np.max(np.abs(true), initial=0.0)))
        h = FD_STEP * max(1.0, float(np.max(np.abs(env[self.prep.wrt]), initial=0.0)))
        return self.rounding(self.prep.cost, env) / h / scale

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
    precise: int = 0                 # counted points too close to call in float64, decided at PRECISE_DIGITS digits
    tiny: int = 0                    # counted points with values all below 1, found differing relative to their size
    kinked: int = 0                  # draws within KINK_MARGIN of a kink or a tie, drawn again
    differs: bool = False            # some counted point differs (at float64, or at high precision)
    differing: list = field(default_factory=list)  # the points where the claim differs (a few)
    lines: int = 0                   # paths walked through the pieces of a piecewise cost or claim
    screened: int = 0                # pieces compared along them (without finite differences)
    others: list = field(default_factory=list)     # the outcomes at the other assignments of the plan

    def record(self, env: dict, rel: float, differs: bool) -> None:
        """A counted point: its relative difference, and the point itself if the claim differs there."""
        self.max_rel = max(self.max_rel, rel)
        if differs:
            self.differs = True
            if len(self.differing) < DRAWS:
                self.differing.append(env)

    def detail(self) -> str:
        return self._own_detail() + "".join(f"; and {other._own_detail()}" for other in self.others)

    def _own_detail(self) -> str:
        where = f"float64 random values at ({show_sizes(self.sizes)}), {self.draws} draws"
        rule = f"tolerance max|K-G| <= {REL_TOL:g} * max(1, max|G|)"
        fd = f"derived gradient vs central finite differences: {self.fd_rel:.1e} (tolerance {FD_TOL:g})"
        if self.status == "inconclusive":
            return f"{where}: {self.note}"
        verb = "max relative difference" if self.status == "agree" else "claim differs from the derived gradient: relative difference"
        skipped = f" ({self.note}, so undefined there)" if self.note else ""
        screen = (f", and {self.screened} point{'s' * (self.screened != 1)} on both sides of the kinks and "
                  f"ties, one per piece crossed by {self.lines} path{'s' * (self.lines != 1)} between draws "
                  f"(claim vs derived gradient only)" if self.lines else "")
        precise = (f"; {self.precise} point{'s' * (self.precise > 1)} too close to call in float64 "
                   f"decided at {PRECISE_DIGITS} digits" if self.precise else "")
        tiny = (f"; {self.tiny} point{'s' * (self.tiny > 1)} with values all below 1 differing relative to "
                f"their own size at {PRECISE_DIGITS} digits" if self.tiny else "")
        kinked = (f"; {self.kinked} draw{'s' * (self.kinked > 1)} within {KINK_MARGIN:g} of a kink or a tie "
                  f"drawn again" if self.kinked else "")
        return f"{where}{screen}{skipped}: {verb} {self.max_rel:.1e} ({rule}{precise}{tiny}{kinked}); {fd}"


def _tiny_apart(claim: np.ndarray, true: np.ndarray) -> bool:
    """Claim and truth all below 1 in size (where the floor 1 of the tolerance
    rules) and apart by more than the tolerance relative to their own size."""
    size = max(float(np.max(np.abs(claim), initial=0.0)), float(np.max(np.abs(true), initial=0.0)))
    return size < 1.0 and float(np.max(np.abs(claim - true), initial=0.0)) > REL_TOL * size


def _judge(model: NumericModel, env: dict, true: np.ndarray, claim: np.ndarray, with_fd: bool,
           progress) -> tuple[str, float, bool]:
    """(how the point was decided -- ``cancelled`` or ``unresolved`` (not
    counted), ``float``, ``precise`` or ``tiny`` --, the relative difference,
    whether the claim differs) at a point with finite values; ``with_fd``:
    the point's finite differences are used too, so their noise counts."""
    value_noise = model.value_noise(env, true)
    if value_noise > REL_TOL or (with_fd and model.fd_noise(env, true) > FD_TOL):
        return "cancelled", 0.0, False     # cancellation: float64 cannot resolve the tolerance here
    rel = rel_diff(claim, true)
    at = f"the numeric check at ({show_sizes(model.sizes)}), {PRECISE_DIGITS} digits"
    if rel <= REL_TOL / RECHECK_BAND and _tiny_apart(claim, true):
        # values all below 1 (sigmoid' of a large argument), so that the floor 1 hides their
        # relative difference far below the tolerance: at 50 digits, relative to their own size
        # (nearer the tolerance, the band below decides).  Only a difference is taken from
        # here; an evaluation that cannot settle it leaves the rules below
        progress(at)
        try:
            tiny = model.precise_difference(env, relative=True)
        except Unresolved:
            tiny = 0.0
        if tiny >= PRECISE_DIFFER:
            return "tiny", tiny, True
    if min(REL_TOL / RECHECK_BAND, NOISE_MARGIN * value_noise) < rel < REL_TOL * RECHECK_BAND:
        # too close to the tolerance for float64 to say (or a difference below the tolerance
        # but far above float64 rounding): decide at high precision
        progress(at)
        try:
            rel = model.precise_difference(env)
        except Unresolved:
            return "unresolved", 0.0, False
        if PRECISE_AGREE < rel < PRECISE_DIFFER:
            return "unresolved", 0.0, False     # not even 50 digits settle it: not counted
        return "precise", rel, rel >= PRECISE_DIFFER
    return "float", rel, rel > REL_TOL


def _finite_values(model: NumericModel, env: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """(derived gradient, claim) at ``env``; None where one is not finite or not defined."""
    try:
        true, claim = model.value(model.prep.derived, env), model.value(model.prep.claim, env)
    except ZeroDivisionError:
        return None
    return (true, claim) if np.all(np.isfinite(true)) and np.all(np.isfinite(claim)) else None


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
        try:
            true = model.value(prep.derived, env)
            claim = model.value(prep.claim, env)
            fd = model.finite_differences(env)
        except ZeroDivisionError:
            continue      # a scalar divisor 0 at this draw (binary data drawn 0): draw again, as below
        if not (np.all(np.isfinite(true)) and np.all(np.isfinite(claim)) and np.all(np.isfinite(fd))):
            continue      # overflow, log of a negative, a singular matrix: draw again
        out.finite += 1
        how, rel, differs = _judge(model, env, true, claim, True, progress)
        if how in ("cancelled", "unresolved"):
            cancelled += how == "cancelled"
            unresolved += how == "unresolved"
            continue
        out.precise += how == "precise"
        out.tiny += how == "tiny"
        out.draws += 1
        out.envs.append(env)
        out.record(env, rel, differs)
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
    if not out.differs and model.piecewise:
        _screen_pieces(model, rng, positive, out, progress)
    out.fd_ok = out.fd_rel <= FD_TOL
    out.status = "differ" if out.differs else "agree"
    return out


def _screen_pieces(model: NumericModel, rng: np.random.Generator, positive: set[str], out: NumericOutcome,
                   progress) -> None:
    """A piecewise cost or claim: the claim compared with the derived gradient
    at one point of each piece crossed by up to :data:`SCREEN_LINES` paths
    between fresh draws (:mod:`symbolic_bp.checks.regions`), each piece once,
    until one differs (added to ``out.envs`` for the diagnosis) or
    :data:`SCREEN_POINTS` were compared.  The random draws hit a piece with
    the probability of its size; a path crosses every piece on its way, so a
    claim wrong only where, say, t rather than s decides a comparison is seen."""
    progress(f"the numeric check at ({show_sizes(model.sizes)}), the pieces between the kinks")
    how = moves(model.prep.decls, positive)
    trees = (model.prep.cost, model.prep.claim)
    seen: set[bytes] = set()
    while out.lines < SCREEN_LINES and out.screened < SCREEN_POINTS:
        at = path(model.draw(rng, positive), model.draw(rng, positive), how)
        found, _ = pieces(at, lambda env: sides(trees, env, model.sizes, model.seed), SCREEN_SIDES)
        out.lines += 1
        for key, env in found:
            if key in seen or out.screened >= SCREEN_POINTS:
                continue
            if model.kink_distance(env) < KINK_MARGIN:
                continue      # a piece narrower than the margin here: another path may cross it wider
            values = _finite_values(model, env)
            if values is None:
                continue
            how_decided, rel, differs = _judge(model, env, *values, False, progress)
            if how_decided in ("cancelled", "unresolved"):
                continue
            seen.add(key)
            out.screened += 1
            out.precise += how_decided == "precise"
            out.tiny += how_decided == "tiny"
            out.record(env, rel, differs)
            if differs:
                out.envs.append(env)
                return


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


def numeric_check_plan(prep: Prepared, groups: list[list[dict]], seed: int,
                       progress=lambda phase: None, fallback: list[dict] = ()) -> NumericOutcome:
    """:func:`numeric_check_where_defined` at each group of candidate
    assignments (:func:`~symbolic_bp.checks.sizes.numeric_plan`), as one
    outcome: one that finds the derived gradient off its finite differences,
    else one that finds the claim differing (a difference at any assignment
    is a difference), else the first group's, or where that one is
    inconclusive (undefined, or lost to cancellation, at its sizes) the first
    later group that decided -- an agreement at the sizes it ran, as the
    exact check's at the assignments where it could decide.  Where every
    group is inconclusive, the assignments of ``fallback`` not tried yet
    (those where the exact check found the claim defined) are tried too, as
    one more group.  The others are kept in ``others``, and said in the
    detail."""
    outcomes: list[NumericOutcome] = []
    for candidates in groups:
        out = numeric_check_where_defined(prep, candidates, seed, progress)
        outcomes.append(out)
        if out.status == "differ" or (out.status != "inconclusive" and not out.fd_ok):
            break
    tried = [sizes for candidates in groups for sizes in candidates]
    rest = [sizes for sizes in fallback if sizes not in tried]
    if rest and all(o.status == "inconclusive" for o in outcomes):
        outcomes.append(numeric_check_where_defined(prep, rest, seed, progress))
    decided = [o for o in outcomes if o.status != "inconclusive"]
    main = next((o for o in decided if not o.fd_ok), None) or \
        next((o for o in decided if o.status == "differ"), None) or (decided + outcomes)[0]
    main.others = [o for o in outcomes if o is not main]
    return main


def judge_at(model: NumericModel, env: dict, progress=lambda phase: None) -> tuple[str, float, bool] | None:
    """The claim against the derived gradient at one given point ``env`` (no
    finite differences), decided as at a random draw -- at
    :data:`PRECISE_DIGITS` digits where float64 is too close to call, and
    also where float64 cancels (a point given, not drawn, is not skipped):
    (how it was decided, the relative difference, whether the claim differs);
    None where a value is undefined or not finite there."""
    values = _finite_values(model, env)
    if values is None:
        return None
    judged = _judge(model, env, *values, False, progress)
    if judged[0] != "cancelled":
        return judged
    progress(f"the numeric check at ({show_sizes(model.sizes)}), {PRECISE_DIGITS} digits")
    try:
        rel = model.precise_difference(env)
    except Unresolved:
        return judged
    if PRECISE_AGREE < rel < PRECISE_DIFFER:
        return "unresolved", 0.0, False
    return "precise", rel, rel >= PRECISE_DIFFER
