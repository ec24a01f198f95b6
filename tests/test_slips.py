"""The catalogue of slips, measured (issue 13, parts 2-4).

On one-mistake variants of published identities and backward passes
(``tests/data/slips.toml``, and the held-out ``slips_heldout.toml`` written
after the catalogue), the checker refutes the claim, its diagnosis names the
injected kind of slip, and the repaired claim it offers is verified by a
check of its own (``check`` in a fresh worker, the full budget).  At least
:data:`RATE` of the refutations must be named right with a verified repair,
and no repair offered may fail its check.  The seed post's refuted items get
a repair each.
"""
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from symbolic_bp.checks import checker
from symbolic_bp.checks.checker import check, decide
from symbolic_bp.checks.claim import Claim, prepare
from symbolic_bp.checks.slips import CATALOGUE, KINDS
from symbolic_bp.derivations.derivation import load

DATA = Path(__file__).parent / "data"
DERIVATIONS = Path(__file__).resolve().parent.parent / "derivations"
RATE = 0.90
FIELDS = {"name", "family", "source", "shapes", "cost", "wrt", "claim", "slip", "correct"}


def _variants(name: str) -> list[dict]:
    return tomllib.loads((DATA / name).read_text())["variant"]


VARIANTS = _variants("slips.toml")
HELDOUT = _variants("slips_heldout.toml")


def _claim(v: dict, text: str) -> Claim:
    return Claim(v["shapes"], v["cost"], v["wrt"], text)


def _decided(claim: Claim):
    """The checker's verdict on ``claim`` (in this process) and the diagnosis it
    computed on the way, kind included."""
    found = {}
    original = checker.explain

    def spy(*args, **kwargs):
        found["diagnosis"] = original(*args, **kwargs)
        return found["diagnosis"]
    checker.explain = spy
    try:
        result = decide(prepare(claim), claim.seed(0))
    finally:
        checker.explain = original
    return result, found.get("diagnosis")


@pytest.fixture(scope="module")
def measured() -> dict:
    """name -> (variant, result, diagnosis, verdict of the repair's own check or None)."""
    out = {}
    for v in VARIANTS + HELDOUT:
        result, diagnosis = _decided(_claim(v, v["claim"]))
        repaired = check(_claim(v, result.suggestion)).verdict if result.suggestion else None
        out[v["name"]] = (v, result, diagnosis, repaired)
    return out


def test_the_variants_are_many_sourced_and_of_catalogue_kinds():
    names = [v["name"] for v in VARIANTS + HELDOUT]
    assert len(VARIANTS) >= 60 and len(set(names)) == len(names)
    for v in VARIANTS + HELDOUT:
        assert set(v) == FIELDS, v["name"]
        assert v["slip"] in KINDS and v["family"] in ("matrix", "backward") and v["source"].strip(), v["name"]
        assert v["claim"] != v["correct"], v["name"]
    # every kind of the catalogue is injected at least twice, both families are measured
    counts = {kind: sum(v["slip"] == kind for v in VARIANTS) for kind in KINDS}
    assert all(n >= 2 for n in counts.values()), counts
    assert {v["family"] for v in VARIANTS} == {"matrix", "backward"}


def test_every_row_of_the_catalogue_has_a_kind_and_says_what_it_catches():
    assert [row.kind for row in CATALOGUE if row.kind not in KINDS] == []
    assert all(row.learners.strip() and callable(row.edits) for row in CATALOGUE)


def test_every_variant_is_refuted(measured):
    wrong = [f"{name}: {result.verdict} {result.error or ''}" for name, (_, result, _, _) in measured.items()
             if result.verdict != "refuted"]
    assert wrong == []


def test_the_injected_slip_is_named_with_a_verified_repair(measured):
    def line(name, v, result, diagnosis, repaired):
        got = diagnosis.kind if diagnosis else None
        return (f"{name}: want {v['slip']}, got {got} ({result.diagnosis}); repair "
                f"{result.suggestion!r}: {repaired}")
    misses, by_family = [], {}
    for name, (v, result, diagnosis, repaired) in measured.items():
        right = diagnosis is not None and diagnosis.kind == v["slip"] and repaired == "verified"
        by_family.setdefault(v["family"], []).append(right)
        if not right:
            misses.append(line(name, v, result, diagnosis, repaired))
    rate = 1 - len(misses) / len(measured)
    summary = ", ".join(f"{family} {sum(r)}/{len(r)}" for family, r in sorted(by_family.items()))
    assert rate >= RATE, f"{rate:.2f} named right ({summary}); misses:\n" + "\n".join(misses)
    heldout = [measured[v["name"]] for v in HELDOUT]
    right = sum(d is not None and d.kind == v["slip"] and ok == "verified" for v, _, d, ok in heldout)
    assert right / len(heldout) >= RATE, f"held out: {right}/{len(heldout)}"


def test_no_repair_offered_fails_its_own_check(measured):
    failing = [f"{name}: {result.suggestion!r} is {repaired}" for name, (_, result, _, repaired) in measured.items()
               if result.suggestion is not None and repaired != "verified"]
    assert failing == []
    # the result carries the repair the diagnosis found, and a repair only with a named slip
    for name, (_, result, diagnosis, _) in measured.items():
        assert result.suggestion == diagnosis.suggestion, name
        assert result.suggestion is None or diagnosis.kind is not None or "zero" in result.diagnosis, name


@pytest.mark.slow
@pytest.mark.parametrize("v", VARIANTS + HELDOUT, ids=[v["name"] for v in VARIANTS + HELDOUT])
def test_the_correct_formula_of_each_variant_is_verified(v):
    r = check(_claim(v, v["correct"]))
    assert r.verdict == "verified", (r.error, r.diagnosis)


def _refuted_items(pattern: str) -> list:
    return [e for path in sorted(DERIVATIONS.glob(pattern)) for e in load(path).entries if e.expect == "refuted"]


def _recheck(entry, suggestion: str):
    """The item with its claim replaced by ``suggestion``, checked as the item is."""
    if entry.kind == "network":
        return replace(entry, text=suggestion).run(60, 0)
    return replace(entry, claim=replace(entry.claim, claim=suggestion)).run(60, 0)


def test_every_wrong_line_of_the_seed_post_gets_a_verified_repair():
    items = _refuted_items("post_*.toml")
    assert len(items) >= 8
    for entry in items:
        r = entry.run(60, 0)
        assert r.verdict == "refuted" and r.suggestion, (entry.name, r.diagnosis)
        assert _recheck(entry, r.suggestion).verdict == "verified", (entry.name, r.suggestion)


@pytest.mark.slow
def test_the_bundled_refutations_offer_only_verified_repairs():
    items = [e for e in _refuted_items("*.toml") if e.kind == "claim"]
    repaired = failing = 0
    for entry in items:
        r = entry.run(60, 0)
        if r.suggestion:
            repaired += 1
            if _recheck(entry, r.suggestion).verdict != "verified":
                failing += 1
    assert failing == 0
    assert repaired / len(items) >= 0.8, f"{repaired} of {len(items)} refuted claims repaired"
