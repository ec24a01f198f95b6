"""Claims from documents: ``symbolic-bp extract FILE.md|FILE.tex [-o out.toml]``.

The claims of a document are its ``\\boxed{…}`` formulas and its math of the
form ``C = … \\implies \\frac{\\delta C}{\\delta A} = …`` (also ``\\partial``,
``d``, ``\\nabla_A C``).  Each is translated from LaTeX into the claim
language by a small hand-written LaTeX-math grammar (:class:`LatexParser`;
nothing is evaluated):

=================================  ===================================
LaTeX                              claim language
=================================  ===================================
``y^T``, ``y^{T}``, ``y^\\top``      ``y.T``
``x_0``, ``W_{12}``                 ``x0``, ``W12``
``\\sigma'(Ax)``, ``\\sigma_2’(z)``   ``sigma'(A @ x)``, ``sigma_2'(z)``
``a \\odot b``, ``a .* b``, ``a*b``  ``a * b`` (Hadamard)
``ABx`` (juxtaposition)            ``A @ B @ x``
``\\frac{1}{2} x``, ``2 x``          ``1 / 2 * x``, ``2 * x``
``\\left( … \\right)``, ``[…]``,     parentheses
``\\{…\\}``
``\\begin{bmatrix} x_1 \\\\ \\vdots    ``x`` (a vector of the entries of x)
\\\\ x_n \\end{bmatrix}``
``\\underbrace{Bx}_{x'}``            ``B @ x``, and a definition of x'
``X^{-1}``, ``s^2``                 ``inv(X)``, ``s**2``
``A^{3}`` of a matrix A              ``matrix_power(A, 3)``
``X^{\\circ 2}``, ``s^{1/2}``       ``X**2`` (entrywise), ``s**(1/2)``
``\\frac{A}{B}``                    ``A / B`` (entrywise for a matrix B)
``\\max\\left(0, Z\\right)``        ``maximum(0, Z)`` (one argument: ``max``)
``\\left[A > B\\right]``, ``\\geq``  ``A > B``, ``>=`` (an Iverson bracket)
``\\operatorname{sum}_{\\mathrm{axis}=1,\\,\\mathrm{keepdims}}(X)``
                                   ``sum(X, axis=1, keepdims=True)``
``\\mathrm{dY}``, ``\\mathrm{exp}(X)`` ``dY``, ``exp(X)``
``\\mathbf{1}_{m \\times n}``, ``I_n`` ``ones(m, n)``, ``eye(n)``
``\\begin{aligned} C &= … \\\\ \\frac{\\partial C}{\\partial W} &= … \\end{aligned}``
                                   a cost and its gradient (as the proofs document boxes them)
=================================  ===================================

The notation of the project's own LaTeX printer
(:mod:`symbolic_bp.rendering.latex`) reads back into the claim it was
printed from; a dimension used as a number (the N of ``\\frac{1}{N}``) is
read as a symbol that is only ever divided by, declared a scalar.

A boxed gradient without its cost (``\\boxed{\\frac{\\delta C}{\\delta A} = …}``)
takes the latest cost ``C = …`` written before it; names defined before it
(``D \\equiv W_{23}W_{12}``, ``x_3 = W_{23}W_{12}W_{01}x_0``, underbraces) are
substituted.  Shapes are inferred from how the symbols are used (a name
with a capital -- A, W01, dY -- is a matrix, any other a column vector, a
product ties inner dimensions, a sum, Hadamard product or comparison
broadcasts as NumPy does, the cost is 1x1, a gradient has the shape of its
variable, so that the b of X W + b whose gradient is a row is a row);
dimensions nothing ties are named and listed.  Formulas that cannot be translated are listed with the reason.

>>> to_claim_text(r"[y \\odot \\sigma'(Ax)] x^T")      # '*' and '@' bind equally, left to right
"y * sigma'(A @ x) @ x.T"
>>> to_claim_text(r"\\frac{1}{2} x^TA^TAx")
'1 / 2 * x.T @ A.T @ A @ x'
>>> doc = r"Hence \\[\\boxed{C = y^T A x \\implies \\frac{\\delta C}{\\delta A} = y x^T}\\]"
>>> found = extract_text(doc, "doc.md")
>>> [(c.cost, c.wrt, c.claim, c.shapes) for c in found.claims]
[('y.T @ A @ x', 'A', 'y @ x.T', 'A:m,n x:n y:m')]
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fractions import Fraction
from math import prod
from pathlib import Path

from ..errors import InputError
from ..core import registry
from ..core.dims import MAX_DIM, ONE, Dim
from ..core.expression import (
    Add, Apply, Call, Div, MatMul, Mul, Neg, Node, Num, Pow, Sub, Sym, Transpose, substitute,
)
from ..language.parser import MAX_TREE_DEPTH, tree_depth
from ..language.printer import to_text

MAX_BYTES = 5_000_000
MAX_FORMULA = 20_000

# -- the LaTeX tokenizer --------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<rowsep>\\\\\\?|\\(?=[ \t]*\n))
  | (?P<space>\s+|\\[,;:!\ ]|\\quad|\\qquad|~)
  | (?P<command>\\[A-Za-z]+|\\[{}\[\]|])
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<letter>[A-Za-z])
  | (?P<prime>['’′])
  | (?P<dotstar>\.\*)
  | (?P<op>[-+*/=^_{}()\[\],.|<>&])
""", re.VERBOSE)

GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "nu", "xi", "pi", "rho",
         "sigma", "tau", "phi", "chi", "psi", "omega", "Delta", "Theta", "Sigma", "Phi", "Omega", "Lambda"}
# names that are functions when followed by '(' or a prime
FUNCTION_LETTERS = {"sigma", "phi", "psi", "f", "g", "h"}
NAMED_FUNCTIONS = {"exp": "exp", "log": "log", "tanh": "tanh", "ln": "log", "sin": "sin", "cos": "cos"}
# comparisons, as the printer writes an Iverson bracket [A > B] (and as papers do)
COMPARISONS = {">": ">", "<": "<", "=": "==", "\\gt": ">", "\\lt": "<", "\\geq": ">=", "\\ge": ">=",
               "\\geqslant": ">=", "\\leq": "<=", "\\le": "<=", "\\leqslant": "<=", "\\neq": "!=", "\\ne": "!="}
TRANSPARENT = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "displaystyle",
               "mathbf", "mathrm", "boldsymbol", "vec", "bm", "mathit"}
HADAMARD = {"odot", "circ"}
SKIP_ENTRIES = {"vdots", "ldots", "cdots", "dots"}


class Untranslatable(Exception):
    """A formula the translator cannot render in the claim language (the reason)."""


@dataclass
class Tok:
    kind: str
    text: str
    col: int


def latex_tokens(text: str) -> list[Tok]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise Untranslatable(f"column {pos + 1}: unexpected character {text[pos]!r}")
        if m.lastgroup != "space":
            out.append(Tok(m.lastgroup, m.group(), pos + 1))
        pos = m.end()
    out.append(Tok("end", "", len(text) + 1))
    return out


