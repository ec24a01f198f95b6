"""LaTeX math read into the claim language: the tokenizer and the grammar
(:class:`LatexParser`) that :mod:`.extract` uses for every formula of a document.

See :mod:`.extract` for the table of what translates; nothing is evaluated.

>>> from symbolic_bp.language.printer import to_text
>>> to_text(LatexParser(r"\\mathrm{tr}(A B) + \\Vert x \\Vert^2").parse())
'tr(A @ B) + norm(x)**2'
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ..core import registry
from ..core.expression import (
    Add, Apply, Call, Div, MatMul, Mul, Neg, Node, Num, Pow, Sub, Sym, Transpose, substitute,
)
from ..language.parser import MAX_TREE_DEPTH, tree_depth

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
         "sigma", "tau", "phi", "chi", "psi", "omega", "Delta", "Theta", "Sigma", "Phi", "Omega", "Lambda",
         "kappa", "zeta", "iota", "ell", "Gamma", "Psi", "Pi", "Xi", "Upsilon"}
SCALAR_GREEK = {"alpha", "beta", "gamma", "epsilon", "eta", "lambda", "mu", "nu", "tau", "rho", "kappa", "iota",
                "ell", "pi", "sigma"}
# the variant letters name the same symbol
VARIANT_GREEK = {"varepsilon": "epsilon", "varphi": "phi", "vartheta": "theta", "varrho": "rho", "varsigma": "sigma"}
# sizes and spacing that carry no meaning: dropped by the tokenizer
SIZING = {"big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr",
          "bigm", "Bigm", "middle", "displaystyle", "textstyle", "limits", "nolimits", "mathstrut", "strut",
          "nonumber", "notag"}
# accents: a new name for the symbol under them (\hat{y} is y_hat)
ACCENTS = {"hat": "hat", "widehat": "hat", "tilde": "tilde", "widetilde": "tilde", "bar": "bar",
           "overline": "bar", "check": "check", "breve": "breve", "dot": "dot", "ddot": "ddot"}
# an operation written as a word (\mathrm{tr}, \operatorname{Tr}, \text{tr}, \tr): the claim language's name
OPERATOR_WORDS = {"tr": "tr", "Tr": "tr", "trace": "tr", "Trace": "tr", "det": "det", "diag": "diag",
                  "sum": "sum", "softmax": "softmax", "ReLU": "relu", "relu": "relu", "sigmoid": "sigmoid",
                  "tanh": "tanh", "exp": "exp", "log": "log", "ln": "log", "logdet": "logdet", "inv": "inv",
                  "kron": "kron", "norm": "norm", "logsumexp": "logsumexp", "softplus": "softplus"}
# a function the document defines by its formula, in the variable t: the registered function it is
KNOWN_DEFINITIONS = {"1 / (1 + exp(-t))": "sigmoid", "exp(t) / (1 + exp(t))": "sigmoid",
                     "exp(t) / sum(exp(t))": "softmax",
                     "maximum(0, t)": "relu", "max(0, t)": "relu", "log(1 + exp(t))": "softplus",
                     "(exp(t) - exp(-t)) / (exp(t) + exp(-t))": "tanh"}
# index mode's marks: x⟨i⟩ an entry (or the vector of example i), Σ⟨k⟩ a sum over k; a function
# applied to each example's column (phi(w^T x_i): softmax along axis 0 if phi is the softmax)
INDEX_OPEN, INDEX_CLOSE, SUM_MARK, COLUMNWISE = "⟨", "⟩", "Σ", "⟨columns⟩"


def columnwise(name: str) -> tuple[str, bool]:
    """(the function's name, whether it is applied to each column of its argument)."""
    return (name[:-len(COLUMNWISE)], True) if name.endswith(COLUMNWISE) else (name, False)
# names that are functions when followed by '(' or a prime
FUNCTION_LETTERS = {"sigma", "phi", "psi", "f", "g", "h"}
NAMED_FUNCTIONS = {"exp": "exp", "log": "log", "tanh": "tanh", "ln": "log", "sin": "sin", "cos": "cos"}
# comparisons, as the printer writes an Iverson bracket [A > B] (and as papers do)
COMPARISONS = {">": ">", "<": "<", "=": "==", "\\gt": ">", "\\lt": "<", "\\geq": ">=", "\\ge": ">=",
               "\\geqslant": ">=", "\\leq": "<=", "\\le": "<=", "\\leqslant": "<=", "\\neq": "!=", "\\ne": "!="}
TRANSPARENT = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "displaystyle",
               "mathbf", "mathrm", "boldsymbol", "vec", "bm", "mathit", "mathsf", "mathnormal", "pmb", "bold",
               "mathcal", "mathscr", "bf", "rm", "it", "sf", "boldmath"}
