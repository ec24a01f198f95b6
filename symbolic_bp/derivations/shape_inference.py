"""Shapes from how the symbols of a claim are used (see :func:`infer_shapes`),
and the readings that need the shapes: a power of a matrix (:func:`resolve_powers`),
a juxtaposition with a number (:func:`resolve_products`).

>>> from symbolic_bp.language.parser import parse
>>> infer_shapes(parse("y.T @ A @ x"), parse("y @ x.T"), "A")
('A:m,n x:n y:m', '')
"""
from __future__ import annotations

import re
from fractions import Fraction
from math import prod

from ..core import registry
from ..core.dims import MAX_DIM, ONE, Dim
from ..core.expression import (
    Apply, Call, Div, MatMul, Mul, Neg, Node, Num, Pow, Sym, Transpose, substitute,
)
from ..errors import InputError
from ..language.printer import to_text
from .declarations import Declarations
from .latex_reader import GREEK, SCALAR_GREEK, EntrywisePow, Untranslatable, _plain

class _Dims:
    """Union-find over dimension variables; the constant 1 is the variable 0."""

    def __init__(self):
        self.parent = [0]

    def new(self) -> int:
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            if a == 0:
                a, b = b, a
            self.parent[a] = b


def infer_shapes(cost: Node, claim: Node, wrt: str, declarations: Declarations | None = None) -> tuple[str, str]:
    """Declarations for the symbols of ``cost`` and ``claim``, and which ones
    rest on an assumption (a dimension nothing in the formulas ties).

    A call is read with its operation's own shape rule (from the registry; a
    macro through its expansion), run on the unknown dimensions: where the
    rule rejects them, the one equality between them that satisfies it is
    recorded (a square argument, a column vector); a result dimension that
    is a product is a new dimension tied to nothing.  Dimensions the formula
    passes to a call (a name, a literal) keep their names.

    Broadcasting makes a lower-case variable ambiguous: the b of ``X W + b``
    is a column of X's rows or a row of W's columns.  Both readings are tried
    and the one that keeps more dimensions (and types) is taken.
    """
    declarations = declarations or Declarations()
    first = _infer_shapes(cost, claim, wrt, False, declarations)
    if not (wrt[:1].isupper() or wrt in GREEK or wrt in declarations.shapes or declarations.layout == "row"):
        row = _infer_shapes(cost, claim, wrt, True, declarations)
        if _reading_score(row[0], cost, claim, wrt) > _reading_score(first[0], cost, claim, wrt):
            first = row
    if not _reading_score(first[0], cost, claim, wrt)[0] and any(
            isinstance(n, Call) and n.name == "kron" for t in (cost, claim) for n in t.walk()):
        sized = _sizes_for_products(first[0], cost, claim, wrt)
        if sized:
            return sized, ""
    return first


def _sizes_for_products(shapes: str, cost: Node, claim: Node, wrt: str) -> str | None:
    """Shapes in numbers where a dimension is a product (``x^T (A \\otimes B) x``: x has
    the length m k, which a declaration cannot name): the first sizes, small ones first,
    with which cost and claim type."""
    from itertools import islice, product
    parts = [p.split(":") for p in shapes.split()]
    letters = sorted({d for p in parts if len(p) > 1 and p[1] not in ("scalar", "function")
                      for d in p[1].split(",") if not d.isdigit()})
    if not letters or len(letters) > 6:
        return None
    for values in islice(product((2, 3, 4, 6, 9), repeat=len(letters)), 8000):
        size = dict(zip(letters, map(str, values)))
        text = " ".join(p[0] if len(p) == 1 else ":".join(
            [p[0], ",".join(size.get(d, d) for d in p[1].split(",")) if p[1] not in ("scalar", "function") else p[1]]
            + p[2:]) for p in parts)
        if _reading_score(text, cost, claim, wrt)[0]:
            return text
    return None


def _reading_score(shapes: str, cost: Node, claim: Node, wrt: str) -> tuple:
    """How good a reading of the shapes is: (it types, the dimensions that are not 1)."""
    from ..language.shapes import parse_declarations, typecheck
    try:
        decls = parse_declarations(shapes)
        typed_cost, typed_claim = typecheck(_plain(cost), decls), typecheck(_plain(claim), decls)
        types = typed_claim.shape == decls.symbols[wrt].shape and typed_cost.shape == (ONE, ONE)
    except (InputError, KeyError, RecursionError):
        return (False, 0)
    return (types, sum(d != ONE for sym in decls.symbols.values() for d in sym.shape))