# -- the LaTeX-math grammar -------------------------------------------------------------

class LatexParser:
    """expr := term (('+'|'-') term)* ; term := factor ((odot | '.*' | '*' | juxtaposition) factor)* ;
    factor := '-' factor | atom postfix* ; postfix := '^' sup | prime ; atom := letter | command |
    number | group.  Juxtaposition is a matrix product (a scalar factor scales)."""

    def __init__(self, text: str):
        self.toks = latex_tokens(text)
        self.i = 0
        self.depth = 0
        self.defined: dict[str, Node] = {}       # from \underbrace{...}_{name}
        self.symbols: list[str] = []
        self.repairs: list[str] = []             # readings chosen where the source is unbalanced

    # token helpers
    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def at(self, *texts: str) -> bool:
        return self.tok.text in texts and self.tok.kind != "end"

    def take(self) -> Tok:
        t = self.toks[self.i]
        if t.kind != "end":          # the end stays the current token, however often it is taken
            self.i += 1
        return t

    def expect(self, text: str) -> None:
        if not self.at(text):
            raise Untranslatable(f"column {self.tok.col}: expected {text!r}, found {self.tok.text or 'the end'!r}")
        self.take()

    def fail(self, what: str):
        raise Untranslatable(f"column {self.tok.col}: {what}")

    # grammar
    def parse(self) -> Node:
        try:
            node = self.expr()
        except RecursionError:
            raise Untranslatable("formula nested too deeply") from None
        if self.tok.kind != "end":
            self.fail(f"unexpected {self.tok.text!r}")
        # every later stage recurses over the tree: the claim language's own limit
        if tree_depth(node) > MAX_TREE_DEPTH:
            raise Untranslatable(f"formula more than {MAX_TREE_DEPTH} operations deep")
        return node

    def expr(self, stop=()) -> Node:
        self.depth += 1
        if self.depth > 60:
            self.fail("formula nested too deeply")
        if self.at("-"):
            self.take()
            node = Neg(arg=self.term(stop))
        else:
            if self.at("+"):
                self.take()
            node = self.term(stop)
        while self.at("+", "-"):
            op = self.take().text
            right = self.term(stop)
            node = Add(left=node, right=right) if op == "+" else Sub(left=node, right=right)
        self.depth -= 1
        return node

    def _starts_factor(self) -> bool:
        t = self.tok
        if t.kind in ("letter", "number"):
            return True
        if t.kind == "command":
            name = t.text[1:]
            return name not in ("right", "implies", "Rightarrow", "equiv", "approx", "neq", "rangle", "end") \
                and t.text not in COMPARISONS \
                and t.text not in ("\\}", "\\]", "\\|") and name not in HADAMARD and name != "cdot"
        return t.text in ("(", "[", "{")

    def term(self, stop=()) -> Node:
        node = self.factor()
        while True:
            if self.tok.kind == "command" and self.tok.text[1:] in HADAMARD or self.tok.kind == "dotstar" \
                    or self.at("*"):
                self.take()
                node = Mul(left=node, right=self.factor())
            elif self.at("/"):
                self.take()
                node = Div(left=node, right=self.factor())
            elif self.tok.kind == "command" and self.tok.text == "\\cdot":
                self.take()
                node = self._product(node, self.factor())
            elif self._starts_factor() and not self.at(*stop):
                node = self._product(node, self.factor())
            else:
                return node

    @staticmethod
    def _product(left: Node, right: Node) -> Node:
        if _numeric(left) or _numeric(right):
            return Mul(left=left, right=right)
        return MatMul(left=left, right=right)

    def factor(self) -> Node:
        if self.at("-"):
            self.take()
            self.depth += 1
            if self.depth > 60:
                self.fail("formula nested too deeply")
            node = Neg(arg=self.factor())
            self.depth -= 1
            return node
        node = self.atom()
        while True:
            if self.at("^"):
                self.take()
                node = self.superscript(node)
            elif self.tok.kind == "prime":
                self.fail("a prime on something that is not a function")
            else:
                return node

    def superscript(self, base: Node) -> Node:
        inner = self._braced_tokens() if self.at("{") else [self.take()]
        text = "".join(t.text for t in inner).replace(" ", "")
        if text in ("T", "\\top", "\\intercal", "t"):
            return Transpose(arg=base)
        entrywise = text.startswith("\\circ")           # X^{\circ p}: the Hadamard (entrywise) power
        if entrywise:
            text = text[len("\\circ"):]
        if text == "-1" and not entrywise:
            return Call(name="inv", args=(base,))
        exponent = _exponent(text)
        if exponent is not None:
            value = int(exponent) if exponent.denominator == 1 else exponent
            return (EntrywisePow if entrywise else Pow)(base=base, exponent=value)
        raise Untranslatable(f"column {inner[0].col if inner else self.tok.col}: superscript {text!r} "
                             "(only ^T, ^{-1}, number powers and entrywise powers ^{\\circ p} translate)")

    def compare(self) -> Node:
        """An expression, or a comparison of two (inside brackets: the Iverson
        bracket ``[A > B]`` is the 0/1 matrix ``A > B``)."""
        node = self.expr()
        if self.tok.text in COMPARISONS and self.tok.kind in ("op", "command"):
            op = COMPARISONS[self.take().text]
            node = Call(name=registry.infix(op), args=(node, self.expr()))
            if self.tok.text in COMPARISONS and self.tok.kind in ("op", "command"):
                self.fail("comparisons cannot be chained")
        return node

    def group(self, close: str) -> Node:
        node = self.compare()
        if close == "]" and self.at("\\}", ")", "}"):
            # the source leaves a '[' open: close it where the enclosing group ends
            self.repairs.append(f"an unclosed '[' is closed before {self.tok.text!r} (column {self.tok.col})")
            return node
        self.expect(close)
        return node

    def braced(self) -> Node:
        self.expect("{")
        return self.group("}")

    def subscript_text(self) -> str:
        """The text of a subscript: ``_0`` -> "0", ``_{12}`` -> "12"."""
        self.expect("_")
        if self.at("{"):
            return "".join(t.text for t in self._braced_tokens())
        return self.take().text

    def name_with_subscript(self, base: str) -> str:
        if self.at("_"):
            sub = self.subscript_text()
            # W_{12}, x_0, sigma_2, a_{\mathrm{prev}} name objects; a_{kl}, x_i, delta_{2-i} index entries
            word = re.fullmatch(r"\\mathrm\{([A-Za-z][A-Za-z0-9]*)\}", sub)
            if word:
                return f"{base}_{word.group(1)}"
            if not re.fullmatch(r"[0-9]+", sub):
                raise Untranslatable(f"subscript {sub!r} of {base} is an index expression (entries do not translate)")
            return f"{base}_{sub}" if base in FUNCTION_LETTERS or base in GREEK else base + sub
        return base

    def atom(self) -> Node:
        t = self.tok
        if t.kind == "number":
            self.take()
            return Num(value=Fraction(t.text))
        if t.kind == "letter":
            self.take()
            return self.named(t.text)
        if t.text == "(":
            self.take()
            return self.group(")")
        if t.text == "[":
            self.take()
            return self.group("]")
        if t.text == "{":
            self.take()
            return self.group("}")
        if t.kind == "command":
            return self.command()
        self.fail(f"expected an operand, found {t.text or 'the end'!r}")

    def named(self, base: str) -> Node:
        if base == "I" and self.at("_") and self.toks[self.i + 1].text in ("{",) + tuple("abcdefghijklmnopqrstuvwxyzABCDEFGHJKLMNOPQRSTUVWXYZ"):
            self.take()                              # I_{n}: the identity of size n (as the printer writes eye(n))
            toks = [self.take()] if not self.at("{") else self._braced_tokens()
            return Call(name="eye", args=(self._dimension(toks),))
        name = self.name_with_subscript(base)
        primes = 0
        while self.tok.kind == "prime":
            self.take()
            primes += 1
        function = base in FUNCTION_LETTERS and (primes or self.at("(") or self.at("\\left"))
        if function:
            return Apply(name=name, arg=self.call_arguments(name + chr(39) * primes, 1)[0], order=primes)
        if primes:
            name += "_prime" * primes
        if name in registry.reserved():
            name += "_"
        self.symbols.append(name)
        return Sym(name=name)

    def command(self) -> Node:
        t = self.take()
        name = t.text[1:]
        if t.text == "\\{":
            return self.group("\\}")
        if t.text == "\\[":
            return self.group("\\]")
        if name in TRANSPARENT:
            if name in ("left", "right") and self.tok.text in ("(", "[", ".", "\\{", ")", "]", "\\}", "|"):
                if name == "left":
                    opener = self.take().text
                    closer = {"(": ")", "[": "]", "\\{": "\\}"}.get(opener)
                    if closer is None:
                        self.fail(f"\\left{opener}")
                    node = self.compare()
                    if self.at("\\right"):
                        self.take()
                    self.expect(closer)
                    return node
                self.fail("unmatched \\right")
            if name in ("mathrm", "mathit") and self._word_follows():
                return self.word(self.braced_raw())
            if name == "mathbf" and self._ones_follow():
                return self.ones()
            if name in ("mathbf", "mathrm", "boldsymbol", "vec", "bm", "mathit"):
                self.expect("{")
                node = self.group("}")
                return node
            return self.atom()
        if name == "operatorname":
            return self.operator(self.braced_raw())
        if name in ("max", "min"):
            args = self.call_arguments(f"\\{name}")
            if len(args) == 2:          # \max(0, Z): the entrywise maximum
                return Call(name=name + "imum", args=tuple(args))
            if len(args) == 1:          # \max(X): the largest entry
                return Call(name=name, args=tuple(args))
            self.fail(f"\\{name} of {len(args)} arguments")
        if name == "sqrt":
            if self.at("["):
                self.fail("\\sqrt[n] (only square roots translate)")
            return Apply(name="sqrt", arg=self.braced())
        if name == "det":
            return Call(name="det", args=tuple(self.call_arguments("\\det", 1)))
        if name == "log" and self.at("\\det"):
            self.take()
            return Call(name="logdet", args=tuple(self.call_arguments("\\log\\det", 1)))
        if name == "frac" or name == "dfrac":
            top, bottom = self.braced(), self.braced()
            return Div(left=top, right=bottom)
        if name == "hat":
            inner = self.braced()
            if isinstance(inner, Sym):
                return Sym(name=inner.name + "_hat")
            self.fail("\\hat of an expression")
        if name == "underbrace":
            node = self.braced()
            if self.at("_"):
                self.take()
                label = self.take()
                if label.text == "{":
                    start = self.i
                    depth = 1
                    while depth:
                        if self.tok.kind == "end":
                            self.fail("unclosed '{'")
                        depth += {"{": 1, "}": -1}.get(self.tok.text, 0)
                        self.take()
                    inner = self.toks[start:self.i - 1]
                    try:
                        sub = LatexParser(" ".join(x.text for x in inner))
                        labelled = sub.parse()
                        if isinstance(labelled, Sym):
                            self.defined[labelled.name] = node
                    except Untranslatable:
                        pass        # a label such as (m,n) or \text{...}: not a definition
            return node
        if name == "color":
            self.braced_raw()
            return self.atom() if not self.at("{") else self.braced()
        if name == "boxed":
            return self.braced()
        if name in NAMED_FUNCTIONS:
            primes = self.primes()
            return Apply(name=NAMED_FUNCTIONS[name], arg=self.call_arguments(f"\\{name}", 1)[0], order=primes)
        if name == "begin":
            return self.environment()
        if name in GREEK:
            return self.named(name)
        raise Untranslatable(f"column {t.col}: \\{name} does not translate")

    # -- the printer's own notation (symbolic_bp.rendering.latex), read back ---------------------

    def primes(self) -> int:
        count = 0
        while self.tok.kind == "prime":
            self.take()
            count += 1
        return count

    def _word_follows(self) -> bool:
        """``{`` letters ``}`` next: a name written upright (``\\mathrm{dY}``, ``\\mathrm{sigmoid}``)."""
        k = self.i
        if self.toks[k].text != "{":
            return False
        k += 1
        start = k
        while self.toks[k].kind == "letter":
            k += 1
        return k > start + 1 and self.toks[k].text == "}"

    def word(self, text: str) -> Node:
        """An upright multi-letter word: a registered function applied (with
        primes), else a symbol's name (``\\mathrm{dW}_{1}`` is ``dW1``)."""
        if registry.elementwise(text) is not None or text in NAMED_FUNCTIONS:
            primes = self.primes()
            if self.at("\\left") or self.at("("):
                args = self.call_arguments(text, 1)
                return Apply(name=NAMED_FUNCTIONS.get(text, text), arg=args[0], order=primes)
            if primes:
                self.fail(f"expected '(' after {text + chr(39) * primes}")
        return self.named(text)

    def call_arguments(self, what: str, count: int | None = None) -> list[Node]:
        """``( a, b )`` or ``\\left( a, b \\right)``: the arguments of a call."""
        if self.at("\\left"):
            self.take()
        if not self.at("("):
            self.fail(f"expected '(' after {what}")
        self.take()
        args = [self.compare()]
        while self.at(","):
            self.take()
            args.append(self.compare())
        if self.at("\\right"):
            self.take()
        self.expect(")")
        if count is not None and len(args) != count:
            self.fail(f"{what} takes {count} argument{'s' * (count > 1)}, found {len(args)}")
        return args

    def operator(self, text: str) -> Node:
        """``\\operatorname{sum}_{\\mathrm{axis}=0,\\,\\mathrm{keepdims}}\\left(X\\right)``:
        a registered operation (or a macro: mean, var ...), its keyword
        parameters read from the subscript."""
        name = text.strip()
        if not re.fullmatch(r"[A-Za-z_]+", name) or not (registry.operation(name) or registry.macro(name)
                                                          or registry.elementwise(name)):
            self.fail(f"\\operatorname{{{name}}} is not an operation of the claim language")
        keywords = self.reduction_subscript(name) if self.at("_") else ()
        primes = self.primes()
        args = self.call_arguments(f"\\operatorname{{{name}}}")
        if registry.elementwise(name) is not None:
            if len(args) != 1 or keywords:
                self.fail(f"{name} takes 1 argument")
            return Apply(name=name, arg=args[0], order=primes)
        if primes:
            self.fail(f"{name} is a matrix function and has no elementwise derivative")
        wanted = registry.arguments(name)
        if wanted is not None and not wanted[0] <= len(args) <= wanted[1]:
            self.fail(f"{name} takes {wanted[0]} argument{'s' * (wanted[0] > 1)}, found {len(args)}")
        return Call(name=name, args=tuple(args), keywords=keywords)

    def reduction_subscript(self, name: str) -> tuple:
        """``_{\\mathrm{axis}=1,\\,\\mathrm{keepdims},\\,\\mathrm{ddof}=1}``: (name, node) keyword pairs."""
        self.expect("_")
        raw = self.braced_raw() if self.at("{") else self.take().text
        known = registry.keywords(name)
        keywords = []
        for part in raw.split(","):
            m = re.fullmatch(r"\\mathrm\{(\w+)\}(?:=(-?\d{1,3}|\\mathrm\{(?:None|True|False)\}|None|True|False))?", part)
            if not m or m.group(1) not in known or any(k == m.group(1) for k, _ in keywords):
                self.fail(f"subscript {raw!r} of \\operatorname{{{name}}} (only axis, keepdims and ddof translate)")
            key, value = m.group(1), m.group(2)
            if value is None:
                if key != "keepdims":
                    self.fail(f"{key} without a value in the subscript of \\operatorname{{{name}}}")
                node: Node = Sym(name="True")
            else:
                value = re.sub(r"\\mathrm\{(\w+)\}", r"\1", value)
                node = Sym(name=value) if value in ("None", "True", "False") else \
                    (Neg(arg=Num(value=Fraction(-int(value)))) if value.startswith("-") else Num(value=Fraction(int(value))))
            keywords.append((key, node))
        return tuple(keywords)

    def _ones_follow(self) -> bool:
        """``\\mathbf{1}_`` or ``\\mathbf{0}_``: the printer's ones(m, n) and zeros(m, n)."""
        t = self.toks[self.i:self.i + 4]
        return len(t) == 4 and t[0].text == "{" and t[1].text in ("1", "0") and t[2].text == "}" and t[3].text == "_"

    def ones(self) -> Node:
        self.expect("{")
        value = self.take().text
        self.expect("}")
        self.expect("_")
        if not self.at("{"):
            self.fail("expected the shape m \\times n after \\mathbf{1}_")
        self.take()
        sides: list[list[Tok]] = [[]]
        while not self.at("}"):
            t = self.take()
            if t.kind == "end":
                self.fail("unclosed '{'")
            if t.text == "\\times":
                sides.append([])
            else:
                sides[-1].append(t)
        self.take()
        if len(sides) != 2 or not all(sides):
            self.fail("expected the shape m \\times n after \\mathbf{1}_")
        dims = [self._dimension(side) for side in sides]
        return Call(name="ones" if value == "1" else "zeros", args=tuple(dims))

    def _dimension(self, toks: list[Tok]) -> Node:
        """A dimension as the printer writes it: ``n``, ``3``, ``2\\,n`` (a product)."""
        node = None
        for t in toks:
            if t.kind == "number" and t.text.isdigit() and len(t.text) <= 6:
                leaf: Node = Num(value=Fraction(int(t.text)))
            elif t.kind == "letter":
                leaf = Sym(name=t.text)
            else:
                self.fail(f"{t.text!r} in a dimension")
            node = leaf if node is None else Mul(left=node, right=leaf)
        return node

    def _braced_tokens(self) -> list[Tok]:
        """The tokens of a ``{...}`` group, nested groups included (without the outer braces)."""
        self.expect("{")
        out, depth = [], 1
        while True:
            t = self.take()
            if t.kind == "end":
                self.fail("unclosed '{'")
            depth += {"{": 1, "}": -1}.get(t.text, 0) if t.kind == "op" else 0
            if depth == 0:
                return out
            out.append(t)

    def braced_raw(self) -> str:
        return "".join(t.text for t in self._braced_tokens())

    def environment(self) -> Node:
        kind = self.braced_raw()
        if kind not in ("bmatrix", "pmatrix"):
            self.fail(f"environment {kind!r} does not translate")
        rows: list[list[Tok]] = [[]]
        while not (self.at("\\end")):
            if self.tok.kind == "end":
                self.fail(f"unclosed {kind}")
            t = self.take()
            if t.kind == "rowsep":
                rows.append([])
            elif t.text == "&":
                self.fail("a matrix with several columns does not translate (only a vector of symbols)")
            else:
                rows[-1].append(t)
        self.take()
        self.braced_raw()
        return _vector_of_entries(rows)


