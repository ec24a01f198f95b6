"""The README's examples, run as a reader would run them.

* every ``$ symbolic-bp check|network|report ...`` of a ``console`` block whose
  output the README shows: the verdict words of that output (verified,
  refuted, invalid, undecided, in order) must be the ones the command prints
  now -- counterexamples, derived forms and timings are not compared;
* every example of the NumPy-dialect table (shapes, cost, wrt, claim →
  verdict);
* the README starts with exactly two commands, ``make report`` and ``make test``.

A ``toml`` block whose first line is ``# NAME.toml`` is written to the working
folder first, so that a ``symbolic-bp report NAME.toml`` example can read it.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from symbolic_bp import Claim, check
from symbolic_bp.integrations.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
VERDICT = r"(verified|refuted|invalid|undecided)"
_LINE = re.compile(rf"^{VERDICT}: ")                                   # check, network
_INPUT_ERROR = re.compile(r"^symbolic-bp: invalid input")              # check: invalid before any check ran
_REPORT_ROW = re.compile(rf"^\S+::\S+\s+\S+\s+{VERDICT}\s")            # report: claim, source, verdict, ...
_TABLE_EXAMPLE = re.compile(rf"`([^`]+)` `([^`]+)` `([^`]+)` `([^`]+)` → \*\*{VERDICT}\*\*")
SLOW_COMMANDS = ("network", "report")     # a few seconds each: several claims, three checks per claim


def verdicts(command: str, output: list[str]) -> list[str]:
    """The verdict words of an output, in order."""
    found = []
    for line in output:
        if command == "report":
            m = _REPORT_ROW.match(line)
        else:
            m = _LINE.match(line)
            if m is None and _INPUT_ERROR.match(line):
                found.append("invalid")
                continue
        if m:
            found.append(m.group(1))
    return found


def console_examples() -> list[tuple[list[str], list[str]]]:
    """(the words after ``symbolic-bp``, the verdicts shown) of each example."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                i += 1
                continue
            command = lines[i][2:]
            while command.endswith("\\"):
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            i += 1
            output = []
            while i < len(lines) and not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            words = shlex.split(command)
            if words[0] == "symbolic-bp" and len(words) > 1:
                shown = verdicts(words[1], output)
                if shown:
                    examples.append((words[1:], shown))
    return examples


def table_examples() -> list[tuple[str, str, str, str, str]]:
    section = README.split("## The NumPy dialect", 1)[1].split("\n## ", 1)[0]
    return _TABLE_EXAMPLE.findall(section)


CONSOLE = console_examples()
TABLE = table_examples()


def _id(words: list[str]) -> str:
    return " ".join(words)[:90]


def test_the_readme_has_examples():
    """Guard against a parser that silently finds nothing."""
    commands = {words[0] for words, _ in CONSOLE}
    assert {"check", "network", "report"} <= commands, commands
    assert len(TABLE) >= 30
    assert {v for *_, v in TABLE} == {"verified", "refuted", "invalid"}


def test_the_readme_starts_with_two_commands():
    assert README.startswith("```sh\nmake report\nmake test\n```\n")


@pytest.mark.parametrize("words, shown", [
    pytest.param(w, s, id=_id(w), marks=[pytest.mark.slow] if w[0] in SLOW_COMMANDS else [])
    for w, s in CONSOLE])
def test_console_example(words, shown, tmp_path, monkeypatch, capsys):
    for name, text in re.findall(r"```toml\n# (\S+\.toml)\n(.*?)```", README, re.S):
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    main(words)
    captured = capsys.readouterr()
    got = verdicts(words[0], (captured.out + captured.err).splitlines())
    assert got == shown, f"symbolic-bp {' '.join(words)}\n{captured.out}{captured.err}"


@pytest.mark.parametrize("shapes, cost, wrt, claim, verdict", [
    pytest.param(*example, id=f"{example[1]} d/d{example[2]} = {example[3]}"[:90]) for example in TABLE])
def test_numpy_dialect_table_example(shapes, cost, wrt, claim, verdict):
    result = check(Claim(shapes=shapes, cost=cost, wrt=wrt, claim=claim))
    assert result.verdict == verdict, (result.error, result.counterexample, result.diagnosis)
