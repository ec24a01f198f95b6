"""``symbolic-bp``: the command line.  A thin edge over the checker and report.

Exit status of ``check``: 0 verified, 1 refuted, 2 invalid input,
3 undecided.  ``report``: 0 when every verdict is the expected one, 1
otherwise, 2 when a file is unreadable.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from ..checks.budget import DEFAULT_SECONDS

BUNDLED = Path(__file__).resolve().parents[2] / "derivations"


class _Parser(argparse.ArgumentParser):
    def error(self, message):       # one line, exit 2 (argparse prints usage too)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _budget(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}")
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"must be between 0 and 86400 seconds, got {text}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}")
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32-1, got {text}")
    return value


def common_options(p: argparse.ArgumentParser) -> None:
    """--budget and --seed, shared by every command that checks claims."""
    p.add_argument("--budget", type=_budget, default=DEFAULT_SECONDS, metavar="SECONDS",
                   help=f"time budget per claim (default {DEFAULT_SECONDS:g})")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the random draws (default 0)")


def add_check(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shapes", required=True, help='declarations, e.g. "A:m,n x:n y:m"')
    p.add_argument("--cost", required=True, help='scalar cost, e.g. "y.T @ A @ x"')
    p.add_argument("--wrt", required=True, help="the variable, e.g. A")
    p.add_argument("--claim", required=True, help='the claimed gradient, e.g. "y @ x.T"')
    p.add_argument("--json", action="store_true", help="print one JSON object")
    common_options(p)


def add_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", help="derivation files or folders")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the report as JSON (no timings)")
    fmt.add_argument("--markdown", action="store_true", help="print the report as Markdown")
    common_options(p)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the command named in ``argv`` gets its arguments (and
    its module imported), so that ``symbolic-bp extract`` does not load SymPy."""
    words = sys.argv[1:] if argv is None else argv
    chosen = next((w for w in words if not w.startswith("-")), None)
    parser = _Parser(prog="symbolic-bp", description="Verify hand-derived backpropagation gradients.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (help_text, module, attribute) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name == chosen:
            _command(module, attribute)[0](p)
    return parser


def print_result(result, quantity: str | None) -> None:
    """A result as the CLI shows it; ``quantity`` is what the claim is about
    (``dC/dA``, ``delta[l]``), or None."""
    from ..checks.counterexample import describe
    lead = f"{quantity} = " if quantity and not result.claim.startswith(quantity) else ""
    print(f"{result.verdict}: {lead}{result.claim}")
    if result.derived:
        print(f"  derived:        {lead}{result.derived}")
    if result.counterexample:
        print(f"  counterexample: {describe(result.counterexample, quantity)}")
    if result.diagnosis:
        print(f"  diagnosis:      {result.diagnosis}")
    if result.error:
        print(f"  error:          {result.error}")
    for e in result.evidence:
        print(f"  {e.method:10s} {e.outcome:9s} {e.detail}")
    print(f"  ({result.seconds:.2f} s)")


def cmd_check(args) -> int:
    from ..checks.checker import check
    from ..checks.claim import Claim
    result = check(Claim(args.shapes, args.cost, args.wrt, args.claim), seconds=args.budget, seed=args.seed)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True, ensure_ascii=False))
    elif result.verdict == "invalid":
        print(f"symbolic-bp: invalid input: {result.error}", file=sys.stderr)
    else:
        print_result(result, f"dC/d{args.wrt.strip()}")
    return result.exit_code


def cmd_report(args) -> int:
    from ..rendering import report
    paths = args.paths or [Path("derivations") if Path("derivations").is_dir() else BUNDLED]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        print(f"symbolic-bp: error: {missing[0]}: no such file or folder", file=sys.stderr)
        return 2
    live = not (args.json or args.markdown) and sys.stderr.isatty()
    progress = (lambda row: print(f"  {row.entry.name}: {row.result.verdict}", file=sys.stderr)) if live else (lambda row: None)
    rep = report.run(paths, seconds=args.budget, seed=args.seed, progress=progress)
    if args.json:
        print(report.to_json(rep))
    elif args.markdown:
        print(report.to_markdown(rep), end="")
    else:
        print(report.to_text(rep))
    for error in rep.errors:
        print(f"symbolic-bp: {error}", file=sys.stderr)
    return rep.exit_code


# name -> (help, module, attribute): the attribute is an (add_arguments(parser),
# run(args) -> exit status) pair.  A command of its own module registers here
# with one line.
COMMANDS = {
    "check": ("check one gradient claim", "symbolic_bp.integrations.cli", "CHECK"),
    "report": ("check derivation files (default: the bundled derivations/)", "symbolic_bp.integrations.cli", "REPORT"),
    "step": ("check one line of a derivation against the line before it", "symbolic_bp.derivations.step", "COMMAND"),
    "extract": ("find the claims of a Markdown/LaTeX document, write a derivation file",
                "symbolic_bp.derivations.extract", "COMMAND"),
    "network": ("gradients of a layered network three ways; check delta/gradient claims",
                "symbolic_bp.integrations.network_command", "COMMAND"),
    "fuzz": ("hostile input against every entry point; print the figures (crashed/executed must be 0)",
             "symbolic_bp.integrations.fuzz", "COMMAND"),
    "latex": ("write the proofs of derivation files as one LaTeX document (--pdf: compile it)",
              "symbolic_bp.rendering.document", "COMMAND"),
}


def _command(module: str, attribute: str):
    return getattr(importlib.import_module(module), attribute)


CHECK = (add_check, cmd_check)
REPORT = (add_report, cmd_report)


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    try:
        return _command(*COMMANDS[args.command][1:])[1](args)
    except KeyboardInterrupt:
        print("symbolic-bp: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