def _vector_of_entries(rows: list[list[Tok]]) -> Node:
    """``x_1 \\\\ x_2 \\\\ \\vdots \\\\ x_n`` (or ``f(x_1) \\\\ …``) -> x (or f(x))."""
    bases = set()
    functions = set()
    for row in rows:
        text = " ".join(t.text for t in row).strip()
        if not text or text.lstrip("\\") in SKIP_ENTRIES:
            continue
        m = re.fullmatch(r"(?:\\?([A-Za-z]+)\s*(_ \{ \w+ \}|_ \w+)?\s*(['’]*)\s*\(\s*)?"
                         r"([A-Za-z])\s*_\s*(?:\{\s*\w+\s*\}|\w+)\s*(\)?)", text)
        if not m or bool(m.group(1)) != bool(m.group(5)):
            raise Untranslatable(f"the matrix entry {text[:40]!r} is not an entry x_i of a vector")
        bases.add(m.group(4))
        functions.add((m.group(1), (m.group(2) or "").replace(" ", ""), len(m.group(3) or "")))
    if len(bases) != 1 or len(functions) != 1:
        raise Untranslatable("the matrix is not a vector of the entries of one symbol")
    node: Node = Sym(name=bases.pop())
    fname, sub, primes = functions.pop()
    if fname:
        name = fname + ("_" + sub.strip("_{}") if sub else "")
        node = Apply(name=name, arg=node, order=primes)
    return node