def _infer_shapes(cost: Node, claim: Node, wrt: str, wrt_row: bool,
                  declarations: Declarations = Declarations()) -> tuple[str, str]:
    dims = _Dims()
    shape: dict[str, tuple[int, int]] = {}
    order: list[str] = []
    named: dict[str, int] = {}      # a dimension passed to a call (a name, a literal) -> its variable
    rows = declarations.layout == "row"
    declared = {}
    present = {n.name for tree in (cost, claim) for n in tree.walk() if isinstance(n, Sym)} | {wrt}

    def named_dim(text: str) -> int:
        if text == "1":
            return 0
        if text not in named:
            named[text] = dims.new()
        return named[text]

    for name, text in declarations.shapes.items():     # the side file's shapes: fixed, named dimensions
        if name not in present:
            continue
        parts = text.split(":")[0].split(",")
        declared[name] = text
        shape[name] = (0, 0) if parts == ["scalar"] else \
            (named_dim(parts[0]), named_dim(parts[1]) if len(parts) > 1 else 0)
        order.append(name)
    if wrt_row and wrt not in shape:   # the variable read as a row (a bias broadcast over the rows)
        shape[wrt] = (0, dims.new())
        order.append(wrt)

    def of_symbol(name: str) -> tuple[int, int]:
        if name not in shape:
            order.append(name)
            # the Greek letters of rates and weights (eta, lambda, alpha ...) are numbers; theta,
            # delta, phi ... name vectors as often (parameters, errors, features)
            scalar = name in SCALAR_GREEK or name.startswith(tuple(SCALAR_GREEK)) and not name[:1].isupper()
            # a name with a capital (A, W01, dY, Wxh) is a matrix, else (x, h0, bh) a column vector
            # (a row vector in a document whose layout is rows)
            matrix = any(ch.isupper() for ch in name)
            shape[name] = (0, 0) if scalar else (dims.new(), dims.new()) if matrix else \
                (0, dims.new()) if rows else (dims.new(), 0)
        return shape[name]

    def scalar(s) -> bool:
        return dims.find(s[0]) == 0 and dims.find(s[1]) == 0

    def label(root: int) -> str | None:
        return next((text for text, v in named.items() if dims.find(v) == root), None)

    def dimension(node: Node) -> tuple[int, ...]:
        """A dimension argument as the variables of its factors (two for ``m*n``)."""
        if isinstance(node, Mul):
            return dimension(node.left) + dimension(node.right)
        if isinstance(node, Num) and node.value.denominator == 1 and 1 <= node.value <= MAX_DIM:
            text = str(node.value.numerator)
        elif isinstance(node, Sym):
            text = node.name
        else:
            return (dims.new(),)            # not a dimension the rule can read: an unknown one
        if text == "1":
            return ()
        if text not in named:
            named[text] = dims.new()
        return (named[text],)

    def integer(node: Node) -> int:
        k = node.arg if isinstance(node, Neg) else node
        if isinstance(k, Num) and k.value.denominator == 1:
            return -k.value.numerator if isinstance(node, Neg) else k.value.numerator
        return 0

    def apply_rule(op: registry.Operation, args: list[tuple[int, int]], params: list) -> tuple[int, int] | None:
        """The result of ``op``'s shape rule on the roots ``args``, recording
        the one equality it needs, if any; None if it cannot be satisfied."""
        def as_dim(root: int, same: tuple[int, int]) -> Dim:
            root = dims.find(root)
            root = same[0] if root == same[1] else root
            return ONE if root == 0 else Dim.of(f"d{root}")

        def attempt(same: tuple[int, int]):
            shapes = tuple((as_dim(r, same), as_dim(c, same)) for r, c in args)
            values = tuple(p if p is None or isinstance(p, int) else prod((as_dim(v, same) for v in p), start=ONE)
                           for p in params)
            try:
                return op.shape(shapes, values)
            except registry.ShapeError:
                return None

        result, same = attempt((-1, -1)), None
        if result is None:
            # the equalities to try, most likely first: an argument square, a dimension 1, any other
            roots = list(dict.fromkeys(dims.find(d) for d in [d for a in args for d in a]
                                       + [v for p in params if not isinstance(p, int) for v in p]))
            pairs = [tuple(dims.find(d) for d in a) for a in args] + [(0, r) for r in roots] + \
                [(a, b) for i, a in enumerate(roots) for b in roots[i + 1:]]
            for a, b in pairs:
                if a == b or label(a) and label(b) and label(a) != label(b):
                    continue
                keep, drop = (a, b) if a == 0 or b != 0 else (b, a)
                result = attempt((keep, drop))
                if result is not None:
                    same = (keep, drop)
                    break
            if result is None:
                return None
            dims.union(same[1], same[0])

        def back(d: Dim) -> int:
            if d == ONE:
                return 0
            if d.coef == 1 and len(d.names) == 1 and re.fullmatch(r"d\d+", d.names[0]):
                return dims.find(int(d.names[0][1:]))
            return dims.new()               # a product: a dimension of its own
        return (back(result[0]), back(result[1]))

    def call(node: Call) -> tuple[int, int]:
        expansion = registry.macro(node.name)
        if expansion is not None:
            try:        # a macro whose expansion reads no shape (pinv, softmax) is walked expanded
                given = dict(node.keywords)
                tree = expansion.expand(node.args[:expansion.arity],
                                        {k.name: keyword_value(k, given[k.name]) if k.name in given else k.default
                                         for k in expansion.keywords})
            except (AttributeError, TypeError, registry.ShapeError):
                tree = None
            if tree is None:
                for a in node.args:
                    walk(a)
                return (dims.new(), dims.new())
            return walk(tree)
        op = registry.operation(node.name)
        if op is None or len(node.args) != op.argument_count:     # not one the rule can read
            for a in node.args:
                walk(a)
            return (dims.new(), dims.new())
        args = [walk(a) for a in node.args[:op.arity]]
        if op.broadcasts:
            # NumPy broadcasting (A > B, maximum(0, Z), A / B): read as a sum is
            return _broadcast(args)
        params = [dimension(a) if kind == "dim" else literal(a) if kind == "real" else integer(a)
                  for kind, a in zip(op.params, node.args[op.arity:])]
        given = dict(node.keywords)
        params += [keyword_value(k, given[k.name]) if k.name in given else k.default for k in op.keywords]
        result = apply_rule(op, args, params)
        return result if result is not None else (dims.new(), dims.new())

    def _broadcast(args):
        return entrywise(*args)

    def literal(node: Node):
        k = node.arg if isinstance(node, Neg) else node
        if isinstance(k, Num):
            value = -k.value if isinstance(node, Neg) else k.value
            return int(value) if value.denominator == 1 else value
        return 1

    def keyword_value(k, node: Node):
        """A keyword argument written as a literal (axis=0, keepdims=True), else its default."""
        if isinstance(node, Sym) and node.name in ("None", "True", "False"):
            value = {"None": None, "True": True, "False": False}[node.name]
            return value if k.kind in ("axis", "bool") else k.default
        if k.kind == "axis":
            value = integer(node)
            return value % 2 if value in (0, 1, -1, -2) else k.default
        if k.kind == "int":
            return integer(node)
        return k.default

    def walk(node: Node) -> tuple[int, int]:
        if isinstance(node, Num):
            return (0, 0)
        if isinstance(node, Sym):
            return of_symbol(node.name)
        if isinstance(node, Transpose):
            r, c = walk(node.arg)
            return (c, r)
        if isinstance(node, Neg):
            return walk(node.arg)
        if isinstance(node, Apply):
            return walk(node.arg)
        if isinstance(node, Pow):
            s = walk(node.base)
            if not isinstance(node, EntrywisePow):          # X^{k}: a matrix power, of a square X
                dims.union(s[0], s[1])
            return s
        if isinstance(node, Call):
            return call(node)
        left, right = walk(node.left), walk(node.right)
        if isinstance(node, MatMul):
            if scalar(left):
                return right
            if scalar(right):
                return left
            dims.union(left[1], right[0])
            return (left[0], right[1])
        if isinstance(node, Div):
            return left
        return entrywise(left, right)

    def entrywise(left, right):
        """The shape of an entrywise operation (+, -, *, a comparison ...), by
        NumPy's broadcasting: a dimension 1 beside another one stretches to it
        (a row b in X W + b), two others are the same dimension."""
        if scalar(left):
            return right
        if scalar(right):
            return left
        out = []
        for a, b in zip(left, right):
            if dims.find(a) == 0:
                out.append(b)
            elif dims.find(b) == 0:
                out.append(a)
            else:
                dims.union(a, b)
                out.append(a)
        return tuple(out)

    for name in sorted(_divisors_only(cost, claim) - {wrt}):
        shape[name] = (0, 0)            # written only as a divisor (1/N, X / s): a number
        order.append(name)
    for _ in range(2):              # a second pass uses what the first one learned
        # the claim first: the variable has the claim's shape (a bias b is a row when its gradient is one)
        k = walk(claim)
        if wrt not in shape and not scalar(k) and wrt not in GREEK:
            shape[wrt] = k
            order.append(wrt)
        w = of_symbol(wrt)
        if not scalar(k):
            dims.union(k[0], w[0])
            dims.union(k[1], w[1])
        c = walk(cost)
        dims.union(c[0], 0)
        dims.union(c[1], 0)
    letters = [d for d in "mnkpqrstlhuvw" if d not in shape and d not in named]
    fixed = {dims.find(v): text for text, v in reversed(named.items()) if dims.find(v)}
    names: dict[int, str] = dict(fixed)
    count = 0
    parts = []
    for name in sorted(order):
        if name in declared:
            parts.append(f"{name}:{declared[name]}")
            continue
        r, c = (dims.find(d) for d in shape[name])
        if r == 0 and c == 0:
            parts.append(f"{name}:scalar")
            continue
        for root in (r, c):
            if root and root not in names:
                names[root] = letters[count] if count < len(letters) else f"d{count}"
                count += 1
        rn = names.get(r, "1")
        parts.append(f"{name}:{rn}" if c == 0 else f"{name}:{rn},{names.get(c, '1')}")
    owners: dict[int, set] = {}
    for name in order:
        for d in shape[name]:
            owners.setdefault(dims.find(d), set()).add(name)
    # assumed: a shape whose every dimension is its own, neither shared nor named by the formula
    unknown = sorted(n for n in order if n not in declared and any(dims.find(d) for d in shape[n])
                     and all(owners[dims.find(d)] == {n} and dims.find(d) not in fixed
                             for d in shape[n] if dims.find(d)))
    # the document's own function names (sigma, g) are opaque: declared as such
    functions = sorted({n.name for tree in (cost, claim) for n in tree.walk()
                        if isinstance(n, Apply) and n.name not in registry.reserved()})
    return " ".join([f"{f}:function" for f in functions] + parts), ", ".join(unknown)


