"""symbolic_bp.integrations.fuzz: the harness itself -- that it detects what it claims to detect."""
import json
import operator
import os
from pathlib import Path

import pytest

from symbolic_bp.integrations import fuzz
from symbolic_bp.integrations.fuzz import EntryPoint, Monitor, Observation, Tally, classify_cli, classify_result
from symbolic_bp.checks.result import Result

CORPUS = Path(__file__).resolve().parent.parent / "symbolic_bp" / "data" / "hostile"


def _evil(values, ctx):
    """An entry point that does what symbolic_bp must never do: eval its input."""
    try:
        eval(values["text"])          # noqa: S307 - the point of the test
    except Exception:
        pass
    return "rejected", "evaluated"


def _shell(values, ctx):
    os.system(f"true {values['text'][:0]}")      # spawns a shell, whatever the input
    return "rejected", "ran a shell"


@pytest.fixture
def only(monkeypatch):
    """Replace the entry-point table by the given entry points."""
    def use(*entries):
        monkeypatch.setattr(fuzz, "ENTRY_POINTS", list(entries))
    return use


def test_an_entry_point_that_evals_its_input_is_caught(only, tmp_path):
    only(EntryPoint("evil", "text", {"text": "1"}, _evil))
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "p.txt").write_text('"open(\'PWNED\', \'w\')"\n"__import__(\'os\').system(\'touch PWNED\')"\n"1 + 1"\n')
    [tally] = fuzz.run(examples=0, corpus=corpus)
    assert tally.counts["executed"] == 2, tally.problems
    assert tally.counts["rejected"] == 1 + len(fuzz.giants())
    assert any("canary" in p or "open" in p for p in tally.problems)
    assert fuzz.failed([tally])
    assert not list(Path.cwd().glob("PWNED*"))      # the canary was made in the scratch folder


def test_a_shell_is_caught_even_with_harmless_input(only, tmp_path):
    only(EntryPoint("shell", "text", {"text": "1"}, _shell))
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "p.txt").write_text('"x"\n')
    [tally] = fuzz.run(examples=0, corpus=corpus)
    assert tally.counts["executed"] == tally.tried + tally.counts["executed"] == 1 + len(fuzz.giants())
    assert "os.system" in tally.problems[0]


def test_a_crashing_entry_point_is_counted(only, tmp_path):
    def crash(values, ctx):
        raise KeyError(values["text"])
    only(EntryPoint("crash", "text", {"text": "1"}, crash))
    [tally] = fuzz.run(examples=2, corpus=tmp_path)
    assert tally.counts["crashed"] == tally.tried > 0
    assert "KeyError" in tally.problems[0]


def test_an_entry_point_over_its_budget_is_counted(only, tmp_path, monkeypatch):
    import time
    monkeypatch.setattr(fuzz, "GRACE", 0.0)
    only(EntryPoint("slow", "text", {"text": "1"}, lambda v, ctx: (time.sleep(0.3), ("rejected", "late"))[1]))
    [tally] = fuzz.run(examples=0, budget=0.1, corpus=tmp_path)
    assert tally.counts["over budget"] > 0
    assert tally.counts["over budget"] == len(fuzz.giants())


def test_monitor_ignores_the_checkers_own_work(tmp_path):
    """A real check (forked worker, SymPy imports) is not flagged."""
    from symbolic_bp import Claim, check
    monitor = Monitor.install(tmp_path)
    with monitor.watching() as flagged:
        check(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "x @ y.T"))
    assert flagged == []
    with monitor.watching() as flagged:
        (tmp_path / "PWNED").write_text("x")
    assert any("canary" in f for f in flagged)


def test_classify_result():
    assert classify_result(Result("invalid", error="claim: column 1: unexpected '.'"))[0] == "rejected"
    assert classify_result(Result("invalid", error="two\nlines"))[0] == "unclear"
    assert classify_result(Result("undecided", error="internal error: KeyError: this is a bug in symbolic_bp"))[0] \
        == "crashed"
    assert classify_result(Result("undecided", error="the time budget of 2 s ran out during x"))[0] == "stopped"
    assert classify_result(Result("verified", evidence=[]))[0] == "accepted"


