"""Chains and extraction, timed side by side in one run.

Prints, for the line-by-line files of both seed documents, the median time of
a chain line by relation (``=`` lines are identity checks through a probe
matrix, ``gradient`` lines are plain gradient claims) and their ratio; the
whole chain report; and ``extract`` on the post (translation only, then the
report of what it extracted).

    python bench/bench_chain.py
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symbolic_bp.rendering import report  # noqa: E402
from symbolic_bp.derivations.extract import extract_file, to_toml  # noqa: E402

POST = ROOT.parent / "shared" / "seeds" / "001_545d0e9500af5aae.txt"


def main() -> int:
    files = sorted((ROOT / "derivations").glob("chain_*.toml"))
    start = time.perf_counter()
    rep = report.run(files)
    wall = time.perf_counter() - start
    by_relation: dict[str, list[float]] = {}
    for row in rep.rows:
        if row.entry.kind == "step":
            by_relation.setdefault(row.entry.step.relation, []).append(row.result.seconds)
    print(f"chain report: {len(rep.rows)} rows from {len(files)} files in {wall:.1f} s "
          f"({sum(not r.matches for r in rep.rows)} not as expected)")
    for relation, times in sorted(by_relation.items()):
        print(f"  {relation:15s} {len(times):4d} lines, median {statistics.median(times):.2f} s, "
              f"worst {max(times):.2f} s")
    ratio = statistics.median(by_relation["="]) / statistics.median(by_relation["gradient"])
    print(f"  median '=' line / median 'gradient' line: {ratio:.2f}")
    if POST.exists():
        start = time.perf_counter()
        found = extract_file(POST)
        translate = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "post_extracted.toml"
            out.write_text(to_toml(found))
            start = time.perf_counter()
            extracted = report.run([out])
            checked = time.perf_counter() - start
        print(f"extract on the post: {len(found.claims)} claims, {len(found.skipped)} untranslated, "
              f"translation {translate * 1000:.0f} ms, report {checked:.1f} s "
              f"({extracted.summary()['verdicts']}); translation / report = {translate / checked:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
