"""The page of ``symbolic-bp serve`` in headless Chromium (tests/browser.py): a wrong
claim typed and checked, the counterexample and the slip shown, the math typeset
by the browser as MathML, a document checked, nothing fetched from the network.

Skipped when /usr/bin/chromium or the playwright package is missing, except
under CI=true, where that is a failure."""
import os

import pytest

from tests import browser

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium():
    lacking = browser.missing()
    if lacking:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {', '.join(lacking)} missing (the browser test must run in CI)")
        pytest.skip(f"{', '.join(lacking)} missing")
    with browser.chromium() as b:
        yield b


@pytest.fixture(scope="module")
def url():
    with browser.serving() as u:
        yield u


@pytest.fixture
def page(chromium, url):
    outside: list[str] = []
    p = browser.page_on(chromium, url, outside)
    yield p
    p.close()
    assert outside == [], f"the page asked the network for {outside}"


def test_a_wrong_claim_shows_the_counterexample_the_slip_and_typeset_math(chromium, page):
    assert page.input_value("#claim") == "x @ y.T"          # the seed example is filled in
    browser.check_on_page(page, browser.WRONG)
    result = page.locator("#result")
    text = result.inner_text()
    assert "refuted" in text and "counterexample at n=2" in text
    assert "claimed" in text and "true" in text and result.locator(".sbp-entry").count() == 2
    assert "missing symmetrisation" in text                     # the diagnosis
    assert "did you mean" in text and "(verified)" in text
    for raw in ("\\frac", "^{", "\\mathrm", "\\begin", "\\left"):
        assert raw not in text, raw
    # MathML laid out by Chromium: boxes of non-zero size, a fraction's numerator above its
    # denominator, a superscript raised above its base (flowed as text they would share a line)
    assert result.locator("math").count() >= 5
    box = result.locator("math").first.bounding_box()
    assert box["width"] > 0 and box["height"] > 0
    layout = result.evaluate("""(root) => {
        const rect = (e) => e.getBoundingClientRect();
        const frac = root.querySelector("mfrac"), sup = root.querySelector("msup");
        return {numerator: rect(frac.children[0]).bottom, denominator: rect(frac.children[1]).top,
                script: rect(sup.children[1]).bottom, base: rect(sup.children[0]).bottom};
    }""")
    assert layout["numerator"] <= layout["denominator"] + 1, layout
    assert layout["script"] < layout["base"], layout
    png = page.screenshot(full_page=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert browser.distinct_colours(chromium, png) > 50           # not blank: text, badges, highlights


def test_an_example_from_the_drop_down_fills_the_fields(page):
    value = page.locator("#examples optgroup option").first.get_attribute("value")
    page.select_option("#examples", value)
    assert page.input_value("#claim") and page.input_value("#claim") != "x @ y.T"
    assert page.inner_text("#wrt-echo") == page.input_value("#wrt").strip()


def test_invalid_input_shows_the_reason(page):
    browser.check_on_page(page, {"claim": "y @ (x.T"})
    text = page.inner_text("#result")
    assert "invalid" in text and "column" in text


def test_a_document_lists_each_claim_with_its_verdict(page):
    page.click("#check-document")                              # the document the page starts with
    page.wait_for_selector("#document-result .sbp-table, #document-result .error", timeout=120_000)
    rows = page.locator("#document-result .sbp-table tr")
    assert rows.count() == 2
    verdicts = [rows.nth(i).locator(".sbp-badge").first.inner_text() for i in range(2)]
    assert verdicts == ["verified", "refuted"]
