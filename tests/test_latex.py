"""LaTeX printing: trees, proofs, results (escaping and safe_math: test_safe_math.py)."""
from __future__ import annotations

import re

import pytest

from symbolic_bp import Claim, check
from symbolic_bp.checks.claim import prepare
from symbolic_bp.rendering.latex import (bmatrix, latex, latex_name, latex_of_text, proof_latex,
                                         refutation_math, result_latex, result_markdown)
from symbolic_bp.language.parser import parse
from symbolic_bp.rendering.proof import NoProof, build
from symbolic_bp.checks.result import Result
from symbolic_bp.language.shapes import parse_declarations, parse_typed

COMMAND = re.compile(r"\\(input|write|immediate|def|catcode|include|openin|openout|read|csname)\b")


@pytest.mark.parametrize("name, expected", [
    ("x", "x"), ("W01", "W_{01}"), ("sigma_2", r"\sigma_{2}"), ("a_prev", r"a_{\mathrm{prev}}"),
    ("delta", r"\delta"), ("theta_l", r"\theta_{l}"), ("dW1", r"\mathrm{dW}_{1}"), ("_x", r"\mathrm{\_x}"),
    ("a__b", r"a_{\mathrm{\_b}}"),
])
def test_latex_names(name, expected):
    assert latex_name(name) == expected


@pytest.mark.parametrize("text, expected", [
    ("y @ x.T", "y x^{T}"),
    ("A @ (x @ x.T)", r"A \left(x x^{T}\right)"),
    ("(y * sigma'(A @ x)) @ x.T", r"\left[y \odot \sigma'\left(A x\right)\right] x^{T}"),
    ("1/2 * x.T @ A.T @ A @ x", r"\frac{1}{2}\,x^{T} A^{T} A x"),
    ("(A @ B).T", r"\left(A B\right)^{T}"),
    ("W23.T @ (x3 - y)", r"W_{23}^{T} \left(x_{3} - y\right)"),
    ("a - (b - c)", r"a - \left(b - c\right)"),
    ("inv(A) @ x", r"A^{-1} x"),
    ("tr(A) + sum(x)", r"\operatorname{tr}\left(A\right) + \operatorname{sum}\left(x\right)"),
])
def test_printing_claim_language(text, expected):
    assert latex(parse(text)) == expected


def test_typed_trees_print_scaling_as_juxtaposition():
    d = parse_declarations("A:m,n x:n")
    assert latex(parse_typed("A * (x.T @ x)", d)) == r"A\,\left(x^{T} x\right)"
    assert latex_of_text("A * (x.T @ x)", "A:m,n x:n") == r"A\,\left(x^{T} x\right)"
    assert latex_of_text("A * (x.T @ x)") == r"A \odot \left(x^{T} x\right)"     # untyped: read as Hadamard
    assert latex_of_text("@@ not claim language") == r"\texttt{@@ not claim language}"


def test_bmatrix():
    assert bmatrix([[1, 2], [3, 4]]) == r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}"
    assert bmatrix([[7]]) == "7"


def test_proof_latex_has_one_rule_per_line():
    prep = prepare(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "y @ x.T"))
    text = proof_latex(build(prep), prep.decls)
    rows = text.split(r" \\")
    assert len(rows) == 7 and all(r"\tag*" in row for row in rows)
    assert r"\frac{\partial a_{ij}}{\partial a_{cd}}" in text and r"\delta_{ic}" in text
    assert r"y_{c}\,x_{d}" in text


def test_proof_latex_refuses_anything_but_a_checked_proof():
    prep = prepare(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "y @ x.T"))
    with pytest.raises(TypeError):
        proof_latex(NoProof("no"), prep.decls)


