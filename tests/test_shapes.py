"""Unit tests for symbolic_bp.language.shapes: declarations and shape inference."""
from __future__ import annotations

import pytest

from symbolic_bp.errors import InputError
from symbolic_bp.core.expression import Add, Broadcast, Div, Hadamard, MatMul, Scale, Sub
from symbolic_bp.core.registry import reserved

RESERVED = sorted(reserved())
from symbolic_bp.language.parser import parse
from symbolic_bp.language.shapes import (
    MAX_DIM, ONE, SCALAR, Declarations, Dim, Symbol, concrete, is_scalar, opaque_functions,
    parse_declarations, parse_typed, show, typecheck,
)


# -- Dim -----------------------------------------------------------------------


def test_dim_of_and_str():
    assert Dim.of(3) == Dim(3, ())
    assert Dim.of("n") == Dim(1, ("n",))
    assert str(Dim(3)) == "3"
    assert str(Dim.of("n")) == "n"
    assert str(Dim(2, ("m", "n"))) == "2*m*n"
    assert str(Dim(1)) == "1"
    assert repr(Dim(2, ("n",))) == "Dim('2*n')"


def test_dim_product_is_commutative_and_normalised():
    m, n = Dim.of("m"), Dim.of("n")
    assert m * n == n * m == Dim(1, ("m", "n"))
    assert Dim(2) * n * Dim(3) == Dim(6, ("n",))
    assert n * n == Dim(1, ("n", "n"))
    assert ONE * m == m


@pytest.mark.parametrize("a, b, expected", [
    (Dim(1, ("m", "n")), Dim.of("m"), Dim.of("n")),
    (Dim(1, ("m", "n")), Dim.of("n"), Dim.of("m")),
    (Dim(6, ("n",)), Dim(2), Dim(3, ("n",))),
    (Dim(6, ("n",)), Dim(3, ("n",)), Dim(2)),
    (Dim(1, ("n", "n")), Dim.of("n"), Dim.of("n")),
    (Dim.of("n"), Dim.of("n"), ONE),
    (Dim.of("n"), Dim.of("m"), None),
    (Dim.of("n"), Dim(2), None),
    (Dim(6), Dim(4), None),
    (Dim(1, ("m",)), Dim(1, ("m", "m")), None),
], ids=["mn/m", "mn/n", "6n/2", "6n/3n", "nn/n", "n/n", "n/m", "n/2", "6/4", "m/mm"])
def test_dim_divide(a, b, expected):
    assert a.divide(b) == expected


def test_dim_value_and_concrete():
    sizes = {"m": 2, "n": 5}
    assert Dim(3, ("m", "n")).value(sizes) == 30
    assert Dim(4).value(sizes) == 4
    assert concrete((Dim.of("m"), Dim(2, ("n",))), sizes) == (2, 10)


def test_is_scalar():
    assert is_scalar(SCALAR)
    assert is_scalar((Dim(1), Dim(1)))
    assert not is_scalar((Dim.of("n"), ONE))
    assert not is_scalar((ONE, Dim(2)))


# -- declarations ------------------------------------------------------------------


def test_declarations_basic():
    d = parse_declarations("A:m,n x:n s:scalar S:n,n:symmetric")
    assert isinstance(d, Declarations)
    assert list(d.symbols) == ["A", "x", "s", "S"]
    assert d.dims == ("m", "n")
    assert d.symbols["A"] == Symbol("A", (Dim.of("m"), Dim.of("n")), None)
    assert d.symbols["x"] == Symbol("x", (Dim.of("n"), ONE), None)
    assert d.symbols["s"] == Symbol("s", SCALAR, "scalar", scalar=True)
    assert d.symbols["S"] == Symbol("S", (Dim.of("n"), Dim.of("n")), "symmetric")


