"""Name the slip behind a refuted claim, and offer the claim repaired.

The rows of the catalogue (:mod:`symbolic_bp.checks.slips`) propose edits of
the user's own tree; the search here

1. *screens* each edit at the draws the numeric check already made: the
   repaired claim K' must be within the numeric tolerance of the truth G
   (``max|K' - G| <= 1e-8 * max(1, max|G|)``) *and* have removed the claim's
   own error, ``max|K' - G|`` at most a millionth of ``max|K - G|``
   (:data:`REDUCTION`), so that a claim whose error is itself tiny (all values
   small, as where a tanh saturates) is not "explained" by an edit that merely
   leaves another tiny value.  Only the path from the edited node to the root
   is typed and evaluated again: every untouched subtree keeps its type and
   its values (:class:`View`);
2. *verifies* the first edit that passes, by the checks themselves: the
   repaired text, parsed again, must be verified by
   :func:`~symbolic_bp.checks.checker.decide` -- the exact and the numeric
   check, at their own sizes and points (:func:`verified`) -- before it is
   offered as the suggestion.  An edit that fails goes on to the next one.

A row whose slip stands on its own evidence (the claim is another variable's
gradient, or right under an undeclared assumption) is named even where its
repair fails to verify; the repair is then not offered.  The search is
budgeted (:data:`SCREEN_SECONDS`, :data:`SEARCH_SECONDS`, :data:`MAX_VERIFIED`):
it runs on every refuted claim.  When no row explains the difference, what
*is* known about it is said instead (:mod:`symbolic_bp.checks.difference`).
When the true gradient is zero relative to the terms it is computed from, no
ratio or factor is read from it (a ratio of rounding errors is not a slip):
the zero gradient is offered, verified.  A row that fails with an exception
is said to be a bug in the sentence; the refutation stands.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..calculus.evaluate import Evaluator, NumericBackend
from ..core.expression import Apply, Call, Node, Sym
from ..errors import InputError
from ..language.parser import parse
from ..language.printer import spelling_of, to_text
from ..language.shapes import Typer, is_scalar, parse_typed
from . import difference
from .claim import Claim, Prepared
from .difference import NO_SLIP
from .numeric import REL_TOL, NumericModel, rel_diff
from .slips import CATALOGUE, Edit, data_assumptions

MATCH = REL_TOL         # a repaired claim is within the numeric check's tolerance of the truth
REDUCTION = 1e6         # ... and its error at most this fraction of the claim's own error
SCREEN_SECONDS = 3.0    # screening stops after this long (the rows are tried in order)
SEARCH_SECONDS = 12.0   # ... and no repair is verified after this long
MAX_VERIFIED = 4        # at most this many screened edits are verified by the checks
ZERO = 1e-10            # a true gradient below this fraction of its intermediate values is zero
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


@dataclass(frozen=True)
class Diagnosis:
    """The slip (``kind``: a row of the catalogue, None when none was found),
    the sentence naming it, and the repaired claim, verified (or None)."""

    kind: str | None
    sentence: str
    suggestion: str | None = None


class _MemoTyper(Typer):
    """A typer that types each surface node once: an edited tree shares its
    untouched subtrees with the claim, so only the edited path is typed anew."""

    def __init__(self, decls):
        super().__init__(decls)
        self.memo: dict[int, tuple[Node, Node]] = {}

    def __call__(self, node: Node) -> Node:
        hit = self.memo.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        out = super().__call__(node)
        self.memo[id(node)] = (node, out)       # holding the node keeps its id from being reused
        return out


class _CachedEvaluator(Evaluator):
    """Float64 values at one draw, each typed node evaluated once."""

    def __init__(self, model: NumericModel, env: dict):
        super().__init__(NumericBackend(), model.sizes, model.seed)
        self.env, self.cache = env, {}

    def eval(self, node: Node):
        hit = self.cache.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        out = super().eval(node)
        self.cache[id(node)] = (node, out)
        return out


_FAILED = (ValueError, ZeroDivisionError, ArithmeticError, TypeError, np.linalg.LinAlgError, IndexError)


class View:
    """The refuted claim as the rows of the catalogue read it (see
    :mod:`symbolic_bp.checks.slips` for what they use)."""

    def __init__(self, prep: Prepared, model: NumericModel, envs: list[dict]):
        self.prep, self.model, self.envs = prep, model, envs
        self.decls, self.wrt, self.sizes = prep.decls, prep.wrt, model.sizes
        self.tree = parse(prep.source.claim)
        self.spelling = spelling_of(prep.source.claim, self.tree)     # np.sum, dout.sum(...) as written
        self.cost = parse(prep.source.cost)
        self.nodes = list(self.tree.walk())
        self._parent = {id(c): n for n in self.nodes for c in n.children()}
        self._texts: dict[int, str] = {}
        self._typer = _MemoTyper(prep.decls)
        self._evaluators = [_CachedEvaluator(model, env) for env in envs]
        self.derived, self.gradients = prep.derived, prep.all_gradients
        self.truth = [model.value(prep.derived, env) for env in envs]
        self.claimed = self.values(self.tree) or [model.evaluate(prep.claim, env) for env in envs]
        # the claim's own error at each draw (inf where the shapes differ: nothing to compare)
        self.errors = [rel_diff(k, g) if k.shape == g.shape else float("inf")
                       for k, g in zip(self.claimed, self.truth)]
        self._inside = {id(m) for n in self.nodes if isinstance(n, Apply) or isinstance(n, Call) and n.name in
                        ("greater", "greater_equal", "less", "less_equal", "equal", "not_equal")
                        for child in n.children() for m in child.walk()}
        self._atoms = None

    # -- the tree -----------------------------------------------------------------------------
    def parent(self, node: Node) -> Node | None:
        return self._parent.get(id(node))

    def inside_function(self, node: Node) -> bool:
        """Whether ``node`` is inside the argument of an elementwise function
        or a comparison (an edit there is not what the chain rule misses)."""
        return id(node) in self._inside

    def text(self, node: Node) -> str:
        if id(node) not in self._texts:
            self._texts[id(node)] = to_text(node)
        return self._texts[id(node)]

    def quote(self, node: Node, noun: str | None = None) -> str:
        """``node`` quoted, with its place among equal subexpressions of the
        claim when there are several: ``"the second 'A @ x'"``; with a
        ``noun``, ``"term 'A @ x' (the second of 2)"``."""
        text = self.text(node)
        same = [n for n in self.nodes if self.text(n) == text]
        shown = repr(text if len(text) <= 120 else text[:57] + " ... " + text[-57:])
        index = next((i for i, n in enumerate(same) if n is node), 0)
        ordinal = _ORDINALS[index] if index < len(_ORDINALS) else f"number {index + 1} of the"
        if noun:
            return f"{noun} {shown}" + (f" (the {ordinal} of {len(same)})" if len(same) > 1 else "")
        return shown if len(same) < 2 else f"the {ordinal} {shown}"

    def repeated(self, wanted) -> list[list[Node]]:
        """Groups of equal subexpressions (two or more) for which ``wanted`` holds."""
        groups: dict[str, list[Node]] = {}
        for n in self.nodes:
            if wanted(n):
                groups.setdefault(self.text(n), []).append(n)
        return [g for g in groups.values() if len(g) > 1]

    def shape(self, node: Node):
        """The shape of a surface node (of the claim, the cost or an edit), None if it is ill-typed."""
        typed = self.typed(node)
        return None if typed is None else typed.shape

    def scalar(self, node: Node) -> bool:
        shape = self.shape(node)
        return shape is not None and is_scalar(shape)

    def typed(self, node: Node) -> Node | None:
        try:
            return self._typer(node)
        except (InputError, RecursionError):
            return None

    def surface(self, typed: Node) -> Node | None:
        """A typed tree (the derived gradient, a term of it) as a surface tree
        to edit, written as a textbook writes it where it can be (``mean``,
        ``softmax``: :mod:`symbolic_bp.calculus.textbook`), if its text parses."""
        for text in _texts(typed, self.decls):
            try:
                tree = parse(text)
            except (InputError, RecursionError):
                continue
            if self.typed(tree) is not None:
                return tree
        return None

    # -- values at the draws ----------------------------------------------------------------------
    def typed_values(self, typed: Node) -> list[np.ndarray] | None:
        """Values of a typed tree at the draws (1x1 filled to the variable's shape), None if undefined."""
        out = []
        with np.errstate(all="ignore"):
            for evaluator in self._evaluators:
                try:
                    v = evaluator.eval(typed)
                except _FAILED:
                    return None
                if v.shape == (1, 1) and v.shape != self.model.shape:
                    v = np.full(self.model.shape, v[0, 0])
                out.append(v)
        return out

    def values(self, tree: Node) -> list[np.ndarray] | None:
        typed = self.typed(tree)
        return None if typed is None else self.typed_values(typed)

    def matches(self, values: list[np.ndarray] | None, truth: list[np.ndarray] | None = None) -> bool:
        """``values`` (a repaired claim) equal ``truth`` (the derived gradient by
        default) at every draw: within the tolerance, and REDUCTION times closer
        than the claim itself was."""
        truth = truth or self.truth
        if values is None or not any(self.errors):
            return False        # the claim equals the truth at these draws: no error to explain
        # a draw where the claim happens to be right (a relu mask all off) only has to stay right
        return all(v.shape == t.shape and np.all(np.isfinite(v))
                   and rel_diff(v, t) <= (min(MATCH, error / REDUCTION) if error else MATCH)
                   for v, t, error in zip(values, truth, self.errors))

    def scalar_atoms(self) -> dict:
        """What a constant factor can be made of: each size (``N``), its
        square root (``sqrt(D)``, as in attention) and each scalar symbol of the
        cost (``tau``, ``reg``, ``p``): text -> (node, is a size, value per draw)."""
        if self._atoms is None:
            atoms = {}
            for d in self.decls.dims:
                size = float(self.sizes[d])
                atoms[d] = (Sym(name=d), True, [size] * len(self.envs))
                atoms[f"sqrt({d})"] = (Apply(name="sqrt", arg=Sym(name=d)), True, [size ** 0.5] * len(self.envs))
            for n in self.cost.walk():
                sym = self.decls.symbols.get(n.name) if isinstance(n, Sym) else None
                if sym is not None and is_scalar(sym.shape) and n.name != self.wrt and n.name not in atoms:
                    vals = [float(env[n.name][0, 0]) for env in self.envs]
                    if all(v != 0 for v in vals):
                        atoms[n.name] = (Sym(name=n.name), False, vals)
            self._atoms = atoms
        return self._atoms

    # -- the rows that change the draws, not the claim ------------------------------------------------
    def _holds_at(self, envs: list[dict]) -> bool:
        try:
            truth = [self.model.value(self.prep.derived, env) for env in envs]
            claimed = [self.model.value(self.prep.claim, env) for env in envs]
        except _FAILED:
            return False
        return all(k.shape == g.shape and np.all(np.isfinite(k)) and rel_diff(k, g) <= MATCH
                   for k, g in zip(claimed, truth))

    def symmetrised_match(self, name: str) -> bool:
        """The claim holds at the same draws once the square ``name`` is made symmetric."""
        if name not in self.prep.used_symbols or name == self.wrt:
            return False
        return self._holds_at([dict(env, **{name: (env[name] + env[name].T) / 2}) for env in self.envs])

    def assumption_matches(self, assumptions):
        """(name, where the claim holds, the declaration) for each data symbol
        the claim needs an undeclared property of: the claim holds at the same
        draws once the symbol's rows sum to 1, are one-hot, or are positive."""
        for name in sorted(self.prep.used_symbols - {self.wrt}):
            sym = self.decls.symbols[name]
            if sym.prop is not None or is_scalar(sym.shape):
                continue
            for rule, holds, declare in assumptions:
                if self._holds_at([dict(env, **{name: rule(env[name])}) for env in self.envs]):
                    yield name, holds, declare
                    break

    def truth_is_zero(self) -> bool:
        """The true gradient is zero relative to the values it is computed from
        (its terms cancel), at every draw: no ratio can be read from it."""
        for g, env in zip(self.truth, self.envs):
            scale = self.model.magnitude(self.prep.derived, env)
            if float(np.max(np.abs(g), initial=0.0)) > ZERO * max(1.0, scale):
                return False
        return True


def _texts(typed: Node, decls) -> list[str]:
    """The texts of a typed tree: in textbook form first, then as it is."""
    out = []
    try:
        from ..calculus.textbook import textbook_text
        out.append(textbook_text(typed, decls))
    except (ImportError, InputError, RecursionError, ValueError, TypeError, KeyError):
        pass
    return out + [to_text(typed)]


class _Refuted(Exception):
    """Raised from :func:`decide`'s progress once both checks refute: a repair
    that fails needs no counterexample and no diagnosis of its own."""


def _stop_when_refuted(phase: str, **extra) -> None:
    if "decided" in extra:
        raise _Refuted


# the checks' own decision (checker.decide), handed in by the checker when it loads: the diagnosis
# runs inside the checker, and importing it back would be an import cycle
_decide = None


def use_decide(decide) -> None:
    """Register the function that decides a repaired claim (``checker.decide``)."""
    global _decide
    _decide = decide


def verified(prep: Prepared, text: str, seed: int) -> bool:
    """Whether the claim ``text`` (same cost, variable and declarations) is
    verified by the checks themselves -- :func:`~symbolic_bp.checks.checker.decide`,
    both checks at their own sizes and points: the repaired claim is offered
    only then.  The derivation of the cost is reused."""
    decide = _decide
    if decide is None:
        return False
    try:
        claim = parse_typed(text, prep.decls)
    except (InputError, RecursionError):
        return False
    fixed = Prepared(Claim(prep.source.shapes, prep.source.cost, prep.wrt, text), prep.decls, prep.cost, claim,
                     prep.wrt)
    if not fixed.shapes_agree:
        return False
    fixed.__dict__["all_gradients"] = prep.all_gradients      # the same cost: the derivation is reused
    try:
        return decide(fixed, seed, _stop_when_refuted).verdict == "verified"
    except (_Refuted, InputError, ZeroDivisionError):
        return False


def explain(prep: Prepared, model: NumericModel, envs: list[dict], seed: int = 0,
            progress=lambda phase, **extra: None) -> Diagnosis:
    """The slip that explains the difference, with the claim repaired and
    verified; or, when no row of the catalogue explains it, what is known."""
    if not envs:
        return Diagnosis(None, NO_SLIP)
    view = View(prep, model, envs)
    if view.truth_is_zero():
        return _known(view, prep, seed)
    start = time.monotonic()
    tried: set[str] = set()
    verifications, failed = 0, None
    for row in CATALOGUE:
        standing: Edit | None = None
        try:
            for edit in row.edits(view):
                if edit.stands and standing is None:
                    standing = edit
                if edit.tree is None:
                    continue
                text = to_text(edit.tree)
                if text in tried:
                    continue
                tried.add(text)
                if not view.matches(view.values(edit.tree)):
                    if time.monotonic() - start > SCREEN_SECONDS:
                        break
                    continue
                if verifications >= MAX_VERIFIED or time.monotonic() - start > SEARCH_SECONDS:
                    break
                verifications += 1
                progress("the diagnosis: checking the repaired claim", diagnosis=edit.sentence)
                if verified(prep, text, seed):
                    return Diagnosis(edit.kind, edit.sentence + _or_data_assumption(view, edit),
                                     as_written(view, edit.tree, text))
        except Exception as e:  # noqa: BLE001 -- a bug of a row: said in the sentence, the verdict kept
            failed = failed or f"{row.edits.__name__}: {type(e).__name__}: {e}"
        if standing is not None:
            return Diagnosis(standing.kind, standing.sentence)
        if time.monotonic() - start > SCREEN_SECONDS or verifications >= MAX_VERIFIED:
            break
    return _known(view, prep, seed, failed)


def _or_data_assumption(view: View, edit: Edit) -> str:
    """'; or the claim holds only where each row of y sums to 1 ...': the other reading of a repair
    the claim also admits (a - y is sum(y) * a - y with the factor missing, or the gradient for
    one-hot y the document did not declare), so that the author chooses."""
    if edit.kind == "data_assumption":
        return ""
    try:
        also = next(iter(data_assumptions(view)), None)
    except Exception:  # noqa: BLE001 -- the main sentence stands without it
        return ""
    return f"; or {also.sentence}" if also is not None else ""


def as_written(view: View, tree: Node, text: str) -> str:
    """The repaired claim ``tree`` (printed ``text``) with its functions spelled
    as the user spelled them in the claim (``np.sum``, ``dout.sum(axis=0)``:
    :func:`~symbolic_bp.language.printer.spelling_of`), where that reads back
    as the same tree; else ``text``."""
    if not view.spelling:
        return text
    shown = to_text(tree, view.spelling)
    try:
        return shown if parse(shown) == parse(text) else text
    except (InputError, RecursionError):
        return text


def _known(view: View, prep: Prepared, seed: int, failed: str | None = None) -> Diagnosis:
    """No slip named: what is known about the difference, and the zero
    gradient offered when the truth is zero (verified)."""
    sentence = difference.describe(view)
    if failed:
        sentence += f"; the slip search failed in {failed[:200]}: this is a bug in symbolic_bp, please report it"
    suggestion = None
    if view.truth_is_zero():
        zero = f"zeros_like({prep.wrt})"
        suggestion = zero if verified(prep, zero, seed) else None
    return Diagnosis(None, sentence, suggestion)


def diagnose(prep: Prepared, model: NumericModel, envs: list[dict]) -> str:
    """A sentence naming the slip that explains the difference, or
    "no simple slip found" and what is known (see :func:`explain`).

    >>> from symbolic_bp.checks import checker     # registers the checks' decision (use_decide)
    >>> from symbolic_bp.checks.claim import prepare
    >>> from symbolic_bp.checks.numeric import draw_env
    >>> p = prepare(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "x @ y.T"))
    >>> sizes = {"m": 4, "n": 5}
    >>> envs = [draw_env(p, sizes, np.random.default_rng(s), positive=False) for s in (1, 2)]
    >>> diagnose(p, NumericModel(p, sizes, 0), envs)
    'the claim is the true gradient transposed'
    """
    return explain(prep, model, envs).sentence
