"""``symbolic-bp network``: a network's gradients three ways, and δ/gradient claims.

A thin edge: the gradients come from :mod:`symbolic_bp.networks.lambdify` (symbolic),
:mod:`symbolic_bp.networks.backprop` (hand-written, in the convention's layout, and
central finite differences); claims from :mod:`symbolic_bp.networks.network_check`.

Exit status: 0 when the three gradients agree (symbolic vs hand-written
≤ 1e-12 relative, finite differences ≤ 1e-6) and every claim is verified;
1 when a claim is refuted or the gradients disagree; 2 on invalid input;
3 when a claim is undecided.

``--convention rows`` (aliases ``row-major``, ``cs231n``) is the batch in rows
(Z[l] = A[l-1] @ W[l] + b[l]); ``--penalty ng|nielsen|goodfellow|l2`` adds an L2
penalty on the weights with coefficient ``lambda`` (``--lambda`` its value for
the gradients; the claims keep it a symbol); in the ``ng`` convention with
``--average`` delta is Ng's per-example error and the 1/m is in D = Delta/m:

>>> from symbolic_bp.integrations.cli import build_parser
>>> args = build_parser(["network"]).parse_args(["network", "--sizes", "3,4,2", "--convention", "cs231n",
...                                                "--penalty", "l2", "--lambda", "0.05"])
>>> args.convention, args.penalty, args.lam
('cs231n', 'l2', 0.05)
"""
from __future__ import annotations

import argparse
import json
import sys
import zipfile
from dataclasses import replace

from ..core.lazy import LazyModule
from ..errors import InputError
from ..rendering.text import cli_lines
from .options import common_options, expression_option, json_option

np = LazyModule("numpy", globals(), "np")       # imported on first use: not for --help

SYMBOLIC_TOL = 1e-12
FD_TOL = 1e-6
FD_ENTRIES = 24          # finite differences at this many entries per parameter (chosen by the seed)
SMALL_NETWORK = 6        # a network this wide or narrower is the claims' own network


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in text.split(","))
    except ValueError:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {shown!r}") from None


def _lambda(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text[:30]!r}") from None
    if not 0 <= value <= 1e6:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1e6, got {text[:30]}")
    return value


DESCRIPTION = """\
Gradients of a layered network three ways (lambdified, hand-written backprop,
finite differences), and delta/gradient claims written with layer indices in a
named convention, each checked by an induction proof for every depth, on an
unrolled depth-3 network and numerically on a depth-6 one."""

EPILOG = """\
conventions (--convention):
  nielsen   W[l] maps layer l-1 to l, z[l] = W[l] @ a[l-1] + b[l], delta[l] = dC/dz[l];
            N (or n) the batch: delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])
  answer    theta[l] maps l-1 to l, activation g
  ng        Theta[l] maps layer l to l+1, bias column first; a[l] with the bias unit;
            Delta[l] = delta[l+1] @ a[l].T, Theta_reg[l] = Theta[l] with its bias
            column 0, m (or N) the number of examples.  delta[l] is the error of
            each example: with --average, delta[L] = a[L] - y (cross-entropy; with
            mse (a[L] - y) * g'(z[L])) and the 1/m only in D:
            grad(Theta[l]) = Delta[l] / m + lambda / m * Theta_reg[l]
  post      p[i], q[i], W[i,i+1], delta[k] counted from the output
  rows      (aliases row-major, cs231n) the batch in rows, as NumPy code writes it:
            Z[l] = A[l-1] @ W[l] + b[l], A[l] = sigma(Z[l]), X = A[0] (N x n0), Y,
            W[l] n_{l-1} x n_l, b[l] a 1 x n_l row, delta[l] (or dZ[l]) = dC/dZ[l]:
            delta[l] = (delta[l+1] @ W[l+1].T) * sigma'(Z[l]),
            grad(W[l]) = A[l-1].T @ delta[l], grad(b[l]) = ones(1, N) @ delta[l]
            (np.sum(delta[l], axis=0, keepdims=True) with the NumPy dialect)

penalties (--penalty; the weights only, never the biases; lambda a symbol of the claims):
  ng          lambda/(2m) * sum Theta^2 without the bias column (Coursera ML ex4)
  nielsen     lambda/(2n) * sum w^2 (Neural Networks and Deep Learning, ch. 3, eq. 87);
              grad(W[l]) = delta[l] @ a[l-1].T + lambda / n * W[l]
  goodfellow  alpha/2 * w^T w (Deep Learning, 7.1.1; alpha or lambda): gradient alpha * w
  l2          lambda * sum W^2 (alias cs231n: reg * np.sum(W * W); reg or lambda):
              gradient 2 * lambda * W
  m, n and N are the batch size (the sources' training set)."""


