"""Named indexing conventions, mapped onto the canonical (Nielsen) layout.

Canonical: layers k = 0..L, W_k maps layer k-1 to k, z_k = W_k a_{k-1} + b_k,
a_k = f_k(z_k), delta_k = dC/dz_k.  A convention says how the names a claim
uses (``W[l+1]``, ``Theta[l]``, ``delta[2-i]``, ``p[i]``) translate into
canonical quantities; an index is an affine expression in the layer variable
and the depth L.

* ``nielsen``: ``W[l]``, ``b[l]``, ``z[l]``, ``a[l]``, ``delta[l]``; W[l] maps l-1 to l.
* ``answer`` (the accepted answer of seed 000): ``theta[l]`` (or ``Theta[l]``) maps
  l-1 to l, ``delta[l]`` = dC/dz[l], activation ``g``.
* ``ng``: layers 1..L with a^(1) = x; ``Theta[l]`` maps l to l+1 and holds the
  bias column first; ``a[l]`` has the bias unit prepended (not the output);
  in a delta claim Theta enters without its bias column (Ng's "drop the bias
  row of Thetaᵀ delta"); activation ``g``.  ``Delta[l]`` is Ng's accumulator
  Δ^(l) = Σ_t δ^(l+1) a^(l)ᵀ = ``delta[l+1] @ a[l].T``; ``Theta_reg[l]`` is
  Θ^(l) with its bias column set to 0 (Ng's ``[zeros(size(Theta1, 1), 1),
  Theta1(:, 2:end)]``, what the penalty's gradient multiplies); ``m`` is the
  number of examples (the batch N).  Ng's δ is the error of one example: when
  the cost is averaged over the m examples, δ^(l) = ∂(m·J)/∂z^(l) -- the
  derivative of the *summed* cost -- and the 1/m appears only in
  D^(l) = Δ^(l)/m (``delta_of = "sum"``).  Every other convention defines
  δ = ∂C/∂z of the cost as given, averaged or not.
* ``post`` (seed 001): ``p[i]``, ``q[i]`` = sigma_i(p[i]) with p[0] = x, ``W[i,j]``
  maps q[i] to p[j] (j = i+1), ``delta[k]``/``Delta[k]`` counted from the output
  (delta[0] = dC/dp[L]), activations ``sigma_i``.
* ``rows`` (aliases ``row-major``, ``cs231n``): the batch in rows, as NumPy code
  (CS231n, PyTorch's ``x @ W.T + b`` with W stored transposed) writes it:
  ``Z[l] = A[l-1] @ W[l] + b[l]``, ``A[l] = sigma(Z[l])``, ``X = A[0]`` (N x n0)
  and ``Y`` (N x nL); ``W[l]`` is n_{l-1} x n_l, ``b[l]`` a 1 x n_l row broadcast
  over the N rows, ``delta[l]`` (or ``dZ[l]``) = dC/dZ[l], N x n_l.  Every
  quantity is the transpose of its canonical counterpart; the checks build
  the network in rows (``layout = "rows"``: z_k = a_{k-1} @ W_k + ones(N, 1) @ b_k),
  so that counterexamples and diagnoses are in the claim's own layout.

In every convention the unindexed ``N`` is the batch size (``m`` too in Ng's,
``n`` in Nielsen's, whose n is the size of the training set), and with an L2
penalty (:data:`symbolic_bp.networks.network.PENALTIES`) ``lambda`` is its
coefficient.

>>> c = CONVENTIONS["ng"]
>>> c.resolve("Theta", [Index(var=1)], where="x")
Ref(kind='Theta', layer=Index(var=1, depth=0, const=0))
>>> CONVENTIONS["post"].resolve("delta", [Index(const=2)], where="x")
Ref(kind='delta', layer=Index(var=0, depth=1, const=-2))
>>> get("cs231n").name, get("rows").layout, get("ng").delta_of, get("nielsen").delta_of
('rows', 'rows', 'sum', 'cost')
>>> c.resolve("Delta", [Index(var=1)], where="x"), c.resolve("Theta_reg", [Index(var=1)], where="x").kind
(Ref(kind='Delta', layer=Index(var=1, depth=0, const=0)), 'Theta_reg')
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputError


@dataclass(frozen=True)
class Index:
    """var * l + depth * L + const."""

    var: int = 0
    depth: int = 0
    const: int = 0

    def __add__(self, other: "Index") -> "Index":
        return Index(self.var + other.var, self.depth + other.depth, self.const + other.const)

    def __neg__(self) -> "Index":
        return Index(-self.var, -self.depth, -self.const)

    def __sub__(self, other: "Index") -> "Index":
        return self + (-other)

    def at(self, l: int | None, L: int) -> int:
        if self.var and l is None:
            raise ValueError("the layer variable has no value")
        return self.var * (l or 0) + self.depth * L + self.const

    def __str__(self) -> str:
        parts = [(self.var, "l"), (self.depth, "L")]
        text = ""
        for coef, name in parts:
            if coef:
                term = name if abs(coef) == 1 else f"{abs(coef)}*{name}"
                text += ("-" if coef < 0 else ("+" if text else "")) + term
        if self.const or not text:
            text += (f"{self.const:+d}" if text else str(self.const))
        return text


@dataclass(frozen=True)
class Ref:
    """A canonical quantity: kind in W b Theta Theta_reg Delta z a a_aug delta f,
    at a layer (Theta_reg: Theta with its bias column 0; Delta: Ng's
    accumulator delta_l @ a_aug_{l-1}ᵀ)."""

    kind: str
    layer: Index


# how a convention's name becomes canonical: kind, and canonical index from
# the written ones: a function of the list of Index objects
@dataclass(frozen=True)
class Convention:
    name: str
    summary: str
    names: dict                        # written name -> (kind, fn(indices) -> Index, arity)
    variable: str = "l"
    function: str | None = None        # unindexed alias of the layer's activation
    indexed_function: str = "sigma"    # sigma[k] = f_k
    grad_targets: tuple = ("W", "b")
    examples: tuple = field(default=())
    layout: str = "columns"            # rows: the batch in rows, every quantity the canonical one transposed
    delta_of: str = "cost"             # sum: delta differentiates the summed cost even when C is averaged
    batch_names: tuple = ("N",)        # unindexed names of the batch size
    plain: dict = field(default_factory=dict)   # unindexed data names -> canonical x | y
    aliases: tuple = ()

    @property
    def transposed(self) -> bool:
        return self.layout == "rows"

    def delta_factor(self, average: bool) -> int | str:
        """How the convention's delta relates to dC/dz: 1, or ``"N"`` (Ng's
        delta of the summed cost, N times dC/dz when C is averaged over N)."""
        return "N" if self.delta_of == "sum" and average else 1

    def resolve(self, name: str, indices: list[Index], where: str) -> Ref:
        if name not in self.names:
            known = ", ".join(f"{n}[...]" for n in self.names)
            raise InputError(f"{where}: {name!r} is not an indexed name of the {self.name} convention (known: {known})")
        kind, fn, arity = self.names[name]
        if len(indices) != arity:
            raise InputError(f"{where}: {name}[...] takes {arity} index{'es' * (arity > 1)} in the "
                             f"{self.name} convention, got {len(indices)}")
        return Ref(kind, fn(indices, where))


def _same(kind):
    return (kind, lambda ix, where: ix[0], 1)


def _shift(kind, by):
    return (kind, lambda ix, where: ix[0] + Index(const=by), 1)


def _post_weight(ix, where):
    if ix[1] - ix[0] != Index(const=1):
        raise InputError(f"{where}: the post's W[i,j] maps layer i to layer j = i+1, got W[{ix[0]},{ix[1]}]")
    return ix[1]


def _from_output(ix, where):
    return Index(depth=1) - ix[0]      # delta_k = dC/dp_{L-k}


_NIELSEN = {"W": _same("W"), "b": _same("b"), "z": _same("z"), "a": _same("a"), "delta": _same("delta"),
            "sigma": _same("f")}
_ANSWER = {"theta": _same("W"), "Theta": _same("W"), "b": _same("b"), "z": _same("z"), "a": _same("a"),
           "delta": _same("delta"), "g": _same("f")}
# Ng: layer l is canonical l-1; Theta^(l) holds the weights of canonical layer l
_NG = {"Theta": _same("Theta"), "Theta_reg": _same("Theta_reg"), "Delta": _same("Delta"),
       "a": _shift("a_aug", -1), "z": _shift("z", -1), "delta": _shift("delta", -1), "g": _shift("f", -1)}
_POST = {"W": ("W", _post_weight, 2), "w": ("W", _post_weight, 2), "p": _same("z"), "q": _same("a"),
         "delta": ("delta", lambda ix, where: _from_output(ix, where), 1),
         "Delta": ("delta", lambda ix, where: _from_output(ix, where), 1), "sigma": _same("f")}
# rows: the same layers as Nielsen's, every quantity transposed (Convention.layout)
_ROWS = {"W": _same("W"), "b": _same("b"), "Z": _same("z"), "z": _same("z"), "A": _same("a"), "a": _same("a"),
         "delta": _same("delta"), "dZ": _same("delta"), "sigma": _same("f")}

CONVENTIONS: dict[str, Convention] = {
    "nielsen": Convention("nielsen", "W[l] maps layer l-1 to l, z[l] = W[l] @ a[l-1] + b[l], delta[l] = dC/dz[l]",
                          _NIELSEN, function="sigma", batch_names=("N", "n"),
                          examples=("delta[L] = (a[L] - y) * sigma'(z[L])",
                                    "delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])",
                                    "grad(W[l]) = delta[l] @ a[l-1].T", "grad(b[l]) = delta[l]")),
    "answer": Convention("answer", "theta[l] maps layer l-1 to l, delta[l] = dC/dz[l] (the accepted answer)",
                         _ANSWER, function="g", grad_targets=("W", "b"),
                         examples=("delta[l] = theta[l+1].T @ delta[l+1] * a[l] * (1 - a[l])",
                                   "grad(theta[l]) = delta[l] @ a[l-1].T")),
    "ng": Convention("ng", "Theta[l] maps layer l to l+1 (bias column first), a[l] has a bias unit prepended, "
                           "layers 1..L with a[1] = x; delta[l] is the error of each example (the 1/m of an "
                           "averaged cost only in D = Delta/m)", _NG, function="g", indexed_function="g",
                     grad_targets=("Theta",), delta_of="sum", batch_names=("N", "m"),
                     examples=("delta[L] = a[L] - y", "delta[l] = Theta[l].T @ delta[l+1] * g'(z[l])",
                               "grad(Theta[l]) = delta[l+1] @ a[l].T",
                               "grad(Theta[l]) = Delta[l] / m + lambda / m * Theta_reg[l]")),
    "post": Convention("post", "p[i] pre-activation, q[i] = sigma_i(p[i]) with p[0] = x, W[i,i+1] maps q[i] to "
                               "p[i+1], delta[k] = dC/dp[L-k] counted from the output", _POST, variable="i",
                       function=None, indexed_function="sigma", grad_targets=("W",),
                       examples=("delta[0] = (q[L] - y) * sigma[L]'(p[L])",
                                 "grad(W[i,i+1]) = Delta[L-1-i] @ q[i].T")),
    "rows": Convention("rows", "the batch in rows: Z[l] = A[l-1] @ W[l] + b[l] with W[l] n_{l-1} x n_l, b[l] a "
                               "1 x n_l row, X = A[0] and Y N x n, delta[l] = dC/dZ[l] (N x n_l)", _ROWS,
                       function="sigma", layout="rows", plain={"X": "x", "x": "x", "Y": "y", "y": "y"},
                       aliases=("row-major", "cs231n"),
                       examples=("delta[L] = (A[L] - Y) * sigma'(Z[L])",
                                 "delta[l] = (delta[l+1] @ W[l+1].T) * sigma'(Z[l])",
                                 "grad(W[l]) = A[l-1].T @ delta[l]", "grad(b[l]) = ones(1, N) @ delta[l]")),
}

# ng counts the input as layer 1: its depth L is canonical L + 1
DEPTH_OFFSET = {"nielsen": 0, "answer": 0, "ng": 1, "post": 0, "rows": 0}
ALIASES = {alias: c.name for c in CONVENTIONS.values() for alias in c.aliases}


def known_names() -> str:
    """The known conventions and their aliases, for messages and --help."""
    return ", ".join(n + (f" ({'/'.join(c.aliases)})" if c.aliases else "") for n, c in CONVENTIONS.items())


def get(name: str) -> Convention:
    """The convention called ``name`` (or one of its aliases); :class:`InputError`
    naming the known ones."""
    if not isinstance(name, str) or ALIASES.get(name, name) not in CONVENTIONS:
        raise InputError(f"convention: unknown convention {str(name)[:30]!r} (known: {known_names()})")
    return CONVENTIONS[ALIASES.get(name, name)]
