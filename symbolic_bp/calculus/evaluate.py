"""Evaluate typed expression trees on explicit matrices.

One :class:`Evaluator` walks the tree (one method per node type) and asks a
backend for the arithmetic: :class:`ExactBackend` works on SymPy matrices
(symbolic or exact rational entries, opaque functions kept undefined),
:class:`NumericBackend` on float64 NumPy arrays.  Every value is a 2-D
matrix; a scalar is 1x1.

>>> import numpy as np
>>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
>>> d = parse_declarations("A:m,n x:n y:m")
>>> env = {"A": np.eye(2, 3), "x": np.ones((3, 1)), "y": np.ones((2, 1))}
>>> Evaluator(NumericBackend(), {"m": 2, "n": 3})(parse_typed("y.T @ A @ x", d), env)
array([[2.]])
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from ..core import functions
from ..core.expression import Node, Num, Sym
from ..language.shapes import Dim


class ExactBackend:
    """SymPy matrices; elementwise function arguments are expanded so that
    equal arguments are written alike."""

    def const(self, value: Fraction):
        return sp.Matrix([[sp.Rational(value.numerator, value.denominator)]])

    def scalar(self, m):
        return m[0, 0]

    def fill(self, s, shape):
        return sp.Matrix(shape[0], shape[1], lambda i, j: s)

    def matmul(self, a, b):
        # written out: SymPy's own product first searches a polynomial domain
        # for the entries, which costs far more than the product itself here
        inner = range(a.cols)
        return sp.Matrix(a.rows, b.cols, lambda i, j: sp.Add(*[a[i, k] * b[k, j] for k in inner]))

    def hadamard(self, a, b):
        return a.multiply_elementwise(b)

    def scale(self, s, m):
        return m * s

    def add(self, a, b):
        return a + b

    def neg(self, a):
        return -a

    def transpose(self, a):
        return a.T

    def power(self, s, k):
        return sp.Matrix([[s ** k]])

    def apply(self, name, order, m, seed):
        f = functions.exact(name, order)
        return m.applyfunc(lambda t: f(sp.expand(t)))

    def sum(self, m):
        return sp.Matrix([[sp.Add(*m)]])

    def tr(self, m):
        return sp.Matrix([[m.trace()]])

    def det(self, m):
        return sp.Matrix([[m.det(method="berkowitz")]])

    def logdet(self, m):
        return sp.Matrix([[sp.log(m.det(method="berkowitz"))]])

    def inv(self, m):
        det = m.det(method="berkowitz")
        if det == 0:
            raise ZeroDivisionError("singular matrix")
        return m.adjugate() / det

    def norm(self, m):
        return sp.Matrix([[sp.sqrt(sp.Add(*[t ** 2 for t in m]))]])

    def kron(self, a, b):
        p, q = b.shape
        return sp.Matrix(a.rows * p, a.cols * q, lambda r, c: a[r // p, c // q] * b[r % p, c % q])

    def matrix_power(self, m, k):
        if k < 0:
            m, k = self.inv(m), -k
        out = sp.eye(m.rows)
        for _ in range(k):
            out = out * m
        return out

    def eye(self, n):
        return sp.eye(n)

    def ones(self, r, c):
        return sp.ones(r, c)

    def blocksum(self, g, p, q):
        return sp.Matrix(g.rows // p, g.cols // q,
                         lambda i, j: sp.Add(*g[i * p:(i + 1) * p, j * q:(j + 1) * q]))

    def tilesum(self, g, m, n):
        p, q = g.rows // m, g.cols // n
        return sp.Matrix(p, q, lambda k, l: sp.Add(*[g[i * p + k, j * q + l] for i in range(m) for j in range(n)]))


class NumericBackend:
    """float64 NumPy arrays.  Non-finite results are left for the caller to
    detect (a draw that overflows is redrawn, never called a refutation)."""

    def const(self, value: Fraction):
        return np.array([[float(value)]])

    def scalar(self, m):
        return m[0, 0]

    def fill(self, s, shape):
        return np.full(shape, s)

    def matmul(self, a, b):
        return a @ b

    def hadamard(self, a, b):
        return a * b

    def scale(self, s, m):
        return s * m

    def add(self, a, b):
        return a + b

    def neg(self, a):
        return -a

    def transpose(self, a):
        return a.T

    def power(self, s, k):
        return np.array([[s ** float(k)]]) if s != 0 or k >= 0 else np.array([[np.inf]])

    def apply(self, name, order, m, seed):
        return functions.numeric(name, order, seed)(m)

    def sum(self, m):
        return np.array([[m.sum()]])

    def tr(self, m):
        return np.array([[np.trace(m)]])

    def det(self, m):
        return np.array([[np.linalg.det(m)]])

    def logdet(self, m):
        sign, value = np.linalg.slogdet(m)
        return np.array([[value if sign > 0 else np.nan]])

    def inv(self, m):
        if np.linalg.cond(m) > 1e6:
            # ill-conditioned: the inverse carries a relative error ~ cond * 1e-16, which
            # must stay well below the 1e-8 tolerance of the comparison
            return np.full(m.shape, np.nan)
        return np.linalg.inv(m)

    def norm(self, m):
        return np.array([[np.linalg.norm(m)]])

    def kron(self, a, b):
        return np.kron(a, b)

    def matrix_power(self, m, k):
        if k < 0:
            m, k = self.inv(m), -k
        return np.linalg.matrix_power(m, k)

    def eye(self, n):
        return np.eye(n)

    def ones(self, r, c):
        return np.ones((r, c))

    def blocksum(self, g, p, q):
        m, n = g.shape[0] // p, g.shape[1] // q
        return g.reshape(m, p, n, q).sum(axis=(1, 3))

    def tilesum(self, g, m, n):
        p, q = g.shape[0] // m, g.shape[1] // n
        return g.reshape(m, p, n, q).sum(axis=(0, 2))


class Evaluator:
    """Evaluate a typed tree with a backend, at given sizes of the dimensions.

    ``seed`` picks the random member of the smooth family that stands for an
    opaque function in numeric evaluation (unused by the exact backend)."""

    def __init__(self, backend, sizes: dict[str, int], seed: int = 0):
        self.b, self.sizes, self.seed = backend, sizes, seed

    def __call__(self, node: Node, env: dict):
        self.env = env
        return self.eval(node)

    def eval(self, node: Node):
        return getattr(self, "eval_" + type(node).__name__)(node)

    def dim(self, node: Node) -> int:
        if isinstance(node, Num):
            return int(node.value)
        if isinstance(node, Sym):
            return Dim.of(node.name).value(self.sizes)
        return self.dim(node.left) * self.dim(node.right)

    def eval_Num(self, node):
        return self.b.const(node.value)

    def eval_Sym(self, node):
        return self.env[node.name]

    def eval_Neg(self, node):
        return self.b.neg(self.eval(node.arg))

    def _broadcast(self, node, a, b):
        if node.kind == "bcast_l":
            a = self.b.fill(self.b.scalar(a), _shape(b))
        elif node.kind == "bcast_r":
            b = self.b.fill(self.b.scalar(b), _shape(a))
        return a, b

    def eval_Add(self, node):
        a, b = self._broadcast(node, self.eval(node.left), self.eval(node.right))
        return self.b.add(a, b)

    def eval_Sub(self, node):
        a, b = self._broadcast(node, self.eval(node.left), self.eval(node.right))
        return self.b.add(a, self.b.neg(b))

    def _product(self, node, combine):
        a, b = self.eval(node.left), self.eval(node.right)
        if node.kind == "scale_l":
            return self.b.scale(self.b.scalar(a), b)
        if node.kind == "scale_r":
            return self.b.scale(self.b.scalar(b), a)
        return combine(a, b)

    def eval_MatMul(self, node):
        return self._product(node, self.b.matmul)

    def eval_Mul(self, node):
        return self._product(node, self.b.hadamard)

    def eval_Div(self, node):
        a, s = self.eval(node.left), self.b.scalar(self.eval(node.right))
        if s == 0:
            raise ZeroDivisionError("division by zero")
        return self.b.scale(1 / s, a) if isinstance(a, np.ndarray) else self.b.scale(sp.Integer(1) / s, a)

    def eval_Pow(self, node):
        s = self.b.scalar(self.eval(node.base))
        if s == 0 and node.exponent < 0:
            raise ZeroDivisionError("zero to a negative power")
        return self.b.power(s, node.exponent)

    def eval_Transpose(self, node):
        return self.b.transpose(self.eval(node.arg))

    def eval_Apply(self, node):
        return self.b.apply(node.name, node.order, self.eval(node.arg), self.seed)

    def eval_Call(self, node):
        name, args = node.name, node.args
        if name in ("eye",):
            return self.b.eye(self.dim(args[0]))
        if name == "ones":
            return self.b.ones(self.dim(args[0]), self.dim(args[1]))
        if name in ("blocksum", "tilesum"):
            return getattr(self.b, name)(self.eval(args[0]), self.dim(args[1]), self.dim(args[2]))
        if name == "matrix_power":
            return self.b.matrix_power(self.eval(args[0]), int(args[1].value))
        if name == "kron":
            return self.b.kron(self.eval(args[0]), self.eval(args[1]))
        return getattr(self.b, name)(self.eval(args[0]))


def _shape(m):
    return m.shape
