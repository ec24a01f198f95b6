"""A printer of our own: matrix-level gradient expressions -> one NumPy function.

SymPy's ``lambdify`` cannot print elementwise functions of matrix expressions
(and its ``cse=True`` breaks on them), so the network's gradients are taken
from the project's own reverse-mode accumulation (:mod:`symbolic_bp.calculus.gradient`)
*before* simplification -- there every adjoint is built from the nodes of the
forward pass, as in backprop -- and printed here, one NumPy statement per
distinct subexpression: nodes are identified structurally (same operation,
same operands), so every forward quantity (z_k, a_k, f'(z_k)) and every
backward one (delta_k) is computed once, whatever the number of gradients that
use it.

Printing rules worth a word: ``b @ ones(1, N)`` is ``np.broadcast_to`` (a
view), ``G @ ones(N, 1)`` a row sum, ``ones(1, K) @ Y`` a column sum, a scalar
times ``ones(m, n)`` a broadcast; elementwise functions are the stable NumPy
forms of :mod:`symbolic_bp.core.elementwise` (an opaque sigma is the same random smooth
function as in :mod:`symbolic_bp.networks.backprop`).

>>> from symbolic_bp.networks.network import NetworkSpec
>>> from symbolic_bp.networks.backprop import random_parameters, backprop
>>> spec = NetworkSpec.build((3, 4, 2), "tanh", "mse", batch=5)
>>> net = lambdify_network(spec)
>>> p = random_parameters(spec, seed=3)
>>> g = net(p)
>>> import numpy as np
>>> bool(np.allclose(g["dW1"], backprop(spec, p).grads["dW1"], rtol=1e-12, atol=0))
True
>>> net.statements < net.tree_nodes
True
>>> reg = NetworkSpec.build((3, 4, 2), "tanh", "mse", batch=5, penalty="nielsen")
>>> q = random_parameters(reg, seed=3)
>>> bool(np.allclose(lambdify_network(reg)(q)["dW2"], backprop(reg, q).grads["dW2"], rtol=1e-12, atol=0))
True
"""
from __future__ import annotations

import keyword
from dataclasses import dataclass, replace

import numpy as np

from .backprop import f as activation
from ..core import registry
from ..core.dims import ONE, Dim
from ..core.expression import Apply, Broadcast, Call, Hadamard, MatMul, Neg, Node, Num, Pow, Scale, Sym, Transpose
from ..calculus.gradient import Backprop
from .network import LAMBDA, NetworkSpec
from ..language.shapes import Declarations, parse_declarations, parse_typed


def python_name(name: str) -> str:
    """A symbol's name as a Python identifier (the penalty's ``lambda`` is a keyword)."""
    return f"{name}_" if keyword.iskeyword(name) else name


def _is_ones(node: Node) -> bool:
    return (isinstance(node, Call) and node.name == "ones") or \
        (isinstance(node, Transpose) and isinstance(node.arg, Call) and node.arg.name == "ones")


def _ones_shape(node: Node) -> tuple[Dim, Dim]:
    call = node if isinstance(node, Call) else node.arg
    r, c = call.params
    return (c, r) if isinstance(node, Transpose) else (r, c)


