"""Composite functions, written in primitives, and the names the language
deliberately does not read.

A :class:`~symbolic_bp.core.registry.Macro` is expanded by the type pass
into its definition, so every pass (derivation, both checks, printing) sees
only primitives and nothing about it is written twice.

>>> from symbolic_bp.language.printer import to_text
>>> from symbolic_bp.core.expression import Sym
>>> to_text(MACROS["pinv"].expand((Sym(name="X"),), {}))
'inv(X.T @ X) @ X.T'
>>> UNSUPPORTED["expm"].reason.split(";")[0]
'expm is the matrix exponential, not an elementwise function'
"""
from __future__ import annotations

from .dims import ONE, Dim, is_scalar, show
from .entries import MACROS, UNSUPPORTED, Keyword, Macro, ShapeError, Unsupported, register
from .expression import Apply, Call, Div, MatMul, Mul, Node, Sub, Transpose, num
from .reductions import AXIS

# the keyword parameters, as NumPy / SciPy name them
AXIS_ONLY = (Keyword("axis", "axis", None, positional=True),)
VARIANCE = (Keyword("axis", "axis", None, positional=True), Keyword("ddof", "int", 0),
            Keyword("keepdims", "bool", False))


def _t(x: Node) -> Node:
    """The transpose of a typed node, typed (a 1-D row read as the vector it is)."""
    return x if is_scalar(x.shape) else Transpose(arg=x, shape=(x.shape[1], x.shape[0]), pos=x.pos)


def _pinv(args, kw):
    # full column rank: pinv(X) = (X^T X)^-1 X^T
    (x,) = args
    return MatMul(left=Call(name="inv", args=(MatMul(left=Transpose(arg=x), right=x),)), right=Transpose(arg=x))


def _reduce(name: str, x: Node, axis, keepdims: bool) -> Node:
    return Call(name=name, args=(x,), params=(axis, keepdims), pos=x.pos)


def _count(x: Node, axis) -> Dim:
    """How many entries a reduction along ``axis`` combines."""
    rows, cols = x.shape
    return rows * cols if axis is None else rows if axis == 0 else cols


def _number(d: Dim, minus: int = 0) -> Node:
    """The size ``d`` (less ``minus``) as a value: a literal, or ``n``, ``n - 1``."""
    if not d.names:
        return num(d.coef - minus)
    size = Call(name="size", args=(), params=(d,))
    return Sub(left=size, right=num(minus)) if minus else size


def _mean(args, kw):
    (x,) = args                                    # mean = sum / count
    return Div(left=_reduce("sum", x, kw["axis"], kw["keepdims"]), right=_number(_count(x, kw["axis"])))


def _variance(args, kw):
    # var = sum((X - mean(X))**2) / (count - ddof), the mean kept along the axis for broadcasting
    (x,) = args
    axis, ddof = kw["axis"], kw["ddof"]
    mean = _mean(args, {"axis": axis, "keepdims": True})
    deviation = Call(name="power", args=(Sub(left=x, right=mean),), params=(2,))
    count = _count(x, axis)
    if not count.names and count.coef <= ddof:
        raise ShapeError(f"ddof={ddof} leaves no degrees of freedom along {count} entries")
    return Div(left=_reduce("sum", deviation, axis, kw["keepdims"]), right=_number(count, ddof))


def _std(args, kw):
    return Apply(name="sqrt", arg=_variance(args, kw))


def _logsumexp(args, kw):
    (x,) = args                                     # log sum exp X, along the axis
    return Apply(name="log", arg=_reduce("sum", Apply(name="exp", arg=x), kw["axis"], kw["keepdims"]))


def _softmax(args, kw):
    (x,) = args                                     # exp(X) / sum(exp(X)), along the axis
    e = Apply(name="exp", arg=x)
    return Div(left=e, right=_reduce("sum", e, kw["axis"], True))


def _log_softmax(args, kw):
    (x,) = args                                     # X - logsumexp(X), along the axis
    return Sub(left=x, right=_logsumexp(args, {"axis": kw["axis"], "keepdims": True}))


def _ones_like(args, kw):
    return Call(name="ones", args=(), params=args[0].shape)


def _zeros_like(args, kw):
    (x,) = args                                     # 0 * ones(shape): a zero of the argument's shape
    zero = num(0)
    return zero if is_scalar(x.shape) else Mul(left=zero, right=Call(name="ones", args=(), params=x.shape))


def _square(args, kw):
    return Call(name="power", args=(args[0],), params=(2,))       # np.square(X) = X ** 2


def _vector(x: Node, name: str, as_column: bool) -> Node:
    if is_scalar(x.shape):
        return x
    if x.shape[1] == ONE:
        return x if as_column else _t(x)
    if x.shape[0] == ONE:
        return _t(x) if as_column else x
    raise ShapeError(f"{name} flattens a matrix {show(x.shape)}; the claim language reads it of vectors only")


def _outer(args, kw):
    a, b = args                                      # outer(a, b)_ij = a_i b_j
    left, right = _vector(a, "outer", True), _vector(b, "outer", False)
    return MatMul(left=left, right=right, shape=(left.shape[0], right.shape[1]))


def _diagflat(args, kw):
    return Call(name="diag", args=(_vector(args[0], "diagflat", True),))


_MATRIX_FUNCTION = ("{name} is the matrix {what}, not an elementwise function; matrix functions are not "
                    "supported yet (the gradient of tr f(X) is f'(X).T, but a general f(X) needs its "
                    "Frechet derivative)")

for _entry in (
    Macro("pinv", 1, _pinv, "the Moore-Penrose pseudo-inverse of a matrix of full column rank, "
                            "inv(X.T @ X) @ X.T"),
    Macro("mean", 1, _mean, "the mean of all entries, or along an axis: sum(X, axis) / count", AXIS, fold=True),
    Macro("var", 1, _variance, "the variance, sum((X - mean(X))**2) / (count - ddof), as NumPy's var",
          VARIANCE, fold=True),
    Macro("std", 1, _std, "the standard deviation, sqrt(var(X, ...))", VARIANCE, fold=True),
    Macro("logsumexp", 1, _logsumexp, "log(sum(exp(X), axis)), as SciPy's logsumexp", AXIS, fold=True),
    Macro("softmax", 1, _softmax, "exp(X) / sum(exp(X), axis, keepdims=True), as SciPy's softmax "
                                  "(axis=None: over every entry)", AXIS_ONLY, fold=True),
    Macro("log_softmax", 1, _log_softmax, "X - logsumexp(X, axis, keepdims=True), as SciPy's log_softmax",
          AXIS_ONLY, fold=True),
    Macro("ones_like", 1, _ones_like, "a matrix of ones of the argument's shape"),
    Macro("zeros_like", 1, _zeros_like, "a matrix of zeros of the argument's shape"),
    Macro("square", 1, _square, "X ** 2 entrywise, as np.square"),
    Macro("outer", 2, _outer, "the outer product a b^T of two vectors (columns, rows or 1-D)"),
    Macro("diagflat", 1, _diagflat, "the diagonal matrix of a vector's entries (column, row or 1-D)"),
    *(Unsupported(name, _MATRIX_FUNCTION.format(name=name, what=what))
      for name, what in (("expm", "exponential"), ("logm", "logarithm"), ("sqrtm", "square root"),
                         ("sinm", "sine"), ("cosm", "cosine"), ("funm", "function"))),
):
    register(_entry)
