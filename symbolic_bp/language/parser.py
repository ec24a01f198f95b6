"""A hand-written tokenizer and precedence-climbing parser for claims.

Nothing here evaluates user text: the input is split into tokens by one
regular expression and assembled into :mod:`symbolic_bp.core.expression` nodes by
a grammar with Python's precedences::

    expr    := term (('+' | '-') term)*
    term    := unary (('@' | '*' | '/') unary)*
    unary   := ('-' | '+') unary | power
    power   := postfix ('**' exponent)?          # right-associative
    exponent:= ['-'] INT | '(' ['-'] INT ')'
    postfix := atom ('.T')*
    atom    := NUMBER | NAME | NAME "'"* '(' args ')' | '(' expr ')'

Errors are :class:`~symbolic_bp.errors.InputError` with the column.

>>> from symbolic_bp.language.printer import to_text
>>> to_text(parse("W.T @ delta * sigma'(z)"))
"W.T @ delta * sigma'(z)"
>>> parse("x +* y")
Traceback (most recent call last):
...
symbolic_bp.errors.InputError: column 4: expected an operand, found '*'
"""
from __future__ import annotations

import re
from fractions import Fraction

from ..errors import InputError
from ..core import registry
from ..core.expression import Add, Apply, Call, Div, MatMul, Mul, Neg, Node, Num, Pow, Sub, Sym, Transpose

