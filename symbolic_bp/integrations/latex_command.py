"""``symbolic-bp latex``: the proofs of derivation files as one standalone
LaTeX document (:mod:`symbolic_bp.rendering.document`), compiled with
``--pdf``.  The claims are checked, then proved, in ``--jobs`` worker
processes at once (one per core by default: the bundled derivations take
minutes one after the other).

Exit status: 0 every verdict as expected, 1 otherwise, 2 unreadable input
(the other files are still typeset) or an unwritable output, 4 ``--pdf`` was
asked and no PDF could be made (no TeX, or a TeX error).

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_latex(p)
>>> args = p.parse_args(["a.toml", "--proof-budget", "5"])
>>> (args.paths, args.output, args.pdf, args.proof_budget, args.jobs)
(['a.toml'], 'proofs.tex', False, 5.0, None)
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from ..checks.budget import PROOF_SECONDS
from .options import budget_seconds, common_options, derivation_paths, jobs_number, missing_path


def add_latex(p: argparse.ArgumentParser) -> None:
    """The arguments of ``latex``."""
    p.add_argument("paths", nargs="*", help="derivation files or folders (default: the bundled derivations/)")
    p.add_argument("-o", "--output", default="proofs.tex", help="the .tex file to write (default proofs.tex)")
    p.add_argument("--pdf", action="store_true", help="also compile it with latexmk/pdflatex")
    p.add_argument("--proof-budget", type=budget_seconds, default=PROOF_SECONDS, metavar="SECONDS",
                   help=f"time budget per index proof (default {PROOF_SECONDS:g})")
    p.add_argument("-j", "--jobs", type=jobs_number, default=None, metavar="N",
                   help="check and prove N claims at once, in worker processes (default: one per core; "
                        "1: one after the other)")
    common_options(p)


def write_document(out: Path, text: str) -> None:
    """Write ``text`` to ``out`` whole or not at all (a temporary file, then
    renamed), readable as any new file is; OSError when it cannot."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.NamedTemporaryFile("w", dir=out.parent, suffix=".tmp", delete=False, encoding="utf-8")
    with tmp:
        tmp.write(text)
    os.replace(tmp.name, out)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(out, 0o666 & ~mask)            # a temporary file is private; the document is not


def cmd_latex(args: argparse.Namespace) -> int:
    """Check and prove, write the document, compile it with ``--pdf``."""
    # the prover (SymPy, NumPy) loads for a run, not for --help
    from ..rendering.document import PDF_FAILED, build, compile_pdf, render, tex_tools
    from ..rendering.proof import CheckedProof
    paths = derivation_paths(args.paths)
    missing = missing_path(paths)
    if missing:
        print(missing, file=sys.stderr)
        return 2
    out = Path(args.output)
    if out.suffix != ".tex":
        print(f"symbolic-bp: error: --output {out}: the file name must end in .tex", file=sys.stderr)
        return 2
    no_tex = tex_tools() if args.pdf else None
    if no_tex:
        print(f"symbolic-bp: {no_tex}", file=sys.stderr)    # said once, before the long run
    live = sys.stderr.isatty()
    jobs = args.jobs or os.cpu_count() or 1
    rep, proofs = build(paths, seconds=args.budget, seed=args.seed, proof_seconds=args.proof_budget, jobs=jobs,
                        progress=(lambda text: print("  " + text, file=sys.stderr)) if live else (lambda text: None))
    try:
        write_document(out, render(rep, proofs))
    except OSError as e:
        print(f"symbolic-bp: error: {out}: cannot write: {e.strerror or e}", file=sys.stderr)
        return 2
    checked = sum(isinstance(p, CheckedProof) for p in proofs.values())
    print(f"wrote {out}: {len(rep.rows)} items, {checked} index proofs checked line by line, "
          f"{len(proofs) - checked} verified claims without an index proof")
    for error in rep.errors:
        print(f"symbolic-bp: {error}", file=sys.stderr)
    if args.pdf:
        pdf, why = compile_pdf(out)
        if pdf is None:
            if why != no_tex:
                print(f"symbolic-bp: {why}", file=sys.stderr)
            return PDF_FAILED
        print(f"wrote {pdf}")
    return rep.exit_code


# what commands.COMMANDS names: (add_arguments, run)
COMMAND = (add_latex, cmd_latex)
