"""Ng's definitions when the cost is averaged over the m examples: delta is the
error of each example (of the summed cost), the 1/m only in D = Delta/m."""
import json

import pytest

from symbolic_bp.networks.network import NetworkSpec
from symbolic_bp.networks.network_check import check_network_claim

NG = NetworkSpec.build((3, 4, 2), "sigmoid", "cross-entropy", batch=5, average=True)


@pytest.mark.parametrize("claim", [
    "delta[L] = a[L] - y",                                   # exact for a sigmoid output and cross-entropy
    "delta[l] = Theta[l].T @ delta[l+1] * g'(z[l])",
    "grad(Theta[l]) = delta[l+1] @ a[l].T / N",              # D = Delta/m
    "grad(Theta[l]) = Delta[l] / m",
])
def test_ng_definitions_with_an_averaged_cost(claim):
    r = check_network_claim(NG, "ng", claim)
    assert r.verdict == "verified", (r.error, [e.detail for e in r.evidence])


def test_the_evidence_says_which_delta():
    r = check_network_claim(NG, "ng", "delta[L] = a[L] - y")
    assert "N dC/dz_L with the summed cost" in r.evidence[0].detail
    assert "N dC/dz (the convention's delta of the summed cost)" in r.evidence[1].detail


def test_delta_with_the_1_over_m_is_refuted_in_ngs_convention():
    r = check_network_claim(NG, "ng", "delta[L] = (a[L] - y) / m")
    assert r.verdict == "refuted" and r.counterexample is not None
    assert r.diagnosis.startswith("an extra 1/m: Ng's delta is the error of each example")


def test_gradient_without_the_1_over_m_is_refuted():
    r = check_network_claim(NG, "ng", "grad(Theta[l]) = delta[l+1] @ a[l].T")
    assert r.verdict == "refuted" and r.diagnosis.startswith("a missing 1/m") and "D = Delta/m" in r.diagnosis


def test_summed_cost_has_no_1_over_m():
    summed = NetworkSpec.build((3, 4, 2), "sigmoid", "cross-entropy", batch=5)
    assert check_network_claim(summed, "ng", "grad(Theta[l]) = Delta[l]").verdict == "verified"
    assert check_network_claim(summed, "ng", "grad(Theta[l]) = Delta[l] / m").verdict == "refuted"


def test_with_mse_the_output_error_has_the_derivative():
    # Ng's delta(L) = a(L) - y is exact for cross-entropy with a sigmoid output only
    mse = NetworkSpec.build((3, 4, 2), "sigmoid", "mse", batch=5, average=True)
    assert check_network_claim(mse, "ng", "delta[L] = (a[L] - y) * g'(z[L])").verdict == "verified"
    r = check_network_claim(mse, "ng", "delta[L] = a[L] - y")
    assert r.verdict == "refuted"


@pytest.mark.parametrize("convention, claim", [
    ("nielsen", "delta[L] = (a[L] - y) / N"),
    ("answer", "delta[L] = (a[L] - y) / N"),
    ("post", "delta[0] = (q[L] - y) / N"),
    ("rows", "delta[L] = (A[L] - Y) / N"),
    ("nielsen", "grad(W[l]) = delta[l] @ a[l-1].T"),
])
def test_the_other_conventions_keep_delta_of_the_averaged_cost(convention, claim):
    r = check_network_claim(NG, convention, claim)
    assert r.verdict == "verified", (r.error, [e.detail for e in r.evidence])


def test_the_other_conventions_refute_the_unaveraged_delta():
    r = check_network_claim(NG, "nielsen", "delta[L] = a[L] - y")
    assert r.verdict == "refuted" and r.diagnosis.startswith("a missing 1/n")


def test_network_command_ng_average(cli):
    r = cli("network", "--sizes", "3,4,2", "--activation", "sigmoid", "--cost", "cross-entropy", "--convention", "ng",
            "--batch", "5", "--average", "--json", "--claim", "delta[L] = a[L] - y",
            "--claim", "grad(Theta[l]) = delta[l+1] @ a[l].T / N")
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["gradients_agree"] and [c["verdict"] for c in out["claims"]] == ["verified", "verified"]
