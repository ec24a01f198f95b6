"""``symbolic-bp extract`` on documents as authors write them: plain displays,
costs of any name, align chains, common LaTeX, scoped definitions, every
claim found or listed with its reason."""
import pytest

from symbolic_bp.checks.checker import check
from symbolic_bp.checks.claim import Claim
from symbolic_bp.derivations.derivation import loads
from symbolic_bp.derivations.extract import (
    Untranslatable, derivative_of, extract_text, name_of, statements, to_claim_text, to_toml,
)
from symbolic_bp.language.parser import parse


def claims_of(text, path="notes.md"):
    found = extract_text(text, path)
    return found, [(c.line, c.wrt, c.cost, c.claim) for c in found.claims]


def verdict(c, seconds=30):
    return check(Claim(shapes=c.shapes, cost=c.cost, wrt=c.wrt, claim=c.claim), seconds=seconds).verdict


# -- 1. claim detection: any derivative of a cost of any name, plain displays, inline --------------

LEFT_SIDES = [
    (r"\frac{\partial L}{\partial W}", ("L", "W")),
    (r"\dfrac{\partial \mathcal{L}}{\partial W^{(2)}}", (r"\mathcal{L}", "W^{(2)}")),
    (r"\nabla_W J", ("J", "W")),
    (r"\nabla_{\theta} J(\theta)", (r"J(\theta)", r"\theta")),
    (r"\partial_W E", ("E", "W")),
    (r"dL/dW", ("L", "W")),
    (r"\partial f / \partial x", ("f", "x")),
    (r"\frac{dJ}{d\theta}", ("J", r"\theta")),
    (r"\frac{\mathrm{d} C}{\mathrm{d} A}", ("C", "A")),
    (r"\frac{\partial}{\partial x} f", ("f", "x")),
]


@pytest.mark.parametrize("lhs,expected", LEFT_SIDES, ids=[x[0] for x in LEFT_SIDES])
def test_a_derivative_on_the_left_is_recognised(lhs, expected):
    assert derivative_of(lhs) == expected


@pytest.mark.parametrize("lhs", [r"x^T y", r"\frac{1}{2} x", r"\frac{a}{b}", r"L", r"\partial^2 L / \partial x^2"])
def test_other_left_sides_are_not_derivatives(lhs):
    assert derivative_of(lhs) is None


@pytest.mark.parametrize("latex,name", [
    (r"\mathcal{L}(W)", "L"), (r"J(\theta)", "J"), ("CE", "CE"), (r"\text{CE}", "CE"), ("E", "E"), ("f", "f"),
    (r"\mathbf{z}^{(1)}", "z1"), (r"a^{[l-1]}", "alm1"), (r"\hat{y}", "y_hat"), (r"A(Bx) + 1", None),
])
def test_names_of_costs_and_defined_values(latex, name):
    assert name_of(latex) == name


COSTS_BY_ANY_NAME = r"""# Costs of any name

A squared error:
$$L = \frac{1}{2} \Vert W x - y \Vert^2$$
$$\frac{\partial L}{\partial W} = (W x - y) x^T$$

A cost called J of the parameters:
\[ J(\theta) = \theta^T A \theta \]
\begin{equation}
\nabla_\theta J = (A + A^T) \theta
\end{equation}

An energy, written with d: $E = a^T X b$ so that $\frac{dE}{dX} = a b^T$ inline.

The cross-entropy CE of a softmax:
$$CE = \log \sum_j \exp(z_j) - y^T z$$
$$\frac{\partial CE}{\partial z} = \operatorname{softmax}(z) - y$$
"""


def test_plain_displays_and_inline_math_with_costs_of_any_name():
    found, got = claims_of(COSTS_BY_ANY_NAME)
    assert got == [
        (5, "W", "1 / 2 * norm(W @ x - y)**2", "(W @ x - y) @ x.T"),
        (10, "theta", "theta.T @ A @ theta", "(A + A.T) @ theta"),
        (13, "X", "a.T @ X @ b", "a @ b.T"),
        (17, "z", "log(sum(exp(z))) - y.T @ z", "softmax(z) - y"),
    ] and found.skipped == []
    assert [verdict(c) for c in found.claims] == ["verified"] * 4


def test_a_gradient_of_an_unwritten_cost_is_listed_with_what_to_add():
    found, got = claims_of(r"$$\frac{\partial J}{\partial W} = x y^T$$")
    assert got == [] and "no cost 'J = ...'" in found.skipped[0].reason
    assert "[definitions]" in found.skipped[0].reason


