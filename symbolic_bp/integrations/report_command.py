"""``symbolic-bp report``: check derivation files, print the report.

Exit status: 0 when every verdict is the expected one, 1 otherwise, 2 when a
file is unreadable (the other files still run).

The claims are checked by ``-j N`` worker processes at once (default: one
per core; ``-j 1``: one after the other); the output does not depend on N.
On a terminal, standard error shows one line of progress, rewritten in place,
and the text table is fitted to the terminal's width (``--wide``: not).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from .options import common_options, derivation_paths, jobs_number, missing_path


def add_report(p: argparse.ArgumentParser) -> None:
    """The arguments of ``report``.

    >>> p = argparse.ArgumentParser()
    >>> add_report(p)
    >>> args = p.parse_args(["a.toml", "--markdown", "-j", "3"])
    >>> args.markdown, args.jobs, args.wide
    (True, 3, False)
    """
    p.add_argument("paths", nargs="*", help="derivation files or folders")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the report as JSON (no timings)")
    fmt.add_argument("--markdown", action="store_true", help="print the report as Markdown")
    p.add_argument("-j", "--jobs", type=jobs_number, default=None, metavar="N",
                   help="check N claims at once, in worker processes (default: one per core; 1: one after the other)")
    p.add_argument("--wide", action="store_true",
                   help="do not fit the text table to the terminal's width: show long sources whole")
    common_options(p)


class Progress:
    """``checked 37/251 ...``: one line on ``stream``, rewritten in place with
    ``\\r`` as rows come in, cut to the terminal's width, erased by :meth:`close`.

    >>> import io
    >>> out = io.StringIO()
    >>> bar = Progress(out, jobs=2, width=40)
    >>> bar.planned(3)
    >>> bar.close()
    >>> out.getvalue().split("\\r")[1:]
    ['checked 0/3 (2 workers, 0 s)', '                            ', '']
    """

    def __init__(self, stream, jobs: int, width: int | None = None):
        self.stream, self.jobs, self.width = stream, jobs, width
        self.done = self.total = self.shown = 0
        self.start = time.monotonic()

    def planned(self, total: int) -> None:
        self.total = total
        self._show("")

    def __call__(self, row) -> None:
        self.done += 1
        self._show(f": {Path(row.file).stem}::{row.entry.name} {row.result.verdict}")

    def _show(self, last: str) -> None:
        workers = f"{self.jobs} workers" if self.jobs > 1 else "one at a time"
        text = f"checked {self.done}/{self.total} ({workers}, {time.monotonic() - self.start:.0f} s){last}"
        text = text[:max((self.width or _columns(self.stream)) - 1, 10)]
        self.stream.write("\r" + text.ljust(self.shown))
        self.stream.flush()
        self.shown = len(text)

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.stream.flush()
            self.shown = 0


def _columns(stream) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return shutil.get_terminal_size().columns


def table_width(args: argparse.Namespace) -> int | None:
    """The width to fit the text table to: the terminal's, when standard
    output is one and ``--wide`` was not given; else None (as wide as it is)."""
    if args.wide or not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def cmd_report(args: argparse.Namespace) -> int:
    """Run the files and print the report as text, JSON or Markdown."""
    paths = derivation_paths(args.paths)
    missing = missing_path(paths)
    if missing:
        print(missing, file=sys.stderr)
        return 2
    from ..rendering import report         # the checks load SymPy: not for --help or a missing path
    jobs = args.jobs or os.cpu_count() or 1
    progress = Progress(sys.stderr, jobs) if sys.stderr.isatty() else None
    try:
        rep = report.run(paths, seconds=args.budget, seed=args.seed, jobs=jobs,
                         progress=progress or (lambda row: None),
                         planned=progress.planned if progress else (lambda count: None))
    finally:
        if progress:
            progress.close()
    if args.json:
        print(report.to_json(rep))
    elif args.markdown:
        print(report.to_markdown(rep), end="")
    else:
        print(report.to_text(rep, width=table_width(args)))
    for error in rep.errors:
        print(f"symbolic-bp: {error}", file=sys.stderr)
    return rep.exit_code


# what commands.COMMANDS names: (add_arguments, run)
COMMAND = (add_report, cmd_report)