def add_network(p: argparse.ArgumentParser) -> None:
    """The arguments of ``network``."""
    p.description, p.epilog = DESCRIPTION, EPILOG
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--sizes", required=True, type=_sizes, help="layer sizes n0,...,nL, e.g. 4,5,3")
    p.add_argument("--activation", default="sigmoid",
                   help="identity|sigmoid|tanh|relu|softplus|sigma (opaque), or a comma list, one per layer")
    p.add_argument("--cost", default="mse", help="mse | cross-entropy | softmax-nll (Ng's is cross-entropy)")
    p.add_argument("--convention", default="nielsen",
                   help="nielsen | ng | answer | post | rows (aliases row-major, cs231n); see below")
    p.add_argument("--no-bias", action="store_true", help="layers without biases")
    p.add_argument("--batch", type=int, default=1,
                   help="examples per batch (columns of x and y; rows of X and Y in the rows convention)")
    p.add_argument("--average", action="store_true", help="average the cost over the batch (default: sum)")
    p.add_argument("--penalty", metavar="NAME", default=None,
                   help="add an L2 penalty on the weights: ng | nielsen | goodfellow | l2 (see below)")
    p.add_argument("--lambda", dest="lam", metavar="VALUE", type=_lambda, default=None,
                   help="the penalty's lambda for the gradients (default: the 'lambda' of --params, else drawn "
                        "from --seed); claims keep lambda a symbol")
    p.add_argument("--params", metavar="P.npz",
                   help="parameters and data in the convention's names and shapes (and optionally lambda)")
    p.add_argument("--out", metavar="G.npz", help="write the lambdified network's gradients here")
    expression_option(p, "--claim", action="append", default=[], help="a delta/gradient claim (repeatable)")
    json_option(p)
    common_options(p)


def _load_params(path: str, spec, convention: str) -> dict:
    from ..networks.backprop import batch_of, expected_shapes
    from ..networks.network import LAMBDA
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"{path}: not a readable .npz file ({str(e)[:80]})") from None
    if batch_of(arrays, convention) is not None:
        spec = replace(spec, batch=batch_of(arrays, convention))
    want = expected_shapes(spec, convention)
    if LAMBDA in arrays and not spec.penalty:
        raise InputError(f"{path}: key {LAMBDA!r}, but the network has no penalty (give --penalty)")
    if LAMBDA in arrays:
        lam = arrays.pop(LAMBDA)
        if lam.size != 1 or not np.issubdtype(lam.dtype, np.number) or np.iscomplexobj(lam) \
                or not 0 <= float(lam.reshape(-1)[0]) <= 1e6:
            raise InputError(f"{path}: key {LAMBDA!r} must be one real number from 0 to 1e6")
        arrays[LAMBDA] = float(lam.reshape(-1)[0])
    for name, shape in want.items():
        if name not in arrays:
            raise InputError(f"{path}: key {name!r} is missing (the {convention} convention needs "
                             f"{', '.join(want)})")
        a = arrays[name]
        if a.ndim == 1 and shape[1] == 1:
            a = a.reshape(-1, 1)
        elif a.ndim == 1 and shape[0] == 1:             # a bias row stored 1-D, as NumPy code keeps it
            a = a.reshape(1, -1)
        if a.shape != shape:
            raise InputError(f"{path}: key {name!r} has shape {a.shape}, expected {shape}")
        if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
            raise InputError(f"{path}: key {name!r} is not a real array (dtype {a.dtype})")
        a = a.astype(np.float64)
        if not np.all(np.isfinite(a)):
            raise InputError(f"{path}: key {name!r} has non-finite entries")
        arrays[name] = a
    extra = sorted(set(arrays) - set(want) - {LAMBDA})
    if extra:
        raise InputError(f"{path}: unexpected key {extra[0]!r} (the {convention} convention uses {', '.join(want)})")
    return spec, arrays


def _rel(a: np.ndarray, b: np.ndarray, floor: float) -> float:
    mask = ~np.isnan(a)
    if not mask.any():
        return 0.0
    return float(np.max(np.abs(a[mask] - b[mask])) / max(float(np.max(np.abs(b))), floor))


