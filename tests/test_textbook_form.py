"""The derived gradient in textbook form (issue 13, part 1).

The derived gradient is what a report prints as the right answer, so it should
read as a book writes it.  Measured on the bundled derivations: among the
items whose expected verdict is verified (and which state a cost, a variable
and a claim), the derived gradient is at most 20% longer, in tokens of the
claim language, than the published form (the item's claim) for at least 95%
of them.  Every rule of :mod:`symbolic_bp.calculus.simplify` and
:mod:`symbolic_bp.calculus.textbook` is also tested on its own, and the forms
are checked: they must be verified as claims.

Run as a program, this prints the figure for the working tree and for a git
revision (default ``HEAD``), measured on the same items::

    .venv/bin/python -m tests.test_textbook_form [REV]
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from symbolic_bp import Claim, check
from symbolic_bp.calculus.gradient import gradient
from symbolic_bp.calculus.simplify import simplify
from symbolic_bp.checks.claim import prepare
from symbolic_bp.checks.identity import check_equal
from symbolic_bp.core import registry
from symbolic_bp.derivations.derivation import discover, load
from symbolic_bp.language.parser import tokenize
from symbolic_bp.language.printer import to_text
from symbolic_bp.language.shapes import parse_declarations, parse_typed

ROOT = Path(__file__).resolve().parent.parent
DERIVATIONS = ROOT / "derivations"
SLACK = 1.2          # a derived gradient may be this much longer than the published form
TARGET = 0.95        # ... for this share of the true items


def tokens(text: str) -> int:
    """The length of a formula: the tokens of the claim language's tokenizer (a name, a
    number, an operator, ``.T``, a bracket, a comma each count 1; ``np.`` counts 2)."""
    return len(tokenize(text)) - 1          # the last token marks the end


def true_items(folder: Path = DERIVATIONS) -> list[tuple[str, Claim]]:
    """(file:name, claim) of every item of the derivation files whose expected verdict is
    verified and which states a cost, a variable and a claim (claims, gradient steps)."""
    out = []
    for path in discover([folder]):
        for entry in load(path).entries:
            claim = getattr(entry, "claim", None)
            if entry.expect == "verified" and isinstance(claim, Claim) and claim.cost and claim.wrt and claim.claim:
                out.append((f"{path.name}:{entry.name}", claim))
    return out


@dataclass(frozen=True)
class Measured:
    where: str
    claim: str
    derived: str

    @property
    def short(self) -> bool:
        """No longer than the published form plus the slack."""
        return tokens(self.derived) <= SLACK * tokens(self.claim)

    def line(self) -> str:
        return (f"{self.where}: {tokens(self.derived)} tokens, published {tokens(self.claim)}\n"
                f"    derived:   {self.derived}\n    published: {self.claim}")


def measure(items: list[tuple[str, Claim]]) -> list[Measured]:
    return [Measured(where, claim.claim, prepare(claim).derived_text) for where, claim in items]


def summary(rows: list[Measured]) -> str:
    short = sum(r.short for r in rows)
    return f"{short}/{len(rows)} = {short / len(rows):.1%} of the derived gradients within {SLACK - 1:.0%} of the published form"


# -- the measure --------------------------------------------------------------------------------

def test_tokens_are_those_of_the_claim_language():
    assert tokens("np.dot(A, B.T)") == 9          # np . dot ( A , B .T )
    assert tokens("A @ B") == 3 and tokens("") == 0


def test_true_items_are_the_verified_claims_with_a_cost():
    items = true_items()
    names = {where for where, _ in items}
    assert items and all(c.cost and c.wrt and c.claim for _, c in items)
    # the refuted claims of the files are left out, the verified ones kept
    assert "post_III_matrix_identities.toml:linear-yAx" in names
    assert "post_III_matrix_identities.toml:quadratic-guess-A-xTx" not in names


def test_derived_gradients_are_as_short_as_the_published_forms():
    rows = measure(true_items())
    offenders = [r for r in rows if not r.short]
    assert 1 - len(offenders) / len(rows) >= TARGET, \
        summary(rows) + "; the longer ones:\n" + "\n".join(r.line() for r in offenders)


@pytest.mark.slow
def test_the_textbook_form_of_every_true_item_is_verified():
    # the rules replace expressions by equal ones: what the report prints as the right answer holds
    wrong = []
    for where, claim in true_items():
        derived = prepare(claim).derived_text
        r = check(Claim(claim.shapes, claim.cost, claim.wrt, derived))
        if r.verdict != "verified":
            wrong.append(f"{where}: {r.verdict} {derived} ({r.error or r.diagnosis})")
    assert wrong == []


# -- the issue's examples come out as the book writes them --------------------------------------

EXAMPLES = [
    # shapes, cost, wrt, textbook forms (equivalent spellings)
    ("z:n y:n", "-(y.T @ log(exp(z)/sum(exp(z))))", "z", {"sum(y) * softmax(z) - y", "softmax(z) * sum(y) - y"}),
    ("z:n y:n:onehot", "-(y.T @ log(exp(z)/sum(exp(z))))", "z", {"softmax(z) - y"}),
    ("x:n", "norm(x)**2", "x", {"2 * x"}),
    ("X:3,3", "tr(kron(X, X))", "X", {"2 * tr(X) * eye(3)"}),
    ("X:n,n", "tr(X)**2", "X", {"2 * tr(X) * eye(n)"}),
    ("X:n,n", "tr(matrix_power(X, 3))", "X", {"3 * matrix_power(X, 2).T"}),
    ("X:n,n:invertible", "log(abs(det(X)))", "X", {"inv(X).T"}),
]


@pytest.mark.parametrize("shapes, cost, wrt, forms", EXAMPLES, ids=[c for _, c, _, _ in EXAMPLES])
def test_the_issue_examples_come_out_in_textbook_form(shapes, cost, wrt, forms):
    derived = prepare(Claim(shapes, cost, wrt, wrt)).derived_text
    assert derived in forms
    assert check(Claim(shapes, cost, wrt, derived)).verdict == "verified"


# -- each rule: the form, and the value (both checks of the identity) ----------------------------

RULES = [
    # shapes, expression, its simplified form
    # known derivatives in closed form (from the registry entries)
    ("x:n:positive", "log'(x) * x", "ones(n, 1)"),
    ("x:n", "exp'(x) - exp(x)", "0 * ones(n, 1)"),
    ("x:n:positive", "sqrt'(x) * sqrt(x)", "1/2 * ones(n, 1)"),
    ("x:n", "abs'(x) * x", "abs(x)"),
    ("x:n", "tanh'(x)", "1 - tanh(x)**2"),
    ("x:n", "sigmoid'(x)", "sigmoid'(x)"),
    # like terms, numbers, powers of 1 and cancellation
    ("A:m,n B:m,n", "A * B - B * A + 2 * A + A * 3", "5 * A"),
    ("s:scalar x:n", "s**1 * x", "s * x"),
    ("x:n", "x / norm(x) * norm(x)", "x"),
    ("x:n s:scalar", "s * x * x / (s * x)", "x"),
    ("x:n:positive", "1 / sqrt(x)**2", "1 / x"),
    ("x:n", "sign(x) * x", "abs(x)"),
    ("x:n", "sign(x) / abs(x)", "1 / x"),
    ("M:n,k:binary X:n,k", "M * M * X", "M * X"),
    ("X:n,k", "sign(X)**2 * abs(X)", "abs(X)"),
    ("s:scalar:binary X:n,k", "sign(s * X) * sign(s * X)", "sign(s * X)**2"),      # 0 where s = 0
    ("X:n,k", "sum(ones(n*k, n*k)) * X / (n * k)**2", "X"),
    # common factors
    ("x:n y:n s:scalar", "s * x + s * y", "s * (x + y)"),
    ("A:m,n X:n,k Y:n,k B:k,p", "A @ X @ B - A @ Y @ B", "A @ (X - Y) @ B"),
    # matrix products and powers
    ("X:n,n", "X @ X @ X", "matrix_power(X, 3)"),
    ("X:n,n", "X.T @ X.T + matrix_power(X, 2).T", "2 * matrix_power(X, 2).T"),
    ("X:n,n:invertible Y:n,n", "inv(X) @ X @ Y", "Y"),
    ("X:n,n:invertible", "matrix_power(X, 2) @ inv(X)", "X"),
    ("A:m,n x:n", "(2 * A) @ (3 * x)", "6 * A @ x"),
    # transposes to the leaves, symmetric declarations
    ("A:m,n X:n,k", "(A @ X).T", "X.T @ A.T"),
    ("S:n,n:symmetric x:n", "S.T @ x", "S @ x"),
    # reductions: linear, one-hot data, sums of ones
    ("X:n,k s:scalar", "sum(s * X)", "s * sum(X)"),
    ("X:n,k c:n", "sum(c * X, axis=1, keepdims=True)", "c * sum(X, axis=1, keepdims=True)"),
    ("X:n,k", "sum(X - sum(X, axis=1, keepdims=True) / k, axis=1, keepdims=True)", "0 * ones(n, 1)"),
    ("Y:n,k:onehot", "sum(Y, axis=1, keepdims=True)", "ones(n, 1)"),
    ("y:n:onehot", "sum(y)", "1"),
    ("X:n,k", "sum(ones(n, k), axis=0)", "n * ones(1, k)"),
    ("X:n,n s:scalar", "tr(s * X.T)", "s * tr(X)"),
    # a sum down the rows is a row either way: written 1-D, and 2-D again where NumPy reads 1-D otherwise
    ("Y:m,k", "sum(Y, axis=0, keepdims=True)", "sum(Y, axis=0)"),
    ("x:n Y:m,k", "x @ sum(Y, axis=0, keepdims=True)", "x @ sum(Y, axis=0, keepdims=True)"),
    ("Y:m,k", "sum(Y, axis=0, keepdims=True).T", "sum(Y.T, axis=1, keepdims=True)"),
    # the adjoints of kron folded back
    ("A:m,n C:p,q", "blocksum(kron(A, C), p, q)", "sum(C) * A"),
    ("A:m,n C:p,q", "tilesum(kron(A, C), m, n)", "sum(A) * C"),
    ("X:3,3", "blocksum(eye(9) * kron(ones(3, 3), X), 3, 3)", "tr(X) * eye(3)"),
    ("X:3,3", "tilesum(eye(9) * kron(X, ones(3, 3)), 3, 3)", "tr(X) * eye(3)"),
    ("A:2,3 H:6,6", "blocksum(kron(A, ones(3, 2)) * H, 3, 2)", "A * blocksum(H, 3, 2)"),
]


@pytest.mark.parametrize("shapes, text, form", RULES, ids=[t for _, t, _ in RULES])
def test_each_rule_gives_its_form_and_keeps_the_value(shapes, text, form):
    d = parse_declarations(shapes)
    tree = parse_typed(text, d)
    out = simplify(tree, d)
    assert to_text(out) == form
    assert out.shape == tree.shape
    assert simplify(out, d) == out                          # a normal form: simplifying again changes nothing
    r = check_equal(shapes, text, form)
    assert r.verdict == "verified", (r.error, r.diagnosis)


def test_a_division_by_zero_is_left_as_it_is():
    # undefined everywhere (the checks call it invalid): no rule may rewrite it into a value
    d = parse_declarations("x:n s:scalar")
    for text in ("x / (x - x)", "s / (s - s) * x", "(x - x)**-2"):
        out = simplify(parse_typed(text, d), d)
        assert any(type(n).__name__ in ("Div", "Call", "Pow") for n in out.walk()), (text, to_text(out))
        assert simplify(out, d) == out


def test_every_known_derivative_is_written_in_closed_form_unless_its_entry_keeps_the_prime():
    registry.operation("tr")                                # the tables are filled on first use
    for name, entry in registry.ELEMENTWISE.items():
        prop = ":positive" if entry.domain == "positive" else ""
        claim = Claim(f"x:n{prop}", f"sum({name}(x))", "x", "x")
        derived = prepare(claim).derived_text
        keeps = entry.derivative is None or entry.keeps_prime
        assert (f"{name}'" in derived) == keeps, (name, derived)
        assert check(Claim(claim.shapes, claim.cost, "x", derived)).verdict == "verified", (name, derived)


# -- the macros written back (display only) ---------------------------------------------------------

FOLDS = [
    # shapes, expression (simplified first), its textbook text
    ("z:n", "exp(z) / sum(exp(z))", "softmax(z)"),
    ("X:n,k", "exp(X) / sum(exp(X), axis=1, keepdims=True)", "softmax(X, axis=1)"),
    ("X:n,k G:n,k", "G * exp(X) / sum(exp(X), axis=0, keepdims=True)", "G * softmax(X, axis=0)"),
    ("X:n,k", "X - sum(X, axis=0) / n", "X - mean(X, axis=0)"),
    ("X:n,k", "sum((X - sum(X, axis=1, keepdims=True) / k)**2, axis=1, keepdims=True) / (k - 1)",
     "var(X, axis=1, ddof=1, keepdims=True)"),
    ("X:n,k", "sqrt(sum((X - sum(X) / (n * k))**2) / (n * k))", "std(X)"),
    ("X:n,k", "log(sum(exp(X), axis=1))", "logsumexp(X, axis=1)"),
    # a factor constant along a sum moves into it where it completes a macro there
    ("S:n,k P:n,k", "sum(P * exp(S), axis=1, keepdims=True) / sum(exp(S), axis=1, keepdims=True)",
     "sum(P * softmax(S, axis=1), axis=1, keepdims=True)"),
    # and nothing else is folded: a sum that is no mean stays a sum
    ("X:3,4", "2 * sum(X, axis=0)", "2 * sum(X, axis=0)"),
    ("X:n,k", "exp(X) / sum(exp(X))", "softmax(X)"),
    ("X:n,k", "exp(X) / sum(exp(2 * X), axis=1, keepdims=True)", "exp(X) / sum(exp(2 * X), axis=1, keepdims=True)"),
]


@pytest.mark.parametrize("shapes, text, form", FOLDS, ids=[t for _, t, _ in FOLDS])
def test_macros_are_written_back_where_their_definition_is(shapes, text, form):
    from symbolic_bp.calculus.textbook import textbook_text
    d = parse_declarations(shapes)
    assert textbook_text(simplify(parse_typed(text, d), d), d) == form
    assert check_equal(shapes, text, form).verdict == "verified"


def test_only_macros_marked_fold_are_written_back():
    registry.macro("mean")
    assert {m.name for m in registry.MACROS.values() if m.fold} == \
        {"mean", "var", "std", "softmax", "log_softmax", "logsumexp"}
    # ones_like is no fold: ones(n, k) stays as it is written
    from symbolic_bp.calculus.textbook import textbook_text
    d = parse_declarations("X:n,k")
    assert textbook_text(gradient(parse_typed("sum(X)", d), "X", d), d) == "ones(n, k)"


# -- the figure, before and after ---------------------------------------------------------------------

# run with the package of another revision (the measure imports only what every revision has)
_MEASURE_AT = """
import sys
sys.path[:0] = [{package!r}, {root!r}]
from tests.test_textbook_form import measure, summary, true_items
print(summary(measure(true_items())))
"""


def at_revision(revision: str) -> str:
    """The figure with the package of a git revision, on the working tree's derivations."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "symbolic_bp"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        out = subprocess.run([sys.executable, "-c", _MEASURE_AT.format(package=tmp, root=str(ROOT))],
                             capture_output=True, text=True, cwd=tmp, check=False)
        return out.stdout.strip() or out.stderr.strip().splitlines()[-1]


def main(argv: list[str]) -> None:
    revision = argv[0] if argv else "HEAD"
    rows = measure(true_items())
    print(f"before ({revision}): {at_revision(revision)}")
    print(f"after (working tree): {summary(rows)}")
    for r in rows:
        if not r.short:
            print(r.line())


if __name__ == "__main__":
    main(sys.argv[1:])