@pytest.mark.parametrize("text, name, shape, prop", [
    ("P:n,n:spd", "P", "(n,n)", "spd"),
    ("M:k,k:invertible", "M", "(k,k)", "invertible"),
    ("Q:3,3:symmetric", "Q", "(3,3)", "symmetric"),
    ("A:2,3", "A", "(2,3)", None),
    ("v:7", "v", "(7,1)", None),
    ("u:1", "u", "(1,1)", None),
    ("w:1,1", "w", "(1,1)", None),
    ("B:n,2", "B", "(n,2)", None),
    (f"big:{MAX_DIM},1", "big", f"({MAX_DIM},1)", None),
    ("r:1,n", "r", "(1,n)", None),
    ("W_1:n_in,n_out", "W_1", "(n_in,n_out)", None),
    ("_x:n", "_x", "(n,1)", None),
], ids=["spd", "invertible", "integer-symmetric", "integer-dims", "integer-vector", "1-vector",
        "1x1", "mixed", "max-dim", "row", "underscores", "leading-underscore"])
def test_declaration_forms(text, name, shape, prop):
    d = parse_declarations(text)
    sym = d.symbols[name]
    assert (show(sym.shape), sym.prop) == (shape, prop)


def test_dims_are_kept_in_order_of_first_appearance_and_integers_are_not_dims():
    d = parse_declarations("x:q y:p,3 A:p,q B:r,q")
    assert d.dims == ("q", "p", "r")


def test_semicolons_and_any_whitespace_separate_declarations():
    d = parse_declarations(" x:n;y:m\tA:m,n\nB:n,n ")
    assert list(d.symbols) == ["x", "y", "A", "B"]


@pytest.mark.parametrize("text", [
    "A:m,n x:n s:scalar S:n,n:symmetric",
    "P:n,n:spd Q:3,3:invertible v:4 u:1,1",
    "W_1:h,n b:h t:scalar",
], ids=["basic", "props-and-integers", "underscores"])
def test_declarations_print_back(text):
    d = parse_declarations(text)
    again = parse_declarations(str(d))
    assert again.symbols == d.symbols
    assert again.dims == d.dims


DECLARATION_ERRORS = [
    ("A:m,n A:n", "column 7: declaration 'A:n': 'A' is declared twice"),
    ("x:n y:n x:scalar", "column 9: declaration 'x:scalar': 'x' is declared twice"),
    ("S:m,n:symmetric", "column 1: declaration 'S:m,n:symmetric': a symmetric matrix must be square"),
    ("P:2,3:spd", "column 1: declaration 'P:2,3:spd': a spd matrix must be square"),
    ("x:n M:n:invertible", "column 5: declaration 'M:n:invertible': a invertible matrix must be square"),
    ("S:n,n:diagonal", "column 1: declaration 'S:n,n:diagonal': unknown property 'diagonal' "
                       "(known: symmetric, spd, invertible, positive, onehot, binary)"),
    ("s:scalar:spd", "column 1: declaration 's:scalar:spd': a scalar takes no property but positive or binary"),
    ("A:0,2", "column 1: declaration 'A:0,2': dimension 0 must be between 1 and 32"),
    ("A:2,0", "column 1: declaration 'A:2,0': dimension 0 must be between 1 and 32"),
    (f"x:{MAX_DIM + 1}", f"column 1: declaration 'x:{MAX_DIM + 1}': dimension {MAX_DIM + 1} must be between 1 and {MAX_DIM}"),
    ("x:99999999999999999999999", "column 1: declaration 'x:99999999999999999999999': dimension 99999999999999999999 must be between"),
    ("x:-1", "column 1: declaration 'x:-1': '-1' is neither a dimension name nor a positive integer"),
    ("x:2.5", "column 1: declaration 'x:2.5': '2.5' is neither a dimension name nor a positive integer"),
    ("A:m-1,n", "column 1: declaration 'A:m-1,n': 'm-1' is neither a dimension name nor a positive integer"),
    ("tr:n", "column 1: declaration 'tr:n': 'tr' is a function name and cannot be declared"),
    ("x:n sigmoid:n", "column 5: declaration 'sigmoid:n': 'sigmoid' is a function name and cannot be declared"),
    ("T:n,n", "column 1: declaration 'T:n,n': 'T' is a function name and cannot be declared"),
    ("A:m,tr", "column 1: declaration 'A:m,tr': 'tr' is a function name and cannot be a dimension"),
    ("x:exp", "column 1: declaration 'x:exp': 'exp' is a function name and cannot be a dimension"),
    ("x:T", "column 1: declaration 'x:T': 'T' is a function name and cannot be a dimension"),
    ("n:m x:n", "'n' is used both as a symbol and as a dimension"),
    ("A:m,n n:scalar", "'n' is used both as a symbol and as a dimension"),
    ("A", "column 1: declaration 'A': expected name:dims, name:dims:property, name:scalar or name:function"),
    ("x:n A:m:n:q", "column 5: declaration 'A:m:n:q': expected name:dims, name:dims:property, name:scalar or name:function"),
    ("1A:n", "column 1: declaration '1A:n': '1A' is not a valid name"),
    (":n", "column 1: declaration ':n': '' is not a valid name"),
    ("A-b:n", "column 1: declaration 'A-b:n': 'A-b' is not a valid name"),
    ("A:m,", "column 1: declaration 'A:m,': give one dimension (a column vector) or two (a matrix)"),
    ("A:", "column 1: declaration 'A:': give one dimension (a column vector) or two (a matrix)"),
    ("A:m,n,k", "column 1: declaration 'A:m,n,k': give one dimension (a column vector) or two (a matrix)"),
    ("", "no symbols declared"),
    (" ;  ", "no symbols declared"),
]


