"""Unit tests for symbolic_bp.calculus.gradient (reverse-mode rules) and
symbolic_bp.calculus.simplify: the text of derived gradients for standard identities,
and -- the main point -- that every derived gradient is numerically right,
checked against central finite differences of the cost."""
from __future__ import annotations

import random
import zlib

import numpy as np
import pytest

from symbolic_bp.core import elementwise as functions
from symbolic_bp.calculus.evaluate import Evaluator, NumericBackend
from symbolic_bp.core.expression import Call
from symbolic_bp.calculus.gradient import gradient, gradients
from symbolic_bp.language.printer import to_text
from symbolic_bp.language.shapes import concrete, is_scalar, parse_declarations, parse_typed
from symbolic_bp.calculus.simplify import simplify

DECLS = parse_declarations(
    "A:m,n B:m,n W:n,m C:p,q E:p,q X:n,n Y:n,n S:n,n:symmetric P:n,n:spd "
    "x:n z:n y:m s:scalar t:scalar u:1 H:4,6 sigma:function g:function"
)
SIZES = {"m": 2, "n": 3, "p": 2, "q": 4}
SEED = 11          # picks the random smooth member standing for each opaque function


def derive(cost: str, wrt: str, decls=DECLS) -> str:
    return to_text(gradient(parse_typed(cost, decls), wrt, decls))


# -- the derived text of standard identities ---------------------------------------

IDENTITIES = [
    ("y.T @ A @ x", "A", {"y @ x.T"}),
    ("y.T @ A @ x", "x", {"A.T @ y"}),
    ("y.T @ A @ x", "y", {"A @ x"}),
    ("1/2 * x.T @ A.T @ A @ x", "A", {"A @ x @ x.T"}),
    ("x.T @ Y @ x", "x", {"(Y + Y.T) @ x"}),
    ("x.T @ Y @ x", "Y", {"x @ x.T"}),
    ("x.T @ S @ x", "x", {"2 * (S @ x)", "2 * S @ x", "S @ x * 2"}),
    ("x.T @ x", "x", {"2 * x"}),
    ("tr(X)", "X", {"eye(n)"}),
    ("tr(X.T)", "X", {"eye(n)"}),
    ("tr(X @ Y)", "X", {"Y.T"}),
    ("tr(X @ X)", "X", {"2 * X.T"}),
    ("tr(inv(X))", "X", {"-matrix_power(X, -2).T"}),
    ("det(X)", "X", {"det(X) * inv(X).T"}),
    ("det(S)", "S", {"det(S) * inv(S)"}),
    ("logdet(X)", "X", {"inv(X).T"}),
    ("logdet(P)", "P", {"inv(P)"}),
    ("tr(matrix_power(X, 2))", "X", {"2 * X.T"}),
    ("tr(matrix_power(X, -1))", "X", {"-matrix_power(X, -2).T"}),
    ("sum(kron(A, C))", "A", {"sum(C) * ones(m, n)"}),
    ("sum(kron(A, C))", "C", {"sum(A) * ones(p, q)"}),
    ("sum(A)", "A", {"ones(m, n)"}),
    ("sum(A * B)", "A", {"B"}),
    ("norm(A)", "A", {"A / norm(A)"}),
    ("sum(sigmoid(A @ x))", "x", {"A.T @ sigmoid'(A @ x)"}),
    ("sum(sigma(A @ x))", "x", {"A.T @ sigma'(A @ x)"}),
    ("y.T @ sigma(A @ x)", "A", {"y * sigma'(A @ x) @ x.T"}),
    ("sum(sigma'(A))", "A", {"sigma''(A)"}),
    ("sum(sigma(sigma(A)))", "A", {"sigma'(sigma(A)) * sigma'(A)"}),
    ("s ** 3", "s", {"3 * s**2"}),
    ("s ** -2", "s", {"-2 / s**3"}),
    ("s ** 1", "s", {"1"}),
    ("s * sum(A)", "s", {"sum(A)"}),
    ("sum(A) / s", "A", {"1 / s * ones(m, n)", "ones(m, n) / s"}),
    ("sum(1 - A)", "A", {"-ones(m, n)"}),
    ("-tr(X)", "X", {"-eye(n)"}),
    # no dependence: the gradient is the number 0
    ("x.T @ x", "A", {"0"}),
    ("s ** 0", "s", {"0"}),
]


@pytest.mark.parametrize("cost, wrt, texts", IDENTITIES, ids=[f"d({c})/d{w}" for c, w, _ in IDENTITIES])
def test_derived_text(cost, wrt, texts):
    assert derive(cost, wrt) in texts


