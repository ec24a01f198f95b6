import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli():
    """Run ``python -m symbolic_bp ARGS`` in a fresh process, as a user would."""
    def run(*args, cwd=None):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        return subprocess.run([sys.executable, "-m", "symbolic_bp", *args], capture_output=True, text=True,
                              cwd=cwd or ROOT, env=env, timeout=300)
    return run


GOOD = '''title = "a small derivation"
document = "notes.md"
section = "1"
shapes = "A:m,n x:n y:m"

[[claim]]
name = "linear"
cost = "y.T @ A @ x"
wrt = "A"
claim = "y @ x.T"
latex = '\\boxed{C = y^T A x \\implies \\frac{\\delta C}{\\delta A} = y x^T}'

[[claim]]
name = "transposed"
cost = "y.T @ A @ x"
wrt = "A"
claim = "x @ y.T"
expect = "refuted"
'''


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    return path
