import warnings

import numpy as np
import pytest

from symbolic_bp.networks.backprop import (backprop, cost, expected_shapes, finite_differences, from_convention,
                                  random_parameters, to_convention)
from symbolic_bp.networks.network import NetworkSpec

CONVENTIONS = ["nielsen", "answer", "ng", "post", "rows"]


@pytest.mark.parametrize("cost_name, act", [("mse", "tanh"), ("mse", "sigma"), ("cross-entropy", "softplus,sigmoid"),
                                            ("softmax-nll", "relu")])
@pytest.mark.parametrize("bias", [True, False])
def test_every_convention_matches_finite_differences(cost_name, act, bias):
    spec = NetworkSpec.build((3, 4, 2) if "," in act else (3, 4, 5, 2), act, cost_name, bias=bias, batch=3,
                             average=True)
    p = random_parameters(spec, seed=5)
    traces = [backprop(spec, p, c) for c in CONVENTIONS]
    for name in spec.parameters():
        fd = finite_differences(spec, p, name)
        for t in traces:
            g = t.canonical[f"d{name}"]
            assert np.max(np.abs(g - fd)) <= 1e-6 * max(1.0, np.max(np.abs(g)))


def test_layouts_round_trip_and_have_the_documented_shapes():
    spec = NetworkSpec.build((3, 4, 2), "sigmoid", batch=2)
    p = random_parameters(spec)
    for conv in CONVENTIONS:
        q = to_convention(spec, p, conv)
        assert {k: v.shape for k, v in q.items()} == expected_shapes(spec, conv)
        back = from_convention(spec, q, conv)
        assert all(np.array_equal(back[k], p[k]) for k in p)
    assert expected_shapes(spec, "ng")["Theta1"] == (4, 4) and "W01" in expected_shapes(spec, "post")
    rows = expected_shapes(spec, "rows")
    assert (rows["X"], rows["Y"], rows["W1"], rows["b1"]) == ((2, 3), (2, 2), (3, 4), (1, 4))


@pytest.mark.parametrize("penalty", ["ng", "nielsen", "goodfellow", "l2"])
@pytest.mark.parametrize("average", [True, False])
def test_every_convention_with_a_penalty_matches_finite_differences(penalty, average):
    spec = NetworkSpec.build((3, 4, 2), "tanh,sigmoid", "cross-entropy", batch=4, average=average, penalty=penalty)
    p = random_parameters(spec, seed=8)
    traces = [backprop(spec, p, c) for c in CONVENTIONS]
    for name in spec.parameters():
        fd = finite_differences(spec, p, name)
        for t in traces:
            g = t.canonical[f"d{name}"]
            assert np.max(np.abs(g - fd)) <= 1e-6 * max(1.0, np.max(np.abs(g))), (name, penalty)


@pytest.mark.parametrize("penalty, factor", [("ng", 1 / 8), ("nielsen", 1 / 8), ("goodfellow", 1 / 2), ("l2", 1.0)])
def test_the_penalty_is_added_to_the_cost_as_its_source_writes_it(penalty, factor):
    plain = NetworkSpec.build((3, 4, 2), "sigmoid", "mse", batch=4, average=True)
    spec = NetworkSpec.build((3, 4, 2), "sigmoid", "mse", batch=4, average=True, penalty=penalty)
    p = random_parameters(spec, seed=1)
    squares = np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2)          # the weights only, never the biases
    assert np.isclose(cost(spec, p) - cost(plain, p), factor * p["lambda"] * squares, rtol=1e-12)


def test_ng_backprop_is_his_loop_delta_per_example_and_D_with_the_1_over_m():
    spec = NetworkSpec.build((3, 4, 2), "sigmoid", "cross-entropy", batch=5, average=True, penalty="ng")
    p = random_parameters(spec, seed=4)
    ng = backprop(spec, p, "ng")
    q = to_convention(spec, p, "ng")
    # D(l) = Delta(l)/m + (lambda/m) Theta(l) outside the bias column: the bias column of D is the
    # averaged sum of delta, Ng's delta(L) = a(L) - y being the error of each example
    aL = ng.a[2]
    assert np.allclose(ng.grads["dTheta2"][:, :1], (aL - p["y"]).sum(axis=1, keepdims=True) / 5)
    assert np.allclose(ng.grads["dTheta2"][:, 1:] - ng.canonical["dW2"], 0)
    assert np.allclose(ng.delta[2], (aL - p["y"]) / 5)          # the trace keeps the canonical dC/dz
    assert q["lambda"] == p["lambda"]


def test_rows_backprop_is_the_transposed_column_one():
    spec = NetworkSpec.build((3, 4, 2), "relu,sigmoid", "softmax-nll", batch=5, average=True, penalty="l2")
    p = random_parameters(spec, seed=2)
    rows, cols = backprop(spec, p, "rows"), backprop(spec, p, "nielsen")
    assert rows.grads["dW1"].shape == (3, 4) and rows.grads["db1"].shape == (1, 4)
    for name in spec.parameters():
        assert np.allclose(rows.canonical[f"d{name}"], cols.canonical[f"d{name}"], rtol=1e-12, atol=1e-15)
    assert np.allclose(rows.delta[2], cols.delta[2])


def test_ng_keeps_the_bias_column_first_and_post_counts_from_the_output():
    spec = NetworkSpec.build((3, 4, 2), "sigmoid", batch=2)
    p = random_parameters(spec)
    nielsen, ng, post = (backprop(spec, p, c) for c in ("nielsen", "ng", "post"))
    assert np.allclose(ng.grads["dTheta1"][:, :1], nielsen.grads["db1"])
    assert np.allclose(post.grads["dW01"], nielsen.grads["dW1"])
    assert np.allclose(post.delta[2], nielsen.delta[2])


@pytest.mark.parametrize("act", ["sigmoid", "softplus"])
def test_stable_at_large_preactivations(act):
    spec = NetworkSpec.build((2, 3, 2), act, "cross-entropy" if act == "sigmoid" else "mse", batch=2)
    p = random_parameters(spec, seed=1)
    p["W1"] = np.full_like(p["W1"], 500.0)
    p["x"] = np.array([[1.0, -1.0], [1.0, -1.0]])          # z = +-1000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = backprop(spec, p)
        c = cost(spec, p)
    assert np.isfinite(c) and all(np.all(np.isfinite(g)) for g in t.grads.values())


def test_finite_differences_on_a_subset_leave_the_rest_nan():
    spec = NetworkSpec.build((3, 4, 2), "tanh")
    fd = finite_differences(spec, random_parameters(spec), "W1", entries=5, seed=2)
    assert np.sum(~np.isnan(fd)) == 5
