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
