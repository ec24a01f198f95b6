"""Dual numbers over exact rationals: directional derivatives without symbols.

The exact check (:mod:`symbolic_bp.checks.exact`) evaluates the cost at
X + ε₁V₁ + … + ε_kV_k with εᵢεⱼ = 0 (forward mode): every value is a
:class:`Dual`, a matrix and its k tangents, and the tangent of the cost along
Vᵢ is the exact directional derivative dC[Vᵢ].  With Vᵢ = E_ij (one per entry
of the variable) the tangents are the entries of the gradient.  Nothing is
ever expanded symbolically: the cost is polynomial in the sizes.

Matrices (:class:`Mat`) are of one of three kinds:

* **exact** -- SymPy's ``DomainMatrix`` over ``QQ`` (python-flint's ``fmpq_mat``
  when python-flint is installed), for everything rational: sums, products,
  inverses, determinants, powers, relu / abs / sign, opaque functions;
* **interval** -- mpmath interval enclosures (:class:`mpmath.ctx_iv.MPIntervalContext`,
  a private context at the precision of the :class:`Context`), for the values
  of transcendental functions (exp, log, sigmoid, tanh, softplus, sqrt, sin,
  cos, log det, norm) and whatever is computed from them: a difference whose
  enclosure excludes 0 is certainly nonzero;
* **symbolic** -- SymPy matrices of numbers (``sigmoid(3/2)``, ``sigma'(2)``),
  used for counterexamples, whose values are shown to the user.

An opaque function (``sigma:function``) has at a point, for each derivative
order k and each distinct argument value v, an independent random rational
σ⁽ᵏ⁾(v), fixed by the function's name, k, v and the point's salt: the jets of
a smooth function at finitely many distinct points can be prescribed freely,
so an identity that holds for every σ holds for these values, and one that
does not fails for them with high probability.

The registry supplies the operations: ``Operation.dual(kit, *args, *params)``
on :class:`Dual` arguments (:class:`Kit` makes constants), and
``Elementwise.rational`` / ``Elementwise.interval`` for the elementwise
functions.

>>> from fractions import Fraction
>>> from symbolic_bp.language.shapes import parse_declarations, parse_typed
>>> d = parse_declarations("X:2,2")
>>> ctx = Context()
>>> x = ctx.exact([[Fraction(2), Fraction(1)], [Fraction(1), Fraction(1)]])
>>> env = {"X": Dual(x, basis(ctx, (2, 2)))}
>>> c = evaluate(parse_typed("det(inv(X))", d), {}, env, ctx)
>>> c.value.to_fractions(), [t.to_fractions() for t in c.tangents]
([[Fraction(1, 1)]], [[[Fraction(-1, 1)]], [[Fraction(1, 1)]], [[Fraction(1, 1)]], [[Fraction(-2, 1)]]])
"""
from __future__ import annotations

import hashlib
from fractions import Fraction
from functools import lru_cache

import sympy as sp
from mpmath.ctx_iv import MPIntervalContext
from mpmath.libmp.libmpf import to_float, to_rational
from sympy import QQ
from sympy.polys.matrices import DomainMatrix
from sympy.polys.matrices.exceptions import DMNonInvertibleMatrixError

from ..calculus.evaluate import Evaluator
from ..core import elementwise, registry
from .sampling import draws_positive, impose, is_discrete, zero_one

EXACT, SYMBOLIC, INTERVAL = 0, 1, 2
KIND_NAMES = {EXACT: "exact", SYMBOLIC: "symbolic", INTERVAL: "interval"}

# the random points: dyadic rationals k / 2^20 with |k| <= 2^22 (in [-4, 4];
# exactly representable in binary, so an interval enclosure of one is a point)
DENOMINATOR_BITS = 20
NUMERATOR_BOUND = 2 ** 22
SAMPLE_SIZE = 2 * NUMERATOR_BOUND + 1           # |S|
POSITIVE_SAMPLE_SIZE = NUMERATOR_BOUND          # |S| when positive values are drawn (0 < k <= 2^22)
MAX_ARGUMENT = 2 ** 32      # larger arguments of exp, sigmoid, sin ...: the point is redrawn


class Undefined(Exception):
    """The expression has no real value at this point (the log of a negative
    number, an interval divisor that contains 0): another point is drawn.
    An exact zero divisor raises :class:`ZeroDivisionError` instead: at every
    random point, it is structural."""


def ground_types() -> str:
    """``flint`` when SymPy's rationals are python-flint's, else ``python``."""
    try:
        from sympy.external.gmpy import GROUND_TYPES
    except ImportError:                                         # pragma: no cover - old SymPy
        return "python"
    return GROUND_TYPES