class EntrywisePow(Pow):
    """``X^{\\circ p}`` as read: an entrywise power whatever the shape of X
    (a plain ``X^{k}`` of a matrix is its matrix power); written ``X**p``."""


_EXPONENT = re.compile(r"(-?)(?:(\d{1,6})(?:\.(\d{1,6}))?|(\d{1,6})/(\d{1,6})|\\frac\{(\d{1,6})\}\{(\d{1,6})\})")


def _plain(tree: Node) -> Node:
    """``tree`` with its entrywise powers as the claim language's ``**`` (for the type pass)."""
    return substitute(tree, lambda n: Pow(base=_plain(n.base), exponent=n.exponent, pos=n.pos)
                      if isinstance(n, EntrywisePow) else None)


def _exponent(text: str) -> Fraction | None:
    """A literal exponent as written in a superscript: ``2``, ``-1``, ``0.5``,
    ``1/2``, ``-3/2``, ``\\frac{1}{2}``; None for anything else."""
    m = _EXPONENT.fullmatch(text)
    if not m:
        return None
    sign = -1 if m.group(1) else 1
    if m.group(2) is not None:
        value = Fraction(f"{m.group(2)}.{m.group(3)}") if m.group(3) else Fraction(int(m.group(2)))
    else:
        top, bottom = (m.group(4), m.group(5)) if m.group(4) is not None else (m.group(6), m.group(7))
        if int(bottom) == 0:
            return None
        value = Fraction(int(top), int(bottom))
    return sign * value


