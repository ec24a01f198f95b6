"""Derivation files: the one module that reads them.

A derivation file is TOML::

    title = "Backpropagation, section III: the boxed matrix identities"
    document = "shared/seeds/001_545d0e9500af5aae.txt"
    section = "III, aside: matrix derivatives"        # default for the claims
    shapes = "A:m,n x:n y:m"                            # default for the claims

    [[claim]]
    name = "linear-yAx"
    cost = "y.T @ A @ x"
    wrt = "A"
    claim = "y @ x.T"
    latex = '\\boxed{C = y^T A x \\implies \\frac{\\delta C}{\\delta A} = y x^T}'
    expect = "verified"      # optional: verified (default) | refuted | invalid | undecided
    note = "why this verdict is expected"   # optional
    section = "..."          # optional, overrides the file's
    shapes = "..."           # optional, overrides the file's

Every problem is an :class:`InputError` naming the file and the line or key.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .claim import Claim
from .errors import InputError
from .result import VERDICTS

SUFFIX = ".toml"
MAX_BYTES = 2_000_000
FILE_KEYS = {"title": True, "document": False, "section": False, "shapes": False, "claim": True}
CLAIM_KEYS = {"name": True, "cost": True, "wrt": True, "claim": True, "latex": False,
              "expect": False, "note": False, "section": False, "shapes": False}


@dataclass(frozen=True)
class Entry:
    """One claim of a derivation file, with where it came from."""

    name: str
    claim: Claim
    section: str = ""
    latex: str = ""
    expect: str = "verified"
    note: str = ""
    line: int = 0


@dataclass(frozen=True)
class Derivation:
    path: str
    title: str
    document: str = ""
    entries: tuple[Entry, ...] = field(default_factory=tuple)

    def where(self, entry: Entry) -> str:
        return f"{self.path}:{entry.line}" if entry.line else self.path


def _suggest(key: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(table: dict, spec: dict, where: str) -> None:
    for key in table:
        if key not in spec:
            raise InputError(f"{where}: unknown key {key!r}{_suggest(key, spec)}")
    for key, required in spec.items():
        if required and key not in table:
            raise InputError(f"{where}: missing key {key!r}")
    for key, value in table.items():
        if key != "claim" and not isinstance(value, str):
            raise InputError(f"{where}: key {key!r} must be a string, got {type(value).__name__}")


def _claim_lines(text: str) -> list[int]:
    """1-based line numbers of the ``[[claim]]`` headers."""
    return [i + 1 for i, line in enumerate(text.splitlines()) if re.match(r"\s*\[\[\s*claim\s*\]\]", line)]


def _key_line(text: str, start: int, key: str) -> int:
    lines = text.splitlines()
    for i in range(max(start, 1) - 1, len(lines)):
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return start


def loads(text: str, path: str = "<string>") -> Derivation:
    """Parse derivation-file text; raise :class:`InputError` naming the place."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        m = re.search(r"\(at line (\d+), column (\d+)\)", message)
        if m:
            message = message[:m.start()].strip()
            raise InputError(f"{path}:{m.group(1)}:{m.group(2)}: {message}") from None
        raise InputError(f"{path}: {message}") from None
    _check_keys(data, FILE_KEYS, path)
    claims = data["claim"]
    if not isinstance(claims, list) or not all(isinstance(c, dict) for c in claims):
        raise InputError(f"{path}: 'claim' must be an array of tables ([[claim]] sections)")
    if not claims:
        raise InputError(f"{path}: no [[claim]] sections")
    lines = _claim_lines(text)
    entries, names = [], set()
    for index, table in enumerate(claims):
        line = lines[index] if index < len(lines) else 0
        where = f"{path}:{line}" if line else f"{path}: claim {index + 1}"
        _check_keys(table, CLAIM_KEYS, where)
        name = table["name"]
        if name in names:
            raise InputError(f"{where}: claim name {name!r} is used twice")
        names.add(name)
        expect = table.get("expect", "verified")
        if expect not in VERDICTS:
            raise InputError(f"{path}:{_key_line(text, line, 'expect')}: expect must be one of "
                             f"{', '.join(VERDICTS)}, got {expect!r}")
        shapes = table.get("shapes", data.get("shapes"))
        if shapes is None:
            raise InputError(f"{where}: claim {name!r} has no 'shapes' and the file gives no default")
        claim = Claim(shapes=shapes, cost=table["cost"], wrt=table["wrt"], claim=table["claim"])
        entries.append(Entry(name=name, claim=claim, section=table.get("section", data.get("section", "")),
                             latex=table.get("latex", ""), expect=expect, note=table.get("note", ""), line=line))
    return Derivation(path=path, title=data["title"], document=data.get("document", ""), entries=tuple(entries))


def load(path: str | Path) -> Derivation:
    """Read one derivation file."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise InputError(f"{path}: file is larger than {MAX_BYTES} bytes")
        raw = p.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte {e.start})") from None
    return loads(text, str(path))


def discover(paths: list[str | Path]) -> list[Path]:
    """Derivation files under ``paths`` (files as given, folders searched), sorted."""
    found: list[Path] = []
    for path in paths:
        p = Path(path)
        if p.is_dir():
            found.extend(sorted(p.rglob(f"*{SUFFIX}")))
        else:
            found.append(p)
    return found
