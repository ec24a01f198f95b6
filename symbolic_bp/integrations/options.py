"""The command-line options several commands share, and how their values read.

A value out of range is an argparse error (one line, exit status 2), never a
traceback:

>>> budget_seconds("2.5"), seed_number("7")
(2.5, 7)
>>> budget_seconds("0")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: must be between 0 and 86400 seconds, got 0
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..checks.budget import DEFAULT_SECONDS

# the derivation files shipped with the package: what report and latex run when given no path
BUNDLED = Path(__file__).resolve().parents[2] / "derivations"


def budget_seconds(text: str) -> float:
    """A time budget in seconds, above 0 and at most a day.

    >>> budget_seconds("86400.0")
    86400.0
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}")
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"must be between 0 and 86400 seconds, got {text}")
    return value


def seed_number(text: str) -> int:
    """A seed of the random draws: an integer in 0 .. 2**32-1.

    >>> seed_number("x")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: not an integer: 'x'
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}")
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32-1, got {text}")
    return value


def common_options(p: argparse.ArgumentParser) -> None:
    """--budget and --seed, shared by every command that checks claims.

    >>> p = argparse.ArgumentParser()
    >>> common_options(p)
    >>> vars(p.parse_args(["--seed", "3"])) == {"budget": DEFAULT_SECONDS, "seed": 3}
    True
    """
    p.add_argument("--budget", type=budget_seconds, default=DEFAULT_SECONDS, metavar="SECONDS",
                   help=f"time budget per claim (default {DEFAULT_SECONDS:g})")
    p.add_argument("--seed", type=seed_number, default=0, help="seed of the random draws (default 0)")


def json_option(p: argparse.ArgumentParser) -> None:
    """--json of the commands that check claims: the result as one JSON object.

    >>> p = argparse.ArgumentParser()
    >>> json_option(p)
    >>> p.parse_args(["--json"]).json
    True
    """
    p.add_argument("--json", action="store_true", help="print one JSON object")


def derivation_paths(paths: list[str]) -> list:
    """The paths given, or else ./derivations when there is one, else the bundled files.

    >>> derivation_paths(["a.toml"])
    ['a.toml']
    """
    return paths or [Path("derivations") if Path("derivations").is_dir() else BUNDLED]


def missing_path(paths: list) -> str | None:
    """The error line for the first path that does not exist, or None.

    >>> missing_path(["/no/such/file.toml"])
    'symbolic-bp: error: /no/such/file.toml: no such file or folder'
    """
    missing = [p for p in paths if not Path(p).exists()]
    return f"symbolic-bp: error: {missing[0]}: no such file or folder" if missing else None
