"""Assertion helpers for users' own test suites.

>>> assert_gradient("y.T @ A @ x", wrt="A", claim="y @ x.T", shapes="A:m,n x:n y:m").verdict
'verified'
>>> assert_gradient("y.T @ A @ x", wrt="A", claim="x @ y.T", shapes="A:m,n x:n y:m")
Traceback (most recent call last):
...
AssertionError: dC/dA = x @ y.T: expected verified, got refuted
  claim:       dC/dA = x @ y.T   for C = y.T @ A @ x
  derived:     y @ x.T
  counterexample: at m=1,n=2 the claim is a 2x1 matrix but dC/dA is a 1x2 matrix (the shape of A) (A=[[3, 3]]; x=[[-2], [2]]; y=[[1]])
  diagnosis:   the claim is the true gradient transposed
  did you mean: dC/dA = y @ x.T   (verified)

The message is the one ``symbolic-bp report`` and the pytest plugin print;
its last line, when the checks offer one, is the corrected claim, which they
verified before offering it.
"""
from __future__ import annotations

from ..checks.budget import DEFAULT_SECONDS
from ..checks.result import VERDICTS, Result


def _explain(entry, result: Result) -> str:
    from ..rendering.report import Row, explain
    lines = explain(Row("<assert>", "", "", entry, result))
    lines[0] = f"{entry.statement().split('   ')[0]}: expected {entry.expect}, got {result.verdict}"
    return "\n".join(lines)


def assert_verdict(entry, *, seconds: float = DEFAULT_SECONDS, seed: int = 0) -> Result:
    """Run any derivation item (:class:`~symbolic_bp.derivations.derivation.Entry` or a
    subclass) and raise :class:`AssertionError`, with the readable report,
    unless its verdict is ``entry.expect``."""
    if entry.expect not in VERDICTS:
        raise ValueError(f"expect must be one of {VERDICTS}, got {entry.expect!r}")
    result = entry.run(seconds, seed)
    if result.verdict != entry.expect:
        raise AssertionError(_explain(entry, result))
    return result


def assert_gradient(cost: str, wrt: str, claim: str, shapes: str, *, expect: str = "verified",
                    seconds: float = DEFAULT_SECONDS, seed: int = 0) -> Result:
    """Assert that dC/d``wrt`` = ``claim`` for the scalar ``cost`` gets the verdict
    ``expect`` (default: verified); return the :class:`~symbolic_bp.checks.result.Result`.

    Use ``expect="refuted"`` to pin down a known wrong formula."""
    from ..checks.claim import Claim
    from ..derivations.derivation import Entry
    for key, value in (("cost", cost), ("wrt", wrt), ("claim", claim), ("shapes", shapes)):
        if not isinstance(value, str):
            raise TypeError(f"{key} must be a string, got {type(value).__name__}")
    entry = Entry(name="assert_gradient", claim=Claim(shapes, cost, wrt, claim), expect=expect)
    return assert_verdict(entry, seconds=seconds, seed=seed)


def assert_network_claim(spec, convention: str, claim: str, *, expect: str = "verified", deep: bool = True,
                         seconds: float = DEFAULT_SECONDS, seed: int = 0) -> Result:
    """Assert that a δ-recursion or gradient claim about a network gets the
    verdict ``expect`` in the named convention (nielsen, ng, answer, post, or
    rows -- aliases row-major, cs231n -- for the batch in rows).

    ``spec`` is a :class:`~symbolic_bp.networks.network.NetworkSpec`; ``deep=False``
    leaves out the slow numeric check on a deep network.

    >>> from symbolic_bp.networks.network import NetworkSpec
    >>> spec = NetworkSpec.build((3, 4, 2), "sigma", "mse")
    >>> assert_network_claim(spec, "nielsen", "delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])").verdict
    'verified'
    """
    from ..checks.claim import Claim
    from ..networks.network import NetworkSpec
    from ..derivations.network_entry import NetworkEntry
    if not isinstance(spec, NetworkSpec):
        raise TypeError(f"spec must be a NetworkSpec, got {type(spec).__name__}")
    if not isinstance(claim, str):
        raise TypeError(f"claim must be a string, got {type(claim).__name__}")
    entry = NetworkEntry(name="assert_network_claim", claim=Claim("", "", claim.split("=")[0].strip(), claim),
                         spec=spec, convention=convention, text=claim, expect=expect, deep=deep)
    return assert_verdict(entry, seconds=seconds, seed=seed)
