"""The exact check: exact rational arithmetic with dual numbers.

At each size assignment the claim is compared, entry by entry, with the
derivative of the cost computed independently of
:mod:`symbolic_bp.calculus.gradient` and of the registry's adjoint rules: the
cost is evaluated in forward mode on dual numbers (:mod:`symbolic_bp.checks.dual`)
at X + Σ ε_ij E_ij (ε² = 0), every declared symbol at exact random rational
values, so that the tangent along E_ij is exactly ∂C/∂X_ij at that point.
Matrix operations run on SymPy's ``DomainMatrix`` over ``QQ`` (python-flint
when installed); inverses and determinants of dual matrices use
inv(A + εB) = A⁻¹ − ε A⁻¹BA⁻¹ and det(A + εB) = det A + ε tr(adj(A) B), so the
cost is polynomial in the sizes -- no symbolic expansion.

At the first point of a size assignment every entry is compared (all n·m
directions E_ij); at the :data:`POINTS` − 1 others, the cheap screen
<claim, V> = dC[V] along one random rational direction V (a difference there
is located by redoing that point entry by entry).

Deciding: an exact difference is zero or not, with certainty at that point; a
nonzero rational function of degree ≤ d vanishes at a random point of S^n
with probability ≤ d/|S| (Schwartz-Zippel; d + 1 for the screen, linear in V),
so the independent points make a wrong claim pass with probability
≤ (d/|S|)·((d+1)/|S|)^(POINTS−1), d bounded from the expression
(:func:`degree`).  Values of transcendental functions
(exp, log, sigmoid, ...) are mpmath interval enclosures: a difference whose
enclosure excludes 0 certainly differs; agreement is an enclosure of 0 of
relative width ≤ 2^-(bits/2) at every point.  Opaque functions get
independent random rational jets (see :mod:`symbolic_bp.checks.dual`).

Declared data: a ``positive`` symbol is drawn from the positive half of S
(as is every symbol when a log, sqrt or logdet needs positive values); a
``onehot`` or ``binary`` symbol ranges over finitely many 0/1 matrices, not
over a large set, so it is no variable of the bound: its entries are
constants (degree 0), and the identity is checked at several configurations
of the data -- every one when there are at most :data:`DATA_ENUMERATE` at the
size assignment (k^n one-hot n x k matrices, 2^entries binary ones, the
product over the symbols), else :data:`DATA_SAMPLES` distinct random ones
(said so in the evidence) -- each configuration with its own random points.
A difference at one configuration is a real counterexample.

Kinks: a point at which the cost or the claim sits exactly on a kink or a tie
(relu, abs, sign at 0; comparisons, maximum, max along an axis at a tie:
:func:`~symbolic_bp.checks.kinks.kink_distance` of the point in float64 below
:data:`~symbolic_bp.checks.kinks.ON_KINK`) is drawn again: there the
derivative is a convention, not a derivative.  What is left are structural
ties, copies of one value (``softplus(x) == max(softplus(x))`` in a derived
gradient of max): a comparison whose enclosed difference contains 0 at width
<= 2^-(bits/2), the test of agreement above, is a tie there
(:meth:`~symbolic_bp.checks.dual.Mat.signs`).

Counterexamples take their true values from :func:`values_at` (the same
dual numbers at small integers, known and opaque functions kept symbolic).
The index-notation proofs check their lines on explicit symbolic matrices
instead (:mod:`symbolic_bp.checks.symbolic`).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import product

import mpmath
import numpy as np
import sympy as sp

from .claim import Prepared
from ..errors import InputError
from ..core import registry
from ..core.dims import Dim
from ..core.expression import (Add, Apply, Broadcast, Call, Div, Hadamard, MatMul, Neg, Node, Num, Pow, Scale, Sub, Sym,
                               Transpose)
from ..language.shapes import concrete
from .dual import (POSITIVE_SAMPLE_SIZE, SAMPLE_SIZE, Context, Dual, Undefined, basis, draw_matrix, dyadic,
                   evaluate as evaluate_dual, ground_types)
from .kinks import ON_KINK, kink_distance, kink_names
from .sampling import drawn_property, is_discrete, positive_symbols, zero_one, zero_one_all, zero_one_count
from .sizes import show_sizes

# -- the check: dual numbers at random rational points ------------------------------------

POINTS = 3                  # random points per size assignment: every entry at the first, a projection at the others
DRAWS = 12                  # draws per size assignment before it is given up (undefined points)
PRECISIONS = (256, 1024)    # bits of the interval enclosures; the second where the first is too wide
DATA_ENUMERATE = 32         # at most this many configurations of the 0/1 data at a size assignment: all of them
DATA_SAMPLES = 8            # ... else this many distinct random ones


def degree(node: Node, prep: Prepared, sizes: dict) -> tuple[int, int] | None:
    """(numerator, denominator) degree bounds of the entries of ``node`` as
    rational functions of the drawn values (an spd matrix M Mᵀ + I is of
    degree 2 in the drawn M; one-hot and binary data are fixed at each
    configuration, constants of degree 0; an opaque function's value is a
    fresh variable; relu, abs and sign are rational on each side of their
    kink); None where ``node`` is not rational (log det, norm, transcendental
    functions)."""
    def walk(n):
        if isinstance(n, Num):
            return (0, 0)
        if isinstance(n, Sym):
            prop = prep.decls.symbols[n.name].prop
            if is_discrete(prop):
                return (0, 0)
            return (2, 0) if prop == "spd" else (1, 0)
        if isinstance(n, (Neg, Transpose, Broadcast)):
            return walk(n.arg)
        if isinstance(n, Apply):
            inner = walk(n.arg)
            entry = registry.elementwise(n.name)
            if entry is None:
                return (1, 0)
            if entry.smooth or inner is None:
                return None
            return inner if n.order == 0 else (0, 0)
        if isinstance(n, Pow):
            p, q = walk(n.base) or (None, None)
            if p is None:
                return None
            k = n.exponent
            return (k * p, k * q) if k >= 0 else (-k * q, -k * p)
        if isinstance(n, Call):
            op = registry.operation(n.name)
            args = [walk(a) for a in n.args]
            if op.degree is None or any(a is None for a in args):
                return None
            params = [p.value(sizes) if isinstance(p, Dim) else p for p in n.params]
            return op.degree(args, [concrete(a.shape, sizes) for a in n.args], params)
        left, right = walk(n.left), walk(n.right)
        if left is None or right is None:
            return None
        (p1, q1), (p2, q2) = left, right
        if isinstance(n, (Add, Sub)):
            return (max(p1 + q2, p2 + q1), q1 + q2)
        if isinstance(n, (MatMul, Hadamard, Scale)):
            return (p1 + p2, q1 + q2)
        if isinstance(n, Div):
            return (p1 + q2, q1 + p2)
        return None
    return walk(node)


def difference_degree(prep: Prepared, sizes: dict) -> int | None:
    """A bound d on the numerator degree of (claim − ∂C/∂X_ij): with C = P/Q,
    ∂C/∂x = (P'Q − PQ')/Q² has numerator degree ≤ p + q."""
    cost, claim = degree(prep.cost, prep, sizes), degree(prep.claim, prep, sizes)
    if cost is None or claim is None:
        return None
    (p, q), (pc, qc) = cost, claim
    pt, qt = p + q, 2 * q
    return max(pc + qt, pt + qc, 1)


@dataclass
class Difference:
    sizes: dict
    entry: tuple[int, int]      # 0-based
    claimed: object
    true: object
    data: dict | None = None    # the configuration of the 0/1 data (name -> rows) where it differs


# -- 0/1 data: the configurations at which the identity is checked ------------------------

@dataclass
class DataConfigurations:
    """The configurations of the one-hot / binary symbols that the cost or
    the claim uses, at one size assignment: ``symbols`` (name, drawn
    property), ``total`` the number of configurations there, ``values`` the
    ones checked (name -> rows of 0/1), all of them when ``enumerated``."""

    symbols: list
    total: int
    values: list
    enumerated: bool

    def text(self) -> str:
        """``all 9 one-hot Y``, ``8 random one-hot Y of 625``, ``all 16 configurations of one-hot y and binary M``."""
        what = " and ".join(f"{'binary' if prop == 'binary' else 'one-hot'} {name}" for name, prop in self.symbols)
        if len(self.symbols) > 1:
            what = f"configurations of {what}"
        if self.enumerated:
            return f"all {len(self.values)} {what}"
        return f"{len(self.values)} random {what} of {self.total}"


def data_configurations(prep: Prepared, sizes: dict, rng: random.Random) -> DataConfigurations | None:
    """The configurations of the 0/1 data to check at ``sizes`` (None when
    the cost and the claim use no one-hot or binary symbol): every one when
    there are at most :data:`DATA_ENUMERATE` (the product over the symbols of
    :func:`~symbolic_bp.checks.sampling.zero_one_count`), else
    :data:`DATA_SAMPLES` distinct random ones (drawn from ``rng``).

    >>> from symbolic_bp.checks.claim import Claim, prepare
    >>> p = prepare(Claim("S:n,k Y:n,k:onehot", "sum(Y * S)", "S", "Y"))
    >>> data_configurations(p, {"n": 2, "k": 3}, random.Random(0)).text()
    'all 9 one-hot Y'
    >>> data_configurations(p, {"n": 4, "k": 5}, random.Random(0)).text()
    '8 random one-hot Y of 625'
    """
    symbols = [(name, drawn_property(sym)) for name, sym in prep.decls.symbols.items()
               if name in prep.used_symbols and is_discrete(sym.prop)]
    if not symbols:
        return None
    shapes = {name: concrete(prep.decls.symbols[name].shape, sizes) for name, _ in symbols}
    total = math.prod(zero_one_count(prop, shapes[name]) for name, prop in symbols)
    names = [name for name, _ in symbols]
    if total <= DATA_ENUMERATE:
        every = product(*(zero_one_all(prop, shapes[name]) for name, prop in symbols))
        return DataConfigurations(symbols, total, [dict(zip(names, combo)) for combo in every], True)
    values, seen = [], set()
    for _ in range(16 * DATA_SAMPLES):
        if len(values) == DATA_SAMPLES:
            break
        combo = {name: zero_one(prop, shapes[name], rng.randrange) for name, prop in symbols}
        key = repr(combo)
        if key not in seen:
            seen.add(key)
            values.append(combo)
    return DataConfigurations(symbols, total, values, False)


def _show_data(data: dict, props: dict) -> str:
    """``one-hot Y = [[0, 1], [1, 0]]`` (``props``: name -> declared property)."""
    return ", ".join(f"{'binary' if props.get(name) == 'binary' else 'one-hot'} {name} = "
                     f"{[[int(v) for v in row] for row in rows]}" for name, rows in data.items())


@dataclass
class ExactOutcome:
    status: str = "agree"                  # agree | differ | inconclusive
    sizes: list = field(default_factory=list)
    entries: int = 0                       # entries compared one by one (first point of each size)
    points: int = 0                        # random points, summed over sizes
    projections: int = 0                   # of which compared along one random direction only
    methods: set = field(default_factory=set)      # "exact" and/or "interval"
    functions: set = field(default_factory=set)    # functions enclosed in intervals
    bits: int = 0                          # the highest precision of the enclosures used
    degree: int | None = None              # the Schwartz-Zippel degree bound, when rational
    positive: set = field(default_factory=set)     # symbols drawn positive (they reach a log, sqrt, log det)
    declared_positive: list = field(default_factory=list)  # symbols declared positive (drawn positive)
    data: list = field(default_factory=list)       # the 0/1 data configurations checked, per size assignment
    sampled: bool = False                  # some were a random sample of the configurations, not all
    data_skipped: list = field(default_factory=list)   # configurations without a point (undefined, kinks)
    kinked: int = 0                        # points on a kink or a tie, drawn again
    kinks: str = ""                        # the kinks and ties of the cost and the claim, named
    data_props: dict = field(default_factory=dict)     # the 0/1 symbols: name -> declared property
    skipped: list = field(default_factory=list)    # why a candidate size assignment was not used
    difference: Difference | None = None
    witness: dict | None = None            # the point of ``difference``: name -> rows of rationals
    certain: str = ""                      # what makes the difference certain
    derived_bad: Difference | None = None  # a disagreement of the tool with itself
    note: str = ""

    def method_text(self) -> str:
        text = (f"exact rational arithmetic with dual numbers (forward mode, eps^2 = 0; SymPy DomainMatrix over QQ, "
                f"{ground_types()} ground types)")
        if "interval" in self.methods:
            text += (f" and mpmath interval arithmetic at {self.bits} bits for the values of "
                     f"{', '.join(sorted(self.functions)) or 'transcendental functions'}")
        return text

    def bound_text(self) -> str:
        size = POSITIVE_SAMPLE_SIZE if self.positive or self.declared_positive else SAMPLE_SIZE
        drawn_positive = sorted(self.positive | set(self.declared_positive))
        if drawn_positive:
            # values of different variables from different sets: the bound holds with the smaller one
            why = ", ".join(f"{name} ({'declared positive' if name in self.declared_positive else 'under a log'})"
                            for name in drawn_positive)
            where = (f"S = {{k/2^20 : |k| <= 2^22}}, and {{k/2^20 : 0 < k <= 2^22}} for "
                     f"{why} (the smaller set bounds)")
        else:
            where = "S = {k/2^20 : |k| <= 2^22}"
        data = ""
        if self.data:
            data = ("; the one-hot/binary data are not drawn from S: they are constants (degree 0) at each "
                    "configuration, and every configuration checked gets its own points")
            if self.sampled:
                data += (" (where the configurations were sampled, not enumerated, a claim wrong only at "
                         "configurations not drawn is not excluded)")
        if "interval" in self.methods or self.degree is None:
            return (f"points drawn from {where}; the compared entries are not rational functions of the drawn "
                    f"values, so agreement at every point is evidence without a Schwartz-Zippel bound{data}")
        d, first, other = self.degree, self.degree / size, (self.degree + 1) / size
        per = "of a size assignment" if not self.data else "at each size assignment and configuration"
        return (f"Schwartz-Zippel: a nonzero rational function of degree <= d vanishes at a random point of S^n, "
                f"{where} (|S| = {size}), with probability <= d/|S|; here d <= {d} for a wrong entry "
                f"(<= {first:.1e}) "
                f"and d <= {d + 1} for its inner product with a random direction (<= {other:.1e}), so a wrong claim "
                f"passes the {POINTS} points {per} with probability <= "
                f"{first * other ** (POINTS - 1):.1e}{data}")

    def detail(self, derived_text: str) -> str:
        where = " and ".join(f"({show_sizes(s)})" for s in self.sizes)
        skipped = (f" (skipped where undefined for every value: {'; '.join(self.skipped)})" if self.skipped else "")
        # what else the points were: the configurations of the 0/1 data, the redraws off kinks
        if self.data:
            skipped += f", the 0/1 data at {' and '.join(self.data)}"
            if self.data_skipped:
                skipped += (f" (configurations without a point, undefined or on a kink at every draw: "
                            f"{'; '.join(self.data_skipped)})")
        if self.kinked:
            skipped += (f" ({self.kinked} point{'s' * (self.kinked > 1)} on a kink or a tie of {self.kinks} "
                        f"drawn again)")
        if self.status == "agree":
            enclosed = (f" (the differences that involve {', '.join(sorted(self.functions))} enclosed in intervals "
                        f"containing 0, of relative width <= 2^-{self.bits // 2})"
                        if "interval" in self.methods else "")
            projections = (f", and at the {self.projections} other points the claim's inner product with a random "
                           f"rational direction V compared with the derivative of the cost along V"
                           if self.projections else "")
            return (f"{self.method_text()} at {self.points} random rational points at {where}{skipped}: "
                    f"{self.entries} entries of the claim compared with the exact directional derivatives of the "
                    f"cost along each entry of the variable (at the first point of each size assignment"
                    f"{' and configuration' if self.data else ''})"
                    f"{projections}, all equal{enclosed}; {self.bound_text()}; the derived gradient {derived_text} "
                    f"matches them too")
        if self.status == "differ":
            d = self.difference
            how = self.certain
            data = f" with {_show_data(d.data, self.data_props)}" if d.data else ""
            return (f"{self.method_text()} at ({show_sizes(d.sizes)}), a random rational point{data}: entry "
                    f"({d.entry[0] + 1},{d.entry[1] + 1}) of the claim is {_short(d.claimed)} but the entrywise "
                    f"derivative of the cost is {_short(d.true)} ({how})")
        return f"{self.method_text()} at {where or 'no size assignment'}{skipped}: {self.note}"


def _short(expr, limit: int = 160) -> str:
    text = str(expr)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _undefined(part: str, error: ZeroDivisionError, sizes: dict) -> InputError:
    """An exact zero divisor at every random point: the input is undefined."""
    return InputError(f"{part}: undefined at every point ({error} for all values at "
                      f"{show_sizes(sizes)}: a matrix that is always singular, or a divisor that is identically 0)")


class _Failed(Exception):
    """A part of the claim could not be evaluated at a point."""

    def __init__(self, part: str, error: Exception):
        super().__init__(str(error))
        self.part, self.error = part, error


@dataclass
class _Point:
    """The comparisons at one point: per entry (claim status, derived status,
    claimed, true, derived, enclosure of the difference), a single one for a
    projection on a random direction (``projected``); ``kinds`` the
    arithmetic of the compared values."""

    entries: list
    kinds: set
    functions: set
    wide: bool
    projected: bool = False
    values: dict | None = None      # the point itself: name -> rows of rationals (the 0/1 data too)

    def differs(self) -> bool:
        return any("differ" in e[:2] for e in self.entries)


def _show(v, ctx: Context, digits: int = 40) -> str:
    """An exact rational as it is; an enclosure by its midpoint to ``digits`` digits."""
    if isinstance(v, ctx.iv.mpf):
        with mpmath.workprec(ctx.prec):
            return "~" + mpmath.nstr((mpmath.mpf(v.a) + mpmath.mpf(v.b)) / 2, digits)
    return str(v)


def _enclosure(c, t, ctx: Context) -> str | None:
    """The enclosure of claim − truth, where one of them is an interval."""
    iv = ctx.iv
    if not isinstance(c, iv.mpf) and not isinstance(t, iv.mpf):
        return None
    d = (c if isinstance(c, iv.mpf) else ctx.interval(c)) - (t if isinstance(t, iv.mpf) else ctx.interval(t))
    with mpmath.workprec(ctx.prec):
        return f"[{mpmath.nstr(mpmath.mpf(d.a), 8)}, {mpmath.nstr(mpmath.mpf(d.b), 8)}]"


def _compare(c, t, ctx: Context) -> str:
    """'agree', 'differ' or 'wide' (an enclosure too wide to tell)."""
    iv = ctx.iv
    if not isinstance(c, iv.mpf) and not isinstance(t, iv.mpf):
        return "agree" if c == t else "differ"
    c, t = (v if isinstance(v, iv.mpf) else ctx.interval(v) for v in (c, t))
    d = c - t
    if d.a > 0 or d.b < 0:
        return "differ"
    scale = max(1, abs(t).b)
    return "agree" if (d.b - d.a) <= scale * iv.mpf(2) ** (-(ctx.prec // 2)) else "wide"


def _evaluate(part: str, node: Node, sizes: dict, env: dict, ctx: Context) -> Dual:
    try:
        return evaluate_dual(node, sizes, env, ctx)
    except (ZeroDivisionError, Undefined) as e:
        raise _Failed(part, e) from None


def _at_point(prep: Prepared, sizes: dict, values: dict, salt: str, prec: int, direction=None) -> _Point:
    """Claim, derived gradient and dC/dX_ij at one point, compared entry by
    entry; with a ``direction`` V (rows of Fractions), <claim, V> and <derived,
    V> compared with the one directional derivative dC[V] instead."""
    ctx = Context("interval", prec, salt)
    shape = concrete(prep.wrt_shape, sizes)
    plain = {name: Dual(ctx.exact(rows)) for name, rows in values.items()}
    tangents = basis(ctx, shape) if direction is None else [ctx.exact(direction)]
    env = dict(plain, **{prep.wrt: Dual(plain[prep.wrt].value, tangents)})
    cost = _evaluate("cost", prep.cost, sizes, env, ctx)
    zero = ctx.zeros(1, 1)[0, 0]
    truth = [t[0, 0] for t in cost.tangents] if cost.tangents is not None else [zero] * len(tangents)
    claim = _evaluate("claim", prep.claim, sizes, plain, ctx).value
    try:
        derived = evaluate_dual(prep.derived, sizes, plain, ctx).value
    except (ZeroDivisionError, Undefined):
        derived = None                     # not compared at this point

    def full(m):
        return m.build(shape[0], shape[1], lambda i, j: m[0, 0]) if m.shape != shape else m
    if direction is None:
        claimed = [full(claim)[i, j] for i in range(shape[0]) for j in range(shape[1])]
        mine = None if derived is None else [full(derived)[i, j] for i in range(shape[0]) for j in range(shape[1])]
    else:
        claimed = [(full(claim) * tangents[0]).total()[0, 0]]
        mine = None if derived is None else [(full(derived) * tangents[0]).total()[0, 0]]
    entries, kinds, wide = [], set(), False
    for index, (c, t) in enumerate(zip(claimed, truth)):
        status = _compare(c, t, ctx)
        own = None if mine is None else _compare(mine[index], t, ctx)
        kinds.add("interval" if isinstance(c, ctx.iv.mpf) or isinstance(t, ctx.iv.mpf) else "exact")
        wide = wide or "wide" in (status, own)
        entries.append((status, own, _show(c, ctx), _show(t, ctx), None if mine is None else _show(mine[index], ctx),
                        _enclosure(c, t, ctx) if status == "differ" else None))
    return _Point(entries, kinds, set(ctx.intervals), wide, projected=direction is not None)


def _direction(rng: random.Random, shape: tuple[int, int]) -> list[list[Fraction]]:
    """A random direction V of the variable's shape (dyadic rationals)."""
    return [[dyadic(rng) for _ in range(shape[1])] for _ in range(shape[0])]


