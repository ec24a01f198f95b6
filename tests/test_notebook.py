"""The %%bp cell magic: block parsing, and a real notebook executed by a Jupyter kernel."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from symbolic_bp.errors import InputError
from symbolic_bp.integrations.notebook import block_html, parse_block

ROOT = Path(__file__).resolve().parent.parent

WRONG = """%%bp
shapes: A:m,n x:n y:m
cost:   y.T @ A @ x
wrt:    A
claim:  x @ y.T
"""
UNSYMMETRISED = """%%bp
shapes: S:n,n x:n
cost: x.T @ S @ x
wrt: x
claim: 2 * S
   @ x
budget: 60   # seconds
seed: 0
"""
RIGHT = """%%bp
# the gradient of a bilinear form
shapes: A:m,n x:n y:m
cost: y.T @ A @ x
wrt: A
claim: y @ x.T
"""
BAD = """%%bp
shapes: A:m,n x:n y:m
cots: y.T @ A @ x
wrt: A
claim: y @ x.T
"""
CHAIN = """%%bp
shapes: x:n y:n
cost: (x - y).T @ (x - y)
= x.T @ x - 2 * y.T @ x
= x.T @ x
    - 2 * y.T @ x + const(x)      # the term y.T @ y dropped
dC/dx = 2 * x - 2 * y
"""
LAST = """from symbolic_bp import Claim, check
check(Claim(shapes="A:m,n x:n y:m", cost="y.T @ A @ x", wrt="A", claim="x @ y.T"))"""


# -- the block ------------------------------------------------------------------------------------

def test_a_claim_block_with_continuation_and_comments():
    block = parse_block(UNSYMMETRISED.split("\n", 1)[1], first_line=2)
    assert block.fields == {"shapes": "S:n,n x:n", "cost": "x.T @ S @ x", "wrt": "x", "claim": "2 * S @ x",
                            "budget": "60", "seed": "0"}
    assert (block.budget, block.seed, block.steps) == (60.0, 0, [])


def test_a_derivation_block():
    block = parse_block(CHAIN.split("\n", 1)[1], first_line=2)
    assert [(s.number, s.relation, s.expr, s.wrt, s.variables) for s in block.steps] == [
        (4, "=", "x.T @ x - 2 * y.T @ x", "", ""),
        (5, "up-to-constant", "x.T @ x - 2 * y.T @ x", "", "x"),
        (7, "gradient", "2 * x - 2 * y", "x", "")]


@pytest.mark.parametrize("text, message", [
    ("shapes: x:n\ncots: x.T @ x\nwrt: x\nclaim: 2 * x", "line 2: unknown key 'cots' (did you mean 'cost'?)"),
    ("shapes: x:n\ncost: x.T @ x\nwrt: x\nwrt: x\nclaim: 2 * x", "line 4: duplicate key 'wrt' (first on line 3)"),
    ("shapes: x:n\ncost: x.T @ x\nclaim: 2 * x", "missing key 'wrt': a claim block needs shapes, cost, wrt, claim"),
    ("shapes: x:n\ncost: x.T @ x\nwrt:\nclaim: 2 * x", "line 3: 'wrt' is empty"),
    ("  shapes: x:n", "line 1: an indented line continues a value, but none comes before it"),
    ("shapes: x:n\nx.T @ x", "line 2: expected 'key: value', '= …' or 'dC/dX = …', got 'x.T @ x'"),
    ("shapes: x:n\ncost: x.T @ x\nwrt: x\n= 2 * x", "line 3: a derivation block"),
    ("shapes: x:n\ncost: x.T @ x\n= x.T @ x + const()", "line 3: const() needs the variables"),
    ("shapes: x:n\ncost: x.T @ x\nwrt: x\nclaim: 2 * x\nbudget: soon", "line 5: budget: not a number: 'soon'"),
])
def test_a_bad_block_is_one_line_naming_its_line(text, message):
    with pytest.raises(InputError) as e:
        block = parse_block(text)
        block.budget
    assert str(e.value).startswith(message)
    page = block_html(text)
    assert page.startswith('<div class="sbp-error">') and "Traceback" not in page
    assert page.count("\n") == page.split("</style>")[0].count("\n")        # the message itself is one line


def test_a_bad_expression_is_invalid_not_an_error_box():
    page = block_html("shapes: x:n\ncost: x.T @ x\nwrt: x\nclaim: 2 * <script>")
    assert '<div class="sbp-result sbp-invalid">' in page and "<script>" not in page


def test_a_derivation_is_checked_line_by_line():
    page = block_html(CHAIN.split("\n", 1)[1], first_line=2)
    assert page.startswith('<div class="sbp-result sbp-refuted">')
    rows = re.findall(r"<tr>(.*?)</tr>", page, flags=re.S)
    assert [re.search(r"sbp-badge sbp-(\w+)", row).group(1) for row in rows] == ["refuted", "verified", "verified"]
    assert "line 1 of 3 is the first wrong line" in page and "y.T @ y" in page        # the missing term


# -- a real notebook ------------------------------------------------------------------------------

@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """A kernel spec that runs this interpreter (the project's venv), found first via JUPYTER_PATH."""
    spec = tmp_path / "jupyter" / "kernels" / "sbp-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "symbolic_bp test", "language": "python",
        "env": {"PYTHONPATH": str(ROOT)}}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "sbp-test"