class Context:
    """How one evaluation treats what is not rational: ``mode`` is
    ``"interval"`` (mpmath intervals at ``prec`` bits) or ``"symbolic"``
    (SymPy numbers, for counterexamples).  ``salt`` fixes the random values of
    the opaque functions at this point.  ``intervals`` collects the names of
    the functions that were enclosed in intervals."""

    def __init__(self, mode: str = "interval", prec: int = 256, salt: str = ""):
        self.mode, self.prec, self.salt = mode, prec, salt
        self.iv = MPIntervalContext()
        self.iv.prec = prec
        self.intervals: set[str] = set()

    # -- scalars ---------------------------------------------------------------------
    def interval(self, q):
        """The enclosure of an exact rational (a QQ element)."""
        return self.iv.mpf(int(QQ.numer(q))) / int(QQ.denom(q))

    def opaque(self, name: str, order: int, key: Fraction) -> Fraction:
        """σ⁽ᵏ⁾ at the argument value ``key``: a random dyadic rational in [-4, 4]
        that depends only on the salt, the name, k and the value."""
        text = f"{self.salt}|{name}|{order}|{key.numerator}/{key.denominator}"
        digest = hashlib.sha256(text.encode()).digest()
        k = int.from_bytes(digest[:8], "little") % SAMPLE_SIZE - NUMERATOR_BOUND
        return Fraction(k, 2 ** DENOMINATOR_BITS)

    def interval_key(self, x) -> Fraction:
        """A rational standing for the argument enclosed by ``x`` (its midpoint
        rounded to 2^-64): equal arguments computed along different routes land
        on the same key unless they straddle a rounding boundary."""
        lo, hi = (Fraction(*to_rational(e)) for e in x._mpi_)
        return Fraction(round((lo + hi) / 2 * 2 ** 64), 2 ** 64)

    # -- matrices --------------------------------------------------------------------
    def exact(self, rows) -> "Mat":
        """An exact matrix from rows of ints / Fractions / QQ elements."""
        shape = (len(rows), len(rows[0]) if rows else 0)
        return Mat(self, EXACT, DomainMatrix([[QQ.convert(v) if not isinstance(v, Fraction)
                                               else QQ(v.numerator, v.denominator) for v in row] for row in rows],
                                             shape, QQ), shape)

    def zeros(self, rows: int, cols: int) -> "Mat":
        return Mat(self, EXACT, DomainMatrix.zeros((rows, cols), QQ).to_dense(), (rows, cols))

    def eye(self, n: int) -> "Mat":
        return Mat(self, EXACT, DomainMatrix.eye(n, QQ).to_dense(), (n, n))


def _to_fraction(q) -> Fraction:
    return Fraction(int(QQ.numer(q)), int(QQ.denom(q)))


def _from_fraction(f: Fraction):
    return QQ(f.numerator, f.denominator)


