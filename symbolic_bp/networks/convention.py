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
  row of Thetaᵀ delta"); activation ``g``.
* ``post`` (seed 001): ``p[i]``, ``q[i]`` = sigma_i(p[i]) with p[0] = x, ``W[i,j]``
  maps q[i] to p[j] (j = i+1), ``delta[k]``/``Delta[k]`` counted from the output
  (delta[0] = dC/dp[L]), activations ``sigma_i``.

>>> c = CONVENTIONS["ng"]
>>> c.resolve("Theta", [Index(var=1)], where="x")
Ref(kind='Theta', layer=Index(var=1, depth=0, const=0))
>>> CONVENTIONS["post"].resolve("delta", [Index(const=2)], where="x")
Ref(kind='delta', layer=Index(var=0, depth=1, const=-2))
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
    """A canonical quantity: kind in W b Theta z a a_aug delta f, at a layer."""

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
_NG = {"Theta": _same("Theta"), "a": _shift("a_aug", -1), "z": _shift("z", -1), "delta": _shift("delta", -1),
       "g": _shift("f", -1)}
_POST = {"W": ("W", _post_weight, 2), "w": ("W", _post_weight, 2), "p": _same("z"), "q": _same("a"),
         "delta": ("delta", lambda ix, where: _from_output(ix, where), 1),
         "Delta": ("delta", lambda ix, where: _from_output(ix, where), 1), "sigma": _same("f")}

CONVENTIONS: dict[str, Convention] = {
    "nielsen": Convention("nielsen", "W[l] maps layer l-1 to l, z[l] = W[l] @ a[l-1] + b[l], delta[l] = dC/dz[l]",
                          _NIELSEN, function="sigma",
                          examples=("delta[L] = (a[L] - y) * sigma'(z[L])",
                                    "delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])",
                                    "grad(W[l]) = delta[l] @ a[l-1].T", "grad(b[l]) = delta[l]")),
    "answer": Convention("answer", "theta[l] maps layer l-1 to l, delta[l] = dC/dz[l] (the accepted answer)",
                         _ANSWER, function="g", grad_targets=("W", "b"),
                         examples=("delta[l] = theta[l+1].T @ delta[l+1] * a[l] * (1 - a[l])",
                                   "grad(theta[l]) = delta[l] @ a[l-1].T")),
    "ng": Convention("ng", "Theta[l] maps layer l to l+1 (bias column first), a[l] has a bias unit prepended, "
                           "layers 1..L with a[1] = x", _NG, function="g", indexed_function="g",
                     grad_targets=("Theta",),
                     examples=("delta[L] = a[L] - y", "delta[l] = Theta[l].T @ delta[l+1] * g'(z[l])",
                               "grad(Theta[l]) = delta[l+1] @ a[l].T")),
    "post": Convention("post", "p[i] pre-activation, q[i] = sigma_i(p[i]) with p[0] = x, W[i,i+1] maps q[i] to "
                               "p[i+1], delta[k] = dC/dp[L-k] counted from the output", _POST, variable="i",
                       function=None, indexed_function="sigma", grad_targets=("W",),
                       examples=("delta[0] = (q[L] - y) * sigma[L]'(p[L])",
                                 "grad(W[i,i+1]) = Delta[L-1-i] @ q[i].T")),
}

# ng counts the input as layer 1: its depth L is canonical L + 1
DEPTH_OFFSET = {"nielsen": 0, "answer": 0, "ng": 1, "post": 0}


def get(name: str) -> Convention:
    """The convention called ``name``; :class:`InputError` naming the known ones."""
    if name not in CONVENTIONS:
        raise InputError(f"convention: unknown convention {str(name)[:30]!r} (known: {', '.join(CONVENTIONS)})")
    return CONVENTIONS[name]
