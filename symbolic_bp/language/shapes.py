"""Symbol declarations and shape inference.

Declarations are written ``A:m,n x:n y:m s:scalar S:n,n:symmetric``: a name,
a colon, the dimensions (names or positive integers; one dimension means a
column vector) or ``scalar``, and optionally a property: ``:symmetric``,
``:spd`` (symmetric positive definite) or ``:invertible`` for square
matrices; ``:positive`` (every entry > 0), ``:onehot`` (every row one-hot; a
column vector one-hot as a whole) or ``:binary`` (entries 0 or 1) for data.
A registered function's name cannot be declared, nor a word the parser reads
as something else (``None``, ``np``; ``add`` as a function:
:func:`~symbolic_bp.language.parser.reserved_word`).

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

from ..core import registry
from ..core.dims import MAX_DIM, ONE, SCALAR, Dim, concrete, is_scalar, show
from ..core.expression import (
    Add, Apply, Binary, Broadcast, Call, Div, Hadamard, MatMul, Mul, Neg, Node, Num, Pow, Scale, Sub, Sym,
    Transpose, num,
)
from ..errors import InputError
from .parser import parse, reserved_word
from .printer import is_flat, to_text

PROPERTIES = ("symmetric", "spd", "invertible", "positive", "onehot", "binary")
SQUARE_PROPERTIES = ("symmetric", "spd", "invertible")   # the others are about the entries (data)
# re-exported for the passes that read shapes: the dimension type lives in the core
__all__ = ["Dim", "ONE", "SCALAR", "MAX_DIM", "is_scalar", "show", "concrete", "Declarations", "Symbol",
           "parse_declarations", "typecheck", "parse_typed", "untype", "Typer"]


@dataclass(frozen=True)
class Symbol:
    name: str
    shape: tuple[Dim, Dim]
    prop: str | None = None   # "scalar" or one of PROPERTIES, or None
    scalar: bool = False      # declared ``name:scalar`` (a positive scalar has prop "positive")


@dataclass(frozen=True)
class Declarations:
    symbols: dict[str, Symbol]
    dims: tuple[str, ...]          # size names, in order of first appearance
    functions: tuple[str, ...] = ()  # declared opaque elementwise functions (``sigma:function``)

    def __str__(self) -> str:
        out = [f"{f}:function" for f in self.functions]
        for s in self.symbols.values():
            if s.scalar:
                out.append(f"{s.name}:scalar" + (f":{s.prop}" if s.prop != "scalar" else ""))
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
        role = "function" if dimtext == "function" else "symbol"
        word = reserved_word(name, role)
        if word:
            raise InputError(f"{where}: {name!r} cannot be declared{' a function' * (role == 'function')}: "
                             f"it is {word}")
        prop = parts[2] if len(parts) == 3 else None
        if dimtext == "function":
            if prop is not None:
                raise InputError(f"{where}: a function takes no property")
            functions.append(name)
            continue
        if dimtext == "scalar":
            if prop not in (None, "positive", "binary"):
                raise InputError(f"{where}: a scalar takes no property but positive or binary")
            symbols[name] = Symbol(name, SCALAR, prop or "scalar", scalar=True)
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
                if reserved_word(d, "dimension"):
                    raise InputError(f"{where}: {d!r} cannot be a dimension: it is {reserved_word(d, 'dimension')}")
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
            if prop in SQUARE_PROPERTIES and shape[0] != shape[1]:
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

    def __init__(self, decls: Declarations, numpy_rules: bool = True):
        # numpy_rules: refuse what NumPy reads differently from a 2-D array (the
        # transpose of a 1-D result); trees built by the derivation passes skip it
        self.decls = decls
        self.numpy_rules = numpy_rules

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
            if node.name in self.decls.dims:        # a dimension in an expression is its size: 1/N
                return self(Call(name="size", args=(), params=(Dim.of(node.name),), pos=node.pos))
            if node.name in self.decls.functions:
                raise InputError(f"column {node.pos}: {node.name!r} is a declared function, not a symbol")
            if node.name in _LITERALS:
                raise InputError(f"column {node.pos}: {node.name} is only a value of a keyword argument "
                                 "(axis=None, keepdims=True)")
            known = ", ".join(self.decls.symbols)
            raise InputError(f"column {node.pos}: unknown name {node.name!r} (declared: {known})")
        return replace(node, shape=sym.shape)

    def type_Neg(self, node: Neg) -> Node:
        arg = self(node.arg)
        return replace(node, arg=arg, shape=arg.shape)

    def broadcast(self, node: Node, operands: list[Node], sign: str) -> list[Node]:
        """The operands broadcast to their common shape by NumPy's rules (each
        dimension equal, or 1): a 1x1, n x 1 or 1 x k operand beside a larger
        one becomes a :class:`Broadcast` of it."""
        shape = operands[0].shape
        for other in operands[1:]:
            common = broadcast_shape(shape, other.shape)
            if common is None:
                shapes = f" {sign} ".join(show(o.shape) for o in operands)
                raise self.mismatch(node, f"{shapes}: the shapes do not broadcast (NumPy: each dimension "
                                          "equal, or 1)")
            shape = common
        return [o if o.shape == shape else Broadcast(arg=o, shape=shape, pos=o.pos) for o in operands]

    def _sum(self, node: Binary, sign: str) -> Node:
        # equal shapes; a 1x1, row or column operand beside a matrix is broadcast to its shape
        left, right = self.broadcast(node, [self(node.left), self(node.right)], sign)
        return replace(node, left=left, right=right, shape=left.shape)

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
        if self.numpy_rules and is_flat(right) and not is_scalar(right.shape):
            raise InputError(f"column {node.pos}: {_snippet(node.right)!r} is 1-D in NumPy, and a 1-D array on "
                             "the right of @ is read as a column: write it with keepdims=True")
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
        if scaled is not None:
            return scaled
        if broadcast_shape(left.shape, right.shape) is None:
            hint = "; did you mean the matrix product '@'?" if left.shape[1] == right.shape[0] else ""
            raise self.mismatch(node, f"{show(left.shape)} * {show(right.shape)}: the Hadamard product "
                                      f"needs shapes that broadcast (NumPy: each dimension equal, or 1){hint}")
        left, right = self.broadcast(node, [left, right], "*")
        return Hadamard(left=left, right=right, shape=left.shape, pos=node.pos)

    def type_Hadamard(self, node: Hadamard) -> Node:
        # rebuilt by a pass: the operands may need broadcasting again (a row beside a matrix)
        left, right = self.broadcast(node, [self(node.left), self(node.right)], "*")
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
        if is_scalar(right.shape):
            return replace(node, left=left, right=right, shape=left.shape)
        # entrywise division, broadcast: the registered operation ``divide``
        left, right = self.broadcast(node, [left, right], "/")
        return self(Call(name="divide", args=(left, right), pos=node.pos))

    def type_Pow(self, node: Pow) -> Node:
        base = self(node.base)
        if is_scalar(base.shape) and isinstance(node.exponent, int):
            return replace(node, base=base, shape=SCALAR)
        # entrywise, or a non-integer exponent: the registered operation ``power``
        return self(Call(name="power", args=(base,), params=(node.exponent,), pos=node.pos))

    def type_Transpose(self, node: Transpose) -> Node:
        arg = self(node.arg)
        if self.numpy_rules and is_flat(arg) and not is_scalar(arg.shape):
            raise InputError(f"column {node.pos}: {_snippet(node.arg)!r} is 1-D in NumPy, so .T leaves it as "
                             "it is: write it with keepdims=True for a column")
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
            args = tuple(self(a) for a in node.args[:expansion.arity])
            values = self.keyword_values(node, expansion, node.args[expansion.arity:])
            try:
                tree = expansion.expand(args, dict(zip((k.name for k in expansion.keywords), values)))
            except registry.ShapeError as e:
                raise self.mismatch(node, str(e)) from None
            return self(tree)
        wanted = len(op.params) + len(op.keywords)
        if node.params and len(node.params) in (len(op.params), wanted):
            # built by a pass: the parameters are already Dims/ints; keyword ones may be left to default
            params = tuple(node.params) + tuple(k.default for k in op.keywords[len(node.params) - len(op.params):])
            arg_nodes = node.args
        else:
            arg_nodes = node.args[:op.arity]
            given = node.args[op.arity:]
            params = tuple(getattr(self, "param_" + kind)(node, a) for kind, a in zip(op.params, given))
            params += self.keyword_values(node, op, given[len(op.params):])
        args = [self(a) for a in arg_nodes]
        if op.broadcasts:
            args = self.broadcast(node, args, op.infix or ",")
        try:
            shape = op.shape(tuple(a.shape for a in args), params)
        except registry.ShapeError as e:
            raise self.mismatch(node, str(e)) from None
        return replace(node, args=tuple(args), params=params, keywords=(), shape=shape)

    def keyword_values(self, node: Call, entry, positional) -> tuple:
        """The values of ``entry``'s keyword parameters: given by position
        (``np.sum(X, 0)``), by name (``axis=0``), or their defaults."""
        values = {}
        takes = [k for k in entry.keywords if k.positional]
        if len(positional) > len(takes):     # pragma: no cover - the parser counts the arguments
            raise InputError(f"column {node.pos}: {node.name} takes {len(takes)} positional parameters")
        for keyword, value in zip(takes, positional):
            values[keyword.name] = value
        for name, value in node.keywords:
            if name in values:
                raise InputError(f"column {value.pos or node.pos}: {node.name} got {name} twice")
            values[name] = value
        known = {k.name for k in entry.keywords}
        for name in values:
            if name not in known:
                raise InputError(f"column {node.pos}: {node.name} takes no keyword argument {name!r}")
        return tuple(getattr(self, "param_" + k.kind)(node, values[k.name]) if k.name in values else k.default
                     for k in entry.keywords)

    def param_axis(self, call: Call, node: Node) -> int | None:
        """``axis=``: 0 (down the rows), 1 (along a row), -1, -2 or None (all entries)."""
        if isinstance(node, Sym) and node.name == "None":
            return None
        k = self._integer(node)
        if k not in (0, 1, -1, -2):
            raise InputError(f"column {node.pos or call.pos}: axis must be 0, 1, -1, -2 or None "
                             "(arrays here have two axes)")
        return k % 2

    def param_bool(self, call: Call, node: Node) -> bool:
        if isinstance(node, Sym) and node.name in ("True", "False"):
            return node.name == "True"
        raise InputError(f"column {node.pos or call.pos}: {call.name} needs True or False here")

    def param_real(self, call: Call, node: Node):
        """A number literal (an exponent): an int when integer, else a Fraction."""
        if isinstance(node, (int, Fraction)):
            return node
        value = _literal(node)
        if value is None:
            raise InputError(f"column {node.pos or call.pos}: {call.name} needs a number literal")
        return int(value) if value.denominator == 1 else value

    def _integer(self, node: Node) -> int | None:
        k = node
        if isinstance(k, Neg) and isinstance(k.arg, Num):
            k = replace(k.arg, value=-k.arg.value)
        if isinstance(k, Num) and k.value.denominator == 1 and abs(k.value) <= 64:
            return int(k.value)
        return None

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
        k = self._integer(node)
        if k is None:
            raise InputError(f"column {node.pos or call.pos}: {call.name} needs an integer literal "
                             "between -64 and 64 here")
        return k


_LITERALS = ("True", "False", "None")


def _literal(node: Node) -> Fraction | None:
    """The value of a number literal written with signs and a division (``-3/2``), else None."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Neg):
        value = _literal(node.arg)
        return None if value is None else -value
    if isinstance(node, Div):
        top, bottom = _literal(node.left), _literal(node.right)
        return None if top is None or not bottom else top / bottom
    return None


