"""Reductions of a matrix, over all its entries or along one axis, one entry each.

``sum``, ``max`` and ``min`` take NumPy's ``axis=`` (None: every entry, 0:
down the rows, 1: along each row) and ``keepdims=``.  Arrays are 2-D here:
a reduction along axis 0 is a 1 x k row; along axis 1 with ``keepdims=True``
an n x 1 column, and without it NumPy's 1-D array of length n, which
broadcasts as a row -- so the language holds it as a 1 x n row (and the type
pass refuses to transpose it, as NumPy would silently not).  ``mean``,
``var``, ``std``, ``logsumexp`` and ``softmax`` are macros over these
(:mod:`symbolic_bp.core.macros`).

>>> from symbolic_bp.core.dims import Dim, show
>>> n, k = Dim.of("n"), Dim.of("k")
>>> [show(OPERATIONS["sum"].shape(((n, k),), (axis, keep))) for axis, keep in ((None, False), (0, False), (1, True), (1, False))]
['(1,1)', '(1,k)', '(n,1)', '(1,n)']
"""
from __future__ import annotations

from .dims import ONE, SCALAR
from .entries import OPERATIONS, Keyword, Operation, register
from .lazy import LazyModule

np = LazyModule("numpy", globals(), "np")
sp = LazyModule("sympy", globals(), "sp")

AXIS = (Keyword("axis", "axis", None, positional=True), Keyword("keepdims", "bool", False))


def _reduced(shapes, params):
    (shape,), (axis, keepdims) = shapes, params
    if axis is None:
        return SCALAR
    if axis == 0:
        return (ONE, shape[1])
    return (shape[0], ONE) if keepdims else (ONE, shape[0])     # NumPy's 1-D result broadcasts as a row


def _lines(rows: int, cols: int, axis):
    """The index lists that are reduced: one per entry of the result, in the
    result's (row-major) order."""
    if axis is None:
        return [[(i, j) for i in range(rows) for j in range(cols)]]
    if axis == 0:
        return [[(i, j) for i in range(rows)] for j in range(cols)]
    return [[(i, j) for j in range(cols)] for i in range(rows)]


def _result_shape(rows: int, cols: int, axis, keepdims) -> tuple[int, int]:
    if axis is None:
        return (1, 1)
    if axis == 0:
        return (1, cols)
    return (rows, 1) if keepdims else (1, rows)


def _exact(combine):
    def exact(m, axis, keepdims):
        lines = _lines(m.rows, m.cols, axis)
        rows, cols = _result_shape(m.rows, m.cols, axis, keepdims)
        values = [combine([m[i, j] for i, j in line]) for line in lines]
        return sp.Matrix(rows, cols, values)
    return exact


def _numeric(f):
    def numeric(m, axis, keepdims):
        if axis is None:
            return np.array([[f(m)]])
        out = f(m, axis=axis, keepdims=True)
        return out.reshape(1, -1) if axis == 1 and not keepdims else out
    return numeric


# -- dual forms (the exact check) ----------------------------------------------------------

def _dual_sum(kit, x, axis, keepdims):
    def total(m):
        lines = _lines(m.rows, m.cols, axis)
        rows, cols = _result_shape(m.rows, m.cols, axis, keepdims)
        sums = [m.add_all(m[i, j] for i, j in line) for line in lines]
        return m.build(rows, cols, lambda i, j: sums[i * cols + j])
    return x.linear(total)


def _dual_extreme(larger: bool):
    # max(X) is the entry X_ij that is largest; its tangent is that entry's tangent (ties: measure 0)
    def dual(kit, x, axis, keepdims):
        m = x.value
        rows, cols = _result_shape(m.rows, m.cols, axis, keepdims)
        chosen = []
        for line in _lines(m.rows, m.cols, axis):
            best = line[0]
            for entry in line[1:]:
                difference = m.build(1, 1, lambda i, j, e=entry, b=best: m[e] - m[b]).signs()[0][0]
                if (difference > 0) if larger else (difference < 0):
                    best = entry
            chosen.append(best)
        pick = lambda v: v.build(rows, cols, lambda i, j: v[chosen[i * cols + j]])
        return x.push(pick(m), pick)
    return dual


def _unreduce(b, node, g):
    """The adjoint ``g`` of a reduction, laid back over the reduced axis: an
    n x k matrix ((1,k) rows repeated, (n,1) columns repeated; NumPy's 1-D
    result along axis 1 is a column of the rows)."""
    x = node.args[0]
    axis, keepdims = node.params
    if axis == 1 and not keepdims:
        g = b.t(g)
    return b.mul(g, b.ones(x.shape))