def _draw(prep: Prepared, sizes: dict, rng: random.Random, positive: set) -> dict:
    """Exact random dyadic rationals for every declared symbol (as Fractions),
    by its declared property (:func:`~symbolic_bp.checks.dual.draw_matrix`);
    the symbols in ``positive`` drawn positive."""
    ctx = Context()
    return {name: draw_matrix(ctx, rng, concrete(sym.shape, sizes), drawn_property(sym),
                              name in positive).to_fractions()
            for name, sym in prep.decls.symbols.items()}


def on_kink(prep: Prepared, sizes: dict, values: dict, data: frozenset = frozenset(), seed: int = 0) -> bool:
    """Whether the exact point ``values`` (rows of rationals) lies on a kink
    or a tie of the cost or the claim: their
    :func:`~symbolic_bp.checks.kinks.kink_distance`, in float64 at the
    point, below :data:`~symbolic_bp.checks.kinks.ON_KINK` (``data``: the
    0/1 symbols, constants; the cost's variable moves entry by entry, as its
    unstructured gradient does).  False where float64 cannot evaluate it (the
    exact evaluation then decides what is defined)."""
    env = {name: np.array([[float(v) for v in row] for row in rows]) for name, rows in values.items()}
    try:
        distance = min(kink_distance(prep.cost, env, sizes, data, seed, free={prep.wrt}),
                       kink_distance(prep.claim, env, sizes, data, seed))
    except (ValueError, ZeroDivisionError, ArithmeticError, np.linalg.LinAlgError):
        return False
    return distance < ON_KINK


