"""Print expression trees back in the claim language.

Surface and typed trees alike: a typed tree prints as the user would write
it (a :class:`Hadamard` and a :class:`Scale` as ``*`` or the ``@`` written, a
:class:`Broadcast` as its value).  The output parses back to an equal tree
(up to redundant parentheses).

>>> from symbolic_bp.language.parser import parse
>>> to_text(parse("(y @ x.T) * (1 - a)"))
'y @ x.T * (1 - a)'
>>> to_text(parse("A @ (B * C) - (x - y)"))
'A @ (B * C) - (x - y)'

With a ``spelling`` (:func:`spelling_of` a claim as the user wrote it), the
functions are printed as the user spelled them: with NumPy's module prefix,
or as a method of their first argument:

>>> written = "np.sum(dout, axis=1) + x.mean(axis=0) + np.exp(y)"
>>> to_text(parse("sum(dout, axis=0) + mean(x, axis=1) + exp(y)"), spelling_of(written, parse(written)))
'np.sum(dout, axis=0) + x.mean(axis=1) + np.exp(y)'
"""
from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass, replace
from fractions import Fraction

from ..core import registry
from ..core.dims import Dim, is_scalar
from ..core.expression import (
    Add, Apply, Broadcast, Call, Div, Hadamard, MatMul, Mul, Neg, Node, Num, Pow, Scale, Sub, Sym, Transpose,
)

# precedence levels: comparison < sum < product < unary minus < power < postfix < atom
COMPARE, SUM, PRODUCT, UNARY, POWER, POSTFIX, ATOM = range(7)     # shared with the LaTeX printer
_COMPARE, _SUM, _PRODUCT, _UNARY, _POWER, _POSTFIX, _ATOM = COMPARE, SUM, PRODUCT, UNARY, POWER, POSTFIX, ATOM
_INFIX = {"/": _PRODUCT, "**": _POWER}      # a registered operation's operator: its level (else a comparison)
_BINARY = {Add: ("+", _SUM), Sub: ("-", _SUM), MatMul: ("@", _PRODUCT),
           Mul: ("*", _PRODUCT), Hadamard: ("*", _PRODUCT), Scale: ("*", _PRODUCT), Div: ("/", _PRODUCT)}


def operator(node: Node) -> str:
    """The operator symbol of a binary node, as written."""
    return node.written if isinstance(node, Scale) else _BINARY[type(node)][0]


