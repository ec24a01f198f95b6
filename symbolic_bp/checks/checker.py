"""The verdict on a gradient claim, from two independent checks.

1. exact -- exact rational dual numbers (interval enclosures for
   transcendental functions) at random points, at two size assignments with
   all dimensions distinct and >= 2: the entrywise derivative of the cost by
   forward mode, independent of the derivation (:mod:`symbolic_bp.checks.exact`);
2. numeric -- float64 random draws at a third size assignment against the
   project's own reverse-mode derivation, itself checked against central
   finite differences (:mod:`symbolic_bp.checks.numeric`).

With two dimensions or more both also run at one assignment where the
dimensions share a factor, all equal where the claim is defined there
(:func:`~symbolic_bp.checks.sizes.exact_plan`,
:func:`~symbolic_bp.checks.sizes.numeric_plan`).  Where the numeric check
finds the claim differing at a point but the exact check's random points
all agreed (a piecewise claim wrong on a piece they missed), the exact
arithmetic is asked at the numeric check's point itself.  Conversely, where
the exact check finds it differing but every float64 draw agreed (the draws
all fell where claim and gradient are both 0: a configuration of the 0/1
data, a piece), the claim is compared with the derived gradient at the exact
check's point, a float64 point (at 50 digits where float64 cancels); and a
claim about an opaque sigma, given random jets by the exact check but one
random smooth function by the numeric check, is checked numerically with a
few other functions (it must hold for every sigma).

Both must say "agree" for *verified* and "differ" for *refuted*; if they
disagree, or the derived gradient disagrees with entrywise differentiation or
with finite differences, the verdict is *undecided* and the error says loudly
that this is a bug in symbolic_bp.  A refuted claim gets the smallest
counterexample found and a diagnosis.  Both checks draw their points away
from kinks and ties (:mod:`symbolic_bp.checks.kinks`), so a verified claim
whose cost or claim has one (relu, abs, a comparison, max) holds almost
everywhere, and its evidence says so (a ``scope`` line).

>>> r = check(Claim(shapes="A:m,n x:n y:m", cost="y.T @ A @ x", wrt="A", claim="x @ y.T"))
>>> r.verdict, r.derived, r.diagnosis
('refuted', 'y @ x.T', 'the claim is the true gradient transposed')
>>> r.counterexample.sizes
{'m': 1, 'n': 2}
"""
from __future__ import annotations

import time
from fractions import Fraction

from .budget import DEFAULT_MEMORY_MB, DEFAULT_SECONDS, run_with_budget
from .claim import Claim, Prepared, prepare
from .counterexample import find_counterexample
from .diagnosis import explain, use_decide
from ..errors import InputError
from ..core.expression import Apply
from .exact import check_at, exact_check
from .kinks import almost_everywhere
import numpy as np

from .numeric import PRECISE_DIGITS, REL_TOL, NumericModel, draw_env, judge_at, numeric_check_plan
from .result import Evidence, Result
from ..language.shapes import show
from .sizes import exact_plan, numeric_plan, numeric_sizes, show_sizes

BUG = "this is a bug in symbolic_bp, please report it"