MAX_LENGTH = 20_000
MAX_DEPTH = 100          # nesting of brackets, signs and calls
MAX_TREE_DEPTH = 150     # depth of the tree: a flat chain a + a + ... is deep too
MAX_EXPONENT = 64
MAX_NUMBER_CHARS = 100
MAX_PRIMES = 8          # derivative order written with primes, sigma''''''''(z)

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|\.T\b|[-+*/@(),'])
""", re.VERBOSE)


class Token:
    __slots__ = ("kind", "text", "col")

    def __init__(self, kind: str, text: str, col: int):
        self.kind, self.text, self.col = kind, text, col

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.text!r}, {self.col})"


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; the last one is ``end``."""
    if not isinstance(text, str):
        raise InputError(f"expected a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise InputError(f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            hint = " (write products with '@' or '*')" if ch in "·×⋅" else ""
            if ch == "[":
                hint = " (indexing is not part of the claim language)"
            raise InputError(f"column {pos + 1}: unexpected character {ch!r}{hint}")
        if m.lastgroup != "space":
            tokens.append(Token(m.lastgroup, m.group(), pos + 1))
        pos = m.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    # -- helpers -----------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, text: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == text

    def expect(self, text: str, what: str) -> Token:
        if not self.at(text):
            raise self.error(f"expected {what}")
        return self.advance()

    def error(self, message: str, tok: Token | None = None) -> InputError:
        tok = tok or self.tok
        found = "end of input" if tok.kind == "end" else repr(tok.text)
        return InputError(f"column {tok.col}: {message}, found {found}")

    def nest(self, col: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise InputError(f"column {col}: expression nested deeper than {MAX_DEPTH} levels")

    # -- grammar -----------------------------------------------------------
    def parse(self) -> Node:
        node = self.expr()
        if self.tok.kind != "end":
            raise self.error("expected an operator or the end of the expression")
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.at("+") or self.at("-"):
            op = self.advance()
            right = self.term()
            cls = Add if op.text == "+" else Sub
            node = cls(left=node, right=right, pos=op.col)
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.at("@") or self.at("*") or self.at("/"):
            op = self.advance()
            right = self.unary()
            if op.text == "/" and isinstance(node, Num) and isinstance(right, Num) and right.value != 0:
                node = Num(value=node.value / right.value, pos=node.pos)   # the literal fraction 1/2
                continue
            cls = {"@": MatMul, "*": Mul, "/": Div}[op.text]
            node = cls(left=node, right=right, pos=op.col)
        return node

    def unary(self) -> Node:
        if self.at("-") or self.at("+"):
            op = self.advance()
            self.nest(op.col)
            arg = self.unary()
            self.depth -= 1
            return Neg(arg=arg, pos=op.col) if op.text == "-" else arg
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        if self.at("**"):
            op = self.advance()
            exponent = self.exponent()
            if self.at("**"):
                raise self.error("exponents must be integer literals, so '**' cannot be chained")
            return Pow(base=base, exponent=exponent, pos=op.col)
        return base

    def exponent(self) -> int:
        paren = self.at("(")
        if paren:
            self.advance()
        sign = 1
        if self.at("-"):
            self.advance()
            sign = -1
        tok = self.tok
        if tok.kind != "number" or not tok.text.isdigit():
            raise self.error("expected an integer literal as exponent")
        self.advance()
        value = sign * int(tok.text)
        if abs(value) > MAX_EXPONENT:
            raise InputError(f"column {tok.col}: exponent {value} is outside -{MAX_EXPONENT}..{MAX_EXPONENT}")
        if paren:
            self.expect(")", "')' after the exponent")
        return value

    def postfix(self) -> Node:
        node = self.atom()
        while self.tok.kind == "op" and self.tok.text == ".T":
            op = self.advance()
            node = Transpose(arg=node, pos=op.col)
        return node

    def atom(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            # Fraction('1e999999999') would compute 10**999999999: bound the text first
            # (a literal within 128 bits never needs more than MAX_NUMBER_CHARS characters)
            exponent = re.search(r"[eE]([+-]?\d+)$", tok.text)
            if len(tok.text) > MAX_NUMBER_CHARS or exponent and len(exponent.group(1)) > 4:
                raise InputError(f"column {tok.col}: number {tok.text[:20]!r} is too large")
            try:
                value = Fraction(tok.text)
            except (ValueError, ZeroDivisionError):  # pragma: no cover - regex guards
                raise InputError(f"column {tok.col}: bad number {tok.text[:20]!r}")
            if value.numerator.bit_length() > 128 or value.denominator.bit_length() > 128:
                raise InputError(f"column {tok.col}: number {tok.text[:20]!r} is too large")
            return Num(value=value, pos=tok.col)
        if tok.kind == "name":
            return self.name()
        if self.at("("):
            self.advance()
            self.nest(tok.col)
            node = self.expr()
            self.depth -= 1
            self.expect(")", "')'")
            return node
        raise self.error("expected an operand")

    def name(self) -> Node:
        tok = self.advance()
        primes = 0
        while self.at("'"):
            self.advance()
            primes += 1
            if primes > MAX_PRIMES:
                raise InputError(f"column {tok.col}: {tok.text} is differentiated more than {MAX_PRIMES} times")
        if not self.at("("):
            if primes:
                raise self.error(f"expected '(' after {tok.text + chr(39) * primes}")
            return Sym(name=tok.text, pos=tok.col)
        open_tok = self.advance()
        self.nest(open_tok.col)
        args = [] if self.at(")") else [self.expr()]
        while self.at(","):
            self.advance()
            args.append(self.expr())
        self.depth -= 1
        self.expect(")", "',' or ')'")
        name = tok.text
        wanted = registry.arguments(name)
        if wanted is not None:
            if primes:
                raise InputError(f"column {tok.col}: {name} is a matrix function and has no elementwise derivative {name}'")
            if len(args) != wanted:
                raise InputError(f"column {tok.col}: {name} takes {wanted} argument{'s' * (wanted > 1)}, got {len(args)}")
            return Call(name=name, args=tuple(args), pos=tok.col)
        if len(args) != 1:
            raise InputError(f"column {tok.col}: elementwise function {name} takes 1 argument, got {len(args)}")
        return Apply(name=name, arg=args[0], order=primes, pos=tok.col)


def tree_depth(node: Node) -> int:
    """Depth of a tree (a leaf is 1), computed without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in n.children())
    return deepest


def parse(text: str) -> Node:
    """Parse one expression of the claim language into an untyped tree."""
    stripped = text.strip() if isinstance(text, str) else text
    if stripped == "":
        raise InputError("empty expression")
    tree = _Parser(text).parse()
    # every later stage (typing, derivation, printing) recurses over the tree
    depth = tree_depth(tree)
    if depth > MAX_TREE_DEPTH:
        raise InputError(f"expression is {depth} operations deep; the limit is {MAX_TREE_DEPTH} "
                         "(a chain of that many operators, or nesting)")
    return tree