def _point(prep: Prepared, sizes: dict, values: dict, salt: str, direction=None) -> tuple[_Point, int]:
    """The comparisons at one point, at a higher precision where intervals were too wide."""
    for prec in PRECISIONS:
        try:
            point = _at_point(prep, sizes, values, salt, prec, direction)
        except _Failed as e:
            if isinstance(e.error, ZeroDivisionError) or prec == PRECISIONS[-1]:
                raise
            continue
        if not point.wide or prec == PRECISIONS[-1]:
            return point, prec
    raise AssertionError("unreachable")                                        # pragma: no cover


def _points(prep: Prepared, sizes: dict, rng: random.Random, positive: set, data: dict | None, salt: str,
            kinks: frozenset | None) -> tuple[list, list, int]:
    """Up to :data:`POINTS` points at ``sizes`` (with the 0/1 data fixed at
    ``data``, name -> rows, when given): (the (point, precision) pairs, the
    failures at undefined draws, the draws on a kink), in at most
    :data:`DRAWS` draws; ``kinks``: None for a smooth cost and claim, else the
    0/1 symbols (constants for :func:`on_kink`)."""
    points, failures, kinked = [], [], 0
    for draw in range(DRAWS):
        if len(points) == POINTS:
            break
        values = _draw(prep, sizes, rng, positive)
        if data:
            values.update(data)
        if kinks is not None and on_kink(prep, sizes, values, kinks):
            kinked += 1
            continue      # on a kink or a tie: the derivative there is a convention
        # every entry at the first point; a projection on a random direction at the others
        direction = None if not points else _direction(rng, concrete(prep.wrt_shape, sizes))
        try:
            point, prec = _point(prep, sizes, values, f"{salt}:{draw}", direction)
            if point.differs() and point.projected:        # find the entry that differs
                point, prec = _point(prep, sizes, values, f"{salt}:{draw}")
        except _Failed as e:
            failures.append(e)
            continue
        point.values = values
        points.append((point, prec))
        if any(e[0] == "differ" for e in point.entries):
            break
    return points, failures, kinked


