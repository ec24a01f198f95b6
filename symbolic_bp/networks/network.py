"""A layered network: sizes, activations, biases, cost, batch.

The canonical layout (the one every convention maps onto) is Nielsen's::

    a_0 = f_0(x)                      (f_0 is the identity except in the post's convention)
    z_k = W_k a_{k-1} + b_k 1ᵀ        (W_k: n_k x n_{k-1}, b_k: n_k x 1, k = 1..L)
    a_k = f_k(z_k)
    C   = cost(a_L, y)  summed over the N examples (columns), or averaged (/ N)

Costs: ``mse`` ½‖a_L − y‖²; ``cross-entropy`` with a sigmoid output,
written Σ softplus(z_L) − y ⊙ z_L (equal to −y log a_L − (1−y) log(1−a_L));
``softmax-nll``, −Σ y ⊙ log softmax(z_L) for labels whose columns sum to 1 (one-hot),
written Σ lse(z_L) − Σ y ⊙ z_L.

An L2 penalty on the weights (never the biases) is added to C as its source
writes it (:data:`PENALTIES`), with ``lambda`` a symbol (a positive scalar)
that claims use; N is the batch, the training set of the sources::

    ng          lambda/(2m) * sum of Theta^2 without the bias column   gradient (lambda/m) Theta, bias column 0
    nielsen     lambda/(2n) * sum of w^2 (eq. 87, ch. 3)                gradient (lambda/n) w
    goodfellow  alpha/2 * w^T w (Deep Learning, 7.1.1; alpha = lambda)  gradient alpha w
    l2          lambda * sum of W^2 (CS231n's reg * np.sum(W * W))      gradient 2 lambda W

The penalty does not change delta = dC/dz (it depends on the weights, not on z).

The symbolic forward pass and cost are claim-language text, so the project's
own parser, shape checker and derivation apply to them unchanged.  With
``layout="rows"`` (the ``rows`` convention's) the texts are those of the batch
in rows: x is N x n_0, W_k is n_{k-1} x n_k, b_k a 1 x n_k row, and
z_k = a_{k-1} @ W_k + ones(N, 1) @ b_k (the broadcast written out).

>>> spec = NetworkSpec.build(sizes=(2, 3, 1), activation="sigmoid", cost="mse")
>>> spec.depth, spec.activations
(2, ('sigmoid', 'sigmoid'))
>>> spec.z_text()
'W2 @ sigmoid(W1 @ x + b1 @ ones(1, 1)) + b2 @ ones(1, 1)'
>>> spec.output_cost_text("z")
'1/2 * sum((sigmoid(z) - y) * (sigmoid(z) - y))'
>>> ng = NetworkSpec.build((2, 3, 1), "sigmoid", "cross-entropy", batch=5, average=True, penalty="ng")
>>> ng.penalty_text()
'lambda / (2 * 5) * (sum(W1 * W1) + sum(W2 * W2))'
>>> ng.penalty_factor(), NetworkSpec.build((2, 1), penalty="l2").penalty_factor()
('lambda / 5', '2 * lambda')
>>> rows = NetworkSpec.build((2, 3, 1), "sigmoid", "mse", batch=4, layout="rows")
>>> rows.z_text()
'sigmoid(x @ W1 + ones(4, 1) @ b1) @ W2 + ones(4, 1) @ b2'
>>> rows.declarations()
'x:4,2 y:4,1 W1:2,3 b1:1,3 W2:3,1 b2:1,1'
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InputError
from ..core import registry

ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "softplus")
COSTS = ("mse", "cross-entropy", "softmax-nll")
# name -> (the penalty's factor in front of the sum of squared weights, with B the batch; summary)
PENALTIES = {
    "ng": ("lambda / (2 * B)", "lambda/(2m) * sum Theta^2 without the bias column (Ng, ex4)"),
    "nielsen": ("lambda / (2 * B)", "lambda/(2n) * sum w^2, weights only (Nielsen, ch. 3, eq. 87)"),
    "goodfellow": ("lambda / 2", "alpha/2 * w^T w, weights only (Goodfellow et al., 7.1.1; alpha = lambda)"),
    "l2": ("lambda", "lambda * sum W^2, weights only (CS231n's reg * np.sum(W * W))"),
}
PENALTY_ALIASES = {"cs231n": "l2", "none": None}
# other names a source gives lambda: Goodfellow's alpha, CS231n's reg
PENALTY_SYMBOLS = {"goodfellow": ("alpha",), "l2": ("reg",)}
LAMBDA = "lambda"
LAYOUTS = ("columns", "rows")
PER_LAYER_OPAQUE = "sigma_l"       # one opaque sigma_k per layer
MAX_WIDTH = 4096
MAX_DEPTH = 64
_OPAQUE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


# The names the network and its checks give quantities, each also with a layer number (W1, z3,
# delta_next2): the forward pass's declarations (x, y, W1, b1, the sizes n0.. and N, lambda), the
# induction's local claims (induction.py: W_next, delta_next, a_prev, mask, nbatch, n_prev1 ...), the
# numeric check's arrays (network_check.py: z1, a1, A0, delta1, Delta1, Theta_reg1), and the
# conventions' names of quantities, batch sizes, data, layer variables and the penalty's coefficient.
# An opaque activation called so would be a function in one declaration and a matrix in another.
_CHECK_NAMES = frozenset(("x", "y", "L", LAMBDA, "W_next", "b_next", "delta_next", "a_prev", "n_prev", "n_next",
                          "nb", "nbatch", "mask", "A", "Delta", "Theta_reg"))


def _quantity_names() -> frozenset:
    from .convention import CONVENTIONS
    names = set(_CHECK_NAMES) | {n for names in PENALTY_SYMBOLS.values() for n in names}
    for conv in CONVENTIONS.values():
        names |= {n for n, (kind, _, _) in conv.names.items() if kind != "f"}   # sigma[l], g[l]: functions
        names |= set(conv.batch_names) | set(conv.plain) | {conv.variable}
    return frozenset(names)


def _taken(name: str) -> str | None:
    """Why an opaque activation cannot be called ``name``, or None."""
    from ..language.parser import reserved_word
    word = reserved_word(name, "function")
    if word:
        return f"{name!r} is {word}"
    if re.sub(r"\d+\Z", "", name) in _quantity_names():
        return (f"{name!r} names a quantity of the network or of its checks (x, y, W1, b1, z, a, delta, N, "
                "lambda ...); give the activation a name of its own, such as sigma")
    if name.endswith("_") and name.rstrip("_") in ACTIVATIONS:
        # network_check._opaque stands sigmoid_ in for sigmoid: two layers would share one function
        return f"{name!r} is the name of the opaque stand-in for {name.rstrip('_')!r}; choose another"
    return None


def _check_activation(name: str, where: str) -> str:
    if not isinstance(name, str) or not _OPAQUE.match(name):
        raise InputError(f"{where}: activation {str(name)[:30]!r} is not a name "
                         f"(known: {', '.join(ACTIVATIONS)}, or an opaque name such as sigma)")
    registered = registry.elementwise(name) is not None
    if name in registry.reserved() and not registered:
        raise InputError(f"{where}: {name!r} is a matrix function, not an activation")
    if registered and name not in ACTIVATIONS:
        raise InputError(f"{where}: {name!r} is not an activation (known: {', '.join(ACTIVATIONS)})")
    taken = None if registered or name == "identity" else _taken(name)
    if taken:
        raise InputError(f"{where}: {taken}")
    return name


@dataclass(frozen=True)
class NetworkSpec:
    """A network: ``sizes`` n_0..n_L, one activation per layer 1..L, the input
    activation f_0, biases, cost, batch size N and whether C is averaged."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    cost: str = "mse"
    bias: bool = True
    batch: int = 1
    average: bool = False
    input_activation: str = "identity"
    named: bool = False        # texts with dimension names n0..nL, N instead of numbers (any size)
    penalty: str | None = None  # a key of PENALTIES: an L2 penalty on the weights, coefficient lambda
    layout: str = "columns"     # rows: the texts of the batch in rows (the transposes of the canonical ones)

    @staticmethod
    def build(sizes, activation="sigmoid", cost: str = "mse", bias: bool = True, batch: int = 1,
              average: bool = False, input_activation: str = "identity",
              penalty: str | None = None, layout: str = "columns") -> "NetworkSpec":
        """Validate and build; ``activation`` is one name, a comma list (one per
        layer) or a sequence; ``sigma_l`` means an opaque sigma_k per layer.

        >>> NetworkSpec.build((4, 5, 3), "relu,sigmoid").activations
        ('relu', 'sigmoid')
        >>> NetworkSpec.build((4,), "relu")
        Traceback (most recent call last):
        ...
        symbolic_bp.errors.InputError: sizes: need at least two layer sizes (input and output), got 1
        >>> NetworkSpec.build((4, 3), "relu", penalty="cs231n").penalty
        'l2'
        """
        sizes = tuple(sizes)
        if len(sizes) < 2:
            raise InputError(f"sizes: need at least two layer sizes (input and output), got {len(sizes)}")
        if len(sizes) - 1 > MAX_DEPTH:
            raise InputError(f"sizes: at most {MAX_DEPTH} layers, got {len(sizes) - 1}")
        for n in sizes:
            if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_WIDTH:
                raise InputError(f"sizes: every size must be an integer from 1 to {MAX_WIDTH}, got {n!r}")
        depth = len(sizes) - 1
        names = activation.split(",") if isinstance(activation, str) else list(activation)
        names = [n.strip() if isinstance(n, str) else n for n in names]
        if names == [PER_LAYER_OPAQUE]:
            names = [f"sigma_{k}" for k in range(1, depth + 1)]
            input_activation = "sigma_0" if input_activation == PER_LAYER_OPAQUE else input_activation
        if len(names) == 1:
            names = names * depth
        if len(names) != depth:
            raise InputError(f"activation: {len(names)} activations for {depth} layers (give one, or one per layer)")
        acts = tuple(_check_activation(n, "activation") for n in names)
        _check_activation(input_activation, "input activation")
        if cost not in COSTS:
            raise InputError(f"cost: unknown cost {str(cost)[:30]!r} (known: {', '.join(COSTS)})")
        if cost == "cross-entropy" and acts[-1] != "sigmoid":
            raise InputError(f"cost: cross-entropy needs a sigmoid output layer, got {acts[-1]!r}")
        if cost == "softmax-nll":
            acts = acts[:-1] + ("softmax",)
        if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 100_000:
            raise InputError(f"batch: must be an integer from 1 to 100000, got {batch!r}")
        if layout not in LAYOUTS:
            raise InputError(f"layout: unknown layout {str(layout)[:30]!r} (known: {', '.join(LAYOUTS)})")
        return NetworkSpec(sizes, acts, cost, bool(bias), batch, bool(average), input_activation,
                           penalty=penalty_name(penalty), layout=layout)

    @property
    def depth(self) -> int:
        """L, the number of weight layers."""
        return len(self.sizes) - 1

    def with_sizes(self, sizes) -> "NetworkSpec":
        """The same kind of network at other sizes (activations follow the
        per-layer opaque names, or the hidden/output ones)."""
        depth = len(sizes) - 1
        if all(a == f"sigma_{k}" for k, a in enumerate(self.activations, 1)):
            acts = [f"sigma_{k}" for k in range(1, depth + 1)]
        else:
            hidden = self.activations[0] if self.depth > 1 else "sigmoid"
            acts = [hidden] * (depth - 1) + [self.activations[-1]]
        if self.cost == "softmax-nll":
            acts[-1] = "identity"
        return NetworkSpec.build(tuple(sizes), acts, self.cost, self.bias, self.batch, self.average,
                                 self.input_activation, self.penalty, self.layout)

    # -- the symbolic forward pass, in the claim language ------------------------
    def activate(self, k: int, text: str, name: str | None = None) -> str:
        """f_k applied to ``text`` (k = 0: the input activation)."""
        name = name or (self.input_activation if k == 0 else self.activations[k - 1])
        return apply_text(name, text, self.size(k), self.rows)

    @property
    def rows(self) -> bool:
        """Are the texts those of the batch in rows?"""
        return self.layout == "rows"

    def size(self, k: int) -> str:
        """n_k as text: the number, or the dimension name ``n<k>``."""
        return f"n{k}" if self.named else str(self.sizes[k])

    @property
    def batch_text(self) -> str:
        return "N" if self.named else str(self.batch)

    def preactivation_text(self, k: int, prev: str, batch: str | None = None) -> str:
        """z_k from the text of a_{k-1}."""
        n = batch or self.batch_text
        if self.rows:
            return f"{prev} @ W{k} + ones({n}, 1) @ b{k}" if self.bias else f"{prev} @ W{k}"
        return f"W{k} @ {prev} + b{k} @ ones(1, {n})" if self.bias else f"W{k} @ {prev}"

    def z_text(self, x: str = "x", start: int = 0, batch: str | None = None) -> str:
        """z_L as text, from a_{start} = ``x`` (start = 0: the raw input, f_0 applied)."""
        a = self.activate(0, x) if start == 0 else x
        z = a
        for k in range(start + 1, self.depth + 1):
            z = self.preactivation_text(k, a, batch)
            a = self.activate(k, z)
        return z

    def cost_text(self, x: str = "x", start: int = 0, batch: str | None = None,
                  divisor: str | None = None) -> str:
        """C over the network from a_{start} = ``x`` (with the penalty on W1..WL
        when the network has one and starts at the input)."""
        text = self.output_cost_text(self.z_text(x, start, batch), batch, divisor)
        if self.penalty and start == 0:
            text = f"{text} + {self.penalty_text(divisor=divisor)}"
        return text

    def penalty_coefficient(self, divisor: str | None = None) -> str:
        """The factor in front of the sum of squared weights (``divisor``: the
        batch's text, N as a number by default)."""
        return PENALTIES[self.penalty][0].replace("B", str(divisor or self.batch))

    def penalty_text(self, weights: list[str] | None = None, divisor: str | None = None) -> str:
        """The penalty on ``weights`` (default W1..WL) as text."""
        weights = weights or [f"W{k}" for k in range(1, self.depth + 1)]
        total = " + ".join(f"sum({w} * {w})" for w in weights)
        return f"{self.penalty_coefficient(divisor)} * ({total})" if len(weights) > 1 else \
            f"{self.penalty_coefficient(divisor)} * {total}"

    def penalty_factor(self, divisor: str | None = None) -> str:
        """d(penalty)/dW = factor * W: the factor as text."""
        return {"ng": f"lambda / {divisor or self.batch}", "nielsen": f"lambda / {divisor or self.batch}",
                "goodfellow": "lambda", "l2": "2 * lambda"}[self.penalty]

    def symbols(self) -> dict:
        """Other names a claim may give the penalty's lambda (Goodfellow's alpha,
        CS231n's reg) -> ``lambda``."""
        return {name: LAMBDA for name in PENALTY_SYMBOLS.get(self.penalty, ())}

    def penalty_value(self, lam: float) -> float:
        """The penalty's factor in front of the sum of squares, as a number."""
        return {"ng": lam / (2 * self.batch), "nielsen": lam / (2 * self.batch), "goodfellow": lam / 2,
                "l2": lam}[self.penalty]

    def output_cost_text(self, z: str, batch: str | None = None, divisor: str | None = None) -> str:
        """C as a function of the text of z_L (``divisor``: what an averaged cost divides by)."""
        n_out = self.size(self.depth)
        if self.cost == "mse":
            a = self.activate(self.depth, z)
            text = f"1/2 * sum(({a} - y) * ({a} - y))"
        elif self.cost == "cross-entropy":
            # -y log s(z) - (1-y) log(1-s(z)) = softplus(z) - y z
            text = f"sum(softplus({z}) - y * ({z}))"
        else:
            # -y . log softmax(z) = lse(z) - y . z per column (row), for labels whose columns (rows) sum to 1
            lse = f"log(exp({z}) @ ones({n_out}, 1))" if self.rows else f"log(ones(1, {n_out}) @ exp({z}))"
            text = f"sum({lse}) - sum(y * ({z}))"
        if self.average:
            text = f"({text}) / {divisor or self.batch}"
        return text

    def declarations(self, batch: str | None = None) -> str:
        """Declarations of W_k, b_k, x, y at the concrete sizes."""
        n = batch or self.batch_text
        items = [f"{f}:function" for f in self.opaque_functions()]
        if self.rows:
            items += [f"x:{n},{self.size(0)}", f"y:{n},{self.size(self.depth)}"]
        else:
            items += [f"x:{self.size(0)},{n}", f"y:{self.size(self.depth)},{n}"]
        for k in range(1, self.depth + 1):
            if self.rows:
                items.append(f"W{k}:{self.size(k - 1)},{self.size(k)}")
                if self.bias:
                    items.append(f"b{k}:1,{self.size(k)}")
                continue
            items.append(f"W{k}:{self.size(k)},{self.size(k - 1)}")
            if self.bias:
                items.append(f"b{k}:{self.size(k)}")
        if self.penalty:
            items.append(LAMBDA_DECLARATION)
        return " ".join(items)

    def opaque_functions(self) -> list[str]:
        """The activations that are opaque names (sigma, sigma_1, ...), in layer order."""
        names = (self.input_activation,) + self.activations
        return [a for a in dict.fromkeys(names) if a not in ACTIVATIONS and a != "softmax"]

    def parameters(self) -> list[str]:
        """Names of the parameters in canonical order: W1..WL, b1..bL."""
        return [f"W{k}" for k in range(1, self.depth + 1)] + \
            ([f"b{k}" for k in range(1, self.depth + 1)] if self.bias else [])

    def describe(self) -> str:
        acts = ",".join(self.activations)
        penalty = f", penalty {self.penalty}: {PENALTIES[self.penalty][1]}" if self.penalty else ""
        return (f"sizes {'-'.join(map(str, self.sizes))}, activation {acts}, cost {self.cost}"
                f"{'' if self.bias else ', no bias'}, batch {self.batch}{' (averaged)' if self.average else ''}"
                f"{penalty}")