@pytest.mark.parametrize("text, message", DECLARATION_ERRORS, ids=[t or "empty" for t, _ in DECLARATION_ERRORS])
def test_declaration_errors(text, message):
    with pytest.raises(InputError) as info:
        parse_declarations(text)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("name", sorted(RESERVED), ids=sorted(RESERVED))
def test_every_reserved_name_is_refused_as_symbol(name):
    with pytest.raises(InputError, match=f"'{name}' is a function name and cannot be declared"):
        parse_declarations(f"{name}:n")


WORD_ERRORS = [
    # keyword values: np.sum(X, None) reads None as the axis whatever is declared
    ("x:n None:n", "column 5: declaration 'None:n': 'None' cannot be declared: it is a keyword argument's value "
                   "(axis=None, keepdims=True)"),
    ("True:scalar", "column 1: declaration 'True:scalar': 'True' cannot be declared: it is a keyword argument's value"),
    ("False:function", "column 1: declaration 'False:function': 'False' cannot be declared a function: it is a "
                       "keyword argument's value"),
    ("x:None", "column 1: declaration 'x:None': 'None' cannot be a dimension: it is a keyword argument's value"),
    # module prefixes: np.sum(x) is NumPy's sum, never a method of a symbol np
    ("np:n", "column 1: declaration 'np:n': 'np' cannot be declared: it is a module prefix (np.sum, np.linalg.inv, "
             "scipy.special.expit)"),
    ("x:n numpy:function", "column 5: declaration 'numpy:function': 'numpy' cannot be declared a function: it is a "
                           "module prefix"),
    ("linalg:n,n", "column 1: declaration 'linalg:n,n': 'linalg' cannot be declared: it is a module prefix"),
    ("A:scipy,n", "column 1: declaration 'A:scipy,n': 'scipy' cannot be a dimension: it is a module prefix"),
    # NumPy's spellings of the operators, called: add(x) would be read as A + B
    ("x:n add:function", "column 5: declaration 'add:function': 'add' cannot be declared a function: it is NumPy's "
                         "spelling of an operator: add(...) is read as A + B"),
    ("dot:function", "column 1: declaration 'dot:function': 'dot' cannot be declared a function: it is NumPy's "
                     "spelling of an operator: dot(...) is read as A @ B"),
]


@pytest.mark.parametrize("text, message", WORD_ERRORS, ids=[t for t, _ in WORD_ERRORS])
def test_words_the_parser_reads_otherwise_cannot_be_declared(text, message):
    with pytest.raises(InputError) as info:
        parse_declarations(text)
    assert str(info.value).startswith(message)