def test_results_show_themselves_in_jupyter():
    r = check(Claim(shapes="A:m,n x:n y:m", cost="y.T @ A @ x", wrt="A", claim="2 * y @ x.T"))
    tex, md = r._repr_latex_(), r._repr_markdown_()
    assert tex.startswith("$") and tex.endswith("$") and r"\textbf{refuted}" in tex
    assert r"\frac{\partial C}{\partial A} = 2\,y x^{T}" in tex and "claimed" in tex
    assert md.startswith("**refuted**") and "$y x^{T}$" in md and "diagnosis" in md
    ok = check(Claim(shapes="A:m,n x:n y:m", cost="y.T @ A @ x", wrt="A", claim="y @ x.T"))
    assert r"\textbf{verified}" in ok._repr_latex_() and "derived" not in ok._repr_latex_()


def test_results_escape_their_text():
    r = Result("invalid", claim=r"\input{/etc/passwd}", error=r"column 1: unknown name '\write18' 100% #")
    assert COMMAND.search(result_latex(r)) is None
    assert r"\\input" not in result_markdown(r).replace(r"\\\\", "")
    with pytest.raises(TypeError):
        result_latex("verified")


def test_refutation_math_block_for_markdown():
    claim = Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "x @ y.T")
    lines = refutation_math(type("E", (), {"claim": claim})(), check(claim))
    assert lines[1] == "```math" and lines[-1] == "```"
    assert r"\begin{bmatrix}" in lines[2] and r"\text{(true)}" in lines[2]
    assert refutation_math(type("E", (), {"claim": claim})(), Result("verified")) == []


def test_counterexample_values_are_scalar_products():
    # the claimed/true entries of a counterexample are numbers: products print as scaling
    assert latex_of_text("-2*sigma'(-2)") == r"-2\,\sigma'\left(-2\right)"
    assert latex_of_text("a * b") == r"a \odot b"


# -- the NumPy dialect ------------------------------------------------------------------------------

DIALECT = "X:N,D W:D,K b:1,K dY:N,K B:N,D Y:N,K:onehot c:N s:scalar P:N,D:positive A:D,D"


@pytest.mark.parametrize("text, expected", [
    # a broadcast row prints as itself; comparisons are Iverson brackets; a reduction along an axis
    ("(dY * ((X @ W + b) > 0)).sum(axis=0, keepdims=True)",
     r"\operatorname{sum}_{\mathrm{axis}=0,\,\mathrm{keepdims}}\left(\mathrm{dY} \odot \left[X W + b > 0\right]\right)"),
    ("np.maximum(0, X @ W + b)", r"\max\left(0, X W + b\right)"),
    ("np.minimum(X, B)", r"\min\left(X, B\right)"),
    ("X >= B", r"\left[X \geq B\right]"),
    ("X == B", r"\left[X = B\right]"),
    ("X != B", r"\left[X \neq B\right]"),
    # entrywise division and powers: a matrix power is a Hadamard power, not X X or the inverse
    ("X / B", r"\frac{X}{B}"),
    ("X ** 2", r"X^{\circ 2}"),
    ("P ** 0.5", r"P^{\circ 1/2}"),
    ("P ** -1", r"P^{\circ -1}"),
    ("s ** 0.5", r"s^{1/2}"),
    ("s ** 2", r"s^{2}"),
    ("matrix_power(A, 2)", r"A^{2}"),
    ("(X ** 2).T", r"\left(X^{\circ 2}\right)^{T}"),
    ("(X ** 2) ** 2", r"\left(X^{\circ 2}\right)^{\circ 2}"),
    ("(X / B).T", r"\left(\frac{X}{B}\right)^{T}"),
    # sizes as numbers, by the dimension's name; a product of 1x1 values is an ordinary product
    ("X - X.mean(axis=0)", r"X - \frac{\operatorname{sum}_{\mathrm{axis}=0}\left(X\right)}{N}"),
    ("1 / N * X", r"\frac{1}{N}\,X"),
    ("2 * N * X", r"2\,N\,X"),
    ("np.mean(X)", r"\frac{\operatorname{sum}\left(X\right)}{D\,N}"),
    # keepdims along axis 1: the n x 1 column; without it NumPy's 1-D array (a row here)
    ("X.sum(axis=1, keepdims=True)", r"\operatorname{sum}_{\mathrm{axis}=1,\,\mathrm{keepdims}}\left(X\right)"),
    ("X.sum(axis=1)", r"\operatorname{sum}_{\mathrm{axis}=1}\left(X\right)"),
    ("np.sum(X, axis=-1)", r"\operatorname{sum}_{\mathrm{axis}=1}\left(X\right)"),
    ("X.max(axis=0)", r"\operatorname{max}_{\mathrm{axis}=0}\left(X\right)"),
    ("ones_like(X)", r"\mathbf{1}_{N \times D}"),
])
def test_numpy_dialect_typed(text, expected):
    assert latex(parse_typed(text, parse_declarations(DIALECT))) == expected