class Mat:
    """A matrix of one kind (exact, symbolic or interval); binary operations
    promote exact to the other kind.  The arithmetic the registry's dual forms
    may use: ``+ - @ .T``, ``a * b`` (Hadamard, or by a 1x1 matrix), ``a / s``
    (by a 1x1 matrix), ``m[i, j]`` (an entry), ``m.build(rows, cols, f)`` (a
    matrix of the same kind from entries ``f(i, j)``), ``m.add_all(entries)``,
    ``m.zero``, ``m.pair(other)``, ``m.total()``, ``m.trace()``, ``m.det()``
    (1x1 matrices), ``m.inv()``, ``m.adjugate()``, ``m.apply(name, order)``
    (an elementwise function of the registry), ``m.identity()``,
    ``m.reciprocals()`` (entrywise 1/v), ``m.signs()`` (the sign of every entry,
    for comparisons and maxima)."""

    __slots__ = ("ctx", "kind", "data", "shape", "_rows")

    def __init__(self, ctx: Context, kind: int, data, shape):
        if kind == EXACT:
            # always dense: DomainMatrix refuses to mix formats (dense @ sparse is a
            # DMFormatError), and a product with the scalar 0 comes back sparse
            data = data.to_dense()
        self.ctx, self.kind, self.data, self.shape = ctx, kind, data, tuple(shape)
        self._rows = None

    rows = property(lambda self: self.shape[0])
    cols = property(lambda self: self.shape[1])

    def __repr__(self):
        return f"Mat({KIND_NAMES[self.kind]}, {self.entries()})"

    # -- entries ---------------------------------------------------------------------
    def entries(self) -> list[list]:
        """The rows of entries (QQ elements, SymPy numbers or intervals)."""
        if self._rows is None:
            if self.kind == EXACT:
                self._rows = self.data.to_list()
            elif self.kind == SYMBOLIC:
                self._rows = self.data.tolist()
            else:
                self._rows = self.data
        return self._rows

    def __getitem__(self, index):
        i, j = index
        return self.entries()[i][j]

    def to_fractions(self) -> list[list[Fraction]]:
        assert self.kind == EXACT
        return [[_to_fraction(v) for v in row] for row in self.entries()]

    def to_sympy(self) -> sp.Matrix:
        """Exact or symbolic entries as a SymPy matrix."""
        if self.kind == EXACT:
            return self.data.to_Matrix()
        if self.kind == SYMBOLIC:
            return self.data
        raise TypeError("an interval matrix has no exact SymPy form")

    @property
    def zero(self):
        if self.kind == EXACT:
            return QQ(0)
        return sp.Integer(0) if self.kind == SYMBOLIC else self.ctx.iv.mpf(0)

    def add_all(self, values):
        total = self.zero
        for v in values:
            total = total + v
        return total

    def build(self, rows: int, cols: int, f) -> "Mat":
        """A matrix of this kind with entries ``f(i, j)`` (of this kind, or ints)."""
        table = [[f(i, j) for j in range(cols)] for i in range(rows)]
        if self.kind == EXACT:
            return Mat(self.ctx, EXACT, DomainMatrix([[QQ.convert(v) for v in row] for row in table],
                                                     (rows, cols), QQ), (rows, cols))
        if self.kind == SYMBOLIC:
            return Mat(self.ctx, SYMBOLIC, sp.Matrix(rows, cols, lambda i, j: table[i][j]), (rows, cols))
        iv = self.ctx.iv
        return Mat(self.ctx, INTERVAL, [[v if isinstance(v, iv.mpf) else iv.mpf(v) for v in row] for row in table],
                   (rows, cols))

    def identity(self) -> "Mat":
        return self.ctx.eye(self.rows)

    # -- kinds -----------------------------------------------------------------------
    def to_kind(self, kind: int) -> "Mat":
        if kind == self.kind:
            return self
        if self.kind == EXACT and kind == SYMBOLIC:
            return Mat(self.ctx, SYMBOLIC, self.data.to_Matrix(), self.shape)
        if self.kind == EXACT and kind == INTERVAL:
            return Mat(self.ctx, INTERVAL, [[self.ctx.interval(v) for v in row] for row in self.entries()],
                       self.shape)
        raise TypeError(f"cannot mix {KIND_NAMES[self.kind]} and {KIND_NAMES[kind]} matrices")

    def pair(self, other: "Mat") -> tuple["Mat", "Mat"]:
        kind = max(self.kind, other.kind)
        return self.to_kind(kind), other.to_kind(kind)

    def _map(self, f) -> "Mat":
        """Entrywise f, for interval and symbolic matrices."""
        if self.kind == SYMBOLIC:
            return Mat(self.ctx, SYMBOLIC, self.data.applyfunc(f), self.shape)
        return Mat(self.ctx, self.kind, [[f(v) for v in row] for row in self.entries()], self.shape)

    # -- arithmetic ------------------------------------------------------------------
    def __add__(self, other: "Mat") -> "Mat":
        a, b = self.pair(other)
        if a.kind == INTERVAL:
            return Mat(a.ctx, INTERVAL, [[x + y for x, y in zip(r, s)] for r, s in zip(a.data, b.data)], a.shape)
        return Mat(a.ctx, a.kind, a.data + b.data, a.shape)

    def __neg__(self) -> "Mat":
        if self.kind == INTERVAL:
            return self._map(lambda v: -v)
        return Mat(self.ctx, self.kind, -self.data, self.shape)

    def __sub__(self, other: "Mat") -> "Mat":
        a, b = self.pair(other)
        if a.kind == INTERVAL:
            return Mat(a.ctx, INTERVAL, [[x - y for x, y in zip(r, s)] for r, s in zip(a.data, b.data)], a.shape)
        return Mat(a.ctx, a.kind, a.data - b.data, a.shape)

    def __matmul__(self, other: "Mat") -> "Mat":
        a, b = self.pair(other)
        shape = (a.rows, b.cols)
        if a.kind == EXACT:
            return Mat(a.ctx, EXACT, a.data.matmul(b.data), shape)
        if a.kind == SYMBOLIC:
            inner = range(a.cols)
            return Mat(a.ctx, SYMBOLIC, sp.Matrix(shape[0], shape[1], lambda i, j: sp.Add(
                *[a.data[i, k] * b.data[k, j] for k in inner])), shape)
        columns = list(zip(*b.data))
        return Mat(a.ctx, INTERVAL, [[a.add_all(x * y for x, y in zip(row, col)) for col in columns]
                                     for row in a.data], shape)

    def __mul__(self, other: "Mat") -> "Mat":
        """Hadamard product; by a 1x1 matrix, the product with its entry."""
        if other.shape == (1, 1) and self.shape != (1, 1):
            return self.scale(other)
        if self.shape == (1, 1) and other.shape != (1, 1):
            return other.scale(self)
        a, b = self.pair(other)
        if a.kind == EXACT:
            return a.build(a.rows, a.cols, lambda i, j: a[i, j] * b[i, j])
        if a.kind == SYMBOLIC:
            return Mat(a.ctx, SYMBOLIC, a.data.multiply_elementwise(b.data), a.shape)
        return Mat(a.ctx, INTERVAL, [[x * y for x, y in zip(r, s)] for r, s in zip(a.data, b.data)], a.shape)

    def scale(self, s: "Mat") -> "Mat":
        """This matrix times the entry of the 1x1 matrix ``s``."""
        a, b = self.pair(s)
        v = b[0, 0]
        if a.kind == EXACT:
            return Mat(a.ctx, EXACT, a.data * v, a.shape)
        if a.kind == SYMBOLIC:
            return Mat(a.ctx, SYMBOLIC, a.data * v, a.shape)
        return a._map(lambda x: x * v)

    def __truediv__(self, s: "Mat | int | Fraction") -> "Mat":
        if not isinstance(s, Mat):                 # by a number: (M + M^T) / 2
            s = self.ctx.exact([[s]])
        return self.scale(s.reciprocal())

    @property
    def T(self) -> "Mat":
        if self.kind == INTERVAL:
            return Mat(self.ctx, INTERVAL, [list(col) for col in zip(*self.data)], (self.cols, self.rows))
        return Mat(self.ctx, self.kind, self.data.transpose() if self.kind == EXACT else self.data.T,
                   (self.cols, self.rows))

    # -- scalars (1x1) ---------------------------------------------------------------
    def is_zero(self) -> bool:
        """The 1x1 matrix is exactly 0."""
        v = self[0, 0]
        if self.kind == INTERVAL:
            return v.a == 0 and v.b == 0
        return v == 0

    def reciprocal(self) -> "Mat":
        v = self[0, 0]
        if self.kind == EXACT:
            if v == 0:
                raise ZeroDivisionError("division by zero")
            return self.build(1, 1, lambda i, j: QQ(1) / v)
        if self.kind == SYMBOLIC:
            if sp.expand(v) == 0:
                raise ZeroDivisionError("division by zero")
            return self.build(1, 1, lambda i, j: 1 / v)
        if v.a <= 0 <= v.b:
            raise Undefined("a divisor whose enclosure contains 0")
        return self.build(1, 1, lambda i, j: 1 / v)

    def reciprocals(self) -> "Mat":
        """1/v for every entry v; :class:`ZeroDivisionError` at an exact 0,
        :class:`Undefined` at an enclosure of 0."""
        if self.kind == INTERVAL:
            if any(v.a <= 0 <= v.b for row in self.data for v in row):
                raise Undefined("a divisor whose enclosure contains 0")
            return self._map(lambda v: 1 / v)
        if any((sp.expand(v) if self.kind == SYMBOLIC else v) == 0 for row in self.entries() for v in row):
            raise ZeroDivisionError("division by zero")
        one = QQ(1) if self.kind == EXACT else sp.Integer(1)
        return self.build(self.rows, self.cols, lambda i, j: one / self[i, j])

    def signs(self) -> list[list[int]]:
        """The sign (-1, 0 or 1) of every entry, decided exactly; an enclosure
        that contains 0 is a tie (0) when it is at most 2^-(bits/2) wide --
        the exact check's own test of agreement -- and cannot be decided
        otherwise (:class:`Undefined`: the point is redrawn, or evaluated at
        a higher precision).  A symbolic entry that does not expand to 0
        (``softplus(3) - 1``) is decided by :func:`certain_sign`.

        Why a narrow enclosure of 0 is a tie: the points on a kink or a tie
        were redrawn before (:func:`symbolic_bp.checks.exact.on_kink`: a
        float64 gap below 1e-9 that does not stay 0 when the point moves), so
        what is left is structural -- two copies of one value, computed along
        the same route (``softplus(x) == max(softplus(x))`` in every derived
        gradient of a max) -- and either side has the same derivative.  The
        difference of two equal enclosures is never the point interval 0."""
        def sign(v) -> int:
            if self.kind == INTERVAL:
                if v.a > 0:
                    return 1
                if v.b < 0:
                    return -1
                if v.b - v.a <= self.ctx.iv.mpf(2) ** (-(self.ctx.prec // 2)):
                    return 0
                raise Undefined("a comparison whose enclosure contains a tie")
            if self.kind == SYMBOLIC:
                v = sp.nsimplify(v) if v.is_Float else v
                return 0 if sp.expand(v) == 0 else certain_sign(self.ctx, v)
            return (v > 0) - (v < 0)
        return [[sign(v) for v in row] for row in self.entries()]

    def power(self, k: int) -> "Mat":
        """The 1x1 matrix to the integer power k (k < 0: its entry is nonzero)."""
        base = self if k >= 0 else self.reciprocal()
        v = base[0, 0]
        return base.build(1, 1, lambda i, j: v ** abs(k))

    def total(self) -> "Mat":
        """The sum of all entries, 1x1."""
        return self.build(1, 1, lambda i, j: self.add_all(v for row in self.entries() for v in row))

    def trace(self) -> "Mat":
        return self.build(1, 1, lambda i, j: self.add_all(self[k, k] for k in range(self.rows)))

    # -- linear algebra --------------------------------------------------------------
    def det(self) -> "Mat":
        """The determinant, 1x1 (exact: fraction-free over QQ; symbolic:
        Berkowitz; interval: elimination, with certain bounds)."""
        if self.kind == EXACT:
            d = self.data.det()
        elif self.kind == SYMBOLIC:
            d = self.data.det(method="berkowitz")
        else:
            d = _interval_eliminate(self)[1]
        return self.build(1, 1, lambda i, j: d)

    def inv(self) -> "Mat":
        """The inverse; :class:`ZeroDivisionError` where exactly singular."""
        if self.kind == EXACT:
            try:
                return Mat(self.ctx, EXACT, self.data.inv(), self.shape)
            except DMNonInvertibleMatrixError:
                raise ZeroDivisionError("singular matrix") from None
        if self.kind == SYMBOLIC:
            d = self.data.det(method="berkowitz")
            if sp.expand(d) == 0:
                raise ZeroDivisionError("singular matrix")
            return Mat(self.ctx, SYMBOLIC, self.data.adjugate(method="berkowitz") / d, self.shape)
        return Mat(self.ctx, INTERVAL, _interval_eliminate(self)[0], self.shape)

    def adjugate(self) -> "Mat":
        """adj(A), with A adj(A) = det(A) I: also where A is singular (exact)."""
        if self.kind == EXACT:
            d = self.data.det()
            if d != 0:
                return Mat(self.ctx, EXACT, self.data.inv() * d, self.shape)
            return Mat(self.ctx, EXACT, _exact_adjugate(self.data), self.shape)
        if self.kind == SYMBOLIC:
            return Mat(self.ctx, SYMBOLIC, self.data.adjugate(method="berkowitz"), self.shape)
        inverse, d = _interval_eliminate(self)
        return Mat(self.ctx, INTERVAL, inverse, self.shape)._map(lambda v: v * d)

    # -- elementwise functions -------------------------------------------------------
    def apply(self, name: str, order: int = 0) -> "Mat":
        """The order-th derivative of the elementwise function ``name`` (a
        registered or an opaque one), entry by entry."""
        entry = registry.elementwise(name)
        ctx = self.ctx
        if self.kind == SYMBOLIC:
            f = elementwise.exact(name, order)
            return self._map(lambda v: f(sp.expand(v)))
        if self.kind == EXACT:
            values = [[_exact_at(ctx, name, entry, order, v) for v in row] for row in self.entries()]
            if all(isinstance(v, Fraction) for row in values for v in row):
                return ctx.exact(values)
            if ctx.mode == "symbolic":
                return Mat(ctx, SYMBOLIC, sp.Matrix([[sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction)
                                                      else v for v in row] for row in values]), self.shape)
            return Mat(ctx, INTERVAL, [[_enclose(ctx, v) for v in row] for row in values], self.shape)
        return self._map(lambda v: _interval_at(ctx, name, entry, order, v))


def _exact_at(ctx: Context, name: str, entry, order: int, q):
    """f⁽ᵏ⁾ at an exact rational: a Fraction when rational there, else a
    SymPy number (symbolic mode) or an interval."""
    x = _to_fraction(q)
    if entry is None:
        if ctx.mode == "symbolic":
            return elementwise.exact(name, order)(sp.Rational(x.numerator, x.denominator))
        return ctx.opaque(name, order, x)
    value = entry.rational(x, order) if entry.rational is not None else None
    if value is not None:
        return value
    if entry.domain == "positive" and x <= 0:
        if x == 0:
            raise ZeroDivisionError(f"{name} at 0")
        raise Undefined(f"{name} of a negative number")
    if ctx.mode == "symbolic":
        return elementwise.exact(name, order)(sp.Rational(x.numerator, x.denominator))
    return _interval_at(ctx, name, entry, order, ctx.interval(q))


def _interval_at(ctx: Context, name: str, entry, order: int, x):
    if entry is None:
        return _enclose(ctx, ctx.opaque(name, order, ctx.interval_key(x)))
    if entry.domain != "positive" and not -MAX_ARGUMENT <= x.a <= x.b <= MAX_ARGUMENT:
        # exp(exp(exp(4))) = 10^(2e23): an argument this large to a function of the
        # whole line (exp, sigmoid, sin ...) overflows any useful precision (and would
        # take mpmath forever); like a float64 overflow, the point is redrawn.  log and
        # sqrt grow slowly: any argument is fine
        raise Undefined(f"{name} of a number beyond 2^32 in magnitude")
    ctx.intervals.add(name)
    try:
        return entry.interval(ctx.iv, x, order)
    except ZeroDivisionError:
        raise Undefined(f"{name} at an enclosure of 0") from None
    except (ValueError, ArithmeticError) as e:      # mpmath's ComplexResult is a ValueError
        raise Undefined(f"{name}: {e}") from None


def _enclose(ctx: Context, v):
    if isinstance(v, Fraction):
        return ctx.iv.mpf(v.numerator) / v.denominator
    return v


# -- symbolic numbers: their signs, certain ----------------------------------------------

SIGN_PRECISIONS = (256, 2048)   # bits of the enclosures of a symbolic number whose sign is wanted


@lru_cache(maxsize=None)
def _function_table() -> dict:
    """SymPy function class -> (registered name, derivative order): the classes
    the exact forms of the registered functions are written with (``exp``,
    ``Sigmoid``, ``Relu`` and its derivative ``Step`` ...), read off the
    registry, so that a value of one is enclosed by that entry's interval form."""
    t = sp.Dummy("t")
    table: dict = {}
    for order in (0, 1):
        for name in registry.ELEMENTWISE:
            form = elementwise.exact(name, order)(t)
            if isinstance(form, sp.Function) and form.args == (t,):
                table.setdefault(type(form), (name, order))
    return table


class _NoValue(Exception):
    """A part of a symbolic number that has no value to enclose (an opaque
    function: any value is possible)."""


def enclose(ctx: Context, v):
    """An mpmath interval (in ``ctx.iv``, at its precision) that certainly
    contains the SymPy number ``v``: rationals, sums, products, powers,
    pi, e and the registered functions (each by its entry's interval form);
    None where ``v`` has a part without a value (an opaque function ``sigma(3)``,
    a symbol).  :class:`Undefined` where a part is not certainly defined (a
    divisor or a log argument whose enclosure contains 0).

    >>> from symbolic_bp.core.elementwise import Softplus
    >>> x = enclose(Context(prec=64), Softplus(sp.Integer(3)) - 3)
    >>> bool(0.0485 < x.a <= x.b < 0.0486)
    True
    """
    iv, table = ctx.iv, _function_table()

    def walk(e):
        if e.is_Rational:
            return iv.mpf(int(e.p)) / int(e.q)
        if e.is_Float:                          # a binary number: exactly a rational
            return walk(sp.Rational(e))
        if e is sp.pi:
            return iv.pi
        if e is sp.E:
            return iv.e
        if e.is_Add:
            parts = [walk(a) for a in e.args]
            return sum(parts[1:], parts[0])
        if e.is_Mul:
            out = iv.mpf(1)
            for a in e.args:
                out = out * walk(a)
            return out
        if e.is_Pow:
            base, k = walk(e.base), e.exp
            if k.is_Integer:
                if k < 0 and base.a <= 0 <= base.b:
                    raise Undefined("a divisor whose enclosure contains 0")
                return base ** int(k) if k >= 0 else 1 / base ** int(-k)
            if k.is_Rational:                   # b^(p/q) = exp((p/q) log b), b > 0
                if not base.a > 0:
                    raise Undefined("a fractional power of a number not certainly positive")
                return iv.exp(iv.log(base) * walk(k))
            raise _NoValue(str(e))
        if isinstance(e, sp.Function) and type(e) in table and len(e.args) == 1:
            name, order = table[type(e)]
            return _interval_at(ctx, name, registry.elementwise(name), order, walk(e.args[0]))
        raise _NoValue(str(e))

    try:
        return walk(sp.sympify(v))
    except _NoValue:
        return None


def certain_sign(ctx: Context, v) -> int:
    """The sign of the SymPy number ``v`` where an enclosure of it
    (:func:`enclose`, at :data:`SIGN_PRECISIONS` bits) excludes 0: never
    guessed.  :class:`Undefined` otherwise -- an enclosure that keeps
    containing 0 (a tie, or a zero SymPy cannot simplify), or a value of an
    opaque function (sigma(3) > 1 holds for some sigma and not for others):
    the point cannot be used."""
    for prec in SIGN_PRECISIONS:
        x = enclose(Context(ctx.mode, prec, ctx.salt), v)
        if x is None:
            raise Undefined(f"the sign of {v} is not determined (a value of an opaque function, or a part "
                            f"without an interval form)")
        if x.a > 0:
            return 1
        if x.b < 0:
            return -1
    raise Undefined(f"the sign of {v} is not certain at {SIGN_PRECISIONS[-1]} bits")


def _exact_adjugate(m: DomainMatrix) -> DomainMatrix:
    """adj(A) = (-1)^(n-1) (A^(n-1) + c1 A^(n-2) + ... + c_(n-1) I) for the
    characteristic polynomial λ^n + c1 λ^(n-1) + ... + c_n (Cayley-Hamilton)."""
    n = m.shape[0]
    if n == 1:
        return DomainMatrix.eye(1, QQ).to_dense()
    m = m.to_dense()
    coefficients = m.charpoly()             # [1, c1, ..., cn]
    eye = DomainMatrix.eye(n, QQ).to_dense()
    out = DomainMatrix.zeros((n, n), QQ).to_dense()
    for c in coefficients[:n]:
        out = out.matmul(m) + eye * c
    return out * QQ((-1) ** (n - 1))


def _interval_eliminate(m: Mat):
    """Gauss-Jordan elimination with partial pivoting on enclosures: (the
    inverse, the determinant).  A pivot whose enclosure contains 0 cannot be
    certified: :class:`Undefined` (a singular matrix, or too little precision)."""
    iv = m.ctx.iv
    n = m.rows
    a = [list(row) + [iv.mpf(1 if i == j else 0) for j in range(n)] for i, row in enumerate(m.data)]
    det = iv.mpf(1)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: _magnitude(a[r][col]))
        p = a[pivot][col]
        if p.a <= 0 <= p.b:
            raise Undefined("a matrix whose enclosure contains a singular one")
        if pivot != col:
            a[col], a[pivot] = a[pivot], a[col]
            det = -det
        det = det * p
        row = [v / p for v in a[col]]
        a[col] = row
        for r in range(n):
            if r != col:
                factor = a[r][col]
                a[r] = [v - factor * w for v, w in zip(a[r], row)]
    return [row[n:] for row in a], det