# font switches: {\bf x} is x
SWITCHES = {"bf", "rm", "it", "sf", "boldmath"}
HADAMARD = {"odot", "circ"}
SKIP_ENTRIES = {"vdots", "ldots", "cdots", "dots"}
# operator names that authors also write as a plain run of letters (Tr\{AXB\}, tr(X), det A):
# the run is that operator, never a product of one-letter symbols
LETTER_OPERATORS = {"tr", "Tr", "trace", "det", "diag"}
# the brackets an operator's argument may be written in: \mathrm{tr}[AXB], Tr\{AXB\}
ARGUMENT_BRACKETS = {"(": ")", "\\{": "\\}", "[": "]"}


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
        if m.lastgroup != "space" and not (m.lastgroup == "command" and m.group()[1:] in SIZING):
            out.append(Tok(m.lastgroup, m.group(), pos + 1))
        pos = m.end()
    out.append(Tok("end", "", len(text) + 1))
    return out


# -- the LaTeX-math grammar -------------------------------------------------------------

def group_rest(take, fail) -> list[Tok]:
    """The tokens up to the ``}`` that closes a group whose ``{`` was just taken
    (nested groups included), from a reader's ``take`` and ``fail``.

    >>> toks = iter(latex_tokens("a {b} } c"))
    >>> [t.text for t in group_rest(lambda: next(toks), None)]
    ['a', '{', 'b', '}']
    """
    out, depth = [], 1
    while True:
        t = take()
        if t.kind == "end":
            fail("unclosed '{'")
        depth += {"{": 1, "}": -1}.get(t.text, 0) if t.kind == "op" else 0
        if depth == 0:
            return out
        out.append(t)


