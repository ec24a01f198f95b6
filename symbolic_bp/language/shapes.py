"""Symbol declarations and shape inference.

Declarations are written ``A:m,n x:n y:m s:scalar S:n,n:symmetric``: a name,
a colon, the dimensions (names or positive integers; one dimension means a
column vector) or ``scalar``, and optionally ``:symmetric``, ``:spd``
(symmetric positive definite) or ``:invertible`` for square matrices.

:func:`typecheck` returns a copy of an expression tree in which every node
has its ``shape`` (a pair of :class:`Dim`) and the overloaded operators have
their ``kind``.  A 1x1 result acts as a scalar wherever a scalar fits.

>>> decls = parse_declarations("A:m,n x:n y:m")
>>> typecheck(parse("y.T @ A @ x"), decls).shape
(Dim('1'), Dim('1'))
>>> typecheck(parse("A @ y"), decls)
Traceback (most recent call last):
...
symbolic_bp.errors.InputError: column 3: shape mismatch in 'A @ y': (m,n) @ (m,1): inner dimensions n and m differ
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..core import registry
from ..core.dims import MAX_DIM, ONE, SCALAR, Dim, concrete, is_scalar, show
from ..core.expression import (
    Add, Apply, Binary, Broadcast, Call, Div, Hadamard, MatMul, Mul, Neg, Node, Num, Pow, Scale, Sub, Sym,
    Transpose, num,
)
from ..errors import InputError
from .parser import parse
from .printer import to_text

PROPERTIES = ("symmetric", "spd", "invertible")
# re-exported for the passes that read shapes: the dimension type lives in the core
__all__ = ["Dim", "ONE", "SCALAR", "MAX_DIM", "is_scalar", "show", "concrete", "Declarations", "Symbol",
           "parse_declarations", "typecheck", "parse_typed", "untype", "Typer"]


@dataclass(frozen=True)
class Symbol:
    name: str
    shape: tuple[Dim, Dim]
    prop: str | None = None   # "scalar" | "symmetric" | "spd" | "invertible" | None


@dataclass(frozen=True)
class Declarations:
    symbols: dict[str, Symbol]
    dims: tuple[str, ...]          # size names, in order of first appearance
    functions: tuple[str, ...] = ()  # declared opaque elementwise functions (``sigma:function``)

    def __str__(self) -> str:
        out = [f"{f}:function" for f in self.functions]
        for s in self.symbols.values():
            if s.prop == "scalar":
                out.append(f"{s.name}:scalar")
            else:
                dims = f"{s.shape[0]}" if s.shape[1] == ONE else f"{s.shape[0]},{s.shape[1]}"
                out.append(f"{s.name}:{dims}" + (f":{s.prop}" if s.prop else ""))
        return " ".join(out)


_ITEM = re.compile(r"\S+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def parse_declarations(text: str) -> Declarations:
    """Parse ``"A:m,n x:n s:scalar S:n,n:spd sigma:function"`` into :class:`Declarations`.

    >>> d = parse_declarations("A:m,n x:n s:scalar g:function")
    >>> [show(s.shape) for s in d.symbols.values()], d.dims, d.functions
    (['(m,n)', '(n,1)', '(1,1)'], ('m', 'n'), ('g',))
    """
    if not isinstance(text, str):
        raise InputError(f"shapes must be a string, got {type(text).__name__}")
    if len(text) > 10_000:
        raise InputError("shapes: declarations longer than 10000 characters")
    symbols: dict[str, Symbol] = {}
    dims: list[str] = []
    functions: list[str] = []
    reserved = registry.reserved()
    for m in _ITEM.finditer(text.replace(";", " ")):
        item, col = m.group(), m.start() + 1
        where = f"column {col}: declaration {item[:40]!r}"
        parts = item.split(":")
        if len(parts) < 2 or len(parts) > 3:
            raise InputError(f"{where}: expected name:dims, name:dims:property, name:scalar or name:function")
        name, dimtext = parts[0], parts[1]
        if not _NAME.match(name):
            raise InputError(f"{where}: {name!r} is not a valid name")
        if name in reserved:
            raise InputError(f"{where}: {name!r} is a function name and cannot be declared")
        if name in symbols or name in functions:
            raise InputError(f"{where}: {name!r} is declared twice")
        prop = parts[2] if len(parts) == 3 else None
        if dimtext == "function":
            if prop is not None:
                raise InputError(f"{where}: a function takes no property")
            functions.append(name)
            continue
        if dimtext == "scalar":
            if prop is not None:
                raise InputError(f"{where}: a scalar takes no property")
            symbols[name] = Symbol(name, SCALAR, "scalar")
            continue
        entries = dimtext.split(",")
        if len(entries) > 2 or "" in entries:
            raise InputError(f"{where}: give one dimension (a column vector) or two (a matrix)")
        shape = []
        for d in entries:
            if d.isdigit():
                value = int(d)
                if not 1 <= value <= MAX_DIM:
                    raise InputError(f"{where}: dimension {d[:20]} must be between 1 and {MAX_DIM}")
                shape.append(Dim(value))
            elif _NAME.match(d):
                if d in reserved:
                    raise InputError(f"{where}: {d!r} is a function name and cannot be a dimension")
                if d not in dims:
                    dims.append(d)
                shape.append(Dim.of(d))
            else:
                raise InputError(f"{where}: {d[:20]!r} is neither a dimension name nor a positive integer")
        if len(shape) == 1:
            shape.append(ONE)
        if prop is not None:
            if prop not in PROPERTIES:
                raise InputError(f"{where}: unknown property {prop!r} (known: {', '.join(PROPERTIES)})")
            if shape[0] != shape[1]:
                raise InputError(f"{where}: a {prop} matrix must be square")
        symbols[name] = Symbol(name, tuple(shape), prop)
    if not symbols:
        raise InputError("no symbols declared")
    clash = (set(symbols) | set(functions)) & set(dims)
    if clash:
        raise InputError(f"{sorted(clash)[0]!r} is used both as a {'function' if clash & set(functions) else 'symbol'} "
                         "and as a dimension")
    return Declarations(symbols, tuple(dims), tuple(functions))


# ---------------------------------------------------------------------------
# the type pass: shape inference, lowering surface nodes into explicit core nodes

class Typer:
    """Type a tree: every node gets its shape, and the overloaded surface
    operators become explicit core nodes (:mod:`symbolic_bp.core.expression`)."""

    def __init__(self, decls: Declarations):
        self.decls = decls

    def __call__(self, node: Node) -> Node:
        if node.shape is not None:      # already typed (derivations build mixed trees)
            return node
        return getattr(self, "type_" + type(node).__name__)(node)

    def mismatch(self, node: Node, detail: str) -> InputError:
        return InputError(f"column {node.pos}: shape mismatch in {_snippet(node)!r}: {detail}")

    def type_Num(self, node: Num) -> Node:
        return replace(node, shape=SCALAR)

    def type_Sym(self, node: Sym) -> Node:
        sym = self.decls.symbols.get(node.name)
        if sym is None:
            if node.name in self.decls.dims:
                raise InputError(f"column {node.pos}: {node.name!r} is a dimension, not a symbol")
            if node.name in self.decls.functions:
                raise InputError(f"column {node.pos}: {node.name!r} is a declared function, not a symbol")
            known = ", ".join(self.decls.symbols)
            raise InputError(f"column {node.pos}: unknown name {node.name!r} (declared: {known})")
        return replace(node, shape=sym.shape)

    def type_Neg(self, node: Neg) -> Node:
        arg = self(node.arg)
        return replace(node, arg=arg, shape=arg.shape)

    def _sum(self, node: Binary, sign: str) -> Node:
        # equal shapes; a 1x1 operand beside a matrix is broadcast to its shape
        left, right = self(node.left), self(node.right)
        if left.shape == right.shape:
            shape = left.shape
        elif is_scalar(left.shape):
            shape, left = right.shape, Broadcast(arg=left, shape=right.shape, pos=left.pos)
        elif is_scalar(right.shape):
            shape, right = left.shape, Broadcast(arg=right, shape=left.shape, pos=right.pos)
        else:
            raise self.mismatch(node, f"{show(left.shape)} {sign} {show(right.shape)}")
        return replace(node, left=left, right=right, shape=shape)

    def type_Add(self, node: Add) -> Node:
        return self._sum(node, "+")

    def type_Sub(self, node: Sub) -> Node:
        return self._sum(node, "-")

    def _scale(self, node: Binary, left: Node, right: Node, written: str) -> Node | None:
        """``s * M`` or ``M @ s`` with a 1x1 operand: a :class:`Scale`, else None."""
        for s, m in ((left, right), (right, left)):
            if is_scalar(s.shape):
                return Scale(left=left, right=right, written=written, shape=m.shape, pos=node.pos)
        return None

    def type_MatMul(self, node: MatMul) -> Node:
        left, right = self(node.left), self(node.right)
        if left.shape[1] == right.shape[0]:
            return MatMul(left=left, right=right, shape=(left.shape[0], right.shape[1]), pos=node.pos)
        scaled = self._scale(node, left, right, "@")
        if scaled is None:
            hint = "; did you mean the Hadamard product '*'?" if left.shape == right.shape else ""
            raise self.mismatch(node, f"{show(left.shape)} @ {show(right.shape)}: inner dimensions "
                                      f"{left.shape[1]} and {right.shape[0]} differ{hint}")
        return scaled

    def type_Mul(self, node: Mul) -> Node:
        left, right = self(node.left), self(node.right)
        if left.shape == right.shape:
            return Hadamard(left=left, right=right, shape=left.shape, pos=node.pos)
        scaled = self._scale(node, left, right, "*")
        if scaled is None:
            hint = "; did you mean the matrix product '@'?" if left.shape[1] == right.shape[0] else ""
            raise self.mismatch(node, f"{show(left.shape)} * {show(right.shape)}: the Hadamard "
                                      f"product needs equal shapes{hint}")
        return scaled

    def type_Hadamard(self, node: Hadamard) -> Node:
        left, right = self(node.left), self(node.right)
        if left.shape != right.shape:
            raise self.mismatch(node, f"{show(left.shape)} * {show(right.shape)}: the Hadamard "
                                      "product needs equal shapes")
        return replace(node, left=left, right=right, shape=left.shape)

    def type_Scale(self, node: Scale) -> Node:
        left, right = self(node.left), self(node.right)
        scaled = self._scale(node, left, right, node.written)
        if scaled is None:
            raise self.mismatch(node, f"{show(left.shape)} {node.written} {show(right.shape)}: "
                                      "a scaling needs a 1x1 operand")
        return scaled

    def type_Div(self, node: Div) -> Node:
        left, right = self(node.left), self(node.right)
        if not is_scalar(right.shape):
            raise self.mismatch(node, f"{show(left.shape)} / {show(right.shape)}: only division by a scalar is defined")
        return replace(node, left=left, right=right, shape=left.shape)

    def type_Pow(self, node: Pow) -> Node:
        base = self(node.base)
        if not is_scalar(base.shape):
            raise self.mismatch(node, f"{show(base.shape)} ** {node.exponent}: '**' needs a scalar base "
                                      "(use matrix_power(X, k), or '*' for elementwise products)")
        return replace(node, base=base, shape=SCALAR)

    def type_Transpose(self, node: Transpose) -> Node:
        arg = self(node.arg)
        return replace(node, arg=arg, shape=(arg.shape[1], arg.shape[0]))

    def type_Apply(self, node: Apply) -> Node:
        name = node.name
        if name in self.decls.symbols:
            raise InputError(f"column {node.pos}: {name!r} is a declared symbol, not a function")
        if name in self.decls.dims:
            raise InputError(f"column {node.pos}: {name!r} is a dimension, not a function")
        if registry.elementwise(name) is None and name not in self.decls.functions:
            blocked = registry.unsupported(name)
            raise InputError(f"column {node.pos}: {blocked.reason if blocked else registry.unknown_function(name)}")
        arg = self(node.arg)
        return replace(node, arg=arg, shape=arg.shape)

    def type_Call(self, node: Call) -> Node:
        op = registry.operation(node.name)
        if op is None:
            expansion = registry.macro(node.name)
            if expansion is None:
                raise InputError(f"column {node.pos}: {registry.unknown_function(node.name)}")
            return self(expansion.expand(node.args))
        if node.params:              # built by a pass: the parameters are already Dims/ints
            params, arg_nodes = node.params, node.args
        else:
            arg_nodes = node.args[:op.arity]
            params = tuple(getattr(self, "param_" + kind)(node, a) for kind, a in zip(op.params, node.args[op.arity:]))
        args = tuple(self(a) for a in arg_nodes)
        try:
            shape = op.shape(tuple(a.shape for a in args), params)
        except registry.ShapeError as e:
            raise self.mismatch(node, str(e)) from None
        return replace(node, args=args, params=params, shape=shape)

    def param_dim(self, call: Call, node: Node) -> Dim:
        """A function argument read as a dimension: ``n``, ``3``, ``m*n``."""
        if isinstance(node, Num) and node.value.denominator == 1 and 1 <= node.value <= MAX_DIM:
            return Dim(int(node.value))
        if isinstance(node, Sym) and node.name in self.decls.dims:
            return Dim.of(node.name)
        if isinstance(node, Mul):
            return self.param_dim(call, node.left) * self.param_dim(call, node.right)
        raise InputError(f"column {node.pos}: {_snippet(node)!r} is not a dimension "
                         f"(declared dimensions: {', '.join(self.decls.dims) or 'none'})")

    def param_int(self, call: Call, node: Node) -> int:
        k = node
        if isinstance(k, Neg) and isinstance(k.arg, Num):
            k = replace(k.arg, value=-k.arg.value)
        if not (isinstance(k, Num) and k.value.denominator == 1 and abs(k.value) <= 64):
            raise InputError(f"column {node.pos}: {call.name} needs an integer literal "
                             "between -64 and 64 as its exponent")
        return int(k.value)


def _snippet(node: Node) -> str:
    text = to_text(node)
    return text if len(text) <= 60 else text[:57] + "..."


def typecheck(node: Node, decls: Declarations) -> Node:
    """Return a typed copy of ``node``; raise :class:`InputError` on a mismatch."""
    return Typer(decls)(node)


def parse_typed(text: str, decls: Declarations) -> Node:
    """Parse and typecheck an expression."""
    return typecheck(parse(text), decls)


def opaque_functions(node: Node) -> set[str]:
    """Names of the opaque (declared, not registered) elementwise functions used in ``node``."""
    return {n.name for n in node.walk() if isinstance(n, Apply) and registry.elementwise(n.name) is None}


def _dim_node(d: Dim) -> Node:
    """A dimension written as a surface node: ``2*n`` -> ``Mul(2, n)``."""
    node = None
    for factor in d.factors():
        leaf = num(int(factor)) if factor.isdigit() else Sym(name=factor)
        node = leaf if node is None else Mul(left=node, right=leaf)
    return node


def surface(node: Node) -> Node:
    """One typed node back in its surface form, its children as they are:
    the node the user wrote, for the type pass to read again.

    >>> d = parse_declarations("A:m,n s:scalar")
    >>> type(surface(parse_typed("s * A", d))).__name__
    'Mul'
    """
    if node.shape is None:
        return node
    if isinstance(node, Broadcast):
        return node.arg
    if isinstance(node, Hadamard):
        return Mul(left=node.left, right=node.right, pos=node.pos)
    if isinstance(node, Scale):
        return (Mul if node.written == "*" else MatMul)(left=node.left, right=node.right, pos=node.pos)
    if isinstance(node, Call) and node.params:
        params = tuple(_dim_node(p) if isinstance(p, Dim) else _int_node(p) for p in node.params)
        return Call(name=node.name, args=node.args + params, pos=node.pos)
    return replace(node, shape=None)


def untype(node: Node) -> Node:
    """The surface tree of a typed tree, to be typed again (against other
    declarations, or after a rewrite): the inverse of the type pass.

    >>> d = parse_declarations("A:m,n s:scalar")
    >>> untype(parse_typed("s * A + 1", d)) == parse("s * A + 1")
    True
    """
    while isinstance(node, Broadcast):
        node = node.arg
    kids = tuple(untype(k) for k in node.children())
    return surface(node.with_children(kids) if kids else node)


def _int_node(k: int) -> Node:
    return num(k) if k >= 0 else Neg(arg=num(-k))
