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

from ..core import elementwise
from ..core import registry
from ..core.expression import Node
from ..core.dims import Dim, concrete


class _Backend:
    """What SymPy matrices and NumPy arrays write alike."""

    def scalar(self, m):
        return m[0, 0]

    def add(self, a, b):
        return a + b

    def neg(self, a):
        return -a

    def transpose(self, a):
        return a.T


class ExactBackend(_Backend):
    """SymPy matrices; elementwise function arguments are expanded so that
    equal arguments are written alike."""

    def const(self, value: Fraction):
        return sp.Matrix([[sp.Rational(value.numerator, value.denominator)]])

    def fill(self, s, shape):
        return sp.Matrix(shape[0], shape[1], lambda i, j: s)

    def broadcast(self, m, shape):
        return sp.Matrix(shape[0], shape[1], lambda i, j: m[i % m.rows, j % m.cols])

    def matmul(self, a, b):
        # written out: SymPy's own product first searches a polynomial domain
        # for the entries, which costs far more than the product itself here
        inner = range(a.cols)
        return sp.Matrix(a.rows, b.cols, lambda i, j: sp.Add(*[a[i, k] * b[k, j] for k in inner]))

    def hadamard(self, a, b):
        return a.multiply_elementwise(b)

    def scale(self, s, m):
        return m * s

    def power(self, s, k):
        return sp.Matrix([[s ** k]])

    def apply(self, name, order, m, seed):
        f = elementwise.exact(name, order)
        return m.applyfunc(lambda t: f(sp.expand(t)))

    def call(self, op, args, params):
        return op.exact(*args, *params)


class NumericBackend(_Backend):
    """float64 NumPy arrays.  Non-finite results are left for the caller to
    detect (a draw that overflows is redrawn, never called a refutation)."""

    def const(self, value: Fraction):
        return np.array([[float(value)]])

    def fill(self, s, shape):
        return np.full(shape, s)

    def broadcast(self, m, shape):
        return np.broadcast_to(m, shape).copy()

    def matmul(self, a, b):
        return a @ b

    def hadamard(self, a, b):
        return a * b

    def scale(self, s, m):
        return s * m

    def power(self, s, k):
        return np.array([[s ** float(k)]]) if s != 0 or k >= 0 else np.array([[np.inf]])

    def apply(self, name, order, m, seed):
        return elementwise.numeric(name, order, seed)(m)

    def call(self, op, args, params):
        return op.numeric(*args, *params)


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

    def eval_Num(self, node):
        return self.b.const(node.value)

    def eval_Sym(self, node):
        return self.env[node.name]

    def eval_Neg(self, node):
        return self.b.neg(self.eval(node.arg))

    def eval_Broadcast(self, node):
        shape = concrete(node.shape, self.sizes)
        value = self.eval(node.arg)
        if node.arg.shape[0] == node.arg.shape[1] == Dim(1):
            return self.b.fill(self.b.scalar(value), shape)
        return self.b.broadcast(value, shape)         # a row or a column, repeated (NumPy's rule)

    def eval_Add(self, node):
        return self.b.add(self.eval(node.left), self.eval(node.right))

    def eval_Sub(self, node):
        return self.b.add(self.eval(node.left), self.b.neg(self.eval(node.right)))

    def eval_Scale(self, node):
        return self.b.scale(self.b.scalar(self.eval(node.scalar)), self.eval(node.matrix))

    def eval_MatMul(self, node):
        return self.b.matmul(self.eval(node.left), self.eval(node.right))

    def eval_Hadamard(self, node):
        return self.b.hadamard(self.eval(node.left), self.eval(node.right))

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
        # dimension parameters at these sizes; integer parameters as they are
        params = [p.value(self.sizes) if isinstance(p, Dim) else p for p in node.params]
        return self.b.call(registry.operation(node.name), [self.eval(a) for a in node.args], params)
