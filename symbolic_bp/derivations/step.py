"""One line of a derivation against the line before it (``symbolic-bp step``).

The lines must be equal, or with ``constant_in`` equal up to an additive term
that does not depend on those variables.  Verdicts, exit codes (0 verified,
1 refuted, 2 invalid, 3 undecided) and the JSON fields are those of ``check``;
the command itself is :mod:`symbolic_bp.integrations.step_command`.

>>> check_step("A:m,n B:n,m", "(A @ B).T", "B.T @ A.T").verdict
'verified'
>>> check_step("x:n y:n", "(x - y).T @ (x - y)", "x.T @ x - 2 * y.T @ x", "x").verdict
'verified'
"""
from __future__ import annotations

from ..checks.result import Result


def check_step(shapes: str, lhs: str, rhs: str, constant_in: str | None = None, *,
               seconds: float = 60.0, seed: int = 0) -> Result:
    """The verdict on ``lhs`` -> ``rhs``; ``constant_in`` ("X,Y"), when given,
    names the variables the dropped term must not depend on."""
    from ..checks.identity import check_equal, check_up_to_constant
    budget = dict(seconds=seconds, seed=seed)
    if constant_in is not None:
        variables = [v.strip() for v in constant_in.split(",") if v.strip()]
        result = check_up_to_constant(shapes, lhs, rhs, variables, **budget)
    else:
        result = check_equal(shapes, lhs, rhs, **budget)
    assert isinstance(result, Result)
    return result