def _magnitude(x) -> float:
    """|midpoint| of an enclosure, as a float (for choosing pivots)."""
    return abs(to_float(x._mpi_[0]) + to_float(x._mpi_[1]))


class Dual:
    """A matrix and its tangents: ``value + Σ εₖ tangents[k]`` with εₖεₗ = 0.
    ``tangents`` is None when every tangent is 0 (a constant).

    Arithmetic (``+ - @ .T``, :meth:`hadamard`, :meth:`scale`) follows the
    product rule; :meth:`push` and :meth:`linear` build the registry's dual forms."""

    __slots__ = ("value", "tangents")
    __hash__ = object.__hash__

    def __init__(self, value: Mat, tangents: list[Mat] | None = None):
        self.value, self.tangents = value, tangents

    def __repr__(self):
        return f"Dual({self.value!r}, {self.tangents!r})"

    def push(self, value: Mat, tangent) -> "Dual":
        """A value with tangents ``tangent(t)`` for each tangent t of this one."""
        return Dual(value, None if self.tangents is None else [tangent(t) for t in self.tangents])

    def linear(self, f) -> "Dual":
        """f applied to the value and to every tangent (f linear)."""
        return self.push(f(self.value), f)

    def bilinear(self, other: "Dual", f) -> "Dual":
        """f(self, other) for f linear in each argument."""
        value = f(self.value, other.value)
        if self.tangents is None and other.tangents is None:
            return Dual(value)
        if other.tangents is None:
            return Dual(value, [f(t, other.value) for t in self.tangents])
        if self.tangents is None:
            return Dual(value, [f(self.value, t) for t in other.tangents])
        return Dual(value, [f(t, other.value) + f(self.value, u) for t, u in zip(self.tangents, other.tangents)])

    def __add__(self, other: "Dual") -> "Dual":
        value = self.value + other.value
        if self.tangents is None or other.tangents is None:
            return Dual(value, self.tangents if other.tangents is None else other.tangents)
        return Dual(value, [t + u for t, u in zip(self.tangents, other.tangents)])

    def __neg__(self) -> "Dual":
        return self.linear(lambda m: -m)

    def __sub__(self, other: "Dual") -> "Dual":
        return self + (-other)

    def __matmul__(self, other: "Dual") -> "Dual":
        return self.bilinear(other, lambda a, b: a @ b)

    def hadamard(self, other: "Dual") -> "Dual":
        return self.bilinear(other, lambda a, b: a * b)

    def scale(self, s: "Dual") -> "Dual":
        """This matrix times the 1x1 dual ``s``."""
        return self.bilinear(s, lambda m, v: m.scale(v))

    @property
    def T(self) -> "Dual":
        return self.linear(lambda m: m.T)

    def apply(self, name: str, order: int) -> "Dual":
        """f⁽ᵏ⁾ entrywise: value f⁽ᵏ⁾(a), tangents f⁽ᵏ⁺¹⁾(a) * t."""
        value = self.value.apply(name, order)
        if self.tangents is None:
            return Dual(value)
        slope = self.value.apply(name, order + 1)
        return Dual(value, [slope * t for t in self.tangents])

    def power(self, k: int) -> "Dual":
        """A 1x1 dual to the integer power k."""
        if k == 0:
            return Dual(self.value.build(1, 1, lambda i, j: 1))
        value = self.value.power(k)
        return self.push(value, lambda t: t.scale(self.value.power(k - 1)).scale(
            self.value.build(1, 1, lambda i, j: k)))

    # what the Evaluator writes for a scalar divisor: s == 0, then 1 / s
    def __eq__(self, other):
        if isinstance(other, int) and other == 0:
            return self.value.is_zero()
        return NotImplemented

    def __rtruediv__(self, other):
        if other != 1:
            return NotImplemented
        r = self.value.reciprocal()
        return self.push(r, lambda t: -(t.scale(r).scale(r)))


