"""``symbolic-bp check``: one gradient claim.

Exit status: 0 verified, 1 refuted, 2 invalid input, 3 undecided.

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_check(p)
>>> args = p.parse_args(["--shapes", "A:m,n x:n y:m", "--cost", "y.T @ A @ x", "--wrt", "A", "--claim", "y @ x.T"])
>>> (args.budget, args.seed, args.json)
(60.0, 0, False)
"""
from __future__ import annotations

import argparse
import json
import sys

from ..checks.claim import Claim
from ..rendering.text import cli_lines
from .options import common_options, expression_option, json_option


def add_check(p: argparse.ArgumentParser) -> None:
    """The arguments of ``check``."""
    expression_option(p, "--shapes", required=True, help='declarations, e.g. "A:m,n x:n y:m"')
    expression_option(p, "--cost", required=True, help='scalar cost, e.g. "y.T @ A @ x"')
    expression_option(p, "--wrt", required=True, help="the variable, e.g. A")
    expression_option(p, "--claim", required=True, help='the claimed gradient, e.g. "y @ x.T"')
    json_option(p)
    common_options(p)


def cmd_check(args: argparse.Namespace) -> int:
    """Check the claim and print the result; the exit status is the verdict's.

    Input the parser or the type pass rejects is reported before SymPy and
    NumPy are loaded (:func:`~symbolic_bp.checks.claim.prepare` needs neither)."""
    claim = Claim(args.shapes, args.cost, args.wrt, args.claim)
    result = rejected(claim)
    if result is None:
        from ..checks.checker import check      # loads SymPy and NumPy
        result = check(claim, seconds=args.budget, seed=args.seed)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True, ensure_ascii=False))
    elif result.verdict == "invalid":
        print(f"symbolic-bp: invalid input: {result.error}", file=sys.stderr)
    else:
        print("\n".join(cli_lines(result, f"dC/d{args.wrt.strip()}")))
    return result.exit_code


def rejected(claim: Claim):
    """The invalid result :func:`~symbolic_bp.checks.checker.check` gives a
    claim that does not parse or typecheck, or None when it does -- found
    without loading SymPy.

    >>> rejected(Claim("x:n a:n", "x +* y", "x", "a")).error
    "cost: column 4: expected an operand, found '*'"
    >>> rejected(Claim("x:n a:n", "x.T @ a", "x", "-a")) is None
    True
    """
    import time

    from ..checks.claim import prepare
    from ..checks.result import Result
    from ..errors import InputError
    start = time.monotonic()
    try:
        prepare(claim)
    except InputError as e:
        return Result("invalid", claim.claim if isinstance(claim.claim, str) else "", error=str(e),
                      seconds=time.monotonic() - start)
    return None


# what commands.COMMANDS names: (add_arguments, run)
COMMAND = (add_check, cmd_check)
