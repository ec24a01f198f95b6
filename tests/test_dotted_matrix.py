"""Matrices written with dots (symbolic_bp.derivations.dotted_matrix).

The forms of public notes: a column of index sums (the quadratic-form proof of
d(b^T A b)/db = (A + A^T) b written out entry by entry), a matrix of entries a_ij + a_ji,
a row of entries with a sum that excludes an index (the softmax cross-entropy gradient), and
rows written with plain dots ``...``.
"""
from __future__ import annotations

import pytest

from symbolic_bp.derivations.dotted_matrix import dotted_matrix, read_with_dotted_matrices
from symbolic_bp.derivations.latex_reader import Untranslatable
from symbolic_bp.language.printer import to_text


@pytest.mark.parametrize("body,text", [
    (r"\sum_i^n (a_{1i} + a_{i1}) b_i \\ \vdots \\ \sum_i^n (a_{ni} + a_{in}) b_i", "A @ b + A.T @ b"),
    (r"b_1 \\ \vdots \\ b_n", "b"),
    (r"-\frac{y_1}{p_1} & \cdots & -\frac{y_K}{p_K}", "(-(y / p)).T"),
    (r"p_1 \sum_k y_k - y_1 & \dots & p_K \sum_k y_k - y_K", "(p * sum(y) - y).T"),
    (r"x_1 - t_1 \\[0.4em] ... \\[0.4em] x_m - t_m", "x - t"),
    # bold vectors down a column: the rows of the matrices (row-vector notes), S - Y
    (r"\mathbf s_1 - \mathbf y_1 \\[0.4em] ... \\[0.4em] \mathbf s_m - \mathbf y_m", "S - Y"),
    (r"a_{11} & \cdots & a_{1n} \\ \vdots & \ddots & \vdots \\ a_{n1} & \cdots & a_{nn}", "A"),
])
def test_the_entry_the_dots_stand_for(body, text):
    assert to_text(dotted_matrix(body)) == text


@pytest.mark.parametrize("body,reason", [
    (r"b_1 \\ \vdots \\ c_n", "differ other than by an index"),
    (r"x_1 + y \\ \vdots \\ x_n", "not one entry at two indices"),
    (r"\vdots", "first and last entries"),
])
def test_what_does_not_read_says_why(body, reason):
    with pytest.raises(Untranslatable, match=reason):
        dotted_matrix(body)


def test_a_formula_with_dotted_matrices_in_it():
    latex = (r"\begin{bmatrix} a_{11} + a_{11} & \cdots & a_{1n} + a_{n1} \\ \vdots & \ddots & \vdots \\ "
             r"a_{n1} + a_{1n} & \cdots & a_{nn} + a_{nn} \end{bmatrix} \begin{bmatrix} b_1 \\ \vdots \\ b_n \end{bmatrix}")
    assert to_text(read_with_dotted_matrices(latex)) == "(A + A.T) @ b"
    assert read_with_dotted_matrices(r"\begin{bmatrix} 1 & 2 \end{bmatrix}") is None      # no dots: not this reader's
