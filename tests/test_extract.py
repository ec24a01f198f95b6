"""``symbolic-bp extract``: claims from Markdown/LaTeX, translated into the claim language."""
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from symbolic_bp.checks.checker import check
from symbolic_bp.checks.claim import Claim
from symbolic_bp.derivations.derivation import loads
from symbolic_bp.derivations.extract import (
    LatexParser, Untranslatable, extract_file, extract_text, infer_shapes, to_claim_text, to_toml,
)
from symbolic_bp.language.parser import parse

POST = Path("/work/shared/seeds/001_545d0e9500af5aae.txt")
if not POST.exists():                                   # the seeds live next to the checkout
    POST = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "001_545d0e9500af5aae.txt"

NOTATION = [
    ("transpose", r"y^T A x", "y.T @ A @ x"),
    ("transpose-braced-top", r"y^{T} A x^\top", "y.T @ A @ x.T"),
    ("subscripted-transpose", r"x_0^T W_{01}^T", "x0.T @ W01.T"),
    ("two-digit-subscript", r"W_{12} W_{23}", "W12 @ W23"),
    ("sigma-prime", r"\sigma'(Ax)", "sigma'(A @ x)"),
    ("sigma-prime-unicode", r"\sigma’(Ax)", "sigma'(A @ x)"),
    ("sigma-subscript-prime", r"\sigma_2'(A\sigma_1(Bx))", "sigma_2'(A @ sigma_1(B @ x))"),
    ("sigma-subscript-prime-unicode", r"\sigma_2’(Aq)", "sigma_2'(A @ q)"),
    ("odot", r"y \odot \sigma'(Ax)", "y * sigma'(A @ x)"),
    ("dot-star", r"\theta^T\delta .* (a(1-a))", "theta.T @ delta * (a @ (1 - a))"),
    ("implicit-multiplication", r"ABx x^TB^T", "A @ B @ x @ x.T @ B.T"),
    ("numbers-scale", r"\frac{1}{2} x^TA^TAx - 2 y^Tx", "1 / 2 * x.T @ A.T @ A @ x - 2 * y.T @ x"),
    ("left-right", r"\left( x_3 - y \right) x_2^T", "(x3 - y) @ x2.T"),
    ("brackets-braces", r"\{[A^T y] \odot \sigma_1'(Bx)\} x^T", "A.T @ y * sigma_1'(B @ x) @ x.T"),
    ("bmatrix-vector", r"\begin{bmatrix} x_1 \\ x_2 \\ \vdots \\ x_n \end{bmatrix}^T A", "x.T @ A"),
    ("bmatrix-markdown-rows", "\\begin{bmatrix} x_1 \\\n x_2 \\\n \\vdots \\\n x_n \\end{bmatrix}", "x"),
    ("bmatrix-of-sigma", r"\begin{bmatrix} \sigma(x_1) \\ \sigma(x_2) \\ \vdots \\ \sigma(x_n) \end{bmatrix}",
     "sigma(x)"),
    ("inverse-power", r"X^{-1} s^2", "inv(X) @ s**2"),
    ("underbrace", r"y^T A \underbrace{B x}_{x'}", "y.T @ A @ (B @ x)"),
    ("color", r"{\color{red} {B y}} x^T", "B @ y @ x.T"),
]


@pytest.mark.parametrize("latex,text", [n[1:] for n in NOTATION], ids=[n[0] for n in NOTATION])
def test_each_notation_translates(latex, text):
    assert to_claim_text(latex) == text
    parse(text)                     # and the result is claim-language text


UNTRANSLATABLE = [
    (r"\text{something}", r"\text does not translate"),
    (r"a_{kl} x_l", "index expression"),
    (r"\begin{bmatrix} a & b \end{bmatrix}", "several columns"),
    (r"\begin{bmatrix} x_1 \\ y_2 \end{bmatrix}", "not a vector of the entries of one symbol"),
    (r"x^{\dagger}", "superscript"),
    (r"(x + y", "expected ')'"),
]


@pytest.mark.parametrize("latex,reason", UNTRANSLATABLE)
def test_what_does_not_translate_says_why(latex, reason):
    with pytest.raises(Untranslatable) as e:
        to_claim_text(latex)
    assert reason in str(e.value)


