"""Authoring styles of derivative claims in documents: each a short document of our own,
extracted and translated (``symbolic-bp extract``) as its author means it."""
import re

import pytest

from symbolic_bp.checks.checker import check
from symbolic_bp.checks.claim import Claim
from symbolic_bp.derivations.extract import Untranslatable, extract_text, to_claim_text


def claims_of(text: str, path: str = "styles.md"):
    found = extract_text(text, path)
    return {c.line: c for c in found.claims}, {s.line: s.reason for s in found.skipped}


# -- operator names written as letters, \mbox, \rm, and with braces or brackets -------------

OPERATOR_SPELLINGS = [
    (r"Tr\{A X B\}", "tr(A @ X @ B)"),
    (r"tr(A X B)", "tr(A @ X @ B)"),
    (r"\mbox{tr} \left( A X B \right)", "tr(A @ X @ B)"),
    (r"\text{Tr}(A X B)", "tr(A @ X @ B)"),
    (r"\mathrm{Tr}(A X B)", "tr(A @ X @ B)"),
    (r"\operatorname{Tr}(A X B)", "tr(A @ X @ B)"),
    (r"\mathrm{tr}[A X B]", "tr(A @ X @ B)"),
    (r"{\rm tr}(A X B)", "tr(A @ X @ B)"),
    (r"det(X)", "det(X)"),
    (r"t r", "t @ r"),                       # apart, two letters are two symbols
    (r"softmax(z) + exp(x)", "softmax(z) + exp(x)"),
    (r"ab(c + d)", "a @ b @ (c + d)"),
]


@pytest.mark.parametrize("latex,text", OPERATOR_SPELLINGS)
def test_an_operator_spelled_in_letters_is_the_operator(latex, text):
    assert to_claim_text(latex) == text


@pytest.mark.parametrize("latex", [r"sgn(x)", r"xtr(A)"])
def test_a_word_that_is_no_operation_is_refused_not_read_as_letters(latex):
    with pytest.raises(Untranslatable, match="reads as a word"):
        to_claim_text(latex)


TRACE_DOC = r"""
# A trace

The rule is
$\frac{\partial}{\partial\mathbf{X}} Tr\{\mathbf{A}\mathbf{X}\mathbf{B}\} = \mathbf{A^T}\mathbf{B^T}$
and in plain TeX
$$\eqalign{ g &= {\rm tr}(CYD) \cr &= {\rm tr}(DCY) \cr \cr \frac{\partial g}{\partial Y} &= C^TD^T \cr }$$
"""


def test_a_trace_written_as_letters_is_verified_not_refuted():
    claims, _ = claims_of(TRACE_DOC)
    assert claims[5].cost == "tr(A @ X @ B)" and claims[5].claim == "A.T @ B.T"
    assert check(Claim(shapes=claims[5].shapes, cost=claims[5].cost, wrt="X", claim=claims[5].claim),
                 seconds=20).verdict == "verified"
    assert claims[7].cost == "tr(C @ Y @ D)" and claims[7].claim == "C.T @ D.T"


# -- the cost written inside the derivative ------------------------------------------------

INSIDE_DOC = r"""
$$\frac{\partial \, \mathrm{tr}(AXB)}{\partial X} = A^T B^T$$

$$\frac{\partial}{\partial X} \mathrm{tr}(AXB) = A^T B^T$$

$$\nabla_x (x^T M x) = (M + M^T) x$$

$$\frac{\partial \mathbf{b}^T \mathbf{A} \mathbf{b}}{\partial \mathbf{b}} = (\mathbf{A} + \mathbf{A}^T) \mathbf{b}$$
"""


def test_the_numerator_is_the_cost():
    claims, skipped = claims_of(INSIDE_DOC)
    assert not skipped
    assert [(c.cost, c.wrt, c.claim) for c in claims.values()] == [
        ("tr(A @ X @ B)", "X", "A.T @ B.T"), ("tr(A @ X @ B)", "X", "A.T @ B.T"),
        ("x.T @ M @ x", "x", "(M + M.T) @ x"), ("b.T @ A @ b", "b", "(A + A.T) @ b")]


# -- costs named with their arguments ----------------------------------------------------------

NAMED_DOC = r"""
$$\begin{align}\mathcal{L}(w) &= \frac{1}{2}\Vert X w - y\Vert^2 \end{align}$$

$$\frac{\partial \mathcal{L}}{\partial w} = X^T (X w - y)$$

$$H(\mathbf y,\mathbf s) = -\mathbf y^T \log \mathbf s$$

$$\frac{\partial H}{\partial \mathbf s} = - \mathbf y / \mathbf s$$

$$f({\bf Z}) := \mbox{tr}({\bf C}{\bf Z})$$

$$\frac{\partial f}{\partial {\bf Z}} = {\bf C}^T$$
"""