def _vjp_sum(b, node, g):
    return (_unreduce(b, node, g),)             # d sum(X)/dX = ones, along the axis


def _vjp_extreme(b, node, g):
    # d max(X)/dX = 1 where X_ij is the maximum of its line (ties: measure 0).  A tie that
    # holds near the point -- copies of one value, max(kron(x, ones)) or a broadcast row --
    # is no kink: the copies move together and max moves with them, so they share the
    # adjoint (1/count each), as a derivative of max counts it once
    x = node.args[0]
    axis, keepdims = node.params
    # along axis 1 without keepdims the value is NumPy's 1-D row: compared as the column it is
    value = b.call(node.name, x, params=(1, True)) if axis == 1 and not keepdims else node
    chosen = b.call("equal", x, value)
    share = b.div(chosen, b.call("sum", chosen, params=(axis, True)))
    return (b.mul(share, _unreduce(b, node, g)),)


# the printers receive the parameters as text: axis "None", "0", "1"; keepdims "True", "False"

def _latex(name):
    def latex(a, atoms, p):
        axis = p[0] if p else "None"
        if axis == "None":
            return rf"\operatorname{{{name}}}\left({a[0]}\right)"
        return rf"\operatorname{{{name}}}_{{\mathrm{{axis}}={axis}}}\left({a[0]}\right)"
    return latex


def _numpy(name):
    def code(a, p):
        axis, keepdims = p
        if axis == "None":
            return f"np.{name}({a[0]}).reshape(1, 1)"
        flat = ".reshape(1, -1)" if axis == "1" and keepdims == "False" else ""
        return f"np.{name}({a[0]}, axis={axis}, keepdims=True){flat}"
    return code


def _index_sum(form, node, r, c):
    (x,) = node.args
    axis, keepdims = node.params
    if axis is None:                             # sum(X) = sum_ij X_ij
        i, j = form.fresh(x.shape[0]), form.fresh(x.shape[1])
        return form.summed(form(x, i, j), i, j)
    if axis == 0:                                # sum(X, axis=0)_c = sum_i X_ic
        i = form.fresh(x.shape[0])
        return form.summed(form(x, i, c), i)
    row = r if keepdims else c                   # sum(X, axis=1)_r = sum_j X_rj
    j = form.fresh(x.shape[1])
    return form.summed(form(x, row, j), j)


def _tie_distance(largest: bool):
    """The gap between the two largest (smallest) entries of each reduced
    line, one per entry of the result (0 on a tie; inf for a line of one)."""
    def kink(m, axis, keepdims):
        lines = m.reshape(1, -1) if axis is None else (m.T if axis == 0 else m)
        values = np.sort(lines, axis=1)
        if values.shape[1] < 2:
            return np.full(values.shape[0], np.inf)
        return values[:, -1] - values[:, -2] if largest else values[:, 1] - values[:, 0]
    return kink


def _degree_same(d, shapes, params):
    return d[0]


for _entry in (
    Operation(
        "sum", 1, _reduced, keywords=AXIS,
        vjp=_vjp_sum, exact=_exact(lambda v: sp.Add(*v)), numeric=_numeric(lambda m, **kw: np.sum(m, **kw)),
        latex=_latex("sum"), numpy=_numpy("sum"), index=_index_sum,
        summary="the sum of all entries, or along an axis (axis=0: of each column, axis=1: of each row)",
        dual=_dual_sum, degree=_degree_same),
    Operation(
        "max", 1, _reduced, keywords=AXIS,
        vjp=_vjp_extreme, exact=_exact(lambda v: sp.Max(*v)), numeric=_numeric(lambda m, **kw: np.max(m, **kw)),
        latex=_latex("max"), numpy=_numpy("max"),
        summary="the largest entry, or along an axis (derivative: 1 at the maximum, almost everywhere)",
        dual=_dual_extreme(True), degree=_degree_same, kink=_tie_distance(largest=True)),
    Operation(
        "min", 1, _reduced, keywords=AXIS,
        vjp=_vjp_extreme, exact=_exact(lambda v: sp.Min(*v)), numeric=_numeric(lambda m, **kw: np.min(m, **kw)),
        latex=_latex("min"), numpy=_numpy("min"),
        summary="the smallest entry, or along an axis (derivative: 1 at the minimum, almost everywhere)",
        dual=_dual_extreme(False), degree=_degree_same, kink=_tie_distance(largest=False)),
):
    register(_entry)
