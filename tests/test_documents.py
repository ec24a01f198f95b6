"""Claims in documents as people write them: ``symbolic-bp extract`` against a hand-made ground truth.

``tests/data/documents/`` holds eight short documents written for this test (a Markdown blog
post, a LaTeX lecture note, a MyST page, a row-vector write-up with its side file, a page in
index notation, a Jupyter notebook, notes in entrywise notation with sums over examples, notes that
say their shapes and one-hot labels in words), each
with one to three deliberately wrong claims, and
``expected.toml``: every derivative claim a careful reader would check, with its line, its
variable, the verdict, whether the document alone suffices, and a hand translation into the
claim language.

* ``test_hand_translation_has_the_expected_verdict`` checks the ground truth itself: each hand
  translation, run through :func:`symbolic_bp.check`, gets the verdict the manifest states.
* ``test_document`` runs the extractor on each document and asserts that every expected claim
  is found (matched by line within one line, and by variable; each step of an align chain is a
  claim on its own line), translated, and decided as expected; that no true claim is refuted
  and no extra claim is a false alarm.
* ``test_document_without_side_file`` does the same on a copy without the side file, for
  the claims the document alone should decide.
* ``test_extract_check_fails_on_a_wrong_claim_and_passes_without_it``: ``symbolic-bp extract
  --check`` exits 1 on each document and 0 once the wrong claims' lines are blanked.
* ``test_measure_*`` check the measurement itself on a perfect and a spoiled extraction.

``python -m tests.test_documents`` prints the figures (found, translated, verdicts as
expected, true claims refuted, wrong claims caught, extra claims) per document.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from symbolic_bp.checks.checker import check
from symbolic_bp.checks.claim import Claim

DOCUMENTS = Path(__file__).resolve().parent / "data" / "documents"
MANIFEST = tomllib.loads((DOCUMENTS / "expected.toml").read_text(encoding="utf-8"))
SECONDS = 30            # budget per claim
TOLERANCE = 1           # an extracted claim matches an expected one within this many lines

EXPECTED = [(doc["file"], claim) for doc in MANIFEST["document"] for claim in doc["claim"]]


def _name(text: str) -> str:
    r"""A variable's name without LaTeX commands or punctuation: ``\mathbf{W}^{(2)}`` -> ``W2``.

    >>> _name(r"\mathbf{W}^{(2)}"), _name("W_2"), _name(r"\tilde{\mathbf{z}}"), _name("z_tilde")
    ('W2', 'W2', 'z', 'ztilde')
    """
    return re.sub(r"[^A-Za-z0-9]", "", re.sub(r"\\[A-Za-z]+", "", text))


def _same_variable(extracted: str, expected: str) -> bool:
    """The extractor's name for the variable is the manifest's, up to decoration
    (``ztilde``, ``z_tilde`` and ``\\tilde{z}`` all name z)."""
    got, want = _name(extracted), _name(expected)
    if got == want:
        return True
    # a decoration word before or after the letter (tilde, hat, bar, vec), nothing else
    return re.fullmatch(r"(?:tilde|hat|bar|vec)*" + re.escape(want) + r"(?:tilde|hat|bar|vec)*", got) is not None


def _notebook_markdown_lines(path: Path) -> dict[tuple[int, int], int]:
    """(cell, line in cell) -> line in the notebook's Markdown cells joined by blank lines,
    the other way an extractor may count a notebook's lines."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    out, line = {}, 1
    for number, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for k in range(source.count("\n") + 1):
            out[(number, k + 1)] = line + k
        line += source.count("\n") + 2
    return out


def _lines_of(expected: dict, path: Path) -> set[int]:
    """The lines an extracted claim may report for this expected claim."""
    lines = {expected["line"]}
    if "cell" in expected and path.suffix == ".ipynb":
        joined = _notebook_markdown_lines(path).get((expected["cell"], expected["cell_line"]))
        if joined:
            lines.add(joined)
    return lines