class NumpyPrinter:
    """Collects one statement per distinct subexpression."""

    def __init__(self, inputs: set[str]):
        self.inputs = inputs
        self.lines: list[str] = []
        self.by_id: dict[int, str] = {}
        self.by_key: dict[tuple, str] = {}
        self.functions: dict[str, tuple[str, int]] = {}
        self.visited = 0

    def __call__(self, node: Node) -> str:
        """The name (or literal) holding the value of ``node``."""
        known = self.by_id.get(id(node))
        if known is not None:
            return known
        self.visited += 1
        out = self.emit(node)
        self.by_id[id(node)] = out
        return out

    def bind(self, key: tuple, code: str) -> str:
        if key in self.by_key:
            return self.by_key[key]
        name = f"t{len(self.by_key)}"
        self.by_key[key] = name
        self.lines.append(f"{name} = {code}")
        return name

    @staticmethod
    def dim(d: Dim) -> str:
        """A dimension as code: the size names are the function's local variables."""
        factors = d.factors()
        return factors[0] if len(factors) == 1 else "(" + " * ".join(factors) + ")"

    # -- one rule per node type ---------------------------------------------------
    def emit(self, node: Node) -> str:
        return getattr(self, "emit_" + type(node).__name__)(node)

    def emit_Sym(self, node: Sym) -> str:
        return python_name(node.name)

    def emit_Num(self, node: Num) -> str:
        return repr(float(node.value))

    def emit_Neg(self, node: Neg) -> str:
        a = self(node.arg)
        return self.bind(("neg", a), f"-{a}")

    def _binary(self, op: str, node: Node) -> str:
        a, b = self(node.left), self(node.right)
        return self.bind((op, a, b), f"{a} {op} {b}")

    def emit_Add(self, node):
        return self._binary("+", node)

    def emit_Sub(self, node):
        return self._binary("-", node)

    def emit_Div(self, node):
        return self._binary("/", node)

    def emit_MatMul(self, node: MatMul) -> str:
        left, right = node.left, node.right
        if _is_ones(right):
            a = self(left)
            rows, cols = _ones_shape(right)
            if cols == ONE:                                          # G @ ones(N, 1): row sums
                return self.bind(("rowsum", a), f"{a}.sum(axis=1, keepdims=True)")
            # X @ ones(1, N) with X a column: the column repeated, as a view
            return self.bind(("bcast", a, self.dim(cols)), f"np.broadcast_to({a}, ({a}.shape[0], {self.dim(cols)}))")
        if _is_ones(left):
            b = self(right)
            rows, cols = _ones_shape(left)
            if rows == ONE:                                          # ones(1, K) @ Y: column sums
                return self.bind(("colsum", b), f"{b}.sum(axis=0, keepdims=True)")
            return self.bind(("bcastr", b, self.dim(rows)), f"np.broadcast_to({b}, ({self.dim(rows)}, {b}.shape[1]))")
        return self._binary("@", node)

    def emit_Hadamard(self, node: Hadamard) -> str:
        return self._binary("*", node)

    def emit_Scale(self, node: Scale) -> str:
        if _is_ones(node.matrix):                                    # s * ones(r, c): a broadcast
            a = self(node.scalar)
            r, c = _ones_shape(node.matrix)
            return self.bind(("fill", a, self.dim(r), self.dim(c)),
                             f"np.broadcast_to({a}, ({self.dim(r)}, {self.dim(c)}))")
        return self._binary("*", node)

    def emit_Broadcast(self, node: Broadcast) -> str:
        return self(node.arg)        # NumPy broadcasts a (1, 1) array itself

    def emit_Pow(self, node: Pow) -> str:
        a = self(node.base)
        return self.bind(("pow", a, node.exponent), f"{a} ** {float(node.exponent)!r}")

    def emit_Transpose(self, node: Transpose) -> str:
        a = self(node.arg)
        return self.bind(("T", a), f"{a}.T")

    def emit_Apply(self, node: Apply) -> str:
        a = self(node.arg)
        fname = f"f_{node.name}_{node.order}"
        self.functions[fname] = (node.name, node.order)
        return self.bind((fname, a), f"{fname}({a})")

    def emit_Call(self, node: Call) -> str:
        op = registry.operation(node.name)
        if op.numpy is None:
            raise NotImplementedError(f"{node.name}() is not printed to NumPy")
        args = [self(a) for a in node.args]
        params = [self.dim(p) if isinstance(p, Dim) else str(p) for p in node.params]
        return self.bind((node.name, *args, *params), op.numpy(args, params))