def test_derived_gradient_is_typed_with_the_shape_of_the_variable():
    for cost, wrt in [("y.T @ A @ x", "A"), ("y.T @ A @ x", "x"), ("tr(inv(X))", "X"), ("s * sum(A)", "s"),
                      ("sum(kron(A, C))", "A"), ("sum(tilesum(kron(A, C), m, n) * E)", "C"), ("sum(A) / s", "A")]:
        g = gradient(parse_typed(cost, DECLS), wrt, DECLS)
        assert g.shape == DECLS.symbols[wrt].shape
        assert all(n.shape is not None for n in typed_nodes(g))


def typed_nodes(node):
    """The nodes that must carry a shape: all but the dimension arguments."""
    yield node
    if isinstance(node, Call) and node.name in ("eye", "ones"):
        return
    children = node.children()
    if isinstance(node, Call) and node.name in ("blocksum", "tilesum"):
        children = children[:1]
    for child in children:
        yield from typed_nodes(child)


def test_gradients_for_several_variables_at_once():
    out = gradients(parse_typed("y.T @ A @ x", DECLS), ["x", "A", "y", "s"], DECLS)
    assert list(out) == ["x", "A", "y", "s"]
    assert {k: to_text(v) for k, v in out.items()} == {"x": "A.T @ y", "A": "y @ x.T", "y": "A @ x", "s": "0"}


def test_the_cost_must_be_a_scalar():
    with pytest.raises(ValueError, match="the cost must be a scalar"):
        gradient(parse_typed("A @ x", DECLS), "A", DECLS)


def test_symmetric_declaration_changes_only_the_printed_form():
    # x.T S x: (S + S.T) x, which is 2 S x only because S is declared symmetric
    plain = parse_declarations("S:n,n x:n")
    assert derive("x.T @ S @ x", "x", plain) == "(S + S.T) @ x"


# -- numeric correctness: derived gradient vs central finite differences ----------------


def draw_env(rng: np.random.Generator) -> dict:
    def normal(name):
        return rng.standard_normal(concrete(DECLS.symbols[name].shape, SIZES))
    n = SIZES["n"]
    env = {name: normal(name) for name in DECLS.symbols}
    # well-conditioned square matrices with a positive determinant (inv, det, logdet, negative powers)
    env["X"] = 3 * np.eye(n) + 0.5 * env["X"]
    env["Y"] = 3 * np.eye(n) + 0.5 * env["Y"]
    env["S"] = (env["S"] + env["S"].T) / 2 + 3 * np.eye(n)
    env["P"] = env["P"] @ env["P"].T / n + np.eye(n)
    # scalars bounded away from 0 (divisions, negative powers)
    env["s"] = np.array([[rng.uniform(0.8, 1.6)]])
    env["t"] = np.array([[rng.uniform(-1.6, -0.8)]])
    env["u"] = np.array([[rng.uniform(0.8, 1.6)]])
    return env


def evaluate(node, env):
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        return Evaluator(NumericBackend(), SIZES, seed=SEED)(node, env)


def finite_differences(cost, env, wrt, h=1e-6):
    value = env[wrt]
    out = np.empty_like(value)
    for index in np.ndindex(value.shape):
        plus, minus = value.copy(), value.copy()
        plus[index] += h
        minus[index] -= h
        out[index] = (evaluate(cost, {**env, wrt: plus})[0, 0] - evaluate(cost, {**env, wrt: minus})[0, 0]) / (2 * h)
    return out


def derived_value(cost, wrt, env):
    g = gradient(cost, wrt, DECLS)
    value = evaluate(g, env)
    shape = env[wrt].shape
    if value.shape != shape:                   # the number 0 stands for a zero matrix
        assert value.shape == (1, 1) and value[0, 0] == 0, to_text(g)
        value = np.zeros(shape)
    return g, value


def assert_gradient_matches_fd(cost_text, wrt, rng, tol=1e-6):
    cost = parse_typed(cost_text, DECLS)
    assert is_scalar(cost.shape)
    env = draw_env(rng)
    g, value = derived_value(cost, wrt, env)
    fd = finite_differences(cost, env, wrt)
    err = np.max(np.abs(value - fd)) / max(1.0, np.max(np.abs(fd)))
    assert err < tol, f"d({cost_text})/d{wrt} = {to_text(g)}: relative error {err:.2e}"
    return fd


