"""``symbolic-bp serve``: a local web page and its JSON API (a Starlette app).

=====================  =====================================================
route                  what it answers
=====================  =====================================================
``GET /``              the page (``symbolic_bp/data/web/``: no network, no CDN;
                       the math is MathML, typeset by the browser)
``POST /api/check``    ``{shapes, cost, wrt, claim, budget?, seed?}`` -> the
                       object ``symbolic-bp check --json`` prints, byte for
                       byte; ``?html=1`` adds ``"html"``: the notebook's HTML
``POST /api/extract``  ``{text, format?: "md" | "tex"}`` -> every claim of the
                       document with its result, and what was not translated
                       with the reason (``?html=1``: the results as a table);
                       422 when reading the document runs out of its budget
``GET /api/examples``  the claims of the bundled derivation files
=====================  =====================================================

Every check runs in a forked worker under a time budget and a memory cap
(:func:`~symbolic_bp.checks.checker.check` through
:func:`~symbolic_bp.checks.budget.run_with_budget`), off the event loop; the
budget a request asks for is capped by the server's, and at most
``max_checks`` requests check at once (the rest: 503).  A body over the size
limit is 413; one not sent as ``application/json``, 415 (which also keeps other
web sites' forms out); one that is not a JSON object of the keys above, 400 with
one line naming the key.  Only the Host names of this computer are answered (no
DNS rebinding).  Nothing in a request is evaluated.

>>> app = create_app(budget=5.0)
>>> sorted(r.path for r in app.routes)
['/', '/api/check', '/api/examples', '/api/extract', '/app.js', '/style.css']
>>> claim_request({"shapes": "x:n", "cost": "x.T @ x", "wrt": "x", "claim": "2 * x"}, 5.0)
(Claim(shapes='x:n', cost='x.T @ x', wrt='x', claim='2 * x'), 5.0, 0)
>>> claim_request({"shapes": "x:n", "cost": 3, "wrt": "x", "claim": "x"}, 5.0)
Traceback (most recent call last):
...
symbolic_bp.integrations.serve.RequestError: key 'cost' must be a string, got a number
"""
from __future__ import annotations

import difflib
import functools
import json
import math
import threading
import time
from importlib.resources import files

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..checks.budget import run_with_budget
from ..checks.claim import Claim
from ..checks.result import Result

MAX_SECONDS = 60.0            # the most any one check may take, whatever a request or --budget asks
MEMORY_MB = 2048              # memory cap of each check's worker
MAX_CHECKS = 2                # checks at once (the machine's cores); more -> 503
CHECK_BYTES = 64 * 1024       # largest body of /api/check
EXTRACT_BYTES = 1024 * 1024   # largest body of /api/extract
EXTRACT_SECONDS = 30.0        # reading a document (its checks have their own budgets)
DOCUMENT_SECONDS = 300.0      # all the checks of one document together
MAX_DOCUMENT_CLAIMS = 100     # claims of one document that are checked (the rest: undecided, said why)
MAX_SEED = 2**32 - 1          # as --seed
HOSTS = ("127.0.0.1", "localhost", "testserver")   # Host headers served (no DNS rebinding); testserver: TestClient

CLAIM_KEYS = ("shapes", "cost", "wrt", "claim")
CHECK_KEYS = CLAIM_KEYS + ("budget", "seed")
EXTRACT_KEYS = ("text", "format")
FORMATS = {"md": "document.md", "tex": "document.tex"}   # format -> the name the extractor is given

WEB = files("symbolic_bp").joinpath("data", "web")        # the page, shipped as package data
PAGES = {"/": ("index.html", "text/html; charset=utf-8"),
         "/app.js": ("app.js", "text/javascript; charset=utf-8"),
         "/style.css": ("style.css", "text/css; charset=utf-8")}
# the page loads only its own files; inline styles are allowed for the fragments of the HTML renderer
SECURITY_HEADERS = {"content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                               "img-src 'self' data:; object-src 'none'; base-uri 'none'",
                    "x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
                    "cache-control": "no-store"}


class RequestError(Exception):
    """A request the API refuses: ``status`` and a one-line message."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# -- reading requests ------------------------------------------------------------------------

def _kind(value) -> str:
    """What a JSON value is, as its reader would say it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {int: "a number", float: "a number", str: "a string", list: "an array", dict: "an object"}[type(value)]


def _keys(data, allowed: tuple[str, ...], required: tuple[str, ...]) -> None:
    if not isinstance(data, dict):
        raise RequestError(f"the body must be a JSON object, got {_kind(data)}")
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(allowed)})"
            raise RequestError(f"unknown key {key[:40]!r}{hint}")
    for key in required:
        if key not in data:
            raise RequestError(f"missing key {key!r}")


