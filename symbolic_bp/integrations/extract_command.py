"""``symbolic-bp extract FILE.md|FILE.tex [-o out.toml]``: the claims of a
document as a derivation file (:mod:`symbolic_bp.derivations.extract` finds
and translates them).

Exit status: 0; 1 when the document holds no claim (nothing is written); 2
when the file cannot be read or the output cannot be written.

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_extract(p)
>>> vars(p.parse_args(["notes.md", "-o", "notes.toml"]))
{'file': 'notes.md', 'output': 'notes.toml'}
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..derivations.extract import extract_file, to_toml
from ..errors import InputError


def add_extract(p: argparse.ArgumentParser) -> None:
    """The arguments of ``extract``."""
    p.add_argument("file", help="a Markdown or LaTeX document")
    p.add_argument("-o", "--output", help="write the derivation file here (default: standard output)")


def cmd_extract(args: argparse.Namespace) -> int:
    """Write the derivation file; list what was not translated on standard error.
    Exit 0; 1 when the document holds no claim (nothing is written); 2 when
    the file cannot be read or the output cannot be written."""
    try:
        found = extract_file(args.file)
    except InputError as e:
        print(f"symbolic-bp: error: {e}", file=sys.stderr)
        return 2
    for s in found.skipped:
        print(f"symbolic-bp: {args.file}:{s.line}: not translated: {s.reason}", file=sys.stderr)
    if not found.claims:
        print(f"symbolic-bp: {args.file}: no claims found (\\boxed{{...}} or C = ... \\implies dC/dX = ...); "
              "nothing written", file=sys.stderr)
        return 1
    toml_text = to_toml(found)
    if args.output:
        try:
            Path(args.output).write_text(toml_text, encoding="utf-8")
        except OSError as e:
            print(f"symbolic-bp: error: {args.output}: cannot write: {e.strerror or e}", file=sys.stderr)
            return 2
    else:
        print(toml_text)
    print(f"symbolic-bp: {len(found.claims)} claims ({sum(c.boxed for c in found.claims)} boxed) from "
          f"{args.file}; {len(found.skipped)} formulas not translated", file=sys.stderr)
    return 0


# what commands.COMMANDS names: (add_arguments, run)
COMMAND = (add_extract, cmd_extract)
