"""``symbolic-bp extract FILE [-o out.toml] [--check]``: the claims of a
document (Markdown, LaTeX, a Jupyter notebook's Markdown cells) as a
derivation file (:mod:`symbolic_bp.derivations.extract` finds and translates
them; a side file ``FILE.symbolic-bp.toml`` next to the document declares
what it leaves unsaid).

With ``--check`` every claim is then checked through the same path as
``report`` and printed with its line and verdict; the derivation file is
written only with ``-o``.

Exit status: 0; 1 when the document holds no claim (nothing is written),
or with ``--check`` when a claim is refuted; 2 when the file or its side
file cannot be read or the output cannot be written.

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_extract(p)
>>> a = p.parse_args(["notes.md", "-o", "notes.toml"])
>>> a.files, a.output, a.check
(['notes.md'], 'notes.toml', False)
>>> p.parse_args(["--check", "a.md", "b.tex"]).files      # as pre-commit passes them
['a.md', 'b.tex']
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..derivations.declarations import side_file
from ..derivations.extract import Extraction, extract_file, to_toml
from ..errors import InputError
from .options import common_options


def add_extract(p: argparse.ArgumentParser) -> None:
    """The arguments of ``extract``."""
    p.add_argument("files", nargs="+", metavar="file",
                   help="a Markdown or LaTeX document, or a Jupyter notebook (several with --check)")
    p.add_argument("-o", "--output", help="write the derivation file here (default: standard output; "
                   "with --check: not written)")
    p.add_argument("--check", action="store_true",
                   help="check every claim too; exit 1 when one is refuted (for CI and pre-commit)")
    common_options(p)


def cmd_extract(args: argparse.Namespace) -> int:
    """Each file in turn; the exit status is the worst one (2, then 1, then 0)."""
    if len(args.files) > 1 and not args.check:
        print("symbolic-bp: error: several files need --check (one derivation file is written per document)",
              file=sys.stderr)
        return 2
    codes = [extract_one(argparse.Namespace(**{**vars(args), "file": f})) for f in args.files]
    return 2 if 2 in codes else max(codes)


def extract_one(args: argparse.Namespace) -> int:
    """Write the derivation file (and with --check, check it); list what was
    not translated on standard error."""
    try:
        found = extract_file(args.file)
    except InputError as e:
        print(f"symbolic-bp: error: {e}", file=sys.stderr)
        return 2
    for s in found.skipped:
        print(f"symbolic-bp: {args.file}:{s.line}: not translated: {s.reason}", file=sys.stderr)
    if not found.claims:
        if getattr(args, "check", False):
            print(f"{args.file}: no derivative claim translated; {len(found.skipped)} not translated")
            return 0                 # nothing refuted: a file of notes without gradients passes the hook
        print(f"symbolic-bp: {args.file}: no claims found (a derivative of a cost written before it: "
              "\\frac{\\partial L}{\\partial W} = ..., \\nabla_W L = ...); nothing written", file=sys.stderr)
        return 1
    toml_text = to_toml(found)
    if args.output:
        try:
            Path(args.output).write_text(toml_text, encoding="utf-8")
        except OSError as e:
            print(f"symbolic-bp: error: {args.output}: cannot write: {e.strerror or e}", file=sys.stderr)
            return 2
    elif not getattr(args, "check", False):
        print(toml_text)
    side = side_file(args.file)
    print(f"symbolic-bp: {len(found.claims)} claims ({sum(c.boxed for c in found.claims)} boxed) from "
          f"{args.file}; {len(found.skipped)} formulas not translated"
          + (f"; declarations from {side}" if side.is_file() else ""), file=sys.stderr)
    if getattr(args, "check", False):
        return check_extraction(found, toml_text, args)
    return 0


def check_extraction(found: Extraction, toml_text: str, args: argparse.Namespace) -> int:
    """Check every claim of the extraction as ``report`` does; print each
    with its line and verdict.  1 when one is refuted, else 0."""
    from ..derivations.derivation import loads
    from ..rendering.report import run_derivation
    try:
        derivation = loads(toml_text, f"{args.file} (extracted)")
    except InputError as e:
        print(f"symbolic-bp: error: {e}", file=sys.stderr)
        return 2
    claims = {c.name: c for c in found.claims}
    rows: dict[str, list] = {}
    for row in run_derivation(derivation, seconds=args.budget, seed=args.seed):
        rows.setdefault(row.entry.name.split("/")[0], []).append(row)
    refuted = 0
    counts: dict[str, int] = {}
    for name in sorted(rows, key=lambda n: (claims[n].line if n in claims else 0, n)):
        head, *steps = rows[name]
        c = claims.get(name)
        verdict = head.result.verdict
        counts[verdict] = counts.get(verdict, 0) + 1
        refuted += verdict == "refuted"
        print(f"{args.file}:{c.line if c else '?'}: {verdict:<10} d/d{c.wrt if c else '?'} = "
              f"{c.claim if c else ''}   [{name}]")
        for k, step in enumerate(steps, 1):        # the lines of a chain
            print(f"      line {k} of {len(steps)}: {step.result.verdict}")
        if verdict != "verified":
            r = head.result
            if r.derived:
                print(f"      true gradient: {r.derived}")
            if r.diagnosis or r.error:
                print(f"      {(r.diagnosis or r.error)[:300]}")
            if r.suggestion:
                print(f"      did you mean: {r.suggestion}")
            opaque = [p.split(":")[0] for p in (c.shapes if c else "").split() if p.endswith(":function")]
            if opaque:                   # what a side file can add: which function the document means
                print(f"      if {opaque[0]} is the sigmoid (tanh, relu ...), say so in {side_file(args.file)}: "
                      f"[functions] {opaque[0]} = \"sigmoid\"")
    for s in found.skipped:
        print(f"{args.file}:{s.line}: not translated: {s.reason}")
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    print(f"{args.file}: {summary}; {len(found.skipped)} not translated")
    return 1 if refuted else 0


# what commands.COMMANDS names: (add_arguments, run)
COMMAND = (add_extract, cmd_extract)
