"""Completeness tests of the registry (:mod:`symbolic_bp.core.registry`),
generated from its tables.

Every entry is declared once, in one place, and every pass trusts it: the
shape rule, the adjoint (VJP) rule, the exact and float64 evaluations, the
LaTeX and NumPy printers of an :class:`Operation`; the exact form and the
numeric derivatives of an :class:`Elementwise` function; the expansion of a
:class:`Macro`; the reason of an :class:`Unsupported` name.  A wrong entry is
a wrong answer somewhere far away, so each test here is parametrized over
``sorted(<TABLE>)``: a new entry is tested the moment it is registered,
without touching this file.  In particular no table of per-operation test
expressions is written by hand: the calls are built from the shape rule
itself (:func:`accepted_calls`), at small concrete sizes.

* every Operation has all its rules, and its arity agrees with the parser;
* its adjoint rule agrees with central finite differences of
  C = sum(R * op(A1, ..., Ak)) (R a random weight of the result's shape);
* its exact (SymPy) and numeric (NumPy) evaluations agree, and so does the
  NumPy code it prints;
* every Elementwise function's numeric derivatives of orders 1..3 agree with
  finite differences of orders 0..2, its exact form agrees with the numeric
  one, its closed-form derivative (claim-language text) with the order-1
  derivative;
* every Macro expands to a typed tree whose gradient passes the same
  finite-difference harness; every Unsupported name is refused with its reason;
* a name is registered once, and no registered name can be declared.

A meta-test plants wrong adjoint rules and checks that the harness catches them.
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from symbolic_bp.calculus.builder import Builder
from symbolic_bp.calculus.evaluate import Evaluator, ExactBackend, NumericBackend
from symbolic_bp.calculus.gradient import gradient
from symbolic_bp.checks.finite_differences import central_differences, relative_difference
from symbolic_bp.core import elementwise, registry
from symbolic_bp.core.dims import Dim, concrete, is_scalar
from symbolic_bp.core.expression import Call
from symbolic_bp.errors import InputError
from symbolic_bp.language.parser import parse
from symbolic_bp.language.shapes import parse_declarations, parse_typed

registry.reserved()         # the first lookup fills the tables, which parametrize the tests below

OPERATIONS = sorted(registry.OPERATIONS)
ELEMENTWISE = sorted(registry.ELEMENTWISE)
MACROS = sorted(registry.MACROS)
UNSUPPORTED = sorted(registry.UNSUPPORTED)

FD_TOLERANCE = 1e-6          # adjoint rule vs central differences (relative, floor 1)
EXACT_TOLERANCE = 1e-9       # SymPy vs NumPy evaluation
# operations allowed to lack NumPy code: none since ``Operation.numpy`` became required
# (blocksum and tilesum were the last exceptions); a new entry without it fails
WITHOUT_NUMPY: frozenset[str] = frozenset()

# value-argument shapes tried, square first; the rectangular ones are rotated per
# argument so that a binary operation sees two different shapes
SQUARE_SHAPES = [(3, 3), (2, 2), (6, 6)]
RECTANGULAR_SHAPES = [(2, 3), (3, 2), (4, 6), (6, 4), (6, 9), (9, 6), (3, 1), (1, 3)]
PARAM_VALUES = {"dim": [Dim(2), Dim(3)], "int": [-2, -1, 0, 1, 2, 3], "real": [2, -1, Fraction(1, 2), Fraction(-3, 2)],
                "axis": [None, 0, 1], "bool": [False, True]}


def rng_for(*key) -> np.random.Generator:
    """A generator seeded by the test's key (crc32: stable across processes, unlike hash)."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


# -- building calls from the shape rule ------------------------------------------------------

def dims(shape: tuple[int, int]) -> tuple[Dim, Dim]:
    return (Dim(shape[0]), Dim(shape[1]))


