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

Other kinds of item (δ recursions on a network, derivation chains...) plug in
with :func:`register_section`: a top-level array of tables ``[[kind]]`` whose
tables are turned into items by the registered function.  An item is an
:class:`Entry` (or subclass) and knows how to check itself.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..checks.claim import Claim
from ..errors import InputError
from ..checks.result import VERDICTS

SUFFIX = ".toml"
MAX_BYTES = 2_000_000
FILE_KEYS = {"title": True, "document": False, "section": False, "shapes": False}
CLAIM_KEYS = {"name": True, "cost": True, "wrt": True, "claim": True, "latex": False,
              "expect": False, "note": False, "section": False, "shapes": False}


@dataclass(frozen=True)
class Entry:
    """One gradient claim of a derivation file, with where it came from.

    Other item kinds subclass it and override :meth:`run`, :meth:`statement`
    and :meth:`fields`."""

    name: str
    claim: Claim
    section: str = ""
    latex: str = ""
    expect: str = "verified"
    note: str = ""
    line: int = 0

    kind = "claim"

    def run(self, seconds: float, seed: int):
        """Check this item; a :class:`~symbolic_bp.checks.result.Result`."""
        from ..checks.checker import check
        return check(self.claim, seconds=seconds, seed=seed)

    def statement(self) -> str:
        """One line saying what is claimed, in the claim language."""
        return f"dC/d{self.claim.wrt} = {self.claim.claim}   for C = {self.claim.cost}"

    def quantity(self) -> str | None:
        """What a counterexample's entry is an entry of (None: "the truth")."""
        return f"dC/d{self.claim.wrt}" if self.claim else None

    def fields(self) -> dict:
        """What the item states, for JSON reports."""
        return {"shapes": self.claim.shapes, "cost": self.claim.cost, "wrt": self.claim.wrt}


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


def check_keys(table: dict, spec: dict, where: str, nested: tuple[str, ...] = ()) -> None:
    """Unknown keys (with a suggestion), missing required keys (``spec``: key ->
    required), and values that are not strings (except the keys ``nested``,
    which hold tables or numbers: none unless the caller says so -- a
    [[claim]] or [[network]] table's ``claim`` is a string like the others)."""
    for key in table:
        if key not in spec:
            raise InputError(f"{where}: unknown key {key!r}{_suggest(key, spec)}")
    for key, required in spec.items():
        if required and key not in table:
            raise InputError(f"{where}: missing key {key!r}")
    for key, value in table.items():
        if key not in nested and not isinstance(value, str):
            raise InputError(f"{where}: key {key!r} must be a string, got {type(value).__name__}")



def header_lines(text: str, key: str) -> list[int]:
    """1-based line numbers of the ``[[key]]`` headers."""
    pattern = re.compile(rf"\s*\[\[\s*{re.escape(key)}\s*\]\]")
    return [i + 1 for i, line in enumerate(text.splitlines()) if pattern.match(line)]


def _key_line(text: str, start: int, key: str) -> int:
    lines = text.splitlines()
    for i in range(max(start, 1) - 1, len(lines)):
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return start


@dataclass(frozen=True)
class Context:
    """What a section parser gets besides its table: the file, its text, its
    top-level defaults, and the line of the table's header."""

    path: str
    text: str
    defaults: dict
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def key_line(self, key: str) -> str:
        return f"{self.path}:{_key_line(self.text, self.line, key)}"


def _claim_entry(table: dict, ctx: Context) -> Entry:
    check_keys(table, CLAIM_KEYS, ctx.where)
    name = table["name"]
    shapes = table.get("shapes", ctx.defaults.get("shapes"))
    if shapes is None:
        raise InputError(f"{ctx.where}: claim {name!r} has no 'shapes' and the file gives no default")
    claim = Claim(shapes=shapes, cost=table["cost"], wrt=table["wrt"], claim=table["claim"])
    return Entry(name=name, claim=claim, **common_fields(table, ctx))


def common_fields(table: dict, ctx: Context) -> dict:
    """section, latex, expect, note and line of an item, with the file's defaults."""
    expect = table.get("expect", "verified")
    if expect not in VERDICTS:
        raise InputError(f"{ctx.key_line('expect')}: expect must be one of {', '.join(VERDICTS)}, got {expect!r}")
    return {"section": table.get("section", ctx.defaults.get("section", "")), "latex": table.get("latex", ""),
            "expect": expect, "note": table.get("note", ""), "line": ctx.line}


def lazy(module: str, function: str) -> Callable[[dict, Context], Entry]:
    """A section parser that lives in ``symbolic_bp.<module>``, imported on first use."""
    def parse(table: dict, ctx: Context) -> Entry:
        import importlib
        return getattr(importlib.import_module(f"symbolic_bp.{module}"), function)(table, ctx)
    return parse


# [[kind]] -> function(table, context) -> Entry; one line per kind
SECTIONS: dict[str, Callable[[dict, Context], Entry]] = {
    "claim": _claim_entry,
    "chain": lazy("derivations.chain", "parse_chain"),
    "step": lazy("derivations.chain", "parse_step"),
    "network": lazy("derivations.network_entry", "parse_network"),
}


def register_section(kind: str, parse_table: Callable[[dict, Context], Entry]) -> None:
    """Let derivation files hold ``[[kind]]`` tables, parsed by ``parse_table``."""
    SECTIONS[kind] = parse_table


def loads(text: str, path: str = "<string>") -> Derivation:
    """Parse derivation-file text; raise :class:`InputError` naming the place."""
    try:
        data = tomllib.loads(text)
    except RecursionError:      # tomllib recurses once per level of [[[...]]] or {a={...}}
        raise InputError(f"{path}: arrays or inline tables nested too deeply") from None
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        m = re.search(r"\(at line (\d+), column (\d+)\)", message)
        if m:
            message = message[:m.start()].strip()
            raise InputError(f"{path}:{m.group(1)}:{m.group(2)}: {message}") from None
        raise InputError(f"{path}: {message}") from None
    sections = {k: v for k, v in data.items() if k in SECTIONS}
    check_keys({k: v for k, v in data.items() if k not in SECTIONS}, FILE_KEYS | dict.fromkeys(SECTIONS, False), path)
    defaults = {k: v for k, v in data.items() if k in FILE_KEYS}
    entries, names = [], set()
    for kind, tables in sections.items():
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise InputError(f"{path}: {kind!r} must be an array of tables ([[{kind}]] sections)")
        lines = header_lines(text, kind)
        for index, table in enumerate(tables):
            ctx = Context(path, text, defaults, lines[index] if index < len(lines) else 0)
            entry = SECTIONS[kind](table, ctx)
            if entry.name in names:
                raise InputError(f"{ctx.where}: the name {entry.name!r} is used twice")
            names.add(entry.name)
            entries.append(entry)
    if not entries:
        raise InputError(f"{path}: no [[claim]] sections")
    entries.sort(key=lambda e: e.line)
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
        text = raw.decode("utf-8-sig")     # a byte-order mark (Windows editors) is not TOML
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
