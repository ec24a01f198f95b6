"""``[[network]]`` items of derivation files: one δ/gradient claim about a network.

::

    [[network]]
    name = "answer-recursion"
    convention = "answer"            # nielsen | answer | ng | post | rows (row-major, cs231n)
    activation = "sigmoid"           # one name, a comma list, or sigma_l (opaque sigma_k per layer)
    cost = "cross-entropy"           # mse | cross-entropy | softmax-nll
    claim = "delta[l] = theta[l+1].T @ delta[l+1] * a[l] * (1 - a[l])"
    sizes = "1,1,1,1"                # optional: the document's own network (needed by depth-specific claims)
    bias = "no"                      # optional: yes (default) | no
    batch = "1"                      # optional
    average = "no"                   # optional: yes | no (default)
    input_activation = "sigma_0"     # optional: f_0 applied to the input (the post's sigma_0)
    penalty = "ng"                   # optional: an L2 penalty on the weights, ng | nielsen | goodfellow | l2
                                     # (lambda a symbol of the claim; see symbolic_bp.networks.network)
    latex, expect, note, section     # as for [[claim]]

Values are strings, like every key of a derivation file.  In the ``ng``
convention with ``average = "yes"``, delta is Ng's error of each example and
the 1/m is in D = Delta/m: ``grad(Theta[l]) = Delta[l] / m + lambda / m *
Theta_reg[l]`` with ``penalty = "ng"``.

>>> from symbolic_bp.derivations.derivation import Context
>>> e = parse_network({"name": "n", "convention": "nielsen", "activation": "sigma", "cost": "mse",
...                    "claim": "grad(W[l]) = delta[l] @ a[l-1].T"}, Context("f.toml", "", {}, 3))
>>> e.statement(), e.spec.sizes
('grad(W[l]) = delta[l] @ a[l-1].T   (nielsen convention; activation sigma, cost mse)', (2, 3, 2))
>>> r = parse_network({"name": "r", "convention": "cs231n", "activation": "relu", "cost": "softmax-nll",
...                    "penalty": "l2", "claim": "grad(W[l]) = A[l-1].T @ delta[l] + 2 * reg * W[l]"},
...                   Context("f.toml", "", {}, 3))
>>> r.convention, r.spec.penalty, r.statement()
('rows', 'l2', 'grad(W[l]) = A[l-1].T @ delta[l] + 2 * reg * W[l]   (rows convention; activation relu,softmax, cost softmax-nll, penalty l2)')
"""
from __future__ import annotations

from dataclasses import dataclass

from ..checks.claim import Claim
from ..networks.convention import ALIASES, CONVENTIONS, known_names
from .derivation import Context, Entry, check_keys, common_fields
from ..errors import InputError
from ..networks.network import NetworkSpec, penalty_name

KEYS = {"name": True, "convention": True, "activation": True, "cost": True, "claim": True, "sizes": False,
        "bias": False, "batch": False, "average": False, "input_activation": False, "penalty": False, "latex": False,
        "expect": False, "note": False, "section": False}
DEFAULT_SIZES = (2, 3, 2)      # only the kind of network matters unless sizes are given
_YES_NO = {"yes": True, "no": False, "true": True, "false": False}


@dataclass(frozen=True)
class NetworkEntry(Entry):
    spec: NetworkSpec = None
    convention: str = "nielsen"
    text: str = ""
    own_network: bool = False
    deep: bool = True           # False: leave out the slow numeric check on a deep network

    kind = "network"

    def run(self, seconds: float, seed: int):
        from ..networks.network_check import check_network_claim
        return check_network_claim(self.spec, self.convention, self.text, seconds=seconds, seed=seed,
                                   own_network=self.own_network, deep=self.deep)

    def quantity(self) -> str:
        return self.claim.wrt          # the left-hand side, e.g. delta[l] or grad(W[l])

    def statement(self) -> str:
        acts = ",".join(sorted(set(self.spec.activations), key=self.spec.activations.index))
        penalty = f", penalty {self.spec.penalty}" if self.spec.penalty else ""
        return f"{self.text}   ({self.convention} convention; activation {acts}, cost {self.spec.cost}{penalty})"

    def fields(self) -> dict:
        return {"convention": self.convention, "network": self.spec.describe(), "claim": self.text}


def _flag(table: dict, key: str, ctx: Context, default: bool) -> bool:
    if key not in table:
        return default
    value = table[key].strip().lower()
    if value not in _YES_NO:
        raise InputError(f"{ctx.key_line(key)}: {key} must be yes or no, got {table[key][:20]!r}")
    return _YES_NO[value]


def parse_network(table: dict, ctx: Context) -> NetworkEntry:
    """A ``[[network]]`` table -> :class:`NetworkEntry`; errors name the file and line."""
    check_keys(table, KEYS, ctx.where)
    if ALIASES.get(table["convention"], table["convention"]) not in CONVENTIONS:
        raise InputError(f"{ctx.key_line('convention')}: unknown convention {table['convention'][:20]!r} "
                         f"(known: {known_names()})")
    convention = ALIASES.get(table["convention"], table["convention"])
    try:
        sizes = DEFAULT_SIZES
        if "sizes" in table:
            sizes = tuple(int(s) for s in table["sizes"].split(","))
    except ValueError:
        raise InputError(f"{ctx.key_line('sizes')}: sizes must be integers separated by commas, "
                         f"got {table['sizes'][:30]!r}") from None
    try:
        batch = int(table.get("batch", "1"))
    except ValueError:
        raise InputError(f"{ctx.key_line('batch')}: batch must be an integer, got {table['batch'][:20]!r}") from None
    try:
        penalty_name(table.get("penalty"))
    except InputError as e:
        raise InputError(f"{ctx.key_line('penalty')}: {e}") from None
    bias, average = _flag(table, "bias", ctx, True), _flag(table, "average", ctx, False)   # errors with their line
    try:
        spec = NetworkSpec.build(sizes, table["activation"], table["cost"], bias, batch, average,
                                 table.get("input_activation", "identity"), penalty=table.get("penalty"))
    except InputError as e:
        raise InputError(f"{ctx.where}: {e}") from None
    text = table["claim"]
    lhs = text.split("=")[0].strip()
    return NetworkEntry(name=table["name"], claim=Claim("", "", lhs, text), spec=spec,
                        convention=convention, text=text, own_network="sizes" in table,
                        **common_fields(table, ctx))
