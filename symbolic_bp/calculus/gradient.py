"""The project's own matrix-calculus: reverse-mode accumulation on the tree.

For a scalar cost C and a node N of the cost with adjoint G = dC/dN (shape of
N), each rule below hands every child its share of G.  The rules are the
standard matrix identities, one per operation; the result is simplified by
:mod:`symbolic_bp.calculus.simplify` into readable claim-language text.

Convention: the gradient with respect to X has the shape of X, entry (i,j)
being dC/dX_ij, with the entries of X treated as independent even when X is
declared symmetric (the "unstructured" gradient).

>>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
>>> from symbolic_bp.language.printer import to_text
>>> d = parse_declarations("A:m,n x:n y:m")
>>> to_text(gradient(parse_typed("y.T @ A @ x", d), "A", d))
'y @ x.T'
>>> to_text(gradient(parse_typed("1/2 * x.T @ A.T @ A @ x", d), "A", d))
'A @ x @ x.T'
"""
from __future__ import annotations

from fractions import Fraction

from ..core.expression import (
    Add, Apply, Call, Div, MatMul, Mul, Neg, Node, Num, Pow, Sub, Sym, Transpose, num,
)
from ..language.shapes import MAX_DIM, Declarations, Dim, Typer, is_scalar
from .simplify import simplify


class _Builder:
    """Smart constructors: build a node from typed children and type it."""

    def __init__(self, decls: Declarations):
        self.type = Typer(decls)

    def matmul(self, a, b):
        return self.type(MatMul(left=a, right=b))

    def mul(self, a, b):
        return self.type(Mul(left=a, right=b))

    def add(self, a, b):
        return self.type(Add(left=a, right=b))

    def neg(self, a):
        return self.type(Neg(arg=a))

    def div(self, a, b):
        return self.type(Div(left=a, right=b))

    def pow(self, a, k):
        return self.type(Pow(base=a, exponent=k))

    def t(self, a):
        return self.type(Transpose(arg=a))

    def call(self, name, *args):
        return self.type(Call(name=name, args=tuple(args)))

    def apply(self, name, arg, order):
        return self.type(Apply(name=name, arg=arg, order=order))

    def dim(self, d: Dim) -> Node:
        """A dimension as a node that eye/ones accept."""
        node = None
        # a literal dimension is at most MAX_DIM: write 1024 (of kron) as 32*32
        for factor in _dim_factors(d.coef) if d.coef != 1 or not d.names else ():
            node = num(factor) if node is None else Mul(left=node, right=num(factor))
        for name in d.names:
            s = Sym(name=name)
            node = s if node is None else Mul(left=node, right=s)
        return node

    def ones(self, shape):
        return self.call("ones", self.dim(shape[0]), self.dim(shape[1]))

    def eye(self, d):
        return self.call("eye", self.dim(d))

    def number(self, value):
        return self.type(num(value))


def _dim_factors(n: int) -> list[int]:
    """Factors of ``n`` (a product of declared literal dimensions), each <= MAX_DIM."""
    factors = []
    while n > MAX_DIM:
        factor = max(f for f in range(2, MAX_DIM + 1) if n % f == 0)
        factors.append(factor)
        n //= factor
    return factors + [n]


