"""Index-notation proofs of gradient claims, every line checked before use.

The proof is the one the post does by hand, for all dimensions at once:

1. write the cost as a sum over indices, ``C = sum_{i,j} y_i a_ij x_j``
   (entries of products, transposes, Hadamard products, elementwise
   functions);
2. differentiate with respect to the entry ``a_cd`` (linearity, product rule,
   chain rule through elementwise functions);
3. replace ``da_ij/da_cd`` by ``delta_ic delta_jd``;
4. contract the Kronecker deltas (``sum_i delta_ic f_i = f_c``);
5. rename summed indices and collect equal terms;
6. reassemble the entry ``(c,d)`` into matrix form (``(u v^T)_cd = u_c v_d``,
   ``(XY)_cd = sum_k X_ck Y_kd``, ``(u . v)_k = u_k v_k``);
7. rearrange into the claim as written (associativity, distributivity,
   ``(XY)^T = Y^T X^T``).

Every line is then *checked*: both of its sides are evaluated on explicit
symbolic matrices (:func:`symbolic_bp.checks.symbolic.exact_truth`, whose gradient comes
from scalar calculus on the expanded cost -- a route that shares nothing with
this module) at two size assignments with all dimensions distinct, and
compared: polynomial entries exactly (expanded), the others (quotients,
powers, exp, tanh ...) at random rational points -- exactly where they are
rational functions, to 40 digits where transcendental functions occur.  Only a :class:`CheckedProof` can be printed; a line the
check rejects turns the whole proof into a :class:`NoProof` with the reason.

Steps 1-5 work in index notation (:mod:`symbolic_bp.rendering.index_form`),
steps 6-7 in matrix form (:mod:`symbolic_bp.rendering.matrix_form`); this
module assembles the lines and checks them.

>>> from symbolic_bp.checks.claim import Claim
>>> p = index_proof(Claim(shapes="A:m,n x:n y:m", cost="y.T @ A @ x", wrt="A", claim="y @ x.T"))
>>> type(p).__name__, [line.rule for line in p.lines][:2]
('CheckedProof', ['the cost', 'entries of products and transposes'])
>>> index_proof(Claim(shapes="A:n,n", cost="det(A)", wrt="A", claim="det(A) * inv(A).T")).reason
'det(...) has no index form (the index prover writes the cost entry by entry)'
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp

from ..calculus.evaluate import Evaluator, ExactBackend
from ..checks.budget import PROOF_SECONDS, run_with_budget
from ..checks.claim import Claim, Prepared, prepare
from ..checks.symbolic import SYMBOLIC_LIMIT, exact_truth, unknowns, zero_test
from ..checks.sizes import exact_sizes, show_sizes
from ..core import elementwise
from ..core.elementwise import Opaque
from ..core.dims import ONE, is_scalar
from ..core.expression import Apply, Broadcast, Call, Div, Hadamard, Node, Num, Pow
from ..errors import InputError
from ..language.printer import to_text
from ..language.shapes import Typer
from .index_form import (
    ENTRYWISE_INDEX, MAX_TERMS, Delta, Element, Func, IndexForm, Partial, Power, Size, Term, Unsupported, _indices, collect,
    contract, differentiate, kronecker, same_entries,
)
from .matrix_form import known_derivatives, reassemble, rearrangement_rule

__all__ = ["index_proof", "build", "CheckedProof", "NoProof", "Unsupported", "Line", "PROOF_SECONDS",
           # the index-notation objects, the steps and the rearrangement, for the printer and the tests
           "Element", "Partial", "Delta", "Func", "Power", "Size", "Term", "IndexForm", "differentiate", "kronecker", "contract",
           "collect", "reassemble", "rearrangement_rule", "known_derivatives"]



# -- lines and their check -------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One line of a proof: ``lhs = body`` by ``rule``.

    ``lhs`` is "C" (the cost), "entry" (dC/dW_cd) or "matrix" (dC/dW); ``body``
    is a list of terms (index notation) or a typed tree; ``entry`` says the
    tree is read at the entry (c, d)."""

    lhs: str
    body: object
    rule: str
    entry: bool = False


