"""Network benchmark, measured side by side in one run (ratios, not absolute goals).

1. One gradient of an MLP 784-256-128-10 (sigmoid hidden layers, softmax + NLL,
   batch 128, float64): the lambdified network (symbolic_bp.networks.lambdify) against
   the hand-written backprop (symbolic_bp.networks.backprop), and PyTorch autograd on
   the CPU when torch is importable.  Goal: lambdified within 1.1x of
   hand-written.  The runs are interleaved and the median of many is kept, so
   that load on the machine hits all of them alike.
2. The induction proof's time against the depth of the network the claim is
   about: the proof is one local claim at a generic layer, so it should not
   grow with the depth.

    python bench/bench_network.py [--repeats N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from symbolic_bp.networks.backprop import backprop, random_parameters  # noqa: E402
from symbolic_bp.networks.lambdify import lambdify_network  # noqa: E402
from symbolic_bp.networks.network import NetworkSpec  # noqa: E402


def _time(fn, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def _torch_gradient(spec, p):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(max(1, torch.get_num_threads()))
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k not in ("x", "y")) for k, v in p.items()}

    def run():
        a = params["x"]
        for k in range(1, spec.depth + 1):
            z = params[f"W{k}"] @ a + params[f"b{k}"]
            a = torch.sigmoid(z) if k < spec.depth else z
        cost = torch.logsumexp(a, dim=0).sum() - (params["y"] * a).sum()
        return torch.autograd.grad(cost, [params[n] for n in spec.parameters()])
    return run


def mlp(repeats: int) -> None:
    spec = NetworkSpec.build((784, 256, 128, 10), "sigmoid", "softmax-nll", batch=128)
    p = random_parameters(spec, seed=0)
    start = time.perf_counter()
    net = lambdify_network(spec)
    generate = time.perf_counter() - start
    g, h = net(p), backprop(spec, p).grads
    worst = max(float(np.max(np.abs(g[k] - h[k])) / np.max(np.abs(h[k]))) for k in h)
    runners = {"lambdified": lambda: net(p), "hand-written": lambda: backprop(spec, p)}
    torch_run = _torch_gradient(spec, p)
    if torch_run is not None:
        runners["torch autograd (CPU)"] = torch_run
    for fn in runners.values():          # warm up
        fn()
    times = {name: [] for name in runners}
    for _ in range(repeats):
        for name, fn in runners.items():
            times[name].append(_time(fn, 3))
    base = statistics.median(times["hand-written"])
    print(f"MLP 784-256-128-10, sigmoid, softmax-nll, batch 128, float64 ({repeats} x 3 runs each, interleaved)")
    print(f"  code generation: {generate * 1e3:.1f} ms, {net.statements} NumPy statements "
          f"for {net.tree_nodes} expression-tree nodes; max relative difference to hand-written {worst:.1e}")
    print(f"  {'gradient of':24s} {'median':>10s} {'ratio':>7s}")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"  {name:24s} {m * 1e3:8.2f} ms {m / base:6.2f}x")
    if torch_run is None:
        print("  (torch not installed: pip install torch to compare with autograd)")
    ratio = statistics.median(times["lambdified"]) / base
    print(f"  goal lambdified <= 1.1x hand-written: {'met' if ratio <= 1.1 else 'NOT met'} ({ratio:.2f}x)")


def induction(depths=(3, 6, 12, 24)) -> None:
    from symbolic_bp.networks.network_check import _induction
    from symbolic_bp.networks.network_claim import parse_network_claim
    claims = ["delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])", "grad(W[l]) = delta[l] @ a[l-1].T"]
    print("induction proof time against depth (opaque sigma, mse; one local claim per proof)")
    print(f"  {'depth':>5s} " + " ".join(f"{c[:28]:>30s}" for c in claims))
    first = None
    for depth in depths:
        spec = NetworkSpec.build(tuple([3] * (depth + 1)), "sigma", "mse", batch=2)
        row = []
        for text in claims:
            start = time.perf_counter()
            outcome = _induction(parse_network_claim(text, "nielsen"), spec, 60, 0)
            assert outcome.status == "agree", outcome.detail
            row.append(time.perf_counter() - start)
        first = first or row
        print(f"  {depth:5d} " + " ".join(f"{t:26.2f} s {t / f:3.1f}x" for t, f in zip(row, first)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    mlp(args.repeats)
    print()
    induction()


if __name__ == "__main__":
    main()