def _numeric(node: Node) -> bool:
    if isinstance(node, Num):
        return True
    if isinstance(node, (Div, Mul)):
        return _numeric(node.left) and _numeric(node.right)
    if isinstance(node, Neg):
        return _numeric(node.arg)
    return False


def to_claim_text(latex: str, shapes: str | None = None) -> str:
    """One LaTeX expression in the claim language (:class:`Untranslatable` if
    not); with the declarations ``shapes``, a power ``X^{k}`` of a matrix is
    its matrix power (:func:`resolve_powers`)."""
    tree = LatexParser(latex).parse()
    if shapes is not None:
        tree = resolve_powers(tree, shapes)
    return to_text(tree)


# -- finding math and claims in a document ---------------------------------------------

_MATH = re.compile(r"""
    \$\$(?P<dd>.+?)\$\$
  | \\\[(?P<br>.+?)\\\]
  | \\\((?P<pa>.+?)\\\)
  | \\begin\{(?P<env>equation|align|displaymath|gather)\*?\}(?P<body>.+?)\\end\{(?P=env)\*?\}
  | (?<![\\$])\$(?P<d>(?:[^$\n]|\n(?![ \t]*\n))+?)\$
""", re.VERBOSE | re.DOTALL)
_HEADING = re.compile(r"^(?:#{1,6}\s+(?P<md>.+)|\\(?:sub)*section\*?\{(?P<tex>[^}]*)\})\s*$", re.MULTILINE)
_GRADIENT = re.compile(r"""^\s*(?:
      \\d?frac\s*\{\s*(?:\\delta|\\partial|d)\s*C\s*(?:\[[^\]]*\])?\s*\}\s*\{\s*(?:\\delta|\\partial|d)\s*(?P<a>.+?)\s*\}
    | \\nabla_\{?(?P<b>[^}\s]+?)\}?\s*C
    )\s*$""", re.VERBOSE | re.DOTALL)
_COST = re.compile(r"^\s*C\s*(?:\[[^\]]*\])?\s*$")


@dataclass
class Math:
    text: str
    line: int
    offset: int
    section: str


@dataclass
class Extracted:
    """A claim found in the document, translated."""

    name: str
    cost: str
    wrt: str
    claim: str
    shapes: str
    latex: str
    line: int
    section: str
    boxed: bool
    note: str = ""


@dataclass
class Skipped:
    line: int
    latex: str
    reason: str


@dataclass
class Extraction:
    path: str
    claims: list[Extracted] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def math_segments(text: str) -> list[Math]:
    """Every math segment with its line and the heading above it."""
    headings = [(m.start(), (m.group("md") or m.group("tex")).strip()) for m in _HEADING.finditer(text)]
    out = []
    for m in _MATH.finditer(text):
        body = next(g for g in (m.group("dd"), m.group("br"), m.group("pa"), m.group("body"), m.group("d"))
                    if g is not None)
        section = ""
        for start, title in headings:
            if start < m.start():
                section = title
        out.append(Math(body, text.count("\n", 0, m.start()) + 1, m.start(), section))
    return out


def split_top(text: str, separators: tuple[str, ...]) -> list[str]:
    """Split at separators outside braces and brackets (``=``, ``\\implies``, ``,``)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and text.startswith("\\left", i):
            depth += 1
            i += 5
            continue
        if ch == "\\" and text.startswith("\\right", i):
            depth -= 1
            i += 6
            continue
        if ch == "\\" and text[i + 1:i + 2] in (",", ";", ":", "!", " "):
            i += 2                       # a thin space \, is not a separator
            continue
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif depth == 0:
            for sep in separators:
                if text.startswith(sep, i) and not (sep[-1].isalpha() and text[i + len(sep):i + len(sep) + 1].isalpha()):
                    parts.append(text[start:i])
                    start = i + len(sep)
                    i = start - 1
                    break
        i += 1
    parts.append(text[start:])
    return parts


def _strip(text: str) -> str:
    """Remove \\label{…}, \\boxed{ } wrappers (keeping the contents), trailing punctuation."""
    text = re.sub(r"\\label\{[^}]*\}", "", text)
    text = re.sub(r"\\(?:tag|nonumber)\{?[^}]*\}?", "", text)
    out, i = [], 0
    while i < len(text):
        if text.startswith("\\boxed", i):
            j = text.find("{", i)
            depth, k = 1, j + 1
            while k < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[k], 0)
                k += 1
            out.append(text[j + 1:k - 1])
            i = k
        else:
            out.append(text[i])
            i += 1
    return "".join(out).strip().rstrip(".,;")


_ALIGNED = re.compile(r"\\begin\{(aligned|gathered|split)\}(?P<body>.*)\\end\{\1\}", re.DOTALL)


def _aligned(body: str) -> str:
    """A statement set in rows, as the proofs document boxes its claims:
    ``\\begin{aligned} C &= ... \\\\ \\frac{\\partial C}{\\partial W} &= ... \\end{aligned}``
    read as ``C = ... \\implies \\frac{\\partial C}{\\partial W} = ...``."""
    m = _ALIGNED.fullmatch(body.strip())
    if not m:
        return body
    rows = [r.replace("&", " ").strip() for r in re.split(r"\\\\(?:\[[^\]]*\])?", m.group("body"))]
    rows = [r for r in rows if r]
    if len(rows) < 2 or not _COST.match(split_top(rows[0], ("=",))[0]):
        return body
    return rows[0] + " \\implies " + ", ".join(rows[1:])


def _definitions(segment: str) -> list[tuple[str, Node]]:
    """``NAME = EXPR`` / ``NAME \\equiv EXPR`` definitions and underbrace labels of one segment."""
    found = []
    body = _strip(segment)
    sides = split_top(body, ("\\equiv", "="))
    try:
        parsers = []
        for side in sides:
            p = LatexParser(side)
            parsers.append((p, p.parse()))
    except Untranslatable:
        parsers = []
    for p, _ in parsers:
        found.extend(p.defined.items())
    if len(parsers) >= 2:
        first, tree = parsers[0][1], parsers[1][1]
        names = {n.name for n in tree.walk() if isinstance(n, Sym)}
        # not a definition: "x_3 = y" (a condition), "y = f(x)" (an abstract map),
        # "x = ... x ..." (an equation)
        abstract = any(isinstance(n, Apply) and n.name in ("f", "g", "h") for n in tree.walk())
        if isinstance(first, Sym) and first.name != "C" and not isinstance(tree, Sym) and not abstract \
                and first.name not in names:
            found.append((first.name, tree))
    return found


def _substitute(tree: Node, defs: dict[str, Node], depth: int = 0) -> Node:
    """``tree`` with each defined name replaced by its definition, itself
    substituted, up to 20 definitions deep (where a cyclic definition stops)."""
    if depth > 20:
        return tree
    return substitute(tree, lambda node: _substitute(defs[node.name], defs, depth + 1)
                      if isinstance(node, Sym) and node.name in defs else None)


def extract_text(text: str, path: str = "<text>") -> Extraction:
    """The claims of a document's text (see the module docstring)."""
    out = Extraction(path)
    defs: dict[str, Node] = {}
    cost: tuple[Node, int] | None = None
    counter = 0
    for seg in math_segments(text):
        boxed = "\\boxed" in seg.text
        body = _aligned(_strip(seg.text))
        parts = split_top(body, ("\\implies", "\\Rightarrow", "\\Longrightarrow"))
        gradient_form = len(parts) >= 2 and any(_GRADIENT.match(split_top(p, ("=",))[0])
                                                for q in parts[1:] for p in split_top(q, (",",)))
        plain_gradient = (boxed and len(parts) == 1 and _GRADIENT.match(split_top(body, ("=",))[0]))
        if gradient_form or plain_gradient or boxed:
            counter += 1
            try:
                if len(seg.text) > MAX_FORMULA:
                    raise Untranslatable(f"formula longer than {MAX_FORMULA} characters")
                for claim in _claims(seg, parts, defs, cost, counter, boxed):
                    out.claims.append(claim)
            except (Untranslatable, RecursionError) as e:
                reason = str(e) if isinstance(e, Untranslatable) else "formula nested too deeply"
                out.skipped.append(Skipped(seg.line, seg.text.strip()[:2000], reason))
            except InputError as e:         # a translated formula the claim language rejects
                out.skipped.append(Skipped(seg.line, seg.text.strip()[:2000], str(e)))
        # what later claims may use: definitions and the latest cost
        if len(seg.text) > MAX_FORMULA:
            continue
        for name, tree in _definitions(seg.text):
            defs[name] = tree
        sides = split_top(body, ("=",))
        if len(sides) >= 2 and _COST.match(sides[0]) and len(split_top(body, ("\\implies",))) == 1:
            try:
                cost = (LatexParser(sides[1]).parse(), seg.line)
            except Untranslatable:
                pass
    return out


