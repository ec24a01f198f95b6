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

from ..checks.checker import check
from ..checks.claim import Claim
from ..rendering.text import cli_lines
from .options import common_options, json_option


def add_check(p: argparse.ArgumentParser) -> None:
    """The arguments of ``check``."""
    p.add_argument("--shapes", required=True, help='declarations, e.g. "A:m,n x:n y:m"')
    p.add_argument("--cost", required=True, help='scalar cost, e.g. "y.T @ A @ x"')
    p.add_argument("--wrt", required=True, help="the variable, e.g. A")
    p.add_argument("--claim", required=True, help='the claimed gradient, e.g. "y @ x.T"')
    json_option(p)
    common_options(p)


def cmd_check(args: argparse.Namespace) -> int:
    """Check the claim and print the result; the exit status is the verdict's."""
    result = check(Claim(args.shapes, args.cost, args.wrt, args.claim), seconds=args.budget, seed=args.seed)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True, ensure_ascii=False))
    elif result.verdict == "invalid":
        print(f"symbolic-bp: invalid input: {result.error}", file=sys.stderr)
    else:
        print("\n".join(cli_lines(result, f"dC/d{args.wrt.strip()}")))
    return result.exit_code


# what commands.COMMANDS names: (add_arguments, run)
COMMAND = (add_check, cmd_check)
