"""Network benchmark, measured side by side in one run (ratios, not absolute goals).

1. One gradient of an MLP 784-256-128-10 (sigmoid hidden layers, softmax + NLL,
   batch 128, float64): the lambdified network (symbolic_bp.networks.lambdify) against
   the hand-written backprop (symbolic_bp.networks.backprop), and PyTorch autograd on
   the CPU when torch is installed.  Goal: lambdified within 1.1x of
   hand-written.  The runs are interleaved and the median of many is kept, so
   that load on the machine hits all of them alike.

   Fair to every side: torch runs in a process of its own (a worker this script
   starts, timed in turn with the NumPy runs, round by round): loaded into the
   NumPy process, its OpenMP/MKL runtime alone made the NumPy backprop 1.5-3.5x
   slower.  Every side gets one thread: OMP/MKL/OPENBLAS_NUM_THREADS=1 before
   NumPy or torch is imported (and threadpoolctl's limit when it is installed),
   torch.set_num_threads(1).  The BLAS of each side is printed.
2. The induction proof's time against the depth of the network the claim is
   about: the proof is one local claim at a generic layer, so it should not
   grow with the depth.

    python bench/bench_network.py [--repeats N]
"""
from __future__ import annotations

import os

THREADS = 1
# before NumPy (or torch, in the worker, which inherits them) loads its BLAS and OpenMP
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = str(THREADS)

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

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


def _spec_and_parameters():
    spec = NetworkSpec.build((784, 256, 128, 10), "sigmoid", "softmax-nll", batch=128)
    return spec, random_parameters(spec, seed=0)


def _numpy_blas() -> str:
    """NumPy's BLAS as built (numpy.show_config) and as loaded (threadpoolctl)."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        built = f"{blas.get('name')} {blas.get('version')}"
    except Exception:                      # older NumPy: no mode="dicts"
        built = "unknown (numpy.show_config() prints it)"
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return f"{built}; {THREADS} thread(s) through OMP/MKL/OPENBLAS_NUM_THREADS (threadpoolctl not installed)"
    pools = [" ".join(filter(None, (i["internal_api"], i.get("version"), f"{i['num_threads']} thread(s)")))
             for i in threadpool_info()]
    return f"{built}; loaded: {', '.join(pools) or 'none'}"


def torch_worker() -> None:
    """The torch side, in its own process: one JSON line of facts, then one time per 'run' line."""
    try:
        import torch
    except ImportError as e:
        print(json.dumps({"skipped": f"torch is not installed ({e})"}), flush=True)
        return
    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(THREADS)
    spec, p = _spec_and_parameters()
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k not in ("x", "y")) for k, v in p.items()}
    names = spec.parameters()

    def run():
        a = params["x"]
        for k in range(1, spec.depth + 1):
            z = params[f"W{k}"] @ a + params[f"b{k}"]
            a = torch.sigmoid(z) if k < spec.depth else z
        cost = torch.logsumexp(a, dim=0).sum() - (params["y"] * a).sum()
        return torch.autograd.grad(cost, [params[n] for n in names])

    h = backprop(spec, p).grads
    worst = max(float(np.max(np.abs(g.numpy() - h[f"d{n}"])) / np.max(np.abs(h[f"d{n}"])))
                for n, g in zip(names, run()))
    config, parallel = torch.__config__.show(), torch.__config__.parallel_info()
    found = {name: re.search(pattern, text) for name, pattern, text in (
        ("blas", r"BLAS_INFO=(\w+)", config), ("mkl", r"Math Kernel Library Version (\d[\d.]*)", config),
        ("omp threads", r"omp_get_max_threads\(\) : (\d+)", parallel),
        ("mkl threads", r"mkl_get_max_threads\(\) : (\d+)", parallel))}
    found = {name: m.group(1) if m else "?" for name, m in found.items()}
    blas = (f"BLAS {found['blas']} (MKL {found['mkl']}); OpenMP {found['omp threads']}, "
            f"MKL {found['mkl threads']} thread(s)")
    print(json.dumps({"version": torch.__version__, "threads": torch.get_num_threads(),
                      "interop": torch.get_num_interop_threads(), "blas": blas, "worst": worst,
                      "numpy": _numpy_blas()}), flush=True)
    run()                                   # warm up
    for line in sys.stdin:
        if line.strip() != "run":
            break
        print(_time(run, 3), flush=True)


class TorchSide:
    """The torch worker process, timed on request so that its runs interleave with the NumPy ones."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, __file__, "--torch-worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=dict(os.environ))
        line = self.process.stdout.readline()
        self.facts = json.loads(line) if line else {"skipped": "the torch worker printed nothing"}
        if "skipped" in self.facts:
            self.close()

    @property
    def available(self) -> bool:
        return "skipped" not in self.facts

    def __call__(self) -> float:
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=60)


def mlp(repeats: int) -> None:
    spec, p = _spec_and_parameters()
    limit = None
    try:                                    # the same pin at run time, where threadpoolctl can apply it
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(THREADS)
    except ImportError:
        pass
    start = time.perf_counter()
    net = lambdify_network(spec)
    generate = time.perf_counter() - start
    g, h = net(p), backprop(spec, p).grads
    worst = max(float(np.max(np.abs(g[k] - h[k])) / np.max(np.abs(h[k]))) for k in h)
    runners = {"lambdified": lambda: _time(lambda: net(p), 3),       # each: seconds of one of 3 runs
               "hand-written": lambda: _time(lambda: backprop(spec, p), 3)}
    torch_side = TorchSide()
    if torch_side.available:
        runners["torch autograd (CPU)"] = torch_side
    assert "torch" not in sys.modules, "torch must not be loaded into the NumPy process"
    for fn in runners.values():          # warm up
        fn()
    times = {name: [] for name in runners}
    for _ in range(repeats):
        for name, fn in runners.items():
            times[name].append(fn())
    torch_side.close()
    if limit is not None:
        limit.restore_original_limits()
    base = statistics.median(times["hand-written"])
    print(f"MLP 784-256-128-10, sigmoid, softmax-nll, batch 128, float64 ({repeats} x 3 runs each, interleaved)")
    print(f"  NumPy {np.__version__} (this process): BLAS {_numpy_blas()}")
    if torch_side.available:
        f = torch_side.facts
        print(f"  torch {f['version']} (own process): {f['threads']} intra-op / {f['interop']} inter-op thread(s); "
              f"{f['blas']}; its NumPy: {f['numpy']}")
    else:
        print(f"  torch column skipped: {torch_side.facts['skipped']}; pip install -e '.[bench]' to compare")
    print(f"  code generation: {generate * 1e3:.1f} ms, {net.statements} NumPy statements "
          f"for {net.tree_nodes} expression-tree nodes; max relative difference to hand-written {worst:.1e}"
          + (f", torch {torch_side.facts['worst']:.1e}" if torch_side.available else ""))
    print(f"  {'gradient of':24s} {'median':>10s} {'ratio':>7s}")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"  {name:24s} {m * 1e3:8.2f} ms {m / base:6.2f}x")
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
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        return torch_worker()
    mlp(args.repeats)
    print()
    induction()


if __name__ == "__main__":
    main()