def penalty_name(name: str | None) -> str | None:
    """A penalty's canonical name (None: no penalty); :class:`InputError` naming the known ones.

    >>> penalty_name("cs231n"), penalty_name("none"), penalty_name(None)
    ('l2', None, None)
    """
    if name is None:
        return None
    if not isinstance(name, str) or (name.strip().lower() not in PENALTIES
                                     and name.strip().lower() not in PENALTY_ALIASES):
        known = ", ".join(list(PENALTIES) + list(PENALTY_ALIASES))
        raise InputError(f"penalty: unknown penalty {str(name)[:30]!r} (known: {known})")
    name = name.strip().lower()
    return PENALTY_ALIASES.get(name, name) if name in PENALTY_ALIASES else name


LAMBDA_DECLARATION = f"{LAMBDA}:scalar:positive"     # a penalty's weight: > 0


def apply_text(name: str, text: str, rows: int | str = 1, by_rows: bool = False) -> str:
    """The claim-language text of activation ``name`` applied to ``text``
    (``rows``: the width of the layer; ``by_rows``: a softmax row by row).

    >>> apply_text("identity", "z"), apply_text("identity", "W @ x"), apply_text("tanh", "z")
    ('z', '(W @ x)', 'tanh(z)')
    >>> apply_text("softmax", "z", 3)
    'exp(z - ones(3, 1) @ log(ones(1, 3) @ exp(z)))'
    >>> apply_text("softmax", "z", 3, by_rows=True)
    'exp(z - log(exp(z) @ ones(3, 1)) @ ones(1, 3))'
    """
    if name == "identity":
        return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) else f"({text})"
    if name == "softmax":
        # softmax(z) = exp(z - 1 lse(z)) column by column (row by row)
        if by_rows:
            return f"exp({text} - log(exp({text}) @ ones({rows}, 1)) @ ones(1, {rows}))"
        return f"exp({text} - ones({rows}, 1) @ log(ones(1, {rows}) @ exp({text})))"
    return f"{name}({text})"
