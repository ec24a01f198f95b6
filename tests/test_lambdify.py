import warnings

import numpy as np
import pytest

from symbolic_bp.networks.backprop import backprop, random_parameters
from symbolic_bp.networks.lambdify import gradient_parts, lambdify_network
from symbolic_bp.networks.network import NetworkSpec


@pytest.mark.parametrize("cost, act", [("mse", "sigmoid"), ("mse", "tanh"), ("mse", "relu"), ("mse", "identity"),
                                       ("mse", "sigma"), ("mse", "softplus"), ("cross-entropy", "tanh,sigmoid"),
                                       ("softmax-nll", "sigmoid")])
@pytest.mark.parametrize("bias, average", [(True, False), (False, True)])
def test_lambdified_matches_handwritten_to_1e12(cost, act, bias, average):
    spec = NetworkSpec.build((3, 5, 4) if "," in act else (3, 5, 4, 2), act, cost, bias=bias, batch=4, average=average)
    p = random_parameters(spec, seed=11)
    g, h = lambdify_network(spec)(p), backprop(spec, p).grads
    for name in spec.parameters():
        assert np.max(np.abs(g[f"d{name}"] - h[f"d{name}"])) <= 1e-12 * np.max(np.abs(h[f"d{name}"]))


@pytest.mark.parametrize("penalty", ["ng", "nielsen", "goodfellow", "l2"])
def test_lambdified_with_a_penalty_matches_handwritten(penalty):
    spec = NetworkSpec.build((3, 5, 4, 2), "tanh", "mse", batch=4, average=True, penalty=penalty)
    p = random_parameters(spec, seed=5)
    net = lambdify_network(spec)
    assert "lambda_" in net.source            # lambda is a Python keyword: the generated code renames it
    g, h = net(p), backprop(spec, p).grads
    for name in spec.parameters():
        assert np.max(np.abs(g[f"d{name}"] - h[f"d{name}"])) <= 1e-12 * np.max(np.abs(h[f"d{name}"]))


def test_each_forward_quantity_is_computed_once():
    spec = NetworkSpec.build((3, 4, 4, 2), "sigmoid", "mse", batch=2)
    net = lambdify_network(spec)
    # one product W_k @ a_{k-1} per layer, one sigmoid per layer, whatever the number of gradients
    assert net.source.count("W2 @") == 1 and net.source.count("f_sigmoid_0(") == 3
    assert net.statements < net.tree_nodes / 3


def test_adjoints_are_summed_before_propagating():
    # two terms of the cost share the whole network: one backward pass, not two
    spec = NetworkSpec.build((3, 4, 2), "sigmoid", "softmax-nll", batch=2)
    decls, parts = gradient_parts(spec)
    assert all(len(p) == 1 for p in parts.values())
    assert lambdify_network(spec).source.count("W2.T") == 1


def test_large_preactivations_give_no_warning():
    spec = NetworkSpec.build((2, 3, 2), "softplus,sigmoid", "cross-entropy", batch=2)
    p = random_parameters(spec)
    p["W1"] = np.full_like(p["W1"], 500.0)
    p["x"] = np.array([[1.0, -1.0], [1.0, -1.0]])
    net = lambdify_network(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = net(p)
    assert all(np.all(np.isfinite(v)) for v in g.values())


def test_works_at_sizes_beyond_the_claim_language_limit():
    spec = NetworkSpec.build((40, 33, 3), "tanh", "mse", batch=5)
    p = random_parameters(spec)
    assert lambdify_network(spec)(p)["dW1"].shape == (33, 40)


def test_rejects_a_non_spec():
    with pytest.raises(TypeError):
        lambdify_network("784-10")


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5),
       act=st.sampled_from(["identity", "sigmoid", "tanh", "softplus", "sigma"]),
       cost=st.sampled_from(["mse", "softmax-nll"]), bias=st.booleans(), batch=st.integers(1, 4),
       seed=st.integers(0, 1000))
def test_lambdified_equals_handwritten_on_random_networks(sizes, act, cost, bias, batch, seed):
    spec = NetworkSpec.build(tuple(sizes), act, cost, bias=bias, batch=batch)
    p = random_parameters(spec, seed=seed)
    g, h = lambdify_network(spec)(p), backprop(spec, p).grads
    for name in spec.parameters():
        # relative, with a floor: a gradient that is exactly 0 (softmax over one
        # output) comes out as rounding noise of about 1e-17 on both paths
        scale = max(np.max(np.abs(h[f"d{name}"])), 1e-3)
        assert np.max(np.abs(g[f"d{name}"] - h[f"d{name}"])) <= 1e-12 * scale
