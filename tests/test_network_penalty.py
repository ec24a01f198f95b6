"""L2 penalties as their sources write them: Ng, Nielsen, Goodfellow, CS231n."""
import json

import numpy as np
import pytest

from symbolic_bp.errors import InputError
from symbolic_bp.networks.backprop import random_parameters, to_convention
from symbolic_bp.networks.network import NetworkSpec
from symbolic_bp.networks.network_check import check_network_claim


def spec(penalty, cost="cross-entropy", average=True, batch=5):
    return NetworkSpec.build((3, 4, 2), "sigmoid", cost, batch=batch, average=average, penalty=penalty)


NG = spec("ng")


# -- Ng: lambda/(2m) sum Theta^2 without the bias column; D = Delta/m + (lambda/m) Theta, bias column 0 --------

@pytest.mark.parametrize("claim", [
    "grad(Theta[l]) = Delta[l] / m + lambda / m * Theta_reg[l]",
    "grad(Theta[l]) = delta[l+1] @ a[l].T / m + lambda / m * Theta_reg[l]",
    "grad(Theta[l]) = (Delta[l] + lambda * Theta_reg[l]) / m",
])
def test_ng_regularised_gradient_is_verified(claim):
    r = check_network_claim(NG, "ng", claim)
    assert r.verdict == "verified", (r.error, [e.detail for e in r.evidence])
    assert r.methods == ["induction", "numeric"]
    assert "mask" in r.evidence[0].detail and "penalty" in r.evidence[0].detail


def test_ng_regularising_the_bias_column_is_refuted():
    r = check_network_claim(NG, "ng", "grad(Theta[l]) = Delta[l] / m + lambda / m * Theta[l]")
    assert r.verdict == "refuted" and r.counterexample is not None
    assert r.diagnosis.startswith("the bias column is regularised") and "Theta_reg" in r.diagnosis


def test_ng_missing_1_over_m_is_refuted():
    r = check_network_claim(NG, "ng", "grad(Theta[l]) = Delta[l] + lambda / m * Theta_reg[l]")
    assert r.verdict == "refuted" and r.diagnosis.startswith("a missing 1/m")
    assert "Delta[l] multiplied by 1/m" in r.diagnosis


@pytest.mark.parametrize("claim, factor", [
    ("grad(Theta[l]) = Delta[l] / m + lambda / (2 * m) * Theta_reg[l]", "2"),     # lambda/2m: the cost's, not its gradient's
    ("grad(Theta[l]) = Delta[l] / m + lambda * Theta_reg[l]", "1/m"),
])
def test_ng_wrong_penalty_factor_is_refuted(claim, factor):
    r = check_network_claim(NG, "ng", claim)
    assert r.verdict == "refuted" and r.counterexample is not None
    assert f"off by a factor {factor}: the ng penalty" in r.diagnosis


def test_the_penalty_leaves_the_deltas_alone():
    for claim in ("delta[L] = a[L] - y", "delta[l] = Theta[l].T @ delta[l+1] * g'(z[l])"):
        assert check_network_claim(NG, "ng", claim).verdict == "verified", claim


# -- Nielsen: lambda/(2n) sum w^2, dC/dw = dC0/dw + (lambda/n) w, biases unchanged ------------------------------

NIELSEN = spec("nielsen")


@pytest.mark.slow
def test_nielsen_weight_decay():
    assert check_network_claim(NIELSEN, "nielsen", "grad(W[l]) = delta[l] @ a[l-1].T + lambda / n * W[l]").verdict \
        == "verified"
    r = check_network_claim(NIELSEN, "nielsen", "grad(W[l]) = delta[l] @ a[l-1].T + lambda / (2 * n) * W[l]")
    assert r.verdict == "refuted" and "off by a factor 2" in r.diagnosis
    r = check_network_claim(NIELSEN, "nielsen", "grad(W[l]) = delta[l] @ a[l-1].T")
    assert r.verdict == "refuted"


def test_nielsen_biases_are_not_regularised():
    assert check_network_claim(NIELSEN, "nielsen", "grad(b[l]) = delta[l] @ ones(N, 1)").verdict == "verified"
    r = check_network_claim(NIELSEN, "nielsen", "grad(b[l]) = delta[l] @ ones(N, 1) + lambda / n * b[l]")
    assert r.verdict == "refuted" and r.diagnosis.startswith("the bias is regularised")


# -- Goodfellow: alpha/2 w^T w, gradient alpha w; CS231n: reg * sum(W * W), gradient 2 reg W ---------------------

