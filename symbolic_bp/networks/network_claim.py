"""Claims about a network, written with layer indices.

A network claim is ``LHS = RHS``: the LHS is ``delta[idx]`` or
``grad(NAME[idx])``; the RHS is claim-language text in which names may carry
indices (``W[l+1]``, ``delta[2-i]``, ``W[i,i+1]``) and functions may too
(``sigma[l]'(z[l])``).  An index is an affine expression of the convention's
layer variable (``l``, or ``i`` for the post), the depth ``L`` and integers.
``N`` is the batch size (also ``m`` in Ng's convention, ``n`` in Nielsen's);
``lambda`` the coefficient of the network's L2 penalty.  The equation's ``=``
is the first one outside parentheses, so NumPy keywords (``np.sum(d, axis=0,
keepdims=True)``) stay in the right-hand side.

Indexed names are cut out by a small tokenizer of their own and replaced by
placeholder identifiers of the same length, so that the rest is parsed by the
project's parser (:mod:`symbolic_bp.language.parser`) with unchanged columns; nothing
is evaluated.

>>> c = parse_network_claim("delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])", "nielsen")
>>> c.lhs, c.variable_used
(Ref(kind='delta', layer=Index(var=1, depth=0, const=0)), True)
>>> sorted(str(r.layer) for r in c.refs.values())
['l', 'l+1', 'l+1']
>>> parse_network_claim("delta[l] = W[l+1.T", "nielsen")
Traceback (most recent call last):
...
symbolic_bp.errors.InputError: claim: column 13: unclosed '['
>>> split_equation("grad(b[l]) = np.sum(delta[l], axis=0, keepdims=True)")
['grad(b[l]) ', ' np.sum(delta[l], axis=0, keepdims=True)']
>>> rows = parse_network_claim("grad(W[1]) = X.T @ delta[1]", "rows")
>>> instantiate(rows, lambda ref: "delta1", lambda ref: "sigma", "N")
'x.T @ delta1'
"""
from __future__ import annotations

import re
from fractions import Fraction
from dataclasses import dataclass, replace

from .convention import DEPTH_OFFSET, Convention, Index, Ref, get
from ..errors import InputError
from ..core import registry
from ..core.expression import Add, Apply, Call, Mul, Node, Num, Sym
from ..core.expression import substitute as substitute_nodes
from ..language.parser import parse
from ..language.printer import to_text

BATCH = "N"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"Q\d+_*\Z")        # what an indexed name is replaced by (W[l+1] -> Q0____)
_INDEX_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|([-+*]))")


@dataclass(frozen=True)
class NetworkClaim:
    """A parsed network claim.  ``rhs`` is an untyped tree whose placeholder
    symbols/functions are keys of ``refs`` (a :class:`Ref`, kind ``f`` for an
    activation) ; ``text`` is what the user wrote."""

    text: str
    convention: Convention
    lhs: Ref
    lhs_text: str
    rhs: Node
    rhs_text: str
    refs: dict
    written: dict = None      # placeholder -> what the user wrote there ("W[l+1]")

    @property
    def variable_used(self) -> bool:
        return bool(self.lhs.layer.var) or any(r.layer.var for r in self.refs.values())

    @property
    def is_delta(self) -> bool:
        return self.lhs.kind == "delta"


def _parse_index(text: str, col: int, conv: Convention) -> Index:
    """An affine index: terms INT, NAME or INT*NAME joined by + and -."""
    pos, total, sign, expect_term = 0, Index(), 1, True
    depth_value = Index(depth=1, const=DEPTH_OFFSET[conv.name])
    if not text.strip():
        raise InputError(f"column {col}: empty index")
    while pos < len(text):
        m = _INDEX_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise InputError(f"column {col + pos}: unexpected {text[pos:].strip()[:10]!r} in an index")
        number, name, op = m.groups()
        where = col + m.start(0) + len(m.group(0)) - len(m.group(0).lstrip())
        pos = m.end()
        if op in ("+", "-"):
            if expect_term and total != Index():
                raise InputError(f"column {where}: two operators in a row in an index")
            sign = sign * (-1 if op == "-" else 1) if expect_term else (-1 if op == "-" else 1)
            expect_term = True
            continue
        if not expect_term:
            raise InputError(f"column {where}: expected '+' or '-' in an index")
        coef = 1
        if number is not None:
            coef = int(number)
            m2 = re.compile(r"\s*\*\s*([A-Za-z_][A-Za-z0-9_]*)").match(text, pos)
            if m2:
                name, pos = m2.group(1), m2.end()
        if op == "*":
            raise InputError(f"column {where}: write products in an index as 2*l")
        if name is None:
            term = Index(const=coef)
        elif name == conv.variable:
            term = Index(var=coef)
        elif name == "L":
            term = Index(depth=coef * depth_value.depth, const=coef * depth_value.const)
        else:
            raise InputError(f"column {where}: {name!r} in an index: use the layer variable "
                             f"{conv.variable!r}, the depth 'L' or integers")
        total = total + (term if sign > 0 else -term)
        sign, expect_term = 1, False
    if expect_term:
        raise InputError(f"column {col + len(text)}: index ends with an operator")
    return total


