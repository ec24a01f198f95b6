"""The rows convention: the batch in rows, Z[l] = A[l-1] @ W[l] + b[l] (CS231n, PyTorch)."""
import json

import numpy as np
import pytest

from symbolic_bp.networks.backprop import random_parameters, to_convention
from symbolic_bp.networks.network import NetworkSpec
from symbolic_bp.networks.network_check import check_network_claim

SIGMA = NetworkSpec.build((3, 4, 2), "sigma", "mse", batch=4)
SOFTMAX = NetworkSpec.build((3, 4, 3), "relu,sigmoid", "softmax-nll", batch=4, average=True)




@pytest.mark.parametrize("claim", [
    "delta[L] = (A[L] - Y) * sigma'(Z[L])",
    "delta[l] = (delta[l+1] @ W[l+1].T) * sigma'(Z[l])",
    "dZ[l] = (dZ[l+1] @ W[l+1].T) * sigma'(Z[l])",
    "grad(W[l]) = A[l-1].T @ delta[l]",
    "grad(b[l]) = ones(1, N) @ delta[l]",
])
def test_row_major_claims_are_verified(claim):
    r = check_network_claim(SIGMA, "rows", claim)
    assert r.verdict == "verified", (r.error, [e.detail for e in r.evidence])
    assert r.methods == ["induction", "unrolled", "numeric"]


def test_the_checks_build_the_network_in_rows():
    r = check_network_claim(SIGMA, "rows", "grad(b[l]) = ones(1, N) @ delta[l]")
    induction = r.evidence[0].detail
    assert "a_prev @ W + ones(nb, 1) @ b" in induction and "ones(1, nb) @ delta" in induction


def test_a_missing_transpose_is_named_in_the_rows_layout():
    r = check_network_claim(SIGMA, "rows", "delta[l] = (delta[l+1] @ W[l+1]) * sigma'(Z[l])")
    assert r.verdict == "refuted" and r.counterexample is not None
    assert "a missing transpose" in r.diagnosis and "should be 'W3.T'" in r.diagnosis


def test_the_column_formula_is_refuted_in_rows():
    r = check_network_claim(SIGMA, "rows", "grad(W[l]) = delta[l].T @ A[l-1]")
    assert r.verdict == "refuted" and "transposed" in r.diagnosis


def test_bias_gradient_without_the_sum_over_the_rows():
    r = check_network_claim(SIGMA, "rows", "grad(b[l]) = delta[l]")
    assert r.verdict == "refuted" and r.counterexample is not None
    assert r.diagnosis.startswith("a missing sum over the batch: the claim has one row per example")
    assert "ones(1, N) @ (delta[l])" in r.diagnosis


def test_averaged_softmax_output_error():
    assert check_network_claim(SOFTMAX, "cs231n", "delta[L] = (A[L] - Y) / N").verdict == "verified"
    r = check_network_claim(SOFTMAX, "cs231n", "delta[L] = A[L] - Y")
    assert r.verdict == "refuted" and r.diagnosis.startswith("a missing 1/N")


def test_unindexed_data_are_the_rows_of_x_and_y():
    own = NetworkSpec.build((2, 3, 2), "sigma", "mse", batch=3)
    r = check_network_claim(own, "rows", "grad(W[1]) = X.T @ delta[1]", own_network=True)
    assert r.verdict == "verified", r.error


@pytest.mark.parametrize("claim", [
    "grad(b[l]) = np.sum(delta[l], axis=0, keepdims=True)",
    "grad(b[l]) = delta[l].sum(axis=0)",
    "grad(b[l]) = np.sum(delta[l], axis=0)",
    "grad(b[l]) = delta[l].sum(axis=0, keepdims=True)",
])
def test_numpy_sums_over_the_batch_are_verified(claim):
    r = check_network_claim(SIGMA, "rows", claim)
    assert r.verdict == "verified", (r.error, [e.detail for e in r.evidence])


def test_numpy_sum_over_the_wrong_axis_is_refuted():
    r = check_network_claim(SIGMA, "rows", "grad(b[l]) = np.sum(delta[l], axis=1, keepdims=True)")
    assert r.verdict == "refuted"


def test_a_broadcast_bias_in_a_claim():
    # z[l] written out as NumPy code does, the 1 x n row b[l] broadcast over the N rows
    r = check_network_claim(SIGMA, "rows", "grad(W[l]) = A[l-1].T @ ((delta[l+1] @ W[l+1].T) * "
                                           "sigma'(A[l-1] @ W[l] + b[l]))")
    assert r.verdict == "verified", (r.error, [e.detail for e in r.evidence])


def test_params_in_rows_and_gradients_out(cli, tmp_path):
    spec = NetworkSpec.build((3, 4, 2), "tanh,sigmoid", "cross-entropy", batch=5)
    q = to_convention(spec, random_parameters(spec, seed=3), "rows")
    assert q["X"].shape == (5, 3) and q["W1"].shape == (3, 4) and q["b1"].shape == (1, 4)
    q["b1"] = q["b1"].reshape(-1)                       # a 1-D bias, as NumPy code keeps it
    np.savez(tmp_path / "P.npz", **q)
    r = cli("network", "--sizes", "3,4,2", "--activation", "tanh,sigmoid", "--cost", "cross-entropy",
            "--convention", "row-major", "--params", str(tmp_path / "P.npz"), "--out", str(tmp_path / "G.npz"),
            "--json", "--claim", "grad(W[l]) = A[l-1].T @ delta[l]")
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["convention"] == "rows" and out["gradients_agree"] and "batch 5" in out["network"]
    with np.load(tmp_path / "G.npz") as g:
        assert g["dW1"].shape == (3, 4) and g["db1"].shape == (1, 4) and g["db2"].shape == (1, 2)


def test_rows_in_a_derivation_file():
    from symbolic_bp.derivations.derivation import loads
    d = loads('''title = "rows"
document = "cs231n.md"

[[network]]
name = "bias"
convention = "cs231n"
activation = "relu"
cost = "softmax-nll"
batch = "4"
average = "yes"
claim = "grad(b[l]) = ones(1, N) @ delta[l]"
''', "f.toml")
    (entry,) = d.entries
    assert entry.convention == "rows" and entry.run(60, 0).verdict == "verified"