def _text(data: dict, key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise RequestError(f"key {key!r} must be a string, got {_kind(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:               # a lone surrogate ("\\ud800"): not text
        raise RequestError(f"key {key!r} is not valid Unicode text (a lone surrogate)") from None
    return value


def claim_request(data, budget: float) -> tuple[Claim, float, int]:
    """The claim, the budget (capped by ``budget``) and the seed a /api/check body asks for."""
    _keys(data, CHECK_KEYS, CLAIM_KEYS)
    claim = Claim(*(_text(data, key) for key in CLAIM_KEYS))
    seconds = data.get("budget", budget)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not math.isfinite(seconds) or seconds <= 0:
        raise RequestError(f"key 'budget' must be a positive number of seconds, got {json.dumps(seconds)[:40]}")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise RequestError(f"key 'seed' must be an integer in 0 .. {MAX_SEED}, got {json.dumps(seed)[:40]}")
    return claim, min(float(seconds), budget), seed


def document_request(data) -> tuple[str, str]:
    """The text and the format ("md" or "tex") a /api/extract body asks for."""
    _keys(data, EXTRACT_KEYS, ("text",))
    text = _text(data, "text")
    fmt = _text(data, "format") if "format" in data else "md"
    if fmt not in FORMATS:
        raise RequestError(f"key 'format' must be one of {', '.join(map(repr, FORMATS))}, got {fmt[:40]!r}")
    return text, fmt


async def _body(request: Request, limit: int):
    """The request's JSON, read up to ``limit`` bytes (413 beyond)."""
    too_large = RequestError(f"the request body is larger than {limit} bytes", 413)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":      # also what keeps other web sites' forms out (a CORS preflight)
        raise RequestError("the body must be sent as Content-Type: application/json", 415)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except RecursionError:
        raise RequestError("the body is not JSON: nested too deeply") from None
    except ValueError as e:              # JSONDecodeError, UnicodeDecodeError, a giant integer
        raise RequestError(f"the body is not JSON: {' '.join(str(e).split())[:200]}") from None


def _json(data, status: int = 200, headers: dict | None = None) -> Response:
    """``data`` as ``symbolic-bp check --json`` prints it (indented, keys sorted, one newline)."""
    body = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return Response(body, status, headers=headers, media_type="application/json")


def _error(message: str, status: int) -> Response:
    headers = {"retry-after": "5"} if status == 503 else None
    return _json({"error": message, "status": status}, status, headers)


# -- the work, off the event loop -----------------------------------------------------------

def _html_wanted(request: Request) -> bool:
    return request.query_params.get("html", "") in ("1", "true", "yes")


def _result_html(result: Result, wrt: str | None) -> str:
    from ..rendering.html import result_html       # imported on use: the API answers without it
    return result_html(result, wrt=wrt)


def check_claim(claim: Claim, seconds: float, seed: int) -> Result:
    """:func:`~symbolic_bp.checks.checker.check`, as ``symbolic-bp check`` runs it (a forked
    worker under the time budget and the memory cap)."""
    from ..checks.checker import check
    return check(claim, seconds=seconds, memory_mb=MEMORY_MB, seed=seed)


def _extract(text: str, fmt: str, seconds: float):
    """The document's claims, read in a forked worker under a budget (a hostile
    document cannot hold the server); an :class:`~symbolic_bp.derivations.extract.Extraction`."""
    from ..derivations.extract import extract_text
    outcome = run_with_budget(lambda progress: extract_text(text, FORMATS[fmt]),
                              seconds=seconds, memory_mb=MEMORY_MB)
    if outcome.status != "done":
        reason = {"timeout": f"reading the document took longer than {seconds:g} s",
                  "memory": f"reading the document hit the memory cap of {MEMORY_MB} MB"}
        raise RequestError(reason.get(outcome.status, f"reading the document failed ({outcome.status}: "
                                                      f"{' '.join(str(outcome.value).split())[:200]})"),
                           422 if outcome.status in reason else 500)
    return outcome.value


def check_document(text: str, fmt: str, seconds: float, html: bool) -> dict:
    """Every claim of the document with its result (checked as /api/check checks), and
    the formulas that were not translated, with the reason."""
    found = _extract(text, fmt, min(EXTRACT_SECONDS, seconds))
    deadline = time.monotonic() + DOCUMENT_SECONDS
    items, rows = [], []
    for index, item in enumerate(found.claims):
        left = deadline - time.monotonic()
        if index >= MAX_DOCUMENT_CLAIMS or left <= 0:
            why = (f"more than {MAX_DOCUMENT_CLAIMS} claims in one document" if index >= MAX_DOCUMENT_CLAIMS
                   else f"the document's time budget of {DOCUMENT_SECONDS:g} s ran out")
            result = Result("undecided", item.claim, error=f"not checked: {why}")
        else:
            result = check_claim(Claim(item.shapes, item.cost, item.wrt, item.claim), min(seconds, left), 0)
        items.append({"name": item.name, "line": item.line, "section": item.section, "latex": item.latex,
                      "boxed": item.boxed, "note": item.note, "shapes": item.shapes, "cost": item.cost,
                      "wrt": item.wrt, "claim": item.claim, "result": result.to_dict()})
        rows.append((f"{item.name} (line {item.line})", result))
    out = {"format": fmt, "claims": items,
           "skipped": [{"line": s.line, "latex": s.latex, "reason": s.reason} for s in found.skipped]}
    if html:
        from ..rendering.html import results_table_html
        out["html"] = results_table_html(rows) if rows else ""
    return out


def warm_up() -> None:
    """Load what the checks use (SymPy, NumPy, mpmath, flint: on first use) by deciding
    one fixed claim in this process, so that every forked worker starts with them
    loaded (the first check of a learner is as quick as the others), and read the examples."""
    from ..checks.checker import decide
    from ..checks.claim import prepare
    decide(prepare(Claim("A:m,n x:n y:m", "y.T @ tanh(A @ x)", "A", "y @ x.T")))
    examples()


@functools.lru_cache(maxsize=1)
def examples() -> list[dict]:
    """The claims of the bundled derivation files (the page's drop-down): plain
    gradient claims only, each with its file, title and expected verdict.

    >>> first = examples()[0]
    >>> sorted(first)
    ['claim', 'cost', 'expect', 'file', 'name', 'section', 'shapes', 'title', 'wrt']
    """
    from ..derivations.derivation import Entry, discover, load
    from ..errors import InputError
    from .options import bundled_derivations
    out = []
    for path in discover([bundled_derivations()]):
        try:
            derivation = load(path)
        except InputError:          # a file of another kind of item this build does not read: left out
            continue
        for entry in derivation.entries:
            if type(entry) is Entry:
                c = entry.claim
                out.append({"file": path.name, "title": derivation.title, "name": entry.name,
                            "section": entry.section, "shapes": c.shapes, "cost": c.cost, "wrt": c.wrt,
                            "claim": c.claim, "expect": entry.expect})
    return out


# -- the app ------------------------------------------------------------------------------------

def create_app(budget: float = MAX_SECONDS, max_checks: int = MAX_CHECKS,
               hosts: tuple[str, ...] | None = HOSTS) -> Starlette:
    """The ASGI app.  ``budget``: the most one check may take (capped at
    :data:`MAX_SECONDS`); ``max_checks``: requests that check at once;
    ``hosts``: the Host headers it answers (None: any)."""
    if not 0 < budget or not 0 < max_checks:
        raise ValueError(f"budget and max_checks must be positive, got {budget}, {max_checks}")
    budget = min(budget, MAX_SECONDS)
    slots = threading.BoundedSemaphore(max_checks)      # not an asyncio one: any event loop, any thread

    async def busy(work, *args):
        """``work(*args)`` in a thread, holding a slot; 503 when none is free."""
        if not slots.acquire(blocking=False):
            raise RequestError(f"the server is busy ({max_checks} checks running); try again in a few seconds",
                               503)
        try:
            return await run_in_threadpool(work, *args)
        finally:
            slots.release()

    async def api_check(request: Request) -> Response:
        claim, seconds, seed = claim_request(await _body(request, CHECK_BYTES), budget)
        result = await busy(check_claim, claim, seconds, seed)
        data = result.to_dict()
        if _html_wanted(request):
            data["html"] = await run_in_threadpool(_result_html, result, claim.wrt.strip())
        return _json(data)

    async def api_extract(request: Request) -> Response:
        text, fmt = document_request(await _body(request, EXTRACT_BYTES))
        return _json(await busy(check_document, text, fmt, budget, _html_wanted(request)))

    async def api_examples(request: Request) -> Response:
        return _json({"examples": await run_in_threadpool(examples)})

    async def page(request: Request) -> Response:
        name, media = PAGES[request.url.path]
        return Response(WEB.joinpath(name).read_bytes(), media_type=media, headers=SECURITY_HEADERS)

    def answered(endpoint):
        """The endpoint, with a refused request answered as JSON ``{error, status}``."""
        @functools.wraps(endpoint)
        async def run(request: Request) -> Response:
            try:
                return await endpoint(request)
            except RequestError as e:
                return _error(str(e), e.status)
        return run

    routes = [Route(path, page, methods=["GET"]) for path in PAGES]
    routes += [Route("/api/check", answered(api_check), methods=["POST"]),
               Route("/api/extract", answered(api_extract), methods=["POST"]),
               Route("/api/examples", answered(api_examples), methods=["GET"])]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))] if hosts else []

    async def http_error(request: Request, exc: HTTPException) -> Response:
        """404, 405 as the API's other errors: ``{error, status}``."""
        return _error(f"{exc.detail}: {request.method} {request.url.path[:100]}", exc.status_code)
    return Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: http_error})


def in_process_client(app: Starlette):
    """A client that calls ``app`` in this process, without a socket (the tests, the
    fuzzer): Starlette's TestClient.  Starlette >= 1.0 warns that it prefers the
    httpx2 package to httpx; both work, and the warning says nothing about the app."""
    import warnings
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient
    return TestClient(app)


app = create_app()