def result_shape(op: registry.Operation, shapes, params):
    """The shape rule's answer, or None where it rejects the arguments."""
    try:
        return op.shape(tuple(dims(s) for s in shapes), params)
    except registry.ShapeError:
        return None


def first_accepted(op: registry.Operation, candidates, params):
    """The first argument shapes the rule accepts, preferring a non-1x1 result."""
    accepted = [s for s in candidates if result_shape(op, s, params) is not None]
    larger = [s for s in accepted if not is_scalar(result_shape(op, s, params))]
    return (larger or accepted or [None])[0]


def accepted_calls(name: str) -> list[tuple[tuple, tuple]]:
    """(params, argument shapes) pairs at which ``name`` is tested: every
    combination of small parameters, each with the first square and the first
    rectangular argument shapes its shape rule accepts (combinations it
    rejects at every shape are skipped)."""
    op = registry.operation(name)
    rotated = [RECTANGULAR_SHAPES[i:] + RECTANGULAR_SHAPES[:i] for i in range(op.arity)]
    calls = []
    kinds = list(op.params) + [k.kind for k in op.keywords]
    for params in itertools.product(*(PARAM_VALUES[kind] for kind in kinds)):
        for candidates in (itertools.product(SQUARE_SHAPES, repeat=op.arity), itertools.product(*rotated)):
            shapes = first_accepted(op, list(candidates), params)
            if shapes is not None and (params, shapes) not in calls:
                calls.append((params, shapes))
    return calls


def argument_names(arity: int) -> list[str]:
    return [f"A{i + 1}" for i in range(arity)]


def call_text(name: str, arity: int, params) -> str:
    """``kron(A1, A2)``, ``blocksum(A1, 2, 3)``, ``matrix_power(A1, -2)``,
    ``sum(A1, axis=0, keepdims=True)`` (keyword parameters by name)."""
    entry = registry.operation(name) or registry.macro(name)
    positional = len(entry.params) if isinstance(entry, registry.Operation) else 0
    written = [f"({p})" if isinstance(p, Fraction) else str(p) for p in params[:positional]]
    written += [f"{k.name}={v}" for k, v in zip(entry.keywords, params[positional:])]
    return f"{name}({', '.join(argument_names(arity) + written)})"


def declarations(shapes, extra: str = "R:1"):
    """``A1:r1,c1 A2:r2,c2 ...`` and ``extra`` (a weight R, by default 1x1 so
    that an operation without value arguments still declares a symbol)."""
    return parse_declarations(" ".join(f"{a}:{r},{c}" for a, (r, c) in zip(argument_names(len(shapes)), shapes))
                              + " " + extra)


def weighted_cost(call: str, shapes):
    """C = sum(R * call) typed, with R declared of the call's result shape."""
    rows, cols = concrete(parse_typed(call, declarations(shapes)).shape, {})
    decls = declarations(shapes, f"R:{rows},{cols}")
    return parse_typed(f"sum(R * {call})", decls), decls, (rows, cols)


def well_conditioned(rng, shape, positive: bool = False) -> np.ndarray:
    """Uniform(-1, 1) entries (uniform(0.5, 1.5) when ``positive``); a square
    matrix gets + n I, so it is strictly diagonally dominant with a positive
    diagonal: invertible, det > 0."""
    m = rng.uniform(0.5, 1.5, shape) if positive else rng.uniform(-1.0, 1.0, shape)
    return m + shape[0] * np.eye(shape[0]) if shape[0] == shape[1] else m


def wants_positive(op: registry.Operation, params) -> bool:
    """The operation needs positive arguments at these parameters (a real power)."""
    if callable(op.positive):
        return op.positive(Call(name=op.name, args=(), params=tuple(params)))
    return False


def numeric_value(node, env) -> np.ndarray:
    return Evaluator(NumericBackend(), {})(node, env)


