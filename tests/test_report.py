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