def _cut_indices(text: str, conv: Convention, offset: int) -> tuple[str, dict]:
    """Replace each ``NAME[...]`` by a placeholder of the same length."""
    out, refs, pos, n = [], {}, 0, 0
    written = {}
    while pos < len(text):
        m = _NAME.match(text, pos)
        if not m:
            if text[pos] in "[]":
                raise InputError(f"column {offset + pos + 1}: {text[pos]!r} must follow a name")
            out.append(text[pos])
            pos += 1
            continue
        name, end = m.group(), m.end()
        if end < len(text) and text[end] == "[":
            close = text.find("]", end)
            if close < 0:
                raise InputError(f"column {offset + end + 1}: unclosed '['")
            inner = text[end + 1:close]
            if "[" in inner:
                raise InputError(f"column {offset + end + 1}: nested '[' in an index")
            indices = [_parse_index(part, offset + end + 2 + inner.find(part), conv) for part in inner.split(",")]
            ref = conv.resolve(name, indices, f"column {offset + pos + 1}")
            width = close + 1 - pos
            key = f"Q{n}"
            if width < len(key):
                raise InputError(f"column {offset + pos + 1}: too many indexed names")
            key = key + "_" * (width - len(key))
            refs[key] = ref
            written[key] = text[pos:close + 1]
            out.append(key)
            pos, n = close + 1, n + 1
        else:
            if _PLACEHOLDER.match(name):        # the reader's own: it would read as the indexed name it stands for
                raise InputError(f"column {offset + pos + 1}: {name!r} is a name the claim reader keeps for "
                                 "indexed names; choose another")
            out.append(name)
            pos = end
    return "".join(out), refs, written