def exact_check(prep: Prepared, candidates: list[dict], seed: int, progress=lambda phase: None,
                wanted: int = 2) -> ExactOutcome:
    """Compare claim and derived gradient with the exact entrywise derivative
    of the cost at :data:`POINTS` random rational points at each of the first
    ``wanted`` size assignments of ``candidates`` where both are defined (a
    size at which the cost or the claim is undefined at every point, such as
    a singular X.T @ X with fewer rows than columns, is skipped and named);
    with one-hot or binary data, at each of its configurations
    (:func:`data_configurations`), :data:`POINTS` points each."""
    rng = random.Random(seed)
    out = ExactOutcome(positive=positive_symbols(prep.cost, prep.claim),
                       declared_positive=[name for name, sym in prep.decls.symbols.items()
                                          if sym.prop == "positive" and name in prep.used_symbols])
    out.data_props = {name: sym.prop for name, sym in prep.decls.symbols.items() if is_discrete(sym.prop)}
    data_symbols = frozenset(out.data_props)
    functions, operations = kink_names(prep.cost, prep.claim)
    kinks = data_symbols if functions or operations else None
    out.kinks = "/".join(functions + operations)
    undefined: list[tuple] = []          # (part, error, sizes) of the skipped assignments
    domain: list[str] = []               # sizes with no point inside the domain
    bounds: list = []                    # the degree bound at each size assignment used
    for sizes in candidates:
        if len(out.sizes) == wanted or out.status == "differ":
            break
        progress(f"the exact check at ({show_sizes(sizes)})")
        plan = data_configurations(prep, sizes, rng)
        configurations = plan.values if plan else [None]
        found, failures, kinked, empty = [], [], 0, 0      # found: (point, precision, data)
        for index, data in enumerate(configurations):
            salt = f"{seed}:{show_sizes(sizes)}" + (f":{index}" if plan else "")
            points, missed, on = _points(prep, sizes, rng, out.positive, data, salt, kinks)
            failures += missed
            kinked += on
            empty += not points
            found += [(point, prec, data) for point, prec in points]
            if any(e[0] == "differ" for point, _ in points for e in point.entries):
                break                    # a counterexample at this configuration: enough
        out.kinked += kinked
        if not found:
            structural = [f for f in failures if isinstance(f.error, ZeroDivisionError)]
            if failures and len(structural) == len(failures) and not kinked:
                undefined.append((structural[-1].part, structural[-1].error, sizes))
            else:
                why = f"{failures[-1].part} {failures[-1].error}" if failures else "on a kink or a tie"
                domain.append(f"({show_sizes(sizes)}): {why} at all {DRAWS * len(configurations)} random points")
            continue
        out.sizes.append(sizes)
        if plan:
            out.data.append(f"{plan.text()} at ({show_sizes(sizes)})")
            out.sampled = out.sampled or not plan.enumerated
            if empty:
                out.data_skipped.append(f"{empty} of {len(configurations)} at ({show_sizes(sizes)})")
        bounds.append(difference_degree(prep, sizes))
        for point, prec, data in found:
            _record(out, point, prec, prep, sizes, data, wide=True)
    out.degree = max(bounds) if bounds and None not in bounds else None
    if not out.sizes:
        if undefined and not domain:
            raise _undefined(*undefined[0])
        out.status = "inconclusive"
        out.note = "no random point inside the domain: " + "; ".join(domain)
    out.skipped = [f"the {part} at ({show_sizes(sizes)}), {error}" for part, error, sizes in undefined]
    return out


