import pytest

from symbolic_bp.checks.checker import check
from symbolic_bp.networks.induction import classify, local_claim
from symbolic_bp.networks.network import NetworkSpec
from symbolic_bp.networks.network_claim import NotExpressible, parse_network_claim

SIGMA = NetworkSpec.build((3, 4, 4, 2), "sigma", "mse", batch=2)


def local(text, conv="nielsen", spec=SIGMA):
    return local_claim(parse_network_claim(text, conv), spec)


def test_roles():
    assert local("delta[L] = (a[L] - y) * sigma'(z[L])").role == "base"
    assert local("delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])").role == "step"
    assert local("grad(W[l]) = delta[l] @ a[l-1].T").role == "lemma"


def test_the_step_is_the_chain_rule_through_the_next_layer():
    lc = local("delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])")
    assert lc.claim.wrt == "z" and "delta_next" in lc.claim.shapes
    assert lc.claim.cost == "sum(delta_next * (W_next @ sigma(z) + b_next @ ones(1, nb)))"
    assert check(lc.claim).verdict == "verified"


def test_the_step_refutes_a_missing_derivative():
    r = check(local("delta[l] = W[l+1].T @ delta[l+1]").claim)
    assert r.verdict == "refuted" and "sigma'" in r.diagnosis


def test_opaque_sigma_refutes_a_sigmoid_only_identity():
    r = check(local("delta[l] = W[l+1].T @ delta[l+1] * a[l] * (1 - a[l])").claim)
    assert r.verdict == "refuted"
    sig = NetworkSpec.build((3, 4, 4, 2), "sigmoid", "mse", batch=2)
    assert check(local("delta[l] = W[l+1].T @ delta[l+1] * a[l] * (1 - a[l])", spec=sig).claim).verdict == "verified"


def test_ng_theta_enters_the_step_without_its_bias_column():
    sig = NetworkSpec.build((3, 4, 4, 2), "sigmoid", "cross-entropy", batch=2)
    lc = local("delta[l] = Theta[l].T @ delta[l+1] * g'(z[l])", "ng", sig)
    assert lc.claim.claim == "W_next.T @ delta_next * sigmoid'(z)"
    assert check(lc.claim).verdict == "verified"


@pytest.mark.slow
def test_base_case_of_each_cost():
    for cost, act, claim in [("cross-entropy", "sigmoid", "delta[L] = a[L] - y"),
                             ("softmax-nll", "sigmoid", "delta[L] = a[L] - y"),
                             ("mse", "tanh", "delta[L] = (a[L] - y) * (1 - a[L] * a[L])")]:
        spec = NetworkSpec.build((3, 4, 2), act, cost, batch=2)
        assert check(local(claim, spec=spec).claim).verdict == "verified", cost


def test_average_cost_divides_the_base_case_by_the_batch():
    spec = NetworkSpec.build((3, 4, 2), "sigma", "mse", batch=3, average=True)
    assert check(local("delta[L] = (a[L] - y) * sigma'(z[L]) / N", spec=spec).claim).verdict == "verified"
    assert check(local("delta[L] = (a[L] - y) * sigma'(z[L])", spec=spec).claim).verdict == "refuted"


def test_depth_specific_and_far_references_are_not_expressible():
    with pytest.raises(NotExpressible, match="fixed distance"):
        local("grad(W[i,i+1]) = delta[2-i] * q[i]", "post")
    with pytest.raises(NotExpressible, match="fixed layer"):
        classify(parse_network_claim("grad(W[0,1]) = delta[2] * q[0]", "post"))
    with pytest.raises(NotExpressible, match="does not enter"):
        local("delta[l] = W[l+2].T @ delta[l+1] * sigma'(z[l])")


def test_gradient_written_through_the_next_layer():
    sig = NetworkSpec.build((3, 4, 4, 2), "sigmoid", "cross-entropy", batch=2)
    lc = local("grad(theta[l]) = (theta[l+1].T @ delta[l+1] * a[l] * (1 - a[l])) @ a[l-1].T", "answer", sig)
    assert lc.role == "lemma2" and "delta_next" in lc.claim.cost
    assert check(lc.claim).verdict == "verified"


# -- the lemma is about the network's batch ------------------------------------------------

ONE = NetworkSpec.build((3, 4, 4, 2), "sigma", "mse")          # batch 1


def test_a_batch_of_one_states_the_lemma_at_batch_one():
    lc = local("grad(b[l]) = delta[l]", spec=ONE)
    assert lc.batch == "1" and "delta:n,1" in lc.claim.shapes and "ones(1, 1)" in lc.claim.cost
    assert "nb" not in lc.claim.shapes and "nbatch" not in lc.claim.shapes
    assert check(lc.claim).verdict == "verified"
    assert check(local("grad(b[l]) = delta[l] @ ones(N, 1)", spec=ONE).claim).verdict == "verified"


def test_a_batch_of_several_states_the_lemma_at_a_generic_batch():
    lc = local("grad(b[l]) = delta[l]")
    assert lc.batch == "nb" and "delta:n,nb" in lc.claim.shapes
    assert check(lc.claim).verdict == "refuted"
    assert check(local("grad(b[l]) = delta[l] @ ones(N, 1)").claim).verdict == "verified"


def test_every_role_at_batch_one():
    cases = [("delta[L] = (a[L] - y) * sigma'(z[L])", "base"),
             ("delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])", "step"),
             ("grad(W[l]) = delta[l] @ a[l-1].T", "lemma"),
             ("grad(W[l]) = (W[l+1].T @ delta[l+1] * sigma'(z[l])) @ a[l-1].T", "lemma2")]
    for text, role in cases:
        lc = local(text, spec=ONE)
        assert lc.role == role and ",nb" not in lc.claim.shapes and "nb)" not in lc.claim.cost, text
        assert check(lc.claim).verdict == "verified", text


def test_an_average_over_one_example_divides_by_one():
    spec = NetworkSpec.build((3, 4, 2), "sigma", "mse", average=True)
    lc = local("delta[L] = (a[L] - y) * sigma'(z[L])", spec=spec)
    assert lc.claim.cost.endswith("/ 1") and check(lc.claim).verdict == "verified"
    assert check(local("delta[L] = (a[L] - y) * sigma'(z[L]) / N", spec=spec).claim).verdict == "verified"
