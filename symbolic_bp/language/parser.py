"""A hand-written tokenizer and precedence-climbing parser for claims.

Nothing here evaluates user text: the input is split into tokens by one
regular expression and assembled into :mod:`symbolic_bp.core.expression` nodes by
a grammar with Python's precedences::

    compare := expr (('>' | '>=' | '<' | '<=' | '==' | '!=') expr)?
    expr    := term (('+' | '-') term)*
    term    := unary (('@' | '*' | '/') unary)*
    unary   := ('-' | '+') unary | power
    power   := postfix ('**' exponent)?          # right-associative
    exponent:= ['-'] NUMBER | '(' ['-'] NUMBER ['/' NUMBER] ')'
    postfix := atom ('.T' | '.' METHOD '(' args ')')*
    atom    := NUMBER | NAME | NAME "'"* '(' args ')' | '(' compare ')'
    args    := (compare | NAME '=' compare) (',' ...)*
    NAME    := ['np.' | 'numpy.'] name

The NumPy spellings are read as the language's own: the ``np.`` prefix is
dropped, ``np.dot(A, B)`` and ``A.dot(B)`` are ``A @ B``, a method
``X.sum(axis=0)`` is the call ``sum(X, axis=0)``, a comparison ``A > B`` is
the call of the registered operation whose ``infix`` it is.  Keyword
arguments are kept by name for the type pass to read.

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
from functools import lru_cache

from ..errors import InputError
from ..core import registry
from ..core.expression import Add, Apply, Call, Div, MatMul, Mul, Neg, Node, Num, Pow, Sub, Sym, Transpose

MAX_LENGTH = 20_000
MAX_DEPTH = 100          # nesting of brackets, signs and calls
MAX_TREE_DEPTH = 150     # depth of the tree: a flat chain a + a + ... is deep too
MAX_EXPONENT = 64
MAX_NUMBER_CHARS = 100
MAX_PRIMES = 8          # derivative order written with primes, sigma''''''''(z)
MAX_DECIMAL_EXPONENT = 999      # 1e999: refused before Fraction computes 10**exponent
_LARGEST = float(2 ** 128 - 1)  # a literal is exact: numerator and denominator within 128 bits
_SMALLEST_DIGITS = 38           # 10**38 < 2**128 < 10**39: 1e-38 the smallest power of ten
MAX_EXPONENT_DENOMINATOR = 10 ** 6

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|\.T\b|\.(?=[A-Za-z_])|[<>=!]=|[-+*/@(),'<>=])
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
        node = self.compare()
        if self.tok.kind != "end":
            raise self.error("expected an operator or the end of the expression")
        return node

    def compare(self) -> Node:
        node = self.expr()
        if self.tok.kind == "op" and self.tok.text in _COMPARISONS:
            op = self.advance()
            right = self.expr()
            node = Call(name=registry.infix(op.text), args=(node, right), pos=op.col)
            if self.tok.kind == "op" and self.tok.text in _COMPARISONS:
                raise self.error("comparisons cannot be chained")
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
                raise self.error("exponents must be number literals, so '**' cannot be chained")
            return Pow(base=base, exponent=exponent, pos=op.col)
        return base

    def exponent(self) -> int | Fraction:
        """A literal exponent: ``2``, ``-1``, ``0.5``, ``(-0.5)``, ``(1/3)``; an
        integer one is an ``int``, any other a :class:`Fraction`."""
        paren = self.at("(")
        if paren:
            self.advance()
        sign = 1
        if self.at("-"):
            self.advance()
            sign = -1
        col = self.tok.col
        value = sign * self.literal("an exponent")
        if paren and self.at("/"):
            self.advance()
            divisor = self.literal("an exponent")
            if divisor == 0:
                raise InputError(f"column {self.tok.col}: division by zero in the exponent")
            value /= divisor
        if abs(value) > MAX_EXPONENT:
            raise InputError(f"column {col}: exponent {value} is outside -{MAX_EXPONENT}..{MAX_EXPONENT}")
        if value.denominator > MAX_EXPONENT_DENOMINATOR:
            raise InputError(f"column {col}: exponent {value} is too precise (a fractional exponent's "
                             f"denominator is at most {MAX_EXPONENT_DENOMINATOR})")
        if paren:
            self.expect(")", "')' after the exponent")
        return int(value) if value.denominator == 1 else value

    def literal(self, what: str) -> Fraction:
        if self.tok.kind != "number":
            raise self.error(f"expected a number literal as {what} (exponents are constants)")
        return self.number(self.advance())

    def postfix(self) -> Node:
        node = self.atom()
        while self.tok.kind == "op" and self.tok.text in (".T", "."):
            op = self.advance()
            if op.text == ".T":
                node = Transpose(arg=node, pos=op.col)
                continue
            node = self.method(node, op)
        return node

    def method(self, obj: Node, dot: Token) -> Node:
        """``obj.name(args)``: a NumPy method, read as the call ``name(obj, args)``."""
        tok = self.advance()
        if tok.kind != "name":          # pragma: no cover - the tokenizer only makes '.' before a name
            raise self.error("expected a method name", tok)
        spelled = registry.numpy_method(tok.text)
        if spelled is None:
            raise InputError(f"column {tok.col}: unknown method .{tok.text}() (known: "
                             f"{', '.join(registry.numpy_methods())})")
        if not self.at("("):
            raise self.error(f"expected '(' after .{tok.text}")
        args, keywords = self.arguments(tok, callee=spelled)
        return self.build(spelled, tok, (obj, *args), keywords)

    def number(self, tok: Token) -> Fraction:
        # Fraction('1e999999999') would compute 10**999999999: bound the text first
        # (a literal within 128 bits never needs more than MAX_NUMBER_CHARS characters)
        shown = repr(tok.text[:20])
        if len(tok.text) > MAX_NUMBER_CHARS:
            raise InputError(f"column {tok.col}: number {shown} is longer than {MAX_NUMBER_CHARS} characters")
        exponent = re.search(r"[eE]([+-]?\d+)$", tok.text)
        small = exponent is not None and int(exponent.group(1)) < -MAX_DECIMAL_EXPONENT
        if exponent and (small or int(exponent.group(1)) > MAX_DECIMAL_EXPONENT):
            value = None                 # not computed: its size alone is out of bounds
        else:
            try:
                value = Fraction(tok.text)
            except (ValueError, ZeroDivisionError):  # pragma: no cover - regex guards
                raise InputError(f"column {tok.col}: bad number {shown}")
            if value.numerator.bit_length() <= 128 and value.denominator.bit_length() <= 128:
                return value
            small = value < 1
        # a literal is exact, its numerator and denominator within 128 bits each: say which bound it
        # passes (1e-300 is not too large); 0e-9999 is refused as too small
        if not small:
            reason = f"too large (at most 128 bits, about {_LARGEST:.1e})"
        elif value is None or value < Fraction(1, 10 ** _SMALLEST_DIGITS):
            reason = f"too small (a literal is an exact fraction within 128 bits: down to about 1e-{_SMALLEST_DIGITS})"
        else:
            reason = f"too precise (at most {_SMALLEST_DIGITS} decimal places)"
        raise InputError(f"column {tok.col}: number {shown} is {reason}")

    def atom(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            return Num(value=self.number(tok), pos=tok.col)
        if tok.kind == "name":
            return self.name()
        if self.at("("):
            self.advance()
            self.nest(tok.col)
            node = self.compare()
            self.depth -= 1
            self.expect(")", "')'")
            return node
        raise self.error("expected an operand")

    def shape_tuple(self) -> list[Node] | None:
        """NumPy's shape argument ``(n, k)`` of ``np.ones((n, k))``: its two
        dimensions, or None (nothing consumed) where the next argument is not one."""
        start = self.i
        if not self.at("("):
            return None
        self.advance()
        first = self.compare()
        if not self.at(","):
            self.i = start
            return None
        self.advance()
        second = self.compare()
        self.expect(")", "')' after the two dimensions of a shape")
        if not self.at(")"):
            raise self.error("a shape (n, k) is the only argument")
        return [first, second]

    def arguments(self, tok: Token, shape: bool = False, callee: str | None = None) -> tuple[list[Node], tuple]:
        """``(a, b, axis=0)``: the positional arguments and the keyword ones, as
        (name, node) pairs; ``shape``: a call that also takes NumPy's shape tuple;
        ``callee``: the function's name, whose keywords are known."""
        open_tok = self.advance()
        self.nest(open_tok.col)
        args: list[Node] = []
        keywords: list[tuple[str, Node]] = []
        dims = self.shape_tuple() if shape else None
        if dims is not None:
            args = dims
        while not self.at(")"):
            if args or keywords:
                self.expect(",", "',' or ')'")
            if self.tok.kind == "name" and self.tokens[self.i + 1].kind == "op" and self.tokens[self.i + 1].text == "=":
                key = self.advance()
                self.advance()
                refused = _keyword_refused(callee, key.text) if callee else None
                if refused:                  # said at the keyword, before its value is read
                    hint = "" if key.text in _keyword_names() else \
                        "; '=' names a keyword argument (a comparison is written '==')"
                    raise InputError(f"column {key.col}: {refused}{hint}")
                if any(k == key.text for k, _ in keywords):
                    raise InputError(f"column {key.col}: keyword argument {key.text!r} is given twice")
                keywords.append((key.text, self.compare()))
            elif keywords:
                raise self.error("positional argument after a keyword argument")
            else:
                args.append(self.compare())
        self.depth -= 1
        self.expect(")", "',' or ')'")
        return args, tuple(keywords)

    def qualified(self, tok: Token) -> tuple[str, bool]:
        """A name with its module prefix read: ``np.linalg.inv`` -> (``linalg.inv``, True),
        ``scipy.special.softmax`` -> (``special.softmax``, True), ``x`` -> (``x``, False)."""
        parts = [tok.text]
        while ".".join(parts) in _MODULES and self.at("."):
            self.advance()
            part = self.advance()
            if part.kind != "name":      # pragma: no cover - the tokenizer only makes '.' before a name
                raise self.error("expected a name after '.'", part)
            parts.append(part.text)
        if len(parts) == 1:
            return tok.text, False
        if ".".join(parts) in _MODULES:
            raise self.error(f"expected a function after {'.'.join(parts)}")
        while len(parts) > 1 and parts[0] in ("np", "numpy", "scipy"):
            parts.pop(0)
        return ".".join(parts), True

    def name(self) -> Node:
        tok = self.advance()
        name, numpy = self.qualified(tok)
        if numpy:
            spelled = registry.numpy_function(name)
            if spelled is None:
                raise InputError(f"column {tok.col}: np.{name} is not part of the claim language "
                                 f"({registry.unknown_function(name.split('.')[-1])})")
            name = spelled
        primes = 0
        while self.at("'"):
            self.advance()
            primes += 1
            if primes > MAX_PRIMES:
                raise InputError(f"column {tok.col}: {name} is differentiated more than {MAX_PRIMES} times")
        if not self.at("("):
            if primes or numpy:
                raise self.error(f"expected '(' after {name + chr(39) * primes}")
            return Sym(name=tok.text, pos=tok.col)
        args, keywords = self.arguments(tok, shape=name in _SHAPED, callee=None if primes else name)
        if primes:
            if registry.arguments(name) is not None or name in _SPELLED:
                raise InputError(f"column {tok.col}: {name} is a matrix function and has no elementwise "
                                 f"derivative {name}'")
            if keywords or len(args) != 1:
                raise InputError(f"column {tok.col}: elementwise function {name}' takes 1 argument")
            return Apply(name=name, arg=args[0], order=primes, pos=tok.col)
        return self.build(name, tok, tuple(args), keywords)

    def build(self, name: str, tok: Token, args: tuple, keywords: tuple) -> Node:
        """The node of the call ``name(args, keywords)``."""
        if name in _SPELLED:                 # np.dot(A, B), A.dot(B), np.transpose(A), np.multiply...
            cls, arity = _SPELLED[name]
            if keywords or len(args) != arity:
                raise InputError(f"column {tok.col}: {name} takes {arity} argument{'s' * (arity > 1)}")
            return cls(left=args[0], right=args[1], pos=tok.col) if arity == 2 else cls(arg=args[0], pos=tok.col)
        wanted = registry.arguments(name)
        if wanted is not None:
            required, most = wanted
            if keywords and len(args) < required:      # np.sum(axis=0): the keywords are not the arguments
                raise InputError(f"column {tok.col}: {name} needs {required} argument{'s' * (required > 1)} "
                                 f"before its keyword arguments, got {len(args)}")
            if not required <= len(args) <= most:
                count = str(required) if required == most else f"{required} to {most}"
                raise InputError(f"column {tok.col}: {name} takes {count} argument{'s' * (most > 1)}, "
                                 f"got {len(args)}")
            known = registry.keywords(name)
            for key, value in keywords:
                if key not in known:
                    raise InputError(f"column {value.pos or tok.col}: {name} takes no keyword argument "
                                     f"{key!r}" + (f" (it takes {', '.join(known)})" if known else ""))
            return Call(name=name, args=tuple(args), keywords=keywords, pos=tok.col)
        if keywords:
            raise InputError(f"column {tok.col}: elementwise function {name} takes no keyword arguments")
        if len(args) != 1:
            raise InputError(f"column {tok.col}: elementwise function {name} takes 1 argument, got {len(args)}")
        return Apply(name=name, arg=args[0], order=0, pos=tok.col)


