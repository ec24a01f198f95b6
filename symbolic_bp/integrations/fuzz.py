"""Hostile input: every entry point against an adversarial corpus and seeded
random inputs, with the figures (``symbolic-bp fuzz``).

Derivation files come from blog posts, homework and shared course
repositories, so every input is untrusted.  This module feeds each entry point
that exists (:data:`ENTRY_POINTS`: the ``check`` API, every CLI command and its
options, derivation files, ``report``, ``extract``, the web API of ``serve``...) with

* the corpus under ``symbolic_bp/data/hostile/`` (code-execution payloads, broken
  expressions and declarations, broken derivation files), one JSON string a line;
* generated giants: 10,000 nested parentheses, a 1 MB expression, ``x**9**9**9``,
  a number with a billion-digit exponent, TOML nested 10,000 deep;
* seeded random strings, random token sequences of the claim language, and
  mutations (truncation, deletion, insertion, swaps) of the bundled claims and
  derivation files,

and classifies what came out.  *Executed code* is detected for real: every
payload would create a file named ``PWNED`` in the scratch folder the run works
in (a canary checked after every input), and an audit hook
(:func:`sys.addaudithook`, inherited by the forked checker workers) records
process creation, deletions, sockets, writes outside the scratch folder, and any
``compile``/``exec``/``open`` of text that carries the payload marker.

>>> sorted(f for f in FIGURES)[:3]
['accepted', 'crashed', 'executed']
>>> t = Tally("check (API)"); t.add(Observation("rejected", 0.25, "'x' -> column 1: ..."))
>>> t.tried, t.counts["rejected"], t.slowest[0]
(1, 1, 0.25)
"""
from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import functools
import io
import json
import multiprocessing
import os
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Callable, Iterator

from .commands import COMMANDS
from .options import bundled_derivations

DATA = Path(files("symbolic_bp").joinpath("data"))   # package data, shipped in the wheel
CORPUS = DATA / "hostile"
BUNDLED = bundled_derivations()
MARKER = "PWNED"            # every payload would create a file of this name
_QUOTED_MARKER = re.compile(rf"""['"][^'"\n]*{MARKER}""")
GRACE = 5.0                 # seconds beyond the budget for forking, imports, printing

# what one run of an entry point on one input can come to
FIGURES = ("rejected", "accepted", "stopped", "unclear", "crashed", "executed", "over budget")

# -- detection of executed code ---------------------------------------------------

# audit events that no check of a claim ever needs (os.fork and os.kill are the
# budget's own worker and are not listed)
_FORBIDDEN = ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen", "pty.spawn",
              "os.startfile", "ctypes.", "socket.", "webbrowser.", "builtins.input")
# file operations that are fine inside the scratch folder (an output written atomically), nowhere else
_FILE_OPS = ("os.remove", "os.unlink", "os.rmdir", "os.rename", "os.replace", "shutil.", "os.truncate",
             "os.chmod", "os.chown", "os.mkdir", "os.symlink", "os.link")


class Monitor:
    """An audit hook that writes what it flags to a log (a file descriptor, so
    the forked workers report too).  Installed once; active only while
    :meth:`watching` runs."""

    _installed: "Monitor | None" = None

    def __init__(self, scratch: Path):
        self.scratch = str(scratch)
        self.log = scratch / "audit.log"
        self.fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.active = False
        self.offset = 0

    @classmethod
    def install(cls, scratch: Path) -> "Monitor":
        """The process's monitor, now logging into ``scratch``."""
        if cls._installed is None:
            cls._installed = Monitor(scratch)
            sys.addaudithook(lambda event, args: cls._installed._hook(event, args))
        else:
            monitor = cls._installed
            os.close(monitor.fd)
            monitor.__init__(scratch)
        return cls._installed

    def _hook(self, event: str, args: tuple) -> None:
        if not self.active:
            return
        reason = self._flag(event, args)
        if reason:
            os.write(self.fd, (reason.replace("\n", " ")[:300] + "\n").encode("utf-8", "replace"))

    def _flag(self, event: str, args: tuple) -> str | None:
        if event.startswith(_FORBIDDEN):
            return f"{event} {args!r:.200}"
        if event.startswith(_FILE_OPS):
            paths = [os.fsdecode(a) for a in args if isinstance(a, (str, bytes))]
            if any(MARKER in p or not os.path.abspath(p).startswith(self.scratch) for p in paths):
                return f"{event} {args!r:.200}"
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            text = os.fsdecode(path) if isinstance(path, (str, bytes)) else ""
            if MARKER in text:
                return f"open {text}"
            writes = any(c in mode for c in "wax+") if isinstance(mode, str) else \
                bool(isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            harmless = "__pycache__" in text or text == os.devnull      # pytest writes nothing to /dev/null
            if text and writes and not harmless and not os.path.abspath(text).startswith(self.scratch):
                return f"open for writing {text}"
        if event in ("compile", "exec", "builtins.eval"):
            # every payload quotes the marker ('touch PWNED'); a bare identifier PWNED in
            # generated code (a validated function name) is not user code
            source = args[0] if args else None
            if hasattr(source, "co_consts"):
                source = " ".join(repr(c) for c in source.co_consts if isinstance(c, str))
            if isinstance(source, bytes):
                source = source.decode("utf-8", "replace")
            if isinstance(source, str) and _QUOTED_MARKER.search(source):
                return f"{event} of input text {source[:120]!r}"
        return None

    @contextlib.contextmanager
    def watching(self) -> Iterator[list[str]]:
        """Collect what is flagged (and whether a canary appeared) inside the block."""
        found: list[str] = []
        self.active = True
        try:
            yield found
        finally:
            self.active = False
            with open(self.log, "rb") as f:
                f.seek(self.offset)
                new = f.read()
            self.offset += len(new)
            found.extend(line for line in new.decode("utf-8", "replace").splitlines() if line)
            for canary in Path(self.scratch).rglob(f"*{MARKER}*"):
                found.append(f"canary file created: {canary.name}")
                canary.unlink()


# -- observations ---------------------------------------------------------------------

@dataclass
class Observation:
    """What one input did to one entry point: ``outcome`` is one of :data:`FIGURES`."""

    outcome: str
    seconds: float
    detail: str = ""


@dataclass
class Tally:
    """The figures of one entry point."""

    name: str
    counts: dict = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))
    slowest: tuple = (0.0, "")              # slowest clean rejection: seconds, which input
    problems: list = field(default_factory=list)

    @property
    def tried(self) -> int:
        return sum(self.counts[f] for f in FIGURES if f not in ("executed", "over budget"))

    def add(self, obs: Observation) -> None:
        self.counts[obs.outcome] += 1
        if obs.outcome == "rejected" and obs.seconds > self.slowest[0]:
            self.slowest = (obs.seconds, obs.detail)
        if obs.outcome in ("unclear", "crashed", "executed", "over budget"):
            self.problems.append(f"{obs.outcome}: {obs.detail}")

    def merge(self, other: "Tally") -> None:
        for f in FIGURES:
            self.counts[f] += other.counts[f]
        self.slowest = max(self.slowest, other.slowest)
        self.problems.extend(other.problems)


