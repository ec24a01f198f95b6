"""The page of ``symbolic-bp serve`` in a real browser: the real server (a
``symbolic-bp serve --port 0`` process) and headless Chromium (the OS package,
/usr/bin/chromium) driven by Playwright.  Used by tests/test_browser.py, and
run as a script it takes the README's screenshot::

    .venv/bin/python -m tests.browser docs/serve.png

Nothing leaves the machine: every request the page makes to another address
is aborted and recorded (:func:`page_on`).
"""
from __future__ import annotations

import base64
import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# the wrong claim of the README's screenshot: a missing symmetrisation (the true gradient is (A + A.T) @ x)
WRONG = {"shapes": "A:n,n x:n", "cost": "x.T @ A @ x", "wrt": "x", "claim": "2 * A @ x"}


def missing() -> list[str]:
    """What the browser tests need and this machine lacks."""
    out = [] if os.path.exists(CHROMIUM) else [CHROMIUM]
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        out.append("the playwright package")
    return out


@contextlib.contextmanager
def serving() -> Iterator[str]:
    """``symbolic-bp serve --port 0`` in a process of its own; its URL."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "symbolic_bp", "serve", "--port", "0"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        found = re.search(r"serving on (http://127\.0\.0\.1:\d+/)", line)
        if not found:
            raise RuntimeError(f"symbolic-bp serve did not start: {line!r} {process.stderr.read()[:500]!r}")
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(30)


@contextlib.contextmanager
def chromium():
    """Headless Chromium (the OS package: Playwright downloads nothing)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def page_on(browser, url: str, outside: list[str], width: int = 1000, height: int = 900):
    """A page showing ``url``; a request it makes anywhere else is aborted and listed in ``outside``."""
    page = browser.new_page(viewport={"width": width, "height": height})

    def only_local(route):
        if route.request.url.startswith(url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()
    page.route("**/*", only_local)
    page.goto(url)
    page.locator("#examples optgroup option").first.wait_for(state="attached")      # the examples came
    return page


def check_on_page(page, claim: dict, timeout_ms: int = 120_000) -> None:
    """Type ``claim`` into the fields, press check, wait for the verdict."""
    for field, value in claim.items():
        page.fill(f"#{field}", value)
    page.click("#check")
    page.wait_for_selector("#result .sbp-result, #result .error", timeout=timeout_ms)


def distinct_colours(browser, png: bytes) -> int:
    """How many distinct colours a PNG holds, counted by the browser (a canvas of a blank page)."""
    page = browser.new_page()
    try:
        return page.evaluate("""async (data) => {
            const image = new Image();
            image.src = "data:image/png;base64," + data;
            await image.decode();
            const canvas = document.createElement("canvas");
            canvas.width = image.width; canvas.height = image.height;
            const context = canvas.getContext("2d");
            context.drawImage(image, 0, 0);
            const pixels = new Uint32Array(context.getImageData(0, 0, image.width, image.height).data.buffer);
            return new Set(pixels).size;
        }""", base64.b64encode(png).decode("ascii"))
    finally:
        page.close()


def main(argv: list[str]) -> int:
    """Write the screenshot of the page after a refuted check to ``argv[0]`` (default docs/serve.png)."""
    target = Path(argv[0] if argv else ROOT / "docs" / "serve.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    with serving() as url, chromium() as browser:
        outside: list[str] = []
        page = page_on(browser, url, outside, width=960, height=800)
        check_on_page(page, WRONG)
        bottom = page.evaluate("document.querySelector('#claim-section').getBoundingClientRect().bottom"
                               " + window.scrollY + 16")
        png = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": 960, "height": min(1400, bottom)})
        target.write_bytes(png)
        print(f"{target}: {len(png)} bytes, {distinct_colours(browser, png)} colours"
              + (f"; requests outside: {outside}" if outside else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
