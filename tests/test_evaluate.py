"""Unit tests for symbolic_bp.calculus.evaluate: the exact (SymPy) and numeric (NumPy)
backends must agree, node type by node type, on random rational inputs."""
from __future__ import annotations

import random
import zlib
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from symbolic_bp.core import elementwise as functions
from symbolic_bp.calculus.evaluate import Evaluator, ExactBackend, NumericBackend
from symbolic_bp.core.elementwise import Opaque
from symbolic_bp.language.shapes import concrete, parse_declarations, parse_typed
from symbolic_bp.core.expression import Add, Apply, Broadcast, Call, Scale, Sub
from symbolic_bp.core.registry import operation

DECLS = parse_declarations("A:m,n B:m,n C:p,q X:n,n Y:n,n x:n y:m s:scalar t:scalar u:1 K:2,4 Z:m,n "
                           "sigma:function g:function")
SIZES = {"m": 2, "n": 3, "p": 2, "q": 4}
SEED = 3


def rational_env(seed: int) -> dict:
    r = random.Random(seed)

    def rat(nonzero=False):
        while True:
            value = sp.Rational(r.randint(-9, 9), r.randint(1, 9))
            if value != 0 or not nonzero:
                return value
    env = {name: sp.Matrix(*concrete(sym.shape, SIZES), lambda i, j: rat())
           for name, sym in DECLS.symbols.items()}
    n = SIZES["n"]
    env["X"] = env["X"] + 4 * sp.eye(n)           # invertible, positive determinant
    env["Y"] = env["Y"] + 4 * sp.eye(n)
    env["s"] = sp.Matrix([[rat(nonzero=True)]])
    env["t"] = sp.Matrix([[rat(nonzero=True)]])
    env["Z"] = sp.Matrix([[0, sp.Rational(1, 2)], [-1, 0], [0, 3]]).T   # zeros: the kink of relu
    return env


def float_env(env: dict) -> dict:
    return {name: np.array(m.tolist(), dtype=float) for name, m in env.items()}


def to_float(m: sp.Matrix, seed: int = SEED) -> np.ndarray:
    """An exact result as floats; opaque functions get the numeric backend's family."""
    def opaque_value(e):
        return sp.Float(float(functions.numeric(e.base_name, e.order, seed)(float(e.args[0]))), 30)
    out = np.empty(m.shape)
    for i in range(m.rows):
        for j in range(m.cols):
            e = m[i, j].replace(lambda a: isinstance(a, Opaque), opaque_value)
            out[i, j] = float(sp.re(sp.N(e.rewrite(sp.exp), 30)))
    return out


def both(text: str, env: dict | None = None):
    node = parse_typed(text, DECLS)
    env = env or rational_env(zlib.crc32(text.encode()))
    exact = Evaluator(ExactBackend(), SIZES, seed=SEED)(node, env)
    with np.errstate(all="ignore"):
        numeric = Evaluator(NumericBackend(), SIZES, seed=SEED)(node, float_env(env))
    return node, exact, numeric