def test_a_cost_named_with_its_arguments_is_found_by_its_name():
    claims, skipped = claims_of(NAMED_DOC)
    assert not skipped
    assert (claims[4].cost, claims[4].claim) == ("1 / 2 * norm(X @ w - y)**2", "X.T @ (X @ w - y)")
    assert (claims[8].cost, claims[8].wrt) == ("-(y.T @ log(s))", "s")
    assert (claims[12].cost, claims[12].claim) == ("tr(C @ Z)", "C.T")


# -- MathJax: <script type="math/tex"> blocks, \eqalign{… \cr …}, a chain of $$ = … $$ displays --------

MATHJAX_DOC = r"""Our cost is <script type="math/tex">E = \frac{1}{2} \Vert Q v - t \Vert^2</script> and

<script type="math/tex; mode=display">
\begin{aligned}
\nabla_{v} E
&= Q^T (Q v - t) \\
&= Q^T Q v - Q^T t
\end{aligned}
</script>
"""


def test_mathjax_script_blocks_are_math():
    claims, skipped = claims_of(MATHJAX_DOC)
    assert not skipped
    (claim,) = claims.values()
    assert claim.cost == "1 / 2 * norm(Q @ v - t)**2" and claim.wrt == "v"
    assert claim.steps == ["Q.T @ (Q @ v - t)", "Q.T @ Q @ v - Q.T @ t"]
    assert claim.line == 5


def test_eqalign_rows_are_a_chain():
    claims, _ = claims_of(TRACE_DOC)
    # g = tr(CYD) = tr(DCY) is the first row; the derivative is a row of its own
    assert (claims[7].cost, claims[7].steps, claims[7].step_lines) == ("tr(C @ Y @ D)", ["C.T @ D.T"], [7])


CONTINUED_DOC = r"""
$$ E = \frac{1}{2} \Vert M u - t \Vert^2 $$

$$ \frac{\partial E}{\partial u} = M^T (M u - t) $$
$$ = M^T M u - M^T t $$
$$ = M^T M u + M^T t $$
"""


def test_a_display_that_starts_with_equals_continues_the_chain():
    claims, _ = claims_of(CONTINUED_DOC)
    (claim,) = claims.values()
    assert claim.steps == ["M.T @ (M @ u - t)", "M.T @ M @ u - M.T @ t", "M.T @ M @ u + M.T @ t"]
    assert claim.step_lines == [4, 5, 6]


# -- what is not written is not guessed ----------------------------------------------------------

def test_a_variable_the_cost_does_not_mention_is_untranslatable_not_refuted():
    doc = "$$H = -y^T \\log s$$\n\n$$\\nabla_x H = s - y$$\n"
    claims, skipped = claims_of(doc)
    assert not claims and "x is not in the cost H" in skipped[3]


def test_a_function_redefined_as_an_unknown_formula_is_not_read_as_the_old_one():
    doc = ("$\\phi(z) = \\frac{1}{1 + e^{-z}}$\n\n$\\phi(z) = \\frac{z}{1 + z^2}$\n\n"
           "$$L = -y^T \\log \\phi(W x)$$\n\n$$\\frac{\\partial L}{\\partial W} = (\\phi(W x) - y) x^T$$\n")
    claims, skipped = claims_of(doc)
    assert not claims and "phi is defined at line 3" in skipped[7]


def test_a_function_redefined_as_the_softmax_is_read_as_the_softmax():
    # phi the sigmoid, then (a new section of the notes) phi the softmax, written in index notation
    doc = ("$\\phi(z) = \\frac{1}{1 + e^{-z}}$\n\n$\\phi(z) = \\frac{e^z}{\\sum_j e^{z_j}}$\n\n"
           "$$L = -y^T \\log \\phi(W x)$$\n\n$$\\frac{\\partial L}{\\partial W} = (\\phi(W x) - y) x^T$$\n")
    claims, _ = claims_of(doc)
    assert claims[7].cost == "-(y.T @ log(softmax(W @ x)))" and "phi = softmax" in claims[7].note


def test_an_untranslatable_chain_lists_each_of_its_lines():
    doc = ("$$L = \\prod_i p_i$$\n\n$$\\begin{aligned}\\frac{\\partial L}{\\partial p} &= a \\\\\n"
           "&= b \\\\\n&= c\\end{aligned}$$\n")
    _, skipped = claims_of(doc)
    assert sorted(skipped) == [3, 4, 5]


# -- numerator layout: a row gradient for a column variable ------------------------------------

ROW_DOC = r"""
$$L = \frac{1}{2} (w^T x - y)^2$$

$$\frac{\partial L}{\partial w} = (w^T x - y) x^T$$
"""