def _claims(seg: Math, parts: list[str], defs: dict, cost, counter: int, boxed: bool) -> list[Extracted]:
    local_cost = cost
    if len(parts) >= 2:
        sides = split_top(parts[0], ("=",))
        if len(sides) < 2 or not _COST.match(sides[0]):
            raise Untranslatable("the part before \\implies is not 'C = ...'")
        p = LatexParser(sides[1])
        local_cost = (p.parse(), seg.line)
        defs = dict(defs, **p.defined)
        gradients = [g for q in parts[1:] for g in split_top(q, (",",))]
    else:
        gradients = [parts[0]]
    claims = []
    for g in gradients:
        sides = split_top(g, ("=",))
        m = _GRADIENT.match(sides[0])
        if not m or len(sides) < 2:
            raise Untranslatable("a boxed formula that is not a gradient (dC/dX = ...)")
        if local_cost is None:
            raise Untranslatable("no cost 'C = ...' is written before this gradient")
        wrt_tree = LatexParser(m.group("a") or m.group("b")).parse()
        if not isinstance(wrt_tree, Sym):
            raise Untranslatable(f"the variable {m.group('a') or m.group('b')!r} is not a symbol")
        for k, rhs in enumerate(sides[1:]):
            p = LatexParser(rhs)
            tree = p.parse()
            local = dict(defs, **p.defined)
            cost_tree, claim_tree = _substitute(local_cost[0], local), _substitute(tree, local)
            shapes, unknown = infer_shapes(cost_tree, claim_tree, wrt_tree.name)
            cost_tree, claim_tree = resolve_powers(cost_tree, shapes), resolve_powers(claim_tree, shapes)
            note = f"line {seg.line}; cost from line {local_cost[1]}"
            substituted = sorted(n for n in local if n in {x.name for x in tree.walk() if isinstance(x, Sym)}
                                 | {x.name for x in local_cost[0].walk() if isinstance(x, Sym)})
            if substituted:
                note += f"; substituted: {', '.join(f'{n} = {to_text(local[n])}' for n in substituted)}"
            if p.repairs:
                note += "; reading: " + "; ".join(p.repairs)
            if unknown:
                note += f"; shapes not inferred, assumed from the letter case: {unknown}"
            suffix = f"-{k + 1}" if len(sides) > 2 else ""
            claims.append(Extracted(
                name=f"{'boxed' if boxed else 'implies'}-{counter}-d{wrt_tree.name}{suffix}",
                cost=to_text(cost_tree), wrt=wrt_tree.name, claim=to_text(claim_tree), shapes=shapes,
                latex=seg.text.strip(), line=seg.line, section=seg.section, boxed=boxed, note=note))
    return claims


# -- shape inference --------------------------------------------------------------------

class _Dims:
    """Union-find over dimension variables; the constant 1 is the variable 0."""

    def __init__(self):
        self.parent = [0]

    def new(self) -> int:
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            if a == 0:
                a, b = b, a
            self.parent[a] = b


def infer_shapes(cost: Node, claim: Node, wrt: str) -> tuple[str, str]:
    """Declarations for the symbols of ``cost`` and ``claim``, and which ones
    rest on an assumption (a dimension nothing in the formulas ties).

    A call is read with its operation's own shape rule (from the registry; a
    macro through its expansion), run on the unknown dimensions: where the
    rule rejects them, the one equality between them that satisfies it is
    recorded (a square argument, a column vector); a result dimension that
    is a product is a new dimension tied to nothing.  Dimensions the formula
    passes to a call (a name, a literal) keep their names.

    Broadcasting makes a lower-case variable ambiguous: the b of ``X W + b``
    is a column of X's rows or a row of W's columns.  Both readings are tried
    and the one that keeps more dimensions (and types) is taken.
    """
    first = _infer_shapes(cost, claim, wrt, False)
    if wrt[:1].isupper() or wrt in GREEK:
        return first
    row = _infer_shapes(cost, claim, wrt, True)
    return row if _reading_score(row[0], cost, claim, wrt) > _reading_score(first[0], cost, claim, wrt) else first