def _divisors_only(*trees: Node) -> set[str]:
    """Symbols that occur only as the whole divisor of a quotient (the N of
    ``\\frac{1}{N}``): a size or a number, never a matrix."""
    divisors, elsewhere = set(), set()
    for tree in trees:
        inside = set()
        for n in tree.walk():
            if isinstance(n, Div):
                # 1/N, 1/(2N), \lambda/2: the symbols of a divisor that is a product of numbers and symbols
                factors = [n.right]
                while factors and isinstance(factors[-1], (Mul, MatMul)) and all(
                        isinstance(f, (Num, Sym)) for f in (factors[-1].left, factors[-1].right)):
                    last = factors.pop()
                    factors += [last.left, last.right]
                for f in factors:
                    if isinstance(f, Sym):
                        divisors.add(f.name)
                        inside.add(id(f))
        elsewhere |= {n.name for n in tree.walk() if isinstance(n, Sym) and id(n) not in inside}
    return divisors - elsewhere


def resolve_products(tree: Node, shapes: str) -> Node:
    """A juxtaposition with a 1x1 value (``\\frac{1}{N} X^T e``, ``\\lambda W``)
    is a scaling, ``*``, not a matrix product."""
    from ..language.shapes import parse_declarations, typecheck
    try:
        decls = parse_declarations(shapes)
    except InputError:
        return tree

    def scalar(node: Node) -> bool:
        try:
            return typecheck(_plain(node), decls).shape == (ONE, ONE)
        except (InputError, RecursionError):
            return False

    def rule(node: Node) -> Node | None:
        if type(node) is MatMul and (scalar(node.left) or scalar(node.right)):
            return Mul(left=node.left, right=node.right)
        return None
    return substitute(tree, rule, bottom_up=True)