# (id, cost, the variables to differentiate by, the rules it exercises)
COSTS = [
    ("bilinear", "y.T @ A @ x", "A x y"),                                   # MatMul mat, Transpose
    ("least-squares", "1/2 * x.T @ A.T @ A @ x", "A x"),                    # Div by a constant, scale_l
    ("quadratic", "x.T @ X @ x", "X x"),
    ("quadratic-symmetric", "x.T @ S @ x", "S x"),                          # S.T = S in simplify
    ("hadamard", "sum(A * B * A)", "A B"),                                  # Mul hadamard, sum
    ("scale-left", "s * sum(A * A)", "s A"),                                # Mul scale_l
    ("scale-right", "sum((A * A) * s)", "s A"),                             # Mul scale_r
    ("divide", "sum(A * A / s)", "A s"),                                    # Div, both operands
    ("divide-by-product", "sum(A) / (s * t) + y.T @ y / s", "s t y"),
    ("powers", "s ** 3 + t ** (-2) + (s * t) ** 1 + s ** 0 + (s - t) ** -3", "s t"),   # Pow k>1, k<0, 1, 0
    ("sub-broadcast-left", "sum((1 - A) * (s - B))", "A s B"),              # Sub bcast_l
    ("sub-broadcast-right", "sum((A - s) * (A - t))", "A s t"),             # Sub bcast_r, Sub same
    ("add-broadcast", "sum((s + A) * (B + t) + (A + B))", "A B s t"),       # Add bcast_l, bcast_r, same
    ("negation", "sum(-(A @ X) * B) - -s", "A X B s"),                      # Neg
    ("matmul-scale-left", "sum((x.T @ z) @ A * B)", "x z A"),               # MatMul scale_l (1x1 @ M)
    ("matmul-scale-right", "sum(A @ (x.T @ z) * B)", "x z A"),              # MatMul scale_r
    ("declared-1x1", "sum(u @ A * B) + sum(A * u * B) + u ** 2", "u A"),    # 1x1 symbol as a scalar
    ("number-as-matrix", "sum(2 @ x.T @ X) + sum(x.T * 3)", "x X"),         # Num @ row: kind mat
    ("transposes", "tr(X @ Y.T) + sum(A.T @ B * Y.T) + sum(W.T * A)", "X Y A W B"),            # Transpose, tr
    ("constants", "sum(eye(n) * X @ X) + sum(ones(m, n) * A * A) + tr(X + eye(n))", "X A"),
    ("trace-inverse", "tr(inv(X) @ Y)", "X Y"),                             # inv
    ("determinant", "det(X) * s + det(X @ Y)", "X Y s"),                    # det
    ("log-determinant", "logdet(P) + logdet(X @ X.T)", "P X"),              # logdet
    ("matrix-power", "tr(matrix_power(X, 3) @ Y) + sum(matrix_power(X, 1)) + sum(matrix_power(X, 0))", "X Y"),
    ("matrix-power-negative", "sum(matrix_power(X, -2) * Y) + tr(matrix_power(X, -1))", "X Y"),
    ("kron", "sum(sigmoid(kron(A, C)) * kron(B, E))", "A C B E"),           # kron, both arguments
    ("blocksum-tilesum", "sum(blocksum(H, 2, 3) * blocksum(H, 2, 3)) + sum(tilesum(H, 2, 3) * tilesum(H, 2, 3) @ ones(2, 2))",
     "H"),                                                                  # adjoints of kron
    ("blocksum-of-kron", "sum(tanh(blocksum(kron(A, C), p, q)) * B) + sum(tilesum(kron(A, C), m, n) * E)", "A C"),
    ("norm", "norm(A) + norm(A @ x) * s", "A x s"),                         # norm
    ("diag-diagonal", "sum(diag(x) * X) + sum(tanh(diagonal(X @ Y)) * z)", "x X Y"),
    ("known-elementwise", "sum(sigmoid(A) * tanh(B) + softplus(A) * exp(B / 4)) + sum(log(A * A + 1))", "A B"),
    ("relu", "sum(relu(A) * B) + sum(relu(A @ x))", "A B x"),
    ("abs-sign-sqrt", "sum(abs(A) * B) + sum(sign(A) * B) + sum(sqrt(A * A + 1) * B)", "A B"),
    ("sin-cos", "sum(sin(A) * cos(B)) + sum(sin'(A @ x))", "A B x"),
    ("pinv", "sum(pinv(W) * B) + tr(pinv(X) @ Y)", "W X"),                   # a macro: inv(W.T @ W) @ W.T
    ("derivatives-of-known", "sum(sigmoid'(A) + tanh''(B) + softplus'(A) * log'(B * B + 2))", "A B"),
    ("opaque", "y.T @ sigma(A @ x)", "A x y"),                              # Apply, opaque
    ("opaque-derivatives", "sum(sigma'(A) * B) + sum(g''(x * x))", "A B x"),  # order 1 -> 2, 2 -> 3
    ("opaque-chain", "sum(sigma(g(A) @ x + 1))", "A x"),
    ("mlp", "sum(sigmoid(W @ tanh(A @ x + y) + z) * z)", "W A x y z"),
    ("mixture", "(y.T @ A @ x) ** 2 / (1 + s ** 2) - t * sum(inv(X) @ x)", "A x y s t X"),
    # the NumPy dialect
    ("broadcast-row-column", "sum(B * (A + A.sum(axis=0) * 2)) + sum((A - y) * B) + sum(x.T * y * B)", "A y x"),
    ("divide-power", "sum(B / (A * A + 1)) + sum((A * A + 1) ** -0.5 * B) + sum(A ** 3 * B)", "A B"),
    ("comparisons-maximum", "sum(B * np.maximum(0, A)) + sum(np.minimum(A, B) * (A > 0.1))", "A B"),
    ("comparisons", "sum(A * ((A >= B) + (A < 0) - (B <= A) + (A == B) + (A != 0)))", "A B"),
    ("axis-reductions", "sum(A.sum(axis=1) * A.max(axis=1)) + sum(B.min(axis=0, keepdims=True) * A)", "A B"),
    ("mean-var-std", "sum(B * (A - A.mean(axis=0)) / np.sqrt(A.var(axis=0) + 0.01)) + A.std(ddof=1)", "A B"),
    ("softmax-family", "sum(B * softmax(A, axis=1)) + sum(log_softmax(A, axis=0) * B) + logsumexp(A)", "A B"),
    ("sizes-and-likes", "sum(A) / (m * n) + sum(ones_like(A) * B * A) + sum(np.outer(x, z) * X)", "A x z"),
    ("zeros-square", "sum((np.zeros((m, n)) + np.square(A)) * B)", "A B"),
]