class LatexParser:
    """expr := term (('+'|'-') term)* ; term := factor ((odot | '.*' | '*' | juxtaposition) factor)* ;
    factor := '-' factor | atom postfix* ; postfix := '^' sup | prime ; atom := letter | command |
    number | group.  Juxtaposition is a matrix product (a scalar factor scales)."""

    def __init__(self, text: str, index_mode: bool = False):
        self.toks = latex_tokens(text)
        # index notation kept (for :mod:`.index_broadcast`): x_i is the marked symbol x⟨i⟩, \sum_k the
        # marked function Σ⟨k⟩ (Σ⟨k≠i⟩), juxtaposition an entrywise product unless a side is transposed
        self.index_mode = index_mode
        self.i = 0
        self.depth = 0
        self.defined: dict[str, Node] = {}       # from \underbrace{...}_{name}
        self.symbols: list[str] = []
        self.repairs: list[str] = []             # readings chosen where the source is unbalanced
        self.grouped: set[int] = set()           # ids of the nodes written in parentheses
        self.norm_depth = 0                      # inside \| ... \|: the next \| closes
        self.sum_index: str | None = None        # inside \sum_i: x_i is an entry of x
        self.summed: list[str] = []              # the indices of the sums the reader is inside
        self.entries_of: dict[str, set[str]] = {}   # i -> the names read as entries x_i under \sum_i

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
            if t.text in ("\\|", "\\Vert"):          # a norm opens here unless one is open
                return self.norm_depth == 0
            return name not in ("right", "implies", "Rightarrow", "equiv", "approx", "neq", "rangle", "end",
                                "rVert", "otimes", "times") \
                and t.text not in COMPARISONS \
                and t.text not in ("\\}", "\\]") and name not in HADAMARD and name != "cdot"
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
            elif self.tok.kind == "command" and self.tok.text in ("\\cdot", "\\times"):
                self.take()
                node = self._product(node, self.factor())
            elif self.tok.kind == "command" and self.tok.text == "\\otimes":
                self.take()
                node = Call(name="kron", args=(node, self.factor()))
            elif self._starts_factor() and not self.at(*stop):
                right = self.factor()
                # sigma(x)(1 - sigma(x)): a function's value beside a parenthesis (or another value)
                # is the entrywise product the author means, not a matrix product
                values = (isinstance(node, Apply) or id(node) in self.grouped) and \
                    (isinstance(right, Apply) or id(right) in self.grouped) and \
                    (isinstance(node, Apply) or isinstance(right, Apply))
                entrywise = self.index_mode and not _transposed(node) and not _transposed(right) \
                    and not _a_matrix(node)
                node = Mul(left=node, right=right) if values or self.sum_index or entrywise \
                    else self._product(node, right)
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
        layer = re.match(r"[(\[]([A-Za-z0-9]{1,3}(?:[-+][0-9A-Za-z]{1,2})?)[)\]]", text)
        if layer and isinstance(base, Sym) and text == layer.group() and layer.group(1) in self.summed:
            # y^{(i)} under \sum_i: example i's value (Ng's notation), an entry as y_i is, not a name
            if self.index_mode:
                return Sym(name=f"{base.name}{INDEX_OPEN}{layer.group(1)}{INDEX_CLOSE}")
            self.entries_of.setdefault(layer.group(1), set()).add(base.name)
            return base
        if layer and isinstance(base, Sym):
            # W^{(l)}, a^{[l-1]}: a layer index, part of the name (Wl, a_lm1)
            index = layer.group(1).replace("-", "m").replace("+", "p")
            base = Sym(name=_join_index(base.name, index))
            text = text[layer.end():]
            if not text:
                return base
        text = re.sub(r"\\(?:mathsf|mathrm|textsf|text|mathit)\{(\w+)\}", r"\1", text)
        if text in ("T", "\\top", "\\intercal", "t", "\\T", "\\transpose"):
            if self.sum_index is not None and not self.index_mode:
                # \sum_i y_i \log s_i^T, \sum_i x_i [y_i - \phi(w^T x_i)]^T: the terms are vectors (the rows
                # or columns of a matrix), not the entries the sum reads
                self.fail(f"a transpose inside \\sum_{self.sum_index}: its terms are vectors (rows or columns of "
                          "a matrix), not entries (write the sum as a matrix product)")
            return Transpose(arg=base)
        if isinstance(base, Sym) and base.name == "e" and _exponent(text) is None:
            # e^{-t}: Euler's number to a power
            return Apply(name="exp", arg=LatexParser(" ".join(t.text for t in inner), self.index_mode).parse())
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
            greek = re.fullmatch(r"\\([A-Za-z]+)", sub.strip())
            if greek and VARIANT_GREEK.get(greek.group(1), greek.group(1)) in GREEK:
                # h_\theta, J_\lambda: a parameter's name in the subscript names the object (h_theta)
                return f"{base}_{VARIANT_GREEK.get(greek.group(1), greek.group(1))}"
            if self.sum_index is not None and sub == self.sum_index:
                self.entries_of.setdefault(sub, set()).add(base)
                return base                          # x_i under \sum_i: the entries of x
            letters = sub.replace(",", "").replace(" ", "")
            if self.index_mode and re.fullmatch(r"[a-z]{1,2}", letters):
                return f"{base}{INDEX_OPEN}{letters}{INDEX_CLOSE}"
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
            word = self._letter_operator()
            if word:
                self.i += len(word)
                return self.operator(word)
            self.take()
            return self.named(t.text)
        if t.text == "(":
            self.take()
            node = self.group(")")
            self.grouped.add(id(node))
            return node
        if t.text == "[":
            self.take()
            node = self.group("]")
            self.grouped.add(id(node))
            return node
        if t.text == "{":
            word = self._braced_operator()
            if word:
                return self.operator(word)
            self.take()
            return self.group("}")
        if t.kind == "command":
            return self.command()
        self.fail(f"expected an operand, found {t.text or 'the end'!r}")

    def _letter_operator(self) -> str | None:
        """An operator's name spelled by the adjacent letters from here (``Tr\\{AXB\\}``, ``tr(X)``,
        ``det A``, ``softmax(z)``): the name when the run is exactly it (a word of the claim language
        when a bracket follows).  A longer lower-case run before a bracket (``sgn(x)``) is a word
        that is no operation: refused, never read as a product of letters."""
        before = self.toks[self.i - 1] if self.i else None
        if before is not None and before.kind == "letter" and before.col == self.tok.col - 1:
            return None                          # inside a run: its start decided
        k, run = self.i, ""
        while self.toks[k].kind == "letter" and (k == self.i or self.toks[k].col == self.toks[k - 1].col + 1):
            run += self.toks[k].text
            k += 1
        if run in LETTER_OPERATORS:
            return run
        bracket = self.toks[k].text in ARGUMENT_BRACKETS or self.toks[k].text == "\\left"
        if bracket and self.toks[k].col == self.toks[k - 1].col + 1 and len(run) > 1:
            if run in OPERATOR_WORDS:
                return run
            if len(run) > 2 and run.islower():
                self.fail(f"{run!r} reads as a word, not a product of its letters (write \\operatorname{{{run}}} "
                          "for a function, or space the letters for a product)")
        return None

    def _braced_operator(self) -> str | None:
        """``{\\rm tr}(AXB)``: an operator's name in a group of its own (a font switch and its letters);
        the tokens are taken when it is one."""
        k = self.i + 1
        if self.toks[k].kind == "command" and self.toks[k].text[1:] in SWITCHES:
            k += 1
        start, word = k, ""
        while self.toks[k].kind == "letter":
            word += self.toks[k].text
            k += 1
        if k > start and self.toks[k].text == "}" and (word in LETTER_OPERATORS or word in OPERATOR_WORDS
                                                       and registry.elementwise(OPERATOR_WORDS[word]) is None):
            self.i = k + 1
            return word
        return None

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
        name = VARIANT_GREEK.get(name, name)
        if name in SWITCHES:                 # {\bf x}: the font of what follows
            return self.atom()
        if name in ("mathcal", "mathscr"):   # \mathcal{L}: the letter's name
            return self.named(self.braced_raw().strip())
        if name in ACCENTS:
            inner = self.braced() if self.at("{") else self.atom()
            if isinstance(inner, Sym):
                return self.named(f"{inner.name}_{ACCENTS[name]}")
            self.fail(f"\\{name} of an expression")
        if t.text == "\\|" or name in ("Vert", "lVert"):
            return self.norm(t.text)
        if name in ("tr", "Tr", "trace"):
            return self.operator(name)
        if name == "sum":
            return self.summation()
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
            if name in ("mathrm", "mathit", "mathsf") and self._word_follows():
                return self.word(self.braced_raw())
            if name == "mathbf" and self._ones_follow():
                return self.ones()
            if name in ("mathbf", "mathrm", "boldsymbol", "vec", "bm", "mathit"):
                if not self.at("{"):
                    return self.atom()        # \mathbf s: the font of the next letter
                self.expect("{")
                node = self.group("}")
                return node
            return self.atom()
        if name in ("operatorname", "text", "textrm", "mathrm", "mbox") and self._word_follows():
            word = self.braced_raw().strip()
            if name == "operatorname" or word in OPERATOR_WORDS:
                return self.operator(word)
            self.fail(f"\\{name} does not translate ({word!r} is not an operation)")
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
        if name in ("frac", "dfrac", "tfrac"):
            if self.at("{"):
                self._refuse_derivative()
            top, bottom = self.fraction_part(), self.fraction_part()
            return Div(left=top, right=bottom)
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
            if not (self.at("(") or self.at("\\left")):     # \log \sigma(Xw): the factor that follows
                return Apply(name=NAMED_FUNCTIONS[name], arg=self.factor(), order=primes)
            return Apply(name=NAMED_FUNCTIONS[name], arg=self.call_arguments(f"\\{name}", 1)[0], order=primes)
        if name == "begin":
            return self.environment()
        if name in GREEK:
            return self.named(name)
        raise Untranslatable(f"column {t.col}: \\{name} does not translate")

    def named_symbol(self, name: str) -> Node:
        """A symbol named by the reader (an accent, a layer index), reserved words avoided."""
        if name in registry.reserved():
            name += "_"
        self.symbols.append(name)
        return Sym(name=name)

    def norm(self, opener: str) -> Node:
        """``\\|x\\|``, ``\\Vert x \\Vert``, ``\\lVert x \\rVert`` (with ``_2`` or ``_F``): the
        Euclidean (Frobenius) norm ``norm(x)``."""
        closer = {"\\|": ("\\|",), "\\Vert": ("\\Vert",), "\\lVert": ("\\rVert",)}[opener]
        self.norm_depth += 1
        inner = self.expr()
        self.norm_depth -= 1
        if self.at("\\right"):
            self.take()
        if not self.at(*closer):
            self.fail(f"expected {closer[0]!r} closing the norm")
        self.take()
        if self.at("_"):
            sub = self.subscript_text().strip()
            if sub not in ("2", "F", "\\mathrm{F}", "\\text{F}", "\\mathrm{Fro}", "Fro"):
                self.fail(f"the norm ||.||_{sub} (only the Euclidean/Frobenius norm translates)")
        return Call(name="norm", args=(inner,))

    def summation(self) -> Node:
        """``\\sum_i x_i y_i``: the sum of an entrywise expression of the entries
        of whole vectors, ``sum(x * y)``; a sum over several indices, or whose
        terms index anything else, is index notation and does not translate."""
        if self.index_mode:
            return self.indexed_summation()
        if not self.at("_"):
            self.fail("\\sum without its index (index notation does not translate)")
        sub = self.subscript_text()
        index = re.match(r"\s*([A-Za-z])\s*(?:=.*)?$", sub)
        if not index or self.sum_index is not None:
            self.fail(f"a sum over {sub!r} (index notation with several indices does not translate)")
        if self.at("^"):
            self.take()
            self._braced_tokens() if self.at("{") else self.take()
        self.sum_index = index.group(1)
        self.summed.append(self.sum_index)
        try:
            body = self.term()
        finally:
            self.sum_index = None
            self.summed.pop()
        return Call(name="sum", args=(body,))

    def indexed_summation(self) -> Node:
        """In index mode: ``\\sum_{k}``, ``\\sum_{k=1}^{K}``, ``\\sum_{k \\neq i}``, ``\\sum_{i,j}`` over
        the term that follows, as the marked functions ``Σ⟨k⟩`` (``Σ⟨k≠i⟩``), one per index; a bare
        ``\\sum`` is ``Σ⟨?⟩`` (its index found by the reader)."""
        if not self.at("_"):              # \sum e^{x_j}: over the one index its term leaves open
            return Apply(name=f"{SUM_MARK}{INDEX_OPEN}?{INDEX_CLOSE}", arg=self.term())
        self.expect("_")
        toks = self._braced_tokens() if self.at("{") else [self.take()]
        text = "".join(t.text for t in toks).replace(" ", "")
        m = re.fullmatch(r"([a-z](?:,[a-z])*)(?:=[-\w+]+|(?:\\neq|\\ne)([a-z]))?", text)
        if not m:
            self.fail(f"a sum over {text!r} (only \\sum_k, \\sum_{{k=1}}^K, \\sum_{{k\\neq i}}, \\sum_{{i,j}} translate)")
        if self.at("^"):
            self.take()
            self._braced_tokens() if self.at("{") else self.take()
        self.summed += m.group(1).split(",")
        try:
            body = self.term()
        finally:
            del self.summed[-len(m.group(1).split(",")):]
        for index in reversed(m.group(1).split(",")):
            excluded = f"≠{m.group(2)}" if m.group(2) else ""
            body = Apply(name=f"{SUM_MARK}{INDEX_OPEN}{index}{excluded}{INDEX_CLOSE}", arg=body)
        return body

    def _refuse_derivative(self) -> None:
        """``\\frac{\\partial}{\\partial A}(…)``, ``\\frac{\\partial x}{\\partial A}`` inside an
        expression: a derivative left unevaluated, which the claim language cannot state."""
        k, depth, top = self.i + 1, 1, []
        while k < len(self.toks) and depth:
            depth += {"{": 1, "}": -1}.get(self.toks[k].text, 0) if self.toks[k].kind == "op" else 0
            top.append(self.toks[k])
            k += 1
        bottom = self.toks[k + 1:k + 3] if k < len(self.toks) and self.toks[k].text == "{" else []
        marks = ("\\partial", "\\delta", "\\nabla")
        if top and bottom and top[0].text in marks and bottom[0].text == top[0].text \
                or len(top) > 2 and len(bottom) == 2 and top[0].text == "d" == bottom[0].text \
                and bottom[1].kind in ("letter", "command"):
            self.fail("a derivative written inside the expression (d/dA of something left unevaluated) "
                      "does not translate")

    def fraction_part(self) -> Node:
        """A numerator or denominator: ``{…}``, or one digit or letter (``\\frac12``)."""
        if self.at("{"):
            return self.braced()
        t = self.tok
        if t.kind == "number":
            self.take()
            if len(t.text) > 1 and t.text.isdigit():        # \frac12: the digits are two arguments
                self.toks.insert(self.i, Tok("number", t.text[1:], t.col + 1))
                return Num(value=Fraction(t.text[0]))
            return Num(value=Fraction(t.text))
        return self.atom()

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
        if text in OPERATOR_WORDS and registry.elementwise(OPERATOR_WORDS[text]) is None:
            return self.operator(text)
        text = OPERATOR_WORDS.get(text, text) if text in ("ReLU",) else text
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
        if not self.at(*ARGUMENT_BRACKETS):
            self.fail(f"expected '(' after {what}")
        close = ARGUMENT_BRACKETS[self.take().text]
        args = [self.compare()]
        while self.at(","):
            self.take()
            args.append(self.compare())
        if self.at("\\right"):
            self.take()
        self.expect(close)
        if count is not None and len(args) != count:
            self.fail(f"{what} takes {count} argument{'s' * (count > 1)}, found {len(args)}")
        return args

    def operator(self, text: str) -> Node:
        """``\\operatorname{sum}_{\\mathrm{axis}=0,\\,\\mathrm{keepdims}}\\left(X\\right)``:
        a registered operation (or a macro: mean, var ...), its keyword
        parameters read from the subscript."""
        name = OPERATOR_WORDS.get(text.strip(), text.strip())
        if not re.fullmatch(r"[A-Za-z_]+", name) or not (registry.operation(name) or registry.macro(name)
                                                          or registry.elementwise(name)):
            self.fail(f"\\operatorname{{{name}}} is not an operation of the claim language")
        keywords = self.reduction_subscript(name) if self.at("_") else ()
        primes = self.primes()
        if not (self.at("(", "\\{", "[") or self.at("\\left")) and not keywords:
            args = [self.term()]                  # \operatorname{tr} A^T B: the product that follows
        else:
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
        if name == "diag" and len(args) == 1 and _of_vectors(args[0]):
            # diag(s) of a vector, row or column (a row in row-vector notes): the diagonal matrix of
            # its entries, NumPy's diagflat (the claim language's diag takes a column)
            name = "diagflat"
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
        return group_rest(self.take, self.fail)

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


