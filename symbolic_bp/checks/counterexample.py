"""Small counterexamples: the smallest sizes and small integers that show a
claim is wrong, with the differing entry, its claimed and its true value.

Sizes are tried smallest first (every dimension in 1..3); at each, a few
draws of small nonzero integers (respecting symmetric / spd / invertible,
in 1..3 where declared positive or where log is used, 0/1 for one-hot and
binary data: :mod:`symbolic_bp.checks.sampling`).  A draw on a kink or a tie
of the cost or the claim (relu at 0, a tie of a comparison: frequent with
small integers) is drawn again: the derivative there is a convention.  The true value comes from exact forward-mode
differentiation at that point (:func:`symbolic_bp.checks.exact.values_at`:
dual numbers over exact rationals, known and opaque functions kept symbolic),
never from the derived gradient, and equality is decided exactly.
"""
from __future__ import annotations

import random
import time

import sympy as sp

from .claim import Prepared
from .dual import Undefined
from .exact import on_kink, values_at
from .kinks import kink_names
from .symbolic import zero_test
from ..core.elementwise import Opaque
from .result import Counterexample
from .sampling import drawn_property, integer_matrix, is_discrete, positive_symbols
from ..language.shapes import concrete, is_scalar
from .sizes import smallest_sizes

DRAWS_PER_SIZE = 4
ATTEMPTS_PER_SIZE = 16      # draws tried at a size, counting those on a kink


def _values(env: dict, used: set[str]) -> dict:
    return {name: [[int(v) for v in m.row(i)] for i in range(m.rows)] for name, m in env.items() if name in used}


def _draw(prep: Prepared, sizes, rng, positive):
    """Small integers for every symbol, or None when a draw came out singular
    where an invertible matrix is declared (see :func:`integer_matrix`)."""
    env = {}
    for name, sym in prep.decls.symbols.items():
        m = integer_matrix(rng, concrete(sym.shape, sizes), drawn_property(sym), name in positive)
        if m is None:
            return None
        env[name] = m
    return env


def find_counterexample(prep: Prepared, seed: int, seconds: float = 5.0) -> Counterexample | None:
    """The first (sizes, values) at which claim and truth differ, or None.

    A second, longer pass runs where the first found none in its few draws
    per size (a claim without dimensions has one size only, and a positive
    scalar drawn as 1 can hide p against 1/p)."""
    deadline = time.monotonic() + seconds
    for draws in (DRAWS_PER_SIZE, 4 * DRAWS_PER_SIZE):
        found = _search(prep, seed + (draws != DRAWS_PER_SIZE), deadline, draws)
        if found is not None or time.monotonic() > deadline:
            return found
    return None


def _search(prep: Prepared, seed: int, deadline: float, draws: int) -> Counterexample | None:
    rng = random.Random(seed)
    positive = positive_symbols(prep.cost, prep.claim)
    used = prep.used_symbols
    functions, operations = kink_names(prep.cost, prep.claim)
    data = frozenset(name for name, sym in prep.decls.symbols.items() if is_discrete(sym.prop))
    for sizes in smallest_sizes(prep.decls.dims):
        if time.monotonic() > deadline:
            return None
        want = concrete(prep.wrt_shape, sizes)
        got = concrete(prep.claim.shape, sizes)
        if got != want and not is_scalar(prep.claim.shape):
            env = None
            while env is None:
                env = _draw(prep, sizes, rng, positive)
            return Counterexample(dict(sizes), _values(env, used), None,
                                  f"a {got[0]}x{got[1]} matrix", f"a {want[0]}x{want[1]} matrix (the shape of {prep.wrt})")
        drawn = 0
        for _ in range(ATTEMPTS_PER_SIZE * draws // DRAWS_PER_SIZE):
            if drawn == draws:
                break
            env = _draw(prep, sizes, rng, positive)
            if env is None:
                drawn += 1
                continue
            if (functions or operations) and on_kink(prep, sizes, {k: m.tolist() for k, m in env.items()}, data):
                continue          # on a kink or a tie: drawn again, not counted
            drawn += 1
            try:
                true, claimed = values_at(prep, sizes, env)
            except (ZeroDivisionError, Undefined):
                continue
            if true.has(sp.zoo, sp.nan, sp.oo) or claimed.has(sp.zoo, sp.nan, sp.oo):
                continue
            for index in range(true.rows * true.cols):
                i, j = divmod(index, true.cols)
                if _clearly_equal(claimed[i, j], true[i, j]):
                    continue      # equal to 30 digits: the exact zero test (seconds on a nested tanh) is spared
                same, _ = zero_test(claimed[i, j] - true[i, j], rng)
                if same is False:
                    return Counterexample(dict(sizes), _values(env, used), [i + 1, j + 1],
                                          show_value(claimed[i, j]), show_value(true[i, j]))
    return None


def _approximate(value) -> complex | None:
    """``value`` (a number without symbols) to 30 digits, by mpmath; None
    where it cannot be evaluated that way (an opaque function)."""
    import mpmath
    if value.free_symbols or value.atoms(Opaque):
        return None
    try:
        with mpmath.workdps(30):
            return complex(sp.lambdify([], value, modules="mpmath")())
    except Exception:           # noqa: BLE001 - any failure: fall back to the exact zero test
        return None


def _clearly_equal(claimed, true) -> bool:
    """Claimed and true agree to 25 digits (a screen only: a difference is
    always confirmed by :func:`zero_test`, equality at a point decides nothing)."""
    a, b = _approximate(claimed), _approximate(true)
    return a is not None and b is not None and abs(a - b) <= 1e-25 * max(1.0, abs(b))


MAX_SHOWN_OPS = 60          # an exact value larger than this is shown by its decimal value


def show_value(value) -> str:
    """An exact value, factored; with a decimal approximation when it is not
    a rational number and has no opaque function in it.  A value too large
    to read (a softmax of integers is a ratio of sums of exponentials with
    hundreds of terms) is shown by its decimal value alone: factoring it
    would cost more than the rest of the check.

    >>> show_value(sp.Rational(3, 4)), show_value(sp.exp(2) + 1)
    ('3/4', '1 + exp(2) (= 8.38906)')
    """
    if value.is_Rational:
        return str(value)
    if sp.count_ops(value) > MAX_SHOWN_OPS:
        approximate = _approximate(value)
        if approximate is None or approximate.imag:
            return "an expression too long to show"
        return f"{approximate.real:.6g} (exact value too long to show)"
    value = sp.factor(sp.expand(value))
    text = str(value)
    if not value.is_Rational and not value.atoms(Opaque):
        try:
            text += f" (= {float(sp.N(value.rewrite(sp.exp), 20)):.6g})"
        except (TypeError, ValueError):
            pass
    return text


def describe(ce: Counterexample, what: str | None) -> str:
    """One readable line, e.g. ``at m=1,n=2 with A=[[1, 2]] ...: entry (1,2) of dC/dA is claimed 6 but is 3``.

    ``what`` names the compared quantity (``dC/dA``); without it, "the truth"."""
    sizes = ",".join(f"{k}={v}" for k, v in ce.sizes.items()) or "the declared sizes"
    values = "; ".join(f"{k}={v}" for k, v in ce.values.items())
    what = what or "the truth"
    if ce.entry is None:
        return f"at {sizes} the claim is {ce.claimed} but {what} is {ce.true} ({values})"
    i, j = ce.entry
    return f"at {sizes} with {values}: entry ({i},{j}) of {what} is claimed {ce.claimed} but is {ce.true}"