def test_words_with_one_reading_stay_free():
    # keyword names are keywords only as NAME= inside a call; an operator's NumPy spelling is one only
    # when called; np.trace is tr only with its prefix
    d = parse_declarations("axis:n keepdims:scalar ddof:scalar add:n dot:n trace:function")
    tree = parse_typed("keepdims * sum(axis.T @ np.sum(add * dot, axis=1, keepdims=True)) + sum(trace(add))", d)
    assert tree.shape == SCALAR
    assert "trace" in opaque_functions(tree)


def test_declaration_errors_quote_at_most_40_characters():
    long_name = "a" * 200
    with pytest.raises(InputError) as info:
        parse_declarations(f"{long_name}:n,m,k")
    assert f"'{'a' * 40}'" in str(info.value)
    assert "a" * 41 not in str(info.value)


@pytest.mark.parametrize("value", [None, 3, ["x:n"]], ids=["None", "int", "list"])
def test_declarations_must_be_a_string(value):
    with pytest.raises(InputError, match="shapes must be a string"):
        parse_declarations(value)


def test_declarations_length_limit():
    with pytest.raises(InputError, match="longer than 10000"):
        parse_declarations("x:n " * 3000)


# -- typecheck: shapes and kinds ----------------------------------------------------

DECLS = parse_declarations(
    "A:m,n B:m,n C:n,p D:p,q x:n y:m z:p s:scalar t:scalar "
    "M:n,n S:n,n:symmetric u:1 w:1,1 r:1,n K:2,3 L:3,2 sigma:function g:function"
)

TYPED = [
    # '*': Hadamard or scaling
    ("A * B", "(m,n)", "hadamard"),
    ("s * A", "(m,n)", "scale_l"),
    ("A * s", "(m,n)", "scale_r"),
    ("2 * A", "(m,n)", "scale_l"),
    ("s * t", "(1,1)", "hadamard"),
    ("u * A", "(m,n)", "scale_l"),
    ("x.T @ x * A", "(m,n)", "scale_l"),
    ("r * x.T", "(1,n)", "hadamard"),
    # '+' / '-': equal shapes or a broadcast scalar
    ("A + B", "(m,n)", "same"),
    ("1 - x", "(n,1)", "bcast_l"),
    ("x - 1", "(n,1)", "bcast_r"),
    ("s + A", "(m,n)", "bcast_l"),
    ("A - s", "(m,n)", "bcast_r"),
    ("y.T @ A @ x + A", "(m,n)", "bcast_l"),
    ("w + u", "(1,1)", "same"),
    ("K + 1", "(2,3)", "bcast_r"),
    # '@': matrix product, or a 1x1 operand acting as a scalar
    ("A @ x", "(m,1)", "mat"),
    ("A @ C @ D", "(m,q)", "mat"),
    ("x.T @ x", "(1,1)", "mat"),
    ("x @ x.T", "(n,n)", "mat"),
    ("x.T @ x @ A", "(m,n)", "scale_l"),
    ("A @ (x.T @ x)", "(m,n)", "scale_r"),
    ("u @ A", "(m,n)", "scale_l"),
    ("A @ w", "(m,n)", "scale_r"),
    ("s @ A", "(m,n)", "scale_l"),
    ("2 @ x", "(n,1)", "scale_l"),
    ("u @ r", "(1,n)", "mat"),          # inner dimensions agree: an ordinary product
    ("K @ L", "(2,2)", "mat"),
    # '/': by a scalar only
    ("A / s", "(m,n)", "scale"),
    ("A / (y.T @ y)", "(m,n)", "scale"),
    ("1 / 2", "(1,1)", ""),            # a literal fraction: one number
    ("s / 2", "(1,1)", "scale"),
    # the rest
    ("-A", "(m,n)", ""),
    ("A.T", "(n,m)", ""),
    ("x.T", "(1,n)", ""),
    ("A.T.T", "(m,n)", ""),
    ("s ** 3", "(1,1)", ""),
    ("(y.T @ A @ x) ** -2", "(1,1)", ""),
    ("u ** 2", "(1,1)", ""),
    ("sigma(A)", "(m,n)", ""),
    ("sigmoid''(A @ x)", "(m,1)", ""),
    ("3", "(1,1)", ""),
    ("sum(A)", "(1,1)", ""),
    ("norm(x)", "(1,1)", ""),
    ("tr(M)", "(1,1)", ""),
    ("det(S)", "(1,1)", ""),
    ("logdet(M)", "(1,1)", ""),
    ("inv(M)", "(n,n)", ""),
    ("tr(s)", "(1,1)", ""),
    ("inv(u)", "(1,1)", ""),
    ("matrix_power(M, 3)", "(n,n)", ""),
    ("matrix_power(M, -2)", "(n,n)", ""),
    ("matrix_power(M, 0)", "(n,n)", ""),
    ("kron(A, C)", "(m*n,n*p)", ""),
    ("kron(A, x)", "(m*n,n)", ""),
    ("kron(x, y.T)", "(n,m)", ""),
    ("kron(K, L)", "(6,6)", ""),
    ("kron(A, K)", "(2*m,3*n)", ""),
    ("eye(n)", "(n,n)", ""),
    ("eye(3)", "(3,3)", ""),
    ("eye(2 * n)", "(2*n,2*n)", ""),
    ("ones(m, n)", "(m,n)", ""),
    ("ones(m * n, 2)", "(m*n,2)", ""),
    ("ones(n * m, 1)", "(m*n,1)", ""),
    ("kron(A, C) + ones(m * n, n * p)", "(m*n,n*p)", "same"),
    ("blocksum(kron(A, C), n, p)", "(m,n)", ""),
    ("tilesum(kron(A, C), m, n)", "(n,p)", ""),
    ("blocksum(K, 1, 3)", "(2,1)", ""),
    ("tilesum(kron(K, A), 2, 3)", "(m,n)", ""),
]


