"""What a document says in words (symbolic_bp.derivations.prose), and how extract uses it.

The sentences are the forms public notes use (each test names the style); a sentence that
negates or hedges is never read, and a side file's own declaration always wins.
"""
from __future__ import annotations

import pytest

from symbolic_bp.derivations.declarations import Declarations
from symbolic_bp.derivations.extract import extract_text
from symbolic_bp.derivations.prose import (
    layout_from_prose, one_example_from_prose, one_example_of, one_hot_from_prose, shapes_from_text,
)


@pytest.mark.parametrize("text,layout", [
    ("_We use row vectors and row gradients_, since columns are features.", "row"),
    ("Throughout, all vectors are row vectors.", "row"),
    ("All vectors are column vectors unless otherwise specified.", "column"),
    ("A row vector times a matrix is a row vector.", "column"),      # a fact, not the document's convention
])
def test_layout_from_prose(text, layout):
    assert layout_from_prose(text, Declarations()).layout == layout


def test_the_side_file_layout_wins_over_the_text():
    said = Declarations(layout="column", layout_said=True)
    assert layout_from_prose("We use row vectors.", said) is said


@pytest.mark.parametrize("text,names", [
    ("We'll use a one-hot encoding for the response, meaning each $y$ is a vector of length $K$.", {"y"}),
    ("Let each row of $$\\mathbf Y$$ be a one-hot label for an example:", {"Y"}),
    ("The correct class is a distribution if we encode it as a one-hot vector:\n\n"
     "<script type=\"math/tex; mode=display\">\n\\mathbf y = \\begin{bmatrix} 0 \\\\ 1 \\end{bmatrix}</script>", {"y"}),
    ("Unlike one-hot labels, our $t$ is a soft distribution.", set()),         # negated
    ("The labels are not one-hot: $t$ holds probabilities.", set()),
    ("Both $y$ and $t$ are one-hot.", set()),                                 # which one: not guessed
])
def test_one_hot_from_prose(text, names):
    assert set(one_hot_from_prose(text)) == names


def test_shapes_from_text_in_math_and_in_words():
    text = (r"Let $x \in \mathbb{R}^{n}$, ${\bf A}, {\bf B} \in \Bbb R^{m \times n}$ and $h \in \mathbb R^{1 \times k}$."
            "\n" r"Now $w$ is an $m \times K$ matrix and $b$ is a vector of length $K$.")
    got = [(line, name, shape) for line, name, shape, _ in shapes_from_text(text)]
    assert got == [(1, "A", "m,n"), (1, "B", "m,n"), (1, "h", "1,k"), (1, "x", "n"), (2, "b", "K"), (2, "w", "m,K")]


def test_one_example_and_back():
    text = "To keep things simple, we do this for a single observation.\n...\nFinally, returning to $n$ observations:"
    assert [(line, on) for line, on, _ in one_example_from_prose(text)] == [(1, True), (3, False)]


@pytest.mark.parametrize("latex,one", [
    (r"-\sum_{i=1}^n y_i^T \log p_i", r"- y^T \log p"),
    (r"\sum_i \left[ y_i \log \sigma(w^T x_i) \right]", r"\left[ y \log \sigma(w^T x) \right]"),
    (r"-\sum_{i} \left[ y_i \log p_i + (1 - y_i) \log (1 - p_i) \right]",
     r"- \left[ y \log p + (1 - y) \log (1 - p) \right]"),
    (r"\sum_k y_k + c", None),                                   # a term outside the sum
    (r"\sum_i A_{ij} x_i", None),                                # the index is not only the example's
    (r"x^T A x", None),
])
def test_one_example_of(latex, one):
    assert one_example_of(latex) == one


def test_extract_reads_the_words_and_says_where_from():
    doc = ("We use row vectors. The label $y$ is one-hot.\n\n"
           r"$$s_i = \frac{e^{x_i}}{\sum_j e^{x_j}}$$" "\n\n"
           r"$$H = -\sum_i y_i \log s_i$$" "\n\n"
           r"$$\nabla_{\mathbf x} H = \mathbf s - \mathbf y$$" "\n")
    (claim,) = extract_text(doc, "n.md").claims
    assert claim.shapes == "x:1,m y:1,m:onehot"
    assert 'vectors are rows (the text, line 1: "We use row vectors")' in claim.note
    assert "y one-hot (the text, line 1" in claim.note


def test_a_bold_vector_read_only_as_a_number_is_not_checked():
    # softmax written entrywise of a vector the text never says is a row or a column: the only typing
    # makes x a number (s = 1), which is not the author's reading -- listed with what to declare
    doc = (r"$$s_i = \frac{e^{x_i}}{\sum_j e^{x_j}}$$" "\n\n" r"$$H = -\mathbf y \log \mathbf s^T$$" "\n\n"
           r"$$\nabla_{\mathbf x} H = \mathbf s - \mathbf y$$" "\n")
    found = extract_text(doc, "n.md")
    assert not found.claims
    assert any("bold: a vector" in s.reason for s in found.skipped)
