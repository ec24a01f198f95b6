"""The registered operations of whole matrices, one entry each.

Every entry states its shape rule, its adjoint (VJP) rule, its exact and
float64 evaluation, its LaTeX and its NumPy code; see
:class:`~symbolic_bp.core.registry.Operation` for the signatures.  The
adjoint rules are the standard matrix identities; the exact check never uses
them (it differentiates entry by entry), so an error here shows up as a loud
disagreement between the checks, never as a wrong verdict.

>>> from symbolic_bp.core.dims import Dim
>>> n = Dim.of("n")
>>> OPERATIONS["tr"].shape(((n, n),), ())
(Dim('1'), Dim('1'))
>>> OPERATIONS["inv"].shape(((n, Dim.of("m")),), ())
Traceback (most recent call last):
...
symbolic_bp.core.entries.ShapeError: inv needs a square matrix, got (n,m)
"""
from __future__ import annotations

import random

from .dims import ONE, SCALAR, show
from .entries import OPERATIONS, Operation, ShapeError, register
from .lazy import LazyModule

# imported on first use: the parser and the type pass read the entries without them
np = LazyModule("numpy", globals(), "np")
sp = LazyModule("sympy", globals(), "sp")


# -- shape rules ------------------------------------------------------------------------

def _square(name: str):
    def rule(shapes, params):
        (shape,) = shapes
        if shape[0] != shape[1]:
            raise ShapeError(f"{name} needs a square matrix, got {show(shape)}")
        return shape
    return rule


def _square_to_scalar(name: str):
    square = _square(name)
    return lambda shapes, params: (square(shapes, params), SCALAR)[1]


def _to_scalar(shapes, params):
    return SCALAR


def _column_to_square(shapes, params):
    (shape,) = shapes
    if shape[1] != ONE:
        raise ShapeError(f"diag needs a column vector, got {show(shape)}")
    return (shape[0], shape[0])


def _square_to_column(shapes, params):
    (shape,) = shapes
    if shape[0] != shape[1]:
        raise ShapeError(f"diagonal needs a square matrix, got {show(shape)}")
    return (shape[0], ONE)


def _blocks(shapes, params):
    # blocksum(G, p, q): sum of each p x q block -> (rows/p, cols/q)
    # tilesum(G, m, n): sum of the m x n grid of blocks -> (rows/m, cols/n)
    (g,), (d0, d1) = shapes, params
    r, c = g[0].divide(d0), g[1].divide(d1)
    if r is None or c is None:
        raise ShapeError(f"{show(g)} is not divisible into ({d0},{d1}) blocks")
    return (r, c)


# -- exact (SymPy) helpers --------------------------------------------------------------

def _exact_det(m):
    return m.det(method="berkowitz")


def _identically_zero(value) -> bool:
    """0, or a polynomial in the entries that vanishes at two random rational
    points (so, almost surely, everywhere: x x^T is singular for every x)."""
    if value == 0:
        return True
    symbols = sorted(value.free_symbols, key=str)
    if not symbols:
        return False
    rng = random.Random(len(symbols))
    return all(value.xreplace({s: sp.Rational(rng.randint(-97, 97), rng.randint(1, 97)) for s in symbols}) == 0
               for _ in range(2))


def _exact_inv(m):
    det = _exact_det(m)
    if _identically_zero(det):
        raise ZeroDivisionError("singular matrix")
    return m.adjugate() / det


def _exact_power(m, k):
    if k < 0:
        m, k = _exact_inv(m), -k
    out = sp.eye(m.rows)
    for _ in range(k):
        out = out * m
    return out


def _numeric_inv(m):
    if np.linalg.cond(m) > 1e6:
        # ill-conditioned: the inverse carries a relative error ~ cond * 1e-16, which
        # must stay well below the 1e-8 tolerance of the comparison
        return np.full(m.shape, np.nan)
    return np.linalg.inv(m)


def _numeric_power(m, k):
    if k < 0:
        m, k = _numeric_inv(m), -k
    return np.linalg.matrix_power(m, k)


