"""The proof for every depth: a network claim reduced to one local gradient claim.

With delta_l *defined* as dC/dz_l through the rest of the network (whatever
its depth), three facts cover every claim of the usual form:

* **base case** (``delta[L] = ...``): C depends on z_L only through the output
  layer, so dC/dz_L is the gradient of the cost written as a function of a free
  z_L -- an ordinary gradient claim;
* **step** (``delta[l] = ...`` at a generic hidden layer l): C depends on z_l
  only through z_{l+1} = W_{l+1} f_l(z_l) + b_{l+1}, so by the chain rule
  dC/dz_l is the gradient, with respect to z_l, of ⟨delta_{l+1}, z_{l+1}(z_l)⟩ with
  delta_{l+1} = dC/dz_{l+1} held fixed (a free matrix): the claim holds at every
  layer of every network iff it holds for this cost, for *every* delta_{l+1};
* **weight lemma** (``grad(W[l]) = ...``, ``grad(b[l])``): C depends on W_l, b_l only
  through z_l = W_l a_{l-1} + b_l, so dC/dW_l is the gradient of ⟨delta_l, z_l⟩.

Each local claim is stated at generic layer sizes (dimension names n, n_next,
n_prev) and at the network's batch: a generic batch nb (with N, as a number,
the scalar nbatch) when the network has a batch of several examples, batch 1
when it has one -- a claim such as grad(b[l]) = delta[l] holds for one example
and not for a batch, so the lemma must be about the network's batch.  The
activation is opaque unless the spec names it.  The claim is handed to
:func:`symbolic_bp.checks.checker.check` (exact entrywise differentiation plus the
numeric check).  Base case and step together are the induction that makes
the recursion compute dC/dz_l at every layer of every depth.

Two things of the network enter the lemma only: an L2 penalty adds its own
term, ``lambda`` times a factor times ⟨W_l, W_l⟩ (the penalty does not depend
on z, so the deltas are unchanged); and a convention whose delta is that of
the summed cost (Ng's, when C is averaged over the N examples) has
dC/dz_l = delta_l / N, so the lemma's cost is ⟨delta_l, z_l⟩ / N and the base
case is stated on the summed cost.  Ng's penalty leaves Theta's bias column
out: the lemma writes it as ``Theta * (ones(n, 1) @ mask.T)`` with ``mask`` a
free column (Ng's is (0, 1, ..., 1)): a claim that holds for every mask holds
for Ng's, and one that regularises the bias column fails for most.

>>> from symbolic_bp.networks.network import NetworkSpec
>>> from symbolic_bp.networks.network_claim import parse_network_claim
>>> spec = NetworkSpec.build((3, 4, 4, 2), "sigma", "mse", batch=2)
>>> nc = parse_network_claim("delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])", "nielsen")
>>> local = local_claim(nc, spec)
>>> local.role, local.claim.cost
('step', 'sum(delta_next * (W_next @ sigma(z) + b_next @ ones(1, nb)))')
>>> local.claim.claim
"W_next.T @ delta_next * sigma'(z)"
>>> one = local_claim(parse_network_claim("grad(b[l]) = delta[l] @ ones(N, 1)", "nielsen"),
...                   NetworkSpec.build((3, 4, 4, 2), "sigma", "mse"))
>>> one.batch, one.claim.shapes, one.claim.claim
('1', 'sigma:function W:n,n_prev a_prev:n_prev,1 delta:n,1 b:n', 'delta @ ones(1, 1)')
>>> ng = NetworkSpec.build((3, 4, 2), "sigmoid", "cross-entropy", batch=5, average=True, penalty="ng")
>>> lemma = local_claim(parse_network_claim("grad(Theta[l]) = Delta[l] / m + lambda / m * Theta_reg[l]", "ng"), ng)
>>> lemma.claim.cost
'sum(delta * (Theta @ a_prev)) / nbatch + lambda / (2 * nbatch) * sum(Theta * Theta * (ones(n, 1) @ mask.T))'
>>> lemma.claim.claim
'delta @ a_prev.T / nbatch + lambda / nbatch * (Theta * (ones(n, 1) @ mask.T))'

In the rows layout the same lemmas are stated with the batch in rows:

>>> rows = NetworkSpec.build((3, 4, 2), "sigma", "mse", batch=2, layout="rows")
>>> step = local_claim(parse_network_claim("delta[l] = (delta[l+1] @ W[l+1].T) * sigma'(Z[l])", "rows"), rows)
>>> step.claim.shapes, step.claim.cost
('sigma:function z:nb,n W_next:n,n_next delta_next:nb,n_next nbatch:scalar:positive b_next:1,n_next', 'sum(delta_next * (sigma(z) @ W_next + ones(nb, 1) @ b_next))')
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..checks.claim import Claim
from .convention import Index, Ref
from .network import ACTIVATIONS, LAMBDA_DECLARATION, NetworkSpec, apply_text
from .network_claim import BATCH, NetworkClaim, NotExpressible, generic_functions, instantiate

BATCH_SCALAR = "nbatch"
ROLES = {"base": "base case at the output layer", "step": "induction step at a generic layer l",
         "lemma": "chain-rule lemma at a generic layer l",
         "lemma2": "chain-rule lemma through the next layer, at a generic hidden layer l"}


@dataclass(frozen=True)
class LocalClaim:
    role: str            # base | step | lemma | lemma2
    claim: Claim
    activation: str
    batch: str = "nb"    # the batch the claim is stated at: the generic nb, or the network's 1

    def describe_batch(self) -> str:
        return "batch 1 (the network's)" if self.batch == "1" else "a generic batch nb"

    def describe(self) -> str:
        return ROLES[self.role]


def _generic_activation(spec: NetworkSpec, output: bool) -> str:
    acts = spec.activations
    if all(a == f"sigma_{k}" for k, a in enumerate(acts, 1)):
        return "sigma_L" if output else "sigma_l"
    if output:
        return acts[-1]
    hidden = set(acts[:-1]) or {acts[-1]}
    if len(hidden) > 1:
        raise NotExpressible(f"the hidden layers have different activations ({', '.join(sorted(hidden))}), "
                             "so there is no generic layer")
    return hidden.pop()


def _offset(ref: Ref, lhs: Ref) -> int:
    d = ref.layer - lhs.layer
    if d.var or d.depth:
        raise NotExpressible(f"{ref.kind} at layer {ref.layer} is not at a fixed distance from layer {lhs.layer}")
    return d.const


def classify(nc: NetworkClaim) -> str:
    """base, step or lemma; :class:`NotExpressible` for a depth-specific claim."""
    layer = nc.lhs.layer
    if nc.lhs.kind != "delta":
        if not layer.var:
            raise NotExpressible("the claim is about one fixed layer")
        return "lemma"
    if layer == Index(depth=1):
        return "base"
    if not layer.var:
        raise NotExpressible(f"the claim is about the fixed layer {layer}")
    return "step"


def local_claim(nc: NetworkClaim, spec: NetworkSpec) -> LocalClaim:
    """The local gradient claim that proves ``nc`` for every depth (stated in
    the layout of the claim's convention)."""
    spec = replace(spec, layout=nc.convention.layout)
    role = classify(nc)
    lhs = nc.lhs
    act = _generic_activation(spec, output=(role == "base"))
    bias = spec.bias
    # the network's batch: one example (then N is 1), or a generic batch of nb examples (N the scalar nbatch)
    nb, nbatch = ("1", "1") if spec.batch == 1 else ("nb", BATCH_SCALAR)
    scalar = f" {BATCH_SCALAR}:scalar:positive" if nbatch == BATCH_SCALAR else ""   # a batch size: > 0
    if spec.penalty:
        scalar += f" {LAMBDA_DECLARATION}"
    ones = f"ones(1, {nb})"
    # dC/dz = delta / factor: Ng's delta is that of the summed cost
    per = "" if nc.convention.delta_factor(spec.average) == 1 or nbatch == "1" else f" / {nbatch}"

    def activation(ref):
        if ref is not None and _offset(ref, lhs) != 0:
            raise NotExpressible(f"the activation of layer {ref.layer} does not enter the {ROLES[role]}")
        return act

    rows = spec.rows

    def dims(r: str, c: str) -> str:
        """A matrix's declared dimensions: canonical r x c, transposed in the rows layout."""
        return f"{c},{r}" if rows else f"{r},{c}"

    def column(n: str) -> str:
        """A bias's: a column n, a 1 x n row in the rows layout."""
        return f"1,{n}" if rows else n

    def affine(W: str, a: str, b: str | None) -> str:
        """z = W a + b 1ᵀ (columns), a W + 1 b (rows)."""
        if rows:
            return f"{a} @ {W}" + (f" + ones({nb}, 1) @ {b}" if b else "")
        return f"{W} @ {a}" + (f" + {b} @ {ones}" if b else "")

    if role == "base":
        named = replace(spec, named=True, average=spec.average and not per)
        n = named.size(spec.depth)
        # softmax-nll labels are one-hot: declared so where each example is a row (or the only column)
        onehot = ":onehot" if spec.cost == "softmax-nll" and (rows or nb == "1") else ""
        decls = f"z:{dims(n, nb)} y:{dims(n, nb)}{onehot}{scalar}"
        cost = named.output_cost_text("z", divisor=nbatch)
        a = apply_text("softmax" if spec.cost == "softmax-nll" else act, "z", n, rows)
        table = {("z", 0): "z", ("a", 0): a, ("a_aug", 0): a}
        wrt = "z"
    elif role == "step":
        decls = (f"z:{dims('n', nb)} W_next:{dims('n_next', 'n')} delta_next:{dims('n_next', nb)}{scalar}"
                 + (f" b_next:{column('n_next')}" if bias else ""))
        a = apply_text(act, "z")
        z_next = affine("W_next", a, "b_next" if bias else None)
        cost = f"sum(delta_next * ({z_next}))"
        table = {("z", 0): "z", ("a", 0): a, ("delta", 1): "delta_next", ("W", 1): "W_next",
                 ("Theta", 1): "W_next", ("Theta_reg", 1): "W_next", ("z", 1): z_next}
        if bias:
            table[("b", 1)] = "b_next"
        wrt = "z"
    else:
        penalized = "W"
        if lhs.kind == "Theta":
            decls = f"Theta:n,n_prev1 a_prev:n_prev1,{nb} delta:n,{nb}{scalar}"
            z = "Theta @ a_prev"
            table = {("Theta", 0): "Theta", ("a_aug", -1): "a_prev", ("delta", 0): "delta", ("z", 0): z,
                     ("Delta", 0): "(delta @ a_prev.T)", ("Theta_reg", 0): "Theta"}
            wrt = penalized = "Theta"
            if bias and spec.penalty:
                # Ng's penalty leaves the bias column out: Theta's columns weighted by a free mask
                decls += " mask:n_prev1:binary"
                table[("Theta_reg", 0)] = penalized = "(Theta * (ones(n, 1) @ mask.T))"
        else:
            if lhs.kind == "b" and not bias:
                raise NotExpressible("the network has no biases")
            decls = (f"W:{dims('n', 'n_prev')} a_prev:{dims('n_prev', nb)} delta:{dims('n', nb)}{scalar}"
                     + (f" b:{column('n')}" if bias else ""))
            z = affine("W", "a_prev", "b" if bias else None)
            table = {("W", 0): "W", ("a", -1): "a_prev", ("delta", 0): "delta", ("z", 0): z}
            if bias:
                table[("b", 0)] = "b"
            wrt = lhs.kind
        table[("a", 0)] = apply_text(act, z)
        cost = f"sum(delta * ({z})){per}"
        if any(_offset(ref, lhs) == 1 for ref in nc.refs.values() if ref.kind != "f") and lhs.kind != "Theta":
            # the gradient written through the next layer (delta_l by its recursion): C depends on W_l
            # only through z_{l+1} = W_{l+1} f(z_l) + b_{l+1}, for every hidden layer l
            role = "lemma2"
            a = apply_text(act, z)
            z_next = affine("W_next", a, "b_next" if bias else None)
            decls = (decls.replace(f"delta:{dims('n', nb)}",
                                   f"W_next:{dims('n_next', 'n')} delta_next:{dims('n_next', nb)}")
                     + (f" b_next:{column('n_next')}" if bias else ""))
            del table[("delta", 0)]
            table.update({("W", 1): "W_next", ("delta", 1): "delta_next", ("z", 1): z_next, ("Theta", 1): "W_next"})
            if bias:
                table[("b", 1)] = "b_next"
            cost = f"sum(delta_next * ({z_next})){per}"
        if spec.penalty and lhs.kind != "b":
            # C = C0 + lambda c sum W_l^2 + (the other layers): the penalty's own term
            weight = "Theta" if penalized.startswith("(") else penalized
            masked = " * (ones(n, 1) @ mask.T)" if penalized.startswith("(") else ""
            cost += f" + {spec.penalty_coefficient(nbatch)} * sum({weight} * {weight}{masked})"

    def quantity(ref: Ref) -> str:
        key = (ref.kind, _offset(ref, lhs))
        if key not in table:
            raise NotExpressible(f"{ref.kind} at layer {ref.layer} does not enter the {ROLES[role]}")
        return table[key]

    rhs = instantiate(nc, quantity, activation, nbatch, nb, spec.symbols())
    opaque = [act] if act not in ACTIVATIONS and act != "softmax" else []
    decls = " ".join([f"{f}:function" for f in opaque] + generic_functions(nc, opaque) + [decls])
    return LocalClaim(role, Claim(shapes=decls, cost=cost, wrt=wrt, claim=rhs), act, nb)


__all__ = ["LocalClaim", "local_claim", "classify", "BATCH", "ROLES"]