# every node type, every variant of a core node, every registered function
EXPRESSIONS = [
    # leaves
    ("Num", "3"),
    ("Num-fraction", "0.25"),
    ("Sym-matrix", "A"),
    ("Sym-vector", "x"),
    ("Sym-scalar", "s"),
    ("Sym-1x1", "u"),
    # unary
    ("Neg", "-A"),
    ("Transpose", "A.T"),
    ("Transpose-vector", "x.T"),
    # + and - with every kind
    ("Add-same", "A + B"),
    ("Add-bcast_l", "s + A"),
    ("Add-bcast_r", "A + 2"),
    ("Sub-same", "A - B"),
    ("Sub-bcast_l", "1 - A"),
    ("Sub-bcast_r", "x - t"),
    # products with every kind
    ("MatMul-mat", "A @ X"),
    ("MatMul-chain", "y.T @ A @ x"),
    ("MatMul-outer", "x @ y.T"),
    ("MatMul-scale_l", "(x.T @ x) @ A"),
    ("MatMul-scale_r", "A @ u"),
    ("Mul-hadamard", "A * B"),
    ("Mul-scale_l", "s * A"),
    ("Mul-scale_r", "A * u"),
    ("Div", "A / s"),
    ("Div-by-1x1", "x / (y.T @ y)"),
    ("Div-numbers", "1 / 3"),
    # powers of scalars
    ("Pow-positive", "s ** 3"),
    ("Pow-negative", "t ** -2"),
    ("Pow-zero", "s ** 0"),
    ("Pow-of-1x1", "(x.T @ x) ** 2"),
    # known elementwise functions and their derivatives
    *[(f"{f}{chr(39) * k}", f"{f}{chr(39) * k}(A)") for f in ("sigmoid", "tanh", "relu", "softplus", "exp")
      for k in range(4)],
    *[(f"log{chr(39) * k}", f"log{chr(39) * k}(A * A + 1)") for k in range(4)],
    *[(f"{f}{chr(39) * k}", f"{f}{chr(39) * k}(A)") for f in ("abs", "sign", "sin", "cos") for k in range(4)],
    *[(f"sqrt{chr(39) * k}", f"sqrt{chr(39) * k}(A * A + 1)") for k in range(4)],
    ("relu-at-zero", "relu(Z) + relu'(Z)"),
    ("abs-at-zero", "abs(Z) + abs'(Z) + sign(Z)"),
    ("relu''-at-zero", "relu''(Z) + relu'''(Z)"),
    # opaque functions (the exact result is mapped through the same random family)
    ("opaque", "sigma(A)"),
    ("opaque-derivatives", "sigma'(A) + sigma''(A) * g'''(B)"),
    ("opaque-nested", "sigma(g(A) @ x)"),
    # matrix functions
    ("sum", "sum(A)"),
    ("tr", "tr(X)"),
    ("tr-1x1", "tr(u)"),
    ("det", "det(X)"),
    ("det-1x1", "det(s)"),
    ("logdet", "logdet(X)"),
    ("inv", "inv(X)"),
    ("inv-1x1", "inv(t)"),
    ("pinv", "pinv(X) + pinv(x).T @ y.T @ A"),
    ("diag-diagonal", "diag(x) + diag(diagonal(X))"),
    ("norm", "norm(A)"),
    ("norm-vector", "norm(x)"),
    ("kron", "kron(A, C)"),
    ("kron-vectors", "kron(x, y.T)"),
    ("kron-scalar", "kron(s, A)"),
    ("matrix_power", "matrix_power(X, 3)"),
    ("matrix_power-1", "matrix_power(X, 1)"),
    ("matrix_power-0", "matrix_power(X, 0)"),
    ("matrix_power-negative", "matrix_power(X, -2)"),
    ("eye", "eye(n)"),
    ("eye-literal", "eye(2)"),
    ("ones", "ones(m, n)"),
    ("ones-product-dims", "ones(2 * n, m * n)"),
    ("blocksum", "blocksum(kron(A, C), p, q)"),
    ("blocksum-literal", "blocksum(K, 1, 2)"),
    ("blocksum-of-product-dims", "blocksum(ones(m * n, 2 * n * p) * kron(A, ones(n, 2 * p)), n, 2 * p)"),
    ("tilesum", "tilesum(kron(A, C), m, n)"),
    ("tilesum-literal", "tilesum(K, 2, 2)"),
    ("tilesum-of-non-kron", "tilesum(kron(A, C) * kron(B, C), m, n)"),
    # the NumPy dialect: broadcast rows and columns, entrywise division and powers, comparisons,
    # maximum / minimum, reductions along an axis, sizes, and the macros over them
    ("Broadcast-row", "A + A.sum(axis=0)"),
    ("Broadcast-column", "A * np.sum(A, axis=1, keepdims=True) - y"),
    ("Broadcast-outer", "x.T * y"),
    ("divide", "A / (B * B + 1)"),
    ("divide-by-row", "A / (1 + A.max(axis=0) ** 2)"),
    ("divide-scalar-by-matrix", "1 / (A * A + 1)"),
    ("power-integer", "A ** 3 + B ** -2"),
    ("power-real", "(A * A + 1) ** 0.5 + (B * B + 2) ** (-3/2)"),
    ("comparisons", "(A > B) + (A >= 0) - (A < B) * (A <= B) + (Z == 0) + (Z != 0)"),
    ("maximum-minimum", "np.maximum(0, A) + np.minimum(A, B) + maximum(A, x.T @ x)"),
    ("sum-axes", "sum(A, axis=0) + sum(A, axis=1) @ ones(m, n) + sum(A, axis=None)"),
    ("max-min-axes", "A.max(axis=1, keepdims=True) - A.min(axis=0) + A.max() + np.min(A, 1, keepdims=True)"),
    ("size", "sum(A) / n + m * s - (n - 1) / (m * n)"),
    ("mean-var-std", "A.mean(axis=0) + A.var(axis=0) + np.std(A + B * B, axis=1, ddof=1, keepdims=True)"),
    ("softmax", "softmax(A, axis=1) + log_softmax(A, axis=0) + logsumexp(A, axis=1, keepdims=True)"),
    ("like-outer-diagflat", "ones_like(A) + zeros_like(A) + np.outer(y, x) + A @ np.diagflat(x.T) @ X"),
    ("zeros-square", "np.zeros((m, n)) + np.square(A) + zeros(1, n)"),
    # a mixture of everything
    ("mixture", "sum(sigmoid(A @ inv(X) + s) * B) / t ** 2 - det(X) * tr(matrix_power(Y, -1)) + norm(kron(x, y))"),
]