def test_a_row_gradient_of_a_column_variable_asks_for_the_layout():
    claims, skipped = claims_of(ROW_DOC)
    assert not claims and 'declare layout = "row"' in skipped[4]


# -- the chain rule written on the left: dL/dp dp/dz is dL/dz ---------------------------------------

def test_a_chain_rule_product_on_the_left_is_the_derivative_it_telescopes_to():
    doc = ("$$L = \\frac{1}{2} \\Vert p - y \\Vert^2$$\n\n$$p = W z$$\n\n"
           "$$\\frac{\\partial L}{\\partial p} \\frac{\\partial p}{\\partial z} = W^T (W z - y)$$\n")
    claims, skipped = claims_of(doc)
    assert not skipped
    (claim,) = claims.values()
    assert (claim.wrt, claim.claim) == ("z", "W.T @ (W @ z - y)")
    # factors that do not chain (dL/dp dq/dz) are no derivative of L
    assert not claims_of(doc.replace("\\partial p}{\\partial z}", "\\partial q}{\\partial z}"))[0]


def test_a_matrix_read_as_a_number_only_is_not_checked():
    # d/dX of A X B is a matrix's derivative: reading A, X, B as numbers would verify a meaning not written
    doc = "$$\\frac{\\partial}{\\partial X} A X B = A B$$\n"
    claims, skipped = claims_of(doc)
    assert not claims and "not a scalar cost" in skipped[1]


# -- \mathbf J_{X}(H): the Jacobian of a scalar, its gradient; a cost defined by its later form ---------

BATCH_DOC = r"""
$$\begin{aligned}
G(\mathbf P, \mathbf Q)
&= -\frac{1}{m} \sum_{i=1}^m \mathbf p_i \log \mathbf q_i^\top \\
&= -\frac{1}{m} \text{Tr}(\mathbf P \log \mathbf Q^\top)
\end{aligned}$$

$$\mathbf J_{\mathbf Q}(G) = -\frac{1}{m} \frac{\mathbf P}{\mathbf Q}$$
"""


def test_a_jacobian_of_the_cost_is_its_gradient_and_a_cost_is_read_from_its_translatable_form():
    claims, skipped = claims_of(BATCH_DOC)
    assert not skipped
    (claim,) = claims.values()
    assert (claim.cost, claim.wrt, claim.claim) == ("-(1 / m * tr(P @ log(Q.T)))", "Q", "-(1 / m * (P / Q))")
    assert check(Claim(shapes=claim.shapes, cost=claim.cost, wrt="Q", claim=claim.claim),
                 seconds=20).verdict == "verified"


def test_vectors_summed_over_examples_are_not_read_as_entries():
    # p_i, q_i^T are rows of P and Q: reading them as the entries of vectors p, q would be a guess
    with pytest.raises(Untranslatable, match="transpose inside"):
        to_claim_text(r"\sum_{i=1}^m p_i \log q_i^\top")
    assert to_claim_text(r"\sum_i x_i y_i") == "sum(x * y)"      # entries: as before


def test_a_row_gradient_is_checked_as_its_transpose_under_the_row_layout():
    from symbolic_bp.derivations.declarations import loads
    found = extract_text(ROW_DOC, "row.md", declarations=loads('layout = "row"', "row.symbolic-bp.toml"))
    (claim,) = found.claims
    assert "its transpose is checked" in claim.note
    assert check(Claim(shapes=claim.shapes, cost=claim.cost, wrt="w", claim=claim.claim),
                 seconds=20).verdict == "verified"
    # a column gradient written in the same document is read as written
    found = extract_text(ROW_DOC.replace("x^T$$", "x$$"), "row.md")
    assert not [s for s in found.skipped if "numerator" in s.reason]


def test_an_operator_shorthand_is_written_out_and_dots_are_no_step():
    # "Let \partial_{ij} := \partial_{x_{ij}}" (a Q&A answer's addendum), then a chain with "= \cdots ="
    doc = ("$$f(X) := \\mathrm{tr}(A X B)$$\n\nLet $\\partial_{ij} := \\partial_{x_{ij}}$. Hence,\n\n"
           "$$\\partial_{ij} f(X) = \\mathrm{tr}(A e_i e_j^T B) = \\cdots = (A^T B^T)_{ij}$$\n")
    claims, skipped = claims_of(doc)
    (claim,) = claims.values()
    # the unit vectors select an entry: tr(A e_i e_j^T B) = e_j^T B A e_i = (B A)_{ji}
    assert claim.wrt == "X" and claim.steps == ["(B @ A).T", "A.T @ B.T"] and not claim.unchecked