CASES = [(cid, cost, wrt) for cid, cost, names in COSTS for wrt in names.split()]


@pytest.mark.parametrize("cost, wrt", [(c, w) for _, c, w in CASES], ids=[f"{i}-d{w}" for i, _, w in CASES])
def test_gradient_matches_finite_differences(cost, wrt):
    rng = np.random.default_rng(zlib.crc32(f"{cost}|{wrt}".encode()))
    fd = assert_gradient_matches_fd(cost, wrt, rng)
    assert np.all(np.isfinite(fd))


def test_the_table_covers_every_local_rule():
    # every core node variant, every registered operation and elementwise function
    from symbolic_bp.core import registry
    from symbolic_bp.core.expression import Apply, Call, Pow
    from tests.test_evaluate import variant
    seen, variants, exponents = set(), set(), set()
    for _, cost, _ in COSTS:
        for n in parse_typed(cost, DECLS).walk():
            seen.add(n.name if isinstance(n, (Call, Apply)) else type(n).__name__)
            variants.add(variant(n))
            if isinstance(n, Pow):
                exponents.add("neg" if n.exponent < 0 else min(n.exponent, 2))
    registry.operation("tr")    # the tables are filled on first use
    assert set(registry.OPERATIONS) <= seen
    assert set(registry.ELEMENTWISE) | {"sigma", "Num", "Sym", "Neg", "Div", "Pow", "Transpose", "Broadcast"} <= seen
    assert {(op, side) for op in ("Add", "Sub") for side in ("same", "bcast_l", "bcast_r")} \
        | {("Scale", w, side) for w in "*@" for side in ("scalar_left", "scalar_right")} \
        | {("Hadamard",), ("MatMul",)} <= variants
    assert exponents == {"neg", 0, 1, 2}


def test_finite_differences_catch_a_wrong_gradient():
    # the harness itself must be able to fail: a transposed gradient is caught
    cost = parse_typed("y.T @ A @ x", DECLS)
    env = draw_env(np.random.default_rng(0))
    wrong = evaluate(parse_typed("(x @ y.T).T * 1.0001", DECLS), env)
    right = evaluate(parse_typed("y @ x.T", DECLS), env)
    fd = finite_differences(cost, env, "A")
    assert np.allclose(right, fd, atol=1e-7)
    assert not np.allclose(wrong, fd, atol=1e-7)


