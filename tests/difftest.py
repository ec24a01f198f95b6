"""Differential testing of the derivation core against an independent autodiff engine.

Random well-typed programs of the whole claim language -- every registered
operation, elementwise function and macro, broadcasting, reductions along
axes, declared properties, opaque functions and their derivatives, the NumPy
spellings -- each a scalar cost.  For each program:

1. the project derives the gradient with respect to every continuous symbol
   of the cost (:func:`symbolic_bp.calculus.gradient.gradients`) and
   evaluates it in float64 (:class:`~symbolic_bp.calculus.evaluate.Evaluator`);
2. HIPS ``autograd`` differentiates the *same program*, printed to NumPy code
   by this module from its own syntax tree -- never from the project's typed
   tree or derivation: core operators are NumPy's operators (with NumPy's
   broadcasting), a registered operation is printed by its registry entry's
   ``numpy`` printer, an elementwise function or a macro by an independent
   reference written here (:data:`FUNCTIONS`, :data:`MACROS`), derivatives of
   elementwise functions (``sigmoid'``, ``sigma''``) by autograd itself;
3. the values of the cost and the gradients are compared at random points
   away from kinks and ties, with well-conditioned matrices where an inverse
   or a determinant needs one and positive values where a log, a sqrt or a
   real power needs them.

A sample of the programs also goes through :func:`symbolic_bp.check`: the
derived gradient must be *verified*, a mutant of it (transposed, doubled, a
term dropped, two operands swapped; numerically different from it) must be
*refuted*.

The generator is built from the registry tables: the shapes at which an
operation or a macro is well typed are found by asking the type pass
(:func:`signatures`, every combination of argument shapes, parameters and
keyword values over a pool of dimensions), so a new registry entry is
generated without a change here.  What a new entry may need is a value
constraint (``VALUE_HINTS``: which arguments must be invertible) or, for an
elementwise function or a macro, an independent reference; without one it is
still generated and the programs that use it are counted as a *limitation*
(never silently skipped).

What is not independent, or not compared, and how it is counted:

* autograd has no VJP for ``np.diagflat`` and ``np.linalg.matrix_power``
  (printed by the registry); they are mapped to autograd primitives
  (:data:`MAPPED`) and the programs are compared, counted as "mapped";
  autograd's ``np.outer`` differentiates 1-D arguments only, so the reference
  of ``outer`` reshapes;
* an opaque function (``sigma:function``) is, in both evaluations, the same
  random member of a smooth family (its definition is shared by construction);
  its derivatives of every order are autograd's;
* relu'(0) = abs'(0) = 0 is the language's convention (autograd's maximum
  gives 1/2): the references follow the language;
* a program with no point (of :data:`MAX_DRAWS`) where every intermediate
  value is finite, every inverse well conditioned, every log/sqrt/real power
  argument away from 0 and the cost away from its kinks and ties is counted
  as *undefined*, with the reason (``pinv`` of a wide matrix, the variance of
  equal entries under a sqrt ...).  Ties are kinks in the unstructured
  convention of the gradients (the tie of S_ij and S_ji of a symmetric S is
  one: :func:`kink_gap`); ties that stay as every entry moves (max over copies
  of one value) are not.
* the checks' verdicts on the sample are counted by verdict; every one not
  as expected is listed with the checker's reason and a shrunk program, and
  counted by why (:func:`classify`): a bug the checker reports, a limitation
  (the time budget; one check inconclusive, with the reason its evidence
  gives; a difference below what float64 resolves), an invalid claim, a
  verified mutant.  A program without a mutant checked is counted with why:
  no mutation type-checks, or every candidate was equal to the truth at two
  points (the truth 0 there, sign'(x) or ``zeros(n, n) * ...``, so that every
  mutant of it is 0 too; or an equivalent mutant), differed at one point of
  two only (on a region), or could not be evaluated (:func:`mutant_status`).

    python -m tests.difftest --n 2000          # or: make difftest N=2000

prints the figures (see :func:`report`).  The hypothesis tests are in
``tests/test_difftest.py``.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import random
import re
import sys
import time
import traceback
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from itertools import product

import numpy as np

import autograd
import autograd.numpy as anp
from autograd import elementwise_grad
from autograd.tracer import getval

from symbolic_bp.calculus.evaluate import Evaluator, NumericBackend
from symbolic_bp.calculus.gradient import gradients
from symbolic_bp.checks.kinks import _records, nonsmooth
from symbolic_bp.checks.sampling import drawn_property, float_matrix, is_discrete
from symbolic_bp.core import registry
from symbolic_bp.core.dims import ONE, SCALAR, Dim
from symbolic_bp.core.expression import (
    Add, Call, Div, Hadamard, MatMul, Mul, Neg, Node, Scale, Sub, Sym, num, substitute,
)
from symbolic_bp.errors import InputError
from symbolic_bp.language.printer import to_text
from symbolic_bp.language.shapes import Declarations, Typer, broadcast_shape, is_flat, parse_declarations, parse_typed

warnings.filterwarnings("ignore", message="Output seems independent of input")

# ---------------------------------------------------------------------------------------------
# the pool of dimensions, and the signatures of the registered operations and macros

NAMES = ("m", "n", "k")                     # the size names every program may use
_M, _N, _K = (Dim.of(x) for x in NAMES)
PRODUCTS = (_M * _N, _M * _K, _N * _K)
POOL = (ONE, _M, _N, _K) + PRODUCTS         # every dimension a generated value may have
SHAPES = tuple(product(POOL, POOL))
INTS = (-2, -1, 0, 1, 2, 3)                 # "int" parameters (matrix_power)
REALS = (2, 3, -1, -2, 0, 1, Fraction(1, 2), Fraction(3, 2), Fraction(-1, 2))   # "real" ones (exponents)
KEYWORD_VALUES = {"axis": (None, 0, 1), "bool": (False, True), "int": (0, 1)}
PARAM_VALUES = {"dim": POOL, "int": INTS, "real": REALS}

# value constraints the registry does not state: arguments that must be invertible (the
# registry's ``positive`` flag and an elementwise function's domain are read from the entries)
VALUE_HINTS = {"inv": "nonsingular", "det": "nonsingular",
               "matrix_power": lambda params: "nonsingular" if params[0] < 0 else None,
               "power": lambda params: "positive" if params[0] < 0 else None}     # no division by 0


def declarable(shape) -> bool:
    """A shape a declaration can write (no product of sizes)."""
    return all(d == ONE or (d.coef == 1 and len(d.names) == 1) for d in shape)


@dataclass(frozen=True)
class Signature:
    """One well-typed use of a registered operation or macro: argument shapes,
    positional parameters, keyword values (name, value), the result's shape and
    whether NumPy would hold it as a 1-D array."""

    name: str
    macro: bool
    args: tuple
    params: tuple
    keywords: tuple
    shape: tuple
    flat: bool

    @property
    def entry(self):
        return registry.macro(self.name) if self.macro else registry.operation(self.name)

    def typed_params(self) -> tuple:
        """The parameters as the typed call holds them: positional, then every keyword in order."""
        return self.params + tuple(v for _, v in self.keywords)


def _value_node(value) -> Node:
    if isinstance(value, Dim):
        node = None
        for factor in value.factors():
            leaf = num(int(factor)) if factor.isdigit() else Sym(name=factor)
            node = leaf if node is None else Mul(left=node, right=leaf)
        return node
    if value is None or isinstance(value, bool):
        return Sym(name=str(value))
    value = Fraction(value)
    magnitude = num(abs(value.numerator)) if value.denominator == 1 else \
        Div(left=num(abs(value.numerator)), right=num(value.denominator))
    return magnitude if value >= 0 else Neg(arg=magnitude)


@lru_cache(maxsize=None)
def signatures() -> dict[tuple, list[Signature]]:
    """Every well-typed use of every registered operation and macro over :data:`POOL`,
    by result shape; found by the type pass (so by the registry's shape rules)."""
    registry._load()
    typer = Typer(Declarations({}, NAMES))
    out: dict[tuple, list[Signature]] = defaultdict(list)
    entries = [(op, False) for op in registry.OPERATIONS.values()] + [(m, True) for m in registry.MACROS.values()]
    for entry, macro in entries:
        arity = entry.arity
        kinds = () if macro else entry.params
        for shapes in product(SHAPES, repeat=arity):
            if not macro and entry.broadcasts and arity == 2 and broadcast_shape(*shapes) is None:
                continue
            args = tuple(Sym(name=f"_a{i}", shape=s) for i, s in enumerate(shapes))
            for params in product(*(PARAM_VALUES[k] for k in kinds)):
                for values in product(*(KEYWORD_VALUES[k.kind] for k in entry.keywords)):
                    keywords = tuple((k.name, v) for k, v in zip(entry.keywords, values))
                    node = Call(name=entry.name, args=args + tuple(_value_node(p) for p in params),
                                keywords=tuple((k, _value_node(v)) for k, v in keywords))
                    try:
                        typed = typer(node)
                    except (InputError, registry.ShapeError):
                        continue
                    if typed.shape[0] not in POOL or typed.shape[1] not in POOL:
                        continue
                    out[typed.shape].append(Signature(entry.name, macro, shapes, params, keywords,
                                                      typed.shape, is_flat(typed)))
    return dict(out)


@lru_cache(maxsize=None)
def _by_name(shape) -> dict[str, list[Signature]]:
    table: dict[str, list[Signature]] = defaultdict(list)
    for sig in signatures().get(shape, []):
        table[sig.name].append(sig)
    return dict(table)


def find_signature(name: str, args: tuple, params: tuple = (), keywords: dict | None = None) -> Signature:
    keywords = keywords or {}
    for sigs in signatures().values():
        for sig in sigs:
            if sig.name == name and sig.args == args and sig.params == params and \
                    all(dict(sig.keywords).get(k) == v for k, v in keywords.items()):
                return sig
    raise KeyError((name, args, params, keywords))


# ---------------------------------------------------------------------------------------------
# the programs' syntax tree: printed to the claim language for the project, to NumPy for autograd

@dataclass(frozen=True, eq=False)
class Expr:
    """A node of a generated program.  ``kind``: sym num size neg add sub mul div matmul t pow
    apply call (``sig`` a :class:`Signature` of an operation or a macro); ``spell`` picks one
    of the ways the claim language writes the node (NumPy names, methods, positional axis)."""

    kind: str
    shape: tuple
    args: tuple = ()
    name: str = ""
    value: object = None
    sig: Signature | None = None
    spell: int = 0

    def walk(self):
        yield self
        for a in self.args:
            yield from a.walk()

    def size(self) -> int:
        return sum(1 for _ in self.walk())


_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@"}


def _number_text(value: Fraction) -> str:
    value = Fraction(value)
    text = str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    return text if value.denominator == 1 and value >= 0 else f"({text})"


def _param_text(value) -> str:
    return str(value) if isinstance(value, Dim) else _number_text(value)


def _keyword_text(kind: str, value, spell: int) -> str:
    if kind == "axis" and value in (0, 1) and spell % 3 == 2:
        return str(value - 2)                          # axis=-1, axis=-2
    return str(value)


def _spellings(name: str, arity: int) -> list[str]:
    """The ways NumPy code writes the registered name (the parser reads each)."""
    out = [name]
    if registry.numpy_function(name) == name:
        out.append("np." + name)
    # np.linalg.inv, np.trace, scipy.special.softmax ...
    out += [("scipy." if alias.startswith("special.") else "np.") + alias
            for alias, target in registry.NUMPY_NAMES.items() if target == name]
    if arity == 1 and registry.numpy_method(name):
        out.append(".method")
    return out


def text(e: Expr) -> str:
    """The claim-language text of ``e`` (fully parenthesised)."""
    k = e.kind
    if k == "sym":
        return e.name
    if k == "num":
        return _number_text(e.value)
    if k == "size":
        return f"({e.value})" if len(e.value.factors()) > 1 else str(e.value)
    if k == "neg":
        return f"(-{text(e.args[0])})"
    if k in _INFIX:
        return f"({text(e.args[0])} {_INFIX[k]} {text(e.args[1])})"
    if k == "t":
        return f"({text(e.args[0])}).T"
    if k == "pow":
        return f"({text(e.args[0])})**{_number_text(e.value)}"
    if k == "apply":
        name, order = e.name, e.value
        if order == 0 and e.spell % 2:
            choices = _spellings(name, 1)
            name = choices[e.spell % len(choices)].replace(".method", name)
        return f"{name}{chr(39) * order}({text(e.args[0])})"
    return _call_text(e)


def _call_text(e: Expr) -> str:
    sig, entry = e.sig, e.sig.entry
    args = [text(a) for a in e.args]
    infix = None if sig.macro else entry.infix
    if infix == "**":
        return f"({args[0]})**{_number_text(sig.params[0])}"
    if infix is not None and e.spell % 3:
        return f"({args[0]} {infix} {args[1]})"
    choices = _spellings(sig.name, len(args))
    spelled = choices[e.spell % len(choices)]
    parts = [_param_text(p) for p in sig.params]
    positional = True
    for keyword, (name, value) in zip(entry.keywords, sig.keywords):
        if value == keyword.default and (e.spell // 2) % 2:
            positional = False                          # left out: the default
            continue
        if positional and keyword.positional and (e.spell // 4) % 2:
            parts.append(_keyword_text(keyword.kind, value, e.spell))
            continue
        positional = False
        parts.append(f"{name}={_keyword_text(keyword.kind, value, e.spell)}")
    if spelled == ".method":
        return f"({args[0]}).{sig.name}({', '.join(parts)})"
    return f"{spelled}({', '.join(args + parts)})"


# -- the NumPy side: autograd's numpy, with what autograd cannot differentiate mapped ------------

def _matrix_power(a, k):
    if k < 0:
        a, k = anp.linalg.inv(a), -k
    out = anp.eye(a.shape[0])
    for _ in range(k):
        out = out @ a
    return out


def _diagflat(x):
    return anp.eye(int(np.prod(anp.shape(x)))) * anp.ravel(x)     # entry (i,j): delta_ij x_j


# NumPy functions a registry printer may use that autograd has no VJP for: mapped to autograd
# primitives (not limitations: the programs that use them are compared, and counted here)
MAPPED = {"np.linalg.matrix_power": _matrix_power, "np.diagflat": _diagflat}


class _Namespace:
    """``np`` for the generated code: autograd.numpy, with :data:`MAPPED` put in."""

    def __init__(self, module, prefix: str):
        self._module, self._prefix = module, prefix

    def __getattr__(self, name):
        full = f"{self._prefix}.{name}"
        if full in MAPPED:
            return MAPPED[full]
        value = getattr(self._module, name)
        if name == "linalg":
            return _Namespace(value, full)
        return value


NP = _Namespace(anp, "np")


def _sigmoid(x):
    return 1.0 / (1.0 + anp.exp(-x))


def _relu(x):
    return x * (x > 0)          # relu'(0) = 0, the language's convention (autograd's maximum: 1/2 at 0)


def _abs(x):
    return x * anp.sign(x)      # abs' = sign exactly (abs'' = 0, not autograd's rounding of x / |x|)


# independent references of the registered elementwise functions (derivatives by autograd)
FUNCTIONS = {
    "sigmoid": _sigmoid, "tanh": anp.tanh, "relu": _relu, "exp": anp.exp,
    "log": anp.log, "softplus": lambda x: anp.logaddexp(0.0, x), "abs": _abs, "sign": anp.sign,
    "sqrt": anp.sqrt, "sin": anp.sin, "cos": anp.cos,
}


def opaque_reference(name: str, seed: int = 0):
    """The smooth function that stands for a declared opaque function (``sigma:function``) in
    the project's numeric evaluation: the family of
    :func:`symbolic_bp.core.elementwise.opaque_numeric`, c0 + c1 t + c2 t^2 + c3 sin(c4 t + c5),
    its coefficients drawn the same way; its derivatives are autograd's."""
    digest = hashlib.sha256(f"{name}:{seed}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    c0, c1, c2, c3 = rng.uniform(-1, 1, 4)
    c4, c5 = rng.uniform(0.5, 1.5), rng.uniform(0, 2 * np.pi)
    return lambda x: c0 + c1 * x + c2 * x * x + c3 * anp.sin(c4 * x + c5)


@lru_cache(maxsize=None)
def function(name: str, order: int):
    """The order-th derivative of an elementwise function, for autograd; None without a reference."""
    if order == 0:
        if name in FUNCTIONS:
            return FUNCTIONS[name]
        return None if registry.elementwise(name) is not None else opaque_reference(name)
    f = function(name, order - 1)
    return None if f is None else elementwise_grad(f)


def _held(value, axis, keepdims):
    """A reduction computed with keepdims=True, held as the language holds NumPy's result (2-D;
    the 1-D result along axis 1 as a row)."""
    if axis is None:
        return anp.reshape(value, (1, 1))
    return anp.reshape(value, (1, -1)) if axis == 1 and not keepdims else value


def _logsumexp(x, axis):
    m = np.max(getval(x), axis=axis, keepdims=True)        # a constant shift (it cancels)
    return m + anp.log(anp.sum(anp.exp(x - m), axis=axis, keepdims=True))


# independent references of the macros, as NumPy / SciPy define them (keyword arguments by name)
MACROS = {
    "mean": lambda x, axis=None, keepdims=False: _held(anp.mean(x, axis=axis, keepdims=True), axis, keepdims),
    "var": lambda x, axis=None, ddof=0, keepdims=False:
        _held(anp.var(x, axis=axis, ddof=ddof, keepdims=True), axis, keepdims),
    "std": lambda x, axis=None, ddof=0, keepdims=False:
        _held(anp.std(x, axis=axis, ddof=ddof, keepdims=True), axis, keepdims),
    "logsumexp": lambda x, axis=None, keepdims=False: _held(_logsumexp(x, axis), axis, keepdims),
    "softmax": lambda x, axis=None: anp.exp(x - _logsumexp(x, axis)),
    "log_softmax": lambda x, axis=None: x - _logsumexp(x, axis),
    "ones_like": lambda x: anp.ones(anp.shape(x)),
    "zeros_like": lambda x: anp.zeros(anp.shape(x)),
    "square": anp.square,
    "outer": lambda a, b: anp.reshape(a, (-1, 1)) * anp.reshape(b, (1, -1)),   # autograd's outer: 1-D only
    "diagflat": _diagflat,
    "pinv": anp.linalg.pinv,
}


class Unsupported(Exception):
    """The program uses something without an independent reference (a limitation, counted)."""


class Emitter:
    """Prints a program's tree to one NumPy expression over ``E[name]``, at concrete sizes."""

    def __init__(self, sizes: dict):
        self.sizes = sizes
        self.mapped: set[str] = set()

    def dim(self, d: Dim) -> int:
        return d.value(self.sizes)

    def __call__(self, e: Expr) -> str:
        k = e.kind
        if k == "sym":
            return f"E[{e.name!r}]"
        if k == "num":
            return f"np.full((1, 1), {float(e.value)!r})"
        if k == "size":
            return f"np.full((1, 1), {float(self.dim(e.value))!r})"
        if k == "neg":
            return f"(-{self(e.args[0])})"
        if k == "matmul":
            a, b = e.args
            op = "@" if a.shape[1] == b.shape[0] else "*"          # a 1x1 operand written with @: a scaling
            return f"({self(a)} {op} {self(b)})"
        if k in _INFIX:
            return f"({self(e.args[0])} {_INFIX[k]} {self(e.args[1])})"
        if k == "t":
            return f"({self(e.args[0])}).T"
        if k == "pow":
            return f"np.power({self(e.args[0])}, {float(e.value)!r})"
        if k == "apply":
            if function(e.name, e.value) is None:
                raise Unsupported(f"elementwise {e.name}: no independent reference")
            return f"F({e.name!r}, {e.value})({self(e.args[0])})"
        args = [self(a) for a in e.args]
        sig = e.sig
        if sig.macro:
            if sig.name in MACROS:
                keywords = "".join(f", {name}={value!r}" for name, value in sig.keywords)
                return f"M[{sig.name!r}]({', '.join(args)}{keywords})"
            return self.expansion(sig, args)
        if sig.entry.numpy is None:
            raise Unsupported(f"operation {sig.name}: no numpy printer")
        params = [str(self.dim(p)) if isinstance(p, Dim) else str(p) for p in sig.typed_params()]
        code = sig.entry.numpy(args, params)
        self.mapped |= {name for name in MAPPED if name + "(" in code}
        return code

    def expansion(self, sig: Signature, args: list[str]) -> str:
        """A macro without a reference in :data:`MACROS`: a limitation, counted (its expansion
        by the type pass is what the project differentiates, so printing it would check
        nothing)."""
        raise Unsupported(f"macro {sig.name}: no independent reference")


def compile_cost(e: Expr, sizes: dict):
    """The cost as a Python function of the dict of values E, and the NumPy functions mapped."""
    emitter = Emitter(sizes)
    code = emitter(e)
    source = f"def cost(E):\n    return {code}\n"
    namespace = {"np": NP, "F": function, "M": MACROS}
    exec(compile(source, "<difftest cost>", "exec"), namespace)      # our own generated code
    return namespace["cost"], source, emitter.mapped


# ---------------------------------------------------------------------------------------------
# the generator

@dataclass
class Program:
    """A generated claim: declarations, a scalar cost, the sizes it is compared at."""

    symbols: dict                 # name -> (shape, property or None)
    functions: tuple              # declared opaque elementwise functions
    cost: Expr
    sizes: dict
    seed: int = 0

    def used(self) -> set[str]:
        return {e.name for e in self.cost.walk() if e.kind == "sym"}

    @property
    def shapes(self) -> str:
        used = self.used()
        dims = {n for e in self.cost.walk() for d in _dims_named(e) for n in d.names}
        items, declared = [], set()
        for name, (shape, prop) in self.symbols.items():
            if name not in used:
                continue
            declared |= {n for d in shape for n in d.names}
            if shape == SCALAR:
                items.append(f"{name}:scalar" + (f":{prop}" if prop else ""))
                continue
            written = str(shape[0]) if shape[1] == ONE and shape[0] != ONE else f"{shape[0]},{shape[1]}"
            items.append(f"{name}:{written}" + (f":{prop}" if prop else ""))
        # a size used only as a parameter (ones(k, m), eye(n), 1/n) is declared by a symbol of its own
        items += [f"Z{n}:{n}" for n in sorted(dims - declared)]
        items += [f"{f}:function" for f in self.functions if any(e.kind == "apply" and e.name == f
                                                                for e in self.cost.walk())]
        return " ".join(items)

    @property
    def text(self) -> str:
        return text(self.cost)

    def data(self) -> set[str]:
        return {name for name, (shape, prop) in self.symbols.items() if is_discrete(prop)}

    def features(self) -> set[str]:
        """What the program exercises: registry entries, constructs, properties."""
        out = set()
        for e in self.cost.walk():
            if e.kind == "call":
                out.add(("macro " if e.sig.macro else "op ") + e.sig.name)
                if any(v is not None for n, v in e.sig.keywords if n == "axis"):
                    out.add("reduction along an axis")
            elif e.kind == "apply":
                out.add((f"fn {e.name}" if registry.elementwise(e.name) else "opaque fn") + "'" * e.value)
            elif e.kind in ("add", "sub", "mul", "div") and e.args[0].shape != e.args[1].shape:
                out.add("broadcast " + ("scalar" if SCALAR in (e.args[0].shape, e.args[1].shape) else "row/column"))
            else:
                out.add(e.kind)
        for name in self.used():
            prop = self.symbols[name][1]
            if prop:
                out.add("property " + prop)
        return out

    def describe(self) -> str:
        return f'--shapes "{self.shapes}" --cost "{self.text}"  (sizes {self.sizes})'


def _dims_named(e: Expr):
    """The dimensions a node writes in the text (parameters, sizes used as numbers)."""
    if e.kind == "size":
        return [e.value]
    if e.kind == "call":
        return [p for p in e.sig.params if isinstance(p, Dim)]
    return []


FUNCTION_NAMES = ("sigma", "g", "phi")
NUMBERS = (2, 3, Fraction(1, 2), -1, Fraction(3, 2), Fraction(1, 3))


class Generator:
    """Random programs, one per seed (the same seed gives the same program)."""

    def __init__(self, seed: int, max_depth: int | None = None):
        self.rng = random.Random(seed)
        self.seed = seed
        self.depth = max_depth if max_depth is not None else self.rng.choice((2, 3, 3, 4, 4, 5))
        self.symbols: dict[str, tuple] = {}
        self.functions: list[str] = []
        values = self.rng.sample((2, 3, 4), 3)
        self.sizes = dict(zip(NAMES, values))
        self.elementwise = sorted(registry.ELEMENTWISE)

    # -- leaves -------------------------------------------------------------------------------
    def symbol(self, shape, prop=None, fresh=False) -> Expr:
        same = [n for n, (s, p) in self.symbols.items() if s == shape and p == prop]
        if same and not fresh and self.rng.random() < 0.5:
            return Expr("sym", shape, name=self.rng.choice(same))
        prefix = "s" if shape == SCALAR else "v" if ONE in shape else "X"
        name = f"{prefix}{len(self.symbols)}"
        self.symbols[name] = (shape, prop)
        return Expr("sym", shape, name=name)

    def leaf(self, shape) -> Expr:
        r = self.rng.random()
        if shape == SCALAR:
            if r < 0.25:
                return Expr("num", SCALAR, value=Fraction(self.rng.choice(NUMBERS)))
            if r < 0.35:
                return Expr("size", SCALAR, value=self.rng.choice((_M, _N, _K, _M * _N)))
            return self.symbol(SCALAR, self.rng.choice((None, None, None, "positive", "binary")))
        if shape[0] == shape[1]:
            prop = self.rng.choice((None, None, None, None, "symmetric", "spd", "invertible", "positive", "onehot"))
        else:
            prop = self.rng.choice((None, None, None, None, None, "positive", "onehot", "binary"))
        return self.symbol(shape, prop)

    def terminal(self, shape, mode=None) -> Expr:
        """A leaf of ``shape``; a shape no declaration writes (a product of sizes) is made of
        leaves by an operation (kron of two symbols, ones)."""
        if mode == "positive":
            return self.positive(shape, 0)
        if mode in ("spd", "nonsingular") and shape != SCALAR:
            return self.spd(shape, 0, mode)
        if mode in ("spd", "nonsingular"):
            return self.positive(shape, 0)
        if declarable(shape):
            return self.leaf(shape)
        sigs = [s for sigs in _by_name(shape).values() for s in sigs
                if s.args and all(declarable(a) for a in s.args) and not s.flat]
        if sigs and self.rng.random() < 0.9:
            sig = self.rng.choice(sigs)
            return self.call(sig, 0)
        return self.call(find_signature("ones", (), shape), 0)

    # -- the productions ------------------------------------------------------------------------
    def variants(self, shape):
        """Shapes that broadcast to ``shape`` (NumPy's rules)."""
        return list({(r, c) for r in {shape[0], ONE} for c in {shape[1], ONE}})

    def broadcast_pair(self, shape):
        if self.rng.random() < 0.6:
            return shape, shape
        options = self.variants(shape)
        while True:
            a, b = self.rng.choice(options), self.rng.choice(options)
            if broadcast_shape(a, b) == shape:
                return a, b

    def gen(self, shape, depth, mode=None, flat_ok=True) -> Expr:
        if mode == "positive":
            return self.positive(shape, depth)
        if mode in ("spd", "nonsingular") and shape[0] == shape[1]:
            return self.spd(shape, depth, mode) if shape != SCALAR else self.positive(shape, depth)
        if depth <= 0:
            return self.terminal(shape)
        d = depth - 1
        rng = self.rng
        productions = [("leaf", 2), ("neg", 0.4), ("add", 1.5), ("sub", 1), ("mul", 2), ("div", 0.8),
                       ("matmul", 2), ("t", 0.8), ("apply", 3), ("call", 4), ("macro", 2)]
        if shape == SCALAR:
            productions.append(("pow", 0.6))
        kind = rng.choices([p for p, _ in productions], [w for _, w in productions])[0]
        if kind == "leaf":
            return self.terminal(shape)
        if kind == "neg":
            return Expr("neg", shape, (self.gen(shape, d, flat_ok=flat_ok),))
        if kind in ("add", "sub", "mul"):
            a, b = self.broadcast_pair(shape)
            return Expr(kind, shape, (self.gen(a, d, flat_ok=flat_ok), self.gen(b, d, flat_ok=flat_ok)))
        if kind == "div":
            a, b = self.broadcast_pair(shape)
            divisor = "positive" if rng.random() < 0.85 else None
            return Expr("div", shape, (self.gen(a, d, flat_ok=flat_ok), self.gen(b, d, divisor, flat_ok)))
        if kind == "matmul":
            if rng.random() < 0.1 and shape != SCALAR and shape[0] != ONE:
                # a 1x1 operand written with @: a scaling
                return Expr("matmul", shape, (self.gen(shape, d, flat_ok=flat_ok), self.gen(SCALAR, d)))
            inner = rng.choice(POOL[:4] + (rng.choice(PRODUCTS),))
            return Expr("matmul", shape, (self.gen((shape[0], inner), d, flat_ok=flat_ok),
                                          self.gen((inner, shape[1]), d, flat_ok=False)))
        if kind == "t":
            return Expr("t", shape, (self.gen((shape[1], shape[0]), d, flat_ok=False),))
        if kind == "pow":
            k = rng.choice((2, 3, -1, -2))
            return Expr("pow", SCALAR, (self.gen(SCALAR, d, "positive" if k < 0 else None),), value=k)
        if kind == "apply":
            return self.apply(shape, d, flat_ok)
        sigs = {name: s for name, s in _by_name(shape).items()
                if (registry.macro(name) is not None) == (kind == "macro")}
        sigs = {name: [x for x in s if flat_ok or not x.flat] for name, s in sigs.items()}
        sigs = {name: s for name, s in sigs.items() if s}
        if not sigs:
            return self.terminal(shape)
        name = rng.choice(sorted(sigs))
        if not registry.macro(name) and registry.operation(name).arity == 0 and rng.random() < 0.7:
            name = rng.choice(sorted(sigs))                 # constants (eye, ones): rarer
        return self.call(rng.choice(sigs[name]), d, flat_ok)

    def apply(self, shape, d, flat_ok=True) -> Expr:
        rng = self.rng
        if rng.random() < 0.15:
            if not self.functions or (len(self.functions) < len(FUNCTION_NAMES) and rng.random() < 0.3):
                self.functions.append(FUNCTION_NAMES[len(self.functions)])
            name = rng.choice(self.functions)
        else:
            name = rng.choice(self.elementwise)
        order = rng.choices((0, 1, 2), (0.8, 0.15, 0.05))[0]
        entry = registry.elementwise(name)
        mode = "positive" if entry is not None and entry.domain == "positive" else None
        return Expr("apply", shape, (self.gen(shape, d, mode, flat_ok),), name=name, value=order,
                    spell=rng.randrange(6))

    def argument_mode(self, sig: Signature, i: int):
        """The value constraint on argument i: positive (the registry's ``positive`` flag:
        entrywise for an entrywise operation, a positive determinant otherwise), invertible
        (:data:`VALUE_HINTS`), a divisor away from 0."""
        if sig.macro:
            return None
        op = sig.entry
        positive = op.positive
        if callable(positive):
            positive = positive(Call(name=op.name, args=(), params=sig.typed_params()))
        if positive:
            entrywise = sig.args[i] == sig.shape
            return "positive" if entrywise or sig.args[i][0] != sig.args[i][1] else "spd"
        hint = VALUE_HINTS.get(op.name)
        if callable(hint):
            hint = hint(sig.params)
        if hint and self.rng.random() < 0.9:
            return hint
        if op.infix == "/" and i == 1 and self.rng.random() < 0.85:
            return "positive"
        return None

    def call(self, sig: Signature, d, flat_ok=True) -> Expr:
        op = None if sig.macro else sig.entry
        entrywise = op is not None and (op.broadcasts or op.infix == "**")
        args = tuple(self.gen(shape, d, self.argument_mode(sig, i), flat_ok or not entrywise)
                     for i, shape in enumerate(sig.args))
        return Expr("call", sig.shape, args, sig=sig, spell=self.rng.randrange(12))

    # -- values with a constraint ---------------------------------------------------------------
    def positive(self, shape, depth) -> Expr:
        """Entries > 0 whatever the draw."""
        rng = self.rng
        r = rng.random()
        if depth <= 0 or r < 0.35:
            if declarable(shape):
                if shape == SCALAR and rng.random() < 0.3:
                    return Expr("num", SCALAR, value=Fraction(rng.choice((2, 3, Fraction(1, 2)))))
                return self.symbol(shape, "positive")
            return self.apply_positive(shape, self.terminal(shape))
        if r < 0.75:
            return self.apply_positive(shape, self.gen(shape, depth - 1))
        a, b = self.broadcast_pair(shape)
        kind = rng.choice(("add", "mul", "div"))
        return Expr(kind, shape, (self.positive(a, depth - 1), self.positive(b, depth - 1)))

    def apply_positive(self, shape, arg) -> Expr:
        names = [n for n in self.elementwise if registry.elementwise(n).positive_values]
        return Expr("apply", shape, (arg,), name=self.rng.choice(names), value=0, spell=self.rng.randrange(6))

    def spd(self, shape, depth, mode) -> Expr:
        """A symmetric positive definite (``mode`` nonsingular: or invertible) square matrix."""
        if shape == SCALAR:
            return self.positive(shape, depth)
        rng = self.rng
        r = rng.random()
        if declarable(shape) and (depth <= 0 or r < 0.35):
            prop = "invertible" if mode == "nonsingular" and rng.random() < 0.4 else "spd"
            return self.symbol(shape, prop)
        if not declarable(shape) and (depth <= 0 or r < 0.35):
            kron = [s for s in _by_name(shape).get("kron", []) if all(a[0] == a[1] for a in s.args)]
            if kron:
                sig = rng.choice(kron)
                return Expr("call", shape, tuple(self.spd(a, 0, "spd") for a in sig.args), sig=sig)
        if r < 0.7 or depth <= 0:
            # G G^T + I
            inner = rng.choice(POOL[:4])
            g = self.gen((shape[0], inner), max(depth - 1, 0))
            gram = Expr("matmul", shape, (g, Expr("t", (inner, shape[0]), (g,))))
            return Expr("add", shape, (gram, Expr("call", shape, sig=find_signature("eye", (), (shape[0],)))))
        if r < 0.8:
            return Expr("add", shape, (self.spd(shape, depth - 1, "spd"), self.spd(shape, depth - 1, "spd")))
        if r < 0.9:
            return Expr("mul", shape, (self.positive(SCALAR, depth - 1), self.spd(shape, depth - 1, "spd")))
        sig = find_signature("inv", (shape,))
        return Expr("call", shape, (self.spd(shape, depth - 1, "spd"),), sig=sig, spell=rng.randrange(12))

    # -- the cost -------------------------------------------------------------------------------
    def program(self) -> Program:
        rng = self.rng
        r = rng.random()
        declarable_shapes = [s for s in SHAPES if declarable(s)]
        if r < 0.45:
            shape = rng.choice(declarable_shapes)
            e = self.gen(shape, self.depth)
            weight = self.symbol(shape, None, fresh=True)
            body = Expr("mul", shape, (weight, e))
            sig = find_signature("sum", (shape,), (), {"axis": None, "keepdims": False})
            cost = Expr("call", SCALAR, (body,), sig=sig, spell=rng.randrange(12))
        elif r < 0.55:
            shape = rng.choice(declarable_shapes)
            e = self.gen(shape, self.depth, flat_ok=False)
            u = self.symbol((shape[0], ONE), None)
            w = self.symbol((shape[1], ONE), None)
            cost = Expr("matmul", SCALAR, (Expr("matmul", (ONE, shape[1]), (Expr("t", (ONE, shape[0]), (u,)), e)), w))
        else:
            cost = self.gen(SCALAR, self.depth)
        return Program(dict(self.symbols), tuple(self.functions), cost, dict(self.sizes), self.seed)


def generate(seed: int, max_depth: int | None = None) -> Program:
    """The program of ``seed`` (one that depends on at least one continuous symbol)."""
    for attempt in range(100):
        program = Generator(seed + 7919 * attempt, max_depth).program()
        if program.used() - program.data():
            return replace(program, seed=seed)
    raise AssertionError("no program with a symbol")  # pragma: no cover


# ---------------------------------------------------------------------------------------------
# one program: the derived gradient against autograd's

MAX_DRAWS = 8
KINK_MARGIN = 1e-4
REL_TOL = 1e-6            # max|derived - autograd| <= REL_TOL * max(max|autograd|, max|derived|, FLOOR)
FLOOR = 1e-4              # gradients below this are compared absolutely (rounding of exact zeros)
VALUE_TOL = 1e-7
COND_MAX = 1e5            # an inverse taken at a point: its condition number at most this
DOMAIN_MARGIN = 1e-6      # the argument of a log, a sqrt, a real power: at least this
FAILURES = ("disagree", "value mismatch", "derivation error", "autograd error")


@dataclass
class Outcome:
    """What comparing one program found.  ``status``: agree | disagree | value mismatch |
    derivation error | autograd error (failures); undefined (no point where the cost and
    gradients are finite and away from kinks) | limitation | rejected (the type pass refused
    the program: the generator's slip) | constant (no continuous symbol)."""

    status: str
    program: Program
    detail: str = ""
    variables: tuple = ()
    worst: float = 0.0
    mapped: tuple = ()
    reason: str = ""              # undefined / limitation: why, in a few words (for the counts)

    @property
    def failed(self) -> bool:
        return self.status in FAILURES


def prepare(program: Program):
    decls = parse_declarations(program.shapes)
    cost = parse_typed(program.text, decls)
    return decls, cost


def draw(program: Program, decls, rng: np.random.Generator) -> dict:
    env = {}
    for name, symbol in decls.symbols.items():
        shape = tuple(d.value(program.sizes) for d in symbol.shape)
        env[name] = float_matrix(rng, shape, drawn_property(symbol), positive=False)
    return env


def _finite(*arrays) -> bool:
    return all(np.all(np.isfinite(np.asarray(a, dtype=float))) for a in arrays)


def relative(a, b, scale: float = 0.0) -> float:
    """max|a - b| relative to the largest entry of either (or ``scale``, the whole gradient's:
    an entry that cancels to ~0 carries the rounding of the terms that cancelled)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return math.inf
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0), scale, FLOOR)
    return float(np.max(np.abs(a - b), initial=0.0) / scale)


def gradient_scale(*gradients: dict) -> float:
    """The largest entry of the gradient with respect to every variable, in any of ``gradients``."""
    return max((float(np.max(np.abs(np.asarray(g, dtype=float)), initial=0.0))
                for grads in gradients for g in grads.values()), default=0.0)


def _as_shape(value, shape):
    value = np.asarray(value, dtype=float)
    return np.broadcast_to(value, shape).copy() if value.shape == (1, 1) and shape != (1, 1) else value


class Undefined(Exception):
    """An intermediate value is not finite, or an inverse is ill-conditioned, at this point."""


class GuardedEvaluator(Evaluator):
    """The project's float64 evaluation, refusing points where any intermediate value is not
    finite (a comparison or a maximum would hide a NaN) or an inverse is ill-conditioned."""

    def eval(self, node):
        out = super().eval(node)
        if not np.all(np.isfinite(out)):
            raise Undefined("an intermediate value is not finite")
        return out

    def eval_Call(self, node):
        if node.name in ("inv", "matrix_power") and (node.name == "inv" or node.params[0] < 0):
            with np.errstate(all="ignore"):
                if np.linalg.cond(self.eval(node.args[0])) > COND_MAX:
                    raise Undefined("an ill-conditioned inverse")
        op = registry.operation(node.name)
        positive = op.positive(node) if callable(op.positive) else op.positive
        if positive and op.name != "logdet":           # x ** 0.5: the argument away from 0
            self.away_from_zero(self.eval(node.args[0]))
        return super().eval_Call(node)

    def eval_Apply(self, node):
        entry = registry.elementwise(node.name)
        if entry is not None and entry.domain == "positive":
            self.away_from_zero(self.eval(node.arg))
        return super().eval_Apply(node)

    @staticmethod
    def away_from_zero(value):
        """A log, sqrt, real power of ~0 (a variance of equal entries): the edge of the domain,
        where the derivative is infinite or undefined."""
        if np.min(value) < DOMAIN_MARGIN:
            raise Undefined("at the edge of a log/sqrt/power domain")


def kink_gap(tree: Node, env: dict, sizes: dict, data: set, seed: int = 0) -> float:
    """The distance of ``env`` from the kinks and ties of ``tree`` (the smallest |u| of a relu,
    abs, sign argument, the smallest tie gap of a comparison, maximum, max...), as
    :func:`symbolic_bp.checks.kinks.kink_distance` measures it, except that a zero counts as
    structural (no kink: relu(Y @ w) at a zero row of a one-hot Y, max over copies of one value)
    only when it stays 0 as *every* entry of the drawn symbols moves independently -- the
    unstructured convention of the gradients compared, so that the tie of S_ij and S_ji of a
    symmetric S is a kink (its unstructured derivative does not exist there)."""
    if not any(nonsmooth(n) for n in tree.walk()):
        return math.inf
    drawn = set(env) - set(data)
    records = _records(tree, env, sizes, drawn, seed)
    if any(r is not None and np.any(r == 0) for r in records):
        rng = np.random.default_rng(seed)
        moved = {n: (v * (1 + 2.0 ** -10 * rng.uniform(-1, 1, v.shape)) + 2.0 ** -30 * rng.uniform(-1, 1, v.shape)
                     if n in drawn else v) for n, v in env.items()}
        try:
            again = _records(tree, moved, sizes, drawn, seed)
        except (ValueError, ZeroDivisionError, ArithmeticError, np.linalg.LinAlgError):
            again = []
        if len(again) == len(records):
            records = [r if r is None or a is None or r.shape != a.shape else np.where((r == 0) & (a == 0), np.inf, r)
                       for r, a in zip(records, again)]
    values = [float(np.nanmin(r)) for r in records if r is not None and r.size and not np.all(np.isnan(r))]
    return min(values, default=math.inf)


class Comparison:
    """A program parsed, derived and printed for autograd: compare at points of a seed."""

    def __init__(self, program: Program):
        self.program = program
        self.decls, self.cost = prepare(program)
        data = program.data()
        self.data = data
        self.variables = [n for n in self.decls.symbols if n in program.used() and n not in data]
        self.grads = gradients(self.cost, self.variables, self.decls) if self.variables else {}
        self.function, self.source, self.mapped = compile_cost(program.cost, program.sizes)
        self.evaluator = GuardedEvaluator(NumericBackend(), program.sizes)

    def point(self, rng):
        """A point where the cost and every derived gradient are finite, away from kinks; or
        (None, reason)."""
        reasons = Counter()
        for _ in range(MAX_DRAWS):
            env = draw(self.program, self.decls, rng)
            try:
                with np.errstate(all="ignore"):
                    value = self.evaluator(self.cost, env)
                    if not _finite(value):
                        reasons["the cost is not finite"] += 1
                        continue
                    if kink_gap(self.cost, env, self.program.sizes, self.data) < KINK_MARGIN:
                        reasons["on a kink or a tie"] += 1
                        continue
                    derived = {v: _as_shape(self.evaluator(g, env), env[v].shape) for v, g in self.grads.items()}
            except Undefined as e:
                reasons[str(e)] += 1
                continue
            except (ZeroDivisionError, ArithmeticError, np.linalg.LinAlgError, ValueError):
                reasons["evaluation error"] += 1
                continue
            if not _finite(*derived.values()):
                reasons["the derived gradient is not finite"] += 1
                continue
            return env, value, derived
        return None, reasons.most_common(1)[0][0], None

    def autograd(self, env):
        """The cost's value and autograd's gradient with respect to every variable."""
        constants = {n: v for n, v in env.items() if n not in self.variables}

        def scalar(values):
            out = self.function({**constants, **values})
            return out[0, 0] if out.shape == (1, 1) else out     # a shape slip is caught below
        values = {n: env[n] for n in self.variables}
        with np.errstate(all="ignore"):
            value, grad = autograd.value_and_grad(scalar)(values)
        return value, grad

    def compare_at(self, rng):
        env, value, derived = self.point(rng)
        if env is None:
            return None, value
        ag_value, ag_grad = self.autograd(env)
        return (env, value, derived, ag_value, ag_grad), None

    def finite_differences(self, env, name, h=1e-6):
        """Central differences of the autograd-printed cost (plain NumPy) along each entry of name."""
        constants = dict(env)
        base = np.asarray(env[name], dtype=float)
        out = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            step = h * max(1.0, abs(base[index]))
            plus, minus = base.copy(), base.copy()
            plus[index] += step
            minus[index] -= step
            with np.errstate(all="ignore"):
                fp = self.function({**constants, name: plus})[0, 0]
                fm = self.function({**constants, name: minus})[0, 0]
            out[index] = (fp - fm) / (2 * step)
        return out


def compare(program: Program, seed: int | None = None, points: int = 1) -> Outcome:
    """Compare the derived gradients of ``program`` with autograd's at ``points`` points
    (a disagreement is confirmed at two more points, and finite differences say which is right)."""
    seed = program.seed if seed is None else seed
    try:
        comparison = Comparison(program)
    except InputError as e:
        return Outcome("rejected", program, str(e), reason=_first_words(str(e)))
    except Unsupported as e:
        return Outcome("limitation", program, str(e), reason=str(e).split(":")[0])
    except Exception as e:      # the derivation raised: a bug
        return Outcome("derivation error", program, _short_traceback(e))
    if not comparison.variables:
        return Outcome("constant", program, "no continuous symbol in the cost")
    rng = np.random.default_rng(seed)
    mapped = tuple(sorted(comparison.mapped))
    worst, seen, attempts = 0.0, 0, 0
    while seen < points and attempts < points + 3:
        attempts += 1
        try:
            found, reason = comparison.compare_at(rng)
        except NotImplementedError as e:            # autograd has no VJP for something printed
            return Outcome("limitation", program, str(e), reason=f"autograd: {e}")
        except Exception as e:
            return Outcome("autograd error", program, _short_traceback(e))
        if found is None:
            if seen:
                break
            return Outcome("undefined", program, reason, reason=reason)
        env, value, derived, ag_value, ag_grad = found
        if not _finite(ag_value) or relative(value, np.asarray(ag_value).reshape(np.shape(value))) > VALUE_TOL:
            if _value_agrees_elsewhere(comparison, rng):
                continue            # rounding at one point (a saturated sigmoid, a near-singular matrix): another
            return Outcome("value mismatch", program,
                           f"the cost is {float(np.asarray(value).ravel()[0])!r} in the project's evaluation and "
                           f"{ag_value!r} in the printed NumPy code", tuple(comparison.variables), mapped=mapped)
        seen += 1
        scale = gradient_scale(derived, ag_grad)
        for name in comparison.variables:
            a = np.asarray(ag_grad[name], dtype=float)
            rel = relative(derived[name], a, scale)
            worst = max(worst, rel)
            if rel > REL_TOL:
                return _confirm(comparison, name, env, derived[name], a, rel, rng, mapped, scale)
    if not seen:
        return Outcome("undefined", program, "the value differs at one point only, twice", reason="unstable value")
    return Outcome("agree", program, variables=tuple(comparison.variables), worst=worst, mapped=mapped)


def _value_agrees_elsewhere(comparison, rng) -> bool:
    """The value of the cost agrees at two more points."""
    for _ in range(2):
        found, _reason = comparison.compare_at(rng)
        if found is None:
            return False
        _env, value, _derived, ag_value, _ag = found
        if not _finite(ag_value) or relative(value, np.asarray(ag_value).reshape(np.shape(value))) > VALUE_TOL:
            return False
    return True


def _confirm(comparison, name, env, derived, ag, rel, rng, mapped, scale) -> Outcome:
    """A difference at one point: again at two more points; finite differences as the referee."""
    fd = comparison.finite_differences(env, name)
    fd_derived, fd_autograd = relative(derived, fd, scale), relative(ag, fd, scale)
    again = 0
    for _ in range(2):
        found, _reason = comparison.compare_at(rng)
        if found is not None:
            env2, _, d2, _, a2 = found
            again += relative(d2[name], np.asarray(a2[name], dtype=float), gradient_scale(d2, a2)) > REL_TOL
    refereed = fd_autograd < 1e-4 and fd_derived > 1e-3
    status = "disagree" if again >= 1 or refereed else "agree"      # else: rounding at one point
    detail = (f"d/d{name}: relative difference {rel:.2e} (again at {again} of 2 more points); finite "
              f"differences vs derived {fd_derived:.1e}, vs autograd {fd_autograd:.1e}\n"
              f"  derived  = {np.array2string(derived, precision=5)}\n  autograd = {np.array2string(ag, precision=5)}")
    return Outcome(status, comparison.program, detail, tuple(comparison.variables), rel, mapped)


def _first_words(message: str) -> str:
    message = message.split(": ", 1)[-1]
    return " ".join(message.split()[:6])


def _short_traceback(e: BaseException) -> str:
    frame = traceback.extract_tb(e.__traceback__)[-1]
    return f"{type(e).__name__}: {e} [{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}]"


# ---------------------------------------------------------------------------------------------
# both checks on the derived gradient and on a mutant of it

MUTATIONS = ("transpose", "factor 2", "dropped term", "swapped operands")


def mutants(gradient: Node, decls, kind: str) -> list[tuple[str, str]]:
    """(kind, claim text) of the mutations of ``kind`` that type-check, in a fixed order."""
    out = []
    shape = gradient.shape
    if kind == "transpose":
        if shape[0] == shape[1] and shape != SCALAR:
            out.append(f"({to_text(gradient)}).T")
    elif kind == "factor 2":
        out.append(f"2 * ({to_text(gradient)})")
    else:
        for node in gradient.walk():
            if kind == "dropped term" and isinstance(node, (Add, Sub)):
                replacements = [node.left, node.right]
            elif kind == "swapped operands" and isinstance(node, (MatMul, Sub, Div, Scale, Hadamard)):
                replacements = [replace(node, left=node.right, right=node.left)]
            elif kind == "swapped operands" and isinstance(node, Call) and len(node.args) == 2:
                replacements = [replace(node, args=node.args[::-1])]
            else:
                continue
            for new in replacements:
                mutated = substitute(gradient, lambda n, target=node, new=new: new if n is target else None)
                out.append(to_text(mutated))
    valid = []
    for claim in dict.fromkeys(out):
        try:
            typed = parse_typed(claim, decls)
        except InputError:
            continue
        if typed.shape == shape:
            valid.append((kind, claim))
    return valid


@dataclass
class CheckRecord:
    kind: str             # "true" or the mutation
    claim: str
    wrt: str
    expected: str
    verdict: str
    error: str | None
    seconds: float
    program: Program
    notes: dict | None = None     # method -> detail of each check that was inconclusive

    @property
    def ok(self) -> bool:
        return self.verdict == self.expected


def _inconclusive_notes(result) -> dict:
    return {e.method: e.detail for e in result.evidence if e.outcome == "inconclusive"}


# why a mutant was passed over, not checked (counted per program: see check_program)
ZERO, EQUAL, PIECEWISE, UNEVALUATED = ("the truth is 0 at both points (every mutant of 0 is 0)",
                                       "equal to the truth at two points", "differs at one point of two",
                                       "not evaluable at a point")


def mutant_status(comparison: Comparison, wrt: str, claim: str, rng) -> str | None:
    """None when the mutant differs from the derived gradient at two random points; else why
    it is passed over: :data:`ZERO` (the gradient is 0 there, as is its mutant: sign'(x),
    ``zeros(n, n) * ...``), :data:`EQUAL` (an equivalent mutant), :data:`PIECEWISE` (equal at one
    of the points: it differs on a region only), :data:`UNEVALUATED`."""
    typed = parse_typed(claim, comparison.decls)
    hits, zero = 0, True
    for _ in range(2):
        env, _, derived = comparison.point(rng)
        if env is None:
            return UNEVALUATED
        try:
            with np.errstate(all="ignore"):
                value = _as_shape(comparison.evaluator(typed, env), derived[wrt].shape)
        except (ZeroDivisionError, ArithmeticError, ValueError, Undefined):
            return UNEVALUATED
        hits += relative(value, derived[wrt]) > 1e-6
        zero = zero and not np.any(derived[wrt])
    if hits == 2:
        return None
    return PIECEWISE if hits else (ZERO if zero else EQUAL)


def _differs(comparison: Comparison, wrt: str, claim: str, rng) -> bool:
    """The mutant differs from the derived gradient at two random points (not an equivalent mutant)."""
    return mutant_status(comparison, wrt, claim, rng) is None


# the reasons of an inconclusive check, from its evidence (numeric.py, exact.py): a few words each
INCONCLUSIVE = (
    ("non-finite or ill-conditioned", "no finite, well-conditioned draw at its sizes"),
    ("of a kink or a tie", "every draw near a kink or a tie"),
    ("on a kink or a tie", "every point on a kink or a tie"),
    ("cancellation", "float64 cancellation"),
    ("not settled at", "too close to call at 50 digits"),
    ("too wide to decide", "an interval enclosure too wide"),
)


def _inconclusive_reason(note: str) -> str:
    """A few words from the evidence of an inconclusive check (:data:`INCONCLUSIVE`); for the
    exact check without a point, what failed there: ``no point inside the domain (claim a
    comparison whose enclosure contains a tie)``."""
    found = re.search(r"no random point inside the domain: \(.*?\): (.*?) at all \d+ random points", note)
    if found:
        return f"no point inside the domain ({found.group(1)})"
    return next((words for key, words in INCONCLUSIVE if key in note), _first_words(note) or "no reason given")


def classify(check: dict) -> str:
    """Why a check's verdict is not the expected one, in a few words (the report counts them):
    ``bug: ...`` (the checker says so), ``limitation: ...`` (the time budget; one check
    inconclusive, with the reason its evidence gives; a difference below float64), ``invalid:
    ...``, ``a mutant verified`` -- or ``as expected``."""
    error = check.get("error") or ""
    if check["verdict"] == check["expected"]:
        return "as expected"
    if "this is a bug" in error:                # "internal error: DMFormatError", "the exact check says ..."
        parts = error.split(": ")
        return "bug: " + ": ".join(parts[:2] if parts[0] == "internal error" else parts[:1])[:80]
    if "time budget" in error:
        return "limitation: the time budget ran out"
    if check["verdict"] == "invalid":          # the reason without its column: "comparisons cannot be chained"
        return "invalid: " + " ".join(error.split(": ")[-1].split()[:6])
    if "only one check could decide" in error:
        which = "exact" if "exact: inconclusive" in error else "numeric"
        why = _inconclusive_reason((check.get("notes") or {}).get(which, ""))
        return f"limitation: the {which} check inconclusive ({why})"
    if "below what float64 resolves" in error:
        return "limitation: a difference below what float64 resolves"
    if check["verdict"] == "verified":
        return "a mutant verified"
    return "other: " + _first_words(error)


def claim_for(program: Program, wrt: str, kind: str, rng_seed: int = 0) -> str | None:
    """The claim of ``kind`` for ``program``: the derived gradient ("true"), or the first of its
    mutants of that kind that differs from it numerically."""
    comparison = Comparison(program)
    if wrt not in comparison.grads:
        return None
    gradient = comparison.grads[wrt]
    if kind == "true":
        return to_text(gradient)
    nprng = np.random.default_rng(rng_seed)
    for _, claim in mutants(gradient, comparison.decls, kind):
        if _differs(comparison, wrt, claim, nprng):
            return claim
    return None


def shrink_check(program: Program, record: CheckRecord, seconds: float = 10.0, budget: int = 40) -> tuple:
    """A smaller program on which check() still goes wrong the same way (same verdict, same
    first words of the error), the claim made the same way; (program, claim)."""
    from symbolic_bp import Claim, check
    signature = (record.verdict, _first_words(record.error or "")[:30])
    found = {}

    def fails(candidate: Program) -> bool:
        claim = claim_for(candidate, record.wrt, record.kind)
        if claim is None:
            return False
        r = check(Claim(candidate.shapes, candidate.text, record.wrt, claim), seconds=seconds)
        if (r.verdict, _first_words(r.error or "")[:30]) == signature:
            found[id(candidate)] = claim
            return True
        return False
    small = shrink(program, fails, budget)
    return small, found.get(id(small), record.claim)


def check_program(program: Program, index: int, seconds: float = 30.0) -> tuple[list[CheckRecord], Counter]:
    """check() on the derived gradient (expected verified) and one mutant (expected refuted);
    the second value counts the mutants passed over, by why (:func:`mutant_status`): when
    none is left, the program has no mutant checked."""
    from symbolic_bp import Claim, check
    comparison = Comparison(program)
    rng = random.Random(program.seed)
    wrt = rng.choice(comparison.variables)
    gradient = comparison.grads[wrt]
    true_text = to_text(gradient)
    records = []
    start = time.monotonic()
    r = check(Claim(program.shapes, program.text, wrt, true_text), seconds=seconds)
    records.append(CheckRecord("true", true_text, wrt, "verified", r.verdict, r.error, time.monotonic() - start,
                               program, _inconclusive_notes(r)))
    passed = Counter()
    nprng = np.random.default_rng(program.seed + 1)
    order = MUTATIONS[index % len(MUTATIONS):] + MUTATIONS[:index % len(MUTATIONS)]
    for kind in order:
        candidates = mutants(gradient, comparison.decls, kind)
        rng.shuffle(candidates)
        for kind_, claim in candidates[:4]:
            why = mutant_status(comparison, wrt, claim, nprng)
            if why is not None:
                passed[why] += 1
                continue
            start = time.monotonic()
            r = check(Claim(program.shapes, program.text, wrt, claim), seconds=seconds)
            records.append(CheckRecord(kind_, claim, wrt, "refuted", r.verdict, r.error,
                                       time.monotonic() - start, program, _inconclusive_notes(r)))
            return records, passed
    return records, passed


# ---------------------------------------------------------------------------------------------
# shrinking a failure to a minimal program

def _replace_at(e: Expr, target: Expr, new: Expr) -> Expr:
    if e is target:
        return new
    if not e.args:
        return e
    args = tuple(_replace_at(a, target, new) for a in e.args)
    return e if all(a is b for a, b in zip(args, e.args)) else replace(e, args=args)


def _candidates(program: Program, node: Expr):
    """Smaller replacements of ``node``: a descendant of the same shape, a plain symbol, 1."""
    seen = set()
    for child in node.walk():
        if child is not node and child.shape == node.shape and id(child) not in seen:
            seen.add(id(child))
            yield child, None
    if node.kind != "sym" and declarable(node.shape):
        same = [n for n, (s, p) in program.symbols.items() if s == node.shape and p is None]
        for name in same[:1]:
            yield Expr("sym", node.shape, name=name), None
        name = f"W{len(program.symbols)}"
        yield Expr("sym", node.shape, name=name), (name, (node.shape, None))
    if node.shape == SCALAR and node.kind != "num":
        yield Expr("num", SCALAR, value=Fraction(2)), None


def shrink(program: Program, fails, budget: int = 400) -> Program:
    """A smaller program for which ``fails(program)`` still holds (greedy, nodes top-down)."""
    current, tries = program, 0
    improved = True
    while improved and tries < budget:
        improved = False
        for node in list(current.cost.walk()):
            for new, declaration in _candidates(current, node):
                symbols = dict(current.symbols)
                if declaration:
                    symbols[declaration[0]] = declaration[1]
                candidate = replace(current, cost=_replace_at(current.cost, node, new), symbols=symbols)
                if candidate.cost.size() >= current.cost.size() and not declaration:
                    continue
                if (current.used() - current.data()) and not (candidate.used() - candidate.data()):
                    continue            # no continuous symbol left: nothing to differentiate
                tries += 1
                try:
                    still = fails(candidate)
                except Exception:
                    still = False
                if still:
                    current, improved = candidate, True
                    break
                if tries >= budget:
                    return current
            if improved:
                break
    return current


def failing_like(outcome: Outcome, seeds=(None,)):
    """The predicate for :func:`shrink`: the same kind of failure."""
    def fails(candidate: Program) -> bool:
        return any(compare(candidate, seed, points=2).status == outcome.status for seed in seeds)
    return fails


# ---------------------------------------------------------------------------------------------
# many programs: the figures

def run_one(seed: int, check_this: bool, check_seconds: float, shrink_checks: bool = True) -> dict:
    """Generate, compare and (optionally) check one program; a picklable record."""
    start = time.monotonic()
    program = generate(seed)
    rejected = 0
    outcome = compare(program)
    while outcome.status == "rejected" and rejected < 20:
        rejected += 1
        program = generate(seed + 1_000_000_007 * rejected)
        outcome = compare(program)
    record = {"seed": seed, "status": outcome.status, "reason": outcome.reason, "detail": outcome.detail,
              "program": program.describe(), "rejected": rejected, "features": sorted(program.features()),
              "mapped": list(outcome.mapped), "worst": outcome.worst, "checks": [], "equivalent": 0}
    if outcome.failed:
        try:
            small = shrink(program, failing_like(outcome))
            record["shrunk"] = small.describe()
        except Exception as e:       # pragma: no cover - shrinking is best effort
            record["shrunk"] = f"(shrinking failed: {e})"
    if check_this and outcome.status == "agree":
        try:
            records, passed = check_program(program, seed, check_seconds)
        except Exception as e:
            records, passed = [], Counter()
            record["check_error"] = _short_traceback(e)
        record["checks"] = [{"kind": r.kind, "claim": r.claim, "wrt": r.wrt, "expected": r.expected,
                             "verdict": r.verdict, "error": r.error, "seconds": r.seconds, "notes": r.notes}
                            for r in records]
        for c in record["checks"]:
            c["why"] = classify(c)
        equivalent = passed[EQUAL] + passed[ZERO]
        record["passed_over"] = dict(passed)
        if records and all(r.kind == "true" for r in records):
            # no mutant checked: why (no mutation type-checks, or each candidate passed over)
            record["no_mutant"] = (max(passed, key=passed.get) if passed
                                   else "no mutation type-checks")
        for r, c in zip(records, record["checks"]):
            if not r.ok and shrink_checks and "time budget" not in (r.error or ""):
                try:
                    small, claim = shrink_check(program, r)
                    c["shrunk"] = f'{small.describe()} --wrt {r.wrt} --claim "{claim}"'
                except Exception as e:       # pragma: no cover - shrinking is best effort
                    c["shrunk"] = f"(shrinking failed: {_short_traceback(e)})"
        record["equivalent"] = equivalent
    record["seconds"] = time.monotonic() - start
    return record


def _chunk(args) -> list[dict]:
    seeds, check_every, check_seconds = args
    return [run_one(s, check_every > 0 and s % check_every == 0, check_seconds) for s in seeds]


def run_many(n: int, base: int = 0, jobs: int = 1, check_every: int = 10, check_seconds: float = 30.0,
             progress=None) -> list[dict]:
    seeds = list(range(base, base + n))
    chunks = [(seeds[i:i + 20], check_every, check_seconds) for i in range(0, n, 20)]
    if jobs <= 1:
        out = []
        for c in chunks:
            out += _chunk(c)
            if progress:
                progress(len(out), n)
        return out
    from symbolic_bp.checks.budget import forked_map
    signatures()            # built once, before forking: every worker inherits the table
    done = [0]

    def report_done(item, outcome):
        done[0] += len(item[0])
        if progress:
            progress(done[0], n)
    outcomes = forked_map(_chunk, chunks, jobs, done=report_done)
    out = []
    for chunk, o in zip(chunks, outcomes):
        if o.status == "done":
            out += o.value
        else:
            out += [{"seed": s, "status": "harness error", "reason": str(o.value)[:200], "detail": str(o.value),
                     "program": "", "rejected": 0, "features": [], "mapped": [], "worst": 0.0, "checks": [],
                     "equivalent": 0, "seconds": 0.0} for s in chunk[0]]
    return out


def _reasons(write, checks: list[dict]) -> None:
    """One line: the checks not as expected, counted by :func:`classify`."""
    why = Counter(c.get("why") or classify(c) for c in checks if c["verdict"] != c["expected"])
    if why:
        write("    by reason: " + "; ".join(f"{w}: {c}" for w, c in why.most_common()))


def report(records: list[dict], seconds: float, out=sys.stdout) -> int:
    """Print the figures; 0 when nothing failed."""
    status = Counter(r["status"] for r in records)
    write = lambda line="": print(line, file=out)
    n = len(records)
    compared = status["agree"] + sum(status[s] for s in FAILURES)
    write(f"programs generated:              {n}  ({sum(r['rejected'] for r in records)} more refused by the "
          f"type pass and regenerated; {n / seconds:.1f} programs/s on {seconds:.0f} s)")
    write(f"compared with autograd:          {compared}")
    write(f"  derivatives agree:             {status['agree']}  (worst relative difference "
          f"{max((r['worst'] for r in records if r['status'] == 'agree'), default=0):.1e})")
    write(f"  derivative disagreements:      {status['disagree']}")
    write(f"  value mismatches (printers):   {status['value mismatch']}")
    write(f"  derivation errors (raised):    {status['derivation error']}")
    write(f"  autograd errors:               {status['autograd error']}")
    write(f"not compared:                    {n - compared}")
    for kind in ("undefined", "limitation", "constant", "rejected", "harness error"):
        if status[kind]:
            reasons = Counter(r["reason"] for r in records if r["status"] == kind)
            write(f"  {kind + ':':30} {status[kind]}  (" + "; ".join(f"{why}: {c}" for why, c in reasons.most_common(6)) + ")")
    mapped = Counter(m for r in records for m in r["mapped"])
    if mapped:
        write("  mapped for autograd (compared): " + ", ".join(f"{m}: {c}" for m, c in sorted(mapped.items())))
    checks = [c for r in records for c in r["checks"]]
    true = [c for c in checks if c["kind"] == "true"]
    mutant = [c for c in checks if c["kind"] != "true"]
    tv = Counter(c["verdict"] for c in true)
    mv = Counter(c["verdict"] for c in mutant)
    write(f"checks (both, via check()):      {len(checks)} claims on {len(true)} programs, "
          f"{sum(c['seconds'] for c in checks):.0f} s")
    write(f"  true gradients verified:       {tv['verified']} / {len(true)}  (not verified: "
          + ", ".join(f"{v} {c}" for v, c in tv.items() if v != "verified") + ")")
    _reasons(write, true)
    write(f"  mutants refuted:               {mv['refuted']} / {len(mutant)}  (not refuted: "
          + ", ".join(f"{v} {c}" for v, c in mv.items() if v != "refuted") + "; by mutation: "
          + ", ".join(f"{k} {sum(1 for c in mutant if c['kind'] == k and c['verdict'] == 'refuted')}/"
                      f"{sum(1 for c in mutant if c['kind'] == k)}" for k in MUTATIONS)
          + f"; {sum(r['equivalent'] for r in records)} equivalent mutants passed over)")
    _reasons(write, mutant)
    checked = [r for r in records if r["checks"]]
    without = Counter(r["no_mutant"] for r in checked if r.get("no_mutant"))
    passed = Counter()
    for r in checked:
        passed.update(r.get("passed_over", {}))
    write(f"  programs without a mutant:     {sum(without.values())} of {len(checked)}  ("
          + "; ".join(f"{why}: {c}" for why, c in without.most_common()) + "); candidates passed over: "
          + "; ".join(f"{why}: {c}" for why, c in passed.most_common()))
    for c in checks:
        if c["verdict"] != c["expected"]:
            write(f"    {c['kind']}: {c['verdict']} (expected {c['expected']}) d/d{c['wrt']} = {c['claim'][:100]}"
                  f"  -- {(c['error'] or '')[:160]}")
            write(f"      why: {c.get('why') or classify(c)}")
            if c.get("shrunk"):
                write(f"      shrunk: {c['shrunk']}")
    coverage = Counter(f for r in records if r["status"] == "agree" for f in r["features"])
    names = ([f"op {n}" for n in sorted(registry.OPERATIONS)] + [f"macro {n}" for n in sorted(registry.MACROS)]
             + [f"fn {n}" for n in sorted(registry.ELEMENTWISE)])
    missing = [n for n in names if not coverage[n]]
    write(f"registry coverage (compared programs using each entry): min "
          f"{min(coverage[n] for n in names)}, median {sorted(coverage[n] for n in names)[len(names) // 2]}"
          + (f"; never: {', '.join(missing)}" if missing else "; every entry covered"))
    write("  " + ", ".join(f"{n.split(' ', 1)[1]} {coverage[n]}" for n in names))
    others = sorted((f, c) for f, c in coverage.items() if f not in names)
    write("  other features: " + ", ".join(f"{f} {c}" for f, c in others))
    failures = [r for r in records if r["status"] in FAILURES or r["status"] == "harness error"
                or r.get("check_error")]
    for r in failures[:30]:
        write(f"FAILURE {r['status']} (seed {r['seed']}): {r['program']}")
        write(f"  {r['detail'] or r.get('check_error', '')}")
        if r.get("shrunk"):
            write(f"  shrunk: {r['shrunk']}")
    bad_checks = sum(1 for c in checks if c["verdict"] != c["expected"])
    return 1 if failures or bad_checks else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.difftest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="programs to generate")
    parser.add_argument("--seed", type=int, default=0, help="the first program's seed")
    parser.add_argument("--jobs", "-j", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--check-every", type=int, default=10,
                        help="run both checks on every K-th program (0: never)")
    parser.add_argument("--check-seconds", type=float, default=30.0, help="time budget of each check")
    parser.add_argument("--json", help="write every record to this file")
    args = parser.parse_args(argv)
    import os
    warnings.simplefilter("ignore", RuntimeWarning)       # NumPy's notes on the draws, in every worker
    jobs = args.jobs or os.cpu_count() or 1
    start = time.monotonic()

    def progress(done, total):
        if sys.stderr.isatty():
            print(f"\r{done}/{total} programs, {time.monotonic() - start:.0f} s", end="", file=sys.stderr)
    records = run_many(args.n, args.seed, jobs, args.check_every, args.check_seconds, progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if args.json:
        import json
        with open(args.json, "w") as f:
            json.dump(records, f, indent=1, default=str)
    return report(records, time.monotonic() - start)


if __name__ == "__main__":
    sys.exit(main())