def test_a_redefinition_in_a_subsection_ends_with_it():
    # the batch cost H, then a "### Why this works" aside that restates H for flattened vectors, then
    # the next section's claim about the batch H again (the style of a blog post on softmax)
    doc = ("## Batch cost\n\n$$H = -\\frac{1}{m} \\mathrm{tr}(Y \\log S^T)$$\n\n"
           "## Its gradient\n\n$$\\nabla_S H = -\\frac{1}{m} Y / S$$\n\n"
           "### Why this works\n\n$$H = -\\frac{1}{m} y \\log s^T$$\n\n$$\\nabla_s H = -\\frac{1}{m} y / s$$\n\n"
           "## The gradient again\n\n$$\\nabla_S H = -\\frac{1}{m} \\frac{Y}{S}$$\n")
    claims, _ = claims_of(doc)
    costs = {line: c.cost for line, c in claims.items()}
    assert costs[7] == costs[17] and "Y" in costs[17] and "y" in costs[13] and "Y" not in costs[13]


def test_a_named_derivative_and_definitions_for_every_layer():
    # "We define the error signal of layer l: delta^(l) = dL/dz^(l)", definitions written for a general
    # layer l, then the output layer's delta for the network of two layers (notes on backpropagation)
    doc = ("Forward: $z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$ and $a^{(l)} = \\sigma(z^{(l)})$, with "
           "$\\sigma(t) = \\frac{1}{1 + e^{-t}}$. The loss is $L = \\frac{1}{2} \\| a^{(2)} - y \\|^2$.\n\n"
           "$$\\delta^{(l)} = \\frac{\\partial L}{\\partial z^{(l)}}$$\n\n"
           "$$\\delta^{(2)} = (a^{(2)} - y) \\odot \\sigma'(z^{(2)})$$\n\n"
           "$$\\delta^{(2)} = (a^{(2)} - y) \\odot \\sigma(z^{(2)})$$\n")
    claims, _ = claims_of(doc)
    assert [(c.wrt, c.claim) for c in claims.values()] == [
        ("z2", "(sigmoid(z2) - y) * sigmoid'(z2)"), ("z2", "(sigmoid(z2) - y) * sigmoid(z2)")]
    assert [check(Claim(shapes=c.shapes, cost=c.cost, wrt=c.wrt, claim=c.claim), seconds=30).verdict
            for c in claims.values()] == ["verified", "refuted"]


def test_ng_notation_labels_and_parameter_subscripts():
    # Andrew Ng's notation (y^{(i)} the i-th example under \sum_i), a cost written with a label in words
    # before it, h_\theta (a parameter in the subscript), p(y=1|x) (a probability, not a signature)
    from symbolic_bp.derivations.latex_reader import LatexParser
    from symbolic_bp.language.printer import to_text
    assert to_text(LatexParser(r"\sum_{i=1}^{m} y^{(i)} \log p^{(i)}").parse()) == "sum(y * log(p))"
    assert to_text(LatexParser(r"h_{\theta}(x) + W^{(l)}").parse()) == "h_theta(x) + Wl"
    doc = ("$$\\text{loss} \\ J(w) = \\frac{1}{2} \\sum_{i=1}^{n} (w^T x^{(i)} - y^{(i)})^2$$\n\n"
           "$$p(y=1|x;w) = \\frac{1}{1 + e^{-w^T x}}$$\n\n"
           "$$\\text{gradient} \\ \\nabla_w J(w) = \\sum_{i=1}^{n} (w^T x^{(i)} - y^{(i)}) x^{(i)}$$\n")
    claims, _ = claims_of(doc)
    (claim,) = claims.values()
    assert claim.wrt == "w" and "X" in claim.cost and not re.search(r"\bp\b", claim.cost)
    assert check(Claim(shapes=claim.shapes, cost=claim.cost, wrt=claim.wrt, claim=claim.claim),
                 seconds=30).verdict == "verified"


def test_entries_of_one_index_read_with_two_shapes_are_not_checked():
    # \sum_i y_i \log p_i says y and p have one shape; a reading that broadcasts a row y against a
    # column p (steered by a claim written X^T (p(1-p))) is not the author's: listed, never checked
    doc = ("$$J(\\theta) = -\\frac{1}{m} \\sum_{i=1}^{m} [y^{(i)} \\log(p^{(i)}) + (1 - y^{(i)}) \\log(1 - p^{(i)})]$$\n\n"
           "$$\\nabla_{\\theta} J(\\theta) = \\frac{1}{m} X^T (p(1 - p))$$\n")
    from symbolic_bp.derivations.declarations import Declarations
    found = extract_text(doc, "zh.md", Declarations(definitions={"p": r"\sigma(X \theta)"},
                                                    functions={"sigma": "sigmoid"}))
    assert not found.claims and "entries of one index" in found.skipped[0].reason