def test_a_cost_that_does_not_translate_says_what_failed():
    doc = "$$L = \\frac{1}{2}\\Vert W x - y \\Vert_1$$\n\n$$\\nabla_W L = \\mathrm{sign}(Wx - y) x^T$$\n"
    found, got = claims_of(doc)
    assert got == []
    reason = found.skipped[0].reason
    assert reason.startswith("the cost L (line 1") and "only the Euclidean/Frobenius norm" in reason
    assert "no cost" not in reason


INDEX = r"""Let $f = \sum_{i,j} a_i X_{ij} b_j$. The entry $(p, q)$ of its gradient is
$$\frac{\partial f}{\partial X_{pq}} = \sum_{i,j} a_i \delta_{ip} \delta_{jq} b_j = a_p b_q$$
$$\frac{\partial f}{\partial X_{pq}} = b_p a_q$$

$$g = \mathrm{tr}(A X B)$$
$$\frac{\partial g}{\partial X_{pq}} = \sum_i A_{ip} B_{qi} = \big(A^T B^T\big)_{pq}$$

$$h = x^T A x, \qquad \frac{\partial h}{\partial x_k} = \sum_j A_{kj} x_j + \sum_i x_i A_{ik}$$
$$\frac{\partial h}{\partial x_k} = \sum_i A_{ii} x_k$$
"""


def test_index_notation_is_read_back_as_matrices():
    found, got = claims_of(INDEX)
    assert [(g[0], g[1], g[2], g[3]) for g in got] == [
        (2, "X", "a.T @ X @ b", "a @ b.T"),          # the cost itself is a sum in index notation
        (3, "X", "a.T @ X @ b", "b @ a.T"),
        (6, "X", "tr(A @ X @ B)", "A.T @ B.T"),
        (8, "x", "x.T @ A @ x", "A @ x + A.T @ x"),
    ]
    assert found.claims[0].steps == ["a @ b.T", "a @ b.T"] and found.claims[2].steps == ["A.T @ B.T", "A.T @ B.T"]
    assert [verdict(c) for c in found.claims] == ["verified", "refuted", "verified", "verified"]
    (skipped,) = found.skipped
    assert skipped.line == 9 and "index notation: a repeated index ii" in skipped.reason


# -- 2. align chains -------------------------------------------------------------------------------

CHAIN = r"""Let $L = \frac{1}{2} \Vert A x - b \Vert^2$.
\begin{align}
\frac{\partial L}{\partial x} &= A^T (A x - b) \label{eq:g} \\
  &= A^T A x - A^T b \\
  &= A^T A x - 2 A^T b
\end{align}
"""


def test_an_align_of_equal_lines_is_a_chain_whose_last_line_is_the_claim():
    found, got = claims_of(CHAIN, "chain.tex")
    (c,) = found.claims
    assert c.steps == ["A.T @ (A @ x - b)", "A.T @ A @ x - A.T @ b", "A.T @ A @ x - 2 * A.T @ b"]
    assert c.claim == c.steps[-1] and c.line == 3 and c.name.startswith("chain-")


def test_a_chain_is_written_as_a_chain_and_its_wrong_line_found():
    found = extract_text(CHAIN, "chain.tex")
    text = to_toml(found)
    assert "[[chain]]" in text and text.count("[[step]]") == 3 and 'relation = "gradient"' in text
    d = loads(text, "chain.toml")
    assert [e.name for e in d.entries] == ["chain-1-dx", "chain-1-dx/1", "chain-1-dx/2", "chain-1-dx/3"]
    chain = d.entries[0].run(30, 0)
    # the 2 of line 3 is a slip: it is the first wrong line; the first two hold
    assert chain.verdict == "refuted" and chain.diagnosis.startswith("line 3 of 3 is the first wrong line")
    assert [e.run(30, 0).verdict for e in d.entries[1:3]] == ["verified", "verified"]


def test_statements_split_rows_continuations_and_separators():
    got = statements("z = W x + b, \\qquad a = \\sigma(z) \\\\ \\frac{\\partial L}{\\partial b} &= u \\\\ &\\quad + v \\\\ &= w")
    assert got == [["z", "W x + b"], ["a", "\\sigma(z)"], ["\\frac{\\partial L}{\\partial b}", "u + v", "w"]]