def decide(prep: Prepared, seed: int = 0, progress=lambda phase, **extra: None) -> Result:
    """Run both checks on a prepared claim (no time budget: see :func:`check`)."""
    progress("deriving the gradient")
    derived = prep.derived_text
    progress("the exact check", derived=derived)
    claim_text = prep.source.claim
    evidence = [Evidence("derivation", "derived",
                         f"reverse-mode accumulation on the matrix expression, one local rule per operation: "
                         f"dC/d{prep.wrt} = {derived}")]
    dims = prep.decls.dims
    if not prep.shapes_agree:
        return _shape_refutation(prep, derived, evidence, seed, progress)

    candidates, wanted = exact_plan(dims)
    exact = exact_check(prep, candidates, seed, progress, wanted=wanted)
    # (where the numeric check's own sizes are all undefined: the sizes where the exact check decided)
    numeric = numeric_check_plan(prep, numeric_plan(dims), seed, progress, fallback=exact.sizes)
    asked = _exact_at_numeric_points(prep, exact, numeric, seed, progress)
    drawn = numeric.detail()        # what the random draws found, before the point below may decide
    at_exact, witness = _numeric_at_exact_point(prep, exact, numeric, seed, progress)
    numeric, functions, numeric_seed = _other_functions(prep, exact, numeric, seed, progress)
    numeric_detail = at_exact + drawn if at_exact.endswith(": ") else drawn + at_exact + functions
    evidence.append(Evidence("exact", exact.status, exact.detail(derived) + asked))
    evidence.append(Evidence("numeric", numeric.status, numeric_detail))
    result = Result("undecided", claim_text, derived, evidence)

    if exact.derived_bad is not None:
        d = exact.derived_bad
        result.error = (f"the derived gradient disagrees with entrywise differentiation at "
                        f"entry ({d.entry[0] + 1},{d.entry[1] + 1}): {d.claimed} vs {d.true}: {BUG}")
    elif numeric.status != "inconclusive" and not numeric.fd_ok:
        result.error = (f"the derived gradient disagrees with finite differences "
                        f"(relative difference {numeric.fd_rel:.1e}): {BUG}")
    elif exact.status == numeric.status == "agree":
        result.verdict = "verified"
        scope = almost_everywhere(prep.cost, prep.claim)
        if scope:
            evidence.append(Evidence("scope", "note", scope))
    elif exact.status == numeric.status == "differ":
        result.verdict = "refuted"
    elif "inconclusive" in (exact.status, numeric.status):
        result.error = ("only one check could decide (exact: "
                        f"{exact.status}, numeric: {numeric.status}); a verdict needs both")
    elif exact.status == "differ" and _below_float64(exact.difference):
        d = exact.difference
        result.error = (f"the exact check finds entry ({d.entry[0] + 1},{d.entry[1] + 1}) off by a relative "
                        f"{_relative_gap(d):.1e}, below what float64 resolves, so the numeric check cannot "
                        "see it; a verdict needs both checks")
    elif exact.status == "differ" and functions:
        result.error = (f"the exact check finds the claim differing for some values of {_opaque_list(prep)} "
                        f"(independent random jets at each point), but at the {1 + OTHER_FUNCTIONS} random smooth "
                        "functions the numeric check tried the claim agrees: the claim may be wrong only where "
                        "those take values none of these functions takes; a verdict needs both checks")
    else:
        result.error = (f"the exact check says {exact.status!r} but the numeric check says "
                        f"{numeric.status!r}: {BUG}")

    if result.verdict == "refuted":
        # both checks have decided: should the budget run out from here on, the refutation stands
        progress("the counterexample search", decided=result.to_dict())
        result.counterexample = find_counterexample(prep, seed)
        progress("the diagnosis", decided=result.to_dict())
        # the diagnosis looks where the claim differs: at the exact check's point when only it showed that
        sizes, envs = witness if witness else (numeric.sizes, numeric.envs)
        found = explain(prep, NumericModel(prep, sizes, numeric_seed), envs, seed, progress)
        result.diagnosis, result.suggestion = found.sentence, found.suggestion
    return result


def _exact_at_numeric_points(prep: Prepared, exact, numeric, seed: int, progress) -> str:
    """Where the numeric check found the claim differing but every random
    point of the exact check agreed -- a claim wrong on a piece of a piecewise
    cost that the exact check's few points missed, or at a size it does not
    use -- the exact arithmetic is asked at the numeric check's own points
    (float64 values are exact binary rationals), at its sizes: a difference
    it finds there is certain, and recorded in ``exact``.  What was done, for
    the exact evidence ("" where nothing was)."""
    if exact.status != "agree" or numeric.status != "differ" or not numeric.differing:
        return ""
    progress("the exact check at the numeric check's points")
    own = exact.points
    for index, env in enumerate(numeric.differing):
        values = {name: [[Fraction(float(v)) for v in row] for row in np.asarray(m)] for name, m in env.items()}
        if check_at(prep, exact, numeric.sizes, values, f"{seed}:numeric:{index}"):
            return (f" -- the float64 point at which the numeric check found the claim differing, taken "
                    f"exactly; the {own} random rational points of the exact check itself all agreed")
    compared = exact.points - own
    if not compared:
        return "; the float64 points at which the numeric check found the claim differing are undefined here"
    return (f"; and at the {compared} float64 point{'s' * (compared > 1)} at which the numeric check found the "
            f"claim differing, taken exactly, all equal too")


