"""A gradient claim, parsed and typed: "for cost C, dC/dX = K".

>>> p = prepare(Claim(shapes="A:m,n x:n y:m", cost="y.T @ A @ x", wrt="A", claim="y @ x.T"))
>>> p.derived_text
'y @ x.T'
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

from ..errors import InputError
from ..core.expression import Node, Sym
from ..calculus.gradient import gradients
from ..calculus.textbook import textbook_text
from ..language.printer import to_text
from ..language.shapes import Declarations, is_scalar, parse_declarations, parse_typed, show


@dataclass(frozen=True)
class Claim:
    """The user's statement: the gradient of ``cost`` with respect to ``wrt``
    is ``claim``, all symbols declared in ``shapes``."""

    shapes: str
    cost: str
    wrt: str
    claim: str

    def seed(self, base: int = 0) -> int:
        """A seed that depends only on the claim's text (stable across runs)."""
        text = "\x00".join((self.shapes, self.cost, self.wrt, self.claim, str(base)))
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


@dataclass(frozen=True)
class Prepared:
    source: Claim
    decls: Declarations
    cost: Node
    claim: Node
    wrt: str

    @property
    def wrt_shape(self):
        return self.decls.symbols[self.wrt].shape

    @cached_property
    def used_symbols(self) -> set[str]:
        """Declared symbols that the cost or the claim mentions (dimension
        arguments such as the n of ones(m, n) are not symbols)."""
        return {n.name for tree in (self.cost, self.claim) for n in tree.walk()
                if isinstance(n, Sym) and n.name in self.decls.symbols}

    @cached_property
    def cost_symbols(self) -> list[str]:
        """Declared symbols the cost depends on, in declaration order."""
        used = {n.name for n in self.cost.walk() if isinstance(n, Sym)}
        return [name for name in self.decls.symbols if name in used]

    @cached_property
    def all_gradients(self) -> dict[str, Node]:
        """The derived gradient of the cost with respect to every symbol in it
        (the wrt one included), by :mod:`symbolic_bp.calculus.gradient`."""
        names = list(dict.fromkeys([self.wrt] + self.cost_symbols))
        return gradients(self.cost, names, self.decls)

    @property
    def derived(self) -> Node:
        return self.all_gradients[self.wrt]

    @property
    def derived_text(self) -> str:
        # the derived gradient as a textbook writes it (softmax for exp / sum exp)
        return textbook_text(self.derived, self.decls)

    @property
    def shapes_agree(self) -> bool:
        return self.claim.shape == self.wrt_shape or is_scalar(self.claim.shape)


def _field(text, key: str) -> str:
    if not isinstance(text, str):
        raise InputError(f"{key}: expected a string, got {type(text).__name__}")
    return text


def prepare(claim: Claim) -> Prepared:
    """Parse and typecheck a claim; :class:`InputError` names the part at fault."""
    try:
        return _prepare(claim)
    except RecursionError:
        raise InputError("expression too deeply nested to check") from None


def _prepare(claim: Claim) -> Prepared:
    try:
        decls = parse_declarations(_field(claim.shapes, "shapes"))
    except InputError as e:
        raise e.within("shapes")
    try:
        cost = parse_typed(_field(claim.cost, "cost"), decls)
    except InputError as e:
        raise e.within("cost")
    if not is_scalar(cost.shape):
        raise InputError(f"cost: the cost must be a scalar, but {claim.cost.strip()[:60]!r} has shape {show(cost.shape)}")
    wrt = _field(claim.wrt, "wrt").strip()
    if wrt not in decls.symbols:
        raise InputError(f"wrt: {wrt[:40]!r} is not a declared symbol (declared: {', '.join(decls.symbols)})")
    prop = decls.symbols[wrt].prop
    if prop in ("onehot", "binary"):
        # 0/1 data take finitely many values: there is no derivative with respect to them
        raise InputError(f"wrt: {wrt} is declared {prop} (discrete data); a gradient with respect to it is "
                         "not defined")
    try:
        typed_claim = parse_typed(_field(claim.claim, "claim"), decls)
    except InputError as e:
        raise e.within("claim")
    return Prepared(claim, decls, cost, typed_claim, wrt)