def html_outputs(cell) -> list[str]:
    return [o["data"]["text/html"] for o in cell.outputs
            if o["output_type"] in ("display_data", "execute_result") and "text/html" in o.get("data", {})]


@pytest.mark.slow
def test_a_real_notebook(kernel, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    v4 = nbformat.v4
    cells = ["import sys; print(sys.executable)", "%load_ext symbolic_bp", WRONG, UNSYMMETRISED, RIGHT, BAD,
             CHAIN, "%%bp budget=5\nshapes: x:n", LAST]
    nb = v4.new_notebook(cells=[v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(nb, kernel_name=kernel, timeout=600,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    executable, load, wrong, unsymmetrised, right, bad, chain, arguments, last = nb.cells

    assert executable.outputs[0]["text"].strip() == sys.executable
    assert not any(o["output_type"] == "error" for c in nb.cells for o in c.outputs)
    assert load.outputs == []

    (page,) = html_outputs(wrong)
    assert '<div class="sbp-result sbp-refuted">' in page and "sbp-badge sbp-refuted" in page
    assert "<math" in page and "\\frac" not in page
    assert "counterexample at m=1, n=2" in page and "the claim is the true gradient transposed" in page
    assert "did you mean:" in page and "(verified)" in page

    (page,) = html_outputs(unsymmetrised)
    assert "sbp-badge sbp-refuted" in page
    assert page.count('<mtd class="sbp-entry" mathbackground="#ffd33d">') == 2     # claimed and true
    assert re.search(r"entry \(\d,\d\):", page) and "symmetri" in page

    (page,) = html_outputs(right)
    assert '<div class="sbp-result sbp-verified">' in page and "<math" in page

    (page,) = html_outputs(bad)
    assert page.startswith('<div class="sbp-error">')
    assert page.endswith("line 3: unknown key &#x27;cots&#x27; (did you mean &#x27;cost&#x27;?)</div>")

    (page,) = html_outputs(chain)
    assert page.count("<tr>") == 3 and "sbp-badge sbp-verified" in page and "sbp-badge sbp-refuted" in page

    (page,) = html_outputs(arguments)
    assert page.startswith('<div class="sbp-error">') and "line 1: %%bp takes no arguments" in page

    (result,) = [o for o in last.outputs if o["output_type"] == "execute_result"]
    assert "sbp-badge sbp-refuted" in result["data"]["text/html"]
    assert "text/latex" in result["data"] and "text/plain" in result["data"]


def test_importing_the_package_does_not_import_ipython():
    code = "import sys, symbolic_bp; symbolic_bp.load_ipython_extension; print('IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert out.stdout.strip() == "False", out.stderr
