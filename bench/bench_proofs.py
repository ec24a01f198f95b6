"""Time the checked index proofs against the verdicts they accompany.

For every verified gradient claim of the post's bundled derivations, in one
run, side by side: the time of ``check`` (the verdict) and of ``index_proof``
(building the proof and checking every line), and their ratio.

    python bench/bench_proofs.py
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symbolic_bp import check  # noqa: E402
from symbolic_bp.derivations.derivation import load  # noqa: E402
from symbolic_bp.rendering.proof import CheckedProof, index_proof  # noqa: E402

FILES = ["post_III_matrix_identities.toml", "post_IV_activations.toml", "post_III_linear_network.toml"]


def main() -> None:
    rows = []
    for name in FILES:
        for entry in load(ROOT / "derivations" / name).entries:
            start = time.perf_counter()
            result = check(entry.claim)
            checked = time.perf_counter() - start
            if result.verdict != "verified":
                continue
            start = time.perf_counter()
            proof = index_proof(entry.claim)
            proved = time.perf_counter() - start
            rows.append((entry.name, checked, proved, isinstance(proof, CheckedProof),
                         len(proof.lines) if isinstance(proof, CheckedProof) else 0))
    width = max(len(r[0]) for r in rows)
    print(f"{'claim':{width}s}  {'check':>7s}  {'proof':>7s}  {'ratio':>6s}  lines")
    for name, checked, proved, ok, lines in rows:
        print(f"{name:{width}s}  {checked:6.2f}s  {proved:6.2f}s  {proved / checked:6.2f}  {lines if ok else 'no proof'}")
    ratios = [p / c for _, c, p, _, _ in rows]
    print(f"\n{len(rows)} verified claims, {sum(r[3] for r in rows)} checked proofs; "
          f"total check {sum(r[1] for r in rows):.1f}s, total proof {sum(r[2] for r in rows):.1f}s; "
          f"median ratio proof/check {statistics.median(ratios):.2f}, worst {max(ratios):.2f}")


if __name__ == "__main__":
    main()