@dataclass(frozen=True)
class CheckedProof:
    """A proof every line of which passed the check.  Made only by :func:`build`."""

    claim: Claim
    lines: tuple
    free: tuple                  # the free indices (row, col) of the gradient entry
    ranges: dict
    checked_at: tuple            # size assignments of the check
    hybrid: bool = False         # non-variable symbols were exact random rationals

    @property
    def evidence(self) -> str:
        where = " and ".join(f"({show_sizes(s)})" for s in self.checked_at)
        mode = ("explicit matrices (the variable symbolic, the other symbols exact random rationals)"
                if self.hybrid else "explicit symbolic matrices")
        return (f"Every line was checked by symbolic_bp before printing: both sides evaluated on {mode} "
                f"at {where} and compared exactly with the cost and with its entrywise derivative "
                "(entries that are not polynomials: at random rational points, to 40 digits where exp, log, "
                "tanh ... occur).")


@dataclass(frozen=True)
class NoProof:
    """Why no index proof is given."""

    reason: str


class _Checker:
    """Evaluate lines at explicit matrices and compare with the truth."""

    def __init__(self, prep: Prepared, ranges: dict, seed: int):
        self.prep, self.ranges = prep, ranges
        rng = random.Random(seed)
        self.sizes = exact_sizes(prep.decls.dims)
        self.hybrid = any(unknowns(prep, s) > SYMBOLIC_LIMIT for s in self.sizes)
        self.truths = [exact_truth(prep, s, rng if unknowns(prep, s) > SYMBOLIC_LIMIT else None) for s in self.sizes]
        self.costs = [Evaluator(ExactBackend(), t.sizes)(prep.cost, t.env)[0, 0] for t in self.truths]
        self.rng = rng

    def size(self, index: str, sizes: dict) -> int:
        return self.ranges[index].value(sizes)

    def tensor(self, terms, free: tuple, truth) -> np.ndarray:
        """The sum of terms as an array over the free indices (object dtype)."""
        shape = tuple(self.size(i, truth.sizes) for i in free)
        total = np.full(shape, sp.Integer(0), dtype=object)
        for t in terms:
            total = total + self.term(t, free, truth)
        return total

    def term(self, t: Term, free: tuple, truth) -> np.ndarray:
        letters: dict = {}

        def letter(i: str) -> str:
            return letters.setdefault(i, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(letters)])
        specs, operands = [], []
        constant = sp.Integer(1)
        for f in t.factors:
            value, idx = self.factor(f, truth)
            if not idx:                   # a 1x1 factor (a scalar's entry, a size): into the coefficient
                constant *= np.asarray(value, dtype=object).reshape(()).item()
                continue
            operands.append(value)
            specs.append("".join(letter(i) for i in idx))
        for i in free:
            if i not in letters:          # a term constant along a free index
                operands.append(np.full(self.size(i, truth.sizes), sp.Integer(1), dtype=object))
                specs.append(letter(i))
        if any(s not in letters for s in t.summed):
            # a sum of something constant in the index: a factor of a dimension
            raise Unsupported("a sum over an index that no factor carries (a factor of a dimension)")
        coef = sp.Rational(t.coef.numerator, t.coef.denominator) * constant
        if not operands:
            return np.array(coef, dtype=object)
        equation = ",".join(specs) + "->" + "".join(letters[i] for i in free)
        try:
            value = np.einsum(equation, *operands, optimize="greedy")
        except (AttributeError, TypeError):
            # NumPy's optimised path can leave a 0-d object intermediate as a bare SymPy number
            value = np.einsum(equation, *operands, optimize=False)
        return np.asarray(value, dtype=object) * coef

    def factor(self, f, truth):
        idx = _indices(f)
        if isinstance(f, Size):
            return np.array(sp.Integer(f.dim.value(truth.sizes)), dtype=object), idx
        if isinstance(f, Element):
            m = truth.env[f.name]
            rows = [k for k, i in enumerate(f.idx) if i is not None]
            arr = np.array(m.tolist(), dtype=object)
            if len(rows) == 2:
                return arr, idx
            if len(rows) == 1:
                return (arr[:, 0] if rows[0] == 0 else arr[0, :]), idx
            return np.array(arr[0, 0], dtype=object), idx
        if isinstance(f, (Delta, Partial)):
            # d a_ij / d a_cd = 1 exactly when (i,j) = (c,d): the identity tensor
            sizes = [self.size(i, truth.sizes) for i in idx]
            arr = np.empty(sizes, dtype=object)
            half = len(idx) // 2
            for pos in np.ndindex(*sizes):
                arr[pos] = sp.Integer(1 if pos[:half] == pos[half:] else 0)
            return arr, idx
        # [f(M)]_idx = f(M_idx), M evaluated from the index form of the argument
        placeholders = tuple(p for p in f.holes if p is not None)
        arg = self.tensor(list(f.arg), placeholders, truth)
        if isinstance(f, Power):
            p = sp.Rational(f.exponent.numerator, f.exponent.denominator)
            return np.vectorize(lambda t: sp.expand(t) ** p, otypes=[object])(arg), idx
        fn = elementwise.exact(f.name, f.order)
        return np.vectorize(lambda t: fn(sp.expand(t)), otypes=[object])(arg), idx

    def same(self, a, b) -> bool:
        a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
        if a.shape != b.shape:
            return False
        left, right = [sp.sympify(x) for x in a.flat], [sp.sympify(y) for y in b.flat]
        # polynomial entries are expanded (certain, for all values); the others -- rational
        # functions, exp, tanh ... -- are compared at random points, each shared subexpression
        # evaluated once (sympy's evalf of every entry separately takes minutes)
        exact = [k for k, (x, y) in enumerate(zip(left, right)) if _polynomial(x) and _polynomial(y)]
        if not all(zero_test(left[k] - right[k], self.rng)[0] is True for k in exact):
            return False
        rest = [k for k in range(len(left)) if k not in set(exact)]
        if not rest:
            return True
        fast = same_at_points([left[k] for k in rest], [right[k] for k in rest], self.rng)
        if fast is not None:
            return fast
        return all(zero_test(left[k] - right[k], self.rng)[0] is True for k in rest)

    def truth_tensor(self, truth, free) -> np.ndarray:
        arr = np.array(truth.true.tolist(), dtype=object)
        keep = [k for k, i in enumerate(free) if i is not None]
        if len(keep) == 2:
            return arr
        if len(keep) == 1:
            return arr[:, 0] if keep[0] == 0 else arr[0, :]
        return np.array(arr[0, 0], dtype=object)

    def check(self, line: Line, free: tuple) -> bool:
        present = tuple(i for i in free if i is not None)
        for truth, cost in zip(self.truths, self.costs):
            if isinstance(line.body, list):
                value = self.tensor(line.body, present if line.lhs != "C" else (), truth)
            else:
                m = Evaluator(ExactBackend(), truth.sizes)(line.body, truth.env)
                value = np.array(m.tolist(), dtype=object)
                if line.lhs == "C":
                    value = value[0, 0]
                else:
                    value = self.truth_shape(value, free)
            want = np.array(cost, dtype=object) if line.lhs == "C" else self.truth_tensor(truth, free)
            if not self.same(value, want):
                return False
        return True

    def truth_shape(self, value, free):
        keep = [k for k, i in enumerate(free) if i is not None]
        if len(keep) == 2:
            return value
        if len(keep) == 1:
            return value[:, 0] if keep[0] == 0 else value[0, :]
        return value[0, 0]