def test_underbrace_label_is_a_definition():
    p = LatexParser(r"y^T A \underbrace{B x}_{x'}")
    p.parse()
    assert {k: str(v.__class__.__name__) for k, v in p.defined.items()} == {"x_prime": "MatMul"}


def test_shapes_are_inferred_from_use():
    shapes, unknown = infer_shapes(parse("y.T @ A @ B @ x"), parse("A.T @ y @ x.T"), "B")
    assert shapes == "A:m,n B:n,k x:k y:m" and unknown == ""
    # nothing ties z to the others: its shape is assumed from the letter case, and said so
    shapes, unknown = infer_shapes(parse("y.T @ A @ x + sum(z)"), parse("y @ x.T"), "A")
    assert "z:" in shapes and unknown == "z"
    assert infer_shapes(parse("eta * x.T @ x"), parse("2 * eta * x"), "x")[0] == "eta:scalar x:m"


# Operations read with the registry's own shape rules: (cost, wrt, claim, inferred shapes, assumed).
# The LaTeX grammar emits no call but inv (X^{-1}), so these are the claim-language trees
# extract hands to infer_shapes; the Markdown route is test_markdown_inverse_and_pinv_shapes.
OPERATION_SHAPES = [
    # kron's (m*k, n*p) is a product: nothing is tied through it, B keeps its letter-case shape
    ("kron", "sum(kron(A, B))", "A", "sum(B) * ones(m, n)", "A:m,n B:k,p", "B"),
    ("diag", "y.T @ diag(x) @ z", "x", "y * z", "x:m y:m z:m", ""),
    # diagonal rejects a non-square X: the probe makes it square
    ("diagonal", "sum(diagonal(X) * v)", "X", "diag(v)", "X:m,m v:m", ""),
    # matrix_power's square rule (the old walk left X:m,n here); its int parameter is no symbol
    ("matrix_power", "sum(matrix_power(X, 3))", "X",
     "ones(m, m) @ X.T @ X.T + X.T @ ones(m, m) @ X.T + X.T @ X.T @ ones(m, m)", "X:m,m", ""),
    # pinv through its expansion inv(X.T @ X) @ X.T: (n,m) for an (m,n) X
    ("pinv", "tr(pinv(X) @ A)", "A", "pinv(X).T", "A:m,n X:m,n", ""),
    # eye(n) names its dimension n (no symbol n); ones(3, n) a literal one
    ("eye", "x.T @ (A + eye(n)) @ x", "x", "(A + A.T + 2 * eye(n)) @ x", "A:n,n x:n", ""),
    ("ones", "y.T @ ones(3, n) @ x", "x", "ones(n, 3) @ y", "x:n y:3", ""),
]


@pytest.mark.parametrize("cost,wrt,claim,shapes,assumed", [o[1:] for o in OPERATION_SHAPES],
                         ids=[o[0] for o in OPERATION_SHAPES])
def test_operation_shapes_come_from_the_registry_and_check(cost, wrt, claim, shapes, assumed):
    assert infer_shapes(parse(cost), parse(claim), wrt) == (shapes, assumed)
    result = check(Claim(shapes=shapes, cost=cost, wrt=wrt, claim=claim))
    assert result.verdict == "verified", result


def test_shape_rules_that_cannot_be_met_leave_the_shape_unknown():
    # blocksum needs divisible dimensions, which one equality cannot give: G keeps its letter-case shape
    assert infer_shapes(parse("sum(blocksum(G, 2, 2))"), parse("G"), "G") == ("G:m,n", "G")
    # a column vector where a matrix is written: the probe ties X's second dimension to 1
    assert infer_shapes(parse("sum(diag(X))"), parse("X"), "X")[0] == "X:m"
    # a product where a square is needed: no declaration names m*k, so the kron result is made
    # square in numbers, the smallest sizes with which cost and claim type
    assert infer_shapes(parse("tr(kron(A, B))"), parse("A"), "A") == ("A:2,2 B:2,2", "")
    assert infer_shapes(parse("x.T @ kron(A, B) @ x"), parse("(kron(A, B) + kron(A.T, B.T)) @ x"), "x") == \
        ("A:2,2 B:2,2 x:4", "")


MARKDOWN_OPERATIONS = r"""# Inverses

$$C = y^T X^{-1} x \implies \frac{\partial C}{\partial y} = X^{-1} x$$

The pseudo-inverse written out, \((X^TX)^{-1}X^T\):
\[\boxed{C = y^T (X^T X)^{-1} X^T z \implies \frac{\delta C}{\delta z} = X (X^T X)^{-1} y}\]
"""