def split_equation(text: str) -> list[str]:
    """``LHS = RHS`` cut at every ``=`` outside parentheses and brackets
    (not ``==``, ``<=``, ``>=``, ``!=``)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
        elif ch == "=" and depth == 0 and (i == 0 or text[i - 1] not in "<>=!") \
                and (i + 1 == len(text) or text[i + 1] != "="):
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


_LHS = re.compile(r"\s*(?:grad\s*\(\s*(?P<grad>[^()]*?)\s*\)|(?P<delta>[A-Za-z_][A-Za-z0-9_]*\s*\[[^\]]*\]))\s*\Z")


def parse_network_claim(text: str, convention: str | Convention) -> NetworkClaim:
    """Parse ``LHS = RHS`` in a convention; :class:`InputError` with a column."""
    conv = get(convention) if isinstance(convention, str) else convention
    if not isinstance(text, str):
        raise InputError(f"claim: expected a string, got {type(text).__name__}")
    if len(text) > 5000:
        raise InputError("claim: longer than 5000 characters")
    parts = split_equation(text)
    if len(parts) != 2:
        raise InputError("claim: write one equation 'LHS = RHS', e.g. "
                         f"{conv.examples[0] if conv.examples else 'delta[l] = ...'!r}")
    lhs_text, rhs_text = parts
    try:
        m = _LHS.match(lhs_text)
        if not m:
            raise InputError("column 1: the left-hand side must be delta[...] or grad(NAME[...])")
        target = m.group("grad") or m.group("delta")
        start = lhs_text.index(target)
        cut, lrefs, _ = _cut_indices(target, conv, start)
        if len(lrefs) != 1 or cut.strip() not in lrefs:
            raise InputError(f"column {start + 1}: expected one indexed name, got {target[:30]!r}")
        lhs = lrefs[cut.strip()]
        if m.group("grad"):
            if lhs.kind not in conv.grad_targets:
                raise InputError(f"column {start + 1}: grad(...) of {target!r}: the {conv.name} convention's "
                                 f"parameters are {', '.join(conv.grad_targets)}")
        elif lhs.kind != "delta":
            raise InputError(f"column {start + 1}: the left-hand side must be delta[...] or grad(...)")
    except InputError as e:
        raise e.within("claim")
    offset = len(lhs_text) + 1
    try:
        cut, refs, written = _cut_indices(rhs_text, conv, offset)
        tree = parse(" " * offset + cut)
    except InputError as e:
        raise e.within("claim")
    for node in tree.walk():
        if isinstance(node, Sym) and node.name in refs and refs[node.name].kind == "f":
            raise InputError(f"claim: column {node.pos}: an activation needs an argument, e.g. sigma[l](z[l])")
        if isinstance(node, Apply) and node.name in refs and refs[node.name].kind != "f":
            raise InputError(f"claim: column {node.pos}: an indexed quantity is not a function")
    return NetworkClaim(text.strip(), conv, lhs, lhs_text.strip(), tree, rhs_text.strip(), refs, written)


def substitute(tree: Node, symbols: dict, functions: dict) -> Node:
    """Replace symbols by trees and function names by names (bottom-up: the
    argument of a renamed function is substituted first)."""
    def rule(node: Node) -> Node | None:
        if isinstance(node, Sym) and node.name in symbols:
            return symbols[node.name]
        if isinstance(node, Apply) and node.name in functions:
            name = functions[node.name]
            if name == "identity":
                # identity(t) = t, identity'(t) = 1, identity''(t) = 0, entry by entry: 0 * t + 1
                if node.order == 0:
                    return node.arg
                zero = Mul(left=Num(value=Fraction(0)), right=node.arg)
                return Add(left=zero, right=Num(value=Fraction(1 if node.order == 1 else 0)))
            return replace(node, name=name)
        return None
    return substitute_nodes(tree, rule, bottom_up=True)


def first_layer(tree: Node, refs: dict) -> Ref | None:
    """The first z/p reference in ``tree`` (an unindexed activation alias
    denotes the activation of that layer)."""
    for node in tree.walk():
        if isinstance(node, Sym) and node.name in refs and refs[node.name].kind == "z":
            return refs[node.name]
    return None


def text_of(tree: Node) -> str:
    """The claim-language text of a substituted tree."""
    return to_text(tree)


class NotExpressible(Exception):
    """A quantity of the claim has no meaning in the context at hand (say
    delta[l+2] in the step at a generic layer l); the message says which."""


def instantiate(nc: NetworkClaim, quantity, activation, batch: str, batch_dim: str | None = None,
                symbols: dict | None = None) -> str:
    """The RHS as plain claim-language text.

    ``quantity(ref)`` gives the text of an indexed quantity;
    ``activation(ref)`` the name of the activation at ``ref``'s layer (``ref``
    None: the layer is not known from the argument); ``batch`` replaces ``N``
    and the convention's other names of it (``batch_dim`` where N is a
    dimension, as in ones(N, 1)); ``symbols`` renames other plain names (a
    penalty's ``alpha`` to ``lambda``), and the convention's unindexed data
    (the rows convention's ``X``, ``Y``) become ``x``, ``y``.  Either function
    may raise :class:`NotExpressible`."""
    conv = nc.convention
    alias = conv.function
    symbols = symbols or {}

    def rule(node: Node, dim: bool = False) -> Node | None:
        if isinstance(node, Call) and node.name in ("ones", "eye"):
            return replace(node, args=tuple(dimension(a) for a in node.args))
        if isinstance(node, Apply) and (node.name == alias or node.name in nc.refs):
            ref = nc.refs.get(node.name) or first_layer(node.arg, nc.refs)
            if ref is not None and ref.kind != "f":
                ref = Ref("f", ref.layer)
            name = activation(ref)
            arg = substitute_nodes(node.arg, rule)
            return substitute(replace(node, name="__f", arg=arg), {}, {"__f": name})
        if isinstance(node, Sym) and node.name in nc.refs:
            return parse(quantity(nc.refs[node.name]))
        if isinstance(node, Sym) and node.name in conv.batch_names:
            return parse(batch_dim if dim and batch_dim else batch)
        if isinstance(node, Sym) and node.name in conv.plain:
            return parse(conv.plain[node.name])
        if isinstance(node, Sym) and node.name in symbols:
            return parse(symbols[node.name])
        return None

    def dimension(node: Node) -> Node:
        """An argument of ones/eye: N itself is a dimension (batch_dim), an N deeper inside is not."""
        new = rule(node, dim=True)
        return substitute_nodes(node, rule) if new is None else new

    return to_text(substitute_nodes(nc.rhs, rule))


def plain_symbols(nc: NetworkClaim) -> set[str]:
    """The unindexed names of the right-hand side (not functions)."""
    return {node.name for node in nc.rhs.walk() if isinstance(node, Sym) and node.name not in nc.refs}


def generic_functions(nc: NetworkClaim, activations: list[str]) -> list[str]:
    """Declarations of the convention's generic activation names (the post's
    sigma beside its sigma_1, sigma_2, ...) that are not among the network's
    ``activations``: a claim may write them, and is then about another
    function than the layer's (a slip the diagnosis names)."""
    conv = nc.convention
    names = {conv.function, conv.indexed_function} - {None} - set(activations)
    return [f"{f}:function" for f in sorted(names) if registry.elementwise(f) is None]


def plain_names(conv: Convention) -> tuple[str, ...]:
    """The unindexed names a claim of ``conv`` may use: the data x and y (the
    convention's X and Y), its batch sizes, the penalty's coefficient and its
    other names."""
    from .network import LAMBDA, PENALTY_SYMBOLS
    names = ["x", "y", *conv.plain, *conv.batch_names, LAMBDA, *(n for ns in PENALTY_SYMBOLS.values() for n in ns)]
    return tuple(dict.fromkeys(names))


def scope_error(nc: NetworkClaim, activations: list[str]) -> str | None:
    """Why the claim uses a name that is not one of this network, or None:
    every check reads the claim in this one scope -- as functions the
    registered elementwise ones, the network's ``activations`` and the
    convention's activation names; as matrices the indexed quantities and
    :func:`plain_names` -- so that none of them reads ``y(z[l])`` as an opaque
    function while another calls ``y`` the labels, nor types ``delta`` or
    ``a_prev`` (names of the induction's local claim) where the others cannot.

    >>> nc = parse_network_claim("delta[l] = W[l+1].T @ delta[l+1] * y(z[l])", "nielsen")
    >>> scope_error(nc, ["sigmoid", "sigmoid"])
    "claim: column 36: 'y' is not a function of this network (its activations: sigmoid; or a registered elementwise function)"
    >>> scope_error(parse_network_claim("grad(W[l]) = delta @ a[l-1].T", "nielsen"), ["sigmoid"])
    "claim: column 14: 'delta' needs its layer index, as in delta[l]"
    """
    conv = nc.convention
    allowed = set(activations) | {conv.function, conv.indexed_function} - {None}
    plain = plain_names(conv)
    for node in nc.rhs.walk():
        if isinstance(node, Sym) and node.name not in nc.refs and node.name not in plain:
            if node.name in conv.names and conv.names[node.name][0] != "f":
                return f"claim: column {node.pos}: {node.name!r} needs its layer index, as in {node.name}[{conv.variable}]"
            if node.name in allowed or registry.elementwise(node.name) is not None:
                return f"claim: column {node.pos}: {node.name!r} is a function: apply it, as in {node.name}(...)"
            return (f"claim: column {node.pos}: {node.name!r} is not a name of this network (unindexed, a claim "
                    f"may use {', '.join(plain)}; the other quantities take their layer index, as in "
                    f"{conv.examples[0] if conv.examples else 'a[l]'})")
        if not isinstance(node, Apply) or registry.elementwise(node.name) is not None:
            continue
        if node.name in allowed or node.name in nc.refs and nc.refs[node.name].kind == "f":
            continue
        names = ", ".join(sorted(set(activations) - {"identity"}))
        return (f"claim: column {node.pos}: {node.name!r} is not a function of this network "
                f"(its activations: {names}; or a registered elementwise function)")
    return None