def check_at(prep: Prepared, out: ExactOutcome, sizes: dict, values: dict, salt: str) -> bool:
    """The comparisons of :func:`exact_check`, every entry, at one given point
    ``values`` (name -> rows of Fractions; a float64 draw is one, exactly) at
    ``sizes``, recorded in ``out`` as a random point's are; whether the claim
    differs there.  A point where the cost or the claim is undefined tells
    nothing (False)."""
    try:
        point, prec = _point(prep, sizes, values, salt)
    except _Failed:
        return False
    point.values = values
    data = {name: values[name] for name in out.data_props if name in values} or None
    # a given point adds a difference or nothing: an enclosure too wide to tell there
    # leaves the random points' verdict as it is
    _record(out, point, prec, prep, sizes, data, wide=False)
    return out.status == "differ"


def _record(out: ExactOutcome, point: _Point, prec: int, prep: Prepared, sizes: dict, data: dict | None,
            wide: bool) -> None:
    """Add the comparisons at one point (compared at ``prec`` bits, with the
    0/1 data ``data``) to ``out``: its methods and enclosed functions, the
    entries it compared (none for a projection on a random direction), the
    first entry where the derived gradient or the claim differs; ``wide``: an
    enclosure too wide to decide makes an agreeing outcome inconclusive."""
    columns = concrete(prep.wrt_shape, sizes)[1]
    out.points += 1
    out.projections += point.projected
    out.methods |= point.kinds
    if "interval" in point.kinds:
        out.functions |= point.functions
        out.bits = max(out.bits, prec)
    for index, (status, mine, claimed, true, derived, enclosure) in enumerate(point.entries):
        entry = divmod(index, columns)
        out.entries += not point.projected
        if mine == "differ" and out.derived_bad is None:
            out.derived_bad = Difference(sizes, entry, derived, true, data)
        if status == "differ" and out.status != "differ":
            out.status, out.difference = "differ", Difference(sizes, entry, claimed, true, data)
            out.witness = point.values
            out.certain = (f"their difference is enclosed in {enclosure}, an interval that excludes 0"
                           if enclosure else "exact rationals")
        elif wide and status == "wide" and out.status == "agree":
            out.status = "inconclusive"
            out.note = (f"entry ({entry[0] + 1},{entry[1] + 1}): the interval enclosure of the difference "
                        f"contains 0 but is too wide to decide at {PRECISIONS[-1]} bits")