def test_a_middle_line_that_does_not_translate_is_listed_not_dropped():
    doc = (r"$$L = x^T A x$$" "\n\n"
           r"\begin{align} \nabla_x L &= \sum_{i,j} \frac{\partial (x_i A_{ij} x_j)}{\partial x} \\ &= (A + A^T) x "
           r"\end{align}")
    found = extract_text(doc, "m.tex")
    (c,) = found.claims
    assert c.steps == ["(A + A.T) @ x"] and "derivative written inside" in c.unchecked[0][1], c.unchecked
    assert "[[chain.unchecked]]" in to_toml(found)


# -- 3. common LaTeX -------------------------------------------------------------------------------

COMMON = [
    ("bf-switch", r"{\bf x}^T {\bf W}", "x.T @ W"),
    ("mathbf-boldsymbol", r"\mathbf{W} \boldsymbol{\delta}", "W @ delta"),
    ("accents", r"\tilde{x} + \hat{y} - \bar{z}", "x_tilde + y_hat - z_bar"),
    ("big-parentheses", r"\big( A \bigr) \Big( x \Big) \bigl[ y \bigr]", "A @ x @ y"),
    ("layer-superscripts", r"W^{(l)} a^{(l-1)} + b^{[2]}", "Wl @ alm1 + b2"),
    ("layer-then-transpose", r"\left(W^{(2)}\right)^{\top} \delta^{(3)}", "W2.T @ delta_3"),
    ("kronecker", r"A \otimes B", "kron(A, B)"),
    ("norms", r"\Vert x \Vert^2 + \|A\|_F + \lVert y \rVert_2", "norm(x)**2 + norm(A) + norm(y)"),
    ("hadamard-circ", r"a \circ b \odot c", "a * b * c"),
    ("trace-mathrm", r"\mathrm{tr}(A B)", "tr(A @ B)"),
    ("trace-operatorname", r"\operatorname{Tr}(A^T B)", "tr(A.T @ B)"),
    ("trace-text", r"\text{tr}(X)", "tr(X)"),
    ("trace-macro", r"\tr(X)", "tr(X)"),
    ("sigmoid-slope", r"\sigma(x)(1-\sigma(x))", "sigma(x) * (1 - sigma(x))"),
    ("slope-then-parenthesis", r"(a - y) \sigma'(z)", "(a - y) * sigma'(z)"),
    ("log-without-parentheses", r"y^T \log \sigma(X w)", "y.T @ log(sigma(X @ w))"),
    ("exp-and-det", r"\exp(x) + \det(A)", "exp(x) + det(A)"),
    ("transposes-and-inverse", r"x^\top A^T B^{-1}", "x.T @ A.T @ inv(B)"),
    ("frac-digits", r"\frac12 x + \tfrac{1}{2} y", "1 / 2 * x + 1 / 2 * y"),
    ("euler-e", r"\frac{1}{1 + e^{-t}}", "1 / (1 + exp(-t))"),
    ("sum-of-entries", r"\sum_i x_i y_i", "sum(x * y)"),
    ("mathcal-symbol", r"\mathcal{L} + \varepsilon", "L + epsilon"),
    ("times-scales", r"2 \times x", "2 * x"),
]


@pytest.mark.parametrize("latex,text", [c[1:] for c in COMMON], ids=[c[0] for c in COMMON])
def test_common_latex_translates(latex, text):
    assert to_claim_text(latex) == text
    parse(text)


@pytest.mark.parametrize("latex,reason", [
    (r"\frac{\partial}{\partial A}(y^T A x)", "derivative written inside the expression"),
    (r"\sum_{i,j} A_{ij}", "several indices"),
    (r"\|x\|_1", "only the Euclidean/Frobenius norm"),
    (r"\text{something}(x)", r"\text does not translate"),
])
def test_common_latex_that_does_not_translate_says_why(latex, reason):
    with pytest.raises(Untranslatable) as e:
        to_claim_text(latex)
    assert reason in str(e.value)


def test_the_trace_identity_is_not_refuted():
    found, _ = claims_of(r"$$f = \mathrm{tr}(A X B)$$" "\n\n" r"$$\frac{\partial f}{\partial X} = A^T B^T$$")
    (c,) = found.claims
    assert c.cost == "tr(A @ X @ B)" and verdict(c) == "verified"


