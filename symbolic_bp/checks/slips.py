"""The catalogue of slips: what learners get wrong in a gradient, one row each.

Each row of :data:`CATALOGUE` has a kind (the name a report or a test uses),
a line saying what the learner wrote, and a generator of *edits*: candidate
repairs of the claim, each the user's own tree (as parsed, before the type
pass, so that ``mean``, ``np.dot`` and ``softmax`` print as written) with one
small change and the sentence that names it.  The search
(:mod:`symbolic_bp.checks.diagnosis`) screens the edits numerically at the
draws of the numeric check and verifies the winner with the checks
themselves; a row only proposes.

A row reads the claim through a *view* (:class:`~symbolic_bp.checks.diagnosis.View`):
``view.tree`` (the claim), ``view.nodes`` (its nodes, parents first),
``view.cost`` (the cost, as parsed), ``view.shape(node)``, ``view.scalar(node)``,
``view.parent(node)``, ``view.inside_function(node)``, ``view.quote(node)``
(the subexpression quoted, "the second 'A @ x'" when it occurs more than
once), ``view.repeated(test)`` (groups of equal subexpressions),
``view.values(tree)`` and ``view.typed_values(node)`` (float64 values at the
draws), ``view.claimed`` and ``view.truth`` (the claim's and the true
gradient's values there), ``view.matches(values, truth)``, ``view.derived``
and ``view.gradients`` (typed; ``view.surface(typed)`` reads one back as a
tree to edit), ``view.scalar_atoms()`` (the sizes and scalar symbols a factor
can be made of), and for the rows that change the draws instead of the claim
``view.symmetrised_match(name)`` and ``view.assumption_matches(rules)``.  The
tree operations themselves are in :mod:`symbolic_bp.checks.edits`.

The rows, in the order the search tries them (the first verified edit wins:
a whole-claim explanation beats a local one, a local one a missing term;
``python -c "from symbolic_bp.checks.slips import CATALOGUE"`` lists them):

=================  ==========================================================
kind               the slip (rows of one kind may sit apart in the order)
=================  ==========================================================
transpose          the claim transposed (first); one transpose missing or
                   extra, never inside an elementwise function's argument
                   nor directly inside a reduction (later)
mean_sum           a mean for a sum, or the reverse
factor             a constant factor on the whole claim: 2, 1/2, -1, 1/N, N,
                   sqrt(D), a scalar symbol of the cost (tau, lambda, p);
                   later, on one term only, or a factor inverted (``* p``
                   for ``/ p``)
other_variable     the gradient of a neighbouring variable
product            a Hadamard product for a matrix product, or the reverse
                   (``a @ b.T`` for ``a * b`` too)
outer              a scalar ``x.T @ x`` where the outer product ``x @ x.T``
                   is needed, or the reverse
sigmoid_only       ``g * (1 - g)`` (the sigmoid's derivative) or ``1 - g**2``
                   (tanh's) for a function g that is not the sigmoid (tanh)
sigma_prime        a missing or extra derivative factor, in any spelling:
                   ``sigmoid'(f)``, ``sigmoid(f) * (1 - sigmoid(f))``,
                   ``1 - tanh(f)**2``, a relu mask ``f > 0``
chain_factor       a missing or extra factor that is not a derivative: the
                   upstream gradient, a mask, a gate, ``det(X)``, an ``x @ x.T``
wrong_point        the derivative taken at the wrong point: a symbol for a
                   same-shaped one of similar name (``h_t`` for ``h_{t-1}``,
                   ``z1`` for ``z2``), an input for a function's output
                   (``x`` for ``tanh(x)``), another argument of sigma'
axis               a reduction over the wrong axis, a missing ``keepdims``, a
                   missing sum over the batch
order              the factors of a matrix product in the wrong order
power              an exponent not lowered by the derivative, or a square in
                   the wrong place (``(1 - t)**2`` for ``1 - t**2``)
symmetric          an extra symmetrisation (before the terms); a formula
                   that holds only for a symmetric argument (after them)
term               an extra term, or a missing one (named: a term, or up to
                   three, of the true gradient, its products distributed)
data_assumption    a formula that holds only under an undeclared assumption
                   on the data (one-hot rows, positive entries)
=================  ==========================================================
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import combinations

import numpy as np

from ..core.expression import (
    Add,
    Apply,
    Call,
    Div,
    MatMul,
    Mul,
    Neg,
    Node,
    Num,
    Pow,
    Sub,
    Sym,
    Transpose,
    num,
    substitute,
)
from ..language.printer import to_text
from ..language.shapes import ONE
from .edits import (
    Factor,
    chained,
    expanded,
    missing_factor_label,
    multiplied,
    replaced,
    replaced_all,
    spine,
    summed,
    terms,
    times,
    transposed,
    with_axis,
)

LOOSE = 1e-6          # a row's own numeric pre-test (the search then applies the strict one)


@dataclass(frozen=True)
class Edit:
    """One candidate repair.  ``tree`` is the repaired claim (the user's tree,
    edited), None when the row has no repair to offer; ``stands``: the row
    has already matched the slip numerically by other means (the claim is
    another variable's gradient, or right under an assumption), so the
    sentence holds even where the repair fails its check."""

    kind: str
    sentence: str
    tree: Node | None
    stands: bool = False


@dataclass(frozen=True)
class Slip:
    """A row of the catalogue: its kind, what the learner wrote, and the
    edits that would repair it."""

    kind: str
    learners: str
    edits: Callable[[object], Iterable[Edit]]


# -- constant factors, read from the values -------------------------------------------------------

# the numbers tried before, between and after the sizes and symbols of the cost
_FIRST = tuple(Fraction(q) for q in (-1, 2, Fraction(1, 2), -2, Fraction(-1, 2)))
_LATER = tuple(Fraction(q) for q in (4, Fraction(1, 4), -4, Fraction(-1, 4), 3, Fraction(1, 3)))


def factor_forms(view, ratios: list[float]) -> list[Factor]:
    """The factors whose value at every draw is ``ratios`` (one per draw), the
    simplest first: a small number, a size or symbol of the cost alone, a
    number times one, a small rational."""
    atoms = view.scalar_atoms()         # text -> (node, is_size, values per draw)
    values = {text: vals for text, (_, _, vals) in atoms.items()}
    if all(r is None or abs(r) <= 1e-9 for r in ratios):
        return []                       # a factor 0 is a term too many, not a factor
    forms = [Factor(q) for q in _FIRST]
    for node, size, _ in atoms.values():
        forms += [Factor(q, node, p, size) for q in (Fraction(1), Fraction(-1)) for p in (1, -1)]
    forms += [Factor(q) for q in _LATER]
    for node, size, _ in atoms.values():
        forms += [Factor(q, node, p, size) for q in _FIRST[1:] + _LATER[:2] for p in (1, -1)]
    # a draw that says nothing about the ratio (the term is zero there) is None
    close = lambda f: all(r is None or abs(r - f.value(values, e)) <= 1e-7 * max(1.0, abs(r))
                          for e, r in enumerate(ratios))
    out = [f for f in forms if close(f)]
    simple = Fraction(next(r for r in ratios if r is not None)).limit_denominator(12)
    if not out and simple not in (0, 1) and abs(simple.numerator) <= 24 and close(Factor(simple)):
        out.append(Factor(simple))
    return out


def solve_ratios(residual: list[np.ndarray], direction: list[np.ndarray]) -> list[float | None] | None:
    """a per draw with ``residual = a * direction`` (loosely), None at a draw
    where both are zero; None when some draw is no such multiple or no draw
    says anything.

    >>> solve_ratios([np.array([[2.0, 4.0]]), np.zeros((1, 2))], [np.array([[1.0, 2.0]]), np.zeros((1, 2))])
    [2.0, None]
    """
    out = []
    for r, d in zip(residual, direction):
        if r.shape != d.shape:
            return None
        dd = float(np.sum(d * d))
        scale = max(1.0, float(np.max(np.abs(r), initial=0.0)))
        if not dd:
            if float(np.max(np.abs(r), initial=0.0)) > LOOSE * scale:
                return None
            out.append(None)
            continue
        a = float(np.sum(r * d)) / dd
        if not np.isfinite(a) or float(np.max(np.abs(r - a * d))) > LOOSE * scale:
            return None
        out.append(a)
    return out if any(a is not None for a in out) else None


# -- the rows -----------------------------------------------------------------------------------

def _show(node: Node) -> str:
    return _show_text(to_text(node))


def _show_text(text: str) -> str:
    return repr(text if len(text) <= 120 else text[:57] + " ... " + text[-57:])


def _should(view, target: Node, new: Node) -> str:
    return f"{view.quote(target)} should be {_show(new)}"


def whole_transpose(view) -> Iterator[Edit]:
    yield Edit("transpose", "the claim is the true gradient transposed", transposed(view.tree, view.scalar))


def whole_factor(view) -> Iterator[Edit]:
    ratios = solve_ratios(view.claimed, view.truth)
    if ratios is None or 0 in ratios:
        return
    for f in factor_forms(view, ratios):
        if not f.trivial:
            yield Edit("factor", f"the claim is {f.text()} times the true gradient: "
                                 f"{missing_factor_label(f.inverse)}", times(view.tree, f.inverse))


def other_variable(view) -> Iterator[Edit]:
    claimed_t = [k.T for k in view.claimed]
    for name, grad in view.gradients.items():
        if name == view.wrt:
            continue
        values = view.typed_values(grad)
        if values is None:
            continue
        for claimed, how in ((view.claimed, ""), (claimed_t, " (transposed)")):
            if view.matches(claimed, values):
                yield Edit("other_variable", f"the claim is the gradient with respect to {name}{how}, not "
                                             f"{view.wrt}", view.surface(view.derived), stands=True)


def local_transposes(view) -> Iterator[Edit]:
    smallest = sorted(view.nodes, key=lambda n: sum(1 for _ in n.walk()))
    for n in smallest:
        if isinstance(n, Transpose):
            yield Edit("transpose", f"an extra transpose: {_should(view, n, n.arg)}", replaced(view.tree, n, n.arg))
    for n in smallest:
        parent = view.parent(n)
        # (a transpose directly inside a reduction is the reduction over the other axis, transposed)
        if (n is view.tree or isinstance(n, (Transpose, Num)) or isinstance(parent, Transpose)
                or isinstance(parent, Call) and parent.name in _REDUCTIONS
                or view.scalar(n) or view.inside_function(n)):
            continue
        new = Transpose(arg=n)
        yield Edit("transpose", f"a missing transpose: {_should(view, n, new)}", replaced(view.tree, n, new))


def products(view) -> Iterator[Edit]:
    for n in view.nodes:
        if isinstance(n, MatMul) and not view.inside_function(n):
            new = Mul(left=n.left, right=n.right)
            yield Edit("product", f"a Hadamard product written as a matrix product: {_should(view, n, new)}",
                       replaced(view.tree, n, new))
    for n in view.nodes:
        if isinstance(n, Mul) and not (view.scalar(n.left) or view.scalar(n.right)) and not view.inside_function(n):
            new = MatMul(left=n.left, right=n.right)
            yield Edit("product", f"a matrix product written as a Hadamard product: {_should(view, n, new)}",
                       replaced(view.tree, n, new))
    # a matrix product with a transpose to make it fit, where the Hadamard product is meant
    for n in view.nodes:
        if isinstance(n, MatMul) and not view.inside_function(n) and \
                (isinstance(n.right, Transpose) or isinstance(n.left, Transpose)):
            new = _untransposed_hadamard(n)
            yield Edit("product", f"a Hadamard product written as a matrix product: {_should(view, n, new)}",
                       replaced(view.tree, n, new))
    for group in view.repeated(lambda n: isinstance(n, MatMul) and (isinstance(n.right, Transpose)
                                                                    or isinstance(n.left, Transpose))):
        mapping = {id(n): _untransposed_hadamard(n) for n in group}
        yield Edit("product", f"a Hadamard product written as a matrix product, in each of the {len(group)} copies "
                              f"of {_show(group[0])}: each should be {_show(mapping[id(group[0])])}",
                   replaced_all(view.tree, mapping))
    # the same wrong product written out several times: every copy at once
    for group in view.repeated(lambda n: isinstance(n, (MatMul, Mul)) and not view.scalar(n.left)
                               and not view.scalar(n.right)):
        kind = Mul if isinstance(group[0], MatMul) else MatMul
        mapping = {id(n): kind(left=n.left, right=n.right) for n in group}
        what = "a Hadamard product written as a matrix product" if kind is Mul else \
            "a matrix product written as a Hadamard product"
        yield Edit("product", f"{what}, in each of the {len(group)} copies of {_show(group[0])}: "
                              f"each should be {_show(mapping[id(group[0])])}", replaced_all(view.tree, mapping))


def _untransposed_hadamard(n: MatMul) -> Mul:
    """``a @ b.T`` (``a.T @ b``) read as the Hadamard product ``a * b`` it stands for."""
    strip = lambda m: m.arg if isinstance(m, Transpose) else m
    return Mul(left=strip(n.left), right=strip(n.right))


def _inner(n: Node) -> tuple[Node, Node] | None:
    """(u, v) when ``n`` is written ``u.T @ v`` for column vectors u, v."""
    if isinstance(n, MatMul) and isinstance(n.left, Transpose):
        return n.left.arg, n.right
    return None


def outer_products(view) -> Iterator[Edit]:
    for n in view.nodes:
        pair = _inner(n)
        if pair is None or not view.scalar(n):
            continue
        u, v = pair
        outers = [MatMul(left=u, right=Transpose(arg=v))]
        if u != v:
            outers.append(MatMul(left=v, right=Transpose(arg=u)))
        parent = view.parent(n)
        for outer in outers:
            what = f"a scalar {_show(n)} where the outer product {_show(outer)} is needed"
            if isinstance(parent, (Mul, MatMul)):
                other = parent.right if parent.left is n else parent.left
                for new in (MatMul(left=other, right=outer), MatMul(left=outer, right=other)):
                    yield Edit("outer", f"{what}: {_should(view, parent, new)}", replaced(view.tree, parent, new))
            yield Edit("outer", f"{what}: {_should(view, n, outer)}", replaced(view.tree, n, outer))
    for n in view.nodes:
        if isinstance(n, MatMul) and isinstance(n.right, Transpose) and not view.scalar(n):
            inner = MatMul(left=Transpose(arg=n.left), right=n.right.arg)
            parent = view.parent(n)
            what = f"an outer product {_show(n)} where the scalar {_show(inner)} is needed"
            if isinstance(parent, MatMul):
                other = parent.right if parent.left is n else parent.left
                new = Mul(left=other, right=inner)
                yield Edit("outer", f"{what}: {_should(view, parent, new)}", replaced(view.tree, parent, new))


def _one_minus(n: Node) -> Node | None:
    """u when ``n`` is written ``1 - u``."""
    if isinstance(n, Sub) and isinstance(n.left, Num) and n.left.value == 1:
        return n.right
    return None


def _squared(n: Node) -> Node | None:
    """u when ``n`` is written ``u**2`` or ``u * u``."""
    if isinstance(n, Pow) and n.exponent == 2:
        return n.base
    if isinstance(n, Mul) and n.left == n.right:
        return n.left
    return None


def _hadamard_chains(view) -> Iterator[tuple[Node, list[Node]]]:
    """(node, factors) of each maximal product chain ``a * b * c`` of the claim
    (entrywise, or of scalars: the post's chains of 1x1 weights)."""
    for n in view.nodes:
        parent = view.parent(n)
        if isinstance(n, Mul) and not (isinstance(parent, Mul) and parent.left is n):
            yield n, spine(n, Mul)


def _constant(view, f: Node) -> bool:
    """A number or a size: a constant factor, the factor rows' business."""
    return isinstance(f, Num) or isinstance(f, Sym) and f.name in view.decls.dims


def _derivative_of(f: Node) -> Node:
    """The derivative of the function value ``f`` (an Apply) in the user's
    spelling: tanh's as ``1 - tanh(z)**2``, another's with a prime."""
    if f.name == "tanh":
        return Sub(left=num(1), right=Pow(base=f, exponent=2))
    return Apply(name=f.name, arg=f.arg, order=f.order + 1)


def sigmoid_only(view) -> Iterator[Edit]:
    for n, factors in _hadamard_chains(view):
        for i, j in ((i, j) for i in range(len(factors)) for j in range(len(factors)) if i != j):
            u = factors[i]
            if isinstance(u, Apply) and u.order == 0 and u.name != "sigmoid" and _one_minus(factors[j]) == u:
                first, second = min(i, j), max(i, j)
                new_factors = list(factors)
                new_factors[first] = _derivative_of(u)
                del new_factors[second]
                pattern = Mul(left=factors[first], right=factors[second])
                yield Edit("sigmoid_only",
                           f"the sigmoid's derivative s(1 - s) written for {u.name} (the claim holds only for the "
                           f"sigmoid): {_show(pattern)} should be {_show(new_factors[first])}",
                           replaced(view.tree, n, chained(new_factors, Mul)))
    for n in view.nodes:
        u = _squared(_one_minus(n)) if _one_minus(n) is not None else None
        if isinstance(u, Apply) and u.order == 0 and u.name != "tanh":
            new = Apply(name=u.name, arg=u.arg, order=1)
            yield Edit("sigmoid_only", f"tanh's derivative 1 - t**2 written for {u.name} (the claim holds only for "
                                       f"tanh): {_should(view, n, new)}", replaced(view.tree, n, new))


def _derivative_factors(view) -> list[tuple[Node, str]]:
    """The derivative factors the chain rule through the cost's elementwise
    functions brings: f'(u) for each f(u), and the mask ``u > 0`` of a relu
    written ``maximum(0, u)``; (factor, the function's name)."""
    seen, out = set(), []
    for n in view.cost.walk():
        if isinstance(n, Apply):
            factor, name = Apply(name=n.name, arg=n.arg, order=n.order + 1), n.name
        elif isinstance(n, Call) and n.name == "maximum" and len(n.args) == 2 and num(0) in n.args:
            u = n.args[1] if n.args[0] == num(0) else n.args[0]
            factor, name = Call(name="greater", args=(u, num(0))), "maximum"
        else:
            continue
        text = to_text(factor)
        if text not in seen and view.shape(factor) is not None:
            seen.add(text)
            out.append((factor, name))
    return out


def _is_derivative(f: Node) -> bool:
    """A factor that is a derivative of an elementwise function, in any spelling."""
    if isinstance(f, Apply) and f.order > 0:
        return True
    u = _one_minus(f)
    if u is not None and isinstance(_squared(u), Apply):
        return True
    return isinstance(f, Call) and f.name == "greater" and f.args[1] == num(0)


def sigma_primes(view) -> Iterator[Edit]:
    for factor, name in _derivative_factors(view):
        shape = view.shape(factor)
        for n in view.nodes:
            if _constant(view, n) or view.inside_function(n) or view.shape(n) != shape:
                continue
            new = Mul(left=n, right=factor)
            yield Edit("sigma_prime", f"a missing factor {to_text(factor)} (the chain rule through {name}): "
                                      f"{_should(view, n, new)}", replaced(view.tree, n, new))
    for n, factors in _hadamard_chains(view):
        for i, f in enumerate(factors):
            if _is_derivative(f):
                rest = factors[:i] + factors[i + 1:]
                new = chained(rest, Mul)
                yield Edit("sigma_prime", f"an extra factor {_show(f)} (a derivative the chain rule does not bring "
                                          f"here): {_should(view, n, new)}", replaced(view.tree, n, new))
        for i, j in combinations(range(len(factors)), 2):
            a, b = factors[i], factors[j]
            u = a if _one_minus(b) == a else b if _one_minus(a) == b else None
            if isinstance(u, Apply) and u.order == 0:
                rest = factors[:i] + factors[i + 1:j] + factors[j + 1:]
                if not rest:
                    continue
                new = chained(rest, Mul)
                yield Edit("sigma_prime", f"an extra factor {_show(Mul(left=a, right=b))} (the derivative of "
                                          f"{u.name}, once too often): {_should(view, n, new)}",
                           replaced(view.tree, n, new))


def _cost_symbols(view) -> list[Node]:
    names = dict.fromkeys(n.name for n in view.cost.walk() if isinstance(n, Sym) and n.name in view.decls.symbols)
    return [Sym(name=name) for name in names]


def chain_factors(view) -> Iterator[Edit]:
    factors, seen = [], set()
    everything_scalar = all(view.scalar(n) for n in view.nodes if not _constant(view, n))
    for f in _cost_symbols(view) + [n for n in view.cost.walk() if isinstance(n, Apply) and n.order == 0]:
        text = to_text(f)
        # (a scalar symbol is the factor rows' business, unless the claim is a chain of scalars)
        if text not in seen and (everything_scalar or not view.scalar(f)) and view.shape(f) is not None:
            seen.add(text)
            factors.append(f)
    for f in factors:
        shape = view.shape(f)
        for n in view.nodes:
            if _constant(view, n) or view.inside_function(n) or view.shape(n) != shape or n == f:
                continue
            new = multiplied(f, n, view.scalar)
            yield Edit("chain_factor", f"a missing factor {_show(f)}: {_should(view, n, new)}",
                       replaced(view.tree, n, new))
    # a scalar of the cost the whole claim (or one of its terms) lacks: det(X) in d det(X)/dX
    scalars, seen = [], set()
    for c in view.cost.walk():
        text = to_text(c)
        if (isinstance(c, (Call, Apply, MatMul)) and view.scalar(c) and text not in seen
                and sum(1 for _ in c.walk()) <= 15 and any(isinstance(m, Sym) for m in c.walk())):
            seen.add(text)
            scalars.append(c)
    targets = [view.tree] + [t for s in _sums(view) if s is view.tree for _, t in terms(s)]
    for f in scalars:
        for n in targets:
            new = multiplied(f, n, view.scalar)
            yield Edit("chain_factor", f"a missing factor {_show(f)}: {_should(view, n, new)}",
                       replaced(view.tree, n, new))
    for n, chain in _hadamard_chains(view):
        for i, f in enumerate(chain):
            if not _constant(view, f) and not _is_derivative(f) and len(chain) > 1:
                new = chained(chain[:i] + chain[i + 1:], Mul)
                yield Edit("chain_factor", f"an extra factor {_show(f)}: {_should(view, n, new)}",
                           replaced(view.tree, n, new))
    for n in view.nodes:
        parent = view.parent(n)
        if not isinstance(n, MatMul) or (isinstance(parent, MatMul) and parent.left is n):
            continue
        chain = spine(n, MatMul)
        for width in (1, 2):
            for i in range(len(chain) - width + 1):
                rest = chain[:i] + chain[i + width:]
                if not rest:
                    continue
                dropped = chained(chain[i:i + width], MatMul)
                new = chained(rest, MatMul)
                yield Edit("chain_factor", f"an extra factor {_show(dropped)}: {_should(view, n, new)}",
                           replaced(view.tree, n, new))


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def wrong_points(view) -> Iterator[Edit]:
    symbols = view.decls.symbols
    used = {n.name for tree in (view.tree, view.cost) for n in tree.walk() if isinstance(n, Sym)}
    occurrences: dict[str, list[Node]] = {}
    for n in view.nodes:
        if isinstance(n, Sym) and (n.name in symbols or n.name in view.decls.dims):
            occurrences.setdefault(n.name, []).append(n)
    # the argument of a derivative: another argument the cost gives that function
    for n in view.nodes:
        if isinstance(n, Apply) and n.order > 0:
            for c in view.cost.walk():
                if isinstance(c, Apply) and c.name == n.name and c.arg != n.arg and view.shape(c.arg) == view.shape(n.arg):
                    new = Apply(name=n.name, arg=c.arg, order=n.order)
                    yield Edit("wrong_point", f"the derivative taken at the wrong point: {_should(view, n, new)}",
                               replaced(view.tree, n, new))
    # a function written without its index (sigma' for sigma_2'): another declared function, most similar first
    functions = list(view.decls.functions)
    for n in view.nodes:
        if isinstance(n, Apply) and n.name in functions:
            for other in sorted((f for f in functions if f != n.name), key=lambda f: -_similarity(n.name, f)):
                new = Apply(name=other, arg=n.arg, order=n.order)
                yield Edit("wrong_point", f"{n.label} where {new.label} is meant (a function written without its "
                                          f"index): {_should(view, n, new)}", replaced(view.tree, n, new))
    # an input where the cost's function of it is meant (x for tanh(x), c for tanh(c))
    outputs = [c for c in view.cost.walk() if isinstance(c, Apply) and c.order == 0]
    for n in view.nodes:
        if isinstance(n, (Num, Apply)):
            continue
        for c in outputs:
            if c.arg == n:
                yield Edit("wrong_point", f"{view.quote(n)} where {_show(c)} is meant", replaced(view.tree, n, c))
    for group in view.repeated(lambda n: not isinstance(n, (Num, Apply, Sym))):
        for c in outputs:
            if c.arg == group[0]:
                yield Edit("wrong_point", f"{_show(group[0])} where {_show(c)} is meant, in each of its "
                                          f"{len(group)} places", replaced_all(view.tree, {id(n): c for n in group}))
    # a symbol for a same-shaped one (h_prev for h, z1 for z2, n for d), the most similar names first
    for name, nodes in occurrences.items():
        shape = view.shape(nodes[0])
        others = [o for o in list(symbols) + list(view.decls.dims) if o != name and o in used | set(view.decls.dims)
                  and view.shape(Sym(name=o)) == shape]
        for other in sorted(others, key=lambda o: -_similarity(name, o)):
            new = Sym(name=other)
            for n in nodes:
                yield Edit("wrong_point", f"{view.quote(n)} where {other!r} is meant", replaced(view.tree, n, new))
            if len(nodes) > 1:
                yield Edit("wrong_point", f"{name!r} where {other!r} is meant, in each of its {len(nodes)} places",
                           replaced_all(view.tree, {id(n): new for n in nodes}))
    # an input where an expression of the cost that contains it is meant (x for 1 / (1 + exp(-x)));
    # a function value where a symbol of its shape is meant (tanh(...) of one step for h0 of another)
    # (an expression that contains the symbol first: x for sigmoid(x); then any other of its shape:
    # y for x3 = W23 @ W12 @ W01 @ x0, a definition written out)
    cost_nodes = [c for c in view.cost.walk() if not isinstance(c, (Sym, Num)) and not view.scalar(c)
                  and sum(1 for _ in c.walk()) <= 40]
    contains = lambda c, name: any(isinstance(s, Sym) and s.name == name for s in c.walk())
    for name, nodes in occurrences.items():
        shape = view.shape(nodes[0])
        ordered = [c for c in cost_nodes if contains(c, name)] + \
                  [c for c in cost_nodes if not contains(c, name) and sum(1 for _ in c.walk()) <= 12]
        for c in ordered:
            if view.shape(c) != shape:
                continue
            if len(nodes) > 1:
                yield Edit("wrong_point", f"{name!r} where {_show(c)} is meant, in each of its {len(nodes)} places",
                           replaced_all(view.tree, {id(n): c for n in nodes}))
            for n in nodes:
                yield Edit("wrong_point", f"{view.quote(n)} where {_show(c)} is meant", replaced(view.tree, n, c))
    for n in view.nodes:
        if not isinstance(n, Apply) or n.order or view.scalar(n):
            continue
        shape = view.shape(n)
        for other in [Sym(name=s) for s in symbols if s in used] + outputs:
            if other != n and view.shape(other) == shape:
                yield Edit("wrong_point", f"{view.quote(n)} where {_show(other)} is meant",
                           replaced(view.tree, n, other))


def _exponent(n: Node) -> tuple[Node, Fraction] | None:
    """(base, exponent) of ``base**k``."""
    if isinstance(n, Pow):
        return n.base, Fraction(n.exponent)
    return None


def powers(view) -> Iterator[Edit]:
    """The exponent of a power not lowered by one after differentiating
    (``(v + eps)**-0.5`` where ``-1.5`` is meant), lowered twice, or a square
    in the wrong place (``(1 - t)**2`` for ``1 - t**2``)."""
    for n in view.nodes:
        found = _exponent(n)
        if found is None:
            continue
        base, k = found
        for new_k, what in ((k - 1, "an exponent not lowered"), (k + 1, "an exponent lowered once too often")):
            if new_k == 0:
                continue
            new = Pow(base=base, exponent=int(new_k) if new_k.denominator == 1 else new_k)
            yield Edit("power", f"{what}: {_should(view, n, new)}", replaced(view.tree, n, new))
        u = _one_minus(base)
        if u is not None:
            new = Sub(left=base.left, right=Pow(base=u, exponent=n.exponent))
            yield Edit("power", f"a power in the wrong place: {_should(view, n, new)}", replaced(view.tree, n, new))
    for n in view.nodes:
        u = _one_minus(n)
        if isinstance(u, Pow):
            new = Pow(base=Sub(left=n.left, right=u.base), exponent=u.exponent)
            yield Edit("power", f"a power in the wrong place: {_should(view, n, new)}", replaced(view.tree, n, new))


_REDUCTIONS = ("sum", "mean", "max", "min", "var", "std", "softmax", "log_softmax", "logsumexp")


def _axis(call: Call) -> int | None:
    for name, value in call.keywords:
        if name == "axis":
            if isinstance(value, Sym):
                return None
            if isinstance(value, Neg) and isinstance(value.arg, Num):
                return int(-value.arg.value) % 2
            if isinstance(value, Num):
                return int(value.value) % 2
    return None


def _keepdims(call: Call) -> bool:
    return any(name == "keepdims" and isinstance(value, Sym) and value.name == "True"
               for name, value in call.keywords)


def _describe_axis(axis, keepdims) -> str:
    return "every entry" if axis is None else f"axis {axis}" + (" (keepdims)" if keepdims else "")


def axes(view) -> Iterator[Edit]:
    calls = [n for n in view.nodes if isinstance(n, Call) and n.name in _REDUCTIONS and n.args]
    options = [(0, False), (0, True), (1, False), (1, True), (None, False)]
    for n in calls:
        axis, keep = _axis(n), _keepdims(n)
        for new_axis, new_keep in options:
            if (new_axis, new_keep) == (axis, keep) or (axis is None and new_axis is None):
                continue
            new = with_axis(n, new_axis, new_keep)
            what = ("a missing keepdims=True" if new_axis == axis and new_keep else
                    "an extra keepdims=True" if new_axis == axis else
                    f"a {n.name} over {_describe_axis(axis, False)} where {_describe_axis(new_axis, False)} is meant")
            yield Edit("axis", f"{what}: {_should(view, n, new)}", replaced(view.tree, n, new))
    # the same reduction over the wrong axis in every place
    groups: dict[tuple, list[Node]] = {}
    for n in calls:
        groups.setdefault((n.name, _axis(n), _keepdims(n)), []).append(n)
    for (name, axis, keep), group in groups.items():
        if len(group) < 2:
            continue
        for new_axis, new_keep in options:
            if (new_axis, new_keep) == (axis, keep):
                continue
            mapping = {id(n): with_axis(n, new_axis, new_keep) for n in group}
            yield Edit("axis", f"each of the {len(group)} reductions {name}(..., {_describe_axis(axis, keep)}) "
                               f"should be over {_describe_axis(new_axis, new_keep)}", replaced_all(view.tree, mapping))
    # a missing sum over the batch (one row per example where the variable has one row)
    for axis, keep in ((0, False), (0, True), (1, True), (None, False)):
        new = with_axis(Call(name="sum", args=(view.tree,)), axis, keep)
        yield Edit("axis", f"a missing sum over {_describe_axis(axis, False)}: the claim should be "
                           f"{_show(new)}", new)


def means(view) -> Iterator[Edit]:
    swap = {"sum": "mean", "mean": "sum"}
    calls = [n for n in view.nodes if isinstance(n, Call) and n.name in swap]
    for n in calls:
        new = replace(n, name=swap[n.name])
        yield Edit("mean_sum", f"a {n.name} where the {swap[n.name]} is meant: {_should(view, n, new)}",
                   replaced(view.tree, n, new))
    for name, other in swap.items():
        group = [n for n in calls if n.name == name]
        if len(group) > 1:
            yield Edit("mean_sum", f"a {name} where the {other} is meant, in each of its {len(group)} places",
                       replaced_all(view.tree, {id(n): replace(n, name=other) for n in group}))


def orders(view) -> Iterator[Edit]:
    for n in view.nodes:
        parent = view.parent(n)
        if not isinstance(n, MatMul) or (isinstance(parent, MatMul) and parent.left is n):
            continue
        chain = spine(n, MatMul)
        for i in range(len(chain) - 1):
            swapped = chain[:i] + [chain[i + 1], chain[i]] + chain[i + 2:]
            new = chained(swapped, MatMul)
            yield Edit("order", f"the factors of a matrix product in the wrong order: {_should(view, n, new)}",
                       replaced(view.tree, n, new))


def _sums(view) -> Iterator[Node]:
    """The maximal sums of the claim (a + b - c as one)."""
    for n in view.nodes:
        parent = view.parent(n)
        if isinstance(n, (Add, Sub)) and not (isinstance(parent, (Add, Sub)) and parent.left is n):
            yield n


def term_factors(view) -> Iterator[Edit]:
    if any(g.shape != k.shape for g, k in zip(view.truth, view.claimed)):
        return
    residual = [g - k for g, k in zip(view.truth, view.claimed)]
    for s in _sums(view):
        for _, t in terms(s):
            if view.inside_function(t):
                continue
            # the claim as a function of the term's factor c: K(2) - K(1) is the term's
            # contribution, and the residual G - K is (c - 1) times it when the term lacks c
            probe = view.values(replaced(view.tree, t, Mul(left=num(2), right=t)))
            if probe is None:
                continue
            solved = solve_ratios(residual, [p - k for p, k in zip(probe, view.claimed)])
            if solved is not None:
                for f in factor_forms(view, [None if a is None else 1 + a for a in solved]):
                    if not f.trivial:
                        label = "the wrong sign of" if f.q == -1 and not f.power else f"{missing_factor_label(f)} in"
                        yield Edit("factor", f"{label} the {view.quote(t, 'term')}", _term_times(view.tree, s, t, f))
    # a factor inverted: * p for / p
    atoms = {text for text in view.scalar_atoms()}
    for n in view.nodes:
        if isinstance(n, Mul):
            for s, other in ((n.right, n.left), (n.left, n.right)):
                if to_text(s) in atoms or (isinstance(s, Num) and abs(s.value) not in (0, 1)):
                    new = Div(left=other, right=s)
                    yield Edit("factor", f"an inverted factor {to_text(s)}: {_should(view, n, new)}",
                               replaced(view.tree, n, new))
        elif isinstance(n, Div) and (to_text(n.right) in atoms or isinstance(n.right, Num)):
            new = Mul(left=n.left, right=n.right)
            yield Edit("factor", f"an inverted factor {to_text(n.right)}: {_should(view, n, new)}",
                       replaced(view.tree, n, new))


def _term_times(tree: Node, total: Node, term: Node, f: Factor) -> Node:
    """``tree`` with the term ``term`` of the sum ``total`` multiplied by ``f``;
    a sign goes into the sum's operator (``a - alpha * w`` for ``a + alpha * w``)."""
    signed = terms(total)
    new = []
    for sign, t in signed:
        if t is term:
            if f.q < 0 and (len(new) or sign < 0):
                sign, f = -sign, Factor(-f.q, f.atom, f.power, f.size)
            t = times(t, f)
        new.append((sign, t))
    return replaced(tree, total, summed(new))


def extra_terms(view) -> Iterator[Edit]:
    for s in _sums(view):
        signed = terms(s)
        for i, (_, t) in enumerate(signed):
            rest = signed[:i] + signed[i + 1:]
            new = summed(rest)
            yield Edit("term", f"an extra {view.quote(t, 'term')}: {_should(view, s, new)}",
                       replaced(view.tree, s, new))


def missing_terms(view) -> Iterator[Edit]:
    """A term of the true gradient (or two or three of them) the claim lacks,
    the true gradient's products distributed over its sums."""
    derived = view.surface(view.derived)
    if derived is None:
        return
    pieces, seen = [], set()
    for sign, t in terms(derived) + expanded(derived, deep=False) + expanded(derived):
        if to_text(t) not in seen:
            seen.add(to_text(t))
            pieces.append((sign, t))
    pieces = pieces[:20]
    if any(g.shape != k.shape for g, k in zip(view.truth, view.claimed)):
        return
    residual = [g - k for g, k in zip(view.truth, view.claimed)]
    values = []
    for sign, t in pieces:
        v = view.values(t)
        try:        # a term that is a row (a sum over the batch) broadcasts over the rows, as in the sum
            values.append(None if v is None else [sign * np.broadcast_to(x, r.shape) for x, r in zip(v, residual)])
        except ValueError:
            values.append(None)
    usable = [i for i, v in enumerate(values) if v is not None]
    for size in (1, 2, 3):
        for subset in combinations(usable, size):
            total = [sum(values[i][e] for i in subset) for e in range(len(residual))]
            if all(float(np.max(np.abs(r - s))) <= LOOSE * max(1.0, float(np.max(np.abs(g))))
                   for r, s, g in zip(residual, total, view.truth)):
                added = [pieces[i] for i in subset]
                # the missing term as it is added: '- gamma * mean(dY, axis=0) / ...'
                shown = " ".join(f"{'-' if sign < 0 else '+'} {to_text(t)}" for sign, t in added)
                shown = shown.removeprefix("+ ")
                new = summed(terms(view.tree) + added) if isinstance(view.tree, (Add, Sub)) else \
                    summed([(1, view.tree)] + added)
                yield Edit("term", f"a missing term {_show_text(shown)}", new)


def extra_symmetrisations(view) -> Iterator[Edit]:
    """``G + G.T`` where G is meant (a formula for a symmetric variable's
    gradient used for an unstructured one): before an extra term, which it is too."""
    for n in view.nodes:
        if isinstance(n, Add) and isinstance(n.right, Transpose) and n.right.arg == n.left:
            yield Edit("symmetric", f"an extra symmetrisation: {_should(view, n, n.left)}",
                       replaced(view.tree, n, n.left))


def symmetrisations(view) -> Iterator[Edit]:
    for name, sym in view.decls.symbols.items():
        if (sym.shape[0] != sym.shape[1] or view.scalar(Sym(name=name)) or sym.prop is not None
                or not view.symmetrised_match(name)):
            continue
        what = f"a missing symmetrisation: the claim holds only for a symmetric {name}"
        s = Sym(name=name)
        def swap(node: Node, s: Node = s) -> Node:
            return substitute(node, lambda leaf: Transpose(arg=s) if leaf == s else None)
        for n in view.nodes:
            # 2 * S @ x, written for a symmetric S, is S @ x + S.T @ x
            if isinstance(n, Mul) and isinstance(n.left, Num) and n.left.value == 2 and \
                    any(m == s for m in n.right.walk()):
                parent = view.parent(n)
                if isinstance(parent, MatMul) and parent.left is n:
                    new = MatMul(left=Add(left=n.right, right=swap(n.right)), right=parent.right)
                    yield Edit("symmetric", f"{what}: {_should(view, parent, new)}",
                               replaced(view.tree, parent, new), stands=True)
                    continue
                new = Add(left=n.right, right=swap(n.right))
                yield Edit("symmetric", f"{what}: {_should(view, n, new)}", replaced(view.tree, n, new), stands=True)
        sym_s = Div(left=Add(left=s, right=Transpose(arg=s)), right=num(2))
        yield Edit("symmetric", f"{what}: each {name!r} should be {to_text(sym_s)!r}",
                   substitute(view.tree, lambda m, s=s, sym_s=sym_s: sym_s if m == s else None), stands=True)
        for n in view.nodes:
            if n == s:
                yield Edit("symmetric", f"{what}: {_should(view, n, Transpose(arg=s))}",
                           replaced(view.tree, n, Transpose(arg=s)), stands=True)
        yield Edit("symmetric", what, view.surface(view.derived), stands=True)
    for n in sorted(view.nodes, key=lambda n: sum(1 for _ in n.walk())):
        shape = view.shape(n)
        if shape is None or view.scalar(n) or shape[0] != shape[1] or view.inside_function(n) or \
                isinstance(n, Sym) and view.decls.symbols.get(n.name) and \
                view.decls.symbols[n.name].prop in ("symmetric", "spd"):
            continue
        for new in (Add(left=n, right=Transpose(arg=n)), Div(left=Add(left=n, right=Transpose(arg=n)), right=num(2))):
            yield Edit("symmetric", f"a missing symmetrisation: {_should(view, n, new)}", replaced(view.tree, n, new))


# (how a draw is changed, where the claim then holds, the declaration that states it)
def _rows_sum_to_one(m: np.ndarray) -> np.ndarray:
    """|M| with each row scaled to sum to 1 (a column vector: as a whole), as one-hot labels are."""
    m = np.abs(m) + 0.1
    return m / m.sum() if m.shape[1] == 1 else m / m.sum(axis=1, keepdims=True)


def _one_hot(m: np.ndarray) -> np.ndarray:
    """A one-hot matrix (each row; a column vector as a whole) where ``m`` is largest."""
    out = np.zeros_like(m)
    if m.shape[1] == 1:
        out[int(np.argmax(m)), 0] = 1
    else:
        out[np.arange(m.shape[0]), np.argmax(m, axis=1)] = 1
    return out


ASSUMPTIONS = (
    (_rows_sum_to_one, "where each row of {name} sums to 1 (as one-hot labels do)", "onehot"),
    (_one_hot, "where each row of {name} is one-hot", "onehot"),
    (lambda m: np.abs(m) + 0.1, "where the entries of {name} are positive", "positive"),
)


def data_assumptions(view) -> Iterator[Edit]:
    for name, holds, declare in view.assumption_matches(ASSUMPTIONS):
        sym = view.decls.symbols[name]
        dims = str(sym.shape[0]) if sym.shape[1] == ONE else f"{sym.shape[0]},{sym.shape[1]}"
        yield Edit("data_assumption", f"the claim holds only {holds.format(name=name)}, which is not declared: "
                                      f"declare {name}:{dims}:{declare} if it is so",
                   view.surface(view.derived), stands=True)


CATALOGUE: tuple[Slip, ...] = (
    Slip("transpose", "the whole gradient transposed (dout.T @ x for x.T @ dout)", whole_transpose),
    Slip("mean_sum", "a mean for a sum, or the reverse (np.mean(dout, axis=0) for np.sum)", means),
    Slip("factor", "the whole gradient off by a factor: 2, 1/2, -1, 1/N, N, tau, lambda", whole_factor),
    Slip("other_variable", "the gradient of a neighbouring variable (dbeta for dgamma)", other_variable),
    Slip("transpose", "one transpose missing or extra (dout @ w for dout @ w.T)", local_transposes),
    Slip("product", "a Hadamard product for a matrix product, or the reverse", products),
    Slip("outer", "a scalar x.T @ x where the outer product x @ x.T is needed, or the reverse", outer_products),
    Slip("sigmoid_only", "g * (1 - g) or 1 - g**2 for a function g that is not the sigmoid (tanh)", sigmoid_only),
    Slip("sigma_prime", "a missing or extra derivative factor, in any spelling", sigma_primes),
    Slip("chain_factor", "a missing or extra factor: the upstream gradient, a mask, a gate, an x @ x.T", chain_factors),
    Slip("wrong_point", "the derivative taken at the wrong point (h_t for h_{t-1}, x for sigmoid(x))", wrong_points),
    Slip("axis", "a reduction over the wrong axis, a missing keepdims, a missing sum over the batch", axes),
    Slip("order", "the factors of a matrix product in the wrong order", orders),
    Slip("factor", "one term off by a factor (a 1/N missing from one term), or a factor inverted", term_factors),
    Slip("power", "an exponent not lowered by the derivative ((v + eps)**-0.5 for **-1.5), a square misplaced",
         powers),
    Slip("symmetric", "an extra symmetrisation: G + G.T for G", extra_symmetrisations),
    Slip("term", "an extra term", extra_terms),
    Slip("term", "a missing term (named)", missing_terms),
    Slip("symmetric", "a formula that holds only for a symmetric argument, or an extra symmetrisation",
         symmetrisations),
    Slip("data_assumption", "a formula that holds only for one-hot (or positive) data not so declared",
         data_assumptions),
)

KINDS: tuple[str, ...] = tuple(dict.fromkeys(row.kind for row in CATALOGUE))