@pytest.mark.parametrize("text", [e for _, e in EXPRESSIONS], ids=[i for i, _ in EXPRESSIONS])
def test_exact_and_numeric_backends_agree(text):
    node, exact, numeric = both(text)
    assert isinstance(exact, sp.MatrixBase)
    assert isinstance(numeric, np.ndarray) and numeric.dtype == np.float64 and numeric.ndim == 2
    expected_shape = concrete(node.shape, SIZES)
    assert exact.shape == numeric.shape == expected_shape
    assert np.all(np.isfinite(numeric))
    np.testing.assert_allclose(numeric, to_float(exact), rtol=1e-10, atol=1e-10)


def variant(n) -> tuple:
    """A typed node's type and, for the ones with variants, which one."""
    if isinstance(n, (Add, Sub)):
        side = "bcast_l" if isinstance(n.left, Broadcast) else "bcast_r" if isinstance(n.right, Broadcast) else "same"
        return (type(n).__name__, side)
    if isinstance(n, Scale):
        return ("Scale", n.written, "scalar_left" if n.scalar is n.left else "scalar_right")
    return (type(n).__name__,)


def test_the_table_covers_every_node_type_variant_and_function():
    from symbolic_bp.core import registry
    from symbolic_bp.core.expression import Binary, Mul, Node
    import symbolic_bp.core.expression as ex
    surface_only = {Mul, Binary}
    node_types = {c.__name__ for c in vars(ex).values()
                  if isinstance(c, type) and issubclass(c, Node) and c is not Node and c not in surface_only}
    seen, variants, names = set(), set(), set()
    for _, text in EXPRESSIONS:
        for n in parse_typed(text, DECLS).walk():
            seen.add(type(n).__name__)
            variants.add(variant(n))
            if isinstance(n, (Call, Apply)):
                names.add((n.name, getattr(n, "order", 0)))
    assert seen == node_types
    assert {(op, side) for op in ("Add", "Sub") for side in ("same", "bcast_l", "bcast_r")} \
        | {("Scale", w, side) for w in "*@" for side in ("scalar_left", "scalar_right")} \
        | {("Hadamard",), ("MatMul",)} <= variants
    registry.operation("tr")    # the tables are filled on first use
    assert {(f, 0) for f in registry.OPERATIONS} <= names
    assert {(f, k) for f in registry.ELEMENTWISE for k in range(4)} <= names