_COMPARISONS = (">", ">=", "<", "<=", "==", "!=")
_LITERAL_WORDS = ("True", "False", "None")     # the values a keyword argument takes by name
_WRITTEN = {MatMul: "A @ B", Mul: "A * B", Div: "A / B", Add: "A + B", Sub: "A - B", Transpose: "A.T", Neg: "-A"}
_SHAPED = ("ones", "zeros")          # np.ones((n, k)): a shape tuple as the argument
_MODULES = ("np", "numpy", "np.linalg", "numpy.linalg", "scipy", "scipy.special", "special", "linalg")
# NumPy functions that are the language's operators, not calls: (node, arity)
_SPELLED = {"dot": (MatMul, 2), "matmul": (MatMul, 2), "multiply": (Mul, 2), "divide": (Div, 2),
            "add": (Add, 2), "subtract": (Sub, 2), "transpose": (Transpose, 1), "negative": (Neg, 1)}


# Words the parser reads as something other than a declared name, so that a declaration of one
# would give a text two readings; role -> word -> why (the declaration's error says it).  Decided
# case by case:
#   True, False, None: the values of keyword arguments (axis=None, keepdims=True) -- np.sum(X, None)
#     reads None as the axis whatever is declared, so no role;
#   np, numpy, scipy, linalg, special: module prefixes -- np.sum(x) is NumPy's sum, not a method of a
#     symbol np, and np(x) would read np.sum(x) as a module path -- so no role;
#   dot, matmul, multiply, add, subtract, transpose, negative (NumPy's spellings of the operators):
#     called, they are the operator (add(A, B) is A + B), so not a function; as a symbol or a
#     dimension a name is never called, and they stay free;
#   axis, keepdims, ddof: a keyword only as NAME= inside a call's parentheses, where no expression
#     has a bare '=', so free in every role (sum(X, axis) passes the symbol axis);
#   trace, absolute, amax, amin (NumPy's spellings of tr, abs, max, min): only with the prefix
#     (np.trace), so free too.
_VALUE_WORD = "a keyword argument's value (axis=None, keepdims=True)"
_MODULE_WORD = "a module prefix (np.sum, np.linalg.inv, scipy.special.expit)"
_EVERY_ROLE = {**dict.fromkeys(_LITERAL_WORDS, _VALUE_WORD),
               **dict.fromkeys(sorted({m.split(".")[0] for m in _MODULES}), _MODULE_WORD)}
