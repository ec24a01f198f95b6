import mpmath
import pytest

from symbolic_bp.errors import InputError
from symbolic_bp.networks.network import NetworkSpec, apply_text
from symbolic_bp.language.shapes import parse_declarations, parse_typed


def test_build_one_activation_per_layer():
    spec = NetworkSpec.build((4, 5, 3), "relu")
    assert spec.activations == ("relu", "relu") and spec.depth == 2


def test_per_layer_opaque_and_input_activation():
    spec = NetworkSpec.build((2, 2, 2, 2), "sigma_l", input_activation="sigma_l")
    assert spec.activations == ("sigma_1", "sigma_2", "sigma_3") and spec.input_activation == "sigma_0"


@pytest.mark.parametrize("kwargs, message", [
    (dict(sizes=(3,), activation="relu"), "at least two"),
    (dict(sizes=(3, 0), activation="relu"), "between|from 1"),
    (dict(sizes=(3, 4, 2), activation="relu,relu,relu"), "3 activations for 2 layers"),
    (dict(sizes=(3, 2), activation="inv"), "matrix function"),
    (dict(sizes=(3, 2), activation="exp"), "not an activation"),
    (dict(sizes=(3, 2), activation="relu", cost="hinge"), "unknown cost"),
    (dict(sizes=(3, 2), activation="relu", cost="cross-entropy"), "sigmoid output"),
    (dict(sizes=(3, 2), activation="relu", batch=0), "batch"),
])
def test_bad_specs_are_one_line_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        NetworkSpec.build(**kwargs)


@pytest.mark.parametrize("cost", ["mse", "cross-entropy", "softmax-nll"])
@pytest.mark.parametrize("bias", [True, False])
def test_cost_text_typechecks_to_a_scalar(cost, bias):
    spec = NetworkSpec.build((3, 4, 2), "sigmoid", cost, bias=bias, batch=2, average=True)
    decls = parse_declarations(spec.declarations())
    tree = parse_typed(spec.cost_text(), decls)
    assert tree.shape[0].value({}) == 1 and tree.shape[1].value({}) == 1


def test_named_texts_use_dimension_names():
    from dataclasses import replace
    spec = replace(NetworkSpec.build((784, 10), "sigmoid", "softmax-nll"), named=True)
    assert "n0" in spec.declarations() and "784" not in spec.declarations()
    assert "ones(1, n1)" in spec.cost_text()


def test_softmax_output_is_written_column_by_column():
    assert apply_text("softmax", "z", 3) == "exp(z - ones(3, 1) @ log(ones(1, 3) @ exp(z)))"


def test_with_sizes_keeps_kind_of_network():
    spec = NetworkSpec.build((2, 3, 1), "tanh,sigmoid", "cross-entropy", batch=4)
    deep = spec.with_sizes((4, 5, 3, 6, 2))
    assert deep.activations == ("tanh", "tanh", "tanh", "sigmoid") and deep.batch == 4


@pytest.mark.parametrize("name, message", [
    ("y", "'y' names a quantity of the network"),         # was: InputError "'y' is declared twice" in lambdify
    ("x", "'x' names a quantity of the network"),
    ("W2", "'W2' names a quantity"),
    ("delta", "'delta' names a quantity"),                # the induction's local claim declares delta
    ("a_prev", "'a_prev' names a quantity"),
    ("lambda", "'lambda' names a quantity"),
    ("N", "'N' names a quantity"),
    ("np", "'np' is a module prefix"),
    ("True", "'True' is a keyword argument's value"),
    ("add", "'add' is NumPy's spelling of an operator"),
    ("tanh_", "'tanh_' is the name of the opaque stand-in for 'tanh'"),
])
def test_an_opaque_activation_named_like_a_quantity_of_the_network_is_refused(name, message):
    for activation, kwargs in ((name, {}), (f"relu,{name}", {}), ("sigmoid", {"input_activation": name})):
        with pytest.raises(InputError, match=message):
            NetworkSpec.build((2, 3, 1), activation, **kwargs)


@pytest.mark.parametrize("name", ["sigma", "g", "phi", "sigma_1", "f", "h2", "sigmoid"])
def test_an_activation_with_a_name_of_its_own_is_accepted(name):
    assert NetworkSpec.build((2, 3, 1), name).activations == (name, name)