@pytest.mark.parametrize("penalty, right, wrong", [
    ("goodfellow", "grad(W[l]) = delta[l] @ a[l-1].T + alpha * W[l]", "grad(W[l]) = delta[l] @ a[l-1].T + alpha / 2 * W[l]"),
    ("goodfellow", "grad(W[l]) = delta[l] @ a[l-1].T + lambda * W[l]", "grad(W[l]) = delta[l] @ a[l-1].T + 2 * lambda * W[l]"),
    ("l2", "grad(W[l]) = delta[l] @ a[l-1].T + 2 * reg * W[l]", "grad(W[l]) = delta[l] @ a[l-1].T + reg * W[l]"),
])
def test_lambda_against_lambda_over_2(penalty, right, wrong):
    s = spec(penalty, cost="mse", average=False, batch=3)
    assert check_network_claim(s, "nielsen", right).verdict == "verified"
    r = check_network_claim(s, "nielsen", wrong)
    assert r.verdict == "refuted" and r.counterexample is not None and "off by a factor" in r.diagnosis


@pytest.mark.slow
def test_cs231n_in_rows():
    s = NetworkSpec.build((3, 4, 3), "relu,sigmoid", "softmax-nll", batch=4, average=True, penalty="l2")
    assert check_network_claim(s, "cs231n", "grad(W[l]) = A[l-1].T @ delta[l] + 2 * reg * W[l]").verdict == "verified"
    assert check_network_claim(s, "cs231n", "grad(W[l]) = A[l-1].T @ delta[l] + reg * W[l]").verdict == "refuted"


# -- input ---------------------------------------------------------------------------------------------------------

def test_lambda_without_a_penalty_is_invalid_with_a_hint():
    r = check_network_claim(spec(None), "nielsen", "grad(W[l]) = delta[l] @ a[l-1].T + lambda / n * W[l]")
    assert r.verdict == "invalid" and "--penalty" in r.error and "\n" not in r.error


def test_unknown_penalty():
    with pytest.raises(InputError, match="unknown penalty 'l1'.*ng, nielsen, goodfellow, l2"):
        NetworkSpec.build((3, 2), penalty="l1")
    assert NetworkSpec.build((3, 2), penalty="cs231n").penalty == "l2"


def test_network_command_with_ng_penalty(cli, tmp_path):
    args = ["network", "--sizes", "3,4,2", "--activation", "sigmoid", "--cost", "cross-entropy", "--convention", "ng",
            "--batch", "5", "--average", "--penalty", "ng", "--json"]
    r = cli(*args, "--claim", "grad(Theta[l]) = Delta[l] / m + lambda / m * Theta_reg[l]")
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["gradients_agree"] and "penalty ng" in out["network"]
    r = cli(*args, "--claim", "grad(Theta[l]) = Delta[l] / m + lambda / m * Theta[l]")
    assert r.returncode == 1 and json.loads(r.stdout)["claims"][0]["verdict"] == "refuted"
    # lambda from the parameter file, in Ng's layout
    s = spec("ng")
    q = to_convention(s, dict(random_parameters(s, seed=1), **{"lambda": 1.0}), "ng")
    np.savez(tmp_path / "P.npz", **q)
    r = cli(*args[:-1], "--params", str(tmp_path / "P.npz"))
    assert r.returncode == 0 and "gradients agree" in r.stdout, r.stdout + r.stderr


def test_network_command_lambda_needs_a_penalty(cli):
    r = cli("network", "--sizes", "3,2", "--lambda", "0.5")
    assert r.returncode == 2 and "no penalty" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = cli("network", "--sizes", "3,2", "--penalty", "l3")
    assert r.returncode == 2 and "unknown penalty" in r.stderr


def test_penalty_in_a_derivation_file():
    from symbolic_bp.derivations.derivation import loads
    text = '''title = "ex4"
document = "ex4.pdf"

[[network]]
name = "regularised gradient"
convention = "ng"
activation = "sigmoid"
cost = "cross-entropy"
batch = "5"
average = "yes"
penalty = "ng"
claim = "grad(Theta[l]) = Delta[l] / m + lambda / m * Theta_reg[l]"
'''
    (entry,) = loads(text, "f.toml").entries
    assert entry.spec.penalty == "ng" and "penalty ng" in entry.statement()
    assert entry.run(60, 0).verdict == "verified"
    with pytest.raises(InputError, match=r"f.toml:11: .*unknown penalty 'ridge'"):
        loads(text.replace('penalty = "ng"', 'penalty = "ridge"'), "f.toml")
