"""Unit tests for symbolic_bp.language.parser (tokenizer + precedence parser) and the
round trip through symbolic_bp.language.printer.to_text."""
from __future__ import annotations

import builtins
import os
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symbolic_bp.errors import InputError
from symbolic_bp.calculus.evaluate import Evaluator, ExactBackend
from symbolic_bp.core.expression import (
    Add, Apply, Call, Div, MatMul, Mul, Neg, Num, Pow, Sub, Sym, Transpose, num,
)
from symbolic_bp.language.parser import MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH, parse, tokenize
from symbolic_bp.language.printer import to_text
from symbolic_bp.language.shapes import parse_declarations, typecheck

# -- tiny tree builders, to keep the expected trees readable -------------------


def S(name):
    return Sym(name=name)


def N(value):
    return num(value)


x, y, z, A, B, C = (S(n) for n in ("x", "y", "z", "A", "B", "C"))


# -- tokenizer -----------------------------------------------------------------


def test_tokenize_kinds_texts_and_columns():
    toks = tokenize("W.T @ d * sigma'(z) ** 2")
    assert [(t.kind, t.text, t.col) for t in toks] == [
        ("name", "W", 1), ("op", ".T", 2), ("op", "@", 5), ("name", "d", 7),
        ("op", "*", 9), ("name", "sigma", 11), ("op", "'", 16), ("op", "(", 17),
        ("name", "z", 18), ("op", ")", 19), ("op", "**", 21), ("number", "2", 24),
        ("end", "", 25),
    ]