def test_opaque_functions_are_evaluated_with_the_seeded_family():
    # with another seed, sigma is another function: its value and its derivative change
    f0, f1 = functions.numeric("sigma", 0, SEED), functions.numeric("sigma", 0, SEED + 1)
    d0 = functions.numeric("sigma", 1, SEED)
    t = np.linspace(-2, 2, 9)
    assert not np.allclose(f0(t), f1(t))
    h = 1e-6
    assert np.allclose(d0(t), (f0(t + h) - f0(t - h)) / (2 * h), atol=1e-7)


# -- simplify: equal values, readable forms -----------------------------------------------

SIMPLIFY = [
    ("(A @ X).T", "X.T @ A.T"),
    ("x.T.T", "x"),
    ("S.T", "S"),
    ("P.T", "P"),
    ("inv(S).T", "inv(S)"),
    ("inv(X).T", "inv(X).T"),
    ("eye(n).T", "eye(n)"),
    ("ones(m, n).T", "ones(n, m)"),
    ("(x.T @ z).T", "x.T @ z"),
    ("s.T", "s"),
    ("(A + B).T", "A.T + B.T"),
    ("(A - B * A).T", "A.T * (1 - B.T)"),
    ("(2 * A).T", "2 * A.T"),
    ("(A / s).T", "A.T / s"),
    ("(-A).T", "-A.T"),
    ("(1 - A).T", "1 - A.T"),
    ("sigma(A).T", "sigma(A.T)"),
    ("sum(s)", "s"),
    ("tr(x.T @ z)", "x.T @ z"),
    ("eye(n) @ X", "X"),
    ("X @ eye(n)", "X"),
    ("eye(1)", "1"),
    ("ones(1, 1)", "1"),
    ("A @ (X @ (Y @ x))", "A @ X @ Y @ x"),
    ("2 * A + 3 * A", "5 * A"),
    ("1/2 * A - 1/2 * B", "1/2 * (A - B)"),
    ("A - A", "0 * ones(m, n)"),
    ("0 * A", "0 * ones(m, n)"),
    ("ones(m, n) * A", "A"),
    ("A * ones(m, n)", "A"),
    ("A + B - B", "A"),
    ("x - 1 + 1", "x"),
    ("2 * (3 * A)", "6 * A"),
    ("A @ x * 2", "2 * A @ x"),
    ("(2 * A) @ (3 * X)", "6 * A @ X"),
    ("-(-(A))", "A"),
    ("A / 2 + A / 2", "A"),
    ("s + 1 - 1", "s"),
]


@pytest.mark.parametrize("text, simplified", SIMPLIFY, ids=[t for t, _ in SIMPLIFY])
def test_simplify_forms_and_values(text, simplified):
    tree = parse_typed(text, DECLS)
    out = simplify(tree, DECLS)
    assert to_text(out) == simplified
    assert out.shape == tree.shape
    env = draw_env(np.random.default_rng(5))
    assert np.allclose(_full(evaluate(out, env), tree, env), _full(evaluate(tree, env), tree, env), rtol=1e-12, atol=1e-12)


def _full(value, tree, env):
    shape = concrete(tree.shape, SIZES)
    return np.broadcast_to(value, shape) if value.shape == (1, 1) else value


def test_simplify_is_idempotent():
    for text, _ in SIMPLIFY:
        once = simplify(parse_typed(text, DECLS), DECLS)
        assert simplify(once, DECLS) == once


def test_simplify_keeps_a_broadcast_sum_whose_matrix_part_cancels():
    tree = parse_typed("A @ (0 * X + 2)", DECLS)
    env = draw_env(np.random.default_rng(1))
    assert np.allclose(evaluate(simplify(tree, DECLS), env), evaluate(tree, env))


def test_gradient_through_a_broadcast_sum_whose_matrix_part_cancels():
    assert_gradient_matches_fd("x.T @ (0 * X + 2) @ x", "x", np.random.default_rng(2))


# -- random costs: derived gradients vs finite differences -------------------------------

_LEAVES = {("m", "n"): ["A", "B"], ("n", "n"): ["X", "Y"], ("n", "1"): ["x", "z"], ("m", "1"): ["y"],
           ("1", "1"): ["s", "t"]}
SCALAR = ("1", "1")


