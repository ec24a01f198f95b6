"""Index-notation proofs: the post's identities get a proof whose every line
passed the check; a line the check rejects is never part of a proof."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from symbolic_bp.rendering import index_form, proof
from symbolic_bp.checks.claim import Claim, prepare
from symbolic_bp.derivations.derivation import load
from symbolic_bp.language.printer import to_text
from symbolic_bp.rendering.proof import CheckedProof, Element, NoProof, Term, build, index_proof

ROOT = Path(__file__).resolve().parent.parent
DERIVATIONS = ROOT / "derivations"
IDENTITIES = load(DERIVATIONS / "post_III_matrix_identities.toml").entries
ACTIVATIONS = load(DERIVATIONS / "post_IV_activations.toml").entries


def _verified(entries):
    return [e for e in entries if e.expect == "verified"]


@pytest.mark.parametrize("entry", _verified(IDENTITIES), ids=lambda e: e.name)
def test_every_boxed_identity_of_section_III_has_a_checked_index_proof(entry):
    p = build(prepare(entry.claim))
    assert isinstance(p, CheckedProof), p
    rules = [line.rule for line in p.lines]
    assert rules[:2] == ["the cost", "entries of products and transposes"]
    assert "derivative of an entry" in rules and "Kronecker contraction" in rules
    assert "reassemble into matrix form" in rules
    # the proof ends in the claim exactly as the derivation file writes it
    assert to_text(p.lines[-1].body) == to_text(prepare(entry.claim).claim)
    assert p.checked_at == ({"m": 2, "n": 3}, {"m": 3, "n": 2}) or len(p.checked_at) == 2


@pytest.mark.parametrize("name", ["boxed-y-sigma-Ax", "nested-dA-boxed", "nested-dB-boxed", "sanity-sigma1-identity"])
def test_section_IV_identities_with_activations_use_the_chain_rule(name):
    entry = next(e for e in ACTIVATIONS if e.name == name)
    p = build(prepare(entry.claim))
    assert isinstance(p, CheckedProof), p
    assert "chain rule" in p.lines[2].rule
    assert to_text(p.lines[-1].body) == to_text(prepare(entry.claim).claim)


def test_yAx_contracts_to_y_c_x_d():
    p = build(prepare(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "y @ x.T")))
    contracted = next(line for line in p.lines if line.rule == "Kronecker contraction").body
    assert contracted == [Term(Fraction(1), (Element("y", ("c", None)), Element("x", ("d", None))), ())]


def test_quadratic_form_collects_the_two_equal_terms_and_kills_the_half():
    p = build(prepare(Claim("A:m,n x:n", "1/2 * x.T @ A.T @ A @ x", "A", "A @ x @ x.T")))
    rules = [line.rule for line in p.lines]
    assert "differentiate: linearity, product rule" in rules
    before = p.lines[rules.index("Kronecker contraction")].body
    after = p.lines[rules.index("rename summed indices, collect equal terms")].body
    assert [t.coef for t in before] == [Fraction(1, 2), Fraction(1, 2)]
    assert [t.coef for t in after] == [Fraction(1)]


@pytest.mark.parametrize("claim, last_rule", [
    (Claim("A:n,n x:n", "x.T @ A @ x", "x", "(A + A.T) @ x"), "distributivity"),
    (Claim("s:scalar x:n y:n", "s * y.T @ x", "s", "y.T @ x"), "holds for every entry"),
    (Claim("A:m,n B:m,n", "tr(A.T @ B)", "A", "B"), "holds for every entry"),
    (Claim("A:m,n x:n", "sum(A @ x)", "x", "A.T @ ones(m, 1)"), "holds for every entry"),
    (Claim("A:m,n x:n y:m", "y.T @ sigmoid(A @ x)", "A", "(y * sigmoid'(A @ x)) @ x.T"), "holds for every entry"),
])
def test_vectors_scalars_traces_sums_and_known_functions(claim, last_rule):
    p = index_proof(claim)
    assert isinstance(p, CheckedProof), p
    assert last_rule in p.lines[-1].rule


def test_a_line_the_check_rejects_is_never_in_a_proof():
    prep = prepare(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "y @ x.T"))
    seen = []

    def reject_contraction(line):
        seen.append(line.rule)
        return line.rule != "Kronecker contraction"
    p = build(prep, check_line=reject_contraction)
    assert isinstance(p, NoProof)
    assert "line 5 (Kronecker contraction) did not pass the check" in p.reason
    assert seen[-1] == "Kronecker contraction"      # nothing after the rejected line was even considered


def test_a_wrong_line_is_caught_by_the_real_check_even_when_the_end_is_right(monkeypatch):
    # two bugs that cancel: the deltas are written with c and d swapped, and the
    # contraction swaps them back -- the proof still ends in the claim, but its
    # delta line is false, and the check must refuse to print the proof
    swap = {"c": "d", "d": "c"}
    real_kronecker, real_contract = proof.kronecker, index_form._contract_term
    monkeypatch.setattr(proof, "kronecker", lambda terms: [
        Term(t.coef, tuple(index_form._rename(f, swap) if isinstance(f, proof.Delta) else f for f in t.factors),
             t.summed)
        for t in real_kronecker(terms)])
    monkeypatch.setattr(index_form, "_contract_term", lambda t: (lambda out: Term(
        out.coef, tuple(index_form._rename(f, swap) for f in out.factors), out.summed))(real_contract(t)))
    p = build(prepare(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "y @ x.T")))
    assert isinstance(p, NoProof)
    assert p.reason == "line 4 (derivative of an entry) did not pass the check, so no proof is printed"


def test_a_false_rearrangement_is_caught_by_the_real_check(monkeypatch):
    # if the rearrangement step wrongly accepted a refuted claim, the last line fails the check
    monkeypatch.setattr(proof, "rearrangement_rule", lambda derived, claim: "associativity")
    p = build(prepare(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "x @ y.T")))
    assert isinstance(p, NoProof)
    p = build(prepare(Claim("A:m,n x:n", "1/2 * x.T @ A.T @ A @ x", "A", "A * (x.T @ x)")))
    assert isinstance(p, NoProof) and "did not pass the check" in p.reason


@pytest.mark.parametrize("entry", [e for e in IDENTITIES + ACTIVATIONS if e.expect == "refuted"], ids=lambda e: e.name)
def test_refuted_claims_never_get_a_proof(entry):
    assert isinstance(build(prepare(entry.claim)), NoProof)


def test_outside_the_prover_says_why():
    assert index_proof(Claim("A:n,n", "det(A)", "A", "det(A) * inv(A).T")).reason == \
        "det(...) has no index form (the index prover writes the cost entry by entry)"
    assert index_proof(Claim("A:n,n", "y.T @ A", "A", "A")).reason.startswith("invalid claim: cost:")


def test_budget_runs_out_gives_a_reason_not_a_proof():
    p = index_proof(Claim("A:m,n x:n y:m", "y.T @ A @ x", "A", "y @ x.T"), seconds=0.001)
    assert isinstance(p, NoProof) and "time budget" in p.reason


def test_index_proof_checks_its_input():
    with pytest.raises(TypeError):
        index_proof("y.T @ A @ x")


@pytest.mark.slow
def test_the_linear_network_gradients_are_proved_with_rational_points():
    entries = load(DERIVATIONS / "post_III_linear_network.toml").entries
    entry = next(e for e in entries if e.name == "dW01-boxed")
    p = index_proof(entry.claim)
    assert isinstance(p, CheckedProof), p
    assert p.hybrid                       # 4 dimensions: the other symbols are exact random rationals
    assert "distributivity" in p.lines[-1].rule


def test_local_step_of_a_network_with_bias_ones_and_a_known_activation():
    # the induction step of the delta recursion: a matrix variable z (a batch),
    # ones(1, nb), Hadamard products of matrices, sigmoid' in closed form
    claim = Claim("z:n,nb W_next:p,n delta_next:p,nb b_next:p",
                  "sum(delta_next * (W_next @ sigmoid(z) + b_next @ ones(1, nb)))", "z",
                  "W_next.T @ delta_next * sigmoid(z) * (1 - sigmoid(z))")
    p = index_proof(claim)
    assert isinstance(p, CheckedProof), p
    rules = [line.rule for line in p.lines]
    assert "derivatives of known functions: sigmoid' = sigmoid (1 - sigmoid)" in rules
    assert "commutativity of the Hadamard product" in rules[-1] or "associativity" in rules[-1]
    reassembled = p.lines[rules.index("reassemble into matrix form")].body
    assert to_text(reassembled) == "W_next.T @ delta_next * sigmoid'(z)"


def test_known_derivatives_in_closed_form():
    from symbolic_bp.language.parser import parse
    node, used = proof.known_derivatives(parse("softplus'(z) - y + tanh'(z)"))
    assert to_text(node) == "sigmoid(z) - y + (1 - tanh(z) * tanh(z))"
    assert used == ["softplus' = sigmoid", "tanh' = 1 - tanh^2"]
    assert proof.known_derivatives(parse("sigma'(z)"))[1] == []          # opaque: no closed form


# -- the NumPy dialect --------------------------------------------------------------------------------

@pytest.mark.parametrize("claim, rule", [
    # a row broadcast over the batch: entry (0, c) of the bias; the gradient sums down the rows
    (Claim("X:4,3 W:3,5 b:1,5 dY:4,5", "np.sum(dY * (X @ W + b))", "b", "dY.sum(axis=0, keepdims=True)"),
     "sums along an axis as products with ones"),
    (Claim("X:4,3 W:3,5 b:1,5 dY:4,5", "np.sum(dY * (X @ W + b))", "W", "X.T @ dY"), "holds for every entry"),
    (Claim("X:n,k c:n,1 dY:n,k", "np.sum(dY * (X + c))", "c", "dY.sum(axis=1, keepdims=True)"),
     "sums along an axis as products with ones"),
    # a size as a number, and the mean along an axis broadcast back
    (Claim("X:N,D W:D,K Y:N,K", "np.sum(Y * (X @ W)) / N", "W", "X.T @ Y / N"), "quotients as powers"),
    (Claim("X:N,D dY:N,D", "np.sum(dY * (X - X.mean(axis=0)))", "X", "dY - dY.mean(axis=0)"),
     "broadcasting as a product with ones"),
    # entrywise division and powers (integer: a product of entries; any other: the power rule)
    (Claim("A:m,n B:m,n", "np.sum(A / B)", "A", "1 / B"), "quotients as powers"),
    (Claim("A:m,n B:m,n", "np.sum(A / B)", "B", "-A / B**2"), "powers of powers"),
    (Claim("X:m,n", "np.sum(X ** 3)", "X", "3 * X**2"), "associativity"),
    (Claim("X:m,n", "np.sum(X ** 0.5)", "X", "0.5 * X ** -0.5"), "holds for every entry"),
    (Claim("x:n s:scalar", "x.T @ x / s", "x", "2 * x / s"), "quotients as powers"),
    (Claim("X:N,D W:D,K Y:N,K", "np.sum((X @ W - Y)**2) / 2", "W", "X.T @ (X @ W - Y)"), "distributivity"),
    # the softmax Jacobian applied row by row: equal only entry by entry
    (Claim("S:3,4 dP:3,4", "np.sum(dP * softmax(S, axis=1))", "S",
           "softmax(S, axis=1) * (dP - np.sum(dP * softmax(S, axis=1), axis=1, keepdims=True))"),
     "the same entries in index notation"),
    (Claim("x:n", "np.sum(np.log(x))", "x", "1 / x"), "derivatives of known functions"),
])
def test_numpy_dialect_index_proofs(claim, rule):
    p = index_proof(claim)
    assert isinstance(p, CheckedProof), p
    assert rule in " ".join(line.rule for line in p.lines[-2:])


@pytest.mark.parametrize("claim, reason", [
    (Claim("X:4,3 W:3,5 b:1,5 dY:4,5", "np.sum(dY * np.maximum(0, X @ W + b))", "b",
           "(dY * ((X @ W + b) > 0)).sum(axis=0, keepdims=True)"),
     "the entrywise maximum maximum(...) has no index form"),
    (Claim("X:4,3 dY:4,3", "np.sum(dY * (X > 0) * X)", "X", "dY * (X > 0)"),
     "the comparison '>' (greater, an Iverson bracket [A > B]) has no index form"),
    (Claim("X:4,3", "np.sum(X.max(axis=0))", "X", "X == X.max(axis=0)"),
     "the reduction max(...) (the entry where the maximum is attained) has no index form"),
    # the claim rests on the rows of Y summing to 1, which the index prover does not use
    (Claim("Z:3,4 Y:3,4:onehot", "-np.sum(Y * log_softmax(Z, axis=1))", "Z", "softmax(Z, axis=1) - Y"),
     "the claim may rest on the declared property Y:onehot"),
])
def test_numpy_constructs_without_an_index_form_say_which(claim, reason):
    p = index_proof(claim)
    assert isinstance(p, NoProof) and reason in p.reason, p


def test_a_false_index_rearrangement_is_caught_by_the_real_check(monkeypatch):
    # if the comparison entry by entry wrongly accepted a wrong claim, its line fails the check
    monkeypatch.setattr(proof, "rearrangement_rule", lambda derived, claim: None)
    monkeypatch.setattr(proof, "same_entries", lambda *args: True)
    for claim in (Claim("A:m,n B:m,n", "np.sum(A / B)", "B", "A / B**2"),
                  Claim("S:3,4 dP:3,4", "np.sum(dP * np.tanh(S))", "S", "dP * (1 + np.tanh(S) ** 2)")):
        p = build(prepare(claim))
        assert isinstance(p, NoProof) and "did not pass the check" in p.reason, p


def test_the_line_check_decides_at_random_points_and_falls_back():
    import random
    import sympy as sp
    x = sp.Symbol("x")
    rng = random.Random(0)
    assert proof.same_at_points([sp.tanh(x) ** 2 + 1 / sp.cosh(x) ** 2], [sp.Integer(1)], rng) is True
    assert proof.same_at_points([sp.exp(x) * sp.exp(x)], [sp.exp(2 * x) + sp.Rational(1, 10 ** 30)], rng) is False
    assert proof.same_at_points([x ** 2 - 1], [(x - 1) * (x + 1)], rng) is True
    assert proof.same_at_points([sp.Function("f")(x)], [x], rng) is None        # unknown: zero_test decides


def test_dialect_costs_never_crash_the_prover():
    for claim in (Claim("X:3,2 B:3,2", "np.sum(X / np.maximum(B, 1))", "X", "1 / np.maximum(B, 1)"),
                  Claim("X:3,2", "np.sum(np.sqrt(X ** 2 + 1))", "X", "X / np.sqrt(X ** 2 + 1)"),
                  Claim("x:scalar y:scalar", "(x + (1.0 / (1 + np.exp(-y)))) * (1.0 / ((1.0 / (1 + np.exp(-x))) + "
                        "((x + y)**2)))", "x", "x"),
                  Claim("X:N,D", "np.sum(X.var(axis=0, ddof=1))", "X", "2 * (X - X.mean(axis=0)) / (N - 1)"),
                  Claim("X:3,2", "np.sum(X ** -1)", "X", "-X ** -2")):
        p = index_proof(claim, seconds=60)
        assert isinstance(p, (CheckedProof, NoProof))
        assert not isinstance(p, NoProof) or "could not be built" not in p.reason, p.reason