def _numeric_logdet(m):
    sign, value = np.linalg.slogdet(m)
    return np.array([[value if sign > 0 else np.nan]])


def _1x1(value):
    return sp.Matrix([[value]])


def _np1x1(value):
    return np.array([[value]])


# -- adjoint rules: N = op(X), G = dC/dN  ->  dC/dX ---------------------------------------

def _vjp_power(b, node, g):
    x, k = node.args[0], node.params[0]
    base, m = (b.call("inv", x), -k) if k < 0 else (x, k)

    def power(i):
        return b.eye(x.shape[0]) if i == 0 else base if i == 1 else b.call("matrix_power", base, params=(i,))
    # d Y^m = sum_i Y^i dY Y^(m-1-i)  =>  dY: sum_i (Y^i)^T G (Y^(m-1-i))^T
    d_base = None
    for i in range(m):
        term = b.matmul(b.matmul(b.t(power(i)), g), b.t(power(m - 1 - i)))
        d_base = term if d_base is None else b.add(d_base, term)
    if d_base is None or k > 0:
        return (d_base,)
    inv_t = b.t(base)                  # Y = inv(X): dX = -Y^T dY Y^T
    return (b.neg(b.matmul(b.matmul(inv_t, d_base), inv_t)),)


def _vjp_kron(b, node, g):
    a, c = node.args
    # (A kron B)[(i,k),(j,l)] = A_ij B_kl: dA_ij = sum of block (i,j) of G * (1 kron B)
    return (b.call("blocksum", b.mul(g, b.call("kron", b.ones(a.shape), c)), params=c.shape),
            b.call("tilesum", b.mul(g, b.call("kron", a, b.ones(c.shape))), params=a.shape))


# -- index forms: the entry (r, c) of op(X) from the entries of X --------------------------

def _index_trace(form, node, r, c):
    (x,) = node.args                        # tr(X) = sum_i X_ii
    i = form.fresh(x.shape[0])
    return form.summed(form(x, i, i), i)


def _index_eye(form, node, r, c):
    return form.with_delta(form.constant(), r, c)      # eye(n)_rc = delta_rc


def _index_diag(form, node, r, c):
    return form.with_delta(form(node.args[0], r, None), r, c)     # diag(x)_rc = x_r delta_rc


def _constant(b, node, g):      # pragma: no cover - eye and ones never depend on a variable
    return ()


# -- dual forms (forward mode, for the exact check) and degree bounds ----------------------
# On dual numbers (symbolic_bp.checks.dual): x.value is the matrix, x.tangents its
# directional derivatives; the degree rules bound the (numerator, denominator) degrees
# of the entries as rational functions of the drawn values (X = P/Q entrywise).

def _linear(f):
    """The dual form of an operation linear in its one argument: f on the value and on each tangent."""
    return lambda kit, x, *params: x.linear(lambda m: f(m, *params))


def _dual_inv(kit, x):
    y = x.value.inv()                       # d inv(X) = -inv(X) dX inv(X)
    return x.push(y, lambda t: -(y @ t @ y))


def _dual_det(kit, x):
    a = x.value                             # d det(X) = tr(adj(X) dX), also where X is singular
    adj = a.adjugate() if x.tangents is not None else None
    return x.push(a.det(), lambda t: (adj @ t).trace())


def _dual_logdet(kit, x):
    a = x.value                             # d log det X = tr(inv(X) dX)
    y = a.inv() if x.tangents is not None else None
    return x.push(a.det().apply("log"), lambda t: (y @ t).trace())


def _dual_norm(kit, x):
    m = x.value                             # d |X| = <X, dX> / |X|
    n = (m * m).total().apply("sqrt")
    return x.push(n, lambda t: (m * t).total() / n)