def resolve_powers(tree: Node, shapes: str) -> Node:
    """A power written ``X^{k}`` of a matrix X is its matrix power
    ``matrix_power(X, k)`` (the claim language's ``X**k`` is entrywise, as in
    NumPy); of a 1x1 value, ``x**k``.  A non-integer power of a matrix (a
    matrix function) does not translate.  ``X^{\\circ p}`` stays entrywise."""
    from ..language.shapes import parse_declarations, typecheck
    try:
        decls = parse_declarations(shapes)
    except InputError:
        return tree

    def rule(node: Node) -> Node | None:
        if type(node) is not Pow:
            return None
        try:
            base_shape = typecheck(_plain(node.base), decls).shape
        except (InputError, RecursionError):
            return None
        if base_shape[0] == ONE and base_shape[1] == ONE:
            return None
        if not isinstance(node.exponent, int):
            raise Untranslatable(f"the power ^{{{node.exponent}}} of the matrix {to_text(node.base)!r} is a matrix "
                                 "function (write ^{\\circ p} for the entrywise power)")
        if node.exponent == -1:
            return Call(name="inv", args=(node.base,))
        k = Num(value=Fraction(abs(node.exponent)))
        return Call(name="matrix_power", args=(node.base, k if node.exponent > 0 else Neg(arg=k)))
    return substitute(tree, rule, bottom_up=True)