def test_a_scalar_beside_a_matrix_scales_it():
    found, got = claims_of(r"$$J = \frac{1}{2N} \Vert X w - y \Vert^2 + \frac{\lambda}{2} \Vert w \Vert^2$$"
                           "\n\n" r"$$\nabla_w J = \frac{1}{N} X^T (X w - y) + \lambda w$$")
    (c,) = found.claims
    assert c.claim == "1 / N * X.T @ (X @ w - y) + lambda * w" and "N:scalar" in c.shapes
    assert verdict(c) == "verified"


# -- 4. scoped definitions: from display math, never from figures, captions or numbers ------------

FIGURE_AND_PROSE = r"""\documentclass{article}
\begin{document}
\section{Model}
We train with $x = 5$ examples and a rate $\eta = 0.1$; nothing here is a definition.
\begin{figure}
\begin{tikzpicture}\node at (0,0) {$W = 3$}; \node at (1,0) {$z = 2$};\end{tikzpicture}
\caption{A layer with $y = 4$ outputs.}
\end{figure}
\begin{equation} z = W x \end{equation}
\begin{equation} E = \frac{1}{2} \Vert z - y \Vert^2 \end{equation}
\section{Gradient}
\begin{equation} \frac{\partial E}{\partial W} = (W x - y) x^{\top} \end{equation}
\end{document}
"""


def test_numbers_in_figures_captions_and_prose_are_never_definitions():
    found, got = claims_of(FIGURE_AND_PROSE, "fig.tex")
    assert got == [(12, "W", "1 / 2 * norm(W @ x - y)**2", "(W @ x - y) @ x.T")]
    c = found.claims[0]
    assert c.definitions == ["z = W @ x (line 9)"] and "substituted: z = W @ x (line 9)" in c.note
    assert verdict(c) == "verified"


def test_the_latest_definition_applies_and_parts_reset_them():
    doc = ("# Part one\n\n$$L = \\Vert x \\Vert^2$$\n\n$$\\nabla_x L = 2x$$\n\n"
           "$$L = x^T A x$$\n\n$$\\nabla_x L = (A + A^T) x$$\n\n# Part two\n\n$$\\nabla_x L = 2 x$$\n")
    found, got = claims_of(doc)
    assert [(g[0], g[2]) for g in got] == [(5, "norm(x)**2"), (9, "x.T @ A @ x")]
    assert found.skipped[0].line == 13 and "no cost 'L = ...'" in found.skipped[0].reason


def test_intermediate_gradients_keep_their_variable_free():
    doc = (r"$$z = W x, \qquad a = \sigma(z), \qquad L = \frac{1}{2}\Vert a - y \Vert^2$$" "\n\n"
           r"$$\frac{\partial L}{\partial a} = a - y$$" "\n\n"
           r"$$\frac{\partial L}{\partial z} = (a - y) \odot \sigma'(z)$$" "\n\n"
           r"$$\frac{\partial L}{\partial W} = \big[(a - y) \odot \sigma'(z)\big] x^T$$")
    found, got = claims_of(doc)
    assert [(g[1], g[2]) for g in got] == [("a", "1 / 2 * norm(a - y)**2"), ("z", "1 / 2 * norm(sigma(z) - y)**2"),
                                          ("W", "1 / 2 * norm(sigma(W @ x) - y)**2")]
    assert [verdict(c) for c in found.claims] == ["verified"] * 3


def test_a_function_defined_by_its_formula_is_that_function():
    doc = (r"The sigmoid $\sigma(t) = \frac{1}{1 + e^{-t}}$ and the loss" "\n\n"
           r"$$L = -y^T \log \sigma(X w) - (1 - y)^T \log(1 - \sigma(X w))$$" "\n\n"
           r"$$\nabla_w L = X^T (\sigma(X w) - y)$$")
    found, _ = claims_of(doc)
    (c,) = found.claims
    assert "sigmoid(X @ w)" in c.claim and "functions: sigma = sigmoid" in c.note
    assert verdict(c, 60) == "verified"


def test_definitions_by_notation_and_renamings():
    doc = (r"$$D := A^T A, \qquad B \equiv D + I_n, \qquad c = b$$" "\n\n" r"$$f = x^T B x$$" "\n\n"
           r"$$\nabla_x f = (B + B^T) x$$")
    found, got = claims_of(doc)
    assert got == [(5, "x", "x.T @ (A.T @ A + eye(n)) @ x", "(A.T @ A + eye(n) + (A.T @ A + eye(n)).T) @ x")]
    assert found.claims[0].definitions == ["B = D + eye(n) (line 1)", "D = A.T @ A (line 1)"]