def broadcast_shape(a, b):
    """The shape NumPy broadcasts two 2-D shapes to, or None.

    >>> n, k = Dim.of("n"), Dim.of("k")
    >>> show(broadcast_shape((n, k), (ONE, k))), broadcast_shape((n, k), (k, ONE))
    ('(n,k)', None)
    """
    out = []
    for x, y in zip(a, b):
        if x == y or y == ONE:
            out.append(x)
        elif x == ONE:
            out.append(y)
        else:
            return None
    return tuple(out)


def keyword_params(node: Call) -> dict:
    """The keyword parameters of a typed call, by name: ``{"axis": 0, "keepdims": True}``."""
    op = registry.operation(node.name)
    if op is None or not op.keywords:
        return {}
    return dict(zip((k.name for k in op.keywords), node.params[len(op.params):]))


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
    if isinstance(node, Call):
        return _surface_call(node)
    return replace(node, shape=None)


def _surface_call(node: Call) -> Node:
    """A typed call as written: an operator where the operation has one
    (``A / B``, ``X ** 0.5``, ``A > B``), a dimension by its name, the
    keyword parameters that differ from their defaults by name."""
    op = registry.operation(node.name)
    if node.name == "size":
        return _dim_node(node.params[0])
    if op.infix == "/":
        return Div(left=node.args[0], right=node.args[1], pos=node.pos)
    if op.infix == "**":
        return Pow(base=node.args[0], exponent=node.params[0], pos=node.pos)
    positional = node.params[:len(op.params)]
    params = tuple(_dim_node(p) if isinstance(p, Dim) else _value_node(p) for p in positional)
    keywords = tuple((k.name, _value_node(v)) for k, v in zip(op.keywords, node.params[len(op.params):])
                     if v != k.default)
    return Call(name=node.name, args=node.args + params, keywords=keywords, pos=node.pos)


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


def _value_node(value) -> Node:
    """A parameter's value as the surface node that writes it: ``3``, ``-1``, ``None``, ``True``."""
    if value is None or isinstance(value, bool):
        return Sym(name=str(value))
    return num(value) if value >= 0 else Neg(arg=num(-value))
