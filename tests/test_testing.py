"""symbolic_bp.integrations.testing: the helpers users call from their own tests."""
import pytest

from symbolic_bp.integrations.testing import assert_gradient

SHAPES = "W:m,n a:n y:m"
COST = "1/2 * (sigmoid(W @ a) - y).T @ (sigmoid(W @ a) - y)"


def test_verified_returns_the_result():
    r = assert_gradient(COST, "W", "((sigmoid(W @ a) - y) * sigmoid'(W @ a)) @ a.T", SHAPES)
    assert r.verdict == "verified" and r.derived == "(sigmoid(W @ a) - y) * sigmoid'(W @ a) @ a.T"


def test_wrong_claim_raises_with_the_derivation_in_the_message():
    with pytest.raises(AssertionError) as e:
        assert_gradient(COST, "W", "(sigmoid(W @ a) - y) @ a.T", SHAPES)
    message = str(e.value)
    assert message.startswith("dC/dW = (sigmoid(W @ a) - y) @ a.T: expected verified, got refuted")
    assert "counterexample: at m=1,n=1" in message
    assert "diagnosis:   a missing factor sigmoid'(W @ a)" in message


def test_known_mistake_can_be_pinned_as_refuted():
    r = assert_gradient(COST, "W", "(sigmoid(W @ a) - y) @ a.T", SHAPES, expect="refuted")
    assert r.verdict == "refuted"
    with pytest.raises(AssertionError, match="expected refuted, got verified"):
        assert_gradient("y.T @ W @ a", "W", "y @ a.T", SHAPES, expect="refuted")


def test_invalid_input_is_an_assertion_with_the_reason():
    with pytest.raises(AssertionError, match=r"(?s)got invalid\n.*error:       claim: column 3: shape mismatch"):
        assert_gradient("y.T @ W @ a", "W", "y @ a", SHAPES)


def test_arguments_are_checked():
    with pytest.raises(TypeError, match="claim must be a string"):
        assert_gradient("y.T @ W @ a", "W", None, SHAPES)
    with pytest.raises(ValueError, match="expect must be one of"):
        assert_gradient("y.T @ W @ a", "W", "y @ a.T", SHAPES, expect="fine")


def test_network_claim_assertion():
    from symbolic_bp.networks.network import NetworkSpec
    from symbolic_bp.integrations.testing import assert_network_claim
    spec = NetworkSpec.build((3, 4, 2), "sigma", "mse")
    assert assert_network_claim(spec, "nielsen", "grad(W[l]) = delta[l] @ a[l-1].T", deep=False).verdict == "verified"
    with pytest.raises(AssertionError) as e:
        assert_network_claim(spec, "nielsen", "delta[l] = W[l+1].T @ delta[l+1]", deep=False)
    message = str(e.value)
    assert message.startswith("delta[l] = W[l+1].T @ delta[l+1]: expected verified, got refuted")
    assert "of delta[l] is claimed" in message and "diagnosis:   a missing factor sigma'" in message
    with pytest.raises(TypeError, match="spec must be a NetworkSpec"):
        assert_network_claim("3,4,2", "nielsen", "delta[l] = delta[l]")


# -- "did you mean": the corrected claim in the assertion message (issue 13) ----------------------------

@pytest.mark.parametrize("suggestion", ["((sigmoid(W @ a) - y) * sigmoid'(W @ a)) @ a.T", None])
def test_the_message_offers_the_corrected_claim(monkeypatch, suggestion):
    import dataclasses
    from symbolic_bp.derivations.derivation import Entry
    run = Entry.run
    monkeypatch.setattr(Entry, "run", lambda self, seconds, seed: dataclasses.replace(
        run(self, seconds, seed), suggestion=suggestion))
    with pytest.raises(AssertionError) as e:
        assert_gradient(COST, "W", "(sigmoid(W @ a) - y) @ a.T", SHAPES)
    lines = str(e.value).splitlines()
    fix = [f"  did you mean: dC/dW = {suggestion}   (verified)"] if suggestion else []
    at = next(i for i, line in enumerate(lines) if line.startswith("  diagnosis:   a missing factor sigmoid'(W @ a)"))
    assert lines[at + 1:] == fix          # the slip, then its repair, last
