"""The exact check at 4x4 and 8x8, timed side by side in one run.

For each matrix identity of issue 12 (costs whose symbolic expansion ran past
the budget at 4x4), the time of the exact check (exact rational arithmetic
with dual numbers, :mod:`symbolic_bp.checks.exact`) on the true gradient and
on a wrong one, at X 4x4 and X 8x8, and the 8x8 / 4x4 ratio.  The check is
polynomial in the sizes (n^2 directions at one point, O(n^3) products each,
on rationals whose length grows with n), so the ratio is a modest constant
where symbolic expansion grew factorially.  The derivation (reverse mode) is
done before timing.

    python bench/bench_exact.py [--repeat N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symbolic_bp.checks.claim import Claim, prepare  # noqa: E402
from symbolic_bp.checks.dual import ground_types  # noqa: E402
from symbolic_bp.checks.exact import exact_check  # noqa: E402
from symbolic_bp.checks.sizes import exact_candidates  # noqa: E402

from tests.test_exact import IDENTITIES  # noqa: E402  (cost, the true gradient, a wrong one): the tests' own


def timed(cost: str, claim: str, n: int, repeat: int) -> tuple[float, str]:
    prep = prepare(Claim(f"X:{n},{n} A:{n},{n} C:{n},{n}", cost, "X", claim))
    prep.derived                                    # the derivation is not the exact check
    times, status = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        status = exact_check(prep, exact_candidates(prep.decls.dims), 0).status
        times.append(time.perf_counter() - start)
    return statistics.median(times), status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (the median is printed)")
    repeat = parser.parse_args().repeat
    print(f"exact check, median of {repeat} runs (ground types: {ground_types()})")
    print(f"{'cost':28s} {'claim':6s} {'4x4':>8s} {'8x8':>8s} {'8x8/4x4':>8s}  verdicts")
    ratios = []
    for cost, true, wrong in IDENTITIES:
        for label, claim in (("true", true), ("wrong", wrong)):
            (t4, s4), (t8, s8) = timed(cost, claim, 4, repeat), timed(cost, claim, 8, repeat)
            ratios.append(t8 / t4)
            print(f"{cost:28s} {label:6s} {t4:7.3f}s {t8:7.3f}s {t8 / t4:8.1f}  {s4}/{s8}")
    print(f"median 8x8/4x4 ratio: {statistics.median(ratios):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