def _number(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def precedence(node: Node) -> int:
    if isinstance(node, Num):
        if node.value.denominator != 1:     # -1/2 reads as a division
            return _PRODUCT
        return _UNARY if node.value < 0 else _ATOM
    if type(node) in _BINARY:
        return _BINARY[type(node)][1]
    if isinstance(node, Neg):
        return _UNARY
    if isinstance(node, Broadcast):
        return precedence(node.arg)
    if isinstance(node, Pow):
        return _POWER
    if isinstance(node, Transpose):
        return _POSTFIX
    if isinstance(node, Call):
        return _call_precedence(node)
    return _ATOM


def _call_precedence(node: Call) -> int:
    op = registry.operation(node.name)
    if op is None:
        return _ATOM
    if op.infix is not None:
        return _INFIX.get(op.infix, _COMPARE)
    if node.name == "size" and node.params and len(node.params[0].factors()) > 1:
        return _PRODUCT                 # 2*n
    return _ATOM


def _wrap(node: Node, needed: int) -> str:
    text = to_text(node)
    return f"({text})" if precedence(node) < needed else text


@dataclass(frozen=True)
class Spelled:
    """How the user wrote a function: ``written``, its name as written
    (``np.sum``, ``np.linalg.inv``, ``sum``), and whether it was a method of
    its first argument (``dout.sum(axis=0)``)."""

    written: str
    method: bool = False


# the spelling of the text being printed (to_text's ``spelling``), for the nested calls of the printer
_SPELLING: ContextVar[dict | None] = ContextVar("spelling", default=None)
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def spelling_of(source: str, tree: Node) -> dict[str, Spelled]:
    """How the functions of ``tree``, parsed from ``source``, were written
    there: name -> :class:`Spelled`, for those written with a module prefix
    or as a method (the first spelling of each name; a plain name is left out).

    >>> from symbolic_bp.language.parser import parse
    >>> text = "np.linalg.inv(A) @ dout.sum(axis=1, keepdims=True) + tanh(x)"
    >>> spelling_of(text, parse(text))
    {'inv': Spelled(written='np.linalg.inv', method=False), 'sum': Spelled(written='sum', method=True)}
    """
    out: dict[str, Spelled] = {}
    for n in tree.walk():
        if not (isinstance(n, Call) or isinstance(n, Apply) and n.order == 0) or n.name in out or n.pos < 1:
            continue
        found = _DOTTED.match(source, n.pos - 1)
        if found is None:
            continue
        written = found.group(0)
        method = n.pos > 1 and source[n.pos - 2] == "." and isinstance(n, Call) and n.args
        if method or "." in written:
            out[n.name] = Spelled(written, bool(method))
    return out


def _spelled(name: str) -> Spelled | None:
    spelling = _SPELLING.get()
    return None if spelling is None else spelling.get(name)


def _call(name: str, args: list[Node], rest: list[str]) -> str:
    """``name(args, rest)``, as the user spelled ``name``: with its prefix, or as a
    method of the first argument (``rest``: the parameters, already printed)."""
    spelled = _spelled(name)
    if spelled is not None and spelled.method and args:
        first = args[0]
        head = f"({to_text(first)})" if isinstance(first, Num) else _wrap(first, _POSTFIX)
        return f"{head}.{spelled.written}({', '.join([to_text(a) for a in args[1:]] + rest)})"
    shown = spelled.written if spelled is not None and not spelled.method else name
    return f"{shown}({', '.join([to_text(a) for a in args] + rest)})"


def to_text(node: Node, spelling: dict[str, Spelled] | None = None) -> str:
    """The claim-language text of ``node``; with a ``spelling``
    (:func:`spelling_of`), its functions spelled as there."""
    if spelling is not None:
        token = _SPELLING.set(spelling)
        try:
            return to_text(node)
        finally:
            _SPELLING.reset(token)
    if isinstance(node, Num):
        return _number(node.value)
    if isinstance(node, Sym):
        return node.name
    if type(node) in _BINARY:
        op, level = operator(node), _BINARY[type(node)][1]
        # NumPy reads a 1-D array right of @ as a column: the row the language holds is written 2-D
        right = held(node.right) if op == "@" else node.right
        # operators are left-associative: the right operand needs parentheses
        # at the same level (a - (b - c), A @ (B * C))
        return f"{_wrap(node.left, level)} {op} {_wrap(right, level + 1)}"
    if isinstance(node, Neg):
        return "-" + _wrap(node.arg, _UNARY)
    if isinstance(node, Pow):
        return f"{_wrap(node.base, _POSTFIX)}**{_exponent(node.exponent)}"
    if isinstance(node, Transpose):
        arg = held(node.arg)                # NumPy's .T leaves a 1-D array as it is: written 2-D
        if isinstance(arg, Transpose) and arg is not node.arg:
            return to_text(arg.arg)         # the transpose of sum(X, axis=1).T: sum(X, axis=1, keepdims=True)
        if isinstance(node.arg, Num):       # "2.T" would read as the number "2." and T
            return f"({to_text(node.arg)}).T"
        return _wrap(arg, _ATOM) + ".T"
    if isinstance(node, Broadcast):
        return to_text(node.arg)
    if isinstance(node, Call):
        return _call_text(node)
    if isinstance(node, Apply):
        if node.order == 0 and _spelled(node.name) is not None and not _spelled(node.name).method:
            return f"{_spelled(node.name).written}({to_text(node.arg)})"
        return f"{node.label}({to_text(node.arg)})"
    raise TypeError(f"cannot print {type(node).__name__}")  # pragma: no cover


def _value(value) -> str:
    if isinstance(value, Fraction):
        return f"({_number(value)})"
    return str(value)


def _exponent(value) -> str:
    if isinstance(value, Fraction) and value.denominator != 1 or value < 0:
        return f"({_number(Fraction(value))})"
    return str(value)


def _call_text(node: Call) -> str:
    """A call as written: an infix operation with its operator, a dimension
    by its name, keyword parameters that differ from their defaults by name."""
    op = registry.operation(node.name)
    if op is not None and node.shape is not None:
        if node.name == "size":
            return str(node.params[0])
        if op.infix == "**":
            return f"{_wrap(node.args[0], _POSTFIX)}**{_exponent(node.params[0])}"
        if op.infix is not None:
            level = _INFIX.get(op.infix, _COMPARE)
            left, right = node.args
            # comparisons do not chain (the parser refuses x > y > x): a comparison operand of one,
            # on either side, keeps its parentheses; / is left-associative, its left one needs none
            return f"{_wrap(left, level + (level == _COMPARE))} {op.infix} {_wrap(right, level + 1)}"
        positional = [str(p) if isinstance(p, Dim) else _value(p) for p in node.params[:len(op.params)]]
        named = [f"{k.name}={v}" for k, v in zip(op.keywords, node.params[len(op.params):]) if v != k.default]
        return _call(node.name, list(node.args), positional + named)
    if op is not None and op.infix is not None and op.infix not in _INFIX and len(node.args) == 2:
        left, right = node.args                 # a comparison as parsed: no chains, as above
        return f"{_wrap(left, _COMPARE + 1)} {op.infix} {_wrap(right, _COMPARE + 1)}"
    rest = [str(p) for p in node.params] + [f"{name}={to_text(value)}" for name, value in node.keywords]
    return _call(node.name, list(node.args), rest)


# -- NumPy's 1-D values ----------------------------------------------------------------------------

def _keywords(node: Call) -> dict:
    """The keyword values of a typed call, by name: of an operation, from its parameters
    (defaults filled in); of a macro written back (:mod:`symbolic_bp.calculus.textbook`),
    from its keywords (defaults left out), as values."""
    op = registry.operation(node.name)
    if op is not None:
        return dict(zip((k.name for k in op.keywords), node.params[len(op.params):]))
    macro = registry.macro(node.name)
    if macro is None:
        return {}
    out = {k.name: k.default for k in macro.keywords}
    for name, value in node.keywords:
        out[name] = (value.value if isinstance(value, Num) else
                     {"None": None, "True": True, "False": False}.get(getattr(value, "name", None), value))
    return out


def _reduces_to_1d(node: Node) -> bool:
    """A reduction along one axis without keepdims=True: NumPy's result is 1-D."""
    kw = _keywords(node) if isinstance(node, Call) else {}
    return "keepdims" in kw and kw.get("axis") is not None and not kw["keepdims"]


def is_flat(node: Node) -> bool:
    """Whether NumPy holds the value of a typed node as a 1-D array: a reduction along
    one axis without ``keepdims=True`` (an operation, or a macro written back), and what
    is computed from it entrywise (with scalars).  The language holds it as a row.

    >>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
    >>> d = parse_declarations("X:n,k")
    >>> is_flat(parse_typed("exp(X.sum(axis=1)) + 1", d)), is_flat(parse_typed("X.sum(axis=1, keepdims=True)", d))
    (True, False)
    """
    if isinstance(node, Call):
        if "keepdims" in _keywords(node):
            return _reduces_to_1d(node)
        op = registry.operation(node.name)
        if op is not None and (op.broadcasts or op.name == "power"):
            return _flat_operands(node.args)
        return False
    if isinstance(node, (Neg, Apply)):
        return is_flat(node.arg)
    if isinstance(node, Scale):
        return is_flat(node.matrix)
    if isinstance(node, Div):
        return is_flat(node.left)
    if isinstance(node, MatMul):
        return is_flat(node.left)
    if isinstance(node, (Add, Sub, Hadamard)):
        return _flat_operands((node.left, node.right))
    return False


def _flat_operands(operands) -> bool:
    """Entrywise operands: 1-D when the non-scalar ones all are (NumPy: (k,) op (1,k) is 2-D)."""
    def scalar_like(n):
        return is_scalar(n.shape) or isinstance(n, Broadcast) and is_scalar(n.arg.shape)
    matrices = [n for n in operands if not scalar_like(n)]
    return bool(matrices) and all(is_flat(n) for n in matrices)


def held(node: Node) -> Node:
    """A typed node of the same value and shape that NumPy holds 2-D, as the language does:
    each reduction that makes it 1-D with ``keepdims=True`` -- down the rows as it is
    (a 1 x k row either way), along each row transposed (``keepdims=True`` makes the column).
    A node NumPy holds 2-D (or 1 x 1) is returned as it is.

    >>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
    >>> d = parse_declarations("X:n,k")
    >>> to_text(held(parse_typed("exp(X.sum(axis=0)) + 1", d)))
    'exp(sum(X, axis=0, keepdims=True)) + 1'
    >>> to_text(held(parse_typed("-X.T.mean(axis=1)", d)))
    '-(sum(X.T, axis=1, keepdims=True).T / n)'
    """
    if is_scalar(node.shape) or not is_flat(node):
        return node
    if _reduces_to_1d(node):
        kw, op = _keywords(node), registry.operation(node.name)
        if op is not None:
            values = dict(kw, keepdims=True)
            two_d = replace(node, params=node.params[:len(op.params)] + tuple(values[k.name] for k in op.keywords))
        else:                               # a macro written back: its keywords as written
            keywords = tuple((k, v) for k, v in node.keywords if k != "keepdims")
            two_d = replace(node, keywords=keywords + (("keepdims", Sym(name="True")),))
        if kw["axis"] % 2 == 0:
            return two_d                    # down the rows: the 1 x k row
        return Transpose(arg=replace(two_d, shape=(node.shape[1], node.shape[0])), shape=node.shape, pos=node.pos)
    return node.with_children(tuple(held(c) for c in node.children()))