@pytest.mark.parametrize("text, expected", [
    # untyped: the axis given by position is not dropped, a macro keeps its keywords
    ("np.sum(X, 0)", r"\operatorname{sum}_{\mathrm{axis}=0}\left(X\right)"),
    ("X.mean(axis=0)", r"\operatorname{mean}_{\mathrm{axis}=0}\left(X\right)"),
    ("np.var(X, axis=0, ddof=1)", r"\operatorname{var}_{\mathrm{axis}=0,\,\mathrm{ddof}=1}\left(X\right)"),
    ("X.mean(axis=k)", r"\operatorname{mean}\left(X, \mathrm{axis}=k\right)"),
    ("X > 0", r"\left[X > 0\right]"),
    ("2 * 3 * X", r"2 \cdot 3\,X"),
])
def test_numpy_dialect_untyped(text, expected):
    assert latex(parse(text)) == expected


def test_an_index_proof_with_broadcasting_sizes_and_powers_prints():
    prep = prepare(Claim("X:N,D dY:N,D", "np.sum(dY * (X - X.mean(axis=0)))", "X", "dY - dY.mean(axis=0)"))
    text = proof_latex(build(prep), prep.decls)
    assert r"\operatorname{sum}_{\mathrm{axis}=0}" in text and "N}^{-1}" in text
    assert "entries of broadcast rows and columns" in text and "sums along an axis as products with ones" in text
    assert not COMMAND.search(text)


# -- "did you mean": the corrected claim, typeset and labelled as verified (issue 13) -------------------

def _refuted(suggestion):
    return Result("refuted", claim="x @ y.T", derived="y @ x.T", diagnosis="the claim is the true gradient transposed",
                  suggestion=suggestion)


def test_results_typeset_the_corrected_claim_after_the_diagnosis():
    tex = result_latex(_refuted("y @ x.T"), "A")
    rows = tex.split(r" \\ ")
    assert rows[-2] == r"\text{the claim is the true gradient transposed}"
    assert rows[-1] == r"\text{did you mean: }\frac{\partial C}{\partial A} = y x^{T} \quad\text{(verified)}\end{array}$"
    md = result_markdown(_refuted("y @ x.T"), "A").splitlines()
    assert md[-1] == r"- did you mean: $\frac{\partial C}{\partial A} = y x^{T}$ (verified)"
    assert md[-2] == "- diagnosis: the claim is the true gradient transposed"


def test_results_without_a_suggestion_have_no_such_line():
    assert "did you mean" not in result_latex(_refuted(None), "A") + result_markdown(_refuted(None), "A")
    claim = Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "x @ y.T")
    assert "did you mean" not in "".join(refutation_math(type("E", (), {"claim": claim})(), _refuted(None)))


def test_refutation_math_ends_with_the_corrected_claim():
    claim = Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "x @ y.T")
    lines = refutation_math(type("E", (), {"claim": claim})(), _refuted("y @ x.T"))
    assert lines[2].endswith(r" \\ \text{did you mean: }\frac{\partial C}{\partial A} = y x^{T} "
                             r"\quad\text{(verified)}\end{array}")


def test_a_suggestion_is_escaped_like_any_user_text():
    r = _refuted(r"\input{/etc/passwd} 100%")
    assert COMMAND.search(result_latex(r, "A")) is None
    assert r"\texttt{\textbackslash{}input\{/etc/passwd\} 100\%}" in result_latex(r, "A")