def test_markdown_inverse_and_pinv_shapes():
    found = extract_text(MARKDOWN_OPERATIONS, "ops.md")
    got = [(c.cost, c.wrt, c.claim, c.shapes) for c in found.claims]
    assert got == [
        ("y.T @ inv(X) @ x", "y", "inv(X) @ x", "X:m,m x:m y:m"),
        ("y.T @ inv(X.T @ X) @ X.T @ z", "z", "X @ inv(X.T @ X) @ y", "X:m,n y:n z:m"),
    ] and found.skipped == []
    for c in found.claims:
        assert check(Claim(shapes=c.shapes, cost=c.cost, wrt=c.wrt, claim=c.claim)).verdict == "verified"


DOC = r"""# Linear costs

Boxed, self-contained: \[\boxed{C = y^T A x \implies \frac{\delta C}{\delta A} = y x^T}\]

Not boxed but of the implies form, with two gradients and \partial:
$$C = y^TABx \implies \frac{\partial C}{\partial A} = yx^TB^T, \frac{\partial C}{\partial B} = A^Tyx^T$$

## With a definition

Define $D \equiv A^T A$ and the cost $C = \frac{1}{2} x^T B^T D B x$.

\[\boxed{\nabla_B C = D B x x^T}\]

A wrong one: \[\boxed{\frac{\delta C}{\delta B} = B x x^T}\]

One that cannot be read: \[\boxed{\frac{\delta C}{\delta B} = \text{something}}\]

And a displayed formula that is not a claim: $$x^T y = y^T x$$
"""


def test_claims_found_translated_and_placed():
    found = extract_text(DOC, "doc.md")
    got = [(c.name, c.section, c.cost, c.wrt, c.claim, c.boxed) for c in found.claims]
    assert got == [
        ("boxed-1-dA", "Linear costs", "y.T @ A @ x", "A", "y @ x.T", True),
        ("implies-2-dA", "Linear costs", "y.T @ A @ B @ x", "A", "y @ x.T @ B.T", False),
        ("implies-2-dB", "Linear costs", "y.T @ A @ B @ x", "B", "A.T @ y @ x.T", False),
        ("boxed-3-dB", "With a definition", "1 / 2 * x.T @ B.T @ (A.T @ A) @ B @ x", "B",
         "A.T @ A @ B @ x @ x.T", True),
        ("boxed-4-dB", "With a definition", "1 / 2 * x.T @ B.T @ (A.T @ A) @ B @ x", "B", "B @ x @ x.T", True),
    ]
    assert "substituted: D = A.T @ A" in found.claims[3].note and "cost from line 10" in found.claims[3].note
    assert [s.line for s in found.skipped] == [16] and r"\text does not translate" in found.skipped[0].reason


def test_gradient_without_any_cost_is_listed_not_dropped():
    found = extract_text(r"\[\boxed{\frac{\delta C}{\delta A} = y x^T}\]", "d.md")
    assert found.claims == [] and "no cost 'C = ...'" in found.skipped[0].reason


def test_written_file_is_a_derivation_file_that_report_reads():
    found = extract_text(DOC, "doc.md")
    d = loads(to_toml(found), "out.toml")
    assert [e.name for e in d.entries] == [c.name for c in found.claims]
    assert d.entries[0].claim.shapes == "A:m,n x:n y:m" and d.entries[0].latex.startswith(r"\boxed{C = y^T")
    assert "# Not translated (1)" in to_toml(found)


