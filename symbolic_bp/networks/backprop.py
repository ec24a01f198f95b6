"""The hand-written NumPy backprop, one chain-rule step a line, per convention.

Each function runs the forward pass storing z and a, then the backward
δ recursion, in the layout of its convention, and returns a :class:`Trace`
with the canonical quantities (z_k, a_k, delta_k, dW_k, db_k) and the
gradients in the convention's own names.  Activations come from
:mod:`symbolic_bp.core.elementwise` (stable: the sigmoid is ½(1 + tanh(t/2)), the
softplus ``logaddexp(0, t)``), so |z| = 1000 gives neither a warning nor NaN.

Ng's backprop (:func:`backprop_ng`) is his ex4 loop in matrix form: δ^(L) of
the summed cost (per example, a − y for cross-entropy), Δ^(l) = δ^(l+1) a^(l)ᵀ,
D^(l) = Δ^(l)/m when the cost is averaged, plus (λ/m)Θ^(l) outside the bias
column with his penalty.  :func:`backprop_rows` is the row-major code of
CS231n: Z = A @ W + b, δ = (δ_next @ W_nextᵀ) ⊙ σ'(Z), dW = Aᵀ @ δ,
db = δ.sum(axis=0, keepdims=True).  Every trace's ``delta`` is the canonical
dC/dz_k (column layout) whatever the convention's own definition.

Also here: the NumPy cost (the same network, forward only, with its penalty)
and central finite differences of it.

>>> import numpy as np
>>> from symbolic_bp.networks.network import NetworkSpec
>>> spec = NetworkSpec.build((3, 4, 2), "sigmoid", "mse", batch=5)
>>> p = random_parameters(spec, seed=1)
>>> t = backprop(spec, p, "nielsen")
>>> sorted(t.grads)
['dW1', 'dW2', 'db1', 'db2']
>>> fd = finite_differences(spec, p, "W1")
>>> bool(np.allclose(fd, t.grads["dW1"], rtol=1e-6, atol=1e-9))
True
>>> reg = NetworkSpec.build((3, 4, 2), "sigmoid", "cross-entropy", batch=5, average=True, penalty="ng")
>>> q = random_parameters(reg, seed=2)
>>> ng, rows = backprop(reg, q, "ng"), backprop(reg, q, "rows")
>>> bool(np.allclose(finite_differences(reg, q, "W1"), ng.canonical["dW1"], rtol=1e-6, atol=1e-9))
True
>>> bool(np.allclose(rows.grads["dW1"], ng.canonical["dW1"].T)), rows.grads["db1"].shape
(True, (1, 4))
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..core import elementwise as functions
from ..checks.finite_differences import central_differences
from ..errors import InputError
from .convention import ALIASES
from .network import LAMBDA, NetworkSpec

OPAQUE_SEED = 0      # which random smooth function an opaque sigma is, numerically


def f(name: str, order: int = 0):
    """The activation ``name`` (or its order-th derivative) on arrays."""
    if name == "identity":
        return (lambda t: t) if order == 0 else (lambda t: np.ones_like(t) if order == 1 else np.zeros_like(t))
    return functions.numeric(name, order, OPAQUE_SEED)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=0, keepdims=True))        # shifted: no overflow
    return e / e.sum(axis=0, keepdims=True)


@dataclass
class Trace:
    """Canonical z[k], a[k], delta[k] (k = 0..L; unused entries None) and the
    gradients, by the convention's names (dW1, db1, dTheta1, dW01...)."""

    z: list
    a: list
    delta: list
    grads: dict = field(default_factory=dict)
    canonical: dict = field(default_factory=dict)      # dW<k>, db<k>