def _at(expected: dict, got, path: Path) -> int | None:
    """How far (in lines) an extracted claim or skipped formula is from an expected claim;
    None when it cannot be the same one."""
    line = getattr(got, "line", None)
    if line is None:
        return None
    cell = getattr(got, "cell", None)
    if cell is not None and "cell" in expected and cell in (expected["cell"], expected["cell"] + 1):
        in_cell = getattr(got, "cell_line", getattr(got, "line_in_cell", None))
        if in_cell is not None and abs(in_cell - expected["cell_line"]) <= TOLERANCE:
            return abs(in_cell - expected["cell_line"])
    distance = min(abs(line - want) for want in _lines_of(expected, path))
    return distance if distance <= TOLERANCE else None


@dataclass
class Figures:
    """What the extractor made of one document."""

    file: str
    expected: int = 0
    found: int = 0              # the extractor saw the formula (a claim, or a formula it listed as skipped)
    translated: int = 0         # ... and translated it into a claim
    as_expected: int = 0        # ... whose verdict is the manifest's
    true_refuted: int = 0       # a true claim called refuted: a false alarm
    wrong: int = 0
    wrong_caught: int = 0       # a wrong claim called refuted
    extra: int = 0              # extracted claims no expected claim matches
    extra_refuted: int = 0      # ... of them refuted: false alarms on text that is no claim
    problems: list[str] = field(default_factory=list)

    def row(self) -> str:
        return (f"{self.file:38} {self.expected:3} {self.found:5} {self.translated:10} {self.as_expected:11} "
                f"{self.true_refuted:12} {self.wrong_caught:>6}/{self.wrong:<5} {self.extra:5} {self.extra_refuted:13}")


HEADER = (f"{'document':38} {'exp':>3} {'found':>5} {'translated':>10} {'as expected':>11} {'true refuted':>12} "
          f"{'wrong caught':>12} {'extra':>5} {'extra refuted':>13}")


@dataclass
class _Read:
    """One claim as the extractor read it: a claim, or one step of a chain (an align's `&=` line),
    with the line it reports or the line where the step's LaTeX stands."""

    line: int | None
    cost: str
    wrt: str
    claim: str
    shapes: str
    cell: int | None = None


def _document_lines(path: Path) -> list[str]:
    """The lines a step's LaTeX is looked for in: the file's, or a notebook's Markdown cells joined."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return text.splitlines()
    cells = json.loads(text)["cells"]
    joined = []
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            joined += source.split("\n") + [""]
    return joined


def _locate(latex: str, lines: list[str], start: int) -> int | None:
    """The first line from ``start`` (1-based, one line of slack) holding the start of ``latex``."""
    key = re.sub(r"\s+", "", latex)[:24]
    if not key:
        return None
    for number in range(max(1, start - 1), len(lines) + 1):
        if key in re.sub(r"\s+", "", lines[number - 1]):
            return number
    return None


def _readings(found, path: Path) -> list[_Read]:
    """Every claim of the extraction, a chain's steps each on its own line (the extractor's
    ``step_lines`` when it gives them, else the line where each step's LaTeX is written)."""
    lines = _document_lines(path)
    out = []
    for c in found.claims:
        steps = list(getattr(c, "steps", None) or [])
        step_lines = list(getattr(c, "step_lines", None) or [])
        if len(steps) <= 1:
            # one checked step of a chain is on its own line (the chain's other steps not translated)
            line = step_lines[0] if len(steps) == 1 and len(step_lines) == 1 else getattr(c, "line", None)
            out.append(_Read(line, c.cost, c.wrt, c.claim, c.shapes, getattr(c, "cell", None)))
            continue
        if len(step_lines) != len(steps):
            step_latex = list(getattr(c, "step_latex", None) or [])
            step_lines, at = [], getattr(c, "line", 1) or 1
            for k in range(len(steps)):
                line = _locate(step_latex[k], lines, at) if k < len(step_latex) else None
                step_lines.append(line)
                at = line or at
        out += [_Read(line, c.cost, c.wrt, step, c.shapes) for step, line in zip(steps, step_lines)]
    return out