def gradient_errors(cost, decls, env, wrt: list[str]) -> dict[str, float]:
    """For each X in ``wrt``: relative difference of the derived dC/dX
    (evaluated numerically) from central differences of C."""
    errors = {}
    for x in wrt:
        derived = numeric_value(gradient(cost, x, decls), env)
        derived = np.broadcast_to(derived, env[x].shape)        # a zero gradient is the number 0

        def cost_at(value, x=x):
            return float(numeric_value(cost, {**env, x: value})[0, 0])
        errors[x] = relative_difference(derived, central_differences(cost_at, env[x]))
    return errors


def vjp_errors(name: str, params, shapes, seed_key) -> dict[str, float]:
    """The adjoint-rule harness: C = sum(R * op(A1..Ak)) at a random
    well-conditioned point; the gradient with respect to every value argument
    (and to R, which checks the evaluation of op itself, and is all there is
    for eye or ones)."""
    op = registry.operation(name)
    cost, decls, r_shape = weighted_cost(call_text(name, op.arity, params), shapes)
    rng = rng_for(*seed_key)
    env = {a: well_conditioned(rng, s, wants_positive(op, params)) for a, s in zip(argument_names(op.arity), shapes)}
    env["R"] = rng.uniform(-1.0, 1.0, r_shape)
    return gradient_errors(cost, decls, env, argument_names(op.arity) + ["R"])


def all_failures(name: str, check) -> list[str]:
    """Run ``check(params, shapes)`` (a list of complaints) at every accepted call."""
    calls = accepted_calls(name)
    assert calls, f"{name}: the shape rule accepts none of the tried shapes and parameters"
    return [f"{call_text(name, registry.operation(name).arity, params)} at {shapes}: {complaint}"
            for params, shapes in calls for complaint in check(params, shapes)]


# -- 1. every operation has every rule --------------------------------------------------------

@pytest.mark.parametrize("name", OPERATIONS)
def test_operation_has_every_rule(name):
    op = registry.operation(name)
    assert op.name == name
    for rule in ("shape", "vjp", "exact", "numeric", "latex"):
        assert callable(getattr(op, rule)), f"{name} has no {rule} rule"
    assert op.numpy is None or callable(op.numpy)         # None: see the next test
    assert op.summary.strip(), f"{name} has no summary"
    assert all(kind in PARAM_VALUES for kind in op.params), f"{name}: unknown parameter kinds {op.params}"
    assert all(k.kind in PARAM_VALUES for k in op.keywords), f"{name}: unknown keyword kinds {op.keywords}"
    assert op.argument_count == op.arity + len(op.params)


def test_every_operation_prints_to_numpy():
    assert {name for name in OPERATIONS if registry.operation(name).numpy is None} == WITHOUT_NUMPY


@pytest.mark.parametrize("name", OPERATIONS)
def test_latex_shows_every_argument_and_parameter(name):
    op = registry.operation(name)
    args = [rf"\mathbf{{A{i}}}" for i in range(op.arity)]
    atoms = [rf"\left(\mathbf{{A{i}}}\right)" for i in range(op.arity)]
    params = [f"p{i}" for i in range(len(op.params))]
    text = op.latex(args, atoms, params + [str(k.default) for k in op.keywords])
    assert isinstance(text, str) and text.strip()
    for i in range(op.arity):
        assert rf"\mathbf{{A{i}}}" in text, f"{name}: argument {i} missing from {text!r}"
    for p in params:
        assert p in text, f"{name}: parameter {p} missing from {text!r}"


@pytest.mark.parametrize("name", OPERATIONS + MACROS)
def test_parser_accepts_exactly_the_declared_number_of_arguments(name):
    required, most = registry.arguments(name)
    entry = registry.operation(name) or registry.macro(name)
    assert required == (entry.argument_count if name in registry.OPERATIONS else entry.arity)
    assert most == required + sum(k.positional for k in entry.keywords)

    def written(count):
        return f"{name}({', '.join(f'a{i}' for i in range(count))})"
    parse(written(required))
    parse(written(most))
    with pytest.raises(InputError, match=f"{name} takes .*argument"):
        parse(written(most + 1))
    if required > 0:
        with pytest.raises(InputError, match=f"{name} takes .*argument"):
            parse(written(required - 1))


