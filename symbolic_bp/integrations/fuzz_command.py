"""``symbolic-bp fuzz``: every entry point against hostile input, and the
figures (:mod:`symbolic_bp.integrations.fuzz` runs it).

Exit status: 0 when nothing crashed, executed code, was unclear or overran
its budget; 1 otherwise; 2 on bad options.

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_fuzz(p)
>>> args = p.parse_args(["--examples", "3", "--entry", "check (API)"])
>>> (args.examples, args.seed, args.budget, args.entry)
(3, 0, 5.0, ['check (API)'])
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .fuzz import CORPUS, entry_points, failed, run, to_dict, to_text


def add_fuzz(p: argparse.ArgumentParser) -> None:
    """The arguments of ``fuzz`` (its own --seed and --budget: of the random
    inputs, and a shorter default budget than the checking commands')."""
    p.add_argument("--examples", type=int, default=50,
                   help="random inputs of each generator (default 50; the corpus always runs)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    p.add_argument("--budget", type=float, default=5.0, help="time budget per claim, seconds (default 5)")
    p.add_argument("--corpus", default=str(CORPUS), help="folder of the adversarial corpus (default: the bundled corpus)")
    p.add_argument("--entry", action="append", help="only this entry point (repeatable)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")


def cmd_fuzz(args: argparse.Namespace) -> int:
    """Exit status 0 when nothing crashed, executed or overran, 1 otherwise, 2 on bad options."""
    if args.examples < 0 or not 0 < args.budget <= 3600:
        print("symbolic-bp: error: --examples must be >= 0 and --budget between 0 and 3600", file=sys.stderr)
        return 2
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"symbolic-bp: error: {corpus}: no such folder (the corpus)", file=sys.stderr)
        return 2
    names = {e.name for e in entry_points()}
    unknown = [n for n in args.entry or [] if n not in names]
    if unknown:
        print(f"symbolic-bp: error: unknown entry point {unknown[0]!r} (known: {', '.join(sorted(names))})",
              file=sys.stderr)
        return 2
    live = (lambda t: print(f"  {t.name}: {t.tried} inputs", file=sys.stderr)) if sys.stderr.isatty() else (lambda t: None)
    start = time.monotonic()
    tallies = run(args.examples, args.seed, args.budget, corpus, args.entry, progress=live)
    if args.json:
        print(json.dumps(to_dict(tallies), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print(to_text(tallies))
        print(f"({time.monotonic() - start:.0f} s, seed {args.seed}, {args.examples} random inputs per generator, "
              f"budget {args.budget:g} s per claim)")
    return 1 if failed(tallies) else 0


# what commands.COMMANDS names: (add_arguments, run)
COMMAND = (add_fuzz, cmd_fuzz)