def _reading_score(shapes: str, cost: Node, claim: Node, wrt: str) -> tuple:
    """How good a reading of the shapes is: (it types, the dimensions that are not 1)."""
    from ..language.shapes import parse_declarations, typecheck
    try:
        decls = parse_declarations(shapes)
        typed_cost, typed_claim = typecheck(_plain(cost), decls), typecheck(_plain(claim), decls)
        types = typed_claim.shape == decls.symbols[wrt].shape and typed_cost.shape == (ONE, ONE)
    except (InputError, KeyError, RecursionError):
        return (False, 0)
    return (types, sum(d != ONE for sym in decls.symbols.values() for d in sym.shape))


def _infer_shapes(cost: Node, claim: Node, wrt: str, wrt_row: bool) -> tuple[str, str]:
    dims = _Dims()
    shape: dict[str, tuple[int, int]] = {}
    order: list[str] = []
    named: dict[str, int] = {}      # a dimension passed to a call (a name, a literal) -> its variable
    if wrt_row:                     # the variable read as a row (a bias broadcast over the rows)
        shape[wrt] = (0, dims.new())
        order.append(wrt)

    def of_symbol(name: str) -> tuple[int, int]:
        if name not in shape:
            order.append(name)
            scalar = name in GREEK or name.startswith(tuple(GREEK)) and not name[:1].isupper()
            # a name with a capital (A, W01, dY, Wxh) is a matrix, else (x, h0, bh) a column vector
            matrix = any(ch.isupper() for ch in name)
            shape[name] = (0, 0) if scalar else (dims.new(), dims.new() if matrix else 0)
        return shape[name]

    def scalar(s) -> bool:
        return dims.find(s[0]) == 0 and dims.find(s[1]) == 0

    def label(root: int) -> str | None:
        return next((text for text, v in named.items() if dims.find(v) == root), None)

    def dimension(node: Node) -> tuple[int, ...]:
        """A dimension argument as the variables of its factors (two for ``m*n``)."""
        if isinstance(node, Mul):
            return dimension(node.left) + dimension(node.right)
        if isinstance(node, Num) and node.value.denominator == 1 and 1 <= node.value <= MAX_DIM:
            text = str(node.value.numerator)
        elif isinstance(node, Sym):
            text = node.name
        else:
            return (dims.new(),)            # not a dimension the rule can read: an unknown one
        if text == "1":
            return ()
        if text not in named:
            named[text] = dims.new()
        return (named[text],)

    def integer(node: Node) -> int:
        k = node.arg if isinstance(node, Neg) else node
        if isinstance(k, Num) and k.value.denominator == 1:
            return -k.value.numerator if isinstance(node, Neg) else k.value.numerator
        return 0

    def apply_rule(op: registry.Operation, args: list[tuple[int, int]], params: list) -> tuple[int, int] | None:
        """The result of ``op``'s shape rule on the roots ``args``, recording
        the one equality it needs, if any; None if it cannot be satisfied."""
        def as_dim(root: int, same: tuple[int, int]) -> Dim:
            root = dims.find(root)
            root = same[0] if root == same[1] else root
            return ONE if root == 0 else Dim.of(f"d{root}")

        def attempt(same: tuple[int, int]):
            shapes = tuple((as_dim(r, same), as_dim(c, same)) for r, c in args)
            values = tuple(p if p is None or isinstance(p, int) else prod((as_dim(v, same) for v in p), start=ONE)
                           for p in params)
            try:
                return op.shape(shapes, values)
            except registry.ShapeError:
                return None

        result, same = attempt((-1, -1)), None
        if result is None:
            # the equalities to try, most likely first: an argument square, a dimension 1, any other
            roots = list(dict.fromkeys(dims.find(d) for d in [d for a in args for d in a]
                                       + [v for p in params if not isinstance(p, int) for v in p]))
            pairs = [tuple(dims.find(d) for d in a) for a in args] + [(0, r) for r in roots] + \
                [(a, b) for i, a in enumerate(roots) for b in roots[i + 1:]]
            for a, b in pairs:
                if a == b or label(a) and label(b) and label(a) != label(b):
                    continue
                keep, drop = (a, b) if a == 0 or b != 0 else (b, a)
                result = attempt((keep, drop))
                if result is not None:
                    same = (keep, drop)
                    break
            if result is None:
                return None
            dims.union(same[1], same[0])

        def back(d: Dim) -> int:
            if d == ONE:
                return 0
            if d.coef == 1 and len(d.names) == 1 and re.fullmatch(r"d\d+", d.names[0]):
                return dims.find(int(d.names[0][1:]))
            return dims.new()               # a product: a dimension of its own
        return (back(result[0]), back(result[1]))

    def call(node: Call) -> tuple[int, int]:
        expansion = registry.macro(node.name)
        if expansion is not None:
            try:        # a macro whose expansion reads no shape (pinv, softmax) is walked expanded
                given = dict(node.keywords)
                tree = expansion.expand(node.args[:expansion.arity],
                                        {k.name: keyword_value(k, given[k.name]) if k.name in given else k.default
                                         for k in expansion.keywords})
            except (AttributeError, TypeError, registry.ShapeError):
                tree = None
            if tree is None:
                for a in node.args:
                    walk(a)
                return (dims.new(), dims.new())
            return walk(tree)
        op = registry.operation(node.name)
        if op is None or len(node.args) != op.argument_count:     # not one the rule can read
            for a in node.args:
                walk(a)
            return (dims.new(), dims.new())
        args = [walk(a) for a in node.args[:op.arity]]
        if op.broadcasts:
            # NumPy broadcasting (A > B, maximum(0, Z), A / B): read as a sum is
            return _broadcast(args)
        params = [dimension(a) if kind == "dim" else literal(a) if kind == "real" else integer(a)
                  for kind, a in zip(op.params, node.args[op.arity:])]
        given = dict(node.keywords)
        params += [keyword_value(k, given[k.name]) if k.name in given else k.default for k in op.keywords]
        result = apply_rule(op, args, params)
        return result if result is not None else (dims.new(), dims.new())

    def _broadcast(args):
        return entrywise(*args)

    def literal(node: Node):
        k = node.arg if isinstance(node, Neg) else node
        if isinstance(k, Num):
            value = -k.value if isinstance(node, Neg) else k.value
            return int(value) if value.denominator == 1 else value
        return 1

    def keyword_value(k, node: Node):
        """A keyword argument written as a literal (axis=0, keepdims=True), else its default."""
        if isinstance(node, Sym) and node.name in ("None", "True", "False"):
            value = {"None": None, "True": True, "False": False}[node.name]
            return value if k.kind in ("axis", "bool") else k.default
        if k.kind == "axis":
            value = integer(node)
            return value % 2 if value in (0, 1, -1, -2) else k.default
        if k.kind == "int":
            return integer(node)
        return k.default

    def walk(node: Node) -> tuple[int, int]:
        if isinstance(node, Num):
            return (0, 0)
        if isinstance(node, Sym):
            return of_symbol(node.name)
        if isinstance(node, Transpose):
            r, c = walk(node.arg)
            return (c, r)
        if isinstance(node, Neg):
            return walk(node.arg)
        if isinstance(node, Apply):
            return walk(node.arg)
        if isinstance(node, Pow):
            s = walk(node.base)
            if not isinstance(node, EntrywisePow):          # X^{k}: a matrix power, of a square X
                dims.union(s[0], s[1])
            return s
        if isinstance(node, Call):
            return call(node)
        left, right = walk(node.left), walk(node.right)
        if isinstance(node, MatMul):
            if scalar(left):
                return right
            if scalar(right):
                return left
            dims.union(left[1], right[0])
            return (left[0], right[1])
        if isinstance(node, Div):
            return left
        return entrywise(left, right)

    def entrywise(left, right):
        """The shape of an entrywise operation (+, -, *, a comparison ...), by
        NumPy's broadcasting: a dimension 1 beside another one stretches to it
        (a row b in X W + b), two others are the same dimension."""
        if scalar(left):
            return right
        if scalar(right):
            return left
        out = []
        for a, b in zip(left, right):
            if dims.find(a) == 0:
                out.append(b)
            elif dims.find(b) == 0:
                out.append(a)
            else:
                dims.union(a, b)
                out.append(a)
        return tuple(out)

    for name in sorted(_divisors_only(cost, claim) - {wrt}):
        shape[name] = (0, 0)            # written only as a divisor (1/N, X / s): a number
        order.append(name)
    for _ in range(2):              # a second pass uses what the first one learned
        # the claim first: the variable has the claim's shape (a bias b is a row when its gradient is one)
        k = walk(claim)
        if wrt not in shape and not scalar(k) and wrt not in GREEK:
            shape[wrt] = k
            order.append(wrt)
        w = of_symbol(wrt)
        if not scalar(k):
            dims.union(k[0], w[0])
            dims.union(k[1], w[1])
        c = walk(cost)
        dims.union(c[0], 0)
        dims.union(c[1], 0)
    letters = [d for d in "mnkpqrstlhuvw" if d not in shape and d not in named]
    fixed = {dims.find(v): text for text, v in reversed(named.items()) if dims.find(v)}
    names: dict[int, str] = dict(fixed)
    count = 0
    parts = []
    for name in sorted(order):
        r, c = (dims.find(d) for d in shape[name])
        if r == 0 and c == 0:
            parts.append(f"{name}:scalar")
            continue
        for root in (r, c):
            if root and root not in names:
                names[root] = letters[count] if count < len(letters) else f"d{count}"
                count += 1
        rn = names.get(r, "1")
        parts.append(f"{name}:{rn}" if c == 0 else f"{name}:{rn},{names.get(c, '1')}")
    owners: dict[int, set] = {}
    for name in order:
        for d in shape[name]:
            owners.setdefault(dims.find(d), set()).add(name)
    # assumed: a shape whose every dimension is its own, neither shared nor named by the formula
    unknown = sorted(n for n in order if any(dims.find(d) for d in shape[n])
                     and all(owners[dims.find(d)] == {n} and dims.find(d) not in fixed
                             for d in shape[n] if dims.find(d)))
    # the document's own function names (sigma, g) are opaque: declared as such
    functions = sorted({n.name for tree in (cost, claim) for n in tree.walk()
                        if isinstance(n, Apply) and n.name not in registry.reserved()})
    return " ".join([f"{f}:function" for f in functions] + parts), ", ".join(unknown)


