"""The side file of declarations (``notes.symbolic-bp.toml``), the document
reader (Markdown, MyST, LaTeX, notebooks), ``extract --check`` and the
pre-commit hook."""
import json
from pathlib import Path

import pytest

from symbolic_bp.derivations.declarations import Declarations, load_for, loads, side_file
from symbolic_bp.derivations.document import notebook_markdown, read_document
from symbolic_bp.derivations.extract import extract_file, extract_text
from symbolic_bp.errors import InputError

ROOT = Path(__file__).resolve().parents[1]

ROWS = r"""# Rows

A sample is a row $u$; the layer is $$g = \phi(u M + c)$$ and the cost
$$E = \frac{1}{2} \Vert g - t \Vert^2$$

$$\frac{\partial E}{\partial M} = u^T \big[(g - t) \odot g \odot (1 - g)\big]$$
$$\frac{\partial E}{\partial c} = (g - t) \odot g \odot (1 - g)$$
"""

SIDE = """layout = "row"
shapes = "u:1,n M:n,k c:1,k t:1,k"
[functions]
phi = "sigmoid"
"""


def write(tmp_path, name, text, side=None):
    doc = tmp_path / name
    doc.write_text(text)
    if side is not None:
        side_file(doc).write_text(side)
    return doc


def test_the_side_file_is_found_next_to_the_document(tmp_path):
    assert side_file(tmp_path / "notes.md") == tmp_path / "notes.symbolic-bp.toml"
    assert load_for(tmp_path / "notes.md") == Declarations()
    doc = write(tmp_path, "notes.md", ROWS, SIDE)
    d = load_for(doc)
    assert d.layout == "row" and d.functions == {"phi": "sigmoid"} and d.shapes["M"] == "n,k"


def test_without_the_side_file_phi_is_opaque_and_the_slopes_are_refuted(tmp_path):
    from symbolic_bp import Claim, check
    found = extract_file(write(tmp_path, "notes.md", ROWS))
    assert [c.wrt for c in found.claims] == ["M", "c"]
    assert all("phi:function" in c.shapes for c in found.claims)
    c = found.claims[1]
    assert check(Claim(shapes=c.shapes, cost=c.cost, wrt=c.wrt, claim=c.claim), seconds=30).verdict == "refuted"


def test_with_the_side_file_the_claims_verify(tmp_path):
    from symbolic_bp import Claim, check
    found = extract_file(write(tmp_path, "notes.md", ROWS, SIDE))
    assert [(c.wrt, c.shapes) for c in found.claims] == [
        ("M", "M:n,k c:1,k t:1,k u:1,n"), ("c", "M:n,k c:1,k t:1,k u:1,n")]
    assert all("sigmoid(u @ M + c)" in c.cost and "functions: phi = sigmoid" in c.note for c in found.claims)
    for c in found.claims:
        assert check(Claim(shapes=c.shapes, cost=c.cost, wrt=c.wrt, claim=c.claim), seconds=30).verdict == "verified"


def test_a_row_layout_makes_undeclared_vectors_rows():
    found = extract_text(ROWS, "r.md", Declarations(layout="row"))
    assert "u:1," in found.claims[0].shapes and "t:1," in found.claims[0].shapes


def test_a_definition_in_the_side_file_gives_a_cost_the_document_writes_in_prose(tmp_path):
    doc = write(tmp_path, "p.md", "The loss is the squared error.\n\n$$\\nabla_w L = 2 X^T (X w - y)$$\n",
                'cost = "L"\n[definitions]\nL = \'\\Vert X w - y \\Vert^2\'\n')
    (c,) = extract_file(doc).claims
    assert c.cost == "norm(X @ w - y)**2" and c.claim == "2 * X.T @ (X @ w - y)"


@pytest.mark.parametrize("text,message", [
    ('colour = "red"', "unknown key 'colour'"),
    ('layout = "diagonal"', "layout: 'diagonal' is not one of column, row"),
    ('shapes = "x:n,"', "shapes:"),
    ('[functions]\nsigma = "smooth"', "functions.sigma: 'smooth' is not an elementwise function"),
    ('functions = 3', "functions: expected a table"),
    ('cost = 3', "cost: expected a name"),
    ('cost = "L', "not TOML"),
])
def test_a_bad_side_file_is_one_line_naming_the_file_and_key(text, message):
    with pytest.raises(InputError) as e:
        loads(text, "n.symbolic-bp.toml")
    assert str(e.value).startswith("n.symbolic-bp.toml: ") and message in str(e.value)
    assert "\n" not in str(e.value)


def test_cli_bad_side_file_exits_2_with_one_line(cli, tmp_path):
    doc = write(tmp_path, "n.md", ROWS, 'colour = "red"\n')
    r = cli("extract", str(doc))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "n.symbolic-bp.toml: unknown key 'colour'" in r.stderr