RESERVED_WORDS = {
    "symbol": _EVERY_ROLE,
    "dimension": _EVERY_ROLE,
    "function": {**_EVERY_ROLE, **{name: f"NumPy's spelling of an operator: {name}(...) is read as "
                                         f"{_WRITTEN[_SPELLED[name][0]]}" for name in _SPELLED}},
}


def reserved_word(name: str, role: str) -> str | None:
    """Why ``name`` cannot be declared as a ``role`` (symbol, dimension or
    function) because the parser reads it as something else, or None.

    >>> reserved_word("None", "symbol"), reserved_word("axis", "symbol"), reserved_word("add", "symbol")
    ("a keyword argument's value (axis=None, keepdims=True)", None, None)
    >>> reserved_word("add", "function")
    "NumPy's spelling of an operator: add(...) is read as A + B"
    """
    return RESERVED_WORDS[role].get(name)


@lru_cache(maxsize=1)
def _keyword_names() -> frozenset:
    """Every keyword a registered operation takes (axis, keepdims, ddof)."""
    return frozenset(k for name in registry.known_names() for k in registry.keywords(name))


def _keyword_refused(name: str, key: str) -> str | None:
    """Why ``name(..., key=...)`` cannot be read, or None: the registered
    operations take their own keywords; NumPy's operator spellings and the
    elementwise functions take none."""
    if name in _SPELLED:
        return f"{name} takes no keyword arguments"
    if registry.arguments(name) is None:
        return f"elementwise function {name} takes no keyword arguments"
    known = registry.keywords(name)
    if key in known:
        return None
    return f"{name} takes no keyword argument {key!r}" + (f" (it takes {', '.join(known)})" if known else "")


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