def _of_vectors(node: Node) -> bool:
    """Whether every symbol of ``node`` is lower case (vectors, by the notes' convention) and it
    has one: ``s``, ``1/s``, ``\\sigma'(z)``."""
    names = [n.name for n in node.walk() if isinstance(n, Sym)]
    return bool(names) and all(not any(ch.isupper() for ch in x) for x in names)


def _transposed(node: Node) -> bool:
    """``x^T``, ``\\log s^T``, ``-x^T``: a transpose, maybe under entrywise functions (in index
    notation a product with it is a matrix product, not the product of entries)."""
    while isinstance(node, (Apply, Neg)) and not (isinstance(node, Apply) and node.name.startswith(SUM_MARK)):
        node = node.arg
    return isinstance(node, Transpose)


def _a_matrix(node: Node) -> bool:
    """``W`` in ``W x_i``: a capital without indices (a matrix; beside it, a matrix product)."""
    return isinstance(node, Sym) and node.name[:1].isupper() and INDEX_OPEN not in node.name


def _join_index(name: str, index: str) -> str:
    """A layer index made part of a name: ``W`` and ``1`` -> ``W1``; ``delta`` and ``l`` -> ``delta_l``."""
    return f"{name}_{index}" if name in GREEK or name in FUNCTION_LETTERS or "_" in name else name + index


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