# -- the document reader ---------------------------------------------------------------------------

def test_markdown_code_and_percent_signs_are_not_math():
    doc = "Costs 50% less: $a = b$.\n\n```python\nx = '$L = 3$'\n```\n\n`$J = 2$` and $$L = x^T x$$\n"
    segments = read_document(doc, "markdown")
    assert [(m.line, m.text, m.display) for m in segments] == [(1, "a = b", False), (7, "L = x^T x", True)]


def test_an_unbalanced_dollar_spoils_only_its_paragraph():
    doc = "A stray $ sign here.\n\nThen $$L = x^T x$$ is read.\n"
    segments = read_document(doc, "markdown")
    assert [m.text for m in segments][-1] == "L = x^T x" and segments[-1].line == 3


def test_myst_math_blocks_keep_their_lines():
    doc = "# T\n\n```{math}\n:label: c\nL = x^T A x\n```\n\n```{math}\n\\nabla_x L = (A + A^T) x\n```\n"
    segments = read_document(doc, "markdown")
    assert [(m.line, m.text.strip()) for m in segments] == [(3, "~        \nL = x^T A x"), (8, "\\nabla_x L = (A + A^T) x")]
    (c,) = extract_text(doc, "m.md").claims
    assert c.line == 9 and c.claim == "(A + A.T) @ x"


def test_latex_sections_figures_and_environments():
    doc = (r"\section{One} $a = 1$ \begin{figure}\begin{tikzpicture}\node {$b = 2$};\end{tikzpicture}"
           r"\caption{$c = 3$}\end{figure}" "\n" r"\begin{align*} L &= x \end{align*}" "\n" r"\subsection{Two} \[ J = y \]")
    got = [(m.section, m.environment, m.text.strip()) for m in read_document(doc, "latex")]
    assert got == [("One", "", "a = 1"), ("One", "align", "L &= x"), ("Two", "", "J = y")]


def test_a_notebooks_markdown_cells_are_read(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "source": ["# Fit\n", "$$L = \\Vert X w - y \\Vert^2$$"]},
                    {"cell_type": "code", "source": "L = 3"},
                    {"cell_type": "markdown", "source": "$$\\nabla_w L = 2 X^T (X w - y)$$"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "fit.ipynb"
    path.write_text(json.dumps(nb))
    (c,) = extract_file(path).claims
    assert c.line == 4 and c.cost == "norm(X @ w - y)**2"
    text, starts = notebook_markdown(json.dumps(nb), "fit.ipynb")
    assert starts == [(1, 1), (4, 3)] and "L = 3" not in text


def test_a_file_that_is_not_a_notebook_is_unreadable(tmp_path):
    bad = tmp_path / "x.ipynb"
    bad.write_text("[1, 2]")
    with pytest.raises(InputError, match="not a Jupyter notebook"):
        extract_file(bad)


# -- extract --check and the pre-commit hook -------------------------------------------------------

WRONG = "$$L = y^T A x$$\n\n$$\\frac{\\partial L}{\\partial A} = x y^T$$\n"
RIGHT = "$$L = y^T A x$$\n\n$$\\frac{\\partial L}{\\partial A} = y x^T$$\n"


def test_check_exits_1_on_a_refuted_claim_and_prints_line_and_verdict(cli, tmp_path):
    r = cli("extract", "--check", str(write(tmp_path, "w.md", WRONG)), "--budget", "20")
    assert r.returncode == 1
    assert f"{tmp_path / 'w.md'}:3: refuted" in r.stdout and "true gradient: y @ x.T" in r.stdout


def test_check_exits_0_when_every_claim_holds_and_takes_several_files(cli, tmp_path):
    ok = write(tmp_path, "ok.md", RIGHT)
    prose = write(tmp_path, "README.md", "# Notes\n\nNo math at all.\n")
    r = cli("extract", "--check", str(ok), str(prose), "--budget", "20")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{ok}:3: verified" in r.stdout and "1 verified" in r.stdout
    assert cli("extract", "--check", str(ok), str(write(tmp_path, "w.md", WRONG))).returncode == 1
    assert cli("extract", "--check", str(ok), str(tmp_path / "missing.md")).returncode == 2


def test_several_files_need_check(cli, tmp_path):
    ok = write(tmp_path, "ok.md", RIGHT)
    r = cli("extract", str(ok), str(ok))
    assert r.returncode == 2 and "need --check" in r.stderr


def test_pre_commit_hook_file():
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "- id: symbolic-bp-extract" in text and "entry: symbolic-bp extract --check" in text
    assert "types_or: [markdown, tex, jupyter]" in text and "language: python" in text