def _divisors_only(*trees: Node) -> set[str]:
    """Symbols that occur only as the whole divisor of a quotient (the N of
    ``\\frac{1}{N}``): a size or a number, never a matrix."""
    divisors, elsewhere = set(), set()
    for tree in trees:
        inside = set()
        for n in tree.walk():
            if isinstance(n, Div) and isinstance(n.right, Sym):
                divisors.add(n.right.name)
                inside.add(id(n.right))
        elsewhere |= {n.name for n in tree.walk() if isinstance(n, Sym) and id(n) not in inside}
    return divisors - elsewhere


def resolve_powers(tree: Node, shapes: str) -> Node:
    """A power written ``X^{k}`` of a matrix X is its matrix power
    ``matrix_power(X, k)`` (the claim language's ``X**k`` is entrywise, as in
    NumPy); of a 1x1 value, ``x**k``.  A non-integer power of a matrix (a
    matrix function) does not translate.  ``X^{\\circ p}`` stays entrywise."""
    from ..language.shapes import parse_declarations, typecheck
    try:
        decls = parse_declarations(shapes)
    except InputError:
        return tree

    def rule(node: Node) -> Node | None:
        if type(node) is not Pow:
            return None
        try:
            base_shape = typecheck(_plain(node.base), decls).shape
        except (InputError, RecursionError):
            return None
        if base_shape[0] == ONE and base_shape[1] == ONE:
            return None
        if not isinstance(node.exponent, int):
            raise Untranslatable(f"the power ^{{{node.exponent}}} of the matrix {to_text(node.base)!r} is a matrix "
                                 "function (write ^{\\circ p} for the entrywise power)")
        if node.exponent == -1:
            return Call(name="inv", args=(node.base,))
        k = Num(value=Fraction(abs(node.exponent)))
        return Call(name="matrix_power", args=(node.base, k if node.exponent > 0 else Neg(arg=k)))
    return substitute(tree, rule, bottom_up=True)


# -- output -----------------------------------------------------------------------------

def _q(text: str) -> str:
    """A TOML basic string (JSON escapes are valid TOML escapes)."""
    return json.dumps(text, ensure_ascii=False)


def to_toml(found: Extraction, title: str | None = None) -> str:
    """A derivation file that ``symbolic-bp report`` runs."""
    lines = [f"# Extracted by `symbolic-bp extract {found.path}`: {len(found.claims)} claims.",
             "# expect is 'verified' for every claim: the report then shows where the document is wrong."]
    if found.skipped:
        lines.append(f"# Not translated ({len(found.skipped)}), with the reason:")
        for s in found.skipped:
            lines.append(f"#   line {s.line}: {s.reason}: {' '.join(s.latex.split())[:160]}")
    lines += [f"title = {_q(title or f'Claims extracted from {Path(found.path).name}')}",
              f"document = {_q(found.path)}", ""]
    for c in found.claims:
        lines += ["[[claim]]", f"name = {_q(c.name)}", f"section = {_q(c.section or f'line {c.line}')}",
                  f"shapes = {_q(c.shapes)}", f"cost = {_q(c.cost)}", f"wrt = {_q(c.wrt)}",
                  f"claim = {_q(c.claim)}", f"latex = {_q(c.latex)}", f"note = {_q(c.note)}", ""]
    return "\n".join(lines)


def extract_file(path: str | Path) -> Extraction:
    """Read a Markdown or LaTeX file (InputError naming it if unreadable)."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise InputError(f"{path}: file is larger than {MAX_BYTES} bytes")
        text = p.read_bytes().decode("utf-8")
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte {e.start})") from None
    return extract_text(text, str(path))