EXACT_RATIONAL = [e for i, e in EXPRESSIONS
                  if not any(f in e for f in ("sigmoid", "tanh", "softplus", "exp", "log", "sigma", "norm", "g(",
                                              "sqrt", "sin", "cos", "std", "softmax", "0.5", "3/2"))]


@pytest.mark.parametrize("text", EXACT_RATIONAL, ids=[i for i, e in EXPRESSIONS if e in EXACT_RATIONAL])
def test_exact_backend_stays_rational(text):
    _, exact, _ = both(text)
    assert all(entry.is_Rational for entry in exact), exact


def test_exact_backend_on_symbols_gives_the_polynomial():
    a = sp.Matrix(2, 3, lambda i, j: sp.Symbol(f"a{i}{j}"))
    xs = sp.Matrix(3, 1, lambda i, j: sp.Symbol(f"x{i}"))
    ys = sp.Matrix(2, 1, lambda i, j: sp.Symbol(f"y{i}"))
    value = Evaluator(ExactBackend(), SIZES)(parse_typed("y.T @ A @ x", DECLS), {"A": a, "x": xs, "y": ys})
    expected = sum(ys[i] * a[i, j] * xs[j] for i in range(2) for j in range(3))
    assert sp.expand(value[0, 0] - expected) == 0


def test_exact_apply_expands_the_argument():
    a, b = sp.symbols("a b")
    out = ExactBackend().apply("sigma", 1, sp.Matrix([[(a + b) * (a - b)]]), 0)
    assert out[0, 0] == functions.opaque_class("sigma", 1)(a ** 2 - b ** 2)


def test_numeric_opaque_depends_on_the_seed():
    node = parse_typed("sigma(A)", DECLS)
    env = float_env(rational_env(0))
    first = Evaluator(NumericBackend(), SIZES, seed=1)(node, env)
    second = Evaluator(NumericBackend(), SIZES, seed=2)(node, env)
    again = Evaluator(NumericBackend(), SIZES, seed=1)(node, env)
    assert np.array_equal(first, again)
    assert not np.allclose(first, second)


# -- the adjoint helpers on explicit matrices --------------------------------------------


G = np.arange(24.0).reshape(4, 6)


def test_blocksum_sums_each_block():
    expected = np.array([[G[0:2, 0:3].sum(), G[0:2, 3:6].sum()],
                         [G[2:4, 0:3].sum(), G[2:4, 3:6].sum()]])
    np.testing.assert_array_equal(operation("blocksum").numeric(G, 2, 3), expected)
    exact = operation("blocksum").exact(sp.Matrix(G.astype(int).tolist()), 2, 3)
    assert exact == sp.Matrix(expected.astype(int).tolist())


def test_tilesum_sums_the_grid_of_blocks():
    # a 2 x 2 grid of 2 x 3 blocks: the result is the sum of the four blocks
    expected = G[0:2, 0:3] + G[0:2, 3:6] + G[2:4, 0:3] + G[2:4, 3:6]
    np.testing.assert_array_equal(operation("tilesum").numeric(G, 2, 2), expected)
    exact = operation("tilesum").exact(sp.Matrix(G.astype(int).tolist()), 2, 2)
    assert exact == sp.Matrix(expected.astype(int).tolist())