def random_parameters(spec: NetworkSpec, seed: int = 0, scale: float | None = None) -> dict:
    """W_k, b_k (canonical names), x and y, drawn from ``seed``.  y is one-hot
    for softmax-nll, in (0, 1) for cross-entropy."""
    rng = np.random.default_rng(seed)
    p = {}
    for k in range(1, spec.depth + 1):
        s = scale if scale is not None else 1 / np.sqrt(spec.sizes[k - 1])
        p[f"W{k}"] = rng.standard_normal((spec.sizes[k], spec.sizes[k - 1])) * s
        if spec.bias:
            p[f"b{k}"] = rng.standard_normal((spec.sizes[k], 1)) * 0.5
    p["x"] = rng.standard_normal((spec.sizes[0], spec.batch))
    n_out = spec.sizes[-1]
    if spec.cost == "softmax-nll":
        p["y"] = np.eye(n_out)[:, rng.integers(0, n_out, spec.batch)]
    elif spec.cost == "cross-entropy":
        p["y"] = rng.uniform(0, 1, (n_out, spec.batch))
    else:
        p["y"] = rng.standard_normal((n_out, spec.batch))
    if spec.penalty:
        p[LAMBDA] = float(rng.uniform(0.3, 3.0))       # drawn last: the other draws are those without a penalty
    return p


def _summed(spec: NetworkSpec) -> NetworkSpec:
    return replace(spec, average=False)