def _rules_of_form(cost: Node) -> str:
    nodes = list(cost.walk())
    rules = ["entries of products and transposes"]
    if any(isinstance(n, Hadamard) for n in nodes):
        rules.append("entries of Hadamard products")
    if any(isinstance(n, Broadcast) and not is_scalar(n.arg.shape) for n in nodes):
        rules.append("entries of broadcast rows and columns")
    if any(isinstance(n, Call) and n.name in ("divide", "power") or isinstance(n, Div) and not isinstance(n.right, Num)
           or isinstance(n, Pow) for n in nodes):
        rules.append("entries of quotients and powers")
    if any(isinstance(n, Apply) for n in nodes):
        rules.append("elementwise functions act entry by entry")
    if any(isinstance(n, Call) and n.name not in ENTRYWISE_INDEX for n in nodes):
        rules.append("sum and trace as sums of entries")
    return ", ".join(rules)


def _typed(tree: Node, prep: Prepared) -> Node:
    """A reassembled tree typed as the derivation passes type theirs: 2-D
    throughout (the transpose of a row that NumPy would hold as 1-D is a column)."""
    try:
        return Typer(prep.decls, numpy_rules=False)(tree)
    except InputError as e:
        raise Unsupported(f"the reassembled gradient does not type ({e})") from None


def build(prep: Prepared, seed: int = 0, check_line=None) -> CheckedProof | NoProof:
    """The index proof of a prepared claim, every line checked (no budget:
    see :func:`index_proof`).  ``check_line(line) -> bool`` replaces the check
    (tests use it to show that a rejected line is never printed)."""
    try:
        return _build(prep, seed, check_line)
    except Unsupported as e:
        return NoProof(str(e))
    except RecursionError:
        return NoProof("the expression is nested too deeply for the index prover")


