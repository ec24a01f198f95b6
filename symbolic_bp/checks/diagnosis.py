"""Name the likely slip behind a refuted claim.

Each candidate slip is a way to turn the claim into the truth; it explains
the difference when the repaired claim matches the derived gradient at every
numeric draw, judged against the claim's own error there: the repaired claim
must be within the numeric tolerance of the truth (``max|K' - G| <= 1e-8 *
max(1, max|G|)``) *and* have removed the claim's error, ``max|K' - G|``
at most a millionth of ``max|K - G|`` (:data:`REDUCTION`).  A claim whose
error is itself tiny (all values small, as where a tanh saturates) is thus
not "explained" by an edit that merely leaves another tiny value.
Whole-claim slips are tried first (transposed, constant factor, gradient of
another variable), then single edits of the claim's tree, in the order of
the table below.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Iterator

import numpy as np

from .claim import Prepared
from ..errors import InputError
from ..core.expression import (
    Add, Apply, Broadcast, Div, Hadamard, MatMul, Mul, Neg, Node, Sub, Sym, Transpose, num, substitute,
)
from .numeric import REL_TOL, NumericModel, rel_diff
from ..language.printer import to_text
from ..language.shapes import ONE, Typer, is_scalar, surface

MATCH = REL_TOL         # a repaired claim is within the numeric check's tolerance of the truth
REDUCTION = 1e6         # ... and its error at most this fraction of the claim's own error
NO_SLIP = "no simple slip found"
_FACTORS = {Fraction(2): "an extra factor 2", Fraction(1, 2): "a missing factor 2",
            Fraction(-1): "the wrong sign", Fraction(-2): "the wrong sign and an extra factor 2",
            Fraction(-1, 2): "the wrong sign and a missing factor 2", Fraction(4): "an extra factor 4",
            Fraction(1, 4): "a missing factor 4"}


class _Diagnoser:
    def __init__(self, prep: Prepared, model: NumericModel, envs: list[dict]):
        self.prep, self.model, self.envs = prep, model, envs[:2]
        self.truth = [model.value(prep.derived, env) for env in self.envs]
        self.claimed = [model.value(prep.claim, env) if prep.shapes_agree else model.evaluate(prep.claim, env)
                        for env in self.envs]
        self.typer = Typer(prep.decls)
        # the claim's own error at each draw (inf where the shapes differ: nothing to compare)
        self.errors = [rel_diff(k, g) if k.shape == g.shape else float("inf")
                       for k, g in zip(self.claimed, self.truth)]

    def matches(self, values: list[np.ndarray], truth: list[np.ndarray] | None = None) -> bool:
        """``values`` (a repaired claim) equal ``truth`` (the derived gradient by
        default) at every draw: within the tolerance, and REDUCTION times closer
        than the claim itself was."""
        truth = truth or self.truth
        if not any(self.errors):
            return False        # the claim equals the truth at these draws: no error to explain
        return all(v.shape == t.shape and np.all(np.isfinite(v))
                   and rel_diff(v, t) <= min(MATCH, error / REDUCTION)
                   for v, t, error in zip(values, truth, self.errors))

    # -- whole-claim slips --------------------------------------------------------
    def transposed(self) -> str | None:
        if self.matches([k.T for k in self.claimed]):
            return "the claim is the true gradient transposed"
        return None

    def factor(self) -> str | None:
        k, g = self.claimed[0], self.truth[0]
        if k.shape != g.shape or not np.any(g):
            return None
        c = float(np.sum(k * g) / np.sum(g * g))
        if abs(c - 1) < 1e-9 or not self.matches([k / c for k in self.claimed]):
            return None
        simple = Fraction(c).limit_denominator(8)
        if abs(float(simple) - c) > 1e-9 * max(1, abs(c)):
            return f"the claim is {c:.6g} times the true gradient"
        label = _FACTORS.get(simple, f"a factor {simple}")
        return f"the claim is {simple} times the true gradient: {label}"

    def other_variable(self) -> str | None:
        for name, grad in self.prep.all_gradients.items():
            if name == self.prep.wrt:
                continue
            values = [self.model.evaluate(grad, env) for env in self.envs]
            if self.matches(self.claimed, values):
                return f"the claim is the gradient with respect to {name}, not {self.prep.wrt}"
            if self.matches([k.T for k in self.claimed], values):
                return f"the claim is the gradient with respect to {name} (transposed), not {self.prep.wrt}"
        return None

    # -- single edits of the claim --------------------------------------------------
    def edits(self) -> Iterator[tuple[str, Node, Node]]:
        """(description, subexpression, replacement), most telling first."""
        # a broadcast 1x1 value is edited as itself, not as the matrix it fills
        nodes = [n for n in self.prep.claim.walk() if not isinstance(n, Broadcast)]
        smallest_first = sorted(nodes, key=lambda n: sum(1 for _ in n.walk()))
        T = lambda n: Transpose(arg=n)
        for n in nodes:
            if isinstance(n, MatMul):
                yield "a Hadamard product written as a matrix product", n, Mul(left=n.left, right=n.right)
        for n in nodes:
            if isinstance(n, Hadamard):
                yield "a matrix product written as a Hadamard product", n, MatMul(left=n.left, right=n.right)
        for factor in self.chain_factors():
            for n in nodes:
                if n.shape == factor.shape and not is_scalar(n.shape):
                    yield f"a missing factor {to_text(factor)} (the chain rule through {factor.name})", n, \
                        Mul(left=n, right=factor)
        for n in nodes:
            if isinstance(n, Hadamard):
                for keep, drop in ((n.left, n.right), (n.right, n.left)):
                    if isinstance(drop, Apply) and drop.order > 0:
                        yield f"an extra factor {to_text(drop)}", n, keep
        for n in smallest_first:
            if isinstance(n, Transpose):
                yield "an extra transpose", n, n.arg
        for n in smallest_first:
            if not isinstance(n, Transpose) and not is_scalar(n.shape):
                yield "a missing transpose", n, T(n)
        for n in smallest_first:
            if n.shape[0] == n.shape[1] and not is_scalar(n.shape) and not self.symmetric(n):
                yield "a missing symmetrisation", n, Add(left=n, right=T(n))
                yield "a missing symmetrisation", n, Div(left=Add(left=n, right=T(n)), right=num(2))
        for n in nodes:
            if isinstance(n, Add) and isinstance(n.right, Transpose) and n.right.arg == n.left:
                yield "an extra symmetrisation", n, n.left
        for n in nodes:
            if isinstance(n, (Add, Sub)):
                yield "an extra term", n, n.left
                yield "an extra term", n, n.right if isinstance(n, Add) else Neg(arg=n.right)
                yield "a sign error in a term", n, (Sub if isinstance(n, Add) else Add)(left=n.left, right=n.right)
                for side in (n.left, n.right):
                    for c in (2, Fraction(1, 2)):
                        yield f"a term off by a factor {c}", side, Mul(left=num(c), right=side)

    def symmetric(self, node: Node) -> bool:
        return isinstance(node, Sym) and self.prep.decls.symbols[node.name].prop in ("symmetric", "spd")

    def chain_factors(self) -> list[Apply]:
        seen, out = set(), []
        for n in self.prep.cost.walk():
            if isinstance(n, Apply):
                f = self.typer(Apply(name=n.name, arg=n.arg, order=n.order + 1))
                if f not in seen:
                    seen.add(f)
                    out.append(f)
        return out

    def try_edit(self, target: Node, new: Node) -> bool:
        try:
            tree = _replace(self.prep.claim, target, new)
            tree = self.typer(tree)
        except InputError:
            return False
        if tree.shape != self.prep.claim.shape and not is_scalar(tree.shape):
            return False
        try:
            values = [self.model.value(tree, env) for env in self.envs]
        except (ValueError, ZeroDivisionError, np.linalg.LinAlgError):
            return False
        return self.matches(values)

    def run(self) -> str:
        if not self.prep.shapes_agree:
            return self.transposed() or self.other_variable() or NO_SLIP
        for whole in (self.transposed, self.factor, self.other_variable):
            found = whole()
            if found:
                return found
        for what, target, new in self.edits():
            if self.try_edit(target, new):
                return f"{what}: {to_text(target)!r} should be {to_text(new)!r}"
        return self.data_assumption() or NO_SLIP

    # -- an assumption on the data that was not declared ------------------------------
    def data_assumption(self) -> str | None:
        """The claim holds at the same draws once a data symbol's rows sum to 1
        (one-hot labels: the softmax cross-entropy gradient ``softmax(S) - Y``)
        or once its entries are positive: the claim rests on an assumption the
        declarations do not state."""
        decls = self.prep.decls
        for name in sorted(self.prep.used_symbols - {self.prep.wrt}):
            sym = decls.symbols[name]
            if sym.prop is not None or is_scalar(sym.shape):
                continue
            for rule, holds, declare in _ASSUMPTIONS:
                try:
                    envs = [dict(env, **{name: rule(env[name])}) for env in self.envs]
                    truth = [self.model.value(self.prep.derived, env) for env in envs]
                    claimed = [self.model.value(self.prep.claim, env) for env in envs]
                except (ValueError, ZeroDivisionError, np.linalg.LinAlgError):
                    continue
                if all(k.shape == g.shape and np.all(np.isfinite(k)) and rel_diff(k, g) <= MATCH
                       for k, g in zip(claimed, truth)):
                    dims = str(sym.shape[0]) if sym.shape[1] == ONE else f"{sym.shape[0]},{sym.shape[1]}"
                    return (f"the claim holds only {holds.format(name=name)}, which is not declared: "
                            f"declare {name}:{dims}:{declare} if it is so")
        return None


def _rows_sum_to_one(m: np.ndarray) -> np.ndarray:
    """|M| with each row scaled to sum to 1 (a column vector: as a whole), as one-hot labels are."""
    m = np.abs(m) + 0.1
    return m / m.sum() if m.shape[1] == 1 else m / m.sum(axis=1, keepdims=True)


# (how the draw is changed, where the claim then holds, the declaration that states it)
_ASSUMPTIONS = (
    (_rows_sum_to_one, "where each row of {name} sums to 1 (as one-hot labels do)", "onehot"),
    (lambda m: np.abs(m) + 0.1, "where the entries of {name} are positive", "positive"),
)


def _replace(root: Node, target: Node, new: Node) -> Node:
    """``root`` with the node ``target`` (by identity) replaced; the path to
    it is left untyped so that the Typer types exactly what changed."""
    return substitute(root, lambda node: new if node is target else None,
                      rebuilt=surface)


def diagnose(prep: Prepared, model: NumericModel, envs: list[dict]) -> str:
    """A sentence naming the slip that explains the difference, or
    "no simple slip found"."""
    if not envs:
        return NO_SLIP
    return _Diagnoser(prep, model, envs).run()