@pytest.mark.parametrize("name", [n for n in OPERATIONS + MACROS if registry.keywords(n)])
def test_keyword_parameters_are_read_by_name_and_unknown_ones_refused(name):
    entry = registry.operation(name) or registry.macro(name)
    keyword = entry.keywords[0]
    args = ", ".join(f"a{i}" for i in range(registry.arguments(name)[0]))
    call = parse(f"{name}({args}, {keyword.name}={keyword.default})")
    assert dict(call.keywords)[keyword.name] is not None
    with pytest.raises(InputError, match="takes no keyword argument 'bogus'"):
        parse(f"{name}({args}, bogus=1)")


# -- 2. adjoint rules against finite differences ---------------------------------------------

@pytest.mark.parametrize("name", OPERATIONS)
def test_adjoint_rule_matches_finite_differences(name):
    def check(params, shapes):
        errors = vjp_errors(name, params, shapes, ("vjp", name, params, shapes))
        return [f"d/d{x}: relative difference {e:.2e}" for x, e in errors.items() if not e < FD_TOLERANCE]
    failures = all_failures(name, check)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_value_argument_gets_one_adjoint(name):
    """vjp returns one entry per value argument (zip in Backprop would silently drop the rest)."""
    op = registry.operation(name)
    if op.arity == 0:
        pytest.skip(f"{name} takes no value argument")
    params, shapes = accepted_calls(name)[0]
    cost, decls, _ = weighted_cost(call_text(name, op.arity, params), shapes)
    node = cost.args[0].right            # sum(Hadamard(R, call))
    assert node.name == name
    adjoints = op.vjp(Builder(decls), node, parse_typed("R", decls))
    assert len(adjoints) == op.arity
    for arg, adjoint in zip(node.args, adjoints):
        assert adjoint is None or adjoint.shape == arg.shape, f"{name}: adjoint of shape {adjoint.shape}"


WRONG_ADJOINTS = {
    # twice the true adjoint of the trace
    "tr": lambda right: lambda b, node, g: tuple(b.mul(b.number(2), a) for a in right(b, node, g)),
    # -inv(X) G inv(X): the transposes forgotten (inv(X) is not symmetric at the drawn point)
    "inv": lambda right: lambda b, node, g: (b.neg(b.matmul(b.matmul(node, g), node)),),
}


@pytest.mark.parametrize("name", sorted(WRONG_ADJOINTS))
def test_harness_catches_a_wrong_adjoint_rule(name, monkeypatch):
    entry = registry.operation(name)
    params, shapes = accepted_calls(name)[0]
    right = vjp_errors(name, params, shapes, ("meta", name))
    assert max(right.values()) < FD_TOLERANCE
    monkeypatch.setitem(registry.OPERATIONS, name, replace(entry, vjp=WRONG_ADJOINTS[name](entry.vjp)))
    wrong = vjp_errors(name, params, shapes, ("meta", name))
    assert wrong["A1"] > 1e-2, f"the planted wrong adjoint of {name} passed: {wrong}"


# -- 3. exact and numeric evaluation agree ------------------------------------------------------

def small_rational(rng) -> Fraction:
    return Fraction(int(rng.integers(-3, 4)), int(rng.integers(1, 4)))


def rational_point(rng, shape, positive: bool = False) -> sp.Matrix:
    """Small rationals (positive ones when ``positive``); a square matrix gets
    + n I (invertible, det > 0)."""
    def entry():
        value = small_rational(rng)
        return abs(value) + 1 if positive else value
    m = sp.Matrix(shape[0], shape[1], lambda i, j: sp.Rational(*entry().as_integer_ratio()))
    return m + shape[0] * sp.eye(shape[0]) if shape[0] == shape[1] else m


