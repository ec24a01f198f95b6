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
from importlib.resources import files
from pathlib import Path

from ..checks.budget import DEFAULT_SECONDS

def bundled_derivations() -> Path:
    """The bundled derivation files: ``derivations/`` of a source checkout, or
    the copy the wheel ships as package data (``symbolic_bp/data/derivations``)."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "derivations").is_dir():
        return checkout / "derivations"
    return Path(files("symbolic_bp").joinpath("data", "derivations"))


# what report and latex run when given no path and there is no ./derivations
BUNDLED = bundled_derivations()


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


def expression_option(p: argparse.ArgumentParser, *flags: str, **kwargs) -> argparse.Action:
    """An option whose value is text in the claim language (a cost, a claim, a
    line of a derivation...), which may start with a minus sign: ``--claim -a``
    reads as ``--claim=-a`` (:func:`glue_expressions`); the help is as
    ``p.add_argument(*flags, **kwargs)`` gives it.

    >>> p = argparse.ArgumentParser()
    >>> _ = expression_option(p, "--claim")
    >>> p.parse_args(glue_expressions(p, ["--claim", "-inv(X).T"])).claim
    '-inv(X).T'
    """
    action = p.add_argument(*flags, **kwargs)
    action.expression = True
    return action


def glue_expressions(p: argparse.ArgumentParser, words: list[str]) -> list[str]:
    """``words`` with each expression option of ``p`` (:func:`expression_option`,
    written whole or as an unambiguous prefix) joined to the word after it, so
    that argparse takes that word as its value even when it starts with ``-``
    (argparse reads ``--claim -a`` as an option without its argument).

    >>> p = argparse.ArgumentParser()
    >>> _ = expression_option(p, "--cost"), expression_option(p, "--claim"), p.add_argument("-a")
    >>> glue_expressions(p, ["--cost", "-x.T @ a", "--cla", "-a", "-a", "-b", "--", "--claim", "-c"])
    ['--cost=-x.T @ a', '--claim=-a', '-a', '-b', '--', '--claim', '-c']
    """
    expressions = {s for a in p._actions if getattr(a, "expression", False) for s in a.option_strings}
    longs = [s for s in p._option_string_actions if s.startswith("--")]
    out, i = [], 0
    while i < len(words):
        word = words[i]
        if word == "--":                       # the rest is positional
            return out + words[i:]
        exact = word if word in longs else None
        prefixed = [s for s in longs if s.startswith(word)] if word.startswith("--") and p.allow_abbrev else []
        option = exact or (prefixed[0] if len(prefixed) == 1 else None)
        if option in expressions and i + 1 < len(words) and words[i + 1].startswith("-"):
            out.append(f"{option}={words[i + 1]}")
            i += 2
            continue
        out.append(word)
        i += 1
    return out


def jobs_number(text: str) -> int:
    """A number of worker processes, at least 1.

    >>> jobs_number("2")
    2
    >>> jobs_number("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be at least 1, got 0
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


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