def test_classify_cli():
    assert classify_cli(2, "", "symbolic-bp: invalid input: claim: column 3\n", {0, 1, 2, 3})[0] == "rejected"
    assert classify_cli(2, "", "Traceback (most recent call last):\n  File\nKeyError: 1\n", {0, 1, 2})[0] == "crashed"
    assert classify_cli(1, "", "", {0, 2})[0] == "crashed"
    assert classify_cli(2, "", "oops\nmore\n", {2})[0] == "unclear"
    payload = json.dumps({"verdict": "invalid", "error": "claim: column 1: unknown name 'q'"})
    assert classify_cli(2, payload, "", {2}) == ("rejected", "claim: column 1: unknown name 'q'")
    assert classify_cli(0, "verified", "", {0}) == ("accepted", "exit status 0")


def test_tally_figures():
    t = Tally("x")
    for outcome, seconds in [("rejected", 0.1), ("rejected", 0.4), ("accepted", 2.0), ("executed", 0.1)]:
        t.add(Observation(outcome, seconds, f"input {seconds}"))
    assert t.tried == 3 and t.counts["executed"] == 1
    assert t.slowest == (0.4, "input 0.4")
    assert fuzz.failed([t]) and not fuzz.failed([Tally("y")])


def test_inputs_are_deterministic():
    first = fuzz.text_cases(20, 7, CORPUS), fuzz.file_cases(20, 7, CORPUS)
    again = fuzz.text_cases(20, 7, CORPUS), fuzz.file_cases(20, 7, CORPUS)
    other = fuzz.text_cases(20, 8, CORPUS)
    assert first == again
    assert first[0] != other


def test_corpus_reads_and_covers_the_issue():
    payloads = fuzz.read_corpus(CORPUS / "payloads.txt")
    for needle in ("__import__('os').system", "__subclasses__", "lambda", "f'", "exec(", "open("):
        assert any(needle in p for p in payloads), needle
    labels = [label for label, _ in fuzz.giants()]
    assert "10,000 nested parentheses" in labels and "a 1 MB expression" in labels
    assert len(dict(fuzz.giants())["a 1 MB expression"]) >= 1_000_000
    assert (CORPUS / "files" / "empty.toml").read_text() == ""


def test_every_cli_command_that_takes_user_text_is_an_entry_point():
    """A new command must be added to ENTRY_POINTS (or listed here as taking no user text)."""
    from symbolic_bp.integrations.cli import COMMANDS as commands
    covered = {e.command for e in fuzz.ENTRY_POINTS}
    assert set(commands) - covered <= {"fuzz"}, set(commands) - covered


def test_fuzz_command_bad_options(cli):
    r = cli("fuzz", "--examples", "-1")
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1
    r = cli("fuzz", "--entry", "nope")
    assert r.returncode == 2 and "unknown entry point 'nope'" in r.stderr


def test_fuzz_command_prints_the_figures(cli):
    r = cli("fuzz", "--examples", "2", "--entry", "check (API)", "--entry", "derivation file (API)")
    assert r.returncode == 0, r.stdout + r.stderr
    head = r.stdout.splitlines()[0]
    for column in ("tried", "rejected cleanly", "crashed", "executed code", "over budget", "slowest rejection"):
        assert column in head
    total = next(line for line in r.stdout.splitlines() if line.startswith("total")).split()
    assert int(total[1]) > 300 and total[5:9] == ["0", "0", "0", "0"]