def as_float(m: sp.Matrix) -> np.ndarray:
    return np.array(m.evalf(30).tolist(), dtype=float)


@pytest.mark.parametrize("name", OPERATIONS)
def test_exact_and_numeric_evaluation_agree(name):
    op = registry.operation(name)

    def check(params, shapes):
        rng = rng_for("exact", name, params, shapes)
        decls = declarations(shapes)
        node = parse_typed(call_text(name, op.arity, params), decls)
        # a divisor and the base of a real power are drawn positive (nonzero)
        positive = wants_positive(op, params) or op.infix in ("/", "**")
        exact_env = {a: rational_point(rng, s, positive) for a, s in zip(argument_names(op.arity), shapes)}
        exact = Evaluator(ExactBackend(), {})(node, exact_env)
        numeric = numeric_value(node, {a: as_float(m) for a, m in exact_env.items()})
        expected_shape = concrete(node.shape, {})
        complaints = []
        if exact.shape != expected_shape or numeric.shape != expected_shape:
            complaints.append(f"shapes: rule {expected_shape}, exact {exact.shape}, numeric {numeric.shape}")
        elif not relative_difference(numeric, as_float(exact)) < EXACT_TOLERANCE:
            complaints.append(f"exact {as_float(exact).tolist()} vs numeric {numeric.tolist()}")
        return complaints
    failures = all_failures(name, check)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", [n for n in OPERATIONS if registry.operation(n).numpy is not None])
def test_printed_numpy_code_computes_the_numeric_value(name):
    op = registry.operation(name)

    def check(params, shapes):
        rng = rng_for("numpy", name, params, shapes)
        args = {f"a{i}": well_conditioned(rng, s, wants_positive(op, params)) for i, s in enumerate(shapes)}
        code = op.numpy(list(args), [str(p) for p in params])
        printed = eval(code, {"np": np}, dict(args))        # our own registry's code, no user input
        numeric = op.numeric(*args.values(), *(p.value({}) if isinstance(p, Dim) else p for p in params))
        if np.shape(printed) != numeric.shape or not relative_difference(printed, numeric) < EXACT_TOLERANCE:
            return [f"{code!r} gives {np.asarray(printed).tolist()}, numeric {numeric.tolist()}"]
        return []
    failures = all_failures(name, check)
    assert not failures, "\n".join(failures)


# -- 4. elementwise functions --------------------------------------------------------------------

def points_in_domain(name: str) -> np.ndarray:
    """A 2x4 array of random points where ``name`` is drawn: positive for
    domain "positive", at least 0.1 away from the kink at 0 when not smooth."""
    entry = registry.elementwise(name)
    rng = rng_for("points", name)
    if entry.domain == "positive":
        return rng.uniform(0.5, 3.0, (2, 4))
    x = rng.uniform(-3.0, 3.0, (2, 4))
    return x if entry.smooth else np.sign(x) * np.maximum(np.abs(x), 0.1)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_numeric_derivative_matches_finite_differences(name, order):
    x = points_in_domain(name)
    below = elementwise.numeric(name, order - 1, seed=0)
    # the sum of f^(k-1) over the entries: its partial derivative at entry i is f^(k)(x_i)
    fd = central_differences(lambda m: float(np.sum(below(m))), x)
    derived = elementwise.numeric(name, order, seed=0)(x)
    assert relative_difference(derived, fd) < FD_TOLERANCE, f"{name}^({order}): {derived} vs {fd}"


def exact_at(name: str, order: int, x: float) -> float:
    value = elementwise.exact(name, order)(sp.Float(x, 30)).rewrite(sp.exp)
    number = complex(sp.N(value, 30))
    assert abs(number.imag) < 1e-12, f"{name}^({order})({x}) = {number}"
    return number.real


