"""``symbolic-bp fuzz``: every entry point against hostile input, and the
figures (:mod:`symbolic_bp.integrations.fuzz` runs it).

Exit status: 0 when nothing crashed, executed code, was unclear or overran
its budget; 1 otherwise; 2 on bad options.

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_fuzz(p)
>>> args = p.parse_args(["--examples", "3", "--entry", "check (API)"])
>>> (args.examples, args.seed, args.budget, args.entry, args.inputs, args.jobs)
(3, 0, 5.0, ['check (API)'], None, 1)
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
    p.add_argument("--inputs", type=int, default=None, metavar="N",
                   help="instead of --examples: as many random inputs as give every entry point at least N "
                        "inputs in all (make fuzz: 10000)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    p.add_argument("--budget", type=float, default=5.0, help="time budget per claim, seconds (default 5)")
    p.add_argument("--corpus", default=str(CORPUS), help="folder of the adversarial corpus (default: the bundled corpus)")
    p.add_argument("--entry", action="append", help="only this entry point (repeatable)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")


def cmd_fuzz(args: argparse.Namespace) -> int:
    """Exit status 0 when nothing crashed, executed or overran, 1 otherwise, 2 on bad options."""
    if args.examples < 0 or not 0 < args.budget <= 3600 or (args.inputs is not None and args.inputs < 0) \
            or not 1 <= args.jobs <= 64:
        print("symbolic-bp: error: --examples and --inputs must be >= 0, --budget between 0 and 3600 "
              "and --jobs between 1 and 64", file=sys.stderr)
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
    tallies = run(args.examples, args.seed, args.budget, corpus, args.entry, progress=live, inputs=args.inputs,
                  jobs=args.jobs)
    if args.json:
        print(json.dumps(to_dict(tallies), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print(to_text(tallies))
        volume = (f"at least {args.inputs} inputs per entry point" if args.inputs is not None
                  else f"{args.examples} random inputs per generator")
        print(f"({time.monotonic() - start:.0f} s, seed {args.seed}, {volume}, budget {args.budget:g} s per claim, "
              f"{args.jobs} job{'s' if args.jobs > 1 else ''})")
    return 1 if failed(tallies) else 0


# what commands.COMMANDS names: (add_arguments, run)
COMMAND = (add_fuzz, cmd_fuzz)
