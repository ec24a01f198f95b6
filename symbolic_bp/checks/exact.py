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

Counterexamples take their true values from :func:`values_at` (the same
dual numbers at small integers, known and opaque functions kept symbolic).
The index-notation proofs check their lines on explicit symbolic matrices
instead (:mod:`symbolic_bp.checks.symbolic`).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
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
from .sampling import needs_positive
from .sizes import show_sizes

# -- the check: dual numbers at random rational points ------------------------------------

POINTS = 3                  # random points per size assignment: every entry at the first, a projection at the others
DRAWS = 12                  # draws per size assignment before it is given up (undefined points)
PRECISIONS = (256, 1024)    # bits of the interval enclosures; the second where the first is too wide


def degree(node: Node, prep: Prepared, sizes: dict) -> tuple[int, int] | None:
    """(numerator, denominator) degree bounds of the entries of ``node`` as
    rational functions of the drawn values (an spd matrix M Mᵀ + I is of
    degree 2 in the drawn M; an opaque function's value is a fresh variable;
    relu, abs and sign are rational on each side of their kink); None where
    ``node`` is not rational (log det, norm, transcendental functions)."""
    def walk(n):
        if isinstance(n, Num):
            return (0, 0)
        if isinstance(n, Sym):
            return (2, 0) if prep.decls.symbols[n.name].prop == "spd" else (1, 0)
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
    positive: bool = False                 # positive values drawn (log, sqrt, log det)
    skipped: list = field(default_factory=list)    # why a candidate size assignment was not used
    difference: Difference | None = None
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
        size = POSITIVE_SAMPLE_SIZE if self.positive else SAMPLE_SIZE
        where = ("S = {k/2^20 : 0 < k <= 2^22}" if self.positive else "S = {k/2^20 : |k| <= 2^22}")
        if "interval" in self.methods or self.degree is None:
            return (f"points drawn from {where}; the compared entries are not rational functions of the drawn "
                    f"values, so agreement at every point is evidence without a Schwartz-Zippel bound")
        d, first, other = self.degree, self.degree / size, (self.degree + 1) / size
        return (f"Schwartz-Zippel: a nonzero rational function of degree <= d vanishes at a random point of S^n, "
                f"{where} (|S| = {size}), with probability <= d/|S|; here d <= {d} for a wrong entry "
                f"(<= {first:.1e}) "
                f"and d <= {d + 1} for its inner product with a random direction (<= {other:.1e}), so a wrong claim "
                f"passes the {POINTS} points of a size assignment with probability <= "
                f"{first * other ** (POINTS - 1):.1e}")

    def detail(self, derived_text: str) -> str:
        where = " and ".join(f"({show_sizes(s)})" for s in self.sizes)
        skipped = (f" (skipped where undefined for every value: {'; '.join(self.skipped)})" if self.skipped else "")
        if self.status == "agree":
            enclosed = (f" (the differences that involve {', '.join(sorted(self.functions))} enclosed in intervals "
                        f"containing 0, of relative width <= 2^-{self.bits // 2})"
                        if "interval" in self.methods else "")
            projections = (f", and at the {self.projections} other points the claim's inner product with a random "
                           f"rational direction V compared with the derivative of the cost along V"
                           if self.projections else "")
            return (f"{self.method_text()} at {self.points} random rational points at {where}{skipped}: "
                    f"{self.entries} entries of the claim compared with the exact directional derivatives of the "
                    f"cost along each entry of the variable (at the first point of each size assignment)"
                    f"{projections}, all equal{enclosed}; {self.bound_text()}; the derived gradient {derived_text} "
                    f"matches them too")
        if self.status == "differ":
            d = self.difference
            how = self.certain
            return (f"{self.method_text()} at ({show_sizes(d.sizes)}), a random rational point: entry "
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


def _draw(prep: Prepared, sizes: dict, rng: random.Random, positive: bool) -> dict:
    """Exact random dyadic rationals for every declared symbol (as Fractions)."""
    ctx = Context()
    return {name: draw_matrix(ctx, rng, concrete(sym.shape, sizes), sym.prop, positive).to_fractions()
            for name, sym in prep.decls.symbols.items()}


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


def exact_check(prep: Prepared, candidates: list[dict], seed: int, progress=lambda phase: None,
                wanted: int = 2) -> ExactOutcome:
    """Compare claim and derived gradient with the exact entrywise derivative
    of the cost at :data:`POINTS` random rational points at each of the first
    ``wanted`` size assignments of ``candidates`` where both are defined (a
    size at which the cost or the claim is undefined at every point, such as
    a singular X.T @ X with fewer rows than columns, is skipped and named)."""
    rng = random.Random(seed)
    out = ExactOutcome(positive=needs_positive(prep.cost, prep.claim))
    undefined: list[tuple] = []          # (part, error, sizes) of the skipped assignments
    domain: list[str] = []               # sizes with no point inside the domain
    bounds: list = []                    # the degree bound at each size assignment used
    for sizes in candidates:
        if len(out.sizes) == wanted or out.status == "differ":
            break
        progress(f"the exact check at ({show_sizes(sizes)})")
        points, failures = [], []
        for draw in range(DRAWS):
            if len(points) == POINTS:
                break
            values = _draw(prep, sizes, rng, out.positive)
            salt = f"{seed}:{show_sizes(sizes)}:{draw}"
            # every entry at the first point; a projection on a random direction at the others
            direction = None if not points else _direction(rng, concrete(prep.wrt_shape, sizes))
            try:
                point, prec = _point(prep, sizes, values, salt, direction)
                if point.differs() and point.projected:        # find the entry that differs
                    point, prec = _point(prep, sizes, values, salt)
            except _Failed as e:
                failures.append(e)
                continue
            points.append(point)
            out.bits = max(out.bits, prec) if "interval" in point.kinds else out.bits
            if any(e[0] == "differ" for e in point.entries):
                break
        if not points:
            structural = [f for f in failures if isinstance(f.error, ZeroDivisionError)]
            if len(structural) == len(failures):
                undefined.append((structural[-1].part, structural[-1].error, sizes))
            else:
                domain.append(f"({show_sizes(sizes)}): {failures[-1].part} {failures[-1].error} at all "
                              f"{DRAWS} random points")
            continue
        out.sizes.append(sizes)
        bounds.append(difference_degree(prep, sizes))
        columns = concrete(prep.wrt_shape, sizes)[1]
        for point in points:
            out.points += 1
            out.projections += point.projected
            out.methods |= point.kinds
            if "interval" in point.kinds:
                out.functions |= point.functions
            for index, (status, mine, claimed, true, derived, enclosure) in enumerate(point.entries):
                entry = divmod(index, columns)
                out.entries += not point.projected
                if mine == "differ" and out.derived_bad is None:
                    out.derived_bad = Difference(sizes, entry, derived, true)
                if status == "differ" and out.status != "differ":
                    out.status, out.difference = "differ", Difference(sizes, entry, claimed, true)
                    out.certain = (f"their difference is enclosed in {enclosure}, an interval that excludes 0"
                                   if enclosure else "exact rationals")
                elif status == "wide" and out.status == "agree":
                    out.status = "inconclusive"
                    out.note = (f"entry ({entry[0] + 1},{entry[1] + 1}): the interval enclosure of the difference "
                                f"contains 0 but is too wide to decide at {PRECISIONS[-1]} bits")
    out.degree = max(bounds) if bounds and None not in bounds else None
    if not out.sizes:
        if undefined and not domain:
            raise _undefined(*undefined[0])
        out.status = "inconclusive"
        out.note = "no random point inside the domain: " + "; ".join(domain)
    out.skipped = [f"the {part} at ({show_sizes(sizes)}), {error}" for part, error, sizes in undefined]
    return out


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