def compare(spec, params: dict, convention: str, seed: int = 0) -> tuple[dict, dict]:
    """Per parameter: max relative differences symbolic/hand-written/finite
    differences; and the lambdified gradients (canonical names).

    >>> from symbolic_bp.networks.network import NetworkSpec
    >>> from symbolic_bp.networks.backprop import random_parameters
    >>> spec = NetworkSpec.build((3, 4, 2), "tanh", "mse", batch=2)
    >>> rows, grads = compare(spec, random_parameters(spec), "ng")
    >>> sorted(rows), rows["W1"]["symbolic_vs_handwritten"] <= 1e-12, rows["b2"]["fd_vs_handwritten"] <= 1e-6
    (['W1', 'W2', 'b1', 'b2'], True, True)
    """
    from ..networks.backprop import backprop, finite_differences
    from ..networks.lambdify import lambdify_network
    with np.errstate(all="ignore"):
        symbolic = lambdify_network(spec)(params)
        hand = backprop(spec, params, convention).canonical
    rows = {}
    for name in spec.parameters():
        g, h = symbolic[f"d{name}"], hand[f"d{name}"]
        with np.errstate(all="ignore"):
            fd = finite_differences(spec, params, name, entries=FD_ENTRIES, seed=seed)
        rows[name] = {"symbolic_vs_handwritten": _rel(g, h, 1e-300), "fd_vs_handwritten": _rel(fd, h, 1.0),
                      "fd_entries": int(np.sum(~np.isnan(fd))), "finite": bool(np.all(np.isfinite(g)))}
    return rows, symbolic


def run_network(args) -> int:
    from ..networks.backprop import from_convention, random_parameters, to_convention
    from ..networks.convention import get
    from ..networks.network import NetworkSpec
    from ..networks.network_check import check_network_claim
    from ..networks.network import LAMBDA
    try:
        convention = get(args.convention).name
        spec = NetworkSpec.build(args.sizes, args.activation, args.cost, not args.no_bias, args.batch,
                                 args.average, "sigma_0" if convention == "post" and args.activation == "sigma_l"
                                 else "identity", penalty=args.penalty)
        if args.lam is not None and not spec.penalty:
            raise InputError("--lambda: the network has no penalty (give --penalty)")
        if args.params:
            spec, raw = _load_params(args.params, spec, convention)
            params = from_convention(spec, raw, convention)
        else:
            params = random_parameters(spec, seed=args.seed)
        if spec.penalty:
            drawn = random_parameters(spec, seed=args.seed)[LAMBDA]
            params[LAMBDA] = args.lam if args.lam is not None else params.get(LAMBDA, drawn)
    except InputError as e:
        print(f"symbolic-bp: invalid input: {e}", file=sys.stderr)
        return 2
    rows, symbolic = compare(spec, params, convention, args.seed)
    agree = all(r["finite"] and r["symbolic_vs_handwritten"] <= SYMBOLIC_TOL and r["fd_vs_handwritten"] <= FD_TOL
                for r in rows.values())
    own = max(spec.sizes) <= SMALL_NETWORK and spec.depth <= 4
    results = [check_network_claim(spec, convention, text, seconds=args.budget, seed=args.seed,
                                   own_network=own) for text in args.claim]
    if args.out:
        grads = to_convention(spec, {**{k[1:]: v for k, v in symbolic.items()}, "x": params["x"], "y": params["y"]},
                              convention)
        try:
            np.savez(args.out, **{f"d{k}": v for k, v in grads.items() if k not in ("x", "y", "X", "Y")})
        except OSError as e:
            print(f"symbolic-bp: error: {args.out}: cannot write: {e.strerror or e}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps({"network": spec.describe(), "convention": convention,
                          "parameters": rows, "gradients_agree": agree,
                          "claims": [r.to_dict() for r in results]}, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        _print(spec, convention, rows, agree, results)
    verdicts = [r.verdict for r in results]
    if "invalid" in verdicts:
        return 2
    if "refuted" in verdicts or not agree:
        return 1
    return 3 if "undecided" in verdicts else 0


def _print(spec, convention: str, rows: dict, agree: bool, results: list) -> None:
    print(f"network: {spec.describe()} ({convention} convention)")
    print(f"  {'parameter':10s} {'symbolic vs hand-written':>26s} {'finite differences':>20s}")
    for name, r in rows.items():
        print(f"  {name:10s} {r['symbolic_vs_handwritten']:26.1e} {r['fd_vs_handwritten']:20.1e}"
              f"   ({r['fd_entries']} entries)")
    print(f"  gradients {'agree' if agree else 'DISAGREE'} (tolerances {SYMBOLIC_TOL:g} and {FD_TOL:g})")
    for r in results:
        quantity = r.claim.split("=")[0].strip() or None      # the left-hand side: delta[l], grad(W[l])
        print("\n".join(cli_lines(r, quantity)))


# what commands.COMMANDS names: (add_arguments, run)
COMMAND = (add_network, run_network)
