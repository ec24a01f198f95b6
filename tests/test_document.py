"""The proofs document and the ``latex`` command: content, escaping, and --
with TeX installed (always in CI) -- compilation and a look at page 1."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from symbolic_bp.rendering import document, report
from symbolic_bp.rendering.proof import CheckedProof, NoProof

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("latexmk", "pdflatex", "pdftoppm")
COMMAND = re.compile(r"\\(input|write|immediate|def|catcode|include|openin|openout|read|csname)\b")

HOSTILE = r"""title = '\input{/etc/passwd} \write18{id} 100% #1 a_b^c & $x$ ~ {'
document = '/tmp/\include{x}.md'
section = '\immediate\write18{touch /tmp/pwned}'
shapes = "A_b:m,n x__1:n y:m"

[[claim]]
name = '\input{/etc/passwd}'
cost = "y.T @ A_b @ x__1"
wrt = "A_b"
claim = "y @ x__1.T"
latex = '\boxed{\input{/etc/passwd}} \write18{rm -rf ~}'
note = '^^5cinput{/etc/passwd} % a_b ^ # $'

[[claim]]
name = 'wrong_#%^&'
cost = "y.T @ A_b @ x__1"
wrt = "A_b"
claim = "x__1 @ y.T"
expect = "refuted"
latex = 'x^T \csname input\endcsname'
note = '\def\x{\input{/etc/passwd}}\x'
"""


def tex_or_skip():
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {', '.join(missing)} not installed (.ci/run installs them)")
        pytest.skip(f"no TeX installed ({', '.join(missing)} missing): apt-get install "
                    "texlive-latex-base texlive-latex-recommended latexmk poppler-utils")


def png_gray(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and gray rows of an 8-bit grayscale or RGB PNG (pdftoppm's)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind, chunk = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color = int.from_bytes(chunk[:4], "big"), int.from_bytes(chunk[4:8], "big"), chunk[8], chunk[9]
        elif kind == b"IDAT":
            idat += chunk
    assert depth == 8 and color in (0, 2), (depth, color)
    bpp = 1 if color == 0 else 3
    stride = width * bpp
    raw, rows, prev, i = zlib.decompress(idat), [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):         # PNG filters: none, sub, up, average, Paeth
            a, b, c = (line[x - bpp] if x >= bpp else 0), prev[x], (prev[x - bpp] if x >= bpp else 0)
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line[::bpp]))
        prev = line
    return width, height, rows


def ink(png: Path) -> float:
    """The fraction of dark pixels of a page."""
    width, height, rows = png_gray(png)
    return sum(v < 128 for row in rows for v in row) / (width * height)


def render_page(pdf: Path, page: int = 1) -> Path:
    prefix = pdf.with_name(f"{pdf.stem}-page")
    subprocess.run(["pdftoppm", "-png", "-gray", "-r", "40", "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(prefix)], check=True, timeout=120)
    return prefix.with_suffix(".png")


@pytest.fixture
def hostile_file(tmp_path):
    path = tmp_path / "hostile.toml"
    path.write_text(HOSTILE)
    return path


def test_document_of_a_small_file(good_file):
    rep, proofs = document.build([good_file], seconds=60)
    assert isinstance(proofs[(str(good_file), "linear")], CheckedProof)
    assert (str(good_file), "transposed") not in proofs             # refuted: no proof is attempted
    tex = document.render(rep, proofs)
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    assert r"\boxed{\begin{aligned} C &= y^{T} A x" in tex
    assert "Proof in index notation" in tex and r"\delta_{ic}" in tex
    assert r"\textit{Counterexample} at m=1, n=2" in tex and r"\begin{bmatrix}" in tex
    assert "the claim is the true gradient transposed" in tex
    assert r"A \in \mathbb{R}^{m \times n}" in tex
    assert set(re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", tex)) == {"fontenc", "amsmath,amssymb", "geometry"}


def test_a_verified_claim_without_a_proof_says_why(good_file):
    rep, proofs = document.build([good_file], seconds=60)
    proofs = {k: NoProof("the budget ran out") for k in proofs}
    tex = document.render(rep, proofs)
    assert r"\textit{No index proof is given:} the budget ran out." in tex
    assert r"\begin{align*}" not in tex


def test_hostile_names_are_escaped(hostile_file):
    rep, proofs = document.build([hostile_file], seconds=60)
    tex = document.render(rep, proofs)
    body = tex.split(r"\begin{document}", 1)[1]
    assert COMMAND.search(body) is None, COMMAND.search(body)
    assert "^^" not in body
    assert r"\textbackslash{}input\{/etc/passwd\}" in body
    assert r"wrong\_\#\%\^{}\&" in body
    assert r"A_{b}" in body and r"x_{\mathrm{\_1}}" in body
    assert "shown as text: it uses commands outside the safe set" in body


def test_cli_writes_the_tex_file(cli, good_file, tmp_path):
    out = tmp_path / "sub" / "proofs.tex"
    done = cli("latex", str(good_file), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.exists() and r"\end{document}" in out.read_text()
    assert done.stdout.strip() == f"wrote {out}: 2 items, 1 index proofs checked line by line, 0 verified claims without an index proof"


@pytest.mark.parametrize("args, message", [
    (["no/such/file.toml"], "no/such/file.toml: no such file or folder"),
    (["-o", "proofs.pdf"], "the file name must end in .tex"),
])
def test_cli_bad_arguments_exit_2_in_one_line(cli, good_file, tmp_path, args, message):
    if args[0].startswith("-"):
        args = [str(good_file), *args]
    done = cli("latex", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_cli_unreadable_file_still_writes_the_others(cli, good_file, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("title = 1\n")
    out = tmp_path / "p.tex"
    done = cli("latex", str(good_file), str(bad), "-o", str(out))
    assert done.returncode == 2 and out.exists()
    assert "bad.toml" in done.stderr and "Unreadable file" in out.read_text()


def test_cli_pdf_without_tex_says_what_to_install(good_file, tmp_path):
    import sys
    empty = tmp_path / "bin"
    empty.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=str(empty))
    done = subprocess.run([sys.executable, "-m", "symbolic_bp", "latex", str(good_file), "-o", str(tmp_path / "p.tex"),
                           "--pdf"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == document.PDF_FAILED
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "texlive-latex-base" in lines[0] and "latexmk" in lines[0]
    assert (tmp_path / "p.tex").exists()              # the .tex is written all the same


def test_compiles_hostile_names_without_shell_escape(hostile_file, tmp_path):
    tex_or_skip()
    rep, proofs = document.build([hostile_file], seconds=60)
    out = tmp_path / "hostile.tex"
    out.write_text(document.render(rep, proofs))
    pdf, why = document.compile_pdf(out)
    assert pdf is not None, why
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "root:" not in text and r"\input{/etc/passwd}" in text
    assert not Path("/tmp/pwned").exists()
    assert ink(render_page(pdf)) > 0.005


def test_compile_error_is_one_line(tmp_path):
    tex_or_skip()
    out = tmp_path / "broken.tex"
    out.write_text(r"\documentclass{article}\begin{document}\undefinedcommand\end{document}")
    pdf, why = document.compile_pdf(out)
    assert pdf is None and why.startswith("pdflatex failed on broken.tex: ! Undefined control sequence")


@pytest.mark.slow
def test_the_bundled_derivations_compile_and_page_1_is_not_blank(cli, tmp_path):
    tex_or_skip()
    out = tmp_path / "proofs.tex"
    done = cli("latex", str(ROOT / "derivations"), "-o", str(out), "--pdf")
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr   # 1: a verdict not as expected
    pdf = out.with_suffix(".pdf")
    assert pdf.exists() and "index proofs checked line by line" in done.stdout
    checked = int(re.search(r"(\d+) index proofs checked", done.stdout).group(1))
    assert checked >= 34                     # every verified claim of the post's sections III and IV
    assert ink(render_page(pdf, 1)) > 0.005
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                           text=True).stdout).group(1))
    assert ink(render_page(pdf, pages // 2)) > 0.005


def test_a_blank_page_has_no_ink(tmp_path):
    # the check of page 1 above can fail: a blank page measures as blank
    tex_or_skip()
    out = tmp_path / "blank.tex"
    out.write_text(r"\documentclass{article}\begin{document}\thispagestyle{empty}\mbox{}\end{document}")
    pdf, why = document.compile_pdf(out)
    assert pdf is not None, why
    assert ink(render_page(pdf)) < 0.0005


def test_a_delta_recursion_gets_its_induction_step_and_the_local_proof():
    from symbolic_bp.derivations.derivation import Context
    from symbolic_bp.derivations.network_entry import parse_network
    entry = parse_network({"name": "step", "convention": "nielsen", "activation": "sigmoid", "cost": "mse",
                           "claim": "delta[l] = W[l+1].T @ delta[l+1] * sigmoid'(z[l])"}, Context("f.toml", "", {}, 3))
    row = report.Row("f.toml", "networks", "", entry, entry.run(60, 0))
    assert row.result.verdict == "verified"
    local = document.local_claim_of(entry)
    assert local.role == "step"
    from symbolic_bp.rendering.proof import index_proof
    proof = index_proof(local.claim)
    assert isinstance(proof, CheckedProof)
    tex = "\n".join(document.network_section(row, proof))
    assert "Proof for every depth (induction step at a generic layer l)" in tex
    assert r"C_{\text{local}}" in tex and "Proof in index notation" in tex and r"\begin{align*}" in tex


def test_a_failing_section_renderer_does_not_lose_the_document(good_file, monkeypatch):
    rep, proofs = document.build([good_file], seconds=60)

    def broken(row, proof):
        raise KeyError("lemma2")
    monkeypatch.setitem(document.SECTIONS, "claim", broken)
    tex = document.render(rep, proofs)
    assert tex.count(r"\textit{Its proof could not be typeset:} KeyError: 'lemma2'") == 2
    assert tex.rstrip().endswith(r"\end{document}") and r"\textit{Statement:}" in tex


# -- the NumPy dialect -------------------------------------------------------------------------------

DIALECT_FILE = r'''title = "the NumPy dialect, typeset"
shapes = "X:N,D W:D,K b:1,K dY:N,K B:N,D Y:N,K:onehot Z:N,K S:4,5 dP:4,5 P:N,D:positive A:D,D s:scalar:positive"

[[claim]]
name = "relu-bias"
cost = "np.sum(dY * np.maximum(0, X @ W + b))"
wrt = "b"
claim = "(dY * ((X @ W + b) > 0)).sum(axis=0, keepdims=True)"

[[claim]]
name = "linear-bias"
cost = "np.sum(dY * (X @ W + b))"
wrt = "b"
claim = "dY.sum(axis=0, keepdims=True)"

[[claim]]
name = "softmax-cross-entropy"
cost = "-np.sum(Y * log_softmax(Z, axis=1)) / N"
wrt = "Z"
claim = "(softmax(Z, axis=1) - Y) / N"

[[claim]]
name = "softmax-backward"
cost = "np.sum(dP * softmax(S, axis=1))"
wrt = "S"
claim = "softmax(S, axis=1) * (dP - np.sum(dP * softmax(S, axis=1), axis=1, keepdims=True))"

[[claim]]
name = "centering"
cost = "np.sum(dY[:, :0] if False else B * (X - X.mean(axis=0)))"
wrt = "X"
claim = "B"
expect = "invalid"

[[claim]]
name = "mean-centering"
cost = "np.sum(B * (X - X.mean(axis=0)))"
wrt = "X"
claim = "B - B.mean(axis=0)"

[[claim]]
name = "quotient-and-powers"
cost = "np.sum(X / P) + np.sum(P ** 0.5) + s ** 2 + np.sum(X.var(axis=0, ddof=1))"
wrt = "P"
claim = "-X / P ** 2 + 0.5 * P ** -0.5"

[[claim]]
name = "matrix-power"
cost = "np.trace(matrix_power(A, 3))"
wrt = "A"
claim = "3 * matrix_power(A.T, 2)"

[[claim]]
name = "wrong-bias"
cost = "np.sum(dY * (X @ W + b))"
wrt = "b"
claim = "dY.sum(axis=1)"
expect = "refuted"
'''


@pytest.fixture
def dialect_file(tmp_path):
    path = tmp_path / "dialect.toml"
    path.write_text(DIALECT_FILE)
    return path


def test_the_dialect_is_typeset_and_proved_in_parallel(dialect_file):
    rep, proofs = document.build([dialect_file], seconds=60, jobs=2)
    verdicts = {r.entry.name: r.result.verdict for r in rep.rows}
    assert all(r.matches for r in rep.rows), verdicts
    key = lambda name: (str(dialect_file), name)
    for name in ("linear-bias", "softmax-backward", "mean-centering", "quotient-and-powers"):
        assert isinstance(proofs[key(name)], CheckedProof), (name, proofs[key(name)])
    assert "maximum(...) has no index form" in proofs[key("relu-bias")].reason
    assert "Y:onehot" in proofs[key("softmax-cross-entropy")].reason
    assert proofs[key("matrix-power")].reason.startswith("matrix_power(...) has no index form")
    tex = document.render(rep, proofs)
    assert r"\left[X W + b > 0\right]" in tex and r"\max\left(0, X W + b\right)" in tex
    assert r"\operatorname{sum}_{\mathrm{axis}=0,\,\mathrm{keepdims}}" in tex
    assert r"P^{\circ 1/2}" in tex and r"A^{3}" in tex and r"{N}^{-1}" in tex
    assert r"Y \in \mathbb{R}^{N \times K}\ \text{(onehot)}" in tex
    # the same document one proof after the other
    rep1, proofs1 = document.build([dialect_file], seconds=60, jobs=1)
    assert {k: type(v) for k, v in proofs1.items()} == {k: type(v) for k, v in proofs.items()}


def test_the_dialect_document_compiles(dialect_file, tmp_path):
    tex_or_skip()
    rep, proofs = document.build([dialect_file], seconds=60, jobs=2)
    out = tmp_path / "dialect.tex"
    out.write_text(document.render(rep, proofs))
    pdf, why = document.compile_pdf(out)
    assert pdf is not None, why
    assert ink(render_page(pdf)) > 0.005


def test_a_chain_line_is_typed_with_the_chains_definitions():
    tex = document.step_latex("N * dY * xhat", "X:N,D dY:N,D", [("xhat", "X - X.mean(axis=0)")])
    assert tex == r"N\,\mathrm{dY} \odot \mathrm{xhat}"
    # a line that does not type falls back on the text as written
    assert document.step_latex("N * dY", "X:N,D", []) == r"N \odot \mathrm{dY}"


# -- "did you mean": the corrected claim in the counterexample section (issue 13) -----------------------

def _rows(path, results: dict):
    """Rows of the file at ``path`` with results built here (no check runs)."""
    from symbolic_bp.derivations.derivation import load
    d = load(path)
    return [report.Row(d.path, d.title, d.document, e, results[e.name]) for e in d.entries if e.name in results]


def _refuted(claim, suggestion, derived=None):
    from symbolic_bp.checks.result import Result
    return Result("refuted", claim=claim, derived=derived, diagnosis="the claim is the true gradient transposed",
                  suggestion=suggestion)


@pytest.mark.parametrize("suggestion", ["y @ x.T", None])
def test_a_refuted_claim_is_followed_by_its_verified_correction(good_file, suggestion):
    [row] = _rows(good_file, {"transposed": _refuted("x @ y.T", suggestion, derived="y @ x.T")})
    tex = "\n".join(document.claim_section(row))
    fix = (r"\textit{Did you mean} (the corrected claim, verified by the checks before it is offered): "
           r"\[\frac{\partial C}{\partial A} = y x^{T} \quad\text{(verified)}\]")
    assert (fix in tex) == bool(suggestion) and ("Did you mean" in tex) == bool(suggestion)
    if suggestion:       # after the diagnosis, before the evidence
        assert tex.index("Diagnosis:") < tex.index(fix) < tex.index("Both checks disagree")


def test_a_chain_line_is_corrected_in_the_chains_own_terms(tmp_path):
    from .test_chain import CHAIN
    path = tmp_path / "c.toml"
    path.write_text(CHAIN)
    from symbolic_bp.derivations.derivation import load
    step = next(e for e in load(path).entries if e.kind == "step" and e.fields()["relation"] == "=")
    [row] = _rows(path, {step.name: _refuted(step.fields()["substituted"], "W2.T @ (x2 - y) @ x.T")})
    tex = "\n".join(document.item_section(row))
    typed = document.step_latex("W2.T @ (x2 - y) @ x.T", step.fields()["shapes"], [("x2", "W2 @ x1"), ("x1", "W1 @ x")])
    assert r"\[" + typed + r" \quad\text{(verified)}\]" in tex
    assert r"\partial C" not in tex.split("Did you mean")[1]          # a line, not a gradient: no dC/dX