def _verdict(read: _Read) -> str:
    """The verdict of one claim (a chain's step is a claim of the gradient, as a reader checks it)."""
    return check(Claim(shapes=read.shapes, cost=read.cost, wrt=read.wrt, claim=read.claim),
                 seconds=SECONDS).verdict


def measure(file: str, path: Path | None = None, only_without_sidefile: bool = False) -> Figures:
    """Extract ``file`` (from ``path``, default the documents folder) and compare with the manifest."""
    from symbolic_bp.derivations.extract import extract_file
    from symbolic_bp.errors import InputError

    path = path or DOCUMENTS / file
    wanted = [c for f, c in EXPECTED if f == file and (c["without_sidefile"] or not only_without_sidefile)]
    figures = Figures(file, expected=len(wanted), wrong=sum(c["expect"] == "refuted" for c in wanted))
    try:
        found = extract_file(path)
    except InputError as e:
        figures.problems.append(f"extract failed: {e}")
        return figures
    claims, skipped = _readings(found, path), list(getattr(found, "skipped", []))
    # a chain's step not checked is listed with the chain (TOML [[chain.unchecked]]) at the chain's line
    from types import SimpleNamespace
    skipped += [SimpleNamespace(line=getattr(c, "line", None), reason=reason, cell=getattr(c, "cell", None))
                for c in found.claims for _, reason in getattr(c, "unchecked", [])]
    verdicts = [_verdict(c) for c in claims]
    # each expected claim takes the nearest extracted one, the nearest pairs first (a claim one line
    # off never takes the place of one exactly on its line)
    pairs = sorted((d, w, i) for w, want in enumerate(wanted) for i, c in enumerate(claims)
                   if (d := _at(want, c, path)) is not None and _same_variable(c.wrt, want["wrt"]))
    assigned: dict[int, int] = {}
    used: set[int] = set()
    for _, w, i in pairs:
        if w not in assigned and i not in used:
            assigned[w] = i
            used.add(i)
    for w, want in enumerate(wanted):
        where = f"{file}:{want['line']} d/d{want['wrt']}"
        if w not in assigned:
            near = [s for s in skipped if _at(want, s, path) is not None]
            same = sorted({c.line for c in claims if _same_variable(c.wrt, want["wrt"]) and c.line})
            if near:
                figures.found += 1
                figures.problems.append(f"{where}: not translated: {getattr(near[0], 'reason', '?')}")
            else:
                figures.problems.append(f"{where}: not found" + (f" (the extractor has d/d{want['wrt']} at "
                                        f"line {', '.join(map(str, same))})" if same else ""))
            continue
        i = assigned[w]
        figures.found += 1
        figures.translated += 1
        verdict = verdicts[i]
        if verdict == want["expect"]:
            figures.as_expected += 1
        else:
            figures.problems.append(f"{where}: {verdict}, expected {want['expect']} "
                                    f"(read as d({claims[i].cost})/d{claims[i].wrt} = {claims[i].claim} "
                                    f"with {claims[i].shapes})")
        if want["expect"] == "verified" and verdict == "refuted":
            figures.true_refuted += 1
        if want["expect"] == "refuted" and verdict == "refuted":
            figures.wrong_caught += 1
    for i, c in enumerate(claims):
        if i in used or only_without_sidefile:
            continue
        figures.extra += 1
        if verdicts[i] == "refuted":
            figures.extra_refuted += 1
            figures.problems.append(f"{file}:{c.line}: extra claim refuted: d/d{c.wrt} = {c.claim}")
    return figures


def _assert_all(figures: Figures) -> None:
    report = "\n  ".join(figures.problems)
    assert figures.true_refuted == 0, f"true claims refuted:\n  {report}"
    assert figures.extra_refuted == 0, f"false alarms on extra claims:\n  {report}"
    assert figures.found == figures.expected, f"claims not found:\n  {report}"
    assert figures.translated == figures.expected, f"claims not translated:\n  {report}"
    assert figures.as_expected == figures.expected, f"verdicts not as expected:\n  {report}"


