"""Identities between two expressions: "lhs = rhs", or "lhs = rhs up to an
additive term that does not depend on X, Y".

Both reduce to gradient claims, so an identity gets the very same two
independent checks (exact and numeric), counterexample and diagnosis as
:func:`symbolic_bp.checks.checker.check`, with nothing copied:

* ``L = R`` for an r x c expression L: with a fresh r x c probe matrix G the
  scalar ``sum(G * L)`` has gradient L with respect to G, so L = R for all
  values exactly when the claim "dC/dG = R" holds (the gradient is linear in
  G, so nothing else can make it agree);
* ``L = R + const`` in X: L and R have the same gradient with respect to
  each X -- the claim "dL/dX = dR/dX" for every listed X, with dR/dX from the
  project's derivation (comparing gradients avoids the cancellation of L - R,
  which ruins finite differences when L and R are large).

>>> r = check_equal("A:m,n x:n y:m", "(y.T @ A @ x).T", "x.T @ A.T @ y")
>>> r.verdict, r.methods
('verified', ['exact', 'numeric'])
>>> r = check_equal("A:m,n B:n,m", "(A @ B).T", "A.T @ B.T")
>>> r.verdict, r.counterexample.true
('refuted', 'a 1x1 matrix (the shape of the left-hand side)')
>>> check_equal("A:m,m B:m,m", "(A @ B).T", "A.T @ B.T").diagnosis
"the right-hand side is wrong: the factors of a matrix product in the wrong order: 'A.T @ B.T' should be 'B.T @ A.T'"
>>> check_up_to_constant("x:n y:n", "(x - y).T @ (x - y)", "x.T @ x - 2 * y.T @ x", ["x"]).verdict
'verified'
"""
from __future__ import annotations

import time
from dataclasses import replace

from .budget import DEFAULT_SECONDS
from .claim import Claim, prepare
from ..errors import InputError
from .result import Result
from ..language.shapes import ONE, is_scalar, parse_declarations, parse_typed, show

PROBE = "G_probe"

# the checker speaks of "the claim" and "the true gradient"; here the claim is
# the right-hand side and the "gradient" is the left-hand side
_WORDS = (("the true gradient", "the left-hand side"), ("the claim", "the right-hand side"),
          ("the gradient of another variable", "another expression"))


def _typed(decls, text, key: str):
    try:
        return parse_typed(text, decls)
    except InputError as e:
        raise e.within(key)


def _declare(shape) -> str:
    """The declaration of a probe matrix of ``shape``, or InputError when its
    dimensions are products (kron) that a declaration cannot name."""
    if is_scalar(shape):
        return f"{PROBE}:scalar"
    parts = []
    for d in shape:
        if len(d.names) > 1 or (d.names and d.coef != 1):
            raise InputError(f"cannot compare expressions of shape {show(shape)}: a dimension is a product")
        parts.append(d.names[0] if d.names else str(d.coef))
    return f"{PROBE}:{parts[0]}" if shape[1] == ONE else f"{PROBE}:{parts[0]},{parts[1]}"


def _reword(text: str | None) -> str | None:
    if text is None:
        return None
    for old, new in _WORDS:
        text = text.replace(old, new)
    return text


def _invalid(claim_text: str, message: str, start: float) -> Result:
    return Result("invalid", claim_text, error=message, seconds=time.monotonic() - start)


def check_equal(shapes: str, lhs: str, rhs: str, *, seconds: float = DEFAULT_SECONDS, seed: int = 0) -> Result:
    """Is ``lhs = rhs`` for every value of the declared symbols?

    The result is a :class:`~symbolic_bp.checks.result.Result` like ``check``'s:
    ``derived`` is the left-hand side as the derivation simplifies it, the
    counterexample gives the entry of the left-hand side (``true``) and of
    the right-hand side (``claimed``)."""
    start = time.monotonic()
    rhs_text = rhs if isinstance(rhs, str) else ""
    try:
        decls = parse_declarations(shapes)
    except InputError as e:
        return _invalid(rhs_text, str(e.within("shapes")), start)
    if PROBE in decls.symbols:
        return _invalid(rhs_text, f"shapes: {PROBE!r} is reserved", start)
    try:
        left, right = _typed(decls, lhs, "lhs"), _typed(decls, rhs, "rhs")
        probe = _declare(left.shape)
    except InputError as e:
        return _invalid(rhs_text, str(e), start)
    cost = f"{PROBE} * ({lhs})" if is_scalar(left.shape) else f"sum({PROBE} * ({lhs}))"
    from .checker import check       # SymPy and NumPy load only for input the parser accepted
    result = check(Claim(f"{shapes} {probe}", cost, PROBE, rhs), seconds=seconds, seed=seed)
    return _checked(_as_identity(result))