@pytest.mark.parametrize("backend", [NumericBackend(), ExactBackend()], ids=["numeric", "exact"])
def test_blocksum_and_tilesum_are_the_adjoints_of_kron(backend):
    # <kron(a, b), G> = <a, blocksum(G * kron(1, b))> = <b, tilesum(G * kron(a, 1))>
    rng = np.random.default_rng(0)
    a, b, g = rng.integers(-5, 5, (2, 3)), rng.integers(-5, 5, (2, 2)), rng.integers(-5, 5, (4, 6))
    conv = (lambda m: np.asarray(m, dtype=float)) if isinstance(backend, NumericBackend) else \
        (lambda m: sp.Matrix(m.tolist()))
    A_, B_, G_ = conv(a), conv(b), conv(g)
    inner = float(np.sum(np.kron(a, b) * g))
    def op(name, args, params=()):
        return backend.call(operation(name), args, params)
    bs = op("blocksum", [backend.hadamard(G_, op("kron", [op("ones", [], (2, 3)), B_]))], (2, 2))
    ts = op("tilesum", [backend.hadamard(G_, op("kron", [A_, op("ones", [], (2, 2))]))], (2, 3))
    assert float(np.sum(np.asarray(bs, dtype=float) * a)) == inner
    assert float(np.sum(np.asarray(ts, dtype=float) * b)) == inner


def test_kron_matches_numpy():
    a, b = np.arange(6).reshape(2, 3), np.arange(4).reshape(2, 2) - 1
    exact = operation("kron").exact(sp.Matrix(a.tolist()), sp.Matrix(b.tolist()))
    assert exact == sp.Matrix(np.kron(a, b).tolist())
    np.testing.assert_array_equal(operation("kron").numeric(a, b), np.kron(a, b))


# -- errors and non-finite values ------------------------------------------------------


@pytest.mark.parametrize("text", ["A / (s - s)", "(s - s) ** -1", "x / (0 * t)"],
                         ids=["divide-by-zero", "zero-to-negative-power", "divide-by-zero-product"])
@pytest.mark.parametrize("backend", ["exact", "numeric"])
def test_division_by_zero_raises_in_both_backends(text, backend):
    node = parse_typed(text, DECLS)
    env = rational_env(0)
    evaluator = Evaluator(ExactBackend() if backend == "exact" else NumericBackend(), SIZES)
    with pytest.raises(ZeroDivisionError):
        evaluator(node, env if backend == "exact" else float_env(env))


SINGULAR = sp.Matrix([[1, 2, 3], [2, 4, 6], [0, 1, 1]])


@pytest.mark.parametrize("text", ["inv(X)", "matrix_power(X, -1)", "tr(inv(X) @ Y)"],
                         ids=["inv", "negative-power", "inside"])
def test_singular_matrix_exact_raises_numeric_gives_nan(text):
    node = parse_typed(text, DECLS)
    env = dict(rational_env(0), X=SINGULAR)
    with pytest.raises(ZeroDivisionError):
        Evaluator(ExactBackend(), SIZES)(node, env)
    with np.errstate(all="ignore"):
        value = Evaluator(NumericBackend(), SIZES)(node, float_env(env))
    assert np.all(np.isnan(value))


def test_numeric_logdet_of_a_negative_determinant_is_nan():
    env = float_env(dict(rational_env(0), X=sp.diag(-1, 2, 3)))
    value = Evaluator(NumericBackend(), SIZES)(parse_typed("logdet(X)", DECLS), env)
    assert value.shape == (1, 1) and np.isnan(value[0, 0])
    positive = float_env(dict(rational_env(0), X=sp.diag(1, 2, 3)))
    assert Evaluator(NumericBackend(), SIZES)(parse_typed("logdet(X)", DECLS), positive)[0, 0] == pytest.approx(np.log(6))


def test_numeric_power_of_zero_with_negative_exponent_is_inf():
    assert NumericBackend().power(0.0, -2)[0, 0] == np.inf
    assert NumericBackend().power(-2.0, 3)[0, 0] == -8.0
    assert ExactBackend().power(sp.Rational(-1, 2), -3)[0, 0] == -8


def test_constants():
    assert ExactBackend().const(Fraction(-3, 4))[0, 0] == sp.Rational(-3, 4)
    assert NumericBackend().const(Fraction(-3, 4))[0, 0] == -0.75