def _declared_names(monkeypatch, spec, convention, claims):
    """Every name that the three checks of check_network_claim declare for ``claims``."""
    from symbolic_bp.checks.result import Result
    from symbolic_bp.networks import network_check
    seen = []
    real = network_check.parse_declarations

    def capture(text):
        seen.append(text)
        return real(text)

    def fake_check(claim, **kwargs):
        seen.append(claim.shapes)
        return Result("verified", claim.claim, evidence=[])
    monkeypatch.setattr(network_check, "parse_declarations", capture)
    monkeypatch.setattr(network_check, "check", fake_check)
    for text in claims:
        network_check.check_network_claim(spec, convention, text, own_network=True)
    names = set()
    for text in seen:
        d = parse_declarations(text)
        names |= set(d.symbols) | set(d.dims)
    return names


@pytest.mark.parametrize("convention, activation, penalty, claims", [
    ("nielsen", "sigma", "nielsen", ["delta[L] = (a[L] - y) * sigma'(z[L])",
                                     "delta[l] = W[l+1].T @ delta[l+1] * sigma'(z[l])",
                                     "grad(W[l]) = delta[l] @ a[l-1].T + lambda / n * W[l]",
                                     "grad(b[l]) = delta[l]"]),
    ("ng", "sigmoid", "ng", ["delta[l] = Theta[l].T @ delta[l+1] * g'(z[l])",
                             "grad(Theta[l]) = Delta[l] / m + lambda / m * Theta_reg[l]"]),
    ("rows", "relu", None, ["delta[l] = (delta[l+1] @ W[l+1].T) * sigma'(Z[l])",
                            "grad(b[l]) = ones(1, N) @ delta[l]"]),
])
def test_no_name_the_checks_declare_can_be_an_activation(monkeypatch, convention, activation, penalty, claims):
    # the names an opaque activation must not take are listed by hand in network.py: the
    # declarations the checks really make are the test of that list
    spec = NetworkSpec.build((2, 3, 2, 1), activation, "mse", batch=2, penalty=penalty)
    names = _declared_names(monkeypatch, spec, convention, claims)
    assert {"x", "y", "W1", "delta_next", "z2"} & names
    accepted = []
    for name in sorted(names):
        try:
            NetworkSpec.build((2, 3, 1), name)
            accepted.append(name)
        except InputError:
            pass
    assert accepted == []


def _s(t):
    return 1 / (1 + mpmath.exp(-t))          # 1 - s(t) is s(-t): no cancellation at 40 digits either


@pytest.mark.parametrize("name, order, exact", [
    ("sigmoid", 0, _s),
    ("sigmoid", 1, lambda t: _s(t) * _s(-t)),
    ("sigmoid", 2, lambda t: _s(t) * _s(-t) * (_s(-t) - _s(t))),
    ("sigmoid", 3, lambda t: _s(t) * _s(-t) * (1 - 6 * _s(t) * _s(-t))),
    ("tanh", 1, lambda t: mpmath.sech(t) ** 2),
    ("tanh", 2, lambda t: -2 * mpmath.tanh(t) * mpmath.sech(t) ** 2),
    ("tanh", 3, lambda t: -2 * mpmath.sech(t) ** 2 * (1 - 3 * mpmath.tanh(t) ** 2)),
    ("softplus", 0, lambda t: mpmath.log1p(mpmath.exp(t))),
    ("softplus", 1, _s),
])
def test_saturated_activations_keep_their_relative_precision(name, order, exact):
    # a saturated unit: sigmoid as 0.5 (1 + tanh(x/2)) lost its relative precision below x = -20,
    # sigmoid' as s (1 - s) and tanh' as 1 - tanh^2 were 0 above x = 37 and |x| = 19
    import numpy as np
    from symbolic_bp.networks.backprop import f
    xs = np.array([-700.0, -60.0, -40.0, -20.0, -3.0, -1e-9, 0.0, 1e-9, 0.5, 3.0, 20.0, 40.0, 60.0, 300.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got = f(name, order)(xs)
    with mpmath.workdps(40):
        want = np.array([float(exact(mpmath.mpf(x))) for x in xs])
    tiny = np.abs(want) < 1e-290                   # below float64's normal range (and the zeros)
    assert np.all(np.abs(got[tiny]) < 1e-280)
    rel = np.abs(got - want)[~tiny] / np.abs(want[~tiny])
    assert rel.max() < 1e-14, dict(zip(xs[~tiny], rel))
