"""The printed text of a typed tree reads back: parsed with the same declarations (NumPy's
rules on), it types to a tree of the same shape and the same value.

A reduction along an axis without ``keepdims=True`` is 1-D in NumPy, which the language holds
as a row; right of ``@`` and under ``.T`` NumPy reads a 1-D array otherwise, so the parser
refuses it there and the printer writes the row 2-D (``keepdims=True``, transposed along
axis 1).  Checked on the derived gradients of random programs of the differential tests (both
printed forms: the plain one, the claim of ``make difftest``, and the textbook one), on trees
built without NumPy's rules, and on the programs where the differential tests found the slip.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symbolic_bp.calculus.evaluate import Evaluator, NumericBackend
from symbolic_bp.calculus.gradient import gradients
from symbolic_bp.calculus.textbook import textbook_text
from symbolic_bp.errors import InputError
from symbolic_bp.language.parser import parse
from symbolic_bp.language.printer import held, is_flat, to_text
from symbolic_bp.language.shapes import Typer, parse_declarations, parse_typed

pytest.importorskip("autograd")             # tests/difftest.py compiles the programs for autograd
from tests import difftest

SIZES = {"n": 3, "k": 2, "m": 4}


def _value(tree, decls, env, sizes):
    """The value of ``tree`` at ``env``, or None where it is undefined there."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(Evaluator(NumericBackend(), sizes)(tree, env), dtype=float)
    except (ArithmeticError, ValueError, np.linalg.LinAlgError, difftest.Undefined):
        return None


def assert_reads_back(tree, text: str, decls, sizes, seed: int = 0) -> bool:
    """``text``, printed from the typed ``tree``, parses and types with NumPy's rules to a tree of
    its shape and (at a random point, where both are defined) its value; whether the values
    were compared."""
    back = parse_typed(text, decls)         # raises InputError where it does not read back
    assert back.shape == tree.shape, (text, tree.shape, back.shape)
    rng = np.random.default_rng(seed)
    env = {name: rng.uniform(0.5, 1.5, tuple(d.value(sizes) for d in s.shape)) for name, s in decls.symbols.items()}
    expected, got = _value(tree, decls, env, sizes), _value(back, decls, env, sizes)
    if expected is not None and got is not None:
        assert np.allclose(got.reshape(expected.shape), expected, rtol=1e-9, atol=1e-12, equal_nan=True), text
        return True
    return False


def _derived_texts_read_back(shapes: str, cost: str, wrt: str | None = None, sizes=SIZES) -> list[str]:
    decls = parse_declarations(shapes)
    names = [wrt] if wrt else [n for n, s in decls.symbols.items() if s.prop not in ("onehot", "binary")]
    texts = []
    for g in gradients(parse_typed(cost, decls), names, decls).values():
        for text in (to_text(g), textbook_text(g, decls)):
            assert assert_reads_back(g, text, decls, sizes), text
            texts.append(text)
    return texts


# -- the regressions of the differential tests -----------------------------------------------------

def test_a_comparison_of_a_reduction_down_the_rows_right_of_matmul_keeps_keepdims():
    """difftest seed 4750: logsumexp(..., 0, keepdims=True) right of @ was printed without keepdims."""
    plain, textbook = _derived_texts_read_back(
        "v0:k v1:k:onehot s2:scalar:positive v3:1,m v4:m X5:k,m",
        "((X5 * (sin(((v0).mean(axis=-1, keepdims=True) + relu(v1))) @ (sqrt((s2 / s2)) == "
        "np.logsumexp(np.kron(v3, v4), 0, keepdims=True))))).sum()", "X5")
    assert "axis=0, keepdims=True" in plain and "axis=0, keepdims=True" in textbook


def test_outer_with_a_reduction_along_the_rows_prints_the_row_transposed():
    """difftest seed 9640: outer(a, var(X, axis=-1)) was printed a @ <1-D reduction>."""
    plain, textbook = _derived_texts_read_back(
        "X0:n,k X1:n,n:symmetric X2:k,n:onehot X3:k,m:onehot v4:m X5:k,n",
        "((X5 * ((((X0).T @ (-X1)) * np.sqrt(np.exp(X2))) / scipy.special.expit(outer((X3 @ v4), "
        "(X0).var(axis=-1)))))).sum()", "X5")
    assert "axis=1, keepdims=True).T" in plain
    assert "axis=1, keepdims=True).T" in textbook