@pytest.mark.parametrize("latex,free,reason", [
    (r"\sum_{j,l} A_{kj} B_{jl} C_{lk}", ("k",), "the free index 'k' appears twice"),
    (r"\sum_i A_{ii}", (), "repeated index"),
    (r"\delta_{pq}", ("p", "q"), "between the two free indices"),
    (r"x_j", ("k",), "the summed index 'j' appears once"),
    (r"x_j", ("j", "k"), "does not appear"),
])
def test_index_notation_that_does_not_translate_says_why(latex, free, reason):
    # (the product reader's reason: what the broadcasting reader cannot read either; A_{kj} A_{kj}
    # summed over j, once refused here, is read by broadcasting: tests/test_index_broadcast.py)
    from symbolic_bp.derivations.index_notation import IndexError_, entry_expression
    with pytest.raises(IndexError_) as e:
        entry_expression(latex, free)
    assert reason in str(e.value)


def test_remarks_beside_a_claim_are_not_part_of_it():
    assert statements(r"\nabla_W L = A x^T \quad \text{(by BP4)}, \qquad (\text{see above})") == \
        [[r"\nabla_W L", "A x^T"]]
    assert statements(r"a = b \quad\text{and}\quad c = d") == [["a", "b"], ["c", "d"]]


def test_an_entry_written_with_the_rows_of_a_matrix():
    from symbolic_bp.derivations.index_notation import entry_expression
    from symbolic_bp.language.printer import to_text
    # x_i^T w is the entry i of X w when the x_i are the rows of X (which the sum also indexes)
    got = entry_expression(r"\frac{1}{N} \sum_i (\sigma(x_i^\top w) - y_i) X_{ij}", ("j",))
    assert to_text(got) == "1 / N * (X.T @ sigma(X @ w)) - 1 / N * (X.T @ y)"
    with pytest.raises(Exception, match="does not appear"):
        entry_expression(r"\sum_i \sigma(x_i^\top w) z_i", ("j",))


def test_a_claim_with_a_symbol_the_cost_lacks_is_listed_not_refuted():
    doc = r"$$L = \Vert W x - y \Vert^2$$" "\n\n" r"$$\nabla_W L = 2 (W x - y) x^T \odot \delta_3$$"
    found, got = claims_of(doc)
    assert got == [] and "delta_3 is not in the cost and not defined before this line" in found.skipped[0].reason


def test_entries_of_a_matrix_in_lower_case():
    doc = (r"$$C = y^T A x$$" "\n\n"
           r"$$\frac{\partial C}{\partial a_{kl}} = y_i x_j \frac{\partial a_{ij}}{\partial a_{kl}} = y_k x_l$$")
    found, got = claims_of(doc)
    assert [(g[1], g[3]) for g in got] == [("A", "y @ x.T")]
    assert "derivative written inside" in found.claims[0].unchecked[0][1]
    assert verdict(found.claims[0]) == "verified"


@pytest.mark.parametrize("latex,free,text", [
    (r"\mbox{tr} \left( {\bf A} \, {\bf e}_i {\bf e}_j^\top {\bf B} \right)", ("i", "j"), "(B @ A).T"),
    (r"e_i^T A^T B e_j", ("i", "j"), "A.T @ B"),
    (r"\mathbf{e}_j^T X \mathbf{e}_i", ("i", "j"), "X.T"),
])
def test_unit_vectors_select_an_entry(latex, free, text):
    from symbolic_bp.derivations.index_notation import entry_expression
    from symbolic_bp.language.printer import to_text
    assert to_text(entry_expression(latex, free)) == text


@pytest.mark.parametrize("latex,reason", [
    (r"e_i^T A e_i", "are not those of the entry"),
    (r"e_i^T e_j", "more than two unit vectors"),           # (the identity's entry: no matrix between)
    (r"e_k^T A e_j", "are not those of the entry"),
    (r"A e_i e_j^T", "not at the two ends"),
])
def test_unit_vectors_that_do_not_select_an_entry_say_why(latex, reason):
    from symbolic_bp.derivations.index_notation import IndexError_, unit_vector_entry
    with pytest.raises(IndexError_, match=reason):
        unit_vector_entry(latex, ("i", "j"))