@pytest.mark.parametrize("text, shape, kind", TYPED, ids=[t for t, _, _ in TYPED])
def test_typecheck_shape_and_kind(text, shape, kind):
    node = parse_typed(text, DECLS)
    assert show(node.shape) == shape
    assert kind_of(node) == kind


def kind_of(node) -> str:
    """Which operation the type pass made of the root: its explicit node type
    (and, for a sum or a scaling, on which side the 1x1 operand is)."""
    if isinstance(node, (Add, Sub)):
        return "bcast_l" if isinstance(node.left, Broadcast) else "bcast_r" if isinstance(node.right, Broadcast) \
            else "same"
    if isinstance(node, Scale):
        return "scale_l" if node.scalar is node.left else "scale_r"
    return {Hadamard: "hadamard", MatMul: "mat", Div: "scale"}.get(type(node), "")


def typed_nodes(node):
    """The nodes that must carry a shape: all but the dimension arguments."""
    yield node
    for child in node.children():
        yield from typed_nodes(child)


def test_every_node_of_a_typed_tree_has_a_shape():
    tree = parse_typed("y.T @ sigma(A @ x + 1) * s - tr(inv(M) @ kron(eye(1), M)) / t ** 2 "
                       "+ sum(blocksum(kron(A, C), n, p)) + sum(ones(2, 2) * matrix_power(K @ L, -1))", DECLS)
    nodes = list(typed_nodes(tree))
    assert len(nodes) > 30
    assert all(n.shape is not None for n in nodes)
    assert is_scalar(tree.shape)


def test_typecheck_returns_a_copy_and_keeps_positions():
    tree = parse("A @ x + y")
    typed = typecheck(tree, DECLS)
    assert tree.shape is None and tree.left.shape is None         # the input is untouched
    assert typed == tree                                            # same structure
    assert (typed.pos, typed.left.pos, typed.right.pos) == (7, 3, 9)
    assert show(typed.left.left.shape) == "(m,n)"


def test_typecheck_leaves_typed_nodes_alone():
    typed = parse_typed("A @ x", DECLS)
    assert typecheck(typed, DECLS) is typed