class _Backprop:
    """Walk the cost tree from the root, pushing adjoints to the leaves."""

    def __init__(self, wrt: set[str], decls: Declarations):
        self.b = _Builder(decls)
        self.wrt = wrt
        self.found: dict[str, list[Node]] = {name: [] for name in wrt}

    def push(self, node: Node, g: Node) -> None:
        if not self.depends(node):
            return
        getattr(self, "rule_" + type(node).__name__)(node, g)

    def depends(self, node: Node) -> bool:
        return any(isinstance(n, Sym) and n.name in self.wrt for n in node.walk())

    # -- one local rule per operation -----------------------------------------
    def rule_Sym(self, node: Sym, g):
        self.found[node.name].append(g)

    def rule_Neg(self, node: Neg, g):
        self.push(node.arg, self.b.neg(g))

    def _share(self, child, g, broadcast: bool, sign: int = 1):
        # a broadcast scalar receives the sum of the adjoint
        share = self.b.call("sum", g) if broadcast else g
        self.push(child, share if sign > 0 else self.b.neg(share))

    def rule_Add(self, node: Add, g):
        self._share(node.left, g, node.kind == "bcast_l")
        self._share(node.right, g, node.kind == "bcast_r")

    def rule_Sub(self, node: Sub, g):
        self._share(node.left, g, node.kind == "bcast_l")
        self._share(node.right, g, node.kind == "bcast_r", sign=-1)

    def _scale(self, s, m, g):
        """N = s * M with s scalar: ds = sum(G * M), dM = s * G."""
        self.push(s, self.b.call("sum", self.b.mul(g, m)))
        self.push(m, self.b.mul(s, g))

    def rule_MatMul(self, node: MatMul, g):
        a, b = node.left, node.right
        if node.kind == "scale_l":
            return self._scale(a, b, g)
        if node.kind == "scale_r":
            return self._scale(b, a, g)
        self.push(a, self.b.matmul(g, self.b.t(b)))        # d(AB)/dA: G B^T
        self.push(b, self.b.matmul(self.b.t(a), g))        # d(AB)/dB: A^T G

    def rule_Mul(self, node: Mul, g):
        a, b = node.left, node.right
        if node.kind == "scale_l":
            return self._scale(a, b, g)
        if node.kind == "scale_r":
            return self._scale(b, a, g)
        self.push(a, self.b.mul(g, b))                     # d(A*B)/dA: G * B
        self.push(b, self.b.mul(g, a))

    def rule_Div(self, node: Div, g):
        a, s = node.left, node.right
        self.push(a, self.b.div(g, s))                     # d(A/s)/dA = G / s
        # d(A/s)/ds = -sum(G * A) / s^2
        self.push(s, self.b.neg(self.b.div(self.b.call("sum", self.b.mul(g, a)), self.b.pow(s, 2))))

    def rule_Pow(self, node: Pow, g):
        k = node.exponent
        if k == 0:
            return
        factor = self.b.number(k) if k == 1 else self.b.mul(self.b.number(k), self.b.pow(node.base, k - 1))
        self.push(node.base, self.b.mul(factor, g))        # d(s^k)/ds = k s^(k-1)

    def rule_Transpose(self, node: Transpose, g):
        self.push(node.arg, self.b.t(g))

    def rule_Apply(self, node: Apply, g):
        # elementwise f: dC/du = G * f'(u)
        self.push(node.arg, self.b.mul(g, self.b.apply(node.name, node.arg, node.order + 1)))

    def rule_Call(self, node: Call, g):
        getattr(self, "call_" + node.name)(node, g)

    def call_sum(self, node, g):
        x = node.args[0]
        self.push(x, self.b.mul(g, self.b.ones(x.shape)))  # d sum(X)/dX = ones

    def call_tr(self, node, g):
        x = node.args[0]
        self.push(x, self.b.mul(g, self.b.eye(x.shape[0])))  # d tr(X)/dX = I

    def call_norm(self, node, g):
        x = node.args[0]
        self.push(x, self.b.mul(g, self.b.div(x, node)))  # d ||X||/dX = X / ||X||

    def call_inv(self, node, g):
        x = node.args[0]
        inv_t = self.b.t(node)
        # d inv(X) = -inv(X) dX inv(X)  =>  dX: -inv(X)^T G inv(X)^T
        self.push(x, self.b.neg(self.b.matmul(self.b.matmul(inv_t, g), inv_t)))

    def call_det(self, node, g):
        x = node.args[0]
        # d det(X)/dX = det(X) inv(X)^T
        self.push(x, self.b.mul(self.b.mul(g, node), self.b.t(self.b.call("inv", x))))

    def call_logdet(self, node, g):
        x = node.args[0]
        self.push(x, self.b.mul(g, self.b.t(self.b.call("inv", x))))  # d log det X/dX = inv(X)^T

    def call_matrix_power(self, node, g):
        x, k = node.args[0], int(node.args[1].value)
        if k < 0:
            # X^k = inv(X)^(-k): push through the power, then through inv
            y = self.b.call("inv", x)
            self.push(self.b.call("matrix_power", y, self.b.number(-k)), g)
            return
        # d X^k = sum_i X^i dX X^(k-1-i)  =>  dX: sum_i (X^i)^T G (X^(k-1-i))^T
        def power(i):
            return self.b.eye(x.shape[0]) if i == 0 else x if i == 1 else self.b.call("matrix_power", x, self.b.number(i))
        for i in range(k):
            self.push(x, self.b.matmul(self.b.matmul(self.b.t(power(i)), g), self.b.t(power(k - 1 - i))))

    def call_kron(self, node, g):
        a, b = node.args
        # (A kron B)[(i,k),(j,l)] = A_ij B_kl: dA_ij = sum of block (i,j) of G * B
        self.push(a, self.b.call("blocksum", self.b.mul(g, self.b.call("kron", self.b.ones(a.shape), b)),
                                 self.b.dim(b.shape[0]), self.b.dim(b.shape[1])))
        self.push(b, self.b.call("tilesum", self.b.mul(g, self.b.call("kron", a, self.b.ones(b.shape))),
                                 self.b.dim(a.shape[0]), self.b.dim(a.shape[1])))

    def call_blocksum(self, node, g):
        p, q = node.args[1], node.args[2]
        self.push(node.args[0], self.b.call("kron", g, self.b.call("ones", p, q)))

    def call_tilesum(self, node, g):
        m, n = node.args[1], node.args[2]
        self.push(node.args[0], self.b.call("kron", self.b.call("ones", m, n), g))

    def call_eye(self, node, g):  # pragma: no cover - constant, never depends
        pass

    call_ones = call_eye


def gradients(cost: Node, wrt: list[str], decls: Declarations) -> dict[str, Node]:
    """dC/dX for every X in ``wrt``, simplified; a zero gradient is ``0``."""
    if not is_scalar(cost.shape):
        raise ValueError("the cost must be a scalar")
    back = _Backprop(set(wrt), decls)
    back.push(cost, back.b.number(1))
    out = {}
    for name in wrt:
        parts = back.found[name]
        total = parts[0] if parts else back.b.number(0)
        for part in parts[1:]:
            total = back.b.add(total, part)
        out[name] = simplify(total, decls)
    return out


def gradient(cost: Node, wrt: str, decls: Declarations) -> Node:
    """dC/d``wrt`` as a typed, simplified tree."""
    return gradients(cost, [wrt], decls)[wrt]