def _build(prep: Prepared, seed: int, check_line) -> CheckedProof | NoProof:
    ranges: dict = {}
    form = IndexForm(ranges)
    shape = prep.wrt_shape
    r = "c" if shape[0] != ONE else None
    c = "d" if shape[1] != ONE else None
    for name, dim in (("c", shape[0]), ("d", shape[1])):
        ranges[name] = dim
    free = (r, c)
    wrt_idx = free

    lines = [Line("C", prep.cost, "the cost")]
    cost_terms = form(prep.cost, None, None)
    lines.append(Line("C", cost_terms, _rules_of_form(prep.cost)))
    partial, rules = differentiate(cost_terms, prep.wrt, wrt_idx, form)
    order = ["linearity", "product rule", "chain rule", "power rule"]
    lines.append(Line("entry", partial, "differentiate: " + ", ".join(r_ for r_ in order if r_ in rules)))
    deltas = kronecker(partial)
    lines.append(Line("entry", deltas, "derivative of an entry"))
    contracted = contract(deltas)
    lines.append(Line("entry", contracted, "Kronecker contraction"))
    collected = collect(contracted)
    if collected != contracted:
        lines.append(Line("entry", collected, "rename summed indices, collect equal terms"))
    if len(collected) > MAX_TERMS:
        raise Unsupported(f"the gradient has more than {MAX_TERMS} terms in index form")
    matrix = _typed(reassemble(collected, ranges, r, c), prep)
    lines.append(Line("entry", matrix, "reassemble into matrix form", entry=True))
    lines.append(Line("matrix", matrix, "holds for every entry, at every size"))
    if to_text(matrix) != to_text(prep.claim) and rearrangement_rule(matrix, prep.claim) is None:
        closed, used = known_derivatives(matrix)
        if used:
            matrix = _typed(closed, prep)
            lines.append(Line("matrix", matrix, "derivatives of known functions: " + ", ".join(used)))
    if to_text(matrix) != to_text(prep.claim):
        rule = rearrangement_rule(matrix, prep.claim)
        if rule is None and same_entries(matrix, prep.claim, ranges, r, c):
            rule = "the same entries in index notation"
        if rule is None:
            # the reassembled gradient is not shown: it was not checked (checking every line of a
            # proof that cannot be completed would cost its whole budget)
            reason = ("the index proof reaches a matrix form of the gradient that it cannot rearrange into the "
                      "claim as written")
            data = [f"{n}:{sym.prop}" for n, sym in prep.decls.symbols.items()
                    if sym.prop in ("onehot", "binary", "positive") and n in prep.used_symbols]
            if data:
                reason += (f" (the claim may rest on the declared propert{'ies' if len(data) > 1 else 'y'} "
                           f"{', '.join(data)}, which the index prover does not use)")
            raise Unsupported(reason)
        lines.append(Line("matrix", prep.claim, rule))

    checker = _Checker(prep, ranges, seed)
    for number, line in enumerate(lines[1:], start=2):
        ok = check_line(line) if check_line is not None else checker.check(line, free)
        if not ok:
            return NoProof(f"line {number} ({line.rule}) did not pass the check, so no proof is printed")
    return CheckedProof(prep.source, tuple(lines), free, dict(ranges), tuple(checker.sizes), checker.hybrid)


def index_proof(claim: Claim, *, seed: int = 0, seconds: float = PROOF_SECONDS) -> CheckedProof | NoProof:
    """The checked index proof of ``claim``, or why there is none.

    Runs in a forked worker under ``seconds``; never raises on bad input."""
    if not isinstance(claim, Claim):
        raise TypeError(f"index_proof needs a Claim, got {type(claim).__name__}")
    try:
        prep = prepare(claim)
    except InputError as e:
        return NoProof(f"invalid claim: {e}")
    outcome = run_with_budget(lambda progress: build(prep, claim.seed(seed)), seconds=seconds)
    if outcome.status != "done":
        reason = {"timeout": f"the time budget of {seconds:g} s ran out while checking the proof",
                  "memory": "the memory cap was hit while checking the proof"}.get(
            outcome.status, f"the proof could not be built ({outcome.status}: {outcome.value})")
        return NoProof(reason)
    result = outcome.value
    assert isinstance(result, (CheckedProof, NoProof)), result
    return result


# -- a fast comparison of the two sides of a line ------------------------------------------------

class _Unknown(Exception):
    """A node the point evaluator does not know: the line falls back to zero_test."""


class _Undefined(Exception):
    """A pole or a logarithm of 0 at the point: another point is drawn."""


_MP_FUNCTIONS = {"exp": "exp", "log": "log", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "sin": "sin",
                 "cos": "cos", "tan": "tan"}
