"""``symbolic-bp report``: check derivation files, print the report.

Exit status: 0 when every verdict is the expected one, 1 otherwise, 2 when a
file is unreadable (the other files still run).
"""
from __future__ import annotations

import argparse
import sys

from ..rendering import report
from .options import common_options, derivation_paths, missing_path


def add_report(p: argparse.ArgumentParser) -> None:
    """The arguments of ``report``.

    >>> p = argparse.ArgumentParser()
    >>> add_report(p)
    >>> p.parse_args(["a.toml", "--markdown"]).markdown
    True
    """
    p.add_argument("paths", nargs="*", help="derivation files or folders")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the report as JSON (no timings)")
    fmt.add_argument("--markdown", action="store_true", help="print the report as Markdown")
    common_options(p)


def cmd_report(args: argparse.Namespace) -> int:
    """Run the files and print the report as text, JSON or Markdown."""
    paths = derivation_paths(args.paths)
    missing = missing_path(paths)
    if missing:
        print(missing, file=sys.stderr)
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


# what commands.COMMANDS names: (add_arguments, run)
COMMAND = (add_report, cmd_report)
