"""HTML display of results: badges, MathML, counterexample matrices, escaping, fallbacks."""
import re
import xml.etree.ElementTree as ElementTree

import pytest

from symbolic_bp import Claim, check
from symbolic_bp.checks.result import Counterexample, Evidence, Result
from symbolic_bp.rendering import html as render
from symbolic_bp.rendering.html import result_html, results_table_html, tex_to_mathml

MATHML = "{http://www.w3.org/1998/Math/MathML}"


@pytest.fixture(scope="module")
def transposed():
    return check(Claim(shapes="A:m,n x:n y:m", cost="y.T @ A @ x", wrt="A", claim="x @ y.T"), seconds=60)


@pytest.fixture(scope="module")
def unsymmetrised():
    return check(Claim(shapes="S:n,n x:n", cost="x.T @ S @ x", wrt="x", claim="2 * S @ x"), seconds=60)


@pytest.fixture(scope="module")
def verified():
    return check(Claim(shapes="A:m,n x:n y:m", cost="y.T @ A @ x", wrt="A", claim="y @ x.T"), seconds=60)


def visible_text(page: str) -> str:
    """The text a reader sees outside <style> and <math>."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    page = re.sub(r"<math\b.*?</math>", "", page, flags=re.S)
    return re.sub(r"<[^>]+>", "", page)


def maths(page: str) -> list[ElementTree.Element]:
    return [ElementTree.fromstring(m) for m in re.findall(r"<math\b.*?</math>", page, flags=re.S)]


def test_verified_has_a_green_badge_and_mathml(verified):
    page = result_html(verified, "A")
    assert verified.verdict == "verified"
    assert page.startswith('<div class="sbp-result sbp-verified">') and page.endswith("</div>")
    assert '<span class="sbp-badge sbp-verified">verified</span>' in page
    assert ".sbp-badge.sbp-verified { background: #1a7f37; }" in page
    (claim, *_) = maths(page)
    assert claim.find(f".//{MATHML}mfrac") is not None             # dC/dA typeset
    assert [e.text for e in claim.iter(f"{MATHML}mi")][-3:] == ["y", "x", "T"]
    assert "\\frac" not in page and "\\partial" not in page
    assert "<details><summary>evidence</summary><ul><li>" in page
    assert "derivation</b> (derived)" in page


def test_refuted_with_a_differing_entry_shows_matrices_and_the_highlighted_entry(unsymmetrised):
    r = unsymmetrised
    ce = r.counterexample
    assert r.verdict == "refuted" and ce.entry is not None
    page = result_html(r, "x")
    assert '<div class="sbp-result sbp-refuted">' in page and "sbp-badge sbp-refuted" in page
    # each symbol's value as a matrix: S is n x n with n >= 1, x a column
    n = ce.sizes["n"]
    tables = [t for m in maths(page) for t in m.iter(f"{MATHML}mtable")]
    assert any(len(t) == n and all(len(row) == n for row in t) for t in tables) or n == 1
    # the claimed and the true gradient, each with the differing entry highlighted
    highlighted = re.findall(r'<mtd class="sbp-entry" mathbackground="#ffd33d">(.*?)</mtd>', page)
    assert len(highlighted) == 2
    i, j = ce.entry
    for label, value in (("claimed", ce.claimed), ("true", ce.true)):
        line = re.search(rf'<span class="sbp-label">{label}:</span>(<math.*?</math>)', page).group(1)
        rows = ElementTree.fromstring(line).find(f".//{MATHML}mtable")
        cell = rows[i - 1][j - 1]
        assert cell.get("class") == "sbp-entry"
        assert "".join(cell.itertext()) == value.replace("-", "\u2212")
        others = [c for k, row in enumerate(rows) for m, c in enumerate(row) if (k, m) != (i - 1, j - 1)]
        assert all(c.get("class") is None for c in others)
    assert f"entry ({i},{j}):" in visible_text(page)
    assert "diagnosis:" in page and "symmetri" in page
    assert "did you mean:" in page and "(verified)" in page
    assert r.suggestion == "(S + S.T) @ x"


def test_refuted_shape_mismatch_shows_values_diagnosis_and_suggestion(transposed):
    r = transposed
    assert r.verdict == "refuted" and r.suggestion == "y @ x.T" and r.counterexample.entry is None
    page = result_html(r, "A")
    text = visible_text(page)
    assert "the claim is a 2x1 matrix" in text and "the shape of A" in text
    assert "the claim is the true gradient transposed" in text
    suggestion = re.search(r"did you mean:</span>(<math.*?</math>)", page).group(1)
    assert [e.text for e in ElementTree.fromstring(suggestion).iter(f"{MATHML}mi")][-3:] == ["y", "x", "T"]
    assert "sbp-entry" not in page.replace(".sbp-entry {", "")
    values = re.search(r'<span class="sbp-values">(.*?)</span>', page).group(1)
    assert values.count("<math") == len(r.counterexample.values) == 3


def test_invalid_shows_the_error_line_and_the_claim_as_code():
    r = check(Claim(shapes="A:m,n x:n y:m", cost="y.T @ A @ x", wrt="A", claim="y @@ x.T"))
    page = result_html(r, "A")
    assert r.verdict == "invalid"
    assert '<div class="sbp-result sbp-invalid">' in page and "sbp-badge sbp-invalid" in page
    error = "claim: column 4: expected an operand, found &#x27;@&#x27;"
    assert f'<div class="sbp-line sbp-error-line">{error}</div>' in page
    assert "<code>y @@ x.T</code>" in page


def test_undecided_has_an_amber_badge():
    r = Result("undecided", claim="y @ x.T", error="the time budget of 1 s ran out during the exact check")
    page = result_html(r, "A")
    assert page.startswith('<div class="sbp-result sbp-undecided">')
    assert "sbp-badge sbp-undecided" in page and ".sbp-badge.sbp-undecided { background: #b35900; }" in page
    assert "the time budget of 1 s ran out" in visible_text(page)


def test_user_strings_are_escaped():
    r = Result("refuted", claim="<script>alert(1)</script>", diagnosis="<img src=x onerror=alert(1)>",
               error="<b>bold</b>", suggestion="<script>x</script>",
               evidence=[Evidence("exact<", "differ&", "<script>e</script>")],
               counterexample=Counterexample({"n<": 1}, {"x<y": [[1]]}, [1, 1], "<i>1</i>", "<u>2</u>"))
    page = result_html(r, "<A>")
    assert "<script" not in page and "<img" not in page and "<b>bold" not in page
    assert "<i>" not in page and "<u>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    for m in maths(page):          # what MathML there is, is MathML only
        assert all(e.tag.startswith(MATHML) for e in m.iter())
    table = results_table_html([("<script>label</script>", r)])
    assert "<script" not in table and "&lt;script&gt;label" in table


def test_unconvertible_latex_falls_back_to_the_escaped_text(monkeypatch):
    assert tex_to_mathml(r"\frac{1}{") is None
    assert tex_to_mathml(r"\notacommand x") is None           # latex2mathml would keep it as raw TeX
    assert tex_to_mathml(r"\text{<b>x</b>}") is None           # latex2mathml copies \text verbatim
    monkeypatch.setattr(render, "latex_of_text", lambda text, shapes=None: r"\begin{bmatrix} " + text)
    page = result_html(Result("verified", claim="a < b & c", derived="y @ x.T"), "A")
    assert "<code>a &lt; b &amp; c</code>" in page and "<code>y @ x.T</code>" in page
    assert "bmatrix" not in page and "\\begin" not in page


def test_a_counterexample_value_that_is_not_a_number_is_shown_as_text():
    ce = Counterexample({"n": 1}, {"x": [["oops"]]}, [1, 1], "3", "4")
    page = result_html(Result("refuted", claim="2 * x", counterexample=ce), "x")
    assert "<code>x = [[&#x27;oops&#x27;]]</code>" in page


def test_results_table_lists_each_claim_with_its_badge_and_result(verified, transposed):
    page = results_table_html([("eq. 1", verified), ("eq. 2", transposed, "A")])
    assert page.startswith('<div class="sbp-table"><style>')
    assert page.count("<tr>") == 2 and page.count("<style>") == 1
    rows = re.findall(r"<tr>(.*?)</tr>", page, flags=re.S)
    assert "eq. 1" in rows[0] and "sbp-badge sbp-verified" in rows[0] and "sbp-result sbp-verified" in rows[0]
    assert "eq. 2" in rows[1] and "sbp-badge sbp-refuted" in rows[1] and "did you mean:" in rows[1]
    assert all("<details><summary>" in row for row in rows)


def test_an_equality_line_is_shown_with_its_left_hand_side():
    r = Result("verified", claim="x.T @ x - 2 * y.T @ x + y.T @ y")
    page = result_html(r, lhs="(x - y).T @ (x - y)")
    (line, *_) = maths(page)
    assert line.find(f".//{MATHML}mfrac") is None              # no dC/dX: the previous line instead
    assert [e.text for e in line.iter(f"{MATHML}mi")][:2] == ["x", "y"]


def test_repr_html_is_result_html(verified):
    assert verified._repr_html_() == result_html(verified)
    assert "sbp-badge sbp-verified" in verified._repr_html_()


def test_a_non_result_is_refused():
    with pytest.raises(TypeError):
        result_html({"verdict": "verified"})


ALLOWED_TAGS = {"div", "span", "style", "code", "details", "summary", "ul", "li", "b", "table", "tr", "td"} | set(
    render.MATHML_TAGS)


def tags(page: str) -> set[str]:
    from html.parser import HTMLParser

    found = set()

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.add(tag)
            assert not any(name.startswith("on") or name in ("href", "src") for name, _ in attrs), (tag, attrs)

    Collect().feed(page)
    return found


OUR_TEX = r"\\(frac|partial|begin|end|text|texttt|left|right|mathrm|operatorname|odot|quad)\b"


def test_no_user_text_becomes_a_tag_or_an_attribute():
    from hypothesis import given, settings, strategies as st

    text = st.text(alphabet=st.sampled_from(list("<>&\"'=/\\{}$ _^xAS@.T0123 script onerror img\n")), max_size=40)

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(text, text, text)
    def render_it(claim, note, value):
        r = Result("refuted", claim=claim, derived=value, diagnosis=note, suggestion=claim, error=note,
                   evidence=[Evidence(note, note, value)],
                   counterexample=Counterexample({note: 1}, {value: [[1, 2]], "x": [[value]]}, [1, 2], value, claim))
        for page in (result_html(r, value), result_html(r, "x", lhs=claim), results_table_html([(note, r, value)])):
            assert tags(page) <= ALLOWED_TAGS
            assert not re.search(OUR_TEX, visible_text(page))      # none of the printer's TeX leaks

    render_it()


def test_values_written_as_json_text_and_odd_entries_still_render():
    ce = Counterexample({"n": 2}, {"x": "[[3], [2]]", "S": "[[1, 1], [3, -1]]"}, [2, 1], "5", "7")
    page = result_html(Result("refuted", claim="2 * S @ x", counterexample=ce), "x")
    rows = ElementTree.fromstring(re.search(r"true:</span>(<math.*?</math>)", page).group(1)).find(f".//{MATHML}mtable")
    assert [[c.get("class") for c in row] for row in rows] == [[None], ["sbp-entry"]]
    odd = Counterexample({"n": 2}, {"x": [[1]]}, ["a", None], "5", "7")
    assert "entry [&#x27;a&#x27;, None]: claimed 5, true 7" in result_html(Result("refuted", counterexample=odd), "x")