def _leaf(shape, r):
    rows, cols = shape
    if shape in _LEAVES and r.random() < 0.8:
        return r.choice(_LEAVES[shape])
    if shape == SCALAR:
        return str(r.randint(1, 3))
    if (cols, rows) in _LEAVES:
        return r.choice(_LEAVES[(cols, rows)]) + ".T"
    return f"ones({rows}, {cols})"


def random_cost(shape, depth, r):
    """A random well-typed expression of the given symbolic shape."""
    if depth <= 0 or r.random() < 0.15:
        return _leaf(shape, r)
    rows, cols = shape
    g = lambda sh: random_cost(sh, depth - 1, r)     # noqa: E731
    if r.random() < 0.3:
        k = r.randrange(6)
        if shape == ("n", "n"):
            if k == 0:
                return f"inv(3 * eye(n) + {g(shape)} / (4 + norm({g(shape)})))"
            if k == 1:
                return f"matrix_power({g(shape)}, {r.choice([0, 1, 2])})"
            if k == 2:
                return f"matrix_power(3 * eye(n) + {g(shape)} / (4 + norm({g(shape)})), -1)"
        if shape == SCALAR:
            if k == 0:
                return f"det(2 * eye(n) + {g(('n', 'n'))} / (4 + norm({g(('n', 'n'))})))"
            if k == 1:
                return f"logdet(3 * eye(n) + {g(('n', 'n'))} / (4 + norm({g(('n', 'n'))})))"
            if k == 2:
                return f"sum(kron({g(('m', 'n'))}, {g(('n', '1'))}) * kron(ones(m, n), {g(('n', '1'))}))"
            if k == 3:
                return f"sum(blocksum(kron({g(('m', 'n'))}, {g(('n', '1'))}), n, 1) * {g(('m', 'n'))})"
            if k == 4:
                return f"(({g(shape)}) ** {r.choice([0, 1, 2, 3])})"
    k = r.randrange(13)
    if k == 0:
        return f"({g(shape)} + {g(shape)})"
    if k == 1:
        return f"({g(shape)} - {g(shape)})"
    if k == 2:
        return f"({g(shape)} * {g(shape)})"
    if k == 3:
        return f"({g(SCALAR)} * {g(shape)})"
    if k == 4:
        return f"({g(shape)} / (2 + {g(SCALAR)} ** 2))"
    if k == 5:
        return f"(-{g(shape)})"
    if k == 6:
        return f"({g((cols, rows))}).T"
    if k == 7:
        inner = r.choice(["m", "n", "1"])
        return f"({g((rows, inner))} @ {g((inner, cols))})"
    if k == 8:
        return f"{r.choice(['sigmoid', 'tanh', 'sigma', 'g', 'softplus'])}{r.choice(['', '', chr(39)])}({g(shape)})"
    if k == 9:
        return f"({g(shape)} + {g(SCALAR)})"
    if k == 10:
        return f"({g(SCALAR)} - {g(shape)})"
    if k == 11:
        return f"({g(shape)} @ {g(SCALAR)})"
    if k == 12 and shape == SCALAR:
        return r.choice([f"sum({g(('m', 'n'))})", f"tr({g(('n', 'n'))})"])
    return g(shape)


# 24 seeds x 3 costs x 4 variables
RANDOM_SEEDS = range(24)


@pytest.mark.parametrize("seed", RANDOM_SEEDS, ids=[f"seed{s}" for s in RANDOM_SEEDS])
def test_random_costs(seed):
    r = random.Random(seed)
    rng = np.random.default_rng(seed)
    checked = 0
    while checked < 3:
        text = random_cost(SCALAR, 4, r)
        cost = parse_typed(text, DECLS)
        env = draw_env(rng)
        try:
            value = evaluate(cost, env)
        except FloatingPointError:
            continue
        if abs(value[0, 0]) > 1e4:
            continue
        checked += 1
        # simplify keeps the value of the cost itself
        assert np.allclose(evaluate(simplify(cost, DECLS), env), value, rtol=1e-9, atol=1e-9), text
        for wrt in ("A", "X", "x", "s"):
            g, derived = derived_value(cost, wrt, env)
            fd = finite_differences(cost, env, wrt)
            err = np.max(np.abs(derived - fd)) / max(1.0, np.max(np.abs(fd)))
            assert err < 1e-5, f"d({text})/d{wrt} = {to_text(g)}: relative error {err:.2e}"
            # and the printed gradient means the same
            again = evaluate(parse_typed(to_text(g), DECLS), env)
            assert np.allclose(np.broadcast_to(again, derived.shape), derived, rtol=1e-9, atol=1e-9)