def _one_line(text: str) -> bool:
    return bool(text.strip()) and "\n" not in text.strip() and len(text) < 2000


def _short(text: str, limit: int = 60) -> str:
    text = repr(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def classify_result(result) -> tuple[str, str]:
    """A :class:`~symbolic_bp.checks.result.Result` -> (outcome, message)."""
    error = result.error or ""
    if "bug in symbolic_bp" in error or "internal error" in error:
        return "crashed", error
    if result.verdict == "invalid":
        return ("rejected" if _one_line(error) else "unclear"), error
    if result.verdict == "undecided" and ("time budget" in error or "memory cap" in error):
        return "stopped", error
    return "accepted", result.verdict


def _json_errors(text: str) -> list[str]:
    """Every non-null "error" string of a JSON document (a claim's, a report's)."""
    try:
        data = json.loads(text)
    except ValueError:
        return []
    found, stack = [], [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found += [v for k, v in item.items() if k in ("error", "errors") and isinstance(v, str)]
            found += [e for k, v in item.items() if k == "errors" and isinstance(v, list) for e in v
                      if isinstance(e, str)]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def classify_cli(status: int, out: str, err: str, allowed: set) -> tuple[str, str]:
    """Exit status and output of a CLI command -> (outcome, message)."""
    if "Traceback" in out + err or "bug in symbolic_bp" in out + err or "internal error" in out + err:
        return "crashed", (err or out).strip().splitlines()[-1][:300]
    if status not in allowed:
        return "crashed", f"exit status {status}: {err.strip()[:200]}"
    if status == 2 and not err.strip() and out.lstrip().startswith("{"):     # --json: the errors are in it
        errors = _json_errors(out)
        clean = bool(errors) and all(_one_line(e) for e in errors)
        return ("rejected" if clean else "unclear"), (errors[0] if errors else "no error in the JSON")[:300]
    if status == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        clean = lines and all(line.startswith("symbolic-bp") and len(line) < 2000 for line in lines)
        return ("rejected" if clean else "unclear"), (lines[0] if lines else "no message")[:300]
    if "time budget" in out or "memory cap" in out:
        return "stopped", f"exit status {status}"
    return "accepted", f"exit status {status}"


# -- entry points -------------------------------------------------------------------------

@dataclass(frozen=True)
class EntryPoint:
    """One way user input gets in.  ``slots`` are the text inputs it takes, with a
    valid value each (a hostile input replaces one slot at a time); ``run(values,
    ctx)`` returns (outcome, message).  ``kind`` "text" takes strings, "file"
    takes the text of a file (a single slot)."""

    name: str
    kind: str
    slots: dict
    run: Callable
    command: str | None = None          # the CLI command it needs, if any
    items: Callable = lambda values: 1  # how many claims an input holds (for the budget)


@dataclass
class Context:
    scratch: Path
    budget: float
    counter: int = 0

    def file(self, text: str, suffix: str = ".toml") -> Path:
        self.counter += 1
        path = self.scratch / f"input_{self.counter}{suffix}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        return path


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``symbolic-bp ARGV`` in this process: (exit status, stdout, stderr)."""
    from .cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as e:       # argparse
            status = e.code if isinstance(e.code, int) else 2
    return status, out.getvalue(), err.getvalue()


def _check_api(values: dict, ctx: Context):
    from ..checks.checker import check
    from ..checks.claim import Claim
    return classify_result(check(Claim(**values), seconds=ctx.budget, memory_mb=2048))


def _cli(command: str, allowed: set, options: Callable[[dict, Context], list[str]]):
    def run(values: dict, ctx: Context):
        return classify_cli(*run_cli([command] + options(values, ctx)), allowed)
    return run


def _loads(values: dict, ctx: Context):
    from ..derivations.derivation import loads
    from ..errors import InputError
    try:
        derivation = loads(values["file"], "hostile.toml")
    except InputError as e:
        return ("rejected" if _one_line(str(e)) and str(e).startswith("hostile.toml") else "unclear"), str(e)
    return "accepted", f"{len(derivation.entries)} items"


def _count_items(values: dict) -> int:
    return max(1, values.get("file", "").count("[["))


# pytest's own plugins that have nothing to do with a derivation file (and would write a cache),
# and no capture (its temporary files would be written outside the scratch folder)
_PYTEST_QUIET = ("-s", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:xdist", "-p", "no:hypothesispytest")


def classify_pytest(status: int, out: str) -> tuple[str, str]:
    r"""Exit status and output of ``pytest FILE`` with the plugin -> (outcome, message).

    A derivation file is *rejected* cleanly when its collection error is one line
    naming the file; the items of an accepted file pass or fail (0, 1, 5: none
    collected) with the plugin's own report, never an exception's traceback.

    >>> classify_pytest(2, "___ ERROR collecting a.toml ___\na.toml: key 'shapes' must be a string\n=== short")
    ('rejected', "a.toml: key 'shapes' must be a string")
    >>> classify_pytest(1, "E   AttributeError: 'float' object\n")[0]
    'crashed'
    """
    lines = out.splitlines()
    escaped = [line for line in lines if line.startswith("E   ") or line.startswith("INTERNALERROR")]
    if escaped or status in (3, 4):
        return "crashed", (escaped[-1] if escaped else f"exit status {status}")[:300]
    if status == 2:
        heads = [i for i, line in enumerate(lines) if "ERROR collecting" in line]
        messages = [lines[i + 1] if i + 1 < len(lines) else "" for i in heads]
        follow = [lines[i + 2] if i + 2 < len(lines) else "" for i in heads]
        clean = bool(heads) and all(m.strip() and ".toml" in m for m in messages) and \
            all(f.startswith(("=", "_")) for f in follow)
        return ("rejected" if clean else "unclear"), (messages[0] if messages else "no collection error")[:300]
    if status in (0, 1, 5):
        return "accepted", f"exit status {status}"
    return "crashed", f"exit status {status}"


def _pytest_plugin(values: dict, ctx: "Context"):
    """``pytest FILE``: the derivation file collected and run by the plugin, in this process."""
    import pytest
    path = ctx.file(values["file"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = pytest.main([str(path), "-q", *_PYTEST_QUIET, "--rootdir", str(ctx.scratch), "-c", os.devnull,
                              "-o", f"symbolic_bp_paths={ctx.scratch}", "--symbolic-bp-budget", str(ctx.budget),
                              "--symbolic-bp-allow-undecided"])
    return classify_pytest(int(status), out.getvalue())


# -- the web API of `symbolic-bp serve`, through the ASGI app in this process ------------------

_SEVERITY = ("accepted", "stopped", "rejected", "unclear", "crashed")     # a document: its worst claim


@functools.lru_cache(maxsize=4)
def _api_client(budget: float):
    """The app of ``serve`` with this budget and a client that calls it in this
    process.  Made (and its event loop started) before the monitor watches: an event
    loop opens a socket pair of its own, which is not something an input did."""
    from .serve import create_app, in_process_client
    client = in_process_client(create_app(budget=budget))
    client.__enter__()              # one event loop for every request, kept
    return client


def classify_api(response, results=lambda data: [data]) -> tuple[str, str]:
    """An answer of the web API -> (outcome, message): a 4xx with a one-line JSON
    error is a clean rejection (422, a document whose reading ran out of its budget:
    stopped), a 5xx a crash; a 200 is classified by the results
    it carries (``results(data)``: the Result objects as dicts), the worst one counting."""
    from ..checks.result import Result
    if response.status_code >= 500:
        return "crashed", f"HTTP {response.status_code}: {response.text[:200]}"
    data = response.json()
    if response.status_code >= 400:
        error = data.get("error", "") if isinstance(data, dict) else ""
        if response.status_code == 422:     # reading a document ran out of its budget
            return "stopped", f"HTTP 422: {error[:200]}"
        return ("rejected" if _one_line(error) else "unclear"), f"HTTP {response.status_code}: {error[:200]}"
    found = [classify_result(Result.from_dict(r)) for r in results(data)] or [("accepted", "no claims")]
    return max(found, key=lambda f: _SEVERITY.index(f[0]))


def _api_post(path: str, body: dict, ctx: Context, results=lambda data: [data]) -> tuple[str, str]:
    client = _api_client(ctx.budget)
    # the JSON written here, ASCII only: a lone surrogate of an input travels as \ud800, as a browser sends it
    response = client.post(path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    outcome = classify_api(response, results)
    alive = client.get("/api/examples")
    if alive.status_code != 200:
        return "crashed", f"the server stopped answering after the input (HTTP {alive.status_code})"
    return outcome


def _api_check(values: dict, ctx: Context):
    """POST /api/check?html=1 with the four fields (the result rendered as HTML too)."""
    return _api_post("/api/check?html=1", dict(values, budget=ctx.budget), ctx)


def _api_extract(values: dict, ctx: Context):
    """POST /api/extract?html=1 with the file as a Markdown document; every claim checked."""
    return _api_post("/api/extract?html=1", {"text": values["file"], "format": "md"}, ctx,
                     results=lambda data: [c["result"] for c in data["claims"]])


def _count_formulas(values: dict) -> int:
    """Claims a document may hold (each is checked), and its reading."""
    text = values.get("file", "")
    return 1 + text.count("\\boxed") + text.count("\\implies") + text.count("Rightarrow")


CLAIM = {"shapes": "A:m,n x:n y:m", "cost": "y.T @ A @ x", "wrt": "A", "claim": "y @ x.T"}
DERIVATION = (BUNDLED / "post_III_matrix_identities.toml")

ENTRY_POINTS: list[EntryPoint] = [
    EntryPoint("check (API)", "text", CLAIM, _check_api),
    EntryPoint("check (CLI)", "text", CLAIM, _cli("check", {0, 1, 2, 3}, lambda v, ctx: [
        "--shapes", v["shapes"], "--cost", v["cost"], "--wrt", v["wrt"], "--claim", v["claim"],
        "--json", "--budget", str(ctx.budget)]), command="check"),
    EntryPoint("step (CLI)", "text", {"shapes": "A:m,n B:n,m", "lhs": "(A @ B).T", "rhs": "B.T @ A.T"},
               _cli("step", {0, 1, 2, 3}, lambda v, ctx: [
                   "--shapes", v["shapes"], "--lhs", v["lhs"], "--rhs", v["rhs"], "--json",
                   "--budget", str(ctx.budget)]), command="step"),
    EntryPoint("network (CLI)", "text",
               {"sizes": "2,3,1", "activation": "sigmoid", "convention": "nielsen",
                "claim": "delta[L] = (a[L] - y) * sigma'(z[L])"},
               _cli("network", {0, 1, 2, 3}, lambda v, ctx: [
                   "--sizes", v["sizes"], "--activation", v["activation"], "--convention", v["convention"],
                   "--claim", v["claim"], "--json", "--budget", str(ctx.budget)]), command="network"),
    EntryPoint("derivation file (API)", "file", {"file": ""}, _loads, items=_count_items),
    EntryPoint("report (CLI)", "file", {"file": ""}, _cli("report", {0, 1, 2}, lambda v, ctx: [
        str(ctx.file(v["file"])), "--json", "--budget", str(ctx.budget)]), command="report", items=_count_items),
    EntryPoint("latex (CLI)", "file", {"file": ""}, _cli("latex", {0, 1, 2, 3}, lambda v, ctx: [
        str(ctx.file(v["file"])), "-o", str(ctx.scratch / "proofs.tex"), "--budget", str(ctx.budget),
        "--proof-budget", str(ctx.budget)]),
        command="latex", items=lambda values: 2 * _count_items(values)),      # a check and a proof each
    EntryPoint("extract (CLI)", "file", {"file": ""}, _cli("extract", {0, 1, 2}, lambda v, ctx: [
        str(ctx.file(v["file"], ".md"))]), command="extract"),
    EntryPoint("pytest plugin", "file", {"file": ""}, _pytest_plugin, items=_count_items),
    EntryPoint("check (web API)", "text", CLAIM, _api_check, command="serve"),
    EntryPoint("extract (web API)", "file", {"file": ""}, _api_extract, command="serve", items=_count_formulas),
]


def entry_points() -> list[EntryPoint]:
    """The entry points present in this build (a CLI command someone removed drops out)."""
    return [e for e in ENTRY_POINTS if e.command is None or e.command in COMMANDS]


# -- inputs -----------------------------------------------------------------------------------

def read_corpus(path: Path) -> list[str]:
    """One JSON string a line; blank lines and lines starting with # are skipped.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.txt"
    >>> _ = p.write_text('# comment\\n"x\\\\u0000y"\\n\\n"lambda: 0"\\n')
    >>> read_corpus(p)
    ['x\\x00y', 'lambda: 0']
    """
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            value = json.loads(line)
            if not isinstance(value, str):
                raise ValueError(f"{path}:{number}: expected a JSON string")
            out.append(value)
    return out


def giants() -> list[tuple[str, str]]:
    """(label, text): inputs too large to keep in the corpus."""
    return [
        ("10,000 nested parentheses", "(" * 10_000 + "x" + ")" * 10_000),
        ("a 1 MB expression", "x + " * 262_144 + "x"),
        ("10,000 nested calls", "sigma(" * 10_000 + "x" + ")" * 10_000),
        ("10,000 signs", "-" * 10_000 + "x"),
        ("10,000 transposes", "x" + ".T" * 10_000),
        ("10,000 primes", "sigma" + "'" * 10_000 + "(x)"),
        ("a 100,000-digit number", "9" * 100_000),
        ("a billion-digit exponent", "1e999999999"),
        ("x**9**9**9", "x**9**9**9"),
        ("10**9 as a dimension", "A:10**9,n x:n y:m"),
        ("a huge dimension", "A:1000000000,n x:n y:m"),
        ("a zero dimension", "A:0,n x:n y:m"),
        ("10,000 declarations", " ".join(f"x{i}:n" for i in range(10_000))),
    ]


def file_giants() -> list[tuple[str, str]]:
    return [
        ("TOML arrays nested 10,000 deep", "title = 'x'\nv = " + "[" * 10_000 + "]" * 10_000 + "\n"),
        ("TOML tables nested 5,000 deep", "title = 'x'\nv = " + "{a = " * 5_000 + "1" + "}" * 5_000 + "\n"),
        ("a 1 MB claim in a file", "title = 't'\nshapes = 'x:n'\n[[claim]]\nname = 'n'\ncost = 'x.T @ x'\n"
                                   "wrt = 'x'\nclaim = '" + "x + " * 262_144 + "x'\n"),
        ("3 MB of comments", "#" * 3_000_000),
        ("10,000 claims", "title = 't'\nshapes = 'x:n'\n" + "".join(
            f"[[claim]]\nname = 'c{i}'\ncost = 'x.T @ x'\nwrt = 'x'\nclaim = '2 * x +'\nexpect = 'invalid'\n"
            for i in range(10_000))),
    ]


_ALPHABET = ("ABCxyzWbnm_019 .,:;'\"()[]{}+-*/@%^&|!=<>~`$#?\\\t\n"
             "аеорсху\u0391\u0392\u0395\u03c3\u03b4\u2202\u2207\u00b7\u00d7\u22c5\uff34\uff38\u200b\u00a0\x00\ufeff"
             "\u2212\u2032\u2033\U0001d465")
_TOKENS = ("A", "x", "y", "W", "s", "m", "n", "B", "sigma", "sigmoid", "tr", "inv", "det", "sum", "eye", "ones",
           "kron", "matrix_power", "logdet", "T", "nan", "inf", "exec", "open", "lambda", "__import__",
           "0", "1", "2", "0.5", "1e308", "64", "-65", "(", ")", ",", "'", "@", "*", "/", "+", "-", "**", ".T",
           ":", "scalar", "spd", "symmetric", "invertible", " ",
           # the NumPy dialect: prefixes, methods, keyword arguments, comparisons, real exponents
           "np.", "numpy.", "scipy.special.", "np.linalg.", ".sum(", ".max(", ".mean(", ".var(", ".dot(", ".",
           "axis=", "axis=None", "keepdims=True", "ddof=1", "=", "==", ">", ">=", "<", "!=", "True", "None",
           "softmax", "log_softmax", "logsumexp", "maximum", "minimum", "mean", "var", "std", "max", "outer",
           "ones_like", "zeros", "square", "1e-5", "-0.5", "(1/3)", "positive", "onehot", "binary",
           "keepdims=", "ddof=", "False", "-1", "10**9", "<=", "diagflat", "min", "1e-300", "(1/0)", "(10**100)",
           "__class__", "__dict__", "keepdims=np", "np.np.")


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 60)))


def random_tokens(rng: random.Random) -> str:
    return "".join(rng.choice(_TOKENS) for _ in range(rng.randint(1, 25)))


# the NumPy dialect, generated: nearly valid expressions over the symbols of CLAIM (A:m,n x:n y:m),
# so that they reach the type pass, the derivation and both checks, not only the parser
_OPERANDS = ("A", "x", "y", "A.T", "x.T", "y.T", "m", "n", "1", "0", "2.5", "(1/3)", "A @ x", "x @ y.T", "s")
_PREFIXES = ("np.", "numpy.", "", "", "scipy.special.", "np.linalg.", "np.np.", "np.__class__.")
_FUNCTIONS = ("sum", "mean", "var", "std", "max", "min", "exp", "log", "tanh", "sqrt", "abs", "softmax",
              "log_softmax", "logsumexp", "ones_like", "zeros_like", "diagflat", "expit", "amax", "trace", "inv",
              "maximum", "minimum", "outer", "dot", "multiply", "divide", "power", "transpose", "norm", "square",
              "eval")
_KEYWORDS = ("axis=0", "axis=1", "axis=-1", "axis=-2", "axis=None", "axis=2", "axis=10**9", "axis=x", "keepdims=True",
             "keepdims=False", "keepdims=np", "keepdims=1", "ddof=1", "ddof=-1", "ddof=10**9", "dtype=float",
             "out=A", "axis=0, axis=1", "0", "1")
_METHODS = (".sum()", ".sum(axis=0)", ".sum(axis=1, keepdims=True)", ".mean(axis=0)", ".max(axis=1)", ".min()",
            ".var(ddof=1)", ".std(axis=0)", ".dot(x)", ".T", ".transpose()", ".sum().sum()", ".__class__",
            ".reshape(-1, 1)", ".shape")
_INFIX = (" + ", " - ", " * ", " / ", " @ ", " ** ", " > ", " >= ", " < ", " <= ", " == ", " != ", " = ")
_EXPONENTS = ("2", "0.5", "-1", "(-1/2)", "1e-300", "(1/0)", "(10**100)", "64", "65", "(1/3)", "0", "x")


def random_dialect(rng: random.Random, depth: int = 0) -> str:
    """A random expression of the NumPy dialect over A, x, y (m, n as sizes):
    calls with keyword arguments, method chains, broadcasting sums and
    products, comparisons (also chained, also ``=``), real exponents --
    valid, or just off."""
    if depth > 3 or rng.random() < 0.25:
        return rng.choice(_OPERANDS)
    kind = rng.randrange(5)
    inner = random_dialect(rng, depth + 1)
    if kind == 0:
        args = [inner] + ([random_dialect(rng, depth + 1)] if rng.random() < 0.3 else [])
        args += rng.sample(_KEYWORDS, rng.randint(0, 2))
        return f"{rng.choice(_PREFIXES)}{rng.choice(_FUNCTIONS)}({', '.join(args)})"
    if kind == 1:
        return f"({inner}){''.join(rng.choice(_METHODS) for _ in range(rng.randint(1, 3)))}"
    if kind == 2:
        op = rng.choice(_INFIX)
        right = rng.choice(_EXPONENTS) if op == " ** " else random_dialect(rng, depth + 1)
        return f"({inner}{op}{right})"
    if kind == 3:
        return f"{inner}{rng.choice(_INFIX).strip()}{random_dialect(rng, depth + 1)}{rng.choice(('', ' > 0', ' < 1'))}"
    return f"-{inner}" if rng.random() < 0.5 else f"({inner}) ** {rng.choice(_EXPONENTS)}"


_PROPERTIES = ("", "", ":onehot", ":binary", ":positive", ":symmetric", ":spd", ":onehot:binary", ":")
_SHAPES = ("m,n", "n,m", "m", "n", "1,n", "m,1", "scalar", "n,n", "0", "10**9", "N")


def random_declarations(rng: random.Random) -> str:
    """Declarations of CLAIM's symbols with random shapes and the data
    properties (onehot, binary, positive) on matrices, vectors and scalars --
    so that the variable ``A`` is sometimes one-hot data."""
    return " ".join(f"{name}:{rng.choice(_SHAPES)}{rng.choice(_PROPERTIES)}" for name in ("A", "x", "y")) + \
        rng.choice(("", " s:scalar", " s:scalar:positive", " s:scalar:binary", " s:n:onehot", " np:n", " N:scalar"))


def mutate(text: str, rng: random.Random) -> str:
    """One random edit: truncate, delete a slice, insert a token, swap two
    characters, or duplicate a slice."""
    if not text:
        return rng.choice(_TOKENS)
    i, j = sorted(rng.randrange(len(text) + 1) for _ in range(2))
    edit = rng.randrange(5)
    if edit == 0:
        return text[:i]
    if edit == 1:
        return text[:i] + text[j:]
    if edit == 2:
        return text[:i] + rng.choice(_TOKENS + tuple(_ALPHABET)) + text[i:]
    if edit == 3 and i < len(text) and j < len(text):
        chars = list(text)
        chars[i], chars[j] = chars[j], chars[i]
        return "".join(chars)
    return text[:j] + text[i:j] + text[j:]


_WRONG_TYPES = ("1", "true", "[1, 2]", "{a = 1}", "1979-05-27", "inf", "nan", "''", "'''\n'''", "[[]]")


def mutate_file(text: str, rng: random.Random) -> str:
    """A derivation file with one random edit: a mutated character range, a
    deleted or duplicated line, or a value of the wrong type."""
    lines = text.splitlines(keepends=True)
    edit = rng.randrange(4)
    k = rng.randrange(len(lines)) if lines else 0
    if edit == 0 or not lines:
        return mutate(text, rng)
    if edit == 1:
        return "".join(lines[:k] + lines[k + 1:])
    if edit == 2:
        return "".join(lines[:k + 1] + lines[k:])
    key = lines[k].split("=", 1)[0]
    if "=" not in lines[k]:
        return mutate(text, rng)
    return "".join(lines[:k] + [f"{key}= {rng.choice(_WRONG_TYPES)}\n"] + lines[k + 1:])


_ITEM = re.compile(r"^\[\[\s*[A-Za-z_]+\s*\]\]", re.M)     # [[claim]], [[chain]]: not [[chain.define]]


def excerpt(text: str, rng: random.Random, most: int = 2) -> str:
    r"""A derivation file cut to its header and up to ``most`` of its items, in
    order (a ``[[chain]]`` keeps its ``[[chain.define]]`` tables): mutations of a
    whole file mostly leave it valid, and checking all of its claims at every
    mutation would spend the run on valid claims.

    >>> text = "title = 't'\n[[claim]]\nname = 'a'\n[[chain]]\nname = 'b'\n[[chain.define]]\nx = 1\n"
    >>> print(excerpt(text, random.Random(0), most=1), end="")
    title = 't'
    [[chain]]
    name = 'b'
    [[chain.define]]
    x = 1
    """
    starts = [m.start() for m in _ITEM.finditer(text)]
    if not starts:
        return text
    items = [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]
    keep = sorted(rng.sample(range(len(items)), min(len(items), rng.randint(1, most))))
    return text[:starts[0]] + "".join(items[i] for i in keep)


def bundled_texts() -> list[str]:
    """Valid claim-language strings: every cost and claim of the bundled
    derivations (the post's and the NumPy-dialect modern_* files)."""
    import tomllib
    out = []
    for path in sorted(BUNDLED.glob("post_*.toml")) + sorted(BUNDLED.glob("modern_*.toml")):
        for table in tomllib.loads(path.read_text()).get("claim", []):
            out += [table["cost"], table["claim"]]
    return out


@dataclass(frozen=True)
class Case:
    label: str          # where the input came from, for the figures
    text: str


def _mutated_claim(rng: random.Random) -> str:
    return mutate(rng.choice(_VALID), rng)


# the random generators of each kind of entry point, one row each: (label, draw(rng) -> text).
# One "example" is one draw of every row: --examples E gives E inputs a generator and slot.
TEXT_GENERATORS: tuple = (
    ("random string", random_text),
    ("random tokens", random_tokens),
    ("mutated claim", _mutated_claim),
    ("random NumPy dialect", random_dialect),
    ("random declarations", random_declarations),
)
FILE_GENERATORS: tuple = (
    ("mutated file", lambda rng: mutate_file(excerpt(rng.choice(_FILES), rng), rng)),
    ("random file", random_text),
)
_VALID = bundled_texts()
_FILES = [p.read_text() for p in sorted(BUNDLED.glob("*.toml"))]


def _fixed_text_cases(corpus: Path | None) -> list[Case]:
    cases = [Case(f"corpus {p.name}:{i + 1}", t) for p in sorted(corpus.glob("*.txt"))
             for i, t in enumerate(read_corpus(p))] if corpus and corpus.is_dir() else []
    return cases + [Case(label, text) for label, text in giants()]


def _fixed_file_cases(corpus: Path | None) -> list[Case]:
    cases = []
    if corpus and (corpus / "files").is_dir():
        cases += [Case(f"corpus files/{p.name}", p.read_bytes().decode("utf-8", "surrogateescape"))
                  for p in sorted((corpus / "files").iterdir()) if p.is_file()]
    return cases + [Case(label, text) for label, text in file_giants()]


# kind of entry point -> (the fixed cases: corpus and giants, the generators, seed offset)
KINDS = {"text": (_fixed_text_cases, TEXT_GENERATORS, 0), "file": (_fixed_file_cases, FILE_GENERATORS, 1)}


def cases(kind: str, examples: int, seed: int, corpus: Path | None) -> list[Case]:
    """The inputs of an entry point of ``kind``: the corpus, the giants, then
    ``examples`` draws of every generator, deterministic in ``seed``."""
    fixed, generators, offset = KINDS[kind]
    rng = random.Random(seed + offset)
    out = fixed(corpus)
    for _ in range(examples):
        out += [Case(label, draw(rng)) for label, draw in generators]
    return out


def text_cases(examples: int, seed: int, corpus: Path | None) -> list[Case]:
    """Hostile strings for the slots of text entry points, deterministic in ``seed``."""
    return cases("text", examples, seed, corpus)


def file_cases(examples: int, seed: int, corpus: Path | None) -> list[Case]:
    """Hostile derivation files."""
    return cases("file", examples, seed, corpus)


def examples_for(entry: EntryPoint, inputs: int, corpus: Path | None) -> int:
    """The fewest ``examples`` that give ``entry`` at least ``inputs`` inputs in all
    (each slot takes the fixed cases and every generator's draws).

    >>> e = EntryPoint("t", "text", {"a": "", "b": ""}, None)
    >>> n = examples_for(e, 10_000, None)
    >>> 2 * (len(giants()) + 5 * n) >= 10_000 > 2 * (len(giants()) + 5 * (n - 1))
    True
    """
    fixed, generators, _ = KINDS[entry.kind]
    per_slot = -(-inputs // len(entry.slots))          # ceil
    return max(0, -(-(per_slot - len(fixed(corpus))) // len(generators)))


# -- the run ----------------------------------------------------------------------------------

def observe(entry: EntryPoint, values: dict, ctx: Context, monitor: Monitor, label: str) -> Observation:
    """Run one entry point on one input, under the monitor."""
    start = time.monotonic()
    with monitor.watching() as flagged:
        try:
            outcome, message = entry.run(values, ctx)
        except RecursionError as e:
            outcome, message = "crashed", f"RecursionError: {e}"
        except Exception as e:           # an exception escaping an entry point is a crash
            outcome, message = "crashed", f"{type(e).__name__}: {str(e)[:200]}"
    seconds = time.monotonic() - start
    detail = f"{label} -> {message[:160]}"
    if flagged:
        return Observation("executed", seconds, f"{label}: {flagged[0]}")
    if seconds > ctx.budget * entry.items(values) + GRACE:
        return Observation("over budget", seconds, f"{seconds:.1f} s: {detail}")
    return Observation(outcome, seconds, detail)


def _warm_up() -> None:
    """Import every command's module before the monitor watches: the CLI loads
    them lazily, and loading a library (NumPy's ctypes, ...) is not something
    an input did."""
    for command in COMMANDS.values():
        command.load()
    # the checks load SymPy, NumPy, mpmath and flint on first use (core/lazy.py): use them once
    from ..checks.checker import decide
    from ..checks.claim import Claim, prepare
    decide(prepare(Claim("A:m,n x:n y:m", "y.T @ tanh(A @ x)", "A", "y @ x.T")))


CHUNK = 200         # inputs of one task: what a worker runs between reports


@dataclass(frozen=True)
class Task:
    """A slice of one entry point's inputs in one slot: what one process runs."""

    entry: str
    slot: str
    examples: int
    start: int
    stop: int


@functools.lru_cache(maxsize=8)
def _cases(kind: str, examples: int, seed: int, corpus: Path | None) -> tuple:
    return tuple(cases(kind, examples, seed, corpus))


class _Runner:
    """Runs tasks in this process: a scratch folder of its own as the working
    directory (a payload that ran would write its canary there) and the monitor."""

    def __init__(self, root: Path, seed: int, budget: float, corpus: Path | None, api: bool = False):
        _warm_up()
        self.scratch = Path(tempfile.mkdtemp(prefix="worker_", dir=root)).resolve()
        self.seed, self.budget, self.corpus = seed, budget, corpus
        self.monitor = Monitor.install(self.scratch)
        if api:                             # only when a web API entry point runs (it needs httpx)
            _api_client(budget)             # the web API's event loop, started before the monitor watches
        self.entries = {e.name: e for e in entry_points()}

    def __call__(self, task: Task) -> Tally:
        entry = self.entries[task.entry]
        tally = Tally(entry.name)
        previous = os.getcwd()
        os.chdir(self.scratch)
        try:
            for case in _cases(entry.kind, task.examples, self.seed, self.corpus)[task.start:task.stop]:
                values = dict(entry.slots, **{task.slot: case.text})
                label = f"{case.label} in {task.slot}: {_short(case.text)}"
                tally.add(observe(entry, values, Context(self.scratch, self.budget), self.monitor, label))
        finally:
            os.chdir(previous)
        return tally

    def close(self) -> None:
        os.close(self.monitor.fd)
        self.monitor.fd = os.open(os.devnull, os.O_WRONLY)


_worker: "_Runner | None" = None          # the runner of a worker process


def _start_worker(root: Path, seed: int, budget: float, corpus: Path | None, api: bool) -> None:
    global _worker
    _worker = _Runner(root, seed, budget, corpus, api)


def _work(task: Task) -> Tally:
    return _worker(task)


def plan(examples: int, seed: int, corpus: Path | None, only: list[str] | None = None,
         inputs: int | None = None) -> list[Task]:
    """The tasks of a run, in the order of the entry points: ``examples`` draws of
    every generator, or, with ``inputs``, as many as give each entry point at
    least that many inputs.

    >>> tasks = plan(0, 0, None, only=["check (API)"], inputs=1000)
    >>> sum(t.stop - t.start for t in tasks) >= 1000, {t.slot for t in tasks} == set(CLAIM)
    (True, True)
    """
    tasks = []
    for entry in entry_points():
        if only and entry.name not in only:
            continue
        n = examples_for(entry, inputs, corpus) if inputs is not None else examples
        count = len(_cases(entry.kind, n, seed, corpus))
        tasks += [Task(entry.name, slot, n, i, min(i + CHUNK, count))
                  for slot in entry.slots for i in range(0, count, CHUNK)]
    return tasks


def run(examples: int = 50, seed: int = 0, budget: float = 5.0, corpus: Path | None = CORPUS,
        only: list[str] | None = None, progress=lambda tally: None, inputs: int | None = None,
        jobs: int = 1) -> list[Tally]:
    """Every entry point against every input; one :class:`Tally` per entry point.
    With ``jobs`` > 1 the tasks run in that many forked worker processes, each
    with its own scratch folder and monitor; the figures are the same."""
    if examples < 0 or budget <= 0 or jobs < 1 or (inputs is not None and inputs < 0):
        raise ValueError(f"examples and inputs must be >= 0, the budget positive and jobs >= 1, "
                         f"got {examples}, {inputs}, {budget}, {jobs}")
    tasks = plan(examples, seed, corpus, only, inputs)
    tallies = {name: Tally(name) for name in dict.fromkeys(t.entry for t in tasks)}
    left = collections.Counter(t.entry for t in tasks)

    def done(task: Task, tally: Tally) -> None:
        tallies[task.entry].merge(tally)
        left[task.entry] -= 1
        if not left[task.entry]:
            progress(tallies[task.entry])

    by_name = {e.name: e for e in entry_points()}
    api = any(by_name[name].command == "serve" for name in tallies)
    with tempfile.TemporaryDirectory(prefix="symbolic_bp_fuzz_") as root:
        if jobs == 1:
            runner = _Runner(Path(root), seed, budget, corpus, api)
            try:
                for task in tasks:
                    done(task, runner(task))
            finally:
                runner.close()
        else:
            # fork: the workers start from this process's imports, and the monitor sees what
            # the inputs do, not what starting a Python interpreter does
            context = multiprocessing.get_context("fork")
            with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker,
                                                        initargs=(Path(root), seed, budget, corpus, api)) as pool:
                for task, tally in zip(tasks, pool.map(_work, tasks)):
                    done(task, tally)
    return list(tallies.values())


def total(tallies: list[Tally]) -> Tally:
    out = Tally("total")
    for t in tallies:
        out.merge(t)
    return out


def to_text(tallies: list[Tally]) -> str:
    """The figures as a table, then every problem found."""
    head = ["entry point", "tried", "rejected cleanly", "accepted", "stopped by budget", "unclear",
            "crashed", "executed code", "over budget", "slowest rejection"]
    rows = [[t.name, t.tried] + [t.counts[f] for f in FIGURES] + [f"{t.slowest[0]:.2f} s"]
            for t in tallies + [total(tallies)]]
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    fmt = lambda cells: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                  for i, (c, w) in enumerate(zip(cells, widths)))
    lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
    whole = total(tallies)
    lines += ["", f"slowest rejection: {whole.slowest[0]:.2f} s ({whole.slowest[1]})"]
    for problem in whole.problems:
        lines.append(f"PROBLEM {problem}")
    return "\n".join(lines)


def to_dict(tallies: list[Tally]) -> dict:
    return {"entry_points": [{"name": t.name, "tried": t.tried, **t.counts,
                              "slowest_rejection": {"seconds": round(t.slowest[0], 3), "input": t.slowest[1]},
                              "problems": t.problems} for t in tallies]}


def failed(tallies: list[Tally]) -> bool:
    """Anything that must never happen: a crash, executed code, an unclear
    rejection, a run beyond its budget."""
    whole = total(tallies)
    return any(whole.counts[f] for f in ("unclear", "crashed", "executed", "over budget"))