def _checked(result: Result) -> Result:
    """What both functions promise, as check() does."""
    assert (result.verdict in ("invalid", "undecided")) == (result.error is not None), result
    assert result.verdict != "refuted" or result.diagnosis, result
    assert result.verdict not in ("verified", "refuted") or {"exact", "numeric"} <= set(result.methods), result
    return result


def _as_identity(result: Result) -> Result:
    """Speak of left- and right-hand sides, and drop the probe's values."""
    out = replace(result, diagnosis=_reword(result.diagnosis), error=_reword(result.error),
                  evidence=[replace(e, detail=_reword(e.detail).replace(f"dC/d{PROBE} = ", "lhs = "))
                            for e in result.evidence])
    if out.diagnosis is not None and out.verdict == "refuted" and not out.diagnosis.startswith("the right-hand"):
        out.diagnosis = f"the right-hand side is wrong: {out.diagnosis}"
    if out.counterexample is not None:
        values = {k: v for k, v in out.counterexample.values.items() if k != PROBE}
        out.counterexample = replace(out.counterexample, values=values,
                                     true=out.counterexample.true.replace(f"(the shape of {PROBE})",
                                                                          "(the shape of the left-hand side)"))
    return out


def check_up_to_constant(shapes: str, lhs: str, rhs: str, variables: list[str], *,
                         seconds: float = DEFAULT_SECONDS, seed: int = 0) -> Result:
    """Is ``lhs - rhs`` independent of every variable in ``variables``?

    Both sides must be scalars.  The verdict is verified when both sides have
    the same gradient with respect to each variable (each by both checks),
    refuted at the first variable on which the difference depends."""
    start = time.monotonic()
    rhs_text = rhs if isinstance(rhs, str) else ""
    if not isinstance(variables, (list, tuple)) or not variables or not all(isinstance(v, str) for v in variables):
        return _invalid(rhs_text, "up to a constant in which variables? give at least one", start)
    try:
        decls = parse_declarations(shapes)
        left, right = _typed(decls, lhs, "lhs"), _typed(decls, rhs, "rhs")
    except InputError as e:
        return _invalid(rhs_text, str(e), start)
    if not (is_scalar(left.shape) and is_scalar(right.shape)):
        return _invalid(rhs_text, f"'up to a constant' compares scalars; lhs is {show(left.shape)}, "
                                  f"rhs is {show(right.shape)}", start)
    for v in variables:
        if v.strip() not in decls.symbols:
            return _invalid(rhs_text, f"up-to-constant: {v.strip()[:40]!r} is not a declared symbol", start)
    evidence, results = [], []
    for v in (v.strip() for v in variables):
        # dR/dX by the project's derivation becomes the claim for dL/dX: both
        # checks then test dL/dX = dR/dX, without the cancellation of L - R
        try:
            derived_rhs = prepare(Claim(shapes, rhs, v, "0")).derived_text
        except InputError as e:
            return _invalid(rhs_text, str(e).replace("cost:", "rhs:", 1), start)
        from .checker import check
        r = check(Claim(shapes, lhs, v, derived_rhs), seconds=seconds, seed=seed)
        results.append((v, r))
        evidence += [replace(e, detail=f"dlhs/d{v} against drhs/d{v} = {derived_rhs}: {e.detail}")
                     for e in r.evidence]
        if r.verdict != "verified":
            break
    v, last = results[-1]
    out = Result(last.verdict, rhs_text, derived=None, evidence=evidence, seconds=time.monotonic() - start)
    if last.verdict == "verified":
        out.derived = f"lhs - rhs does not depend on {', '.join(v for v, _ in results)}"
    elif last.verdict == "refuted":
        out.derived = f"dlhs/d{v} = {last.derived}"
        out.counterexample = last.counterexample
        out.diagnosis = (f"the dropped term lhs - rhs is not a constant: it depends on {v} "
                         f"(dlhs/d{v} = {last.derived} but drhs/d{v} = {last.claim})")
    else:
        out.error = last.error
    return _checked(out)
