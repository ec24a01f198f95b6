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
arithmetic is asked at the numeric check's point itself.

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
from .exact import check_at, exact_check
from .kinks import almost_everywhere
import numpy as np

from .numeric import REL_TOL, NumericModel, draw_env, numeric_check_plan
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
    numeric = numeric_check_plan(prep, numeric_plan(dims), seed, progress)
    asked = _exact_at_numeric_points(prep, exact, numeric, seed, progress)
    evidence.append(Evidence("exact", exact.status, exact.detail(derived) + asked))
    evidence.append(Evidence("numeric", numeric.status, numeric.detail()))
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
    else:
        result.error = (f"the exact check says {exact.status!r} but the numeric check says "
                        f"{numeric.status!r}: {BUG}")

    if result.verdict == "refuted":
        # both checks have decided: should the budget run out from here on, the refutation stands
        progress("the counterexample search", decided=result.to_dict())
        result.counterexample = find_counterexample(prep, seed)
        progress("the diagnosis", decided=result.to_dict())
        found = explain(prep, NumericModel(prep, numeric.sizes, seed), numeric.envs, seed, progress)
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
