"""Explicit symbolic matrices: the exact route of the index-notation proofs.

Every symbol becomes a SymPy matrix of independent symbols (``A[1,2]``; a
symmetric matrix shares ``S[i,j]`` and ``S[j,i]``), the cost is expanded into
one scalar and differentiated entry by entry with scalar calculus, and a
difference is decided by :func:`zero_test`.  It costs exponentially in the
sizes, so the exact check itself (:mod:`symbolic_bp.checks.exact`) uses dual
numbers instead; :mod:`symbolic_bp.rendering.proof` checks each printed line
of a proof this way, symbolically for all values, and the counterexample
search uses :func:`zero_test` on exact values.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

from ..calculus.evaluate import Evaluator, ExactBackend
from ..core.elementwise import Opaque
from ..language.shapes import concrete
from .claim import Prepared
from .sampling import drawn_property, rational_matrix


def symbol_matrix(name: str, shape: tuple[int, int], prop: str | None, symmetric_entries: bool = True):
    """An explicit matrix of symbols named like ``A[1,2]`` (1-based)."""
    rows, cols = shape
    if prop == "scalar":
        return sp.Matrix([[sp.Symbol(name)]])
    shared = prop in ("symmetric", "spd") and symmetric_entries

    def entry(i, j):
        if shared and i > j:
            i, j = j, i
        return sp.Symbol(f"{name}[{i + 1}]" if cols == 1 else f"{name}[{i + 1},{j + 1}]")
    return sp.Matrix(rows, cols, entry)


# Above this many scalar unknowns at one size, only the differentiated matrix
# keeps symbolic entries and the other symbols get exact random rationals.
SYMBOLIC_LIMIT = 30


def unknowns(prep: Prepared, sizes: dict[str, int]) -> int:
    """Scalar entries of the symbols the cost and the claim use, at ``sizes``."""
    return sum(r * c for r, c in (concrete(prep.decls.symbols[u].shape, sizes) for u in prep.used_symbols))


@dataclass
class ExactTruth:
    """Everything evaluated exactly at one size assignment."""

    sizes: dict
    env: dict                   # symbol name -> sympy Matrix (symmetric where declared)
    true: sp.Matrix             # entrywise derivative of the cost
    hybrid: bool = False        # other symbols at random rationals, wrt symbolic


def exact_truth(prep: Prepared, sizes: dict[str, int], rng: random.Random | None = None) -> ExactTruth:
    """Explicit matrices at ``sizes`` and dC/dX_ij by scalar calculus.

    With ``rng``, every symbol but the variable gets exact random rationals
    (a Schwartz-Zippel draw); without, all entries are symbols."""
    env = {name: (symbol_matrix(name, concrete(sym.shape, sizes), "scalar" if sym.scalar else sym.prop)
                  if rng is None or name == prep.wrt
                  else rational_matrix(rng, concrete(sym.shape, sizes), drawn_property(sym)))
           for name, sym in prep.decls.symbols.items()}
    sym = prep.decls.symbols[prep.wrt]
    # the wrt matrix gets independent entries (unstructured gradient), which
    # are identified again after differentiation when it is symmetric
    free = symbol_matrix(prep.wrt, concrete(sym.shape, sizes), "scalar" if sym.scalar else sym.prop,
                         symmetric_entries=False)
    cost_env = dict(env, **{prep.wrt: free})
    # expanded once, the cost is cheap to differentiate entry by entry
    cost = sp.expand(Evaluator(ExactBackend(), sizes)(prep.cost, cost_env)[0, 0])
    if nowhere_defined(cost):
        raise ZeroDivisionError("the cost has no finite value at random points: a determinant or divisor "
                                "that is identically 0 at these sizes")
    back = {f: s for f, s in zip(free, env[prep.wrt]) if f != s}
    true = free.applyfunc(lambda x: sp.diff(cost, x).xreplace(back) if back else sp.diff(cost, x))
    return ExactTruth(sizes, env, true, hybrid=rng is not None)


def evaluate_exact(node, sizes, env, shape) -> sp.Matrix:
    """Evaluate ``node`` exactly, broadcasting a scalar to ``shape``."""
    value = Evaluator(ExactBackend(), sizes)(node, env)
    if value.shape != shape and value.shape == (1, 1):
        value = sp.Matrix(shape[0], shape[1], lambda i, j: value[0, 0])
    return value


def _polynomial(expr) -> bool:
    """No division, no roots, no functions but opaque ones."""
    if any(not (p.exp.is_Integer and p.exp > 0) for p in expr.atoms(sp.Pow)):
        return False
    return all(isinstance(f, Opaque) for f in expr.atoms(sp.Function))


EXPANDED = "exact expansion"
RATIONAL = "exact evaluation at random rational points (Schwartz-Zippel)"
DIGITS = "40-digit evaluation at random rational points"


def zero_test(expr, rng: random.Random) -> tuple[bool | None, str]:
    """Is ``expr`` identically zero?  Returns (answer, how it was decided).

    Polynomials in symbols and opaque atoms are expanded: the answer is
    certain.  Rational functions are evaluated exactly at two random rational
    points (a nonzero value proves a difference; two zeros make equality
    overwhelmingly likely, Schwartz-Zippel).  Expressions with known
    transcendental functions are evaluated to 40 digits at such points.
    """
    if _polynomial(expr):
        return sp.expand(expr) == 0, EXPANDED
    how = RATIONAL
    for _ in range(2):
        value = None
        for _retry in range(5):
            value = probe(expr, rng)
            if value is not None:
                break
        if value is None:
            return None, "the difference could not be evaluated at random points"
        if not value.is_Rational:
            how = DIGITS
            if abs(complex(value)) > 1e-25:
                return False, how
        elif value != 0:
            return False, how
    return True, how


def nowhere_defined(expr, tries: int = 3) -> bool:
    """No finite value at ``tries`` random rational points: ``expr`` divides
    by something identically 0 (the inverse of X.T @ X with fewer rows than
    columns), not by chance."""
    if expr.has(sp.zoo, sp.nan):
        return True
    rng = random.Random(0)
    return all(probe(expr, rng) is None for _ in range(tries))


def probe(expr, rng: random.Random):
    """``expr`` at random rationals for its symbols and for each opaque-function
    atom: an exact Rational, a 40-digit Float when transcendental functions
    remain, or None when undefined there (a pole)."""
    def r():
        return sp.Rational(rng.randint(-999, 999), rng.randint(1, 999))
    e = expr.xreplace({s: r() for s in expr.free_symbols})
    e = e.xreplace({a: r() for a in e.atoms(Opaque)})
    if e.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return None
    if e.is_Rational:
        return e
    try:
        try:                    # most values evaluate as they are; rewriting tanh, sigmoid ... in exp is slower
            value = sp.N(e, 40)
            number = complex(value)
        except TypeError:
            value = sp.N(e.rewrite(sp.exp), 40)
            number = complex(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if number != number or abs(number) == float("inf"):
        return None
    return value
