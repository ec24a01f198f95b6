import pytest

from symbolic_bp.networks.convention import Index
from symbolic_bp.errors import InputError
from symbolic_bp.networks.network_claim import NotExpressible, instantiate, parse_network_claim


def test_lhs_and_refs():
    c = parse_network_claim("grad(W[l]) = delta[l] @ a[l-1].T", "nielsen")
    assert (c.lhs.kind, c.lhs.layer) == ("W", Index(var=1))
    assert sorted((r.kind, str(r.layer)) for r in c.refs.values()) == [("a", "l-1"), ("delta", "l")]
    assert sorted(c.written.values()) == ["a[l-1]", "delta[l]"]


def test_depth_in_ng_counts_the_input_layer():
    c = parse_network_claim("delta[L] = a[L] - y", "ng")
    assert c.lhs.layer == Index(depth=1)      # ng's L is canonical L + 1, its delta[L] canonical L


def test_indexed_functions_and_two_indices():
    c = parse_network_claim("delta[i] = W[L-i,L-i+1].T @ delta[i-1] * sigma[L-i]'(p[L-i])", "post")
    kinds = sorted(r.kind for r in c.refs.values())
    assert kinds == ["W", "delta", "f", "z"]


@pytest.mark.parametrize("text, message", [
    ("delta[l] W[l]", "one equation"),
    ("W[l] = a[l]", "left-hand side must be delta"),
    ("grad(z[l]) = a[l]", "parameters are W, b"),
    ("delta[l] = W[l+1.T", "column 13: unclosed"),
    ("delta[l] = W[k] @ a[l]", "column 14: 'k' in an index"),
    ("delta[l] = W[l+] @ a[l]", "ends with an operator"),
    ("delta[l] = W[l] @* a[l]", "expected an operand"),
    ("delta[l] = z[l](a[l])", "not a function"),
])
def test_bad_claims_name_the_column(text, message):
    with pytest.raises(InputError, match=message):
        parse_network_claim(text, "nielsen")


def test_instantiate_substitutes_quantities_functions_and_batch():
    c = parse_network_claim("grad(b[l]) = delta[l] @ ones(N, 1) / N", "nielsen")
    text = instantiate(c, lambda ref: f"{ref.kind}{ref.layer}", lambda ref: "tanh", "4", "nb")
    assert text == "deltal @ ones(nb, 1) / 4"


def test_instantiate_passes_on_not_expressible():
    c = parse_network_claim("delta[l] = W[l+2].T @ delta[l+1]", "nielsen")

    def quantity(ref):
        raise NotExpressible("no")
    with pytest.raises(NotExpressible):
        instantiate(c, quantity, lambda ref: "sigma", "1")


def test_a_name_that_is_no_function_of_the_network_is_invalid_with_one_reason_for_every_check():
    # issue 15: the induction check read y(...) as an opaque function while the unrolled and
    # numeric checks called y the labels; now the claim is read once, in the network's scope
    from symbolic_bp.networks.network import NetworkSpec
    from symbolic_bp.networks.network_check import check_network_claim
    spec = NetworkSpec.build((3, 4, 2), "sigmoid", "mse")
    r = check_network_claim(spec, "nielsen", "delta[l] = W[l+1].T @ delta[l+1] * y(z[l])")
    assert r.verdict == "invalid"
    assert r.error == ("claim: column 36: 'y' is not a function of this network (its activations: sigmoid; "
                       "or a registered elementwise function)")
    assert r.evidence == []                 # no check ran on a meaning of its own
    ok = check_network_claim(spec, "nielsen", "delta[l] = W[l+1].T @ delta[l+1] * sigmoid'(z[l])", deep=False)
    assert ok.verdict == "verified"


@pytest.mark.parametrize("text, message", [
    # the induction's local claim declares delta, a_prev, W_next...: it alone could type these
    ("grad(W[l]) = delta @ a[l-1].T", "claim: column 14: 'delta' needs its layer index, as in delta[l]"),
    ("grad(W[l]) = delta[l] @ a_prev.T", "claim: column 25: 'a_prev' is not a name of this network"),
    ("delta[l] = W_next.T @ delta[l+1] * sigma'(z[l])", "claim: column 12: 'W_next' is not a name of this network"),
    ("delta[l] = W[l+1].T @ delta2 * sigma'(z[l])", "claim: column 23: 'delta2' is not a name of this network"),
    ("delta[L] = (a[L] - y) * sigma", "claim: column 25: 'sigma' is a function: apply it, as in sigma(...)"),
    # a placeholder of the claim reader written by hand would read as the indexed name it stands for
    ("delta[L] = (a[L] - y) * sigma'(z[L]) + 0 * Q1__", "claim: column 44: 'Q1__' is a name the claim reader keeps"),
])
def test_a_plain_name_is_read_in_one_scope_by_every_check(text, message):
    from symbolic_bp.networks.network import NetworkSpec
    from symbolic_bp.networks.network_check import check_network_claim
    r = check_network_claim(NetworkSpec.build((3, 4, 2), "sigma", "mse", batch=2), "nielsen", text, deep=False)
    assert r.verdict == "invalid" and r.error.startswith(message), r.error
    assert r.evidence == []                 # no check ran on a meaning of its own


def test_the_data_batch_and_penalty_names_stay_in_scope():
    from symbolic_bp.networks.network import NetworkSpec
    from symbolic_bp.networks.network_check import check_network_claim
    spec = NetworkSpec.build((3, 4, 2), "sigma", "mse", batch=2, penalty="nielsen")
    r = check_network_claim(spec, "nielsen", "grad(W[l]) = delta[l] @ a[l-1].T + lambda / n * W[l] * N / n", deep=False)
    assert r.verdict == "verified", r.error
    rows = NetworkSpec.build((3, 4, 2), "sigma", "mse", batch=2)
    assert check_network_claim(rows, "rows", "delta[L] = (A[L] - Y) * sigma'(Z[L])", deep=False).verdict == "verified"
