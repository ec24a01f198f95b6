"""The verdict on a network claim: induction, unrolled exact, deep numeric.

Three independent checks, each on the claim as written in its convention:

1. **induction** (:mod:`symbolic_bp.networks.induction`): the base case, step or
   weight lemma as one local gradient claim at generic sizes, checked by
   :func:`symbolic_bp.checks.checker.check` -- a proof for every depth;
2. **unrolled**: on an explicit depth-3 network (sizes 2-3-2-1), at every layer
   where the claim applies, the claim becomes an ordinary gradient claim --
   the cost over explicit matrices, with respect to z_l (a delta claim) or a
   parameter, every delta on the right-hand side replaced by the true
   dC/dz_k derived from the cost -- and is checked by
   :func:`~symbolic_bp.checks.checker.check` (exact entrywise differentiation and
   numeric draws; a refutation brings its counterexample and diagnosis);
3. **numeric** on a deeper network (depth 6, 4-5-3-6-4-5-3): the hand-written
   backprop of :mod:`symbolic_bp.networks.backprop` gives z, a, delta and the gradients;
   the right-hand side is evaluated on them at every layer.

A claim tied to one depth (``delta[2-i]`` with the post's literal 2) is not a
statement about every depth: it is checked, unrolled and numerically, on the
network of its own document (the spec's sizes).  A claim whose shapes only
fit when all layers have the same width (a wrong layer index) is checked on a
network of equal widths (2-2-2-2 and 3-3-...-3), so that it can be refuted
with a counterexample; the evidence says so.

*verified* needs every check that ran to agree (at least two); *refuted*
needs every check that ran to differ.

Each check follows the convention's definitions: in the ``rows`` layout the
networks are built with the batch in rows (x N x n_0, z_k = a_{k-1} W_k + 1 b_k),
so that a counterexample and a diagnosis are in the claim's own layout; in
Ng's convention with an averaged cost the deltas are those of the summed cost
(N dC/dz), the 1/N only in the gradients; an L2 penalty (``lambda``) is part
of the cost whose gradients the checks take.  Beyond the diagnosis of the
checker, a refutation names the network slips: a missing sum over the batch,
a penalty on the biases, a term off by a factor N or 2 (the 1/N of an
averaged cost, lambda against lambda/2), a wrong layer index, an activation
without its index.

>>> from symbolic_bp.networks.network import NetworkSpec
>>> spec = NetworkSpec.build((3, 4, 2), "sigma", "mse", batch=2)
>>> r = check_network_claim(spec, "nielsen", "grad(W[l]) = delta[l] @ a[l-1].T")
>>> r.verdict, r.methods
('verified', ['induction', 'unrolled', 'numeric'])
>>> ng = NetworkSpec.build((3, 4, 2), "sigmoid", "cross-entropy", batch=5, average=True)
>>> check_network_claim(ng, "ng", "delta[L] = a[L] - y").verdict
'verified'
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from .backprop import OPAQUE_SEED, backprop, random_parameters
from ..checks.budget import DEFAULT_SECONDS, Deadline, run_with_budget
from ..checks.checker import check
from ..checks.claim import Claim, prepare
from .convention import Ref
from ..errors import InputError
from ..calculus.evaluate import Evaluator, NumericBackend
from .induction import ROLES, classify, local_claim
from .network import LAMBDA, LAMBDA_DECLARATION, PENALTIES, PENALTY_SYMBOLS, NetworkSpec
from .network_claim import (
    BATCH, NetworkClaim, NotExpressible, generic_functions, instantiate, parse_network_claim, plain_symbols,
    scope_error,
    substitute,
)
from ..language.parser import parse
from ..language.printer import to_text
from ..checks.result import Evidence, Result
from ..language.shapes import parse_declarations, parse_typed

UNROLLED_SIZES = (2, 3, 2, 1)
DEEP_SIZES = (4, 5, 3, 6, 4, 5, 3)
EQUAL_UNROLLED = (2, 2, 2, 2)
KNOWN_SIZES = (1, 2, 1, 1)     # known activations, exactly: the exact check evaluates them to 40 digits (slow)
EQUAL_DEEP = (3,) * 7
REL_TOL = 1e-8


@dataclass
class Outcome:
    """One of the three checks: status agree | differ | n/a | ill-typed | undecided."""

    method: str
    status: str
    detail: str
    results: list | None = None

    def evidence(self) -> Evidence:
        outcome = {"n/a": "skipped", "ill-typed": "skipped", "undecided": "inconclusive"}.get(self.status, self.status)
        return Evidence(self.method, outcome, self.detail)


# -- the forward pass as text ---------------------------------------------------------------
def _forward(spec: NetworkSpec, start: int, start_z: str) -> dict:
    """(kind, layer) -> text of z_j and a_j for j >= start, from z_start = ``start_z``."""
    out = {("z", start): start_z}
    a = spec.activate(start, start_z)
    out[("a", start)] = a
    for j in range(start + 1, spec.depth + 1):
        z = spec.preactivation_text(j, a)
        a = spec.activate(j, z)
        out[("z", j)], out[("a", j)] = z, a
    return out


def _rest_cost(spec: NetworkSpec, k: int) -> str:
    """C as a function of a free z_k."""
    if k == spec.depth:
        return spec.output_cost_text(f"z{k}")
    return spec.output_cost_text(_forward(spec, k, f"z{k}")[("z", spec.depth)])


def _derived(claim: Claim, budget: Deadline) -> str:
    out = run_with_budget(lambda progress: prepare(claim).derived_text, seconds=budget.left())
    if out.status != "done":
        raise TimeoutError(f"deriving dC/d{claim.wrt} ran out of its budget ({out.status})")
    return out.value


def _z_decl(spec: NetworkSpec, k: int) -> str:
    return f"z{k}:{spec.batch},{spec.sizes[k]}" if spec.rows else f"z{k}:{spec.sizes[k]},{spec.batch}"


class _Unrolled:
    """Texts of the quantities of one concrete network, for one LHS."""

    def __init__(self, spec: NetworkSpec, budget: Deadline, summed: bool = False):
        """``summed``: the convention's delta is that of the summed cost (Ng's)."""
        self.spec, self.budget = spec, budget
        self.delta_spec = replace(spec, average=False) if summed else spec
        self.true_delta: dict[int, str] = {}

    def delta_text(self, j: int) -> str:
        """The true delta_j as text in z_j (derived from the cost by the project's reverse mode)."""
        if j not in self.true_delta:
            spec = self.delta_spec
            claim = Claim(spec.declarations() + " " + _z_decl(spec, j), _rest_cost(spec, j), f"z{j}", "0")
            self.true_delta[j] = _derived(claim, self.budget)
        return self.true_delta[j]

    def claim(self, nc: NetworkClaim, l: int | None) -> Claim:
        spec, L = self.spec, self.spec.depth
        k = nc.lhs.layer.at(l, L)
        if not 1 <= k <= L:
            raise NotExpressible(f"layer {k} is outside 1..{L}")
        if nc.is_delta:
            forward = _forward(spec, k, f"z{k}")
            decls = spec.declarations() + " " + _z_decl(spec, k)
            cost, wrt, first = _rest_cost(self.delta_spec, k), f"z{k}", k
        else:
            if nc.lhs.kind == "Theta":
                raise NotExpressible("grad(Theta) needs the bias column joined to W, which the claim language "
                                     "cannot write (no concatenation)")
            if nc.lhs.kind == "b" and not spec.bias:
                raise NotExpressible("the network has no biases")
            forward = _forward(spec, 0, "x")
            decls, cost, wrt, first = spec.declarations(), spec.cost_text(), f"{nc.lhs.kind}{k}", 0

        def quantity(ref: Ref) -> str:
            j = ref.layer.at(l, L)
            kind = "a" if ref.kind == "a_aug" and j == L else ref.kind
            if kind in ("z", "a") and (kind, j) in forward:
                return forward[(kind, j)]
            if kind in ("W", "Theta", "Theta_reg") and 1 <= j <= L:
                return f"W{j}"
            if kind == "b" and 1 <= j <= L and spec.bias:
                return f"b{j}"
            if kind == "delta" and first < j <= L and j > (k if nc.is_delta else 0):
                tree = substitute(parse(self.delta_text(j)), {f"z{j}": parse(forward[("z", j)])}, {})
                return to_text(tree)
            raise NotExpressible(f"{ref.kind} at layer {j} does not enter this instance")

        activation = _activation_at(spec, l)
        rhs = instantiate(nc, quantity, activation, str(spec.batch), str(spec.batch), spec.symbols())
        return Claim(shapes=" ".join(generic_functions(nc, spec.opaque_functions()) + [decls]), cost=cost, wrt=wrt, claim=rhs)


def _activation_at(spec: NetworkSpec, l: int):
    """ref -> the name of the activation a claim's sigma[...] means at layer l
    (softmax is written into the cost, so its layer counts as identity)."""
    L = spec.depth

    def activation(ref):
        j = ref.layer.at(l, L) if ref is not None else 1
        if not 0 <= j <= L:
            raise NotExpressible(f"no activation at layer {j}")
        act = spec.input_activation if j == 0 else spec.activations[j - 1]
        return "identity" if act == "softmax" else act
    return activation


def _layers(nc: NetworkClaim, depth: int) -> list:
    return list(range(-1, depth + 3)) if nc.variable_used else [None]


def _opaque(spec: NetworkSpec) -> NetworkSpec:
    """The same network with every known activation replaced by an opaque one:
    exact checks on opaque functions are polynomial identities (fast), and a
    claim that holds for every activation holds for the named one."""
    rename = lambda a: a if a in ("identity", "softmax") or a.startswith("sigma") else f"{a}_"
    return replace(spec, activations=tuple(map(rename, spec.activations)),
                   input_activation=rename(spec.input_activation))


def _unrolled(nc: NetworkClaim, spec: NetworkSpec, budget: Deadline, seed: int, fixed: bool = False) -> Outcome:
    general = _opaque(spec)
    outcome = _unrolled_on(nc, general, budget, seed)
    if general != spec:
        if outcome.status == "agree":
            outcome.detail += (f"; the activations {', '.join(sorted(set(spec.activations) - set(general.activations)))} "
                               "replaced by opaque functions (what holds for every activation holds for these)")
        elif outcome.status in ("differ", "undecided"):
            # the claim may rest on an identity of the named activation (sigmoid' = a(1-a)): check it as is,
            # on the smallest network that still has non-square weights
            small = spec if fixed else spec.with_sizes(KNOWN_SIZES)
            outcome = _unrolled_on(nc, replace(small, batch=spec.batch), budget, seed, first_refutation=True)
    return outcome


def _unrolled_on(nc: NetworkClaim, spec: NetworkSpec, budget: Deadline, seed: int,
                 first_refutation: bool = False) -> Outcome:
    """``first_refutation``: layers from the output down (the smallest expressions
    first), stopping at the first refuted one -- one layer refutes a claim about all."""
    u = _Unrolled(spec, budget, summed=_scale(nc, spec) != 1)
    results, where, typing = [], [], None
    layers = _layers(nc, spec.depth)
    name = f"{'-'.join(map(str, spec.sizes))} network (depth {spec.depth}, batch {spec.batch})"
    for l in (reversed(layers) if first_refutation else layers):
        if first_refutation and results and results[-1].verdict == "refuted":
            break
        try:
            claim = u.claim(nc, l)
            prepare(claim)
        except NotExpressible:
            continue
        except InputError as e:
            typing = str(e)
            continue
        except TimeoutError as e:       # the true delta of a layer not derived within the budget
            return Outcome("unrolled", "undecided", f"on the {name}: {e}", results)
        result = check(claim, seconds=budget.left(), seed=seed)
        results.append(result)
        where.append(f"l={l}" if l is not None else "the fixed layer")
    if not results:
        if typing:
            return Outcome("unrolled", "ill-typed", f"on the {name}: {typing}")
        return Outcome("unrolled", "n/a", f"no layer of the {name} where the claim applies")
    verdicts = [r.verdict for r in results]
    summary = ", ".join(f"{w}: {v}" for w, v in zip(where, verdicts))
    true = "N dC/dz (the convention's delta of the summed cost)" if u.delta_spec is not spec else "dC/dz"
    detail = (f"explicit {name}, cost over explicit matrices, every delta on the right replaced by the true "
              f"{true}; checked as ordinary gradient claims (exact entrywise differentiation + numeric) at {summary}")
    if all(v == "verified" for v in verdicts):
        return Outcome("unrolled", "agree", detail, results)
    if all(v == "refuted" for v in verdicts) or ("refuted" in verdicts and all(v in ("verified", "refuted") for v in verdicts)):
        return Outcome("unrolled", "differ", detail, results)
    return Outcome("unrolled", "undecided", detail + "; " + "; ".join(r.error or "" for r in results if r.error), results)


def _scale(nc: NetworkClaim, spec: NetworkSpec) -> int:
    """The convention's delta over dC/dz: N for Ng's delta of the summed cost when C is averaged."""
    return 1 if nc.convention.delta_factor(spec.average) == 1 else spec.batch


def _numeric(nc: NetworkClaim, spec: NetworkSpec, seed: int) -> Outcome:
    L = spec.depth
    params = random_parameters(spec, seed=seed + 7)
    trace = backprop(spec, params, "nielsen")
    N = spec.batch
    scale = _scale(nc, spec)
    delta = [d if d is None else d * scale for d in trace.delta]
    env = {"x": params["x"], "y": params["y"]}
    if spec.penalty:
        env[LAMBDA] = np.array([[params[LAMBDA]]])
    for j in range(0, L):
        a = trace.a[j]
        env[f"A{j}"] = np.vstack([np.ones((1, N)), a]) if spec.bias else a
    for j in range(1, L + 1):
        env[f"W{j}"], env[f"z{j}"], env[f"a{j}"], env[f"delta{j}"] = params[f"W{j}"], trace.z[j], trace.a[j], delta[j]
        env[f"Delta{j}"] = delta[j] @ env[f"A{j - 1}"].T           # Ng's accumulator
        if spec.bias:
            env[f"b{j}"] = params[f"b{j}"]
            env[f"Theta{j}"] = np.hstack([params[f"b{j}"], params[f"W{j}"]])
            env[f"Theta_reg{j}"] = np.hstack([np.zeros_like(params[f"b{j}"]), params[f"W{j}"]])
    env["a0"] = trace.a[0]
    if spec.rows:                                               # the batch in rows: every array transposed
        env = {name: value.T for name, value in env.items()}
    decl = [f"{f}:function" for f in spec.opaque_functions()] + generic_functions(nc, spec.opaque_functions())
    decl += [f"{name}:{value.shape[0]},{value.shape[1]}" for name, value in env.items() if name != LAMBDA]
    if spec.penalty:
        decl.append(LAMBDA_DECLARATION)
    decls = parse_declarations(" ".join(decl))
    rows, typing = [], None
    for l in _layers(nc, L):
        try:
            k = nc.lhs.layer.at(l, L)
            if not 1 <= k <= L or (nc.lhs.kind == "b" and not spec.bias):
                continue
            truth = {"delta": lambda: delta[k], "W": lambda: trace.canonical[f"dW{k}"],
                     "b": lambda: trace.canonical.get(f"db{k}"),
                     "Theta": lambda: np.hstack([trace.canonical[f"db{k}"], trace.canonical[f"dW{k}"]])
                     if spec.bias else trace.canonical[f"dW{k}"]}[nc.lhs.kind]()

            def quantity(ref: Ref) -> str:
                j = ref.layer.at(l, L)
                kind = ref.kind
                if kind in ("Theta", "Theta_reg") and (nc.is_delta or not spec.bias):
                    kind = "W"
                if kind == "a_aug":
                    kind = "a" if j == L else "A"
                if kind == "z" and j == 0:
                    return "x"
                name = {"W": "W", "b": "b", "z": "z", "a": "a", "delta": "delta", "Theta": "Theta", "A": "A",
                        "Theta_reg": "Theta_reg", "Delta": "Delta"}[kind]
                if f"{name}{j}" not in env:
                    raise NotExpressible(f"{ref.kind} at layer {j}")
                return f"{name}{j}"

            activation = _activation_at(spec, l)
            rhs = parse_typed(instantiate(nc, quantity, activation, str(N), str(N), spec.symbols()), decls)
        except NotExpressible:
            continue
        except InputError as e:
            typing = str(e)
            continue
        with np.errstate(all="ignore"):
            value = Evaluator(NumericBackend(), {}, seed=OPAQUE_SEED)(rhs, env)
        truth = truth.T if spec.rows else truth
        if value.shape != truth.shape:
            rows.append((l, k, np.inf, f"shape {value.shape[0]}x{value.shape[1]} vs {truth.shape[0]}x{truth.shape[1]}"))
            continue
        rel = float(np.max(np.abs(value - truth)) / max(float(np.max(np.abs(truth))), 1e-300))
        rows.append((l, k, rel, f"{rel:.1e}"))
    name = f"{'-'.join(map(str, spec.sizes))} network (depth {L}, batch {N}, float64)"
    if not rows:
        if typing:
            return Outcome("numeric", "ill-typed", f"on the {name}: {typing}")
        return Outcome("numeric", "n/a", f"no layer of the {name} where the claim applies")
    bad = [r for r in rows if not r[2] <= REL_TOL]
    detail = (f"hand-written backprop on a random {name}; claim vs true value, max relative difference per layer: "
              + ", ".join(f"layer {k}: {text}" for _, k, _, text in rows))
    if not bad:
        return Outcome("numeric", "agree", detail + f" (all <= {REL_TOL:g})")
    return Outcome("numeric", "differ", detail + f" (differs at {len(bad)} of {len(rows)} layers)")


def _induction(nc: NetworkClaim, spec: NetworkSpec, budget: Deadline, seed: int) -> Outcome:
    try:
        local = local_claim(nc, spec)
        prepare(local.claim)
    except NotExpressible as e:
        return Outcome("induction", "n/a", f"no proof for every depth: {e}")
    except InputError as e:
        return Outcome("induction", "ill-typed", f"at generic layer sizes: {e}")
    result = check(local.claim, seconds=budget.left(), seed=seed)
    role = ROLES[local.role]
    what = {"base": "dC/dz_L with the cost written on a free z_L",
            "step": "dC/dz_l = d/dz_l <delta_{l+1}, z_{l+1}(z_l)> with delta_{l+1} = dC/dz_{l+1} a free matrix "
                    "(the chain rule through the rest of the network)",
            "lemma": "dC/dW_l = d/dW_l <delta_l, z_l> with delta_l = dC/dz_l a free matrix",
            "lemma2": "dC/dW_l = d/dW_l <delta_{l+1}, z_{l+1}(W_l)> with delta_{l+1} = dC/dz_{l+1} a free matrix"
            }[local.role]
    if _scale(nc, spec) != 1:
        what = (what.replace("dC/dz_L with the cost", "N dC/dz_L with the summed cost")
                .replace("= dC/dz_", "= N dC/dz_").replace("d/dW_l <", "d/dW_l (1/N) <")
                + " (Ng's delta: the error of each example, of the summed cost; the 1/N of the average only "
                  "in the gradient)")
    if spec.penalty and local.role in ("lemma", "lemma2") and nc.lhs.kind != "b":
        what += f", plus the penalty's own term ({PENALTIES[spec.penalty][1]})"
        if "mask" in local.claim.shapes:
            what += ("; mask: a free column standing for Ng's (0, 1, ..., 1), the columns the penalty counts "
                     "-- what holds for every mask holds for his")
    detail = (f"{role}, activation {local.activation}{' (opaque: true for every activation)' if local.activation.startswith('sigma') else ''}: "
              f"{what}; local claim d({local.claim.cost})/d{local.claim.wrt} = {local.claim.claim} "
              f"at generic layer sizes and {local.describe_batch()}: {result.verdict}")
    if local.role in ("base", "step"):
        detail += ("; base case and step together prove, by induction on l from L down, that the recursion "
                   "gives dC/dz_l at every layer of every depth -- a proof, not a test")
    else:
        layers = "every hidden layer" if local.role == "lemma2" else "every layer"
        detail += f"; the lemma holds at {layers} of every depth -- a proof, not a test"
    status = {"verified": "agree", "refuted": "differ"}.get(result.verdict, "undecided")
    if result.verdict == "invalid":
        return Outcome("induction", "ill-typed", f"at generic layer sizes: {result.error}")
    return Outcome("induction", status, detail + (f" ({result.error})" if result.error else ""), [result])


def _depth_specific(nc: NetworkClaim) -> bool:
    """Is the claim tied to one depth (no statement about every depth)?"""
    try:
        classify(nc)
    except NotExpressible:
        return True
    # a quantity at a distance from the LHS that depends on l or L (delta[2-i] next to W[i,i+1])
    return any((ref.layer - nc.lhs.layer).var or (ref.layer - nc.lhs.layer).depth for ref in nc.refs.values())


def check_network_claim(spec: NetworkSpec, convention: str, text: str, *, seconds: float = DEFAULT_SECONDS,
                        seed: int = 0, own_network: bool = False, deep: bool = True) -> Result:
    """Check one network claim; never raises on bad input.

    ``own_network``: the spec's sizes are the document's own network; a claim
    tied to one depth is checked on it.  ``deep=False`` leaves out the slow
    numeric check on the deep network (induction and unrolled remain)."""
    start = time.monotonic()
    if not isinstance(spec, NetworkSpec):
        raise TypeError(f"expected a NetworkSpec, got {type(spec).__name__}")
    try:
        nc = parse_network_claim(text, convention)
    except InputError as e:
        return Result("invalid", text if isinstance(text, str) else "", error=str(e), seconds=time.monotonic() - start)
    spec = replace(spec, layout=nc.convention.layout)          # the networks of the checks, in the claim's layout
    outside = scope_error(nc, list(spec.activations) + [spec.input_activation])
    if outside:     # one meaning for every check: a name no check could call a function
        return Result("invalid", nc.text, error=outside, seconds=time.monotonic() - start)
    coefficient = plain_symbols(nc) & ({LAMBDA} | {n for names in PENALTY_SYMBOLS.values() for n in names})
    if coefficient and not spec.penalty:
        name = sorted(coefficient)[0]
        return Result("invalid", nc.text, error=f"claim: {name!r} is the coefficient of an L2 penalty, and the network "
                      f"has none: give it one (--penalty {'|'.join(PENALTIES)}, or penalty = \"...\" in a derivation "
                      "file)", seconds=time.monotonic() - start)
    batch = 1 if spec.batch == 1 else 2
    specific = _depth_specific(nc)
    budget = Deadline(seconds, start)      # one budget for all the checks of the claim, not one each
    outcomes = []
    if specific:
        if not own_network:
            return Result("invalid", nc.text, error=f"claim: {nc.lhs_text!r} with these indices is tied to one depth; "
                          "give the document's network (sizes) to check it on", seconds=time.monotonic() - start)
        small = spec
        outcomes.append(Outcome("induction", "n/a", "the claim is tied to the document's depth "
                                f"{spec.depth}: no statement about every depth"))
        outcomes.append(_unrolled(nc, small, budget, seed, fixed=True))
        networks = [spec]
        outcomes.append(_numeric(nc, spec, seed))
    else:
        # a network of scalars (the post's sections I and II): its claims multiply with '*', so the
        # unrolled and deep networks are scalar chains too
        scalar = own_network and max(spec.sizes) == 1
        unrolled_sizes, deep_sizes = ((1,) * 4, (1,) * 7) if scalar else (UNROLLED_SIZES, DEEP_SIZES)
        outcomes.append(_induction(nc, spec, budget, seed))
        outcomes.append(_unrolled(nc, replace(spec.with_sizes(unrolled_sizes), batch=batch), budget, seed))
        networks = [replace(spec.with_sizes(deep_sizes), batch=3 if spec.batch > 1 else 1)]
        numeric = _numeric if deep else _numeric_skipped
        outcomes.append(numeric(nc, networks[0], seed))
        if all(o.status in ("ill-typed", "n/a") for o in outcomes[1:]) and any(o.status == "ill-typed" for o in outcomes):
            # defined only when the widths agree (a wrong layer index): check where it is defined
            outcomes[1] = _unrolled(nc, replace(spec.with_sizes(EQUAL_UNROLLED), batch=batch), budget, seed, fixed=True)
            outcomes[2] = numeric(nc, replace(spec.with_sizes(EQUAL_DEEP), batch=3 if spec.batch > 1 else 1), seed)
            outcomes[1].detail += " (all widths equal: at distinct widths the claim is not even defined)"
    return _verdict(nc, outcomes, time.monotonic() - start, spec, networks)


def _numeric_skipped(nc: NetworkClaim, spec: NetworkSpec, seed: int) -> Outcome:
    return Outcome("numeric", "n/a", f"the numeric check on the depth-{spec.depth} network was skipped "
                                     "(asked to skip the slow depth checks)")


def _index_slip(nc: NetworkClaim, spec: NetworkSpec) -> str | None:
    """A wrong layer index: the first indexed name whose shift by one layer
    makes the claim hold on the deep network (at distinct, then equal widths)."""
    if _depth_specific(nc):
        return None
    for key, ref in nc.refs.items():
        for shift in (1, -1):
            moved = replace(ref, layer=ref.layer + type(ref.layer)(const=shift))
            trial = replace(nc, refs={**nc.refs, key: moved})
            for sizes in (DEEP_SIZES, EQUAL_DEEP):
                deep = replace(spec.with_sizes(sizes), batch=3 if spec.batch > 1 else 1)
                if _numeric(trial, deep, 0).status == "agree":
                    wrote = (nc.written or {}).get(key, ref.kind)
                    return (f"a wrong layer index: {wrote} should refer to the layer one "
                            f"{'above' if shift > 0 else 'below'} (the claim holds with that index shifted by {shift:+d})")
    return None


def _batch_slip(nc: NetworkClaim, networks: list) -> str | None:
    """A gradient of a batch written for one example (grad(b[l]) = delta[l] with N
    columns): the claim holds once its columns, one per example, are added up."""
    if nc.is_delta or not networks or any(net.batch == 1 for net in networks):
        return None
    summed = (f"ones(1, {BATCH}) @ ({nc.rhs_text})" if nc.convention.transposed
              else f"({nc.rhs_text}) @ ones({BATCH}, 1)")
    try:
        trial = parse_network_claim(f"{nc.lhs_text} = {summed}", nc.convention)
    except InputError:
        return None
    if all(_numeric(trial, net, 0).status == "agree" for net in networks):
        per = "row" if nc.convention.transposed else "column"
        return (f"a missing sum over the batch: the claim has one {per} per example, and holds as "
                f"{trial.text!r} (the gradient adds up the contributions of the N examples)")
    return None


def _terms(node) -> list:
    """The top-level terms of a sum (the node itself when it is not one)."""
    from ..core.expression import Add, Sub
    if isinstance(node, (Add, Sub)):
        return _terms(node.left) + _terms(node.right)
    return [node]


def _term_slip(nc: NetworkClaim, networks: list) -> str | None:
    """One term of the right-hand side (or the whole of it) off by a factor of
    the batch size or of 2 -- the 1/N of an averaged cost, Ng's 1/m in D rather
    than in delta, the lambda of a penalty against its lambda/2 -- named as written."""
    from ..core.expression import Sym, substitute as substitute_nodes
    if not networks:
        return None
    conv = nc.convention
    batch = conv.batch_names[-1]
    terms = _terms(nc.rhs)
    factors = [("2", "2"), ("1/2", "1/2")]
    if all(net.batch > 1 for net in networks):
        factors = [(f"1/{BATCH}", f"1/{batch}"), (BATCH, batch)] + factors
    spec = networks[0]
    coefficient = {LAMBDA} | set(spec.symbols())
    for term in [nc.rhs] + (terms if len(terms) > 1 else []):
        whole = term is nc.rhs
        shown = to_text(term)
        for key, wrote in (nc.written or {}).items():
            shown = shown.replace(key, wrote)
        penalty = spec.penalty and any(isinstance(n, Sym) and n.name in coefficient for n in term.walk())
        for factor, name in factors:
            new = parse(f"({to_text(term)}) * {factor}")
            trial = replace(nc, rhs=substitute_nodes(nc.rhs, lambda node: new if node is term else None))
            if not all(_numeric(trial, net, 0).status == "agree" for net in networks):
                continue
            what = "the claim" if whole else f"the term {shown}"
            if penalty:
                gradient = spec.penalty_factor(batch) + (" * Theta_reg" if conv.delta_of == "sum" else " * W")
                why = (f"{what} is off by a factor {name}: the {spec.penalty} penalty, "
                       f"{PENALTIES[spec.penalty][1]}, has the gradient {gradient}")
            elif factor == BATCH and nc.is_delta and conv.delta_of == "sum":
                why = (f"an extra 1/{batch}: Ng's delta is the error of each example (the derivative of the summed "
                       f"cost); the 1/{batch} of the averaged cost appears only in D = Delta/{batch}")
            elif factor == BATCH:
                why = f"an extra 1/{batch}: {what} holds without it"
            elif factor == f"1/{BATCH}":
                averaged = (f"D = Delta/{batch}" if conv.delta_of == "sum" else
                            f"delta = dC/dz carries the 1/{batch}" if nc.is_delta else f"the gradient carries the 1/{batch}")
                why = f"a missing 1/{batch}: the cost is averaged over the {batch} examples ({averaged})"
            elif factor == "2":
                why = f"a missing factor 2: {what} is half its true value"
            else:
                why = f"an extra factor 2: {what} is twice its true value"
            return f"{why}; the claim holds multiplied by {name}" if whole else \
                f"{why}; the claim holds with {shown} multiplied by {name}"
    return None


def _bias_penalty_slip(nc: NetworkClaim, networks: list) -> str | None:
    """A penalty on the biases: Ng's written on the whole Theta (the claim holds
    once Theta, on the right, is Theta_reg, its bias column 0), or a lambda term
    in the gradient of a bias (the claim holds without it)."""
    from ..core.expression import Sym, substitute as substitute_nodes
    if nc.is_delta or not networks or not all(net.penalty and net.bias for net in networks):
        return None
    if nc.lhs.kind == "b":
        coefficient = {LAMBDA} | set(networks[0].symbols())
        terms = _terms(nc.rhs)
        drop = {id(t) for t in terms if any(isinstance(n, Sym) and n.name in coefficient for n in t.walk())}
        kept = [t for t in terms if id(t) not in drop]
        if not kept or not drop:
            return None
        zero = parse("0 * " + to_text(kept[0]))          # a zero of the right shape in place of each lambda term
        trial = replace(nc, rhs=substitute_nodes(nc.rhs, lambda node: zero if id(node) in drop else None))
        if all(_numeric(trial, net, 0).status == "agree" for net in networks):
            return (f"the bias is regularised: the {networks[0].penalty} penalty is on the weights only, so the "
                    "gradient of a bias has no lambda term (the claim holds without it)")
        return None
    keys = [key for key, ref in nc.refs.items() if ref.kind == "Theta"]
    if not keys:
        return None
    trial = replace(nc, refs={**nc.refs, **{key: replace(nc.refs[key], kind="Theta_reg") for key in keys}})
    if all(_numeric(trial, net, 0).status == "agree" for net in networks):
        wrote = ", ".join(sorted({(nc.written or {}).get(key, "Theta") for key in keys}))
        return (f"the bias column is regularised: Ng's penalty leaves Theta's first column out, so its gradient is "
                f"lambda/m times Theta with the bias column 0 -- the claim holds with Theta_reg in place of {wrote}")
    return None


def _activation_slip(nc: NetworkClaim, networks: list) -> str | None:
    """An activation written without its layer (the post's sigma' for sigma_2'): the
    first function of the claim that, made the activation of its argument's layer,
    makes the claim hold."""
    from ..core import registry
    from ..core.expression import Apply
    from .network_claim import first_layer
    for node in nc.rhs.walk():
        if not isinstance(node, Apply) or node.name in nc.refs or node.name == nc.convention.function \
                or registry.elementwise(node.name) is not None:
            continue
        ref = first_layer(node.arg, nc.refs)
        if ref is None:
            continue
        key = "Qf_act"
        rhs = substitute(nc.rhs, {}, {node.name: key})
        trial = replace(nc, rhs=rhs, refs={**nc.refs, key: Ref("f", ref.layer)})
        if all(_numeric(trial, net, 0).status == "agree" for net in networks):
            return (f"{node.label}(...) is not the activation of the layer of its argument: the claim holds "
                    f"with that layer's own activation (an activation written without its index)")
    return None


def _activation_repair(nc: NetworkClaim, networks: list) -> str | None:
    """The claim with each unindexed activation given the index of its argument, as
    the text writes it (``sigma'(p[2])`` -> ``sigma[2]'(p[2])``), when the numeric
    check on every network agrees with it (the repair the slip above names)."""
    import re
    from ..core import registry
    unindexed = re.compile(r"(?<![\w\]])([A-Za-z_]\w*)('*)\(\s*([A-Za-z_]\w*)\[([^\]]+)\]\s*\)")
    fixed = unindexed.sub(lambda m: m[0] if registry.elementwise(m[1]) is not None or m[1] in nc.refs else
                          f"{m[1]}[{m[4]}]{m[2]}({m[3]}[{m[4]}])", nc.text)
    try:
        trial = parse_network_claim(fixed, nc.convention) if fixed != nc.text else None
    except InputError:
        return None
    ok = trial is not None and all(_numeric(trial, net, 0).status == "agree" for net in networks)
    return fixed if ok else None


def _verdict(nc: NetworkClaim, outcomes: list[Outcome], seconds: float, spec: NetworkSpec,
             networks: list | None = None) -> Result:
    ran = [o for o in outcomes if o.status in ("agree", "differ")]
    evidence = [o.evidence() for o in outcomes]
    results = [r for o in outcomes if o.results for r in o.results]
    derived = next((r.derived for r in results if r.derived), None)
    result = Result("undecided", nc.text, derived, evidence, seconds=seconds)
    typing = [o.detail for o in outcomes if o.status == "ill-typed"]
    if not ran:
        if typing:
            result.verdict, result.error = "invalid", f"claim: {typing[0]}"
        else:
            result.error = "no check applies to this claim: " + "; ".join(o.detail for o in outcomes)
        return result
    if any(o.status == "undecided" for o in outcomes):
        result.error = "a check could not decide: " + "; ".join(o.detail for o in outcomes if o.status == "undecided")
    elif len(ran) < 2:
        result.error = f"only one check could run ({ran[0].method}); a verdict needs two"
    elif all(o.status == "agree" for o in ran):
        result.verdict = "verified"
    elif all(o.status == "differ" for o in ran):
        result.verdict = "refuted"
        refuted = [r for o in outcomes if o.method == "unrolled" and o.results for r in reversed(o.results)
                   if r.verdict == "refuted"] + [r for r in results if r.verdict == "refuted"]
        first = refuted[0]
        result.counterexample, result.diagnosis, result.derived = first.counterexample, first.diagnosis, first.derived
        activation = None
        shifted = (_batch_slip(nc, networks) or _bias_penalty_slip(nc, networks) or _term_slip(nc, networks)
                   or _index_slip(nc, spec)
                   or (activation := _activation_slip(nc, networks) if networks else None))
        # (the unrolled check's own repair is in the unrolled claim's terms, not the network's: not offered)
        result.suggestion = _activation_repair(nc, networks) if shifted and shifted is activation else None
        if shifted:
            result.diagnosis = shifted
        elif typing:
            result.diagnosis = f"{first.diagnosis}; {typing[0]}"
    else:
        result.error = "the checks disagree (" + ", ".join(f"{o.method}: {o.status}" for o in ran) + \
                       "): this is a bug in symbolic_bp, please report it"
    assert (result.verdict in ("invalid", "undecided")) == (result.error is not None), result
    assert result.verdict != "refuted" or result.diagnosis, result
    return result