def test_the_numpy_dialect_is_generated_and_in_the_corpus():
    import random
    rng = random.Random(0)
    made = " ".join(fuzz.random_dialect(rng) for _ in range(400))
    for construct in ("axis=", "keepdims=", ".sum(", "np.", "scipy.special.", " > ", " == ", " = ", "** 0.5",
                      "1e-300", "(10**100)", "ddof=", "np.__class__."):
        assert construct in made, construct
    declared = " ".join(fuzz.random_declarations(rng) for _ in range(100))
    for prop in (":onehot", ":binary", ":positive", "s:scalar:binary"):
        assert prop in declared, prop
    assert fuzz.random_dialect(random.Random(3)) == fuzz.random_dialect(random.Random(3))
    # the bundled NumPy-dialect claims are mutated too
    assert any("axis=" in t for t in fuzz.bundled_texts())
    expressions = fuzz.read_corpus(CORPUS / "expressions.txt")
    for needle in ("axis=10**9", "keepdims=np", "axis=0, axis=1", "x.sum().sum().max(axis=1)", "np.__class__",
                   "np.linalg.__dict__", "scipy.special.", "x = y", "x ** 1e-300", "x**(1/0)", "x**(10**100)",
                   "1/m * x"):
        assert any(needle in e for e in expressions), needle
    assert any(":onehot" in s for s in fuzz.read_corpus(CORPUS / "shapes.txt"))
    assert any("np." in p and "PWNED" in p for p in fuzz.read_corpus(CORPUS / "payloads.txt"))
    files = {p.name for p in (CORPUS / "files").iterdir()}
    assert {"numpy_dialect.toml", "numpy_chain.toml"} <= files


def _tiny_corpus(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "p.txt").write_text('"x @ y.T"\n"__import__(\'os\')"\n')
    return corpus


def test_workers_give_the_same_figures(tmp_path):
    """--jobs 2 forks two workers with their own scratch folders and monitors: the same inputs, the same
    figures as one process."""
    corpus = _tiny_corpus(tmp_path)
    one = fuzz.run(examples=3, seed=4, budget=3.0, corpus=corpus, only=["check (API)", "derivation file (API)"])
    two = fuzz.run(examples=3, seed=4, budget=3.0, corpus=corpus, only=["check (API)", "derivation file (API)"],
                   jobs=2)
    assert [(t.name, t.counts) for t in one] == [(t.name, t.counts) for t in two]
    assert one[0].tried == 4 * (2 + len(fuzz.giants()) + 3 * len(fuzz.TEXT_GENERATORS))


def test_inputs_gives_every_entry_point_at_least_that_many(tmp_path):
    corpus = _tiny_corpus(tmp_path)
    for entry in fuzz.entry_points():
        tasks = fuzz.plan(0, 0, corpus, only=[entry.name], inputs=700)
        total = sum(t.stop - t.start for t in tasks)
        assert 700 <= total < 700 + len(entry.slots) * max(len(fuzz.TEXT_GENERATORS), len(fuzz.FILE_GENERATORS)), \
            (entry.name, total)


def test_an_escaping_exception_in_the_pytest_plugin_is_a_crash(only, tmp_path, monkeypatch):
    """The plugin entry point runs pytest on each hostile file: an exception that escapes the plugin's
    collection shows as a traceback, and is counted as a crash, not as a clean rejection."""
    from symbolic_bp.derivations import derivation
    [entry] = [e for e in fuzz.ENTRY_POINTS if e.name == "pytest plugin"]
    only(entry)

    # load(path) -> AttributeError: 'PosixPath' object has no attribute 'split' (a C function: pytest's
    # traceback shows no source, so none of this file's payload strings)
    monkeypatch.setattr(derivation, "load", operator.attrgetter("split"))
    corpus = tmp_path / "c"
    (corpus / "files").mkdir(parents=True)
    (corpus / "files" / "one.toml").write_text("title = 't'\n")
    [tally] = fuzz.run(examples=0, corpus=corpus)
    assert tally.counts["crashed"] == tally.tried and tally.tried > 0, tally
    assert "AttributeError" in tally.problems[0]


def test_the_pytest_plugin_rejects_a_broken_file_cleanly(only, tmp_path):
    [entry] = [e for e in fuzz.ENTRY_POINTS if e.name == "pytest plugin"]
    only(entry)
    corpus = tmp_path / "c"
    (corpus / "files").mkdir(parents=True)
    (corpus / "files" / "bad.toml").write_text("title = 't'\nshapes = 'x:n'\n[[claim]]\nname = 'a'\n"
                                               "cost = 'x.T @ x'\nwrt = 'x'\nclaim = '2 * x'\nexpett = 'verified'\n")
    [tally] = fuzz.run(examples=0, corpus=corpus)
    assert tally.counts["crashed"] == tally.counts["unclear"] == tally.counts["executed"] == 0, tally.problems
    assert tally.counts["rejected"] >= 1
