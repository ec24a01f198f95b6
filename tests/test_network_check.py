import json
from pathlib import Path

import pytest

from symbolic_bp.networks.network import NetworkSpec
from symbolic_bp.networks.network_check import check_network_claim

SIGMA = NetworkSpec.build((3, 4, 2), "sigma", "mse", batch=2)
SIGMOID_CE = NetworkSpec.build((3, 4, 2), "sigmoid", "cross-entropy", batch=2)


def test_recursion_is_proven_for_every_depth():
    r = check_network_claim(SIGMA, "nielsen", "delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])")
    assert r.verdict == "verified" and r.methods == ["induction", "unrolled", "numeric"]
    induction = r.evidence[0].detail
    assert "every depth" in induction and "a proof" in induction and "opaque" in induction


def test_missing_sigma_prime_is_refuted_with_a_counterexample_at_depth_3():
    r = check_network_claim(SIGMA, "nielsen", "delta[l] = W[l+1].T @ delta[l+1]")
    assert r.verdict == "refuted" and r.counterexample is not None
    assert "missing factor sigma'" in r.diagnosis
    assert "depth 3" in r.evidence[1].detail


def test_transposed_weight_is_refuted_on_equal_widths():
    r = check_network_claim(SIGMA, "nielsen", "delta[l] = W[l+1] @ delta[l+1] * sigma'(z[l])")
    assert r.verdict == "refuted" and r.counterexample is not None
    assert "transpose" in r.diagnosis and "not even defined" in r.evidence[1].detail


def test_wrong_layer_index_is_refuted_and_named():
    r = check_network_claim(SIGMA, "nielsen", "delta[l] = W[l].T @ delta[l+1] * sigma'(z[l])")
    assert r.verdict == "refuted" and r.counterexample is not None
    assert r.diagnosis.startswith("a wrong layer index: W[l]")


def test_bias_gradient_of_a_batch_is_a_row_sum():
    assert check_network_claim(SIGMA, "nielsen", "grad(b[l]) = delta[l]").verdict == "refuted"
    assert check_network_claim(SIGMA, "nielsen", "grad(b[l]) = delta[l] @ ones(N, 1)").verdict == "verified"


def test_ng_gradient_with_the_bias_unit():
    r = check_network_claim(SIGMOID_CE, "ng", "grad(Theta[l]) = delta[l+1] @ a[l].T")
    assert r.verdict == "verified" and r.methods == ["induction", "numeric"]
    assert "concatenation" in r.evidence[1].detail or "no layer" in r.evidence[1].detail


@pytest.mark.slow
def test_theta_index_is_settled_per_convention():
    ng = check_network_claim(SIGMOID_CE, "ng", "delta[l] = Theta[l].T @ delta[l+1] * g'(z[l])")
    answer_right = check_network_claim(SIGMOID_CE, "answer", "delta[l] = theta[l+1].T @ delta[l+1] * a[l] * (1 - a[l])")
    answer_wrong = check_network_claim(SIGMOID_CE, "answer", "delta[l] = theta[l].T @ delta[l+1] * a[l] * (1 - a[l])")
    assert (ng.verdict, answer_right.verdict, answer_wrong.verdict) == ("verified", "verified", "refuted")
    assert "wrong layer index" in answer_wrong.diagnosis


def test_invalid_input_is_one_line():
    r = check_network_claim(SIGMA, "nielsen", "delta[l] = W[l+1.T @ delta[l+1]")
    assert r.verdict == "invalid" and "column 13" in r.error and "\n" not in r.error
    r = check_network_claim(SIGMA, "bengio", "delta[l] = a[l]")
    assert r.verdict == "invalid" and "unknown convention" in r.error


def test_depth_specific_claim_needs_the_documents_network():
    r = check_network_claim(SIGMA, "post", "grad(W[i,i+1]) = Delta[2-i] @ q[i].T")
    assert r.verdict == "invalid" and "tied to one depth" in r.error
    own = NetworkSpec.build((2, 3, 2, 2), "identity", "mse", bias=False)
    r = check_network_claim(own, "post", "grad(W[i,i+1]) = Delta[2-i] @ q[i].T", own_network=True)
    assert r.verdict == "verified" and r.methods == ["unrolled", "numeric"]
    assert "tied to the document's depth 3" in r.evidence[0].detail


def test_unindexed_activation_is_diagnosed():
    own = NetworkSpec.build((1, 1, 1, 1), "sigma_l", "mse", bias=False, input_activation="sigma_l")
    r = check_network_claim(own, "post", "delta[1] = delta[0] * W[2,3] * sigma'(p[2])", own_network=True)
    assert r.verdict == "refuted" and "without its index" in r.diagnosis


# -- the induction lemma at the network's batch ------------------------------------------

ONE = NetworkSpec.build((4, 5, 3), "sigmoid", "mse")              # batch 1
BATCH3 = NetworkSpec.build((4, 5, 3), "sigmoid", "mse", batch=3)


def test_bias_gradient_of_one_example_is_delta():
    for claim in ("grad(b[l]) = delta[l]", "grad(b[l]) = delta[l] @ ones(N, 1)"):
        r = check_network_claim(ONE, "nielsen", claim)
        assert r.verdict == "verified" and r.methods == ["induction", "unrolled", "numeric"], r
        assert "batch 1 (the network's)" in r.evidence[0].detail


def test_bias_gradient_of_a_batch_without_the_sum_is_diagnosed():
    r = check_network_claim(BATCH3, "nielsen", "grad(b[l]) = delta[l]")
    assert r.verdict == "refuted" and r.counterexample is not None
    assert r.diagnosis.startswith("a missing sum over the batch") and "@ ones(N, 1)" in r.diagnosis
    assert "a generic batch nb" in r.evidence[0].detail
    assert check_network_claim(BATCH3, "nielsen", "grad(b[l]) = delta[l] @ ones(N, 1)").verdict == "verified"


def test_average_cost_of_one_example_agrees_in_every_check():
    spec = NetworkSpec.build((3, 4, 2), "sigma", "mse", average=True)
    r = check_network_claim(spec, "nielsen", "delta[L] = (a[L] - y) * sigma'(z[L])")
    assert r.verdict == "verified", r.error


@pytest.mark.parametrize("batch, verdicts", [("1", ["verified", "verified"]), ("3", ["refuted", "verified"])])
def test_network_command_bias_gradient_at_each_batch(cli, batch, verdicts):
    r = cli("network", "--sizes", "4,5,3", "--activation", "sigmoid", "--cost", "mse", "--convention", "nielsen",
            "--batch", batch, "--json", "--claim", "grad(b[l]) = delta[l]", "--claim", "grad(b[l]) = delta[l] @ ones(N, 1)")
    out = json.loads(r.stdout)
    assert [c["verdict"] for c in out["claims"]] == verdicts, r.stdout
    assert all("bug" not in (c.get("error") or "") for c in out["claims"])
    if batch == "3":
        assert out["claims"][0]["diagnosis"].startswith("a missing sum over the batch")


def test_a_network_claim_keeps_to_one_budget_for_all_its_checks():
    # the induction and unrolled checks share the claim's budget (checks.budget.Deadline):
    # with a budget too small to derive a layer's delta, the claim ends undecided, saying why,
    # instead of raising TimeoutError or running one budget per check (fuzz: "over budget")
    import time
    from symbolic_bp.derivations.derivation import load
    entry = load(Path(__file__).parent.parent / "derivations" / "answer_delta.toml").entries[0]
    start = time.monotonic()
    result = entry.run(0.05, 0)
    assert time.monotonic() - start < 10
    assert result.verdict == "undecided"
    assert "budget" in result.error