def test_an_entrywise_minimum_of_a_reduction_right_of_matmul_reads_back():
    """difftest seed 1735 (found by the scan of this file): minimum(std(X, axis=0) <= c, ...)."""
    _derived_texts_read_back(
        "v0:n X1:k,k:symmetric s2:scalar:positive s3:scalar:binary X4:n,k",
        "sum((X4 * (-(v0 @ minimum(((X1).std(-2, ddof=1, keepdims=True) <= log'(s2)), (s3 > np.zeros(1, 1)))))))",
        "X4")


def test_a_macro_written_back_along_the_rows_right_of_matmul_is_written_2d():
    """The textbook form writes std(X, axis=1) back: right of @ it is the row, keepdims=True and .T."""
    _, textbook = _derived_texts_read_back("a:m X:n,k W:m,n", "sum(W * outer(a, X.std(axis=1)))", "W")
    assert textbook == "a @ std(X, axis=1, keepdims=True).T"


# -- trees built without NumPy's rules (as the derivation passes build them) -------------------------

BUILT = [
    ("a:n X:n,k", "a @ sum(X, axis=1)", "sum(X, axis=1, keepdims=True).T"),
    ("a:n X:n,k", "a @ -exp(sum(X, axis=1) / 2)", "sum(X, axis=1, keepdims=True).T"),
    ("a:k X:n,k", "a @ (sum(X, axis=0) > 1)", "sum(X, axis=0, keepdims=True)"),
    ("a:k X:n,k", "a @ maximum(sum(X, axis=0), 0)", "sum(X, axis=0, keepdims=True)"),
    ("X:n,k", "sum(X, axis=0).T", "sum(X, axis=0, keepdims=True).T"),
    ("X:n,k", "(2 * sum(X, axis=1)).T", "sum(X, axis=1, keepdims=True)"),
    ("X:n,k", "sum(X, axis=1).T @ sum(X, axis=1)", "keepdims=True"),
    ("s:scalar X:n,k", "s @ sum(X, axis=0)", "keepdims=True"),
]


@pytest.mark.parametrize("shapes, text, written", BUILT)
def test_a_tree_built_without_numpys_rules_prints_text_that_reads_back(shapes, text, written):
    decls = parse_declarations(shapes)
    with pytest.raises(InputError, match="1-D in NumPy"):
        parse_typed(text, decls)            # as written, NumPy reads it otherwise: refused
    tree = Typer(decls, numpy_rules=False)(parse(text))
    printed = to_text(tree)
    assert written in printed
    assert assert_reads_back(tree, printed, decls, SIZES), printed


def test_held_leaves_what_numpy_holds_two_dimensional_as_it_is():
    decls = parse_declarations("X:n,k")
    for text in ("sum(X, axis=1, keepdims=True)", "X", "sum(X)", "exp(X) + sum(X, axis=0, keepdims=True)"):
        tree = parse_typed(text, decls)
        assert not is_flat(tree) and held(tree) is tree
    row = parse_typed("tanh(sum(X, axis=1))", decls)
    assert is_flat(row) and not is_flat(held(row)) and held(row).shape == row.shape


# -- the property: random programs of the differential tests ---------------------------------------

def _program_reads_back(seed: int) -> None:
    program = difftest.generate(seed)
    try:
        comparison = difftest.Comparison(program)
    except InputError:                      # the generator's slip (a program the type pass refuses)
        return
    for g in comparison.grads.values():
        for text in (to_text(g), textbook_text(g, comparison.decls)):
            assert_reads_back(g, text, comparison.decls, program.sizes, seed)


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(st.integers(0, 2**40))
def test_derived_gradients_of_random_programs_read_back(seed):
    _program_reads_back(seed)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.integers(0, 2**40))
def test_derived_gradients_of_many_random_programs_read_back(seed):
    _program_reads_back(seed)