@pytest.mark.parametrize("text, number", [
    ("3", "3"), ("3.25", "3.25"), (".5", ".5"), ("2.", "2."), ("1e3", "1e3"),
    ("2.5E-2", "2.5E-2"), ("7e+1", "7e+1"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_tokenize_numbers(text, number):
    toks = tokenize(text)
    assert [(t.kind, t.text) for t in toks] == [("number", number), ("end", "")]


def test_tokenize_skips_all_whitespace():
    toks = tokenize(" \tx\n+\r\ny ")
    assert [(t.kind, t.text, t.col) for t in toks] == [
        ("name", "x", 3), ("op", "+", 5), ("name", "y", 8), ("end", "", 10)]


@pytest.mark.parametrize("value", [None, 3, b"x", ["x"]], ids=["None", "int", "bytes", "list"])
def test_tokenize_rejects_non_strings(value):
    with pytest.raises(InputError, match="expected a string"):
        tokenize(value)


@pytest.mark.parametrize("value", [None, 3, b"x"], ids=["None", "int", "bytes"])
def test_parse_rejects_non_strings(value):
    with pytest.raises(InputError, match="expected a string"):
        parse(value)


# -- precedence and associativity -----------------------------------------------

PRECEDENCE = [
    # same level, left-associative: @ * /
    ("A @ B @ C", MatMul(left=MatMul(left=A, right=B), right=C)),
    ("A @ B * C", Mul(left=MatMul(left=A, right=B), right=C)),
    ("A * B @ C", MatMul(left=Mul(left=A, right=B), right=C)),
    ("A / B * C", Mul(left=Div(left=A, right=B), right=C)),
    ("A * B / C", Div(left=Mul(left=A, right=B), right=C)),
    ("A / B / C", Div(left=Div(left=A, right=B), right=C)),
    ("A @ B / C", Div(left=MatMul(left=A, right=B), right=C)),
    ("A @ (B @ C)", MatMul(left=A, right=MatMul(left=B, right=C))),
    # + - are left-associative and bind looser than products
    ("A - B - C", Sub(left=Sub(left=A, right=B), right=C)),
    ("A - B + C", Add(left=Sub(left=A, right=B), right=C)),
    ("A - (B + C)", Sub(left=A, right=Add(left=B, right=C))),
    ("A + B @ C", Add(left=A, right=MatMul(left=B, right=C))),
    ("A @ B - C * x", Sub(left=MatMul(left=A, right=B), right=Mul(left=C, right=x))),
    # unary minus: binds tighter than products, looser than **
    ("-x ** 2", Neg(arg=Pow(base=x, exponent=2))),
    ("(-x) ** 2", Pow(base=Neg(arg=x), exponent=2)),
    ("-A @ B", MatMul(left=Neg(arg=A), right=B)),
    ("A @ -B", MatMul(left=A, right=Neg(arg=B))),
    ("A - -B", Sub(left=A, right=Neg(arg=B))),
    ("--x", Neg(arg=Neg(arg=x))),
    ("+x", x),
    ("-+x", Neg(arg=x)),
    ("x * -y ** 2", Mul(left=x, right=Neg(arg=Pow(base=y, exponent=2)))),
    # ** binds tighter than products; negative and parenthesised exponents
    ("2 * x ** 3", Mul(left=N(2), right=Pow(base=x, exponent=3))),
    ("x ** -2", Pow(base=x, exponent=-2)),
    ("x ** (-2)", Pow(base=x, exponent=-2)),
    ("x ** (3)", Pow(base=x, exponent=3)),
    ("x ** 0", Pow(base=x, exponent=0)),
    # .T is postfix, binds tighter than ** and everything else
    ("x.T", Transpose(arg=x)),
    ("x.T.T", Transpose(arg=Transpose(arg=x))),
    ("x .T", Transpose(arg=x)),
    ("x.T ** 2", Pow(base=Transpose(arg=x), exponent=2)),
    ("-x.T", Neg(arg=Transpose(arg=x))),
    ("(A @ B).T", Transpose(arg=MatMul(left=A, right=B))),
    ("A @ B.T", MatMul(left=A, right=Transpose(arg=B))),
    ("f(x).T", Transpose(arg=Apply(name="f", arg=x))),
    ("tr(A).T", Transpose(arg=Call(name="tr", args=(A,)))),
    # elementwise functions and their derivatives
    ("sigma(x)", Apply(name="sigma", arg=x, order=0)),
    ("sigma'(x)", Apply(name="sigma", arg=x, order=1)),
    ("sigma''(x)", Apply(name="sigma", arg=x, order=2)),
    ("sigma ' (x)", Apply(name="sigma", arg=x, order=1)),
    ("sigmoid'(A @ x)", Apply(name="sigmoid", arg=MatMul(left=A, right=x), order=1)),
    ("W.T @ d * sigma'(z)",
     Mul(left=MatMul(left=Transpose(arg=S("W")), right=S("d")), right=Apply(name="sigma", arg=z, order=1))),
    # matrix functions
    ("tr(A @ B)", Call(name="tr", args=(MatMul(left=A, right=B),))),
    ("kron(A, B)", Call(name="kron", args=(A, B))),
    ("matrix_power(A, -2)", Call(name="matrix_power", args=(A, Neg(arg=N(2))))),
    ("ones(m, 2 * n)", Call(name="ones", args=(S("m"), Mul(left=N(2), right=S("n"))))),
    ("blocksum(A, p, q)", Call(name="blocksum", args=(A, S("p"), S("q")))),
    # numbers
    ("0.5 * x", Mul(left=Num(value=Fraction(1, 2)), right=x)),
    ("1e3", N(1000)),
    ("1/2 * x", Mul(left=Num(value=Fraction(1, 2)), right=x)),   # a literal fraction is one number
    ("x / 2 / 3", Div(left=Div(left=x, right=N(2)), right=N(3))),
    # redundant parentheses and whitespace disappear
    ("((x))", x),
    ("  ( x +y )  ", Add(left=x, right=y)),
]


@pytest.mark.parametrize("text, tree", PRECEDENCE, ids=[t for t, _ in PRECEDENCE])
def test_precedence_and_associativity(text, tree):
    assert parse(text) == tree


def test_positions_are_1_based_columns_of_the_operator():
    tree = parse("x + y @ z.T")
    assert tree.pos == 3                          # '+'
    assert tree.left.pos == 1                     # x
    assert tree.right.pos == 7                    # '@'
    assert tree.right.right.pos == 10             # '.T'
    assert tree.right.right.arg.pos == 9          # z


def test_parsed_tree_is_untyped():
    assert all(n.shape is None for n in parse("-A @ x.T * sigma'(y) + tr(B)").walk())


def test_exponent_limits_are_inclusive():
    assert parse(f"x ** {MAX_EXPONENT}") == Pow(base=x, exponent=MAX_EXPONENT)
    assert parse(f"x ** -{MAX_EXPONENT}") == Pow(base=x, exponent=-MAX_EXPONENT)


def test_nesting_up_to_max_depth_is_accepted():
    text = "(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    assert parse(text) == x
    assert parse("-" * MAX_DEPTH + "x") is not None
    calls = "f(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    tree = parse(calls)
    depth = 0
    while isinstance(tree, Apply):
        tree, depth = tree.arg, depth + 1
    assert (depth, tree) == (MAX_DEPTH, x)


def test_max_length_is_accepted():
    text = "x" + " " * (MAX_LENGTH - 1)
    assert len(text) == MAX_LENGTH
    assert parse(text) == x


# -- error paths, each with its column --------------------------------------------

ERRORS = [
    # unexpected characters (with hints)
    ("x $ y", "column 3: unexpected character '$'"),
    ("x ; y", "column 3: unexpected character ';'"),
    ("a[0]", "column 2: unexpected character '[' (indexing is not part of the claim language)"),
    ("a·b", "column 2: unexpected character '·' (write products with '@' or '*')"),
    ("a×b", "column 2: unexpected character '×' (write products with '@' or '*')"),
    ("x.T2", "column 3: unknown method .T2() (known: sum, mean, var, std, max, min, dot, transpose)"),
    ("x.sum", "column 6: expected '(' after .sum, found end of input"),
    ("np.fft(x)", "column 1: np.fft is not part of the claim language"),
    ("np.", "column 3: unexpected character '.'"),
    ("sum(x, axis=0, axis=1)", "column 16: keyword argument 'axis' is given twice"),
    ("sum(axis=0, x)", "column 13: positional argument after a keyword argument"),
    ("sigmoid(x, axis=0)", "column 12: elementwise function sigmoid takes no keyword arguments"),
    ("tr(x, axis=0)", "column 7: tr takes no keyword argument 'axis'"),
    # a keyword argument named like a symbol: said at the keyword, with what '=' means (was: "sum takes
    # 1 to 2 arguments, got 0")
    ("np.sum(X = 1)", "column 8: sum takes no keyword argument 'X' (it takes axis, keepdims); '=' names a "
                      "keyword argument (a comparison is written '==')"),
    ("X.mean(X=1)", "column 8: mean takes no keyword argument 'X' (it takes axis, keepdims)"),
    ("exp(x=1)", "column 5: elementwise function exp takes no keyword arguments; '=' names a keyword argument"),
    ("np.dot(A, B, out=1)", "column 14: dot takes no keyword arguments; '=' names"),
    ("np.sum(axis=0)", "column 1: sum needs 1 argument before its keyword arguments, got 0"),
    ("x > y > z", "column 7: comparisons cannot be chained"),
    ("x**(1/0)", "column 8: division by zero in the exponent"),
    ("x . T", "column 3: unexpected character '.'"),
    ("x ^ 2", "column 3: unexpected character '^'"),
    # missing / unbalanced parentheses
    ("(x + y", "column 7: expected ')', found end of input"),
    ("((x)", "column 5: expected ')', found end of input"),
    ("(x y)", "column 4: expected ')', found 'y'"),
    ("f(x", "column 4: expected ',' or ')', found end of input"),
    ("tr(A B)", "column 6: expected ',' or ')', found 'B'"),
    ("x)", "column 2: expected an operator or the end of the expression, found ')'"),
    ("x y", "column 3: expected an operator or the end of the expression, found 'y'"),
    ("A, B", "column 2: expected an operator or the end of the expression, found ','"),
    ("()", "column 2: expected an operand, found ')'"),
    # missing operands
    ("x +* y", "column 4: expected an operand, found '*'"),
    ("x +", "column 4: expected an operand, found end of input"),
    ("@ x", "column 1: expected an operand, found '@'"),
    ("f(x,)", "column 5: expected an operand, found ')'"),
    (".T", "column 1: expected an operand, found '.T'"),
    # exponents
    ("x**2**3", "column 5: exponents must be number literals, so '**' cannot be chained, found '**'"),
    ("x ** 2 ** 3", "column 8: exponents must be number literals, so '**' cannot be chained"),
    ("x**1e2", "column 4: exponent 100 is outside -64..64"),
    ("x**y", "column 4: expected a number literal as an exponent (exponents are constants), found 'y'"),
    ("x**+2", "column 4: expected a number literal as an exponent (exponents are constants), found '+'"),
    ("x**(y)", "column 5: expected a number literal as an exponent (exponents are constants), found 'y'"),
    ("x**", "column 4: expected a number literal as an exponent (exponents are constants), found end of input"),
    ("x ** (2", "column 8: expected ')' after the exponent, found end of input"),
    (f"x**{MAX_EXPONENT + 1}", f"column 4: exponent {MAX_EXPONENT + 1} is outside -{MAX_EXPONENT}..{MAX_EXPONENT}"),
    (f"x**-{MAX_EXPONENT + 1}", f"column 5: exponent -{MAX_EXPONENT + 1} is outside"),
    ("x**(-65)", "column 6: exponent -65 is outside -64..64"),
    ("x**99999999999999999999", "column 4: exponent 99999999999999999999 is outside"),
    # numbers
    ("1e400", "column 1: number '1e400' is too large (at most 128 bits, about 3.4e+38)"),
    ("1e39", "column 1: number '1e39' is too large"),
    ("x + 1e-400", "column 5: number '1e-400' is too small (a literal is an exact fraction within 128 bits: "
                   "down to about 1e-38)"),
    ("x ** 1e-300", "column 6: number '1e-300' is too small"),          # was: "too large"
    ("1e-39", "column 1: number '1e-39' is too small"),
    ("0." + "1" * 39, "column 1: number '0.111111111111111111' is too precise (at most 38 decimal places)"),
    ("1" * 101, "column 1: number '11111111111111111111' is longer than 100 characters"),
    ("x**0.0000001", "column 4: exponent 1/10000000 is too precise (a fractional exponent's denominator is at "
                     "most 1000000)"),
    # argument counts of matrix functions
    ("tr(A, B)", "column 1: tr takes 1 argument, got 2"),
    ("tr()", "column 1: tr takes 1 argument, got 0"),
    ("x + inv(A, B)", "column 5: inv takes 1 argument, got 2"),
    ("kron(A)", "column 1: kron takes 2 arguments, got 1"),
    ("kron(A, B, C)", "column 1: kron takes 2 arguments, got 3"),
    ("matrix_power(A)", "column 1: matrix_power takes 2 arguments, got 1"),
    ("eye()", "column 1: eye takes 1 argument, got 0"),
    ("ones(m)", "column 1: ones takes 2 arguments, got 1"),
    ("blocksum(A, p)", "column 1: blocksum takes 3 arguments, got 2"),
    ("  tilesum(A)", "column 3: tilesum takes 3 arguments, got 1"),
    # elementwise functions take exactly one argument
    ("f()", "column 1: elementwise function f takes 1 argument, got 0"),
    ("x * sigma(x, y)", "column 5: elementwise function sigma takes 1 argument, got 2"),
    # primes
    ("tr'(X)", "column 1: tr is a matrix function and has no elementwise derivative tr'"),
    ("y + kron''(A, B)", "column 5: kron is a matrix function and has no elementwise derivative kron'"),
    ("sigma'x", "column 7: expected '(' after sigma', found 'x'"),
    ("x'", "column 3: expected '(' after x', found end of input"),
    ("sigma''", "column 8: expected '(' after sigma'', found end of input"),
]


@pytest.mark.parametrize("text, message", ERRORS, ids=[t for t, _ in ERRORS])
def test_error_messages_name_the_column(text, message):
    with pytest.raises(InputError) as info:
        parse(text)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["", " ", "\t\n  "], ids=["empty", "space", "whitespace"])
def test_empty_input(text):
    with pytest.raises(InputError, match=r"^empty expression$"):
        parse(text)


def test_over_long_input():
    text = "x" + " +x" * (MAX_LENGTH // 3 + 1)
    assert len(text) > MAX_LENGTH
    with pytest.raises(InputError, match=rf"^expression is {len(text)} characters long; the limit is {MAX_LENGTH}$"):
        parse(text)


def test_length_is_checked_before_tokenizing():
    # no work on the text before the length check: the length error wins over
    # the bad character at column 1
    with pytest.raises(InputError, match=r"^expression is \d+ characters long"):
        parse("$" * (MAX_LENGTH + 1))


DEEP = [
    ("parentheses", "(" * 10_000 + "x" + ")" * 5_000, MAX_DEPTH + 1),
    ("parentheses-unclosed", "(" * 10_000, MAX_DEPTH + 1),
    ("unary-minus", "-" * 10_000 + "x", MAX_DEPTH + 1),
    ("unary-plus", "+" * 10_000 + "x", MAX_DEPTH + 1),
    ("calls", "f(" * 5_000 + "x" + ")" * 5_000, 2 * (MAX_DEPTH + 1)),
    ("matrix-calls", "tr(" * 3_000, 3 * (MAX_DEPTH + 1)),
    ("minus-paren", "-(" * 5_000 + "x", MAX_DEPTH + 1),
    ("one-too-deep", "(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), MAX_DEPTH + 1),
]


@pytest.mark.parametrize("name, text, column", DEEP, ids=[d[0] for d in DEEP])
def test_deep_nesting_is_an_input_error_not_a_recursion_error(name, text, column):
    assert len(text) <= MAX_LENGTH
    with pytest.raises(InputError) as info:
        parse(text)
    assert str(info.value) == f"column {column}: expression nested deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize("op", ["+", "*", "@"], ids=["add-chain", "mul-chain", "matmul-chain"])
def test_long_flat_chain_round_trips_or_is_refused(op):
    text = "x" + f" {op} x" * 1_500          # 6001 characters, nesting depth 0
    try:
        tree = parse(text)
    except InputError:
        return                              # refusing it cleanly would be fine too
    assert parse(to_text(tree)) == tree


# -- nothing is ever evaluated -----------------------------------------------------

PAYLOADS = [
    # the whole text is tokenized first, so the tokenizer's complaint comes first
    ("__import__('os').system('x')", "column 12: expected an operand, found \"'\""),
    ("__import__('os')", "column 12: expected an operand, found \"'\""),
    ("().__class__", "column 2: expected an operand, found ')'"),
    ("()", "column 2: expected an operand, found ')'"),
    ("lambda: 0", "column 7: unexpected character ':'"),
    ('f"x"', "column 2: unexpected character '\"'"),
    ("x.__class__", "column 3: unknown method .__class__()"),
    ("x.__class__.__bases__[0].__subclasses__()", "column 22: unexpected character '['"),
    ("eval('1')", "column 6: expected an operand, found \"'\""),
    ("[c for c in ()]", "column 1: unexpected character '['"),
    ("{}", "column 1: unexpected character '{'"),
    ("x if y else z", "column 3: expected an operator or the end of the expression, found 'if'"),
    ("exec", None),               # a bare name is just an (undeclared) symbol
    ("__import__", None),
]


@pytest.mark.parametrize("text, message", PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_code_payloads_are_never_evaluated(text, message, monkeypatch):
    called = []

    def trap(*args, **kwargs):
        called.append(args)
        raise AssertionError("user text reached an evaluator")
    outcome = None
    with monkeypatch.context() as m:
        for name in ("eval", "exec"):
            m.setattr(builtins, name, trap)
        m.setattr(os, "system", trap)
        try:
            outcome = parse(text)
        except InputError as e:
            outcome = e
    assert called == []
    if message is None:
        assert outcome == Sym(name=text)
        with pytest.raises(InputError, match=f"unknown name '{text}'"):
            typecheck(outcome, parse_declarations("x:n"))
    else:
        assert isinstance(outcome, InputError)
        assert str(outcome).startswith(message)


# -- round trip through the printer --------------------------------------------------

ROUND_TRIP = [
    "W.T @ delta * sigma'(z)",
    "(y @ x.T) * (1 - a)",
    "A @ (B * C) - (x - y)",
    "A - (B - C)",
    "A / (B / C)",
    "A * (B @ C)",
    "A @ (B @ C)",
    "-(A + B)",
    "-A @ B",
    "A @ -B",
    "--x",
    "-x ** 2",
    "(-x) ** 2",
    "(x ** 2) ** 3",
    "(x.T @ x) ** -3",
    "x ** (-3)",
    "2 ** 3",
    "(A @ B).T.T",
    "(-x).T",
    "(x ** 2).T",
    "sigma''(A @ x + y).T",
    "tr(inv(X) @ matrix_power(X, -2)) * det(X) - logdet(X)",
    "kron(ones(m, n), eye(2 * n))",
    "blocksum(kron(A, B), p, q) + tilesum(kron(A, B), m, n)",
    "norm(x - y) / sum(exp(x))",
    "1 - (1 - (1 - x))",
    "f(g(h'(x)))",
]


@pytest.mark.parametrize("text", ROUND_TRIP, ids=ROUND_TRIP)
def test_round_trip_examples(text):
    tree = parse(text)
    printed = to_text(tree)
    assert parse(printed) == tree
    assert to_text(parse(printed)) == printed       # printing is a fixed point


@pytest.mark.parametrize("text, printed", [
    ("((A) @ (B))", "A @ B"),
    ("(A @ B) @ C", "A @ B @ C"),
    ("A-B", "A - B"),
    ("x**(2)", "x**2"),
    ("x ** -1", "x**(-1)"),
    ("sigma ''( x )", "sigma''(x)"),
    ("tr( A )", "tr(A)"),
    ("1e1 * x", "10 * x"),
], ids=["parens", "left-assoc", "spaces", "paren-exponent", "negative-exponent", "primes", "call", "number"])
def test_printer_normal_form(text, printed):
    assert to_text(parse(text)) == printed


def test_round_trip_of_a_decimal_literal():
    tree = parse("0.5 * x")
    assert parse(to_text(tree)) == tree


def test_printer_keeps_the_value_of_a_division_by_a_negative_fraction():
    tree = Div(left=x, right=Num(value=Fraction(-1, 2)))
    env = {"x": sp.Matrix([[sp.Integer(3)]])}
    decls = parse_declarations("x:scalar")
    value = Evaluator(ExactBackend(), {})
    assert value(typecheck(parse(to_text(tree)), decls), env) == value(typecheck(tree, decls), env)


@pytest.mark.parametrize("text, printed", [
    ("(x > y) > x", "(x > y) > x"),               # was x > y > x, which the parser refuses
    ("x > (y > x)", "x > (y > x)"),
    ("(x == y) != (y <= x)", "(x == y) != (y <= x)"),
    ("(x > y) * x + (x > y)", "(x > y) * x + (x > y)"),
])
def test_a_comparison_of_comparisons_prints_with_its_parentheses(text, printed):
    tree = parse(text)
    assert to_text(tree) == printed and parse(to_text(tree)) == tree
    typed = typecheck(tree, parse_declarations("x:n y:n"))
    assert parse(to_text(typed)) == tree


@pytest.mark.parametrize("text", ["1e-38", "1e38", "0.5e-38", "3.4e38", "0." + "0" * 37 + "1", "1e-0001"])
def test_literals_at_the_bounds_are_read(text):
    assert isinstance(parse(text), Num)


def test_transposed_integer_prints_as_parseable_text():
    tree = parse("(2).T")
    assert tree == Transpose(arg=N(2))
    assert parse(to_text(tree)) == tree


# hypothesis: random trees of the shapes the parser produces ------------------------

def _not_a_transposed_integer(node):
    # Transpose(Num(2)) printed as "2.T" once (fixed: it prints "(2).T"); the
    # strategy still avoids it, test_transposed_integer_prints_as_parseable_text
    # covers it
    return not (isinstance(node.arg, Num) and node.arg.value >= 0 and node.arg.value.denominator == 1)


NAMES = st.sampled_from(["x", "y", "A", "W_1", "delta"])
FUNCS = st.sampled_from(["sigma", "f", "sigmoid", "tanh"])


def _trees(numbers):
    leaves = st.one_of(NAMES.map(S), numbers)

    def extend(inner):
        binary = st.sampled_from([Add, Sub, MatMul, Mul, Div])
        return st.one_of(
            # the parser folds a literal fraction n/d into one number, so
            # Div(Num, Num) is not a tree it produces
            st.builds(lambda c, a, b: c(left=a, right=b), binary, inner, inner).filter(
                lambda t: not (isinstance(t, Div) and isinstance(t.left, Num) and isinstance(t.right, Num))),
            st.builds(lambda a: Neg(arg=a), inner),
            st.builds(lambda a: Transpose(arg=a), inner).filter(_not_a_transposed_integer),
            st.builds(lambda a, k: Pow(base=a, exponent=k), inner, st.integers(-MAX_EXPONENT, MAX_EXPONENT)),
            st.builds(lambda f, a, k: Apply(name=f, arg=a, order=k), FUNCS, inner, st.integers(0, 3)),
            st.builds(lambda a: Call(name="tr", args=(a,)), inner),
            st.builds(lambda a, b: Call(name="kron", args=(a, b)), inner, inner),
            # comparisons do not chain: one inside another keeps its parentheses, on either side
            st.builds(lambda c, a, b: Call(name=c, args=(a, b)), COMPARISONS, inner, inner),
        )
    return st.recursive(leaves, extend, max_leaves=12)


COMPARISONS = st.sampled_from(["greater", "less_equal", "equal", "not_equal"])


PARSER_TREES = _trees(st.integers(0, 10 ** 6).map(N))


@settings(max_examples=300, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(PARSER_TREES)
def test_round_trip_property(tree):
    printed = to_text(tree)
    assert parse(printed) == tree
    assert to_text(parse(printed)) == printed


# Trees with the numbers simplify builds (negative integers, fractions): the
# structure may change ("-2" parses as Neg(2)) but never the value.  Negative
# fractions are covered by
# test_printer_keeps_the_value_of_a_division_by_a_negative_fraction.
SCALAR_NAMES = ["x", "y", "A", "W_1", "delta"]
VALUE_NUMBERS = st.one_of(
    st.integers(-5, 5).map(N),
    st.builds(lambda p, q: Num(value=Fraction(p, q)), st.integers(1, 7), st.integers(2, 7)),
)


def _scalar_trees():
    leaves = st.one_of(NAMES.map(S), VALUE_NUMBERS)

    def extend(inner):
        binary = st.sampled_from([Add, Sub, MatMul, Mul, Div])
        return st.one_of(
            # the parser folds a literal fraction n/d into one number, so
            # Div(Num, Num) is not a tree it produces
            st.builds(lambda c, a, b: c(left=a, right=b), binary, inner, inner).filter(
                lambda t: not (isinstance(t, Div) and isinstance(t.left, Num) and isinstance(t.right, Num))),
            st.builds(lambda a: Neg(arg=a), inner),
            st.builds(lambda a: Transpose(arg=a), inner).filter(_not_a_transposed_integer),
            st.builds(lambda a, k: Pow(base=a, exponent=k), inner, st.integers(-3, 3)),
            st.builds(lambda f, a, k: Apply(name=f, arg=a, order=k), st.sampled_from(["sigma", "f"]),
                      inner, st.integers(0, 2)),
            st.builds(lambda name, a: Call(name=name, args=(a,)), st.sampled_from(["tr", "sum", "det"]), inner),
        )
    return st.recursive(leaves, extend, max_leaves=10)


SCALAR_DECLS = parse_declarations(" ".join(f"{n}:scalar" for n in SCALAR_NAMES) + " sigma:function f:function")
SCALAR_ENV = {n: sp.Matrix([[sp.Rational(v, 7)]]) for n, v in zip(SCALAR_NAMES, (3, -5, 11, 2, -13))}


@settings(max_examples=200, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(_scalar_trees())
def test_printed_text_has_the_same_value(tree):
    evaluate = Evaluator(ExactBackend(), {})
    try:
        expected = evaluate(typecheck(tree, SCALAR_DECLS), SCALAR_ENV)
    except ZeroDivisionError:
        assume(False)
    reparsed = typecheck(parse(to_text(tree)), SCALAR_DECLS)
    assert sp.simplify(evaluate(reparsed, SCALAR_ENV)[0, 0] - expected[0, 0]) == 0
