"""pytest plugin: derivation files are test files, each claim a test item.

Registered through the ``pytest11`` entry point (``symbolic_bp.integrations.plugin``).
Importing it costs nothing beyond pytest: SymPy is imported only when a
derivation item runs.

Collected: files matching ``symbolic_bp_pattern`` (default ``*.toml``) under
one of ``symbolic_bp_paths`` (default ``derivations``), relative to the
rootdir; ids read ``file::derivation::claim``.  An item passes when the
verdict is the expected one (``verified`` unless the file says otherwise);
*undecided* fails unless ``--symbolic-bp-allow-undecided``.  A failure reads
like the derivation: as written, claimed, derived, counterexample, diagnosis,
and -- when the checks offer one -- ``did you mean:`` the corrected claim,
which they verified.

Options (command line, or ini keys of the same name with ``symbolic_bp_``):

=================================  ==========================================
``--symbolic-bp-budget SECONDS``   time budget per claim (default 60)
``--symbolic-bp-seed N``           seed of the random draws (default 0)
``--symbolic-bp-allow-undecided``  an undecided claim is skipped, not failed
``--symbolic-bp-skip-slow``        leave out the slow numeric checks on deep
                                   networks (induction and unrolled remain)
=================================  ==========================================
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

DEFAULT_BUDGET = 60.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("symbolic_bp", "derivation files (symbolic_bp)")
    group.addoption("--symbolic-bp-budget", type=float, default=None, metavar="SECONDS",
                    help="time budget per claim (default 60, or the ini value symbolic_bp_budget)")
    group.addoption("--symbolic-bp-seed", type=int, default=None, help="seed of the random draws")
    group.addoption("--symbolic-bp-allow-undecided", action="store_true", default=None,
                    help="skip claims whose verdict is undecided instead of failing them")
    group.addoption("--symbolic-bp-skip-slow", action="store_true", default=None,
                    help="leave out the slow numeric checks on deep networks")
    parser.addini("symbolic_bp_paths", "folders or files holding derivation files", type="paths",
                  default=[])
    parser.addini("symbolic_bp_pattern", "glob of derivation file names", default="*.toml")
    parser.addini("symbolic_bp_budget", "time budget per claim, seconds", default=str(DEFAULT_BUDGET))
    parser.addini("symbolic_bp_seed", "seed of the random draws", default="0")
    parser.addini("symbolic_bp_allow_undecided", "skip undecided claims instead of failing", type="bool",
                  default=False)
    parser.addini("symbolic_bp_skip_slow", "leave out the slow numeric checks on deep networks", type="bool",
                  default=False)


def _setting(config: pytest.Config, name: str, convert):
    value = config.getoption(f"symbolic_bp_{name}")
    if value is None:
        raw = config.getini(f"symbolic_bp_{name}")
        try:
            value = convert(raw)
        except ValueError:
            raise pytest.UsageError(f"ini option symbolic_bp_{name}: {raw!r} is not valid") from None
    return value


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "derivation: a claim of a symbolic_bp derivation file")
    budget = _setting(config, "budget", float)
    if not 0 < budget <= 86400:
        raise pytest.UsageError(f"symbolic_bp budget must be between 0 and 86400 seconds, got {budget}")
    config._symbolic_bp = {
        "budget": budget,
        "seed": _setting(config, "seed", int),
        "allow_undecided": bool(_setting(config, "allow_undecided", bool)),
        "skip_slow": bool(_setting(config, "skip_slow", bool)),
        "roots": _roots(config),        # resolved once, not per file pytest visits
    }


def _roots(config: pytest.Config) -> list[Path]:
    paths = config.getini("symbolic_bp_paths")
    return [Path(p).resolve() for p in paths] or [config.rootpath / "derivations"]


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    config = parent.config
    if not file_path.match(config.getini("symbolic_bp_pattern")) or file_path.name == "pyproject.toml":
        return None
    resolved = file_path.resolve()
    if any(resolved == root or root in resolved.parents for root in config._symbolic_bp["roots"]):
        return DerivationFile.from_parent(parent, path=file_path)
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lower() or "derivation"


class DerivationFile(pytest.File):
    """A derivation file: one collector per derivation, one item per claim."""

    def collect(self):
        from ..derivations.derivation import load
        from ..errors import InputError
        try:
            derivation = load(self.path)
        except InputError as e:
            raise self.CollectError(str(e)) from None
        groups: dict[str, list] = {}
        for entry in derivation.entries:
            group = getattr(entry, "group", None) or _slug(derivation.title)
            groups.setdefault(group, []).append(entry)
        for name, entries in groups.items():
            yield DerivationGroup.from_parent(self, name=name, derivation=derivation, entries=entries)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, self.CollectError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class DerivationGroup(pytest.Collector):
    def __init__(self, *, derivation, entries, **kwargs):
        super().__init__(**kwargs)
        self.derivation, self.entries = derivation, entries

    def collect(self):
        for entry in self.entries:
            yield DerivationItem.from_parent(self, name=entry.name, derivation=self.derivation, entry=entry)


class ClaimMismatch(Exception):
    """The verdict is not the expected one; carries the readable report."""


class DerivationItem(pytest.Item):
    def __init__(self, *, derivation, entry, **kwargs):
        super().__init__(**kwargs)
        self.derivation, self.entry = derivation, entry
        self.result = None
        self.add_marker(pytest.mark.derivation)

    def runtest(self) -> None:
        settings = self.config._symbolic_bp
        entry = self.entry
        if settings["skip_slow"] and getattr(entry, "deep", False):
            entry = dataclasses.replace(entry, deep=False)      # a network item: no depth-6 numeric check
        self.result = entry.run(settings["budget"], settings["seed"])
        self.user_properties.append(("verdict", self.result.verdict))
        if self.result.verdict == self.entry.expect:
            return
        if self.result.verdict == "undecided" and settings["allow_undecided"]:
            pytest.skip(f"undecided: {self.result.error}")
        raise ClaimMismatch(self.explain())

    def explain(self) -> str:
        from ..rendering.report import Row, explain
        row = Row(self.derivation.path, self.derivation.title, self.derivation.document, self.entry, self.result)
        lines = explain(row)
        lines[0] = (f"{self.entry.name}: expected {self.entry.expect}, got {self.result.verdict}"
                    f"  ({self.derivation.where(self.entry)})")
        return "\n".join(lines)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ClaimMismatch):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, max(self.entry.line - 1, 0), f"{self.parent.name}::{self.entry.name}"
