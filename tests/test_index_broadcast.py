"""Index notation read by broadcasting (symbolic_bp.derivations.index_broadcast).

Each reading is checked twice: its text (what a user sees in the report), and its meaning, by
evaluating it on random matrices and comparing with the index expression computed entry by
entry with explicit Python loops (written here by hand from the LaTeX, independent of the
reader).  The forms are the ones public notes use: the softmax written entrywise, the
softmax cross-entropy gradient with a sum that excludes an index (sum over k != i), the
logistic-regression gradient summed over examples x_i (Bishop, *Pattern Recognition and
Machine Learning*, eq. 4.91; Stanford CS229 notes, part II), a linear layer's gradient as a
sum of outer products (Nielsen, *Neural Networks and Deep Learning*, ch. 2, eq. BP4 summed
over a batch).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from symbolic_bp.calculus.evaluate import Evaluator, NumericBackend
from symbolic_bp.derivations.index_broadcast import BroadcastError, broadcast_expression
from symbolic_bp.derivations.index_notation import entry_expression
from symbolic_bp.language.printer import to_text
from symbolic_bp.language.shapes import parse_declarations, parse_typed

N, M, K = 4, 3, 5          # entries of a vector, features, examples
RNG = np.random.default_rng(7)
VALUES = {
    "a": RNG.uniform(0.2, 1.0, (N, 1)), "y": RNG.uniform(0.0, 1.0, (N, 1)), "z": RNG.normal(size=(N, 1)),
    "A": RNG.normal(size=(N, N)), "x": RNG.normal(size=(N, 1)),
    "w": RNG.normal(size=(M, 1)), "X": RNG.normal(size=(K, M)), "t": RNG.uniform(0, 1, (K, 1)),
    "W": RNG.normal(size=(2, M)), "T_": RNG.normal(size=(K, 2)),
}
DECLS = {"a": "a:n", "y": "y:n", "z": "z:n", "A": "A:n,n", "x": "x:n", "w": "w:m", "X": "X:k,m", "t": "t:k",
         "W": "W:h,m", "T_": "T_:k,h"}
SIZES = {"n": N, "m": M, "k": K, "h": 2}


def sig(u):
    return 1 / (1 + math.exp(-u))


v = VALUES
# (LaTeX, free indices, the reading's text, the value entry by entry from loops over the LaTeX)
CASES = [
    (r"-\sum_k y_k \log a_k", (), "-sum(y * log(a))",
     lambda: -sum(v["y"][k, 0] * math.log(v["a"][k, 0]) for k in range(N))),
    (r"a_i \sum_k y_k - y_i", ("i",), "a * sum(y) - y",
     lambda: [[v["a"][i, 0] * v["y"].sum() - v["y"][i, 0]] for i in range(N)]),
    (r"\frac{e^{z_j}}{\sum_k e^{z_k}}", ("j",), "exp(z) / sum(exp(z))",
     lambda: [[math.exp(v["z"][j, 0]) / sum(math.exp(v["z"][k, 0]) for k in range(N))] for j in range(N)]),
    (r"\frac{e^{z_i}}{\sum e^{z_j}}", ("i",), "exp(z) / sum(exp(z))",     # a bare \sum: over j
     lambda: [[math.exp(v["z"][i, 0]) / sum(math.exp(v["z"][k, 0]) for k in range(N))] for i in range(N)]),
    (r"-y_i(1-a_i) - \sum_{k\neq i} y_k \frac{1}{a_k}(-a_ka_i)", ("i",),
     "-(y * (1 - a)) - (sum(y.T * (1 / a.T) * -(a.T * a), axis=1, keepdims=True) - y * (1 / a) * -(a * a))",
     lambda: [[-v["y"][i, 0] * (1 - v["a"][i, 0]) - sum(v["y"][k, 0] / v["a"][k, 0] * -v["a"][k, 0] * v["a"][i, 0]
                                                         for k in range(N) if k != i)] for i in range(N)]),
    (r"\sum_{j} A_{kj} x_j \, x_k", ("k",), "sum(A * x.T * x, axis=1, keepdims=True)",     # the sum takes the term
     lambda: [[sum(v["A"][k, j] * v["x"][j, 0] for j in range(N)) * v["x"][k, 0]] for k in range(N)]),
    (r"\sum_j A_{kj} A_{kj}", ("k",), "sum(A * A, axis=1, keepdims=True)",      # a free index twice: entrywise
     lambda: [[sum(v["A"][k, j] ** 2 for j in range(N))] for k in range(N)]),
    (r"\sum_{i} A_{ik} x_i^2", ("k",), None,
     lambda: [[sum(v["A"][i, k] * v["x"][i, 0] ** 2 for i in range(N))] for k in range(N)]),
    (r"- \sum_{i=1}^n \left[ t_i - \sigma(w^T x_i) \right] x_i", (),
     "-sum((t.T - sigma(w.T @ X.T)) * X.T, axis=1, keepdims=True)",
     lambda: [[-sum((v["t"][i, 0] - sig(float(v["w"][:, 0] @ v["X"][i, :]))) * v["X"][i, r] for i in range(K))]
              for r in range(M)]),
    (r"- \sum_{i} \left[ t_i \log \sigma(w^T x_i) + (1 - t_i) \log \left(1 - \sigma(w^T x_i) \right) \right]", (),
     "-sum(t.T * log(sigma(w.T @ X.T)) + (1 - t.T) * log(1 - sigma(w.T @ X.T)), axis=1, keepdims=True)",
     lambda: -sum(v["t"][i, 0] * math.log(sig(float(v["w"][:, 0] @ v["X"][i, :])))
                  + (1 - v["t"][i, 0]) * math.log(1 - sig(float(v["w"][:, 0] @ v["X"][i, :]))) for i in range(K))),
    (r"\sum_i (W x_i - t_i) x_i^T", (), "(W @ X.T - T_.T) @ X",        # T is the transpose's name: T_
     lambda: sum(np.outer(v["W"] @ v["X"][i, :] - v["T_"][i, :], v["X"][i, :]) for i in range(K))),
    (r"\frac12\sum_i (W x_i - t_i)^T (W x_i - t_i)", (), None,
     lambda: 0.5 * sum(float((v["W"] @ v["X"][i, :] - v["T_"][i, :]) @ (v["W"] @ v["X"][i, :] - v["T_"][i, :]))
                       for i in range(K))),
]


def _value(node) -> np.ndarray:
    names = {n.name for n in node.walk() if hasattr(n, "name") and n.name in VALUES}
    decls = parse_declarations(" ".join(DECLS[n] for n in sorted(names)) + " sigma:function")
    typed = parse_typed(to_text(node), decls)
    env = {n: VALUES[n] for n in names}
    return np.asarray(Evaluator(NumericBackend(), SIZES)(_with_sigmoid(typed), env), dtype=float)


def _with_sigmoid(typed):
    """sigma, left opaque by the reader, evaluated as the sigmoid (the loops' sig)."""
    from symbolic_bp.core.expression import Apply, substitute
    return substitute(typed, lambda n: Apply(name="sigmoid", arg=n.arg, order=n.order, shape=n.shape)
                      if isinstance(n, Apply) and n.name == "sigma" else None)


@pytest.mark.parametrize("latex,free,text,loops", CASES, ids=[c[0][:40] for c in CASES])
def test_reading_means_what_the_loops_compute(latex, free, text, loops):
    node = broadcast_expression(latex, free)
    if text is not None:
        assert to_text(node) == text
    want = np.atleast_2d(np.asarray(loops(), dtype=float))
    got = _value(node)
    assert got.shape == want.shape or got.size == want.size == 1, (got.shape, want.shape)
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("latex,free,reason", [
    (r"A_{ii}", ("i",), "a diagonal entry"),
    (r"x_k", ("i",), "neither free nor summed"),
    (r"\sum_k c", (), "of a term without 'k'"),
    (r"\sum_i \sum_j \sum_k A_{ij} B_{jk} C_{ki}", (), "three axes"),
    (r"x_i [y_i - \sigma(w^T x_i)]^T", (), "the index 'i' of x_i is neither free nor summed"),
    (r"\sum_i (x_i^T + x_i)", (), "a row and a column"),
    (r"\sum x_i y_j", (), "open indices i, j"),
    (r"\sum_{i} x_i x_i^T", ("i",), "a free index i of vectors"),
])
def test_what_does_not_read_says_why(latex, free, reason):
    with pytest.raises(BroadcastError, match=reason.replace("(", r"\(")):
        broadcast_expression(latex, free)


def test_entry_expression_keeps_the_matrix_products_and_falls_back():
    # a product of matrices is still read as one (A @ x); an entrywise product falls back
    assert to_text(entry_expression(r"\sum_{j} A_{kj} x_j", ("k",))) == "A @ x"
    assert to_text(entry_expression(r"a_i \sum_k y_k - y_i", ("i",))) == "a * sum(y) - y"


def test_a_transposed_vector_is_never_read_as_a_number():
    # the product reader once read w^T beside entries as a scalar factor (phi(w * x)): refused now,
    # and the broadcasting reader reads the x_i as the columns of X
    node = entry_expression(r"- \sum_{i=1}^n \left[ y_i - \phi(w^T x_i) \right] x_i", ())
    assert "w.T @ X.T" in to_text(node)