@dataclass
class LambdifiedNetwork:
    """The generated function; call it with canonical parameters (W1.., b1..,
    x, y, and lambda with a penalty), get dW1.., db1...  ``source`` is the
    generated code."""

    spec: NetworkSpec
    source: str
    function: object
    statements: int
    tree_nodes: int

    def __call__(self, params: dict) -> dict:
        return self.function(**{python_name(k): params[k] for k in _inputs(self.spec)})


def _inputs(spec: NetworkSpec) -> list[str]:
    return spec.parameters() + ["x", "y"] + ([LAMBDA] if spec.penalty else [])


class _DagBackprop(Backprop):
    """Reverse mode on the DAG of distinct subexpressions, as backprop does it:
    the adjoints reaching a node are summed first, then its local rule (the
    one of :mod:`symbolic_bp.calculus.gradient`) runs once."""

    def __init__(self, wrt, decls):
        super().__init__(wrt, decls)
        self.pending: dict[Node, list[Node]] = {}
        self._depends: dict[Node, bool] = {}

    def depends(self, node: Node) -> bool:
        if node not in self._depends:
            self._depends[node] = (isinstance(node, Sym) and node.name in self.wrt) or \
                any(self.depends(c) for c in node.children())
        return self._depends[node]

    def push(self, node: Node, g: Node) -> None:
        if self.depends(node):
            self.pending.setdefault(node, []).append(g)

    def run(self, cost: Node) -> None:
        order, seen = [], set()

        def visit(node):                       # post-order: children before parents
            if node in seen:
                return
            seen.add(node)
            for child in node.children():
                visit(child)
            order.append(node)
        visit(cost)
        self.push(cost, self.b.number(1))
        for node in reversed(order):           # parents before children
            parts = self.pending.pop(node, None)
            if not parts:
                continue
            total = parts[0]
            for part in parts[1:]:
                total = self.b.add(total, part)
            self.rule(node, total)


def gradient_parts(spec: NetworkSpec) -> tuple[Declarations, dict]:
    """The unsimplified reverse-mode adjoint of every parameter: name -> parts."""
    named = replace(spec, named=True, layout="columns")      # canonical parameters in, canonical gradients out
    decls = parse_declarations(named.declarations())
    cost = parse_typed(named.cost_text(), decls)
    back = _DagBackprop(set(spec.parameters()), decls)
    back.run(cost)
    return decls, {name: back.found[name] for name in spec.parameters()}


def _count(nodes) -> int:
    return sum(1 for node in nodes for _ in node.walk())


def lambdify_network(spec: NetworkSpec) -> LambdifiedNetwork:
    """Generate and compile the NumPy gradient function of ``spec``."""
    if not isinstance(spec, NetworkSpec):
        raise TypeError(f"expected a NetworkSpec, got {type(spec).__name__}")
    decls, parts = gradient_parts(spec)
    params = spec.parameters()
    printer = NumpyPrinter(set(_inputs(spec)))
    outputs = []
    for name in params:
        names = [printer(part) for part in parts[name]] or ["0.0"]
        outputs.append((f"d{name}", " + ".join(names)))
    args = ", ".join(map(python_name, _inputs(spec)))
    dims = ["n0, N = x.shape"] + [f"n{k} = W{k}.shape[0]" for k in range(1, spec.depth + 1)]
    body = dims + printer.lines + [f"{out} = {code}" for out, code in outputs]
    result = "{" + ", ".join(f"{out!r}: np.asarray({out})" for out, _ in outputs) + "}"
    source = f"def gradients({args}):\n" + "".join(f"    {line}\n" for line in body) + f"    return {result}\n"
    namespace = {"np": np}
    namespace.update({fname: activation(name, order) for fname, (name, order) in printer.functions.items()})
    exec(compile(source, f"<lambdified {spec.describe()}>", "exec"), namespace)   # our own generated code
    net = LambdifiedNetwork(spec, source, namespace["gradients"], len(printer.lines),
                            _count(p for ps in parts.values() for p in ps))
    assert net.statements > 0, source
    return net
