"""``symbolic-bp report`` on the bundled derivations with ``-j 1`` and with
``-j N``, side by side in one run: wall times, their ratio, and whether the
JSON reports are byte-identical (they must be).

    python bench/bench_report_parallel.py [-j N] [--rounds R] [PATH...]

Each run is a fresh process, as a user starts it (start-up and imports
included; no cache warmed by an earlier run).  N defaults to the number of
cores.  The runs alternate (1, N, N, 1, ...) so that a change in the
machine's load falls on both; each figure is the median of its R runs.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(paths: list[str], jobs: int) -> tuple[float, str]:
    """(wall seconds, standard output) of one ``report --json -j jobs`` run."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "symbolic_bp", "report", *paths, "--json", "-j", str(jobs)],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"report -j {jobs} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return seconds, done.stdout


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", help="derivation files or folders (default: the bundled derivations)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args(argv)
    paths = args.paths or [str(ROOT / "derivations")]
    times: dict[int, list[float]] = {1: [], args.jobs: []}
    outputs: set[str] = set()
    for r in range(args.rounds):
        for jobs in ((1, args.jobs) if r % 2 == 0 else (args.jobs, 1)):
            seconds, out = timed(paths, jobs)
            times[jobs].append(seconds)
            outputs.add(out)
    one, many = statistics.median(times[1]), statistics.median(times[args.jobs])
    claims = len(__import__("json").loads(next(iter(outputs)))["claims"])
    print(f"claims checked:         {claims}  ({args.rounds} round{'s' if args.rounds > 1 else ''}, "
          f"{os.cpu_count()} cores)")
    print(f"report -j 1 wall time:  {one:.2f} s")
    print(f"report -j {args.jobs} wall time:  {many:.2f} s")
    print(f"speed-up -j1 / -j{args.jobs}:      {one / many:.2f}x")
    print(f"JSON byte-identical:    {'yes' if len(outputs) == 1 else 'NO'}")
    print(f"load average (1 min):   {os.getloadavg()[0]:.1f}  (other processes share the {os.cpu_count()} cores "
          "with the workers: the ratio means most on a quiet machine)")
    return 0 if len(outputs) == 1 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