def test_symbolic_dims_never_equal_integers():
    # n may be any size: a (2,3) matrix does not fit an (m,n) one
    with pytest.raises(InputError, match=r"\(2,3\) \+ \(m,n\)"):
        parse_typed("K + A", DECLS)


# -- typecheck errors -----------------------------------------------------------------

TYPE_ERRORS = [
    # @ mismatches, with and without the Hadamard hint
    ("A @ B", "column 3: shape mismatch in 'A @ B': (m,n) @ (m,n): inner dimensions n and m differ; "
              "did you mean the Hadamard product '*'?"),
    ("x @ x", "column 3: shape mismatch in 'x @ x': (n,1) @ (n,1): inner dimensions 1 and n differ; "
              "did you mean the Hadamard product '*'?"),
    ("A @ y", "column 3: shape mismatch in 'A @ y': (m,n) @ (m,1): inner dimensions n and m differ"),
    ("x @ y", "column 3: shape mismatch in 'x @ y': (n,1) @ (m,1): inner dimensions 1 and m differ"),
    ("s * (A @ C @ C)", "column 12: shape mismatch in 'A @ C @ C': (m,p) @ (n,p): inner dimensions p and n differ"),
    # * mismatches, with and without the matrix-product hint
    ("A * C", "column 3: shape mismatch in 'A * C': (m,n) * (n,p): the Hadamard product needs shapes that "
              "broadcast (NumPy: each dimension equal, or 1); did you mean the matrix product '@'?"),
    ("A * x", "column 3: shape mismatch in 'A * x': (m,n) * (n,1): the Hadamard product needs shapes that "
              "broadcast (NumPy: each dimension equal, or 1); did you mean the matrix product '@'?"),
    ("A * D", "column 3: shape mismatch in 'A * D': (m,n) * (p,q): the Hadamard product needs shapes that "
              "broadcast"),
    # + and -
    ("x + y", "column 3: shape mismatch in 'x + y': (n,1) + (m,1)"),
    ("A - A.T", "column 3: shape mismatch in 'A - A.T': (m,n) - (n,m)"),
    ("1 + (A + x)", "column 8: shape mismatch in 'A + x': (m,n) + (n,1)"),
    # / and **
    ("A / x", "column 3: shape mismatch in 'A / x': (m,n) / (n,1): the shapes do not broadcast (NumPy: each "
              "dimension equal, or 1)"),
    ("x / y", "column 3: shape mismatch in 'x / y': (n,1) / (m,1): the shapes do not broadcast"),
    ("A > x", "column 3: shape mismatch in 'A > x': (m,n) > (n,1): the shapes do not broadcast"),
    ("maximum(A, x)", "column 1: shape mismatch in 'maximum(A, x)': (m,n) , (n,1): the shapes do not broadcast"),
    # NumPy's 1-D results: a transpose does nothing, and on the right of @ it is a column
    ("A.sum(axis=1).T", "column 14: 'sum(A, axis=1)' is 1-D in NumPy, so .T leaves it as it is: write it "
                        "with keepdims=True for a column"),
    ("C @ np.sum(A, axis=0)", "column 3: 'sum(A, axis=0)' is 1-D in NumPy, and a 1-D array on the right "
                              "of @ is read as a column: write it with keepdims=True"),
    # keyword parameters
    ("sum(A, axis=2)", "column 13: axis must be 0, 1, -1, -2 or None"),
    ("sum(A, keepdims=1)", "column 17: sum needs True or False here"),
    ("var(A, ddof=s)", "column 13: var needs an integer literal between -64 and 64 here"),
    ("var(K, axis=1, ddof=3)", "column 1: shape mismatch in 'var(K, axis=1, ddof=3)': ddof=3 leaves no degrees "
                               "of freedom along 3 entries"),
    ("outer(A, x)", "column 1: shape mismatch in 'outer(A, x)': outer flattens a matrix (m,n)"),
    ("A ** s", "column 6: expected a number literal as an exponent"),
    # square-only functions
    ("tr(A)", "column 1: shape mismatch in 'tr(A)': tr needs a square matrix, got (m,n)"),
    ("inv(A)", "column 1: shape mismatch in 'inv(A)': inv needs a square matrix, got (m,n)"),
    ("det(x)", "column 1: shape mismatch in 'det(x)': det needs a square matrix, got (n,1)"),
    ("s + logdet(K)", "column 5: shape mismatch in 'logdet(K)': logdet needs a square matrix, got (2,3)"),
    ("matrix_power(A, 2)", "column 1: shape mismatch in 'matrix_power(A, 2)': matrix_power needs a square matrix, "
                           "got (m,n)"),
    # matrix_power exponent
    ("matrix_power(M, s)", "column 17: matrix_power needs an integer literal between -64 and 64 here"),
    ("matrix_power(M, 65)", "column 17: matrix_power needs an integer literal between -64 and 64"),
    ("matrix_power(M, -65)", "column 17: matrix_power needs an integer literal between -64 and 64"),
    ("matrix_power(M, 1/2)", "column 17: matrix_power needs an integer literal between -64 and 64"),
    ("matrix_power(M, 0.5)", "column 17: matrix_power needs an integer literal between -64 and 64"),
    # dimension arguments
    ("eye(x)", "column 5: 'x' is not a dimension (declared dimensions: m, n, p, q)"),
    ("eye(0)", "column 5: '0' is not a dimension"),
    (f"eye({MAX_DIM + 1})", f"column 5: '{MAX_DIM + 1}' is not a dimension"),
    ("eye(k)", "column 5: 'k' is not a dimension"),
    ("ones(m, 1/2)", "column 9: '1/2' is not a dimension"),
    ("ones(m + n, 1)", "column 8: 'm + n' is not a dimension"),
    ("blocksum(A, p, n)", "column 1: shape mismatch in 'blocksum(A, p, n)': (m,n) is not divisible into (p,n) blocks"),
    ("tilesum(kron(A, C), p, p)", "column 1: shape mismatch in 'tilesum(kron(A, C), p, p)': (m*n,n*p) is not "
                                  "divisible into (p,p) blocks"),
    ("blocksum(K, 2, 2)", "column 1: shape mismatch in 'blocksum(K, 2, 2)': (2,3) is not divisible into (2,2) blocks"),
    # names
    ("A @ X", "column 5: unknown name 'X' (declared: A, B, C, D, x, y, z, s, t, M, S, u, w, r, K, L)"),
    ("True + A", "column 1: True is only a value of a keyword argument (axis=None, keepdims=True)"),
    ("A(x)", "column 1: 'A' is a declared symbol, not a function"),
    ("x + n'(x)", "column 5: 'n' is a dimension, not a function"),
]