@pytest.mark.parametrize("order", [0, 1, 2, 3])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_exact_form_agrees_with_numeric(name, order):
    x = points_in_domain(name)
    exact = np.vectorize(lambda t: exact_at(name, order, t))(x)
    numeric = elementwise.numeric(name, order, seed=0)(x)
    assert relative_difference(numeric, exact) < EXACT_TOLERANCE, f"{name}^({order}): {numeric} vs {exact}"


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_closed_form_derivative_is_the_first_derivative(name):
    entry = registry.elementwise(name)
    if entry.derivative is None:
        pytest.skip(f"{name}' has no closed form in the claim language")
    x = points_in_domain(name)
    decls = parse_declarations(f"u:{x.shape[0]},{x.shape[1]}")
    closed = numeric_value(parse_typed(entry.derivative, decls), {"u": x})
    assert closed.shape == x.shape
    assert relative_difference(closed, elementwise.numeric(name, 1, seed=0)(x)) < EXACT_TOLERANCE


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_entry_is_documented(name):
    entry = registry.elementwise(name)
    assert entry.name == name
    assert entry.rule.strip(), f"{name} has no rule"
    assert entry.latex.strip(), f"{name} has no LaTeX"
    assert entry.domain in ("real", "positive"), f"{name}: unknown domain {entry.domain!r}"


# -- 5. macros and unsupported names ---------------------------------------------------------------

MACRO_SHAPES = [(3, 3), (3, 2), (3, 1)]       # square, tall (full column rank at a random point), a column


@pytest.mark.parametrize("name", MACROS)
def test_macro_expansion_types_and_its_gradient_passes_finite_differences(name):
    m = registry.macro(name)
    assert m.summary.strip(), f"{name} has no summary"
    typed, failures = 0, []
    for shapes in itertools.product(MACRO_SHAPES, repeat=m.arity):
        try:
            cost, decls, r_shape = weighted_cost(call_text(name, m.arity, ()), shapes)
        except InputError:
            continue
        typed += 1
        assert all(getattr(n, "name", None) != name for n in cost.walk()), f"{name} was not expanded"
        rng = rng_for("macro", name, shapes)
        env = {a: well_conditioned(rng, s) for a, s in zip(argument_names(m.arity), shapes)}
        env["R"] = rng.uniform(-1.0, 1.0, r_shape)
        for x, e in gradient_errors(cost, decls, env, argument_names(m.arity) + ["R"]).items():
            if not e < FD_TOLERANCE:
                failures.append(f"{name} at {shapes}: d/d{x}: relative difference {e:.2e}")
    assert typed, f"{name} types at none of the shapes {MACRO_SHAPES}"
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_unsupported_name_is_refused_with_its_reason(name):
    reason = registry.unsupported(name).reason
    assert reason.strip()
    with pytest.raises(InputError) as refused:
        parse_typed(f"sum({name}(A))", parse_declarations("A:3,3"))
    assert reason in str(refused.value)


# -- 6. names are registered once, and reserved -----------------------------------------------------

def test_each_name_is_registered_in_one_table_only():
    tables = (registry.OPERATIONS, registry.ELEMENTWISE, registry.MACROS, registry.UNSUPPORTED)
    union = set().union(*tables)
    assert len(union) == sum(len(t) for t in tables), "a name is in two tables"
    assert registry.known_names() == union
    for table in tables:
        assert all(entry.name == key for key, entry in table.items())


def test_registering_a_known_name_again_fails(monkeypatch):
    monkeypatch.setattr(registry, "UNSUPPORTED", dict(registry.UNSUPPORTED))     # kept clean if it fails
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(registry.Unsupported(OPERATIONS[0], "a second entry"))
    assert isinstance(registry.operation(OPERATIONS[0]), registry.Operation)


@pytest.mark.parametrize("name", sorted(registry.reserved()))
def test_reserved_name_cannot_be_declared(name):
    assert name == "T" or name in registry.known_names()
    for text in (f"{name}:n", f"{name}:scalar", f"{name}:function", f"A:{name},n"):
        with pytest.raises(InputError):
            parse_declarations(text)