# -- counterexamples: exact values at a given point -----------------------------------------

def values_at(prep: Prepared, sizes: dict, env: dict) -> tuple[sp.Matrix, sp.Matrix]:
    """(dC/dX, the claim) at the point ``env`` (SymPy matrices of exact
    numbers), both as SymPy matrices: rationals stay exact, the values of
    known functions stay symbolic (``sigmoid(2)``), opaque ones too
    (``sigma'(3)``).  Raises ZeroDivisionError or :class:`Undefined` where
    undefined."""
    ctx = Context("symbolic")
    shape = concrete(prep.wrt_shape, sizes)

    def exact(m):
        return ctx.exact([[Fraction(int(sp.Rational(v).p), int(sp.Rational(v).q)) for v in m.row(i)]
                          for i in range(m.rows)])
    plain = {name: Dual(exact(m)) for name, m in env.items()}
    cost = evaluate_dual(prep.cost, sizes, dict(plain, **{prep.wrt: Dual(plain[prep.wrt].value,
                                                                          basis(ctx, shape))}), ctx)
    true = sp.Matrix(shape[0], shape[1], lambda i, j: (
        sp.Integer(0) if cost.tangents is None else cost.tangents[i * shape[1] + j].to_sympy()[0, 0]))
    claim = evaluate_dual(prep.claim, sizes, plain, ctx).value.to_sympy()
    if claim.shape != shape and claim.shape == (1, 1):
        claim = sp.Matrix(shape[0], shape[1], lambda i, j: claim[0, 0])
    return true, claim