def _numeric_at_exact_point(prep: Prepared, exact, numeric, seed: int, progress) -> tuple[str, tuple | None]:
    """The converse of :func:`_exact_at_numeric_points`: where the exact check
    found the claim differing but every float64 draw agreed -- a piece, or a
    configuration of the 0/1 data, that the few draws missed (a claim that is
    0 where a binary X_ij is 0, like its gradient) -- the claim is compared with
    the derived gradient in float64 at the exact check's own point (its values
    k/2^20 are float64 numbers exactly), at its sizes, decided as at a draw
    (at high precision where float64 is too close to call).  A difference
    there is a difference, recorded in ``numeric``.  (What was done, for the
    numeric evidence: "" where nothing was, ending ": " where the claim
    differs there; (sizes, [point]) where it does, else None.)"""
    if exact.status != "differ" or numeric.status != "agree" or not exact.witness or exact.difference is None \
            or _opaque_used(prep):
        return "", None       # (an opaque sigma has other values in each check: see _other_functions)
    values = {name: [[Fraction(v) for v in row] for row in rows] for name, rows in exact.witness.items()}
    env = {name: np.array([[float(v) for v in row] for row in rows], dtype=float) for name, rows in values.items()}
    if any(Fraction(float(v)) != v for rows in values.values() for row in rows for v in row):
        return "", None   # not a float64 point: nothing to compare there
    sizes = exact.difference.sizes
    progress("the numeric check at the exact check's point")
    try:
        judged = judge_at(NumericModel(prep, sizes, seed), env, progress)
    except (ArithmeticError, ValueError, np.linalg.LinAlgError):
        judged = None
    where = (f"the point at which the exact check found the claim differing, at ({show_sizes(sizes)}), its values "
             "float64 numbers exactly")
    if judged is None:
        return f"; at {where}: undefined or not finite", None
    how, rel, differs = judged
    if how in ("cancelled", "unresolved"):
        return f"; at {where}: too close to call", None
    arithmetic = f"at {PRECISE_DIGITS} digits" if how == "precise" else "in float64"
    if not differs:
        return f"; at {where}: relative difference {rel:.1e} ({arithmetic}), within the tolerance too", None
    numeric.differs, numeric.status = True, "differ"
    return (f"at {where}: the claim differs from the derived gradient by a relative {rel:.1e} ({arithmetic}), "
            f"where the random draws all agreed: "), (sizes, [env])


OTHER_FUNCTIONS = 4     # further random smooth functions the numeric check tries for the opaque ones


def _opaque_used(prep: Prepared) -> list[str]:
    """The declared opaque functions (``sigma:function``) that the cost or the claim applies."""
    used = {n.name for tree in (prep.cost, prep.claim) for n in tree.walk() if isinstance(n, Apply)}
    return sorted(set(prep.decls.functions) & used)


def _opaque_list(prep: Prepared) -> str:
    return "/".join(_opaque_used(prep))


def _other_functions(prep: Prepared, exact, numeric, seed: int, progress):
    """A claim about an opaque sigma must hold for every sigma.  The exact
    check gives sigma independent random jets at each point -- every sign,
    every size --, the numeric check one random smooth function (fixed by its
    seed), whose values over the drawn arguments may all lie on one side of a
    comparison or a kink that the claim gets wrong only on the other side
    (``-(v != 1) > sqrt(v2) * sigma(s)``, 0 wherever sigma(s) > 0).  So where
    the exact check finds the claim differing and the numeric check agrees,
    the numeric check is run again with :data:`OTHER_FUNCTIONS` other random
    functions (other seeds, other draws): a difference found with one of them
    is a difference.  (the numeric outcome to use, what was done for its
    evidence: "" where nothing was, the outcome's seed)."""
    if exact.status != "differ" or numeric.status != "agree" or not _opaque_used(prep):
        return numeric, "", seed
    progress("the numeric check with other random functions")
    names = _opaque_list(prep)
    for index in range(1, OTHER_FUNCTIONS + 1):
        other = numeric_check_plan(prep, numeric_plan(prep.decls.dims), seed + index, progress)
        if other.status == "differ" or (other.status != "inconclusive" and not other.fd_ok):
            return other, (f"; and with random smooth function number {index + 1} for {names} (a claim must "
                           f"hold for every {names}; with the first {index} the claim agreed, their values not "
                           f"reaching where it differs): {other.detail()}"), seed + index
    return numeric, (f"; and with {OTHER_FUNCTIONS} other random smooth functions for {names}, the claim "
                     "agrees too"), seed


def _relative_gap(d) -> float | None:
    """|claimed - true| / max(1, |true|) of an exact difference: rationals, or
    enclosures shown by their midpoints (``~6.2e-8``); None for symbolic values."""
    try:
        claimed, true = (Fraction(str(v).lstrip("~")) for v in (d.claimed, d.true))
    except (ValueError, ZeroDivisionError):
        return None
    return float(abs(claimed - true) / max(1, abs(true)))


def _below_float64(d) -> bool:
    """A difference the numeric check's tolerance cannot resolve."""
    gap = _relative_gap(d) if d is not None else None
    return gap is not None and gap <= 100 * REL_TOL