def _kron(a, c):
    a, c = a.pair(c)
    return a.build(a.rows * c.rows, a.cols * c.cols,
                   lambda r, s: a[r // c.rows, s // c.cols] * c[r % c.rows, s % c.cols])


def _dual_power(kit, x, k):
    base = _dual_inv(kit, x) if k < 0 else x
    out = kit.identity(x.value.rows)
    for _ in range(abs(k)):
        out = out @ base
    return out


def _blocksum(g, p, q):
    return g.build(g.rows // p, g.cols // q,
                   lambda i, j: g.add_all(g[i * p + a, j * q + b] for a in range(p) for b in range(q)))


def _tilesum(g, m, n):
    r, c = g.rows // m, g.cols // n
    return g.build(r, c, lambda k, l: g.add_all(g[i * r + k, j * c + l] for i in range(m) for j in range(n)))


def _degree_same(d, shapes, params):
    return d[0]


def _degree_constant(d, shapes, params):
    return (0, 0)


def _degree_det(d, shapes, params):
    (p, q), n = d[0], shapes[0][0]          # det(P/Q) = det(P) / Q^n
    return (n * p, n * q)


def _degree_inv(d, shapes, params):
    (p, q), n = d[0], shapes[0][0]          # inv(P/Q) = Q adj(P) / det(P)
    return (q + (n - 1) * p, n * p)


def _degree_power(d, shapes, params):
    k = params[0]
    p, q = _degree_inv(d, shapes, params) if k < 0 else d[0]
    return (abs(k) * p, abs(k) * q)


def _degree_product(d, shapes, params):
    return (d[0][0] + d[1][0], d[0][1] + d[1][1])


# -- the entries --------------------------------------------------------------------------

for _entry in (
    Operation(
        "tr", 1, _square_to_scalar("tr"),
        vjp=lambda b, node, g: (b.mul(g, b.eye(node.args[0].shape[0])),),         # d tr(X)/dX = I
        exact=lambda m: _1x1(m.trace()), numeric=lambda m: _np1x1(np.trace(m)),
        latex=lambda a, atoms, p: rf"\operatorname{{tr}}\left({a[0]}\right)",
        numpy=lambda a, p: f"np.trace({a[0]}).reshape(1, 1)", index=_index_trace,
        summary="the trace",
        dual=_linear(lambda m: m.trace()), degree=_degree_same),
    Operation(
        "inv", 1, _square("inv"),
        # d inv(X) = -inv(X) dX inv(X)  =>  dX: -inv(X)^T G inv(X)^T
        vjp=lambda b, node, g: (b.neg(b.matmul(b.matmul(b.t(node), g), b.t(node))),),
        exact=_exact_inv, numeric=_numeric_inv,
        latex=lambda a, atoms, p: f"{atoms[0]}^{{-1}}",
        numpy=lambda a, p: f"np.linalg.inv({a[0]})",
        summary="the inverse (of an invertible matrix)",
        dual=_dual_inv, degree=_degree_inv),
    Operation(
        "det", 1, _square_to_scalar("det"),
        # d det(X)/dX = det(X) inv(X)^T
        vjp=lambda b, node, g: (b.mul(b.mul(g, node), b.t(b.call("inv", node.args[0]))),),
        exact=lambda m: _1x1(_exact_det(m)), numeric=lambda m: _np1x1(np.linalg.det(m)),
        latex=lambda a, atoms, p: rf"\det\left({a[0]}\right)",
        numpy=lambda a, p: f"np.linalg.det({a[0]}).reshape(1, 1)",
        summary="the determinant",
        dual=_dual_det, degree=_degree_det),
    Operation(
        "logdet", 1, _square_to_scalar("logdet"),
        vjp=lambda b, node, g: (b.mul(g, b.t(b.call("inv", node.args[0]))),),    # d log det X/dX = inv(X)^T
        exact=lambda m: _1x1(sp.log(_exact_det(m))), numeric=_numeric_logdet,
        latex=lambda a, atoms, p: rf"\log\det\left({a[0]}\right)",
        numpy=lambda a, p: f"np.linalg.slogdet({a[0]})[1].reshape(1, 1)",
        summary="log det X, for det X > 0", positive=True,
        dual=_dual_logdet),
    Operation(
        "norm", 1, _to_scalar,
        vjp=lambda b, node, g: (b.mul(g, b.div(node.args[0], node)),),             # d ||X||/dX = X / ||X||
        exact=lambda m: _1x1(sp.sqrt(sp.Add(*[t ** 2 for t in m]))),
        numeric=lambda m: _np1x1(np.linalg.norm(m)),
        latex=lambda a, atoms, p: rf"\left\lVert {a[0]} \right\rVert",
        numpy=lambda a, p: f"np.linalg.norm({a[0]}).reshape(1, 1)",
        summary="the Frobenius norm",
        dual=_dual_norm),
    Operation(
        "kron", 2, lambda shapes, params: (shapes[0][0] * shapes[1][0], shapes[0][1] * shapes[1][1]),
        vjp=_vjp_kron,
        exact=lambda a, c: sp.Matrix(a.rows * c.rows, a.cols * c.cols,
                                     lambda r, s: a[r // c.rows, s // c.cols] * c[r % c.rows, s % c.cols]),
        numeric=lambda a, c: np.kron(a, c),
        latex=lambda a, atoms, p: rf"\left({a[0]} \otimes {a[1]}\right)",
        numpy=lambda a, p: f"np.kron({a[0]}, {a[1]})",
        summary="the Kronecker product",
        dual=lambda kit, a, c: a.bilinear(c, _kron), degree=_degree_product),
    Operation(
        "matrix_power", 1, _square("matrix_power"), params=("int",),
        vjp=_vjp_power, exact=_exact_power, numeric=_numeric_power,
        latex=lambda a, atoms, p: f"{atoms[0]}^{{{p[0]}}}",
        numpy=lambda a, p: f"np.linalg.matrix_power({a[0]}, {p[0]})",
        summary="X**k for an integer literal k (negative: of the inverse)",
        dual=_dual_power, degree=_degree_power),
    Operation(
        "eye", 0, lambda shapes, params: (params[0], params[0]), params=("dim",),
        vjp=_constant, exact=lambda n: sp.eye(n), numeric=lambda n: np.eye(n),
        latex=lambda a, atoms, p: rf"I_{{{p[0]}}}",
        numpy=lambda a, p: f"np.eye({p[0]})", index=_index_eye,
        summary="the identity matrix",
        dual=lambda kit, n: kit.identity(n), degree=_degree_constant),
    Operation(
        "size", 0, _to_scalar, params=("dim",),
        vjp=_constant, exact=lambda n: _1x1(sp.Integer(n)), numeric=lambda n: _np1x1(float(n)),
        latex=lambda a, atoms, p: str(p[0]),
        numpy=lambda a, p: f"np.array([[float({p[0]})]])",
        summary="a dimension used as a number: 1/N is one over the size N",
        dual=lambda kit, n: kit.constant([[n]]), degree=_degree_constant),
    Operation(
        "ones", 0, lambda shapes, params: (params[0], params[1]), params=("dim", "dim"),
        vjp=_constant, exact=lambda r, c: sp.ones(r, c), numeric=lambda r, c: np.ones((r, c)),
        latex=lambda a, atoms, p: rf"\mathbf{{1}}_{{{p[0]} \times {p[1]}}}",
        numpy=lambda a, p: f"np.ones(({p[0]}, {p[1]}))", index=lambda form, node, r, c: form.constant(),
        summary="the matrix of ones",
        dual=lambda kit, r, c: kit.constant([[1] * c for _ in range(r)]), degree=_degree_constant),
    Operation(
        "zeros", 0, lambda shapes, params: (params[0], params[1]), params=("dim", "dim"),
        vjp=_constant, exact=lambda r, c: sp.zeros(r, c), numeric=lambda r, c: np.zeros((r, c)),
        latex=lambda a, atoms, p: rf"\mathbf{{0}}_{{{p[0]} \times {p[1]}}}",
        numpy=lambda a, p: f"np.zeros(({p[0]}, {p[1]}))", index=lambda form, node, r, c: [],          # no term: the entry 0
        summary="the matrix of zeros",
        dual=lambda kit, r, c: kit.constant([[0] * c for _ in range(r)]), degree=_degree_constant),
    Operation(
        "blocksum", 1, _blocks, params=("dim", "dim"),
        # the adjoint of summing p x q blocks is repeating G over them: kron(G, ones(p, q))
        vjp=lambda b, node, g: (b.call("kron", g, b.ones(node.params)),),
        exact=lambda g, p, q: sp.Matrix(g.rows // p, g.cols // q,
                                        lambda i, j: sp.Add(*g[i * p:(i + 1) * p, j * q:(j + 1) * q])),
        numeric=lambda g, p, q: g.reshape(g.shape[0] // p, p, g.shape[1] // q, q).sum(axis=(1, 3)),
        latex=lambda a, atoms, p: rf"\operatorname{{blocksum}}\left({a[0]}, {p[0]}, {p[1]}\right)",
        numpy=lambda a, p: f"{a[0]}.reshape({a[0]}.shape[0] // {p[0]}, {p[0]}, {a[0]}.shape[1] // {p[1]}, {p[1]})"
                           ".sum(axis=(1, 3))",
        summary="the sum of each p x q block (the adjoint of kron in its left factor)",
        dual=_linear(_blocksum), degree=_degree_same),
    Operation(
        "tilesum", 1, _blocks, params=("dim", "dim"),
        vjp=lambda b, node, g: (b.call("kron", b.ones(node.params), g),),
        exact=lambda g, m, n: sp.Matrix(g.rows // m, g.cols // n, lambda k, l: sp.Add(
            *[g[i * (g.rows // m) + k, j * (g.cols // n) + l] for i in range(m) for j in range(n)])),
        numeric=lambda g, m, n: g.reshape(m, g.shape[0] // m, n, g.shape[1] // n).sum(axis=(0, 2)),
        latex=lambda a, atoms, p: rf"\operatorname{{tilesum}}\left({a[0]}, {p[0]}, {p[1]}\right)",
        numpy=lambda a, p: f"{a[0]}.reshape({p[0]}, {a[0]}.shape[0] // {p[0]}, {p[1]}, {a[0]}.shape[1] // {p[1]})"
                           ".sum(axis=(0, 2))",
        summary="the sum of the m x n grid of blocks (the adjoint of kron in its right factor)",
        dual=_linear(_tilesum), degree=_degree_same),
    Operation(
        "diag", 1, _column_to_square,
        vjp=lambda b, node, g: (b.call("diagonal", g),),                       # <G, diag(x)> = <diagonal(G), x>
        exact=lambda x: sp.diag(*x), numeric=lambda x: np.diagflat(x),
        latex=lambda a, atoms, p: rf"\operatorname{{diag}}\left({a[0]}\right)",
        numpy=lambda a, p: f"np.diagflat({a[0]})", index=_index_diag,
        summary="the diagonal matrix with the entries of a column vector",
        dual=_linear(lambda x: x.build(x.rows, x.rows, lambda i, j: x[i, 0] if i == j else x.zero)),
        degree=_degree_same),
    Operation(
        "diagonal", 1, _square_to_column,
        vjp=lambda b, node, g: (b.call("diag", g),),                            # <G, diagonal(X)> = <diag(G), X>
        exact=lambda m: sp.Matrix(m.rows, 1, lambda i, j: m[i, i]), numeric=lambda m: np.diag(m).reshape(-1, 1),
        latex=lambda a, atoms, p: rf"\operatorname{{diagonal}}\left({a[0]}\right)",
        numpy=lambda a, p: f"np.diag({a[0]}).reshape(-1, 1)",
        index=lambda form, node, r, c: form(node.args[0], r, r),                # diagonal(X)_r = X_rr
        summary="the diagonal of a square matrix, as a column vector",
        dual=_linear(lambda m: m.build(m.rows, 1, lambda i, j: m[i, i])), degree=_degree_same),
):
    register(_entry)