@pytest.mark.parametrize("text, message", TYPE_ERRORS, ids=[t for t, _ in TYPE_ERRORS])
def test_typecheck_errors(text, message):
    with pytest.raises(InputError) as info:
        parse_typed(text, DECLS)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_no_dimensions_declared_is_said_so():
    d = parse_declarations("K:2,2")
    with pytest.raises(InputError, match=r"declared dimensions: none\)"):
        parse_typed("eye(n)", d)


def test_long_expressions_are_shortened_in_mismatch_messages():
    text = "(" + " + ".join(["A"] * 30) + ") @ y"
    with pytest.raises(InputError) as info:
        parse_typed(text, DECLS)
    quoted = str(info.value).split("shape mismatch in ")[1].split(": (m,n)")[0]
    assert len(quoted) == 62 and quoted.endswith("...'")


def test_opaque_functions():
    tree = parse_typed("sum(sigma(A) * g''(B) + tanh(A) + sigmoid'(B) + sigma'(A))", DECLS)
    assert opaque_functions(tree) == {"sigma", "g"}
    assert opaque_functions(parse_typed("sum(relu(A) + exp(A) + log(A) + softplus(A))", DECLS)) == set()


def test_long_flat_chain_is_typed_or_refused_cleanly():
    decls = parse_declarations("x:n")
    text = "x" + " + x" * 1_500           # 6001 characters, no nesting
    try:
        typed = parse_typed(text, decls)
    except InputError:
        return
    assert show(typed.shape) == "(n,1)"
