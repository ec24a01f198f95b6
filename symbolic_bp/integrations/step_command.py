"""``symbolic-bp step``: check one line of a derivation against the line before.

``--lhs`` is the earlier line, ``--rhs`` the next one; they must be equal,
or with ``--up-to-constant-in X,Y`` equal up to an additive term that does
not depend on X and Y (:func:`symbolic_bp.derivations.step.check_step`).
Verdicts, exit codes (0 verified, 1 refuted, 2 invalid, 3 undecided) and the
``--json`` fields are those of ``check``.

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_step(p)
>>> args = p.parse_args(["--shapes", "A:m,n B:n,m", "--lhs", "(A @ B).T", "--rhs", "B.T @ A.T"])
>>> run_step(args).verdict
'verified'
"""
from __future__ import annotations

import argparse
import json
import sys

from ..checks.result import Result
from ..derivations.step import check_step
from ..rendering.text import result_lines
from .options import common_options, expression_option, json_option


def add_step(p: argparse.ArgumentParser) -> None:
    """The arguments of ``step``."""
    expression_option(p, "--shapes", required=True, help='declarations, e.g. "A:m,n B:n,m"')
    expression_option(p, "--lhs", required=True, help="the earlier line, e.g. \"(A @ B).T\"")
    expression_option(p, "--rhs", required=True, help="the next line, e.g. \"B.T @ A.T\"")
    p.add_argument("--up-to-constant-in", dest="constant_in", metavar="X,Y",
                   help="the lines may differ by a term that does not depend on these variables")
    json_option(p)
    common_options(p)


def run_step(args: argparse.Namespace) -> Result:
    """The verdict on ``args.lhs`` -> ``args.rhs``."""
    return check_step(args.shapes, args.lhs, args.rhs, args.constant_in,
                      seconds=getattr(args, "budget", 60.0), seed=getattr(args, "seed", 0))


def cmd_step(args: argparse.Namespace) -> int:
    """Run ``step`` and print the result; the exit status is the verdict's."""
    result = run_step(args)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True, ensure_ascii=False))
        return result.exit_code
    if result.verdict == "invalid":
        print(f"symbolic-bp: invalid input: {result.error}", file=sys.stderr)
        return result.exit_code
    relation = "=" if args.constant_in is None else f"= (up to a term constant in {args.constant_in})"
    # a counterexample's entry is one of the left-hand side (up to a constant: of the gradients compared)
    what = "the left-hand side" if args.constant_in is None else "the gradient of lhs (claimed: of rhs)"
    print("\n".join(result_lines(result, f"{result.verdict}: {args.lhs.strip()}  {relation}  {args.rhs.strip()}",
                                 quantity=what)))
    return result.exit_code


# what commands.COMMANDS names: (add_arguments, run)
COMMAND = (add_step, cmd_step)
