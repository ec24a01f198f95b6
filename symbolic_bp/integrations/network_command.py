"""``symbolic-bp network``: a network's gradients three ways, and δ/gradient claims.

A thin edge: the gradients come from :mod:`symbolic_bp.networks.lambdify` (symbolic),
:mod:`symbolic_bp.networks.backprop` (hand-written, in the convention's layout, and
central finite differences); claims from :mod:`symbolic_bp.networks.network_check`.

Exit status: 0 when the three gradients agree (symbolic vs hand-written
≤ 1e-12 relative, finite differences ≤ 1e-6) and every claim is verified;
1 when a claim is refuted or the gradients disagree; 2 on invalid input;
3 when a claim is undecided.
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


def add_network(p: argparse.ArgumentParser) -> None:
    """The arguments of ``network``."""
    p.add_argument("--sizes", required=True, type=_sizes, help="layer sizes n0,...,nL, e.g. 4,5,3")
    p.add_argument("--activation", default="sigmoid",
                   help="identity|sigmoid|tanh|relu|softplus|sigma (opaque), or a comma list, one per layer")
    p.add_argument("--cost", default="mse", help="mse | cross-entropy | softmax-nll")
    p.add_argument("--convention", default="nielsen", help="nielsen | ng | answer | post")
    p.add_argument("--no-bias", action="store_true", help="layers without biases")
    p.add_argument("--batch", type=int, default=1, help="examples per batch (columns of x and y)")
    p.add_argument("--average", action="store_true", help="average the cost over the batch (default: sum)")
    p.add_argument("--params", metavar="P.npz", help="parameters and data in the convention's names and shapes")
    p.add_argument("--out", metavar="G.npz", help="write the lambdified network's gradients here")
    expression_option(p, "--claim", action="append", default=[], help="a delta/gradient claim (repeatable)")
    json_option(p)
    common_options(p)


def _load_params(path: str, spec, convention: str) -> dict:
    from ..networks.backprop import expected_shapes
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"{path}: not a readable .npz file ({str(e)[:80]})") from None
    if "x" in arrays and arrays["x"].ndim == 2:
        spec = replace(spec, batch=int(arrays["x"].shape[1]))
    want = expected_shapes(spec, convention)
    for name, shape in want.items():
        if name not in arrays:
            raise InputError(f"{path}: key {name!r} is missing (the {convention} convention needs "
                             f"{', '.join(want)})")
        a = arrays[name]
        if a.ndim == 1 and shape[1] == 1:
            a = a.reshape(-1, 1)
        if a.shape != shape:
            raise InputError(f"{path}: key {name!r} has shape {a.shape}, expected {shape}")
        if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
            raise InputError(f"{path}: key {name!r} is not a real array (dtype {a.dtype})")
        a = a.astype(np.float64)
        if not np.all(np.isfinite(a)):
            raise InputError(f"{path}: key {name!r} has non-finite entries")
        arrays[name] = a
    extra = sorted(set(arrays) - set(want))
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
    try:
        get(args.convention)
        spec = NetworkSpec.build(args.sizes, args.activation, args.cost, not args.no_bias, args.batch,
                                 args.average, "sigma_0" if args.convention == "post" and args.activation == "sigma_l"
                                 else "identity")
        if args.params:
            spec, raw = _load_params(args.params, spec, args.convention)
            params = from_convention(spec, raw, args.convention)
        else:
            params = random_parameters(spec, seed=args.seed)
    except InputError as e:
        print(f"symbolic-bp: invalid input: {e}", file=sys.stderr)
        return 2
    rows, symbolic = compare(spec, params, args.convention, args.seed)
    agree = all(r["finite"] and r["symbolic_vs_handwritten"] <= SYMBOLIC_TOL and r["fd_vs_handwritten"] <= FD_TOL
                for r in rows.values())
    own = max(spec.sizes) <= SMALL_NETWORK and spec.depth <= 4
    results = [check_network_claim(spec, args.convention, text, seconds=args.budget, seed=args.seed,
                                   own_network=own) for text in args.claim]
    if args.out:
        grads = to_convention(spec, {**{k[1:]: v for k, v in symbolic.items()}, "x": params["x"], "y": params["y"]},
                              args.convention)
        try:
            np.savez(args.out, **{f"d{k}": v for k, v in grads.items() if k not in ("x", "y")})
        except OSError as e:
            print(f"symbolic-bp: error: {args.out}: cannot write: {e.strerror or e}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps({"network": spec.describe(), "convention": args.convention,
                          "parameters": rows, "gradients_agree": agree,
                          "claims": [r.to_dict() for r in results]}, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        _print(spec, args.convention, rows, agree, results)
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
