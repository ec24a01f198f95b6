"""report: runs files, keeps going past bad ones, renders text, JSON, Markdown."""
import json

from symbolic_bp.rendering import report
from symbolic_bp.integrations.cli import main

from .conftest import GOOD


def test_rows_and_expectations(good_file):
    rep = report.run([good_file])
    assert [(r.entry.name, r.result.verdict, r.matches) for r in rep.rows] == [
        ("linear", "verified", True), ("transposed", "refuted", True)]
    assert rep.exit_code == 0


def test_mismatch_exits_1(tmp_path, capsys):
    path = tmp_path / "m.toml"
    path.write_text(GOOD.replace('expect = "refuted"', 'expect = "verified"'))
    assert main(["report", str(path)]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH (expected verified)" in out
    assert "diagnosis:   the claim is the true gradient transposed" in out


def test_bad_file_does_not_stop_the_others(tmp_path, good_file, capsys):
    (tmp_path / "broken.toml").write_text('title = "x"\n[[claim]\nname=1')
    assert main(["report", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "good::linear" in captured.out and "good::transposed" in captured.out
    assert "broken.toml:2:" in captured.err


def test_invalid_claim_names_file_line_and_claim(tmp_path):
    path = tmp_path / "i.toml"
    path.write_text(GOOD.replace('claim = "y @ x.T"', 'claim = "y @ x"'))
    rep = report.run([path])
    bad = rep.rows[0].result
    assert bad.verdict == "invalid"
    assert bad.error.startswith(f"{path}:6: claim 'linear': claim: column 3: shape mismatch")
    assert rep.exit_code == 1


def test_json_is_deterministic_and_complete(good_file):
    a, b = (report.to_json(report.run([good_file])) for _ in range(2))
    assert a == b
    data = json.loads(a)
    assert data["summary"] == {"claims": 2, "verdicts": {"refuted": 1, "verified": 1}, "mismatches": 0,
                               "unreadable": 0}
    row = data["claims"][1]
    assert row["name"] == "transposed" and row["expected"] == "refuted" and row["matches"] is True
    assert row["counterexample"]["sizes"] == {"m": 1, "n": 2}
    assert "seconds" not in row


def test_markdown_renders_table_and_counterexample(good_file):
    md = report.to_markdown(report.run([good_file]))
    lines = md.splitlines()
    assert lines[0] == "| claim | source | verdict | expected | methods |"
    assert lines[1] == "|---|---|---|---|---|"
    assert "| `good::transposed` | notes.md 1 | **refuted** | ok | exact, numeric |" in md
    assert "### `transposed` (refuted)" in md and "- counterexample: at m=1,n=2" in md


# -- a fast report: workers, progress, the table on a terminal (issue 12) -----------------------------

def test_parallel_report_is_the_sequential_one(tmp_path, good_file):
    from .test_chain import CHAIN
    (tmp_path / "c.toml").write_text(CHAIN)          # a chain: its lines and summary share results
    (tmp_path / "broken.toml").write_text('title = "x"\n[[claim]\nname=1')
    one, two = report.run([tmp_path], jobs=1), report.run([tmp_path], jobs=2)
    assert [(r.file, r.entry.name) for r in two.rows] == [(r.file, r.entry.name) for r in one.rows]
    assert report.to_json(two) == report.to_json(one)
    assert report.to_markdown(two) == report.to_markdown(one)
    assert report.to_text(two, timings=False) == report.to_text(one, timings=False)
    assert two.errors == one.errors and len(two.errors) == 1


def test_progress_and_planned_are_called_for_every_row(good_file):
    seen, planned = [], []
    rep = report.run([good_file, good_file], jobs=2, progress=seen.append, planned=planned.append)
    assert planned == [4] and len(rep.rows) == 4
    assert sorted(r.entry.name for r in seen) == sorted(r.entry.name for r in rep.rows)


def test_forked_map_keeps_the_order_and_survives_a_dead_worker():
    import os

    from symbolic_bp.checks.budget import forked_map, run_with_budget

    def work(n):
        if n == 2:
            os._exit(9)
        if n == 3:
            raise ValueError("boom")
        return run_with_budget(lambda progress: n * 10, seconds=30).value   # a budgeted worker inside

    done = []
    out = forked_map(work, list(range(6)), jobs=2, done=lambda item, outcome: done.append(item))
    assert [(o.status, o.value) for o in out[:2] + out[4:]] == [("done", 0), ("done", 10), ("done", 40),
                                                               ("done", 50)]
    assert (out[2].status, out[2].value) == ("died", 9)
    assert out[3].status == "error" and "ValueError: boom" in out[3].value
    assert sorted(done) == list(range(6))


class _Terminal:
    """A stream that says it is a terminal, keeping what is written."""

    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass

    def isatty(self):
        return True


def test_progress_line_only_on_a_terminal(good_file, capsys, monkeypatch):
    assert main(["report", str(good_file), "-j", "2"]) == 0
    assert capsys.readouterr().err == ""                 # not a terminal: no progress
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["report", str(good_file), "-j", "2", "--json"]) == 0
    assert "\rchecked 0/2 (2 workers" in terminal.text and "\rchecked 2/2 (2 workers" in terminal.text
    assert terminal.text.endswith("\r") and "\n" not in terminal.text     # erased: the output follows cleanly
    json.loads(capsys.readouterr().out)


LONG = GOOD.replace('section = "1"', 'section = "' + "a rather long section title, " * 4 + '"')


def test_the_text_table_fits_the_width_and_wraps_long_sources(tmp_path):
    path = tmp_path / "long.toml"
    path.write_text(LONG)
    rep = report.run([path])
    whole = report.to_text(rep).splitlines()
    assert len(whole[0]) > 150                              # as wide as its widest source
    fitted = report.to_text(rep, width=100).splitlines()
    table = fitted[:fitted.index("")]
    assert all(len(line) <= 100 for line in table)
    assert len(table) > 2 + len(rep.rows)                   # the sources wrapped onto more lines
    source = " ".join(line[line.index("notes.md"):].split("  ")[0] for line in table if "notes.md" in line)
    assert "a rather long section" in source
    assert fitted[fitted.index(""):] == whole[whole.index(""):]      # the rest is as it was


def test_wide_and_piped_output_keep_the_table_whole(tmp_path, capsys, monkeypatch):
    from symbolic_bp.integrations.report_command import table_width
    import argparse
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a, **k: __import__("os").terminal_size((90, 24)))
    assert table_width(argparse.Namespace(wide=False)) == 90
    assert table_width(argparse.Namespace(wide=True)) is None
    monkeypatch.setattr("sys.stdout.isatty", lambda: False, raising=False)
    assert table_width(argparse.Namespace(wide=False)) is None


# -- "did you mean": the corrected claim under each refuted item (issue 13) ---------------------------

def _with_suggestion(rep, suggestion):
    """The report with the refuted row's result carrying ``suggestion`` (built
    here: the renderers are tested apart from the checks that offer it)."""
    import dataclasses
    rows = [dataclasses.replace(r, result=dataclasses.replace(r.result, suggestion=suggestion))
            if r.result.verdict == "refuted" else r for r in rep.rows]
    return report.Report(rows, rep.errors)


def test_every_rendering_shows_the_corrected_claim(good_file):
    rep = _with_suggestion(report.run([good_file]), "y @ x.T")
    text = report.to_text(rep, timings=False)
    block = text.split("good::transposed: refuted")[1].splitlines()
    labels = [line.split(":")[0].strip() for line in block[1:] if line.startswith("  ")]
    assert labels == ["claim", "derived", "counterexample", "diagnosis", "did you mean"]   # the slip, then its fix
    assert "  did you mean: dC/dA = y @ x.T   (verified)" in block
    md = report.to_markdown(rep)
    assert "- did you mean: `dC/dA = y @ x.T` (verified)" in md
    math = md.split("```math")[1]
    assert r"\text{did you mean: }\frac{\partial C}{\partial A} = y x^{T} \quad\text{(verified)}" in math
    data = json.loads(report.to_json(rep))
    assert [row["suggestion"] for row in data["claims"]] == [None, "y @ x.T"]


def test_no_suggestion_no_line(good_file):
    rep = _with_suggestion(report.run([good_file]), None)
    assert "did you mean" not in report.to_text(rep) + report.to_markdown(rep)
    data = json.loads(report.to_json(rep))
    assert all("suggestion" in row and row["suggestion"] is None for row in data["claims"])


def test_a_chain_row_offers_the_correction_of_its_first_wrong_line(tmp_path, monkeypatch):
    from symbolic_bp.checks.result import Result
    from symbolic_bp.derivations import chain as chain_module
    from symbolic_bp.derivations.derivation import load
    from .test_chain import CHAIN
    path = tmp_path / "c.toml"
    path.write_text(CHAIN.replace('"chains"', '"chains with a suggestion"'))   # a chain of its own (cached by text)
    lines = {3: Result("refuted", claim="W2 @ (x2 - y) @ x.T", diagnosis="a missing transpose",
                       suggestion="W2.T @ (x2 - y) @ x.T")}
    monkeypatch.setattr(chain_module.Chain, "check_line",
                        lambda self, index, seconds, seed: lines.get(index, Result("verified")))
    entry = next(e for e in load(path).entries if e.kind == "chain")
    out = entry.run(60, 0)
    assert out.verdict == "refuted" and out.suggestion == "W2.T @ (x2 - y) @ x.T"
    text = "\n".join(report.explain(report.Row(str(path), "", "", entry, out)))
    assert "  did you mean: W2.T @ (x2 - y) @ x.T   (verified)" in text.splitlines()