def test_cli_extract_writes_the_file_and_lists_what_it_skipped(cli, tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(DOC)
    out = tmp_path / "out.toml"
    r = cli("extract", str(doc), "-o", str(out))
    assert r.returncode == 0 and r.stdout == ""
    assert f"{doc}:16: not translated" in r.stderr and "5 claims (3 boxed)" in r.stderr
    report = cli("report", str(out))
    assert report.returncode == 1          # the wrong boxed claim is refuted, as it should be
    assert "refuted   MISMATCH" in report.stdout and "4 verified" in report.stdout


def test_cli_extract_bad_input(cli, tmp_path):
    assert cli("extract", str(tmp_path / "missing.md")).returncode == 2
    empty = tmp_path / "empty.md"
    empty.write_text("no math here")
    r = cli("extract", str(empty))
    assert r.returncode == 1 and "no claims found" in r.stderr
    binary = tmp_path / "b.md"
    binary.write_bytes(b"\xff\xfe")
    r = cli("extract", str(binary))
    assert r.returncode == 2 and "not UTF-8" in r.stderr and r.stderr.count("\n") == 1


@pytest.mark.skipif(not POST.exists(), reason="the seed document is not available")
def test_the_posts_boxed_identities_are_recovered():
    found = extract_file(POST)
    # every boxed identity (the display of line 1174 is one chain of two lines ending in its boxed
    # result) and the two gradients of the "C = y^TABx \implies" line; the plain and inline
    # derivatives of the post are found too, or listed with the reason they do not translate
    boxed = [c for c in found.claims if c.boxed]
    assert len(boxed) == 20 and len({c.line for c in boxed}) == 11
    assert [c.wrt for c in found.claims if c.name.startswith("implies-")] == ["A", "B"]
    assert len(found.claims) > 23 and all(s.reason for s in found.skipped)
    assert not any(c.line == 1131 for c in found.skipped)    # the cost C = y^T sigma(Ax) of line 1105, not its
    claims = {(c.wrt, c.claim) for c in found.claims}        # restatement in components at line 1110
    assert ("A", "y @ x.T") in claims and ("B", "A.T @ A @ B @ (x @ x.T)") in claims
    assert ("W01", "W12.T @ W23.T @ (W23 @ W12 @ W01 @ x0 - y) @ x0.T") in claims
    assert ("B", "A.T @ (y * sigma_2'(A @ sigma_1(B @ x))) * sigma_1'(B @ x) @ x.T") in claims
    repaired = [c for c in found.claims if "reading:" in c.note]
    assert len(repaired) == 1 and "unclosed '['" in repaired[0].note


@pytest.mark.slow
@pytest.mark.skipif(not POST.exists(), reason="the seed document is not available")
def test_the_posts_extracted_claims_all_verify(tmp_path):
    from symbolic_bp.rendering import report
    found = extract_file(POST)
    found.claims = [c for c in found.claims if c.boxed or c.name.startswith("implies-")]
    out = tmp_path / "post.toml"
    out.write_text(to_toml(found))
    rep = report.run([out], seconds=120)
    # 22 claims, and the two lines of the chain of line 1174 reported on their own rows
    assert rep.summary()["verdicts"] == {"verified": 24} and rep.exit_code == 0


FRAGMENTS = ["$", "$$", "\\[", "\\]", "\\boxed{", "}", "{", "C =", "\\implies", "\\frac{\\delta C}{\\delta A}", "=",
             "y^T", "A", "x", "_{12}", "^{-1}", "\\odot", ".*", "\\sigma'(", ")", "(", "[", "]", "\\left(", "\\right)",
             "\\begin{bmatrix}", "\\end{bmatrix}", "x_1 \\\\", "\\vdots", "\\underbrace{", "}_{q}", ",", "\\equiv",
             "D", "-", "2", "\\text{", "\n\n", "#", " "]


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
@settings(max_examples=150, deadline=None, derandomize=True, database=None)
def test_hostile_text_never_crashes(parts):
    found = extract_text("".join(parts), "h.md")
    for c in found.claims:                  # what is translated is claim-language text
        parse(c.cost), parse(c.claim)
    loads(to_toml(found), "h.toml") if found.claims else None


# -- the NumPy dialect: the LaTeX the printer writes, read back -----------------------------------------

PRINTED = [
    ("maximum", r"\max\left(0, Z\right)", "maximum(0, Z)"),
    ("minimum", r"\min\left(X, Y\right)", "minimum(X, Y)"),
    ("max-of-one", r"\max\left(X\right)", "max(X)"),
    ("iverson", r"\left[A > B\right]", "A > B"),
    ("iverson-geq", r"\left[X \geq 0\right]", "X >= 0"),
    ("iverson-eq", r"[X = Y]", "X == Y"),
    ("iverson-in-a-product", r"\mathrm{dY} \odot \left[X W + b > 0\right]", "dY * (X @ W + b > 0)"),
    ("quotient", r"\frac{A}{B}", "A / B"),
    ("real-power", r"A^{1/2}", "A**(1/2)"),
    ("real-power-frac", r"s^{\frac{1}{2}}", "s**(1/2)"),
    ("real-power-decimal", r"s^{0.5}", "s**(1/2)"),
    ("hadamard-power", r"X^{\circ 2}", "X**2"),
    ("hadamard-reciprocal", r"X^{\circ -1} \odot Y", "X**(-1) * Y"),
    ("reduction-keepdims", r"\operatorname{sum}_{\mathrm{axis}=1,\,\mathrm{keepdims}}\left(X\right)",
     "sum(X, axis=1, keepdims=True)"),
    ("reduction-over-size", r"\frac{\operatorname{sum}_{\mathrm{axis}=0}\left(X\right)}{N}", "sum(X, axis=0) / N"),
    ("macro-ddof", r"\operatorname{var}_{\mathrm{axis}=0,\,\mathrm{ddof}=1}\left(X\right)", "var(X, axis=0, ddof=1)"),
    ("upright-function", r"\mathrm{sigmoid}'\left(X W\right)", "sigmoid'(X @ W)"),
    ("upright-name", r"\mathrm{dW}_{1} + a_{\mathrm{prev}}", "dW1 + a_prev"),
    ("ones", r"\mathbf{1}_{2\,n \times 3}", "ones(2 * n, 3)"),
    ("identity", r"I_{n} + A", "eye(n) + A"),
    ("named-functions", r"\sin\left(x\right) + \sqrt{x} + \log\det\left(X\right)", "sin(x) + sqrt(x) + logdet(X)"),
    ("opaque-function", r"\sigma'\left(z\right)", "sigma'(z)"),
]


@pytest.mark.parametrize("latex,text", [p[1:] for p in PRINTED], ids=[p[0] for p in PRINTED])
def test_the_printers_notation_translates(latex, text):
    assert to_claim_text(latex) == text
    parse(text)


@pytest.mark.parametrize("latex,reason", [
    (r"\operatorname{sum}_{\mathrm{axes}=0}\left(X\right)", "only axis, keepdims and ddof translate"),
    (r"\operatorname{frobnicate}\left(X\right)", "not an operation of the claim language"),
    (r"\max\left(a, b, c\right)", "\\max of 3 arguments"),
    (r"[a > b > c]", "comparisons cannot be chained"),
    (r"x^{\circ}", "superscript"),
])
def test_what_of_the_dialect_does_not_translate_says_why(latex, reason):
    with pytest.raises(Untranslatable) as e:
        to_claim_text(latex)
    assert reason in str(e.value)


def test_a_power_of_a_matrix_is_its_matrix_power_and_of_a_scalar_a_power():
    assert to_claim_text(r"A^{3} + s^{2} A", "A:n,n s:scalar") == "matrix_power(A, 3) + s**2 @ A"
    assert to_claim_text(r"A^{\circ 3}", "A:n,n") == "A**3"
    with pytest.raises(Untranslatable, match="matrix function"):
        to_claim_text(r"A^{1/2}", "A:n,n")


ROUND_TRIP_SHAPES = ("X:N,D W:D,K b:1,K dY:N,K B:N,D Y:N,K:onehot Z:N,K c:N r:1,D s:scalar eps:scalar:positive "
                     "A:D,D x:D P:N,D:positive")
ROUND_TRIP = [
    "(dY * ((X @ W + b) > 0)).sum(axis=0, keepdims=True)", "np.maximum(0, X @ W + b)", "X / B", "P ** 0.5", "X ** 2",
    "s ** 2", "P**-1", "X - X.mean(axis=0)", "np.var(X, axis=0)", "X.std(axis=0)",
    "(X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + eps)", "softmax(Z, axis=1) - Y",
    "np.sum(Y * log_softmax(Z, axis=1))", "X.sum(axis=1)", "X.max(axis=0)", "np.minimum(X, B)", "X >= B", "X == B",
    "X != B", "X < 0", "matrix_power(A, 3)", "inv(A) @ x", "np.trace(A)", "ones_like(X)", "np.outer(c, c)",
    "diagflat(c)", "X.T @ (X @ W - Y) / N", "np.exp(X) / np.exp(X).sum(axis=1, keepdims=True)", "1 / N * X",
    "2 * N * X", "X.var(axis=0, ddof=1)", "X + r", "X * c", "(X > 0).T @ dY", "relu'(X)", "(P ** 0.5).T",
    "np.mean(X)", "2 * 3 * X", "-X / B", "scipy.special.logsumexp(Z, axis=1)",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_a_typed_claim_printed_and_extracted_is_the_same_claim(text):
    from symbolic_bp.checks.identity import check_equal
    from symbolic_bp.language.shapes import parse_declarations, parse_typed
    from symbolic_bp.rendering.latex import latex
    printed = latex(parse_typed(text, parse_declarations(ROUND_TRIP_SHAPES)))
    back = to_claim_text(printed, ROUND_TRIP_SHAPES)
    assert check_equal(ROUND_TRIP_SHAPES, text, back, seconds=60).verdict == "verified", (printed, back)


PRINTED_DOC = r"""# ReLU layer

$$\boxed{C = \operatorname{sum}\left(\mathrm{dY} \odot \max\left(0, X W + b\right)\right) \implies
\frac{\partial C}{\partial W} = X^{T} \left[\mathrm{dY} \odot \left[X W + b > 0\right]\right]}$$

$$\boxed{C = \operatorname{sum}\left(\mathrm{dY} \odot \max\left(0, X W + b\right)\right) \implies
\frac{\partial C}{\partial b} = \operatorname{sum}_{\mathrm{axis}=0}\left(\mathrm{dY} \odot \left[X W + b > 0\right]\right)}$$

# Mean centering, as the proofs document boxes it

\[\boxed{\begin{aligned} C &= \operatorname{sum}\left(\mathrm{dY} \odot \left(X - \frac{\operatorname{sum}_{\mathrm{axis}=0}\left(X\right)}{N}\right)\right) \\ \frac{\partial C}{\partial X} &= \mathrm{dY} - \frac{\operatorname{sum}_{\mathrm{axis}=0}\left(\mathrm{dY}\right)}{N}\end{aligned}}\]

# Powers

$$\boxed{C = \operatorname{sum}\left(A^{\circ 3}\right) \implies \frac{\partial C}{\partial A} = 3\,A^{\circ 2}}$$

$$\boxed{C = \operatorname{tr}\left(A^{3}\right) \implies \frac{\partial C}{\partial A} = 3\,\left(A^{T}\right)^{2}}$$

$$\boxed{C = \operatorname{sum}\left(\frac{A}{B}\right) \implies \frac{\partial C}{\partial B} = -\frac{A}{B^{\circ 2}}}$$
"""


def test_a_document_in_the_printers_notation_is_extracted_and_verifies(tmp_path):
    from symbolic_bp.rendering import report
    found = extract_text(PRINTED_DOC, "printed.md")
    assert found.skipped == []
    got = {(c.wrt, c.claim, c.shapes) for c in found.claims}
    assert ("b", "sum(dY * (X @ W + b > 0), axis=0)", "W:m,n X:k,m b:1,n dY:k,n") in got   # the bias is a row
    assert ("A", "3 * matrix_power(A.T, 2)", "A:m,m") in got
    assert ("X", "dY - sum(dY, axis=0) / N", "N:scalar X:m,n dY:m,n") in got          # from the aligned rows
    out = tmp_path / "printed.toml"
    out.write_text(to_toml(found))
    rep = report.run([out], seconds=60)
    assert rep.summary()["verdicts"] == {"verified": 6}, [r.result for r in rep.rows]


DIALECT_FRAGMENTS = FRAGMENTS + [
    "\\max", "\\min", "\\left[", "\\right]", ">", "\\geq", "\\neq", "^{\\circ 2}", "^{1/2}", "^{\\frac{1}{2}}",
    "^{\\circ", "\\operatorname{sum}", "\\operatorname{", "_{\\mathrm{axis}=0", ",\\,\\mathrm{keepdims}}", "\\mathrm{",
    "dY}", "\\mathbf{1}_{", "n \\times 1}", "I_{n}", "\\sqrt{", "\\log\\det", "\\frac{", "}{N}", "\\begin{aligned}",
    "&=", "\\\\", "\\end{aligned}", "\\partial", "\\,", "N", "0.5", "-1",
]


@given(st.lists(st.sampled_from(DIALECT_FRAGMENTS), max_size=40))
@settings(max_examples=200, deadline=None, derandomize=True, database=None)
def test_hostile_dialect_latex_never_crashes(parts):
    found = extract_text("".join(parts), "h.md")
    for c in found.claims:
        parse(c.cost), parse(c.claim)
    loads(to_toml(found), "h.toml") if found.claims else None
