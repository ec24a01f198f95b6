import json

import numpy as np
import pytest

from symbolic_bp.networks.backprop import random_parameters, to_convention
from symbolic_bp.networks.network import NetworkSpec


@pytest.mark.slow
def test_gradients_three_ways_and_claims(cli):
    r = cli("network", "--sizes", "4,5,3", "--activation", "tanh", "--cost", "mse", "--batch", "3", "--json",
            "--claim", "grad(W[l]) = delta[l] @ a[l-1].T", "--claim", "grad(b[l]) = delta[l]")
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["gradients_agree"] is True
    assert set(out["parameters"]) == {"W1", "W2", "b1", "b2"}
    assert all(p["symbolic_vs_handwritten"] <= 1e-12 and p["fd_vs_handwritten"] <= 1e-6 for p in out["parameters"].values())
    verdicts = [c["verdict"] for c in out["claims"]]
    assert verdicts == ["verified", "refuted"]
    assert out["claims"][1]["counterexample"] is not None and out["claims"][1]["diagnosis"]


def test_params_in_the_convention_layout_and_gradients_out(cli, tmp_path):
    spec = NetworkSpec.build((3, 4, 2), "sigmoid", "cross-entropy", batch=5)
    p = random_parameters(spec, seed=4)
    np.savez(tmp_path / "P.npz", **to_convention(spec, p, "ng"))
    r = cli("network", "--sizes", "3,4,2", "--activation", "sigmoid", "--cost", "cross-entropy",
            "--convention", "ng", "--params", str(tmp_path / "P.npz"), "--out", str(tmp_path / "G.npz"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "batch 5" in r.stdout
    with np.load(tmp_path / "G.npz") as g:
        assert sorted(g.files) == ["dTheta1", "dTheta2"] and g["dTheta1"].shape == (4, 4)


@pytest.mark.parametrize("args, message", [
    (["--sizes", "4,x"], "expected integers"),
    (["--sizes", "4,5", "--cost", "hinge"], "unknown cost"),
    (["--sizes", "4,5", "--convention", "lecun"], "unknown convention"),
    (["--sizes", "4,5", "--params", "missing.npz"], "missing.npz: no such file"),
])
def test_bad_input_exits_2_with_one_line(cli, args, message):
    r = cli("network", *args)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr


def test_params_with_wrong_shapes(cli, tmp_path):
    np.savez(tmp_path / "P.npz", W1=np.zeros((2, 2)), b1=np.zeros(5), x=np.zeros((4, 1)), y=np.zeros((5, 1)))
    r = cli("network", "--sizes", "4,5", "--params", str(tmp_path / "P.npz"))
    assert r.returncode == 2 and "'W1' has shape (2, 2), expected (5, 4)" in r.stderr


def test_invalid_claim_exits_2(cli):
    r = cli("network", "--sizes", "3,2", "--claim", "delta[l] = W[l+1.T")
    assert r.returncode == 2 and "invalid" in r.stdout


def test_a_claim_that_starts_with_a_minus_sign_is_a_claim_not_an_option(cli):
    """``--claim -...`` reaches the claim reader (here: an invalid claim, exit 2,
    said on standard output), never argparse's 'expected one argument'."""
    r = cli("network", "--sizes", "3,2", "--claim", "-delta[l] = W[l+1].T @ delta[l+1]", "--json")
    assert r.returncode == 2 and "expected one argument" not in r.stderr, r.stderr
    claims = json.loads(r.stdout)["claims"]
    assert [c["verdict"] for c in claims] == ["invalid"]
    assert claims[0]["claim"].startswith("-delta[l]")


@pytest.mark.parametrize("activation", ["y", "x"])
def test_an_activation_named_like_the_data_is_one_line_invalid_input(cli, activation):
    # was a traceback: "'y' is declared twice" from the lambdified network's declarations
    r = cli("network", "--sizes", "2,3,1", "--activation", activation,
            "--claim", "delta[L] = (a[L] - y) * sigma'(z[L])")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip() == (f"symbolic-bp: invalid input: activation: {activation!r} names a quantity of the "
                                "network or of its checks (x, y, W1, b1, z, a, delta, N, lambda ...); give the "
                                "activation a name of its own, such as sigma")