def output_delta(spec: NetworkSpec, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """delta_L = dC/dz_L for the spec's cost."""
    if spec.cost == "mse":
        d = (a - y) * f(spec.activations[-1], 1)(z)          # ½|a-y|²: (a - y) ⊙ f'(z)
    elif spec.cost == "cross-entropy":
        d = a - y                                            # sigmoid + cross-entropy: a - y
    else:
        d = a - y                                            # softmax + nll (columns of y sum to 1): a - y
    return d / spec.batch if spec.average else d


def _output(spec: NetworkSpec, z: np.ndarray) -> np.ndarray:
    return softmax(z) if spec.cost == "softmax-nll" else f(spec.activations[-1])(z)


def _with_penalty(spec: NetworkSpec, p: dict, grads: dict, name: str = "W") -> None:
    if spec.penalty:
        for k in range(1, spec.depth + 1):
            grads[f"d{name}{k}"] = grads[f"d{name}{k}"] + 2 * spec.penalty_value(p[LAMBDA]) * p[f"{name}{k}"]


def backprop_nielsen(spec: NetworkSpec, p: dict) -> Trace:
    """W[l] maps l-1 to l; z[l] = W[l] a[l-1] + b[l]; delta[l] = W[l+1]ᵀ delta[l+1] ⊙ f'(z[l])."""
    L = spec.depth
    z, a, delta = [None] * (L + 1), [None] * (L + 1), [None] * (L + 1)
    z[0] = p["x"]
    a[0] = f(spec.input_activation)(p["x"])
    for k in range(1, L + 1):
        z[k] = p[f"W{k}"] @ a[k - 1] + (p[f"b{k}"] if spec.bias else 0)
        a[k] = f(spec.activations[k - 1])(z[k]) if k < L else _output(spec, z[k])
    delta[L] = output_delta(spec, z[L], a[L], p["y"])
    for k in range(L - 1, 0, -1):
        delta[k] = (p[f"W{k + 1}"].T @ delta[k + 1]) * f(spec.activations[k - 1], 1)(z[k])
    grads = {}
    for k in range(1, L + 1):
        grads[f"dW{k}"] = delta[k] @ a[k - 1].T
    _with_penalty(spec, p, grads)
    if spec.bias:
        for k in range(1, L + 1):
            grads[f"db{k}"] = delta[k].sum(axis=1, keepdims=True)
    return Trace(z, a, delta, grads, dict(grads))


def backprop_ng(spec: NetworkSpec, p: dict) -> Trace:
    """Theta(l) maps l to l+1 with the bias column first; a(l) = [1; g(z(l))];
    delta(l) = Theta(l)ᵀ delta(l+1) ⊙ g'(z(l)) with the bias row dropped, the
    error of each example (of the summed cost); Delta(l) = delta(l+1) a(l)ᵀ;
    grad Theta(l) = D(l) = Delta(l) / m when the cost is averaged over the m
    examples, + (lambda/m) Theta(l) outside the bias column with Ng's penalty.
    Ng's layers are 1..L+1: list index = layer - 1."""
    L = spec.depth
    m = spec.batch
    ones = np.ones((1, m))
    aug = (lambda t: np.vstack([ones, t])) if spec.bias else (lambda t: t)
    z, a, delta = [None] * (L + 1), [None] * (L + 1), [None] * (L + 1)
    z[0] = p["x"]
    a[0] = f(spec.input_activation)(p["x"])
    for k in range(1, L + 1):
        z[k] = p[f"Theta{k}"] @ aug(a[k - 1])
        a[k] = f(spec.activations[k - 1])(z[k]) if k < L else _output(spec, z[k])
    delta[L] = output_delta(_summed(spec), z[L], a[L], p["y"])        # Ng's delta: one example's error
    for k in range(L - 1, 0, -1):
        back = p[f"Theta{k + 1}"].T @ delta[k + 1]
        delta[k] = (back[1:] if spec.bias else back) * f(spec.activations[k - 1], 1)(z[k])
    grads = {}
    for k in range(1, L + 1):
        Delta = delta[k] @ aug(a[k - 1]).T
        D = Delta / m if spec.average else Delta
        if spec.penalty:
            reg = p[f"Theta{k}"].copy()
            if spec.bias:
                reg[:, 0] = 0                                          # the bias column is not regularised
            D = D + 2 * spec.penalty_value(p[LAMBDA]) * reg
        grads[f"dTheta{k}"] = D
    if spec.average:
        delta = [d if d is None else d / m for d in delta]             # the trace keeps dC/dz
    canonical = {}
    for k in range(1, L + 1):
        g = grads[f"dTheta{k}"]
        canonical[f"dW{k}"] = g[:, 1:] if spec.bias else g
    if spec.bias:
        canonical.update({f"db{k}": grads[f"dTheta{k}"][:, :1] for k in range(1, L + 1)})
    return Trace(z, a, delta, grads, canonical)


def backprop_post(spec: NetworkSpec, p: dict) -> Trace:
    """p[0] = x, q[i] = sigma_i(p[i]), p[j] = W[i,j] q[i]; delta counted from the
    output: Delta[0] = dC/dp[L], Delta[k] = W[L-k,L-k+1]ᵀ Delta[k-1] ⊙ sigma'(p[L-k]);
    grad W[i,i+1] = Delta[L-1-i] q[i]ᵀ."""
    L = spec.depth
    pre, q = [None] * (L + 1), [None] * (L + 1)
    pre[0] = p["x"]
    q[0] = f(spec.input_activation)(pre[0])
    for i in range(L):
        pre[i + 1] = p[f"W{i}{i + 1}"] @ q[i] + (p[f"b{i + 1}"] if spec.bias else 0)
        q[i + 1] = f(spec.activations[i])(pre[i + 1]) if i + 1 < L else _output(spec, pre[i + 1])
    Delta = [None] * L
    Delta[0] = output_delta(spec, pre[L], q[L], p["y"])
    for k in range(1, L):
        Delta[k] = (p[f"W{L - k}{L - k + 1}"].T @ Delta[k - 1]) * f(spec.activations[L - k - 1], 1)(pre[L - k])
    grads = {f"dW{i}{i + 1}": Delta[L - 1 - i] @ q[i].T for i in range(L)}
    if spec.penalty:
        for i in range(L):
            grads[f"dW{i}{i + 1}"] = grads[f"dW{i}{i + 1}"] + 2 * spec.penalty_value(p[LAMBDA]) * p[f"W{i}{i + 1}"]
    if spec.bias:
        grads.update({f"db{i + 1}": Delta[L - 1 - i].sum(axis=1, keepdims=True) for i in range(L)})
    canonical = {f"dW{i + 1}": grads[f"dW{i}{i + 1}"] for i in range(L)}
    if spec.bias:
        canonical.update({f"db{k}": grads[f"db{k}"] for k in range(1, L + 1)})
    delta = [None] + [Delta[L - k] for k in range(1, L + 1)]
    return Trace(pre, q, delta, grads, canonical)


def backprop_rows(spec: NetworkSpec, p: dict) -> Trace:
    """The batch in rows: Z[l] = A[l-1] @ W[l] + b[l] (b a 1 x n row, broadcast);
    delta[l] = (delta[l+1] @ W[l+1]ᵀ) ⊙ f'(Z[l]); dW[l] = A[l-1]ᵀ @ delta[l];
    db[l] = delta[l].sum(axis=0, keepdims=True)."""
    L = spec.depth
    Z, A, delta = [None] * (L + 1), [None] * (L + 1), [None] * (L + 1)
    Z[0] = p["X"]
    A[0] = f(spec.input_activation)(p["X"])
    for k in range(1, L + 1):
        Z[k] = A[k - 1] @ p[f"W{k}"] + (p[f"b{k}"] if spec.bias else 0)
        A[k] = f(spec.activations[k - 1])(Z[k]) if k < L else _output(spec, Z[k].T).T
    delta[L] = output_delta(spec, Z[L].T, A[L].T, p["Y"].T).T
    for k in range(L - 1, 0, -1):
        delta[k] = (delta[k + 1] @ p[f"W{k + 1}"].T) * f(spec.activations[k - 1], 1)(Z[k])
    grads = {f"dW{k}": A[k - 1].T @ delta[k] for k in range(1, L + 1)}
    _with_penalty(spec, p, grads)
    if spec.bias:
        grads.update({f"db{k}": delta[k].sum(axis=0, keepdims=True) for k in range(1, L + 1)})
    canonical = {name: g.T for name, g in grads.items()}
    transpose = (lambda t: None if t is None else t.T)
    return Trace(list(map(transpose, Z)), list(map(transpose, A)), list(map(transpose, delta)), grads, canonical)


BACKPROPS = {"nielsen": backprop_nielsen, "answer": backprop_nielsen, "ng": backprop_ng, "post": backprop_post,
             "rows": backprop_rows}


def batch_of(arrays: dict, convention: str) -> int | None:
    """The batch size of a parameter file's data (None: not given)."""
    if convention == "rows":
        x = arrays.get("X")
        return int(x.shape[0]) if x is not None and x.ndim == 2 else None
    x = arrays.get("x")
    return int(x.shape[1]) if x is not None and x.ndim == 2 else None


def to_convention(spec: NetworkSpec, canonical: dict, convention: str) -> dict:
    """Canonical W_k, b_k, x, y (and lambda) -> the convention's parameter names and shapes."""
    out = {"x": canonical["x"], "y": canonical["y"]}
    if convention == "rows":
        out = {"X": canonical["x"].T, "Y": canonical["y"].T}
    if LAMBDA in canonical:
        out[LAMBDA] = canonical[LAMBDA]
    for k in range(1, spec.depth + 1):
        W = canonical[f"W{k}"]
        if convention == "rows":
            out[f"W{k}"] = W.T
            if spec.bias:
                out[f"b{k}"] = canonical[f"b{k}"].T
            continue
        if convention == "ng":
            out[f"Theta{k}"] = np.hstack([canonical[f"b{k}"], W]) if spec.bias else W
            continue
        out[f"W{k - 1}{k}" if convention == "post" else f"W{k}"] = W
        if spec.bias:
            out[f"b{k}"] = canonical[f"b{k}"]
    return out


def from_convention(spec: NetworkSpec, params: dict, convention: str) -> dict:
    """The inverse of :func:`to_convention`."""
    out = {"x": params["X"].T, "y": params["Y"].T} if convention == "rows" else {"x": params["x"], "y": params["y"]}
    if LAMBDA in params:
        out[LAMBDA] = params[LAMBDA]
    for k in range(1, spec.depth + 1):
        if convention == "rows":
            out[f"W{k}"] = params[f"W{k}"].T
            if spec.bias:
                out[f"b{k}"] = params[f"b{k}"].T
            continue
        if convention == "ng":
            T = params[f"Theta{k}"]
            out[f"W{k}"] = T[:, 1:] if spec.bias else T
            if spec.bias:
                out[f"b{k}"] = T[:, :1]
            continue
        out[f"W{k}"] = params[f"W{k - 1}{k}" if convention == "post" else f"W{k}"]
        if spec.bias:
            out[f"b{k}"] = params[f"b{k}"]
    return out


def expected_shapes(spec: NetworkSpec, convention: str) -> dict:
    """name -> shape of every array of the convention's parameter file
    (without the penalty's lambda, a scalar that the file may hold)."""
    shapes = {"x": (spec.sizes[0], spec.batch), "y": (spec.sizes[-1], spec.batch)}
    if convention == "rows":
        shapes = {"X": (spec.batch, spec.sizes[0]), "Y": (spec.batch, spec.sizes[-1])}
    for k in range(1, spec.depth + 1):
        rows, cols = spec.sizes[k], spec.sizes[k - 1]
        if convention == "rows":
            shapes[f"W{k}"] = (cols, rows)
            if spec.bias:
                shapes[f"b{k}"] = (1, rows)
            continue
        if convention == "ng":
            shapes[f"Theta{k}"] = (rows, cols + 1 if spec.bias else cols)
            continue
        shapes[f"W{k - 1}{k}" if convention == "post" else f"W{k}"] = (rows, cols)
        if spec.bias:
            shapes[f"b{k}"] = (rows, 1)
    return shapes


def backprop(spec: NetworkSpec, canonical: dict, convention: str = "nielsen") -> Trace:
    """Run the convention's hand-written backprop on canonical parameters."""
    convention = ALIASES.get(convention, convention)
    if convention not in BACKPROPS:
        raise InputError(f"convention: unknown convention {convention!r} (known: {', '.join(BACKPROPS)})")
    trace = BACKPROPS[convention](spec, to_convention(spec, canonical, convention))
    assert set(trace.canonical) == {f"d{n}" for n in spec.parameters()}, trace.canonical.keys()
    return trace


def cost(spec: NetworkSpec, p: dict) -> float:
    """C at canonical parameters ``p`` (forward pass only; stable forms)."""
    a = f(spec.input_activation)(p["x"])
    z = a
    for k in range(1, spec.depth + 1):
        z = p[f"W{k}"] @ a + (p[f"b{k}"] if spec.bias else 0)
        a = f(spec.activations[k - 1])(z) if k < spec.depth else None
    y = p["y"]
    if spec.cost == "mse":
        out = f(spec.activations[-1])(z)
        c = 0.5 * np.sum((out - y) ** 2)
    elif spec.cost == "cross-entropy":
        c = np.sum(np.logaddexp(0.0, z) - y * z)                 # softplus(z) - y z
    else:
        m = z.max(axis=0, keepdims=True)
        lse = m + np.log(np.exp(z - m).sum(axis=0, keepdims=True))
        c = np.sum(lse) - np.sum(y * z)
    c = c / spec.batch if spec.average else c
    if spec.penalty:
        c = c + spec.penalty_value(p[LAMBDA]) * sum(np.sum(p[f"W{k}"] ** 2) for k in range(1, spec.depth + 1))
    return float(c)


def finite_differences(spec: NetworkSpec, p: dict, name: str, entries: int | None = None,
                       seed: int = 0) -> np.ndarray:
    """Central differences of C with respect to parameter ``name`` (canonical),
    step 1e-6 * max(1, |θ|).  With ``entries``, only that many entries (chosen
    by ``seed``) are computed; the others are NaN."""
    theta = p[name]
    chosen = None
    if entries is not None and entries < theta.size:
        flat = np.random.default_rng(seed).choice(theta.size, entries, replace=False)
        chosen = [np.unravel_index(index, theta.shape) for index in flat]
    return central_differences(lambda t: cost(spec, dict(p, **{name: t})), theta, entries=chosen)
