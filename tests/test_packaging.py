"""The package as pip builds it: the sdist and the wheel build without a warning,
the wheel carries the bundled derivations and the fuzz corpus (package data,
``symbolic_bp/data/``), and ``symbolic-bp report`` with no path runs them from an
empty folder, with nothing of the source checkout in reach.

``.ci/wheel-check`` (``make wheel-check``) does the same with a real ``pip
install`` into a fresh venv.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "symbolic_bp" / "data"
# pip's notices about this machine's extra package indexes are not about the package
NOISE = re.compile(r"^WARNING: Location .* is ignored: it is neither a file nor a directory\.$")
SKIP = shutil.ignore_patterns(".git", ".venv", ".hypothesis", "build", "dist", "*.egg-info", "__pycache__")


def build_wheel(tmp: Path) -> Path:
    source = tmp / "source"          # a copy: the build writes egg-info and build/ next to its sources
    shutil.copytree(ROOT, source, ignore=SKIP)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}   # distutils warns on it
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_ROOT_USER_ACTION="ignore")
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(tmp / "dist"), str(source)],
                          capture_output=True, text=True, env=env, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    warnings = [line for line in output.splitlines()
                if re.search("warning|deprecat", line, re.I) and not NOISE.match(line)]
    assert warnings == [], output
    (found,) = (tmp / "dist").glob("*.whl")
    return found


def _data_files(root: Path) -> set[str]:
    return {p.relative_to(root.parent.parent).as_posix() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.mark.slow
def test_the_wheel_carries_the_data_and_report_runs_it_from_an_empty_folder(tmp_path):
    pytest.importorskip("build")
    wheel = build_wheel(tmp_path)   # one build (a fixture would build once per xdist worker)

    site, empty = tmp_path / "site", tmp_path / "empty"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        # derivations/ ships as symbolic_bp/data/derivations, the corpus where it lies
        shipped = _data_files(DATA) | {f"symbolic_bp/data/derivations/{p.name}" for p in (ROOT / "derivations").glob("*.toml")}
        assert {n for n in shipped if "/derivations/" in n} and {n for n in shipped if "/hostile/files/" in n}
        assert shipped <= names, sorted(shipped - names)
        assert z.read("symbolic_bp/data/derivations/answer_delta.toml") == (ROOT / "derivations" / "answer_delta.toml").read_bytes()
        for name in ("symbolic_bp/data/hostile/files/binary.toml", "symbolic_bp/data/hostile/files/utf16.toml"):
            assert z.read(name) == (ROOT / name).read_bytes()   # byte for byte
        assert "License-Expression: MIT" in z.read(next(n for n in names if n.endswith("/METADATA"))).decode()
        z.extractall(site)
    empty.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site))
    where = subprocess.run(
        [sys.executable, "-c", "import symbolic_bp; from symbolic_bp.integrations import fuzz, options; "
         "print(symbolic_bp.__file__); print(options.BUNDLED); print(fuzz.CORPUS)"],
        capture_output=True, text=True, cwd=empty, env=env, timeout=300)
    package, bundled, corpus = map(Path, where.stdout.split())
    assert all(site in p.parents for p in (package, bundled, corpus)), where.stdout + where.stderr
    assert (corpus / "payloads.txt").is_file() and (corpus / "files" / "empty.toml").is_file()

    done = subprocess.run([sys.executable, "-m", "symbolic_bp", "report"], capture_output=True, text=True,
                          cwd=empty, env=env, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    assert re.match(r"\d+ claims: .*; 0 not as expected; 0 unreadable files$", summary), summary
    assert int(summary.split()[0]) > 100
    assert list(empty.iterdir()) == []