# -- the ground truth ---------------------------------------------------------------------

@pytest.mark.parametrize("file,expected", EXPECTED, ids=[f"{f}:{c['line']}:{c['wrt']}" for f, c in EXPECTED])
def test_hand_translation_has_the_expected_verdict(file, expected):
    result = check(Claim(shapes=expected["shapes"], cost=expected["cost"], wrt=expected["wrt"],
                         claim=expected["claim"]), seconds=SECONDS)
    assert result.verdict == expected["expect"], (result.verdict, result.error)


@pytest.mark.parametrize("file,expected", EXPECTED, ids=[f"{f}:{c['line']}:{c['wrt']}" for f, c in EXPECTED])
def test_manifest_line_holds_a_derivative_of_its_variable(file, expected):
    """The manifest points at the claim: a derivative sign and the variable's letter on its line
    (or the line above it, for an align chain's continued step)."""
    lines = (DOCUMENTS / file).read_text(encoding="utf-8").splitlines()
    text = " ".join(lines[max(0, expected["line"] - 1 - k)] for k in range(3))   # the line, its chain's head
    assert re.search(r"\\partial|\\nabla|\\frac\{d", text)
    assert expected["wrt"][0] in text
    if expected["expect"] == "refuted":
        assert expected.get("why"), "a wrong claim says why it is wrong"


def test_every_document_has_true_and_wrong_claims():
    files = sorted(p.name for p in DOCUMENTS.iterdir() if p.suffix in {".md", ".tex", ".ipynb"})
    assert files == sorted(doc["file"] for doc in MANIFEST["document"])
    for doc in MANIFEST["document"]:
        verdicts = [c["expect"] for c in doc["claim"]]
        assert 1 <= verdicts.count("refuted") <= 3 and verdicts.count("verified") >= 2, doc["file"]
        if "sidefile" in doc:
            assert (DOCUMENTS / doc["sidefile"]).is_file()


def _perfect(file: str, **changes):
    """An extraction of ``file`` exactly as the manifest states it (``changes``: line -> claim text)."""
    from types import SimpleNamespace
    claims = [SimpleNamespace(line=c["line"], wrt=c["wrt"], shapes=c["shapes"], cost=c["cost"],
                              claim=changes.get(f"line{c['line']}", c["claim"]))
              for f, c in EXPECTED if f == file]
    return SimpleNamespace(path=file, claims=claims, skipped=[])


@pytest.mark.slow
def test_measure_counts_a_perfect_extraction_as_perfect(monkeypatch):
    from symbolic_bp.derivations import extract
    monkeypatch.setattr(extract, "extract_file", lambda path: _perfect("myst_softmax.md"))
    figures = measure("myst_softmax.md")
    assert (figures.found, figures.translated, figures.as_expected, figures.wrong_caught, figures.extra) == \
        (5, 5, 5, 2, 0), figures.problems
    _assert_all(figures)


@pytest.mark.slow
def test_measure_counts_a_refuted_true_claim_and_a_missed_one(monkeypatch):
    from symbolic_bp.derivations import extract
    found = _perfect("myst_softmax.md", line34="y - softmax(z)")     # a true claim misread as wrong
    del found.claims[-1]                                                 # and the last one missed
    monkeypatch.setattr(extract, "extract_file", lambda path: found)
    figures = measure("myst_softmax.md")
    assert (figures.found, figures.as_expected, figures.true_refuted, figures.wrong_caught) == (4, 3, 1, 1)
    with pytest.raises(AssertionError, match="true claims refuted"):
        _assert_all(figures)


# -- the extractor --------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("file", [doc["file"] for doc in MANIFEST["document"]])
def test_document(file):
    _assert_all(measure(file))