def _shape_refutation(prep, derived, evidence, seed, progress) -> Result:
    """The claim's shape is not the shape of the variable: refuted as such."""
    want, got = show(prep.wrt_shape), show(prep.claim.shape)
    detail = (f"the claim has shape {got} but a gradient with respect to {prep.wrt} has the shape of "
              f"{prep.wrt}, {want}")
    evidence.append(Evidence("exact", "differ", f"{detail}; the shapes differ at every size assignment "
                                                 "with distinct dimensions"))
    sizes = numeric_sizes(prep.decls.dims)
    model = NumericModel(prep, sizes, seed)
    env = draw_env(prep, sizes, np.random.default_rng(seed), positive=False)
    claimed, true = model.evaluate(prep.claim, env), model.value(prep.derived, env)
    evidence.append(Evidence("numeric", "differ", f"float64 values at ({show_sizes(sizes)}): the claim "
                                                   f"evaluates to a {claimed.shape[0]}x{claimed.shape[1]} "
                                                   f"matrix, the gradient to a {true.shape[0]}x{true.shape[1]} one"))
    result = Result("refuted", prep.source.claim, derived, evidence)
    progress("the counterexample search")
    result.counterexample = find_counterexample(prep, seed)
    progress("the diagnosis")
    envs = [env, draw_env(prep, sizes, np.random.default_rng(seed + 1), positive=False)]
    found = explain(prep, model, envs, seed, progress)
    result.diagnosis = found.sentence if found.kind else f"wrong shape: {detail}"
    result.suggestion = found.suggestion
    return result


def check(claim: Claim, *, seconds: float = DEFAULT_SECONDS, memory_mb: int | None = DEFAULT_MEMORY_MB,
          seed: int = 0) -> Result:
    """Check one claim under a time budget; never raises on bad input.

    Returns a :class:`~symbolic_bp.checks.result.Result` whose verdict is
    ``verified``, ``refuted``, ``invalid`` (with ``error``, one line) or
    ``undecided`` (the budget ran out, or the checks could not decide).
    """
    try:
        return _check(claim, seconds=seconds, memory_mb=memory_mb, seed=seed)
    except Exception as e:      # the last resort: a bug of ours is undecided (not the user's text: not invalid)
        text = getattr(claim, "claim", "")
        message = " ".join(f"{type(e).__name__}: {e}".split())
        message = message if len(message) <= 300 else message[:297] + "..."
        return Result("undecided", text if isinstance(text, str) else "",
                      error=f"internal error: {message} (this is a bug; please report it)")


def _check(claim: Claim, *, seconds: float, memory_mb: int | None, seed: int) -> Result:
    start = time.monotonic()
    text = claim.claim if isinstance(claim.claim, str) else ""
    try:
        prep = prepare(claim)
    except InputError as e:
        return Result("invalid", text, error=str(e), seconds=time.monotonic() - start)
    outcome = run_with_budget(lambda progress: _decide_or_invalid(prep, claim.seed(seed), progress).to_dict(),
                              seconds=seconds, memory_mb=memory_mb)
    elapsed = time.monotonic() - start
    if outcome.status == "done":
        result = Result.from_dict(outcome.value)
    elif outcome.status == "timeout" and "decided" in outcome.messages:
        # refuted by both checks; the small counterexample or the slip was not found in time
        result = Result.from_dict(outcome.messages["decided"])
        # a slip found but its repair not yet verified: the slip stands, without the repair
        result.diagnosis = outcome.messages.get("diagnosis") or \
            f"not looked for: the time budget of {seconds:g} s ran out during {outcome.phase}"
    else:
        reason = {
            "timeout": f"the time budget of {seconds:g} s ran out during {outcome.phase}",
            "memory": f"the memory cap of {memory_mb} MB was hit during {outcome.phase}",
            "died": f"the checker process died (exit code {outcome.value}) during {outcome.phase}",
            "error": f"{outcome.value} during {outcome.phase}: {BUG}",
        }[outcome.status]
        result = Result("undecided", text, outcome.messages.get("derived"), error=reason)
    result.seconds = elapsed
    return _checked(result)


def _decide_or_invalid(prep: Prepared, seed: int, progress) -> Result:
    """:func:`decide`, except that input found undefined by a check (a cost
    that divides by zero at every point) is invalid, not a bug."""
    try:
        return decide(prep, seed, progress)
    except InputError as e:
        return Result("invalid", prep.source.claim, error=str(e))
    except ZeroDivisionError as e:  # an exact zero divisor on random values is structural, not chance
        return Result("invalid", prep.source.claim,
                      error=f"the cost or the claim is undefined at every point ({e}: a divisor that is "
                            "identically 0, or a matrix that is always singular)")


def _checked(result: Result) -> Result:
    """What check() promises about its result."""
    assert (result.verdict in ("invalid", "undecided")) == (result.error is not None), result
    assert result.verdict != "refuted" or result.diagnosis, result
    assert result.verdict not in ("verified", "refuted") or len(result.methods) >= 2, result
    return result


use_decide(decide)      # a repaired claim is offered only when these checks verify it
