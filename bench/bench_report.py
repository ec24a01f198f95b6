"""Time the bundled derivation report, claim by claim, in one run.

Prints the median and worst time per claim (each claim is checked in its own
forked worker, as the CLI does), the wall time of the whole report, and the
README example's time, all measured side by side in this one process.

    python bench/bench_report.py [PATH...]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

t0 = time.perf_counter()
from symbolic_bp import Claim, check  # noqa: E402
from symbolic_bp.rendering import report  # noqa: E402
IMPORT = time.perf_counter() - t0


def main(argv: list[str]) -> int:
    paths = argv or [ROOT / "derivations"]
    start = time.perf_counter()
    rep = report.run(paths)
    wall = time.perf_counter() - start
    times = sorted((r.result.seconds, f"{Path(r.file).stem}::{r.entry.name}") for r in rep.rows)
    if not times:
        print("no claims found")
        return 2
    example = check(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "y @ x.T"))
    median = statistics.median(t for t, _ in times)
    worst, worst_name = times[-1]
    print(f"claims checked:            {len(times)} ({rep.summary()['mismatches']} not as expected)")
    print(f"import of symbolic_bp:     {IMPORT:.2f} s (SymPy and NumPy included)")
    print(f"README example (check):    {example.seconds:.3f} s, {example.verdict}")
    print(f"median time per claim:     {median:.3f} s")
    print(f"worst time per claim:      {worst:.3f} s  ({worst_name})")
    print(f"worst / median:            {worst / median:.1f}x")
    print(f"whole report, wall time:   {wall:.2f} s")
    print(f"sum of claim times / wall: {sum(t for t, _ in times) / wall:.2f}  (1.00 = no overhead outside the checks)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