@pytest.mark.slow
@pytest.mark.parametrize("file", [doc["file"] for doc in MANIFEST["document"] if "sidefile" in doc])
def test_document_without_side_file(file, tmp_path):
    shutil.copy(DOCUMENTS / file, tmp_path / file)
    _assert_all(measure(file, tmp_path / file, only_without_sidefile=True))


def _without_wrong_claims(file: str, to: Path) -> Path:
    """A copy of the document (and its side file) in ``to`` with the lines of its wrong claims blanked
    (a notebook's: the line in the cell), line numbers kept."""
    doc = next(d for d in MANIFEST["document"] if d["file"] == file)
    if "sidefile" in doc:
        shutil.copy(DOCUMENTS / doc["sidefile"], to / doc["sidefile"])
    wrong = [c for c in doc["claim"] if c["expect"] == "refuted"]
    text = (DOCUMENTS / file).read_text(encoding="utf-8")
    if file.endswith(".ipynb"):
        notebook = json.loads(text)
        for c in wrong:
            cell = notebook["cells"][c["cell"]]
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            lines = source.split("\n")
            lines[c["cell_line"] - 1] = ""
            cell["source"] = "\n".join(lines)
        text = json.dumps(notebook, indent=1)
    else:
        lines = text.split("\n")
        for c in wrong:
            lines[c["line"] - 1] = ""
        text = "\n".join(lines)
    (to / file).write_text(text, encoding="utf-8")
    return to / file


@pytest.mark.slow
@pytest.mark.parametrize("file", [doc["file"] for doc in MANIFEST["document"]])
def test_extract_check_fails_on_a_wrong_claim_and_passes_without_it(file, tmp_path, cli):
    """``extract --check`` as a pre-commit hook: exit 1 on the document (each has a wrong claim),
    exit 0 on the same document with its wrong claims' lines blanked (no true claim refuted)."""
    shutil.copytree(DOCUMENTS, tmp_path / "as_written")
    as_written = cli("extract", "--check", str(tmp_path / "as_written" / file))
    assert as_written.returncode == 1, as_written.stdout + as_written.stderr
    (tmp_path / "fixed").mkdir()
    fixed = cli("extract", "--check", str(_without_wrong_claims(file, tmp_path / "fixed")))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


def main() -> int:
    """Print the figures per document and in total; exit 1 unless every claim is as expected."""
    rows = [measure(doc["file"]) for doc in MANIFEST["document"]]
    print(HEADER)
    for r in rows:
        print(r.row())
    total = Figures("total")
    for r in rows:
        for name in ("expected", "found", "translated", "as_expected", "true_refuted", "wrong", "wrong_caught",
                     "extra", "extra_refuted"):
            setattr(total, name, getattr(total, name) + getattr(r, name))
    print(total.row())
    n = max(total.expected, 1)
    print(f"found {total.found}/{total.expected} ({total.found / n:.0%}), translated {total.translated}/"
          f"{total.expected} ({total.translated / n:.0%}), verdict as expected {total.as_expected}/"
          f"{total.expected} ({total.as_expected / n:.0%}), true claims refuted {total.true_refuted}, "
          f"wrong claims caught {total.wrong_caught}/{total.wrong}, extra claims {total.extra} "
          f"({total.extra_refuted} refuted)")
    for doc in MANIFEST["document"]:
        if "sidefile" in doc:
            import tempfile
            with tempfile.TemporaryDirectory() as tmp:
                shutil.copy(DOCUMENTS / doc["file"], Path(tmp) / doc["file"])
                alone = measure(doc["file"], Path(tmp) / doc["file"], only_without_sidefile=True)
            print(f"{doc['file']} without {doc['sidefile']}: translated {alone.translated}/{alone.expected} "
                  f"of the claims the document alone decides, {alone.as_expected} as expected")
    if "-v" in sys.argv:
        for r in rows:
            for p in r.problems:
                print("  " + p)
    ok = all(r.as_expected == r.expected and r.true_refuted == 0 and r.extra_refuted == 0 for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