_DIGITS = 60
# the piecewise functions of the registry (core.elementwise), exact on Fractions
_PIECEWISE = {"Abs": abs, "Relu": lambda x: x if x > 0 else 0 * x, "Relu_prime": lambda x: 1 if x > 0 else 0,
              "Sign": lambda x: 1 if x > 0 else -1}


class _Point:
    """Values of SymPy expressions at one random point: exact (Fractions) while
    only rational operations occur, else mpmath numbers at 60 digits; each
    distinct subexpression is evaluated once (the entries of a line share
    most of theirs)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.values: dict = {}
        self.cache: dict = {}

    def random(self) -> Fraction:
        return Fraction(self.rng.randint(-999, 999), self.rng.randint(1, 999))

    def __call__(self, e):
        key = id(e)
        hit = self.cache.get(key)
        if hit is not None and hit[0] is e:
            return hit[1]
        value = self._value(e)
        self.cache[key] = (e, value)
        return value

    def _value(self, e):
        if e.is_Integer or e.is_Rational:
            return Fraction(int(e.p), int(e.q))
        if e.is_Symbol or isinstance(e, Opaque):
            if e not in self.values:                    # a symbol, or an opaque f(u) as one unknown
                self.values[e] = self.random()
            return self.values[e]
        if e.is_Float:
            return mpmath.mpf(e._mpf_)
        if e.is_Add:
            return _add([self(a) for a in e.args])
        if e.is_Mul:
            return _mul([self(a) for a in e.args])
        if e.is_Pow:
            base, exponent = self(e.base), self(e.exp)
            if isinstance(exponent, Fraction) and exponent.denominator == 1 and isinstance(base, Fraction):
                if base == 0 and exponent < 0:
                    raise _Undefined
                return base ** int(exponent)
            base, exponent = _mp(base), _mp(exponent)
            if base == 0:
                raise _Undefined
            return mpmath.power(base, exponent)
        name = getattr(type(e), "__name__", "")
        if name in _MP_FUNCTIONS and len(e.args) == 1:
            x = _mp(self(e.args[0]))
            if name == "log" and x == 0:
                raise _Undefined
            return getattr(mpmath, _MP_FUNCTIONS[name])(x)
        if name in _PIECEWISE and len(e.args) == 1:
            x = self(e.args[0])
            if isinstance(x, mpmath.mpc):
                raise _Unknown(name)
            if x == 0 and name in ("Relu_prime", "Sign"):
                raise _Undefined                            # a kink: another point
            return _PIECEWISE[name](x)
        if name in ("Sigmoid", "Softplus") and len(e.args) == 1:
            x = _mp(self(e.args[0]))
            return 1 / (1 + mpmath.exp(-x)) if name == "Sigmoid" else mpmath.log(1 + mpmath.exp(x))
        raise _Unknown(name)


def _mp(v):
    return mpmath.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else v


def _add(values):
    if all(isinstance(v, Fraction) for v in values):
        return sum(values, Fraction(0))
    return mpmath.fsum([_mp(v) for v in values])


def _mul(values):
    if all(isinstance(v, Fraction) for v in values):
        out = Fraction(1)
        for v in values:
            out *= v
        return out
    out = mpmath.mpf(1)
    for v in values:
        out *= _mp(v)
    return out


def _equal(x, y) -> bool:
    if isinstance(x, Fraction) and isinstance(y, Fraction):
        return x == y
    x, y = _mp(x), _mp(y)
    return abs(x - y) <= mpmath.mpf(10) ** (-40) * max(1, abs(x), abs(y))


def _polynomial(e) -> bool:
    """A polynomial in symbols and opaque function values (what zero_test expands)."""
    if any(not isinstance(f, Opaque) for f in e.atoms(sp.Function)):
        return False
    return all(p.exp.is_Integer and p.exp > 0 for p in e.atoms(sp.Pow))


def same_at_points(left: list, right: list, rng: random.Random, points: int = 2) -> bool | None:
    """Whether the SymPy expressions ``left[k]`` and ``right[k]`` agree at
    ``points`` random rational points (exactly where they are rational
    functions, to 40 digits where transcendental functions occur); None when
    they hold a node the evaluator does not know, or no point is defined."""
    agreed = 0
    with mpmath.workdps(_DIGITS):
        for _attempt in range(points + 5):
            point = _Point(rng)
            try:
                for x, y in zip(left, right):
                    if not _equal(point(x), point(y)):
                        return False
            except _Undefined:
                continue
            except (_Unknown, RecursionError, ZeroDivisionError, ValueError, TypeError):
                return None
            agreed += 1
            if agreed == points:
                return True
    return None
