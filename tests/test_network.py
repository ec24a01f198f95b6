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