class Kit:
    """What an operation's dual form may need besides its arguments: constants."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def constant(self, rows) -> Dual:
        """A constant matrix from rows of ints or Fractions."""
        return Dual(self.ctx.exact(rows))

    def identity(self, n: int) -> Dual:
        return Dual(self.ctx.eye(n))


class DualBackend:
    """The :class:`~symbolic_bp.calculus.evaluate.Evaluator` backend on
    :class:`Dual` values (scalars are 1x1 duals)."""

    def __init__(self, ctx: Context):
        self.ctx, self.kit = ctx, Kit(ctx)

    def scalar(self, m: Dual) -> Dual:
        return m

    def const(self, value: Fraction) -> Dual:
        return self.kit.constant([[value]])

    def fill(self, s: Dual, shape) -> Dual:
        return s.linear(lambda m: m.build(shape[0], shape[1], lambda i, j: m[0, 0]))

    def broadcast(self, a: Dual, shape) -> Dual:
        return a.linear(lambda m: m.build(shape[0], shape[1], lambda i, j: m[i % m.rows, j % m.cols]))

    def add(self, a: Dual, b: Dual) -> Dual:
        return a + b

    def neg(self, a: Dual) -> Dual:
        return -a

    def transpose(self, a: Dual) -> Dual:
        return a.T

    def matmul(self, a: Dual, b: Dual) -> Dual:
        return a @ b

    def hadamard(self, a: Dual, b: Dual) -> Dual:
        return a.hadamard(b)

    def scale(self, s: Dual, m: Dual) -> Dual:
        return m.scale(s)

    def power(self, s: Dual, k: int) -> Dual:
        return s.power(k)

    def apply(self, name: str, order: int, m: Dual, seed: int) -> Dual:
        return m.apply(name, order)

    def call(self, op, args, params) -> Dual:
        if op.dual is None:
            raise TypeError(f"the operation {op.name} has no dual form")
        return op.dual(self.kit, *args, *params)


def evaluate(node, sizes: dict, env: dict[str, Dual], ctx: Context) -> Dual:
    """``node`` on dual values (its tangents: the directional derivatives)."""
    return Evaluator(DualBackend(ctx), sizes)(node, env)


def basis(ctx: Context, shape: tuple[int, int]) -> list[Mat]:
    """The directions E_ij, row by row: tangent k is ∂/∂X_ij for k = i*cols + j."""
    rows, cols = shape
    zero, one = QQ(0), QQ(1)
    out = []
    for i in range(rows):
        for j in range(cols):
            table = [[zero] * cols for _ in range(rows)]
            table[i][j] = one
            out.append(Mat(ctx, EXACT, DomainMatrix(table, shape, QQ), shape))
    return out


# -- random points ---------------------------------------------------------------------

def dyadic(rng, positive: bool = False) -> Fraction:
    """A random element of S = {k / 2^20 : |k| <= 2^22} (0 < k when positive)."""
    k = rng.randint(1, NUMERATOR_BOUND) if positive else rng.randint(-NUMERATOR_BOUND, NUMERATOR_BOUND)
    return Fraction(k, 2 ** DENOMINATOR_BITS)


def draw_matrix(ctx: Context, rng, shape: tuple[int, int], prop: str | None, positive: bool) -> Mat:
    """Random dyadic rationals with the declared property, by the rules of
    :mod:`symbolic_bp.checks.sampling`: symmetric (M + Mᵀ)/2, spd M Mᵀ + I
    (:func:`~symbolic_bp.checks.sampling.impose`); invertible: M drawn again
    while det M = 0; positive (declared, or ``positive`` for a log): elements
    of S with k > 0; onehot / binary: exact 0/1 entries
    (:func:`~symbolic_bp.checks.sampling.zero_one`).

    >>> import random
    >>> m = draw_matrix(Context(), random.Random(0), (2, 3), "onehot", False).to_fractions()
    >>> [sum(row) for row in m], sorted({v for row in m for v in row})
    ([Fraction(1, 1), Fraction(1, 1)], [Fraction(0, 1), Fraction(1, 1)])
    """
    rows, cols = shape
    if is_discrete(prop):
        return ctx.exact(zero_one(prop, shape, rng.randrange))
    positive = draws_positive(prop, positive)
    while True:
        m = impose(ctx.exact([[dyadic(rng, positive) for _ in range(cols)] for _ in range(rows)]), prop, ctx.eye)
        if prop != "invertible" or not m.det().is_zero():
            return m
