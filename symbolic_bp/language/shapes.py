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
from fractions import Fraction
from math import prod

from ..errors import InputError
from ..core.expression import (
    KNOWN_ELEMENTWISE, MATRIX_FUNCTIONS, RESERVED, Add, Apply, Call, Div,
    MatMul, Mul, Neg, Node, Num, Pow, Sub, Sym, Transpose,
)
from .parser import parse
from .printer import to_text

MAX_DIM = 32
PROPERTIES = ("symmetric", "spd", "invertible")


@dataclass(frozen=True)
class Dim:
    """A dimension: an integer coefficient times a product of size names."""

    coef: int
    names: tuple[str, ...] = ()

    @staticmethod
    def of(value: "int | str") -> "Dim":
        return Dim(value, ()) if isinstance(value, int) else Dim(1, (value,))

    def __mul__(self, other: "Dim") -> "Dim":
        return Dim(self.coef * other.coef, tuple(sorted(self.names + other.names)))

    def divide(self, other: "Dim") -> "Dim | None":
        """``self / other`` when it is again a dimension, else None."""
        names = list(self.names)
        for n in other.names:
            if n not in names:
                return None
            names.remove(n)
        if self.coef % other.coef:
            return None
        return Dim(self.coef // other.coef, tuple(names))

    def value(self, sizes: dict[str, int]) -> int:
        return self.coef * prod(sizes[n] for n in self.names)

    def __str__(self) -> str:
        parts = ([str(self.coef)] if self.coef != 1 or not self.names else []) + list(self.names)
        return "*".join(parts)

    def __repr__(self) -> str:
        return f"Dim('{self}')"


ONE = Dim(1)
SCALAR = (ONE, ONE)


def is_scalar(shape) -> bool:
    return shape == SCALAR


def show(shape) -> str:
    return f"({shape[0]},{shape[1]})"


def concrete(shape, sizes: dict[str, int]) -> tuple[int, int]:
    return (shape[0].value(sizes), shape[1].value(sizes))


@dataclass(frozen=True)
class Symbol:
    name: str
    shape: tuple[Dim, Dim]
    prop: str | None = None   # "scalar" | "symmetric" | "spd" | "invertible" | None


@dataclass(frozen=True)
class Declarations:
    symbols: dict[str, Symbol]
    dims: tuple[str, ...]          # size names, in order of first appearance

    def __str__(self) -> str:
        out = []
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
    """Parse ``"A:m,n x:n s:scalar S:n,n:spd"`` into :class:`Declarations`.

    >>> d = parse_declarations("A:m,n x:n s:scalar")
    >>> [show(s.shape) for s in d.symbols.values()], d.dims
    (['(m,n)', '(n,1)', '(1,1)'], ('m', 'n'))
    """
    if not isinstance(text, str):
        raise InputError(f"shapes must be a string, got {type(text).__name__}")
    if len(text) > 10_000:
        raise InputError("shapes: declarations longer than 10000 characters")
    symbols: dict[str, Symbol] = {}
    dims: list[str] = []
    for m in _ITEM.finditer(text.replace(";", " ")):
        item, col = m.group(), m.start() + 1
        where = f"column {col}: declaration {item[:40]!r}"
        parts = item.split(":")
        if len(parts) < 2 or len(parts) > 3:
            raise InputError(f"{where}: expected name:dims, name:dims:property or name:scalar")
        name, dimtext = parts[0], parts[1]
        if not _NAME.match(name):
            raise InputError(f"{where}: {name!r} is not a valid name")
        if name in RESERVED:
            raise InputError(f"{where}: {name!r} is a function name and cannot be declared")
        if name in symbols:
            raise InputError(f"{where}: {name!r} is declared twice")
        prop = parts[2] if len(parts) == 3 else None
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
                if d in RESERVED:
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
    clash = set(symbols) & set(dims)
    if clash:
        raise InputError(f"{sorted(clash)[0]!r} is used both as a symbol and as a dimension")
    return Declarations(symbols, tuple(dims))


# ---------------------------------------------------------------------------
# shape inference, one rule per node type

class Typer:
    def __init__(self, decls: Declarations):
        self.decls = decls

    def __call__(self, node: Node) -> Node:
        if node.shape is not None:      # already typed (gradient.py builds mixed trees)
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
            known = ", ".join(self.decls.symbols)
            raise InputError(f"column {node.pos}: unknown name {node.name!r} (declared: {known})")
        return replace(node, shape=sym.shape)

    def type_Neg(self, node: Neg) -> Node:
        arg = self(node.arg)
        return replace(node, arg=arg, shape=arg.shape)

    def _elementwise(self, node, sign: str) -> Node:
        left, right = self(node.left), self(node.right)
        if left.shape == right.shape:
            kind, shape = "same", left.shape
        elif is_scalar(left.shape):
            kind, shape = "bcast_l", right.shape
        elif is_scalar(right.shape):
            kind, shape = "bcast_r", left.shape
        else:
            raise self.mismatch(node, f"{show(left.shape)} {sign} {show(right.shape)}")
        return replace(node, left=left, right=right, shape=shape, kind=kind)

    def type_Add(self, node: Add) -> Node:
        return self._elementwise(node, "+")

    def type_Sub(self, node: Sub) -> Node:
        return self._elementwise(node, "-")

    def type_MatMul(self, node: MatMul) -> Node:
        left, right = self(node.left), self(node.right)
        if left.shape[1] == right.shape[0]:
            kind, shape = "mat", (left.shape[0], right.shape[1])
        elif is_scalar(left.shape):
            kind, shape = "scale_l", right.shape
        elif is_scalar(right.shape):
            kind, shape = "scale_r", left.shape
        else:
            hint = "; did you mean the Hadamard product '*'?" if left.shape == right.shape else ""
            raise self.mismatch(node, f"{show(left.shape)} @ {show(right.shape)}: inner dimensions "
                                      f"{left.shape[1]} and {right.shape[0]} differ{hint}")
        return replace(node, left=left, right=right, shape=shape, kind=kind)

    def type_Mul(self, node: Mul) -> Node:
        left, right = self(node.left), self(node.right)
        if left.shape == right.shape:
            kind, shape = "hadamard", left.shape
        elif is_scalar(left.shape):
            kind, shape = "scale_l", right.shape
        elif is_scalar(right.shape):
            kind, shape = "scale_r", left.shape
        else:
            hint = "; did you mean the matrix product '@'?" if left.shape[1] == right.shape[0] else ""
            raise self.mismatch(node, f"{show(left.shape)} * {show(right.shape)}: the Hadamard "
                                      f"product needs equal shapes{hint}")
        return replace(node, left=left, right=right, shape=shape, kind=kind)

    def type_Div(self, node: Div) -> Node:
        left, right = self(node.left), self(node.right)
        if not is_scalar(right.shape):
            raise self.mismatch(node, f"{show(left.shape)} / {show(right.shape)}: only division by a scalar is defined")
        return replace(node, left=left, right=right, shape=left.shape, kind="scale")

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
        if node.name in self.decls.symbols:
            raise InputError(f"column {node.pos}: {node.name!r} is a declared symbol, not a function")
        if node.name in self.decls.dims:
            raise InputError(f"column {node.pos}: {node.name!r} is a dimension, not a function")
        arg = self(node.arg)
        return replace(node, arg=arg, shape=arg.shape)

    def type_Call(self, node: Call) -> Node:
        return getattr(self, "call_" + node.name)(node)

    def dim(self, node: Node) -> Dim:
        """Interpret a function argument as a dimension."""
        if isinstance(node, Num) and node.value.denominator == 1 and 1 <= node.value <= MAX_DIM:
            return Dim(int(node.value))
        if isinstance(node, Sym) and node.name in self.decls.dims:
            return Dim.of(node.name)
        if isinstance(node, Mul):
            return self.dim(node.left) * self.dim(node.right)
        raise InputError(f"column {node.pos}: {_snippet(node)!r} is not a dimension "
                         f"(declared dimensions: {', '.join(self.decls.dims) or 'none'})")

    def _square(self, node: Call) -> Node:
        arg = self(node.args[0])
        if arg.shape[0] != arg.shape[1]:
            raise self.mismatch(node, f"{node.name} needs a square matrix, got {show(arg.shape)}")
        return arg

    def _to_scalar(self, node: Call, arg: Node) -> Node:
        return replace(node, args=(arg,), shape=SCALAR)

    def call_sum(self, node):
        return self._to_scalar(node, self(node.args[0]))

    def call_norm(self, node):
        return self._to_scalar(node, self(node.args[0]))

    def call_tr(self, node):
        return self._to_scalar(node, self._square(node))

    def call_det(self, node):
        return self._to_scalar(node, self._square(node))

    def call_logdet(self, node):
        return self._to_scalar(node, self._square(node))

    def call_inv(self, node):
        arg = self._square(node)
        return replace(node, args=(arg,), shape=arg.shape)

    def call_matrix_power(self, node):
        arg = self._square(node)
        k = node.args[1]
        if isinstance(k, Neg) and isinstance(k.arg, Num):
            k = replace(k.arg, value=-k.arg.value)
        if not (isinstance(k, Num) and k.value.denominator == 1 and abs(k.value) <= 64):
            raise InputError(f"column {node.args[1].pos}: matrix_power needs an integer literal "
                             "between -64 and 64 as its exponent")
        return replace(node, args=(arg, replace(k, shape=SCALAR)), shape=arg.shape)

    def call_kron(self, node):
        a, b = self(node.args[0]), self(node.args[1])
        return replace(node, args=(a, b), shape=(a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]))

    def call_eye(self, node):
        d = self.dim(node.args[0])
        return replace(node, shape=(d, d))

    def call_ones(self, node):
        return replace(node, shape=(self.dim(node.args[0]), self.dim(node.args[1])))

    def _blocks(self, node, outer: bool):
        g = self(node.args[0])
        d0, d1 = self.dim(node.args[1]), self.dim(node.args[2])
        r, c = g.shape[0].divide(d0), g.shape[1].divide(d1)
        if r is None or c is None:
            raise self.mismatch(node, f"{show(g.shape)} is not divisible into ({d0},{d1}) blocks")
        # blocksum(G, p, q): sum of each p x q block -> (rows/p, cols/q)
        # tilesum(G, m, n): sum of the m x n grid of blocks -> (rows/m, cols/n)
        return replace(node, args=(g,) + node.args[1:], shape=(r, c))

    def call_blocksum(self, node):
        return self._blocks(node, False)

    def call_tilesum(self, node):
        return self._blocks(node, True)


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
    """Names of the opaque elementwise functions used in ``node``."""
    return {n.name for n in node.walk() if isinstance(n, Apply) and n.name not in KNOWN_ELEMENTWISE}
