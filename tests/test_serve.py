"""The web API of ``symbolic-bp serve`` (symbolic_bp/integrations/serve.py), through
Starlette's TestClient, and the command that serves it."""
import json
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

from symbolic_bp.integrations import serve
from symbolic_bp.integrations.cli import main

TestClient = serve.in_process_client

SEED = {"shapes": "A:m,n x:n y:m", "cost": "y.T @ A @ x", "wrt": "A", "claim": "x @ y.T"}
DOCUMENT = r"""# Notes

$$\boxed{C = y^T A x \implies \frac{\partial C}{\partial A} = y x^T}$$

$$\boxed{C = x^T A x \implies \frac{\partial C}{\partial x} = 2 A x}$$

$$\boxed{C = \unknowncommand{x}}$$
"""


@pytest.fixture(scope="module")
def client():
    with TestClient(serve.create_app(budget=60.0)) as c:
        yield c


def cli_json(capsys, claim: dict, *extra: str) -> str:
    """What ``symbolic-bp check ... --json`` prints for ``claim``."""
    main(["check", *(f"--{k}={v}" for k, v in claim.items()), "--json", *extra])
    return capsys.readouterr().out


@pytest.mark.parametrize("claim", [SEED, dict(SEED, claim="y @ x.T"), dict(SEED, claim="y @ (x.T"),
                                   {"shapes": "x:n S:n,n:symmetric", "cost": "x.T @ S @ x", "wrt": "x",
                                    "claim": "2 * S.T @ x"}])
def test_check_answers_what_the_cli_prints(client, capsys, claim):
    response = client.post("/api/check", json=claim)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == cli_json(capsys, claim)         # byte for byte: the same object, the same layout


def test_budget_and_seed_are_passed_on(client, capsys):
    response = client.post("/api/check", json=dict(SEED, claim="y @ x.T", budget=30, seed=7))
    assert response.text == cli_json(capsys, dict(SEED, claim="y @ x.T"), "--budget", "30", "--seed", "7")


def test_html_is_added_only_when_asked(client):
    plain = client.post("/api/check", json=SEED).json()
    rich = client.post("/api/check?html=1", json=SEED).json()
    assert "html" not in plain
    assert {k: v for k, v in rich.items() if k != "html"} == plain
    assert rich["html"].startswith('<div class="sbp-result sbp-refuted">')
    assert "<math" in rich["html"] and "did you mean" in rich["html"]


def test_a_slow_claim_is_stopped_by_the_budget_and_the_server_goes_on(client):
    hostile = {"shapes": "A:n,n x:n", "cost": "sum(exp(matrix_power(A, 40) @ x))", "wrt": "A",
               "claim": "A", "budget": 0.05}
    started = time.monotonic()
    data = client.post("/api/check", json=hostile).json()
    assert time.monotonic() - started < 20
    assert data["verdict"] == "undecided" and "time budget of 0.05 s" in data["error"]
    # and it still answers, a check included
    assert client.get("/api/examples").status_code == 200
    assert client.post("/api/check", json=dict(SEED, claim="y @ x.T")).json()["verdict"] == "verified"


def test_the_budget_a_request_asks_for_is_capped():
    app = serve.create_app(budget=0.05)
    # a claim whose checks take seconds (an inverse and a matrix power): 0.05 s never suffices
    heavy = {"shapes": "X:m,n", "cost": "tr(inv(X.T @ X + eye(n)) @ matrix_power(X.T @ X, 3))", "wrt": "X",
             "claim": "X", "budget": 1000}
    with TestClient(app) as c:
        data = c.post("/api/check", json=heavy).json()
    assert data["verdict"] == "undecided" and "time budget of 0.05 s" in data["error"]


@pytest.mark.parametrize("body, status, message", [
    ("{", 400, "the body is not JSON"),
    ("[1, 2]", 400, "must be a JSON object, got an array"),
    ('{"shapes": "x:n", "cost": "x.T @ x", "wrt": "x"}', 400, "missing key 'claim'"),
    ('{"shapes": "x:n", "cost": 3, "wrt": "x", "claim": "x"}', 400, "key 'cost' must be a string, got a number"),
    ('{"shapes": "x:n", "cost": "x.T @ x", "wrt": null, "claim": "x"}', 400, "key 'wrt' must be a string, got null"),
    ('{"shapes": "x:n", "cost": "x.T @ x", "wrt": "x", "claim": "x", "cots": "x"}', 400, "unknown key 'cots'"),
    ('{"shapes": "x:n", "cost": "x.T @ x", "wrt": "x", "claim": "x", "budget": -1}', 400, "key 'budget'"),
    ('{"shapes": "x:n", "cost": "x.T @ x", "wrt": "x", "claim": "x", "budget": "5"}', 400, "key 'budget'"),
    ('{"shapes": "x:n", "cost": "x.T @ x", "wrt": "x", "claim": "x", "seed": 1.5}', 400, "key 'seed'"),
    ('{"shapes": "x:n", "cost": "x.T @ x", "wrt": "x", "claim": "\\ud800"}', 400, "key 'claim' is not valid Unicode"),
    ("[" * 100_000 + "]" * 100_000, 413, "larger than 65536 bytes"),
    ("[" * 30_000 + "]" * 30_000, 400, "the body is not JSON"),
])
def test_bad_check_requests_get_a_one_line_json_error(client, body, status, message):
    response = client.post("/api/check", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    data = response.json()
    assert message in data["error"] and "\n" not in data["error"] and data["status"] == status


def test_a_body_without_a_length_is_cut_at_the_limit(client):
    chunks = (b'{"text": "' + b"x" * 1000 for _ in range(100))      # chunked: no Content-Length
    response = client.post("/api/check", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_only_json_bodies_are_read(client):
    response = client.post("/api/check", content=json.dumps(SEED), headers={"content-type": "text/plain"})
    assert response.status_code == 415 and "application/json" in response.json()["error"]


def test_extract_checks_every_claim_and_lists_what_was_not_translated(client):
    data = client.post("/api/extract", json={"text": DOCUMENT, "format": "md"}).json()
    verdicts = {c["claim"]: c["result"]["verdict"] for c in data["claims"]}
    assert verdicts == {"y @ x.T": "verified", "2 * A @ x": "refuted"}
    wrong = next(c for c in data["claims"] if c["claim"] == "2 * A @ x")
    assert wrong["wrt"] == "x" and wrong["line"] == 5 and wrong["result"]["counterexample"]
    [skipped] = data["skipped"]
    assert skipped["line"] == 7 and skipped["reason"] and "unknowncommand" in skipped["latex"]
    assert "html" not in data


def test_extract_of_latex_with_html(client):
    tex = "\\section{Linear}\n" r"\[ C = y^T A x \implies \frac{\partial C}{\partial A} = y x^T \]"
    data = client.post("/api/extract?html=1", json={"text": tex, "format": "tex"}).json()
    assert [c["result"]["verdict"] for c in data["claims"]] == ["verified"]
    assert data["claims"][0]["section"] == "Linear"
    assert data["html"].count("<tr>") == 1 and "sbp-verified" in data["html"]


@pytest.mark.parametrize("body, status, message", [
    ({"format": "md"}, 400, "missing key 'text'"),
    ({"text": "x", "format": "docx"}, 400, "key 'format' must be one of 'md', 'tex'"),
    ({"text": ["x"]}, 400, "key 'text' must be a string, got an array"),
    ({"text": "x" * (1024 * 1024)}, 413, "larger than 1048576 bytes"),
])
def test_bad_extract_requests(client, body, status, message):
    response = client.post("/api/extract", json=body)
    assert response.status_code == status and message in response.json()["error"]


def test_a_document_without_claims(client):
    data = client.post("/api/extract", json={"text": "no math here"}).json()
    assert data == {"format": "md", "claims": [], "skipped": []}


def test_examples_are_the_bundled_claims_and_check_as_expected(client):
    examples = client.get("/api/examples").json()["examples"]
    assert len(examples) > 50
    assert all(isinstance(e[k], str) and e[k] for e in examples for k in ("shapes", "cost", "wrt", "claim"))
    linear = next(e for e in examples if e["name"] == "linear-yAx")
    assert (linear["cost"], linear["wrt"], linear["claim"]) == ("y.T @ A @ x", "A", "y @ x.T")
    refuted = next(e for e in examples if e["expect"] == "refuted")
    body = {k: refuted[k] for k in ("shapes", "cost", "wrt", "claim")}
    assert client.post("/api/check", json=body).json()["verdict"] == "refuted"


def test_too_many_checks_at_once_get_503(monkeypatch):
    entered, release = threading.Event(), threading.Event()

    def slow_check(claim, seconds, seed):
        entered.set()
        release.wait(30)
        return serve.Result("undecided", claim.claim, error="released")
    monkeypatch.setattr(serve, "check_claim", slow_check)
    app = serve.create_app(max_checks=1)
    first = {}
    worker = threading.Thread(target=lambda: first.setdefault("r", TestClient(app).post("/api/check", json=SEED)))
    worker.start()
    try:
        assert entered.wait(30)
        busy = TestClient(app).post("/api/check", json=SEED)
        assert busy.status_code == 503 and "busy" in busy.json()["error"] and busy.headers["retry-after"]
    finally:
        release.set()
        worker.join(30)
    assert first["r"].status_code == 200
    assert TestClient(app).get("/api/examples").status_code == 200      # the slot is free again


def test_two_checks_at_once_both_answer():
    """Two requests check at the same time (each in its own forked worker), as two learners would."""
    app = serve.create_app(max_checks=2)
    claims = [dict(SEED, claim="y @ x.T"), {"shapes": "A:n,n x:n", "cost": "x.T @ A @ x", "wrt": "x",
                                            "claim": "2 * A @ x"}]
    answers = {}

    def post(i):
        answers[i] = TestClient(app).post("/api/check", json=claims[i]).json()["verdict"]
    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert answers == {0: "verified", 1: "refuted"}


def test_the_page_and_its_files(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for field, value in [("shapes", "A:m,n x:n y:m"), ("cost", "y.T @ A @ x"), ("wrt", "A"), ("claim", "x @ y.T")]:
        assert re.search(rf'id="{field}"[^>]*value="{re.escape(value)}"', page.text), field
    assert client.get("/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/style.css").headers["content-type"].startswith("text/css")
    for name in ("index.html", "app.js", "style.css"):         # nothing from the network: no CDN, no fonts
        assert not re.search(r"https?://", serve.WEB.joinpath(name).read_text()), name


def test_unknown_routes_and_methods_are_json_errors(client):
    assert client.get("/api/nothing").json() == {"error": "Not Found: GET /api/nothing", "status": 404}
    response = client.get("/api/check")
    assert response.status_code == 405 and response.json()["error"] == "Method Not Allowed: GET /api/check"


def test_other_host_names_are_refused(client):
    assert client.get("/api/examples", headers={"host": "attacker.example"}).status_code == 400


def test_serve_reports_a_port_in_use(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"symbolic-bp: error: cannot listen on 127.0.0.1:{port}: the port is in use"


@pytest.mark.slow
def test_serve_prints_its_url_and_answers():
    process = subprocess.Popen([sys.executable, "-m", "symbolic_bp", "serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = re.search(r"serving on (http://127\.0\.0\.1:\d+/)", line).group(1)
        import httpx
        response = httpx.post(url + "api/check", json=dict(SEED, claim="y @ x.T"), timeout=60)
        assert response.json()["verdict"] == "verified"
    finally:
        process.terminate()
        process.wait(30)


def test_serve_help_loads_neither_sympy_nor_numpy():
    p = subprocess.run([sys.executable, "-X", "importtime", "-m", "symbolic_bp", "serve", "--help"],
                       capture_output=True, text=True, timeout=120)
    names = {line.rsplit("|", 1)[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
    assert p.returncode == 0 and "--port" in p.stdout and "--budget" in p.stdout
    assert not names & {"sympy", "numpy"}


# -- the web API as an entry point of the fuzzer (symbolic_bp/integrations/fuzz.py) ---------------

def test_the_fuzzer_classifies_the_answers_of_the_api():
    import httpx

    from symbolic_bp.integrations.fuzz import classify_api

    def answer(status, data):
        return httpx.Response(status, json=data)
    assert classify_api(answer(400, {"error": "missing key 'cost'", "status": 400}))[0] == "rejected"
    assert classify_api(answer(400, {"error": "two\nlines", "status": 400}))[0] == "unclear"
    assert classify_api(httpx.Response(500, text="Internal Server Error"))[0] == "crashed"
    assert classify_api(answer(422, {"error": "reading the document took longer than 5 s"}))[0] == "stopped"
    invalid = serve.Result("invalid", "x +", error="claim: column 4: expected an operand").to_dict()
    bug = serve.Result("undecided", "x", error="internal error: KeyError").to_dict()
    assert classify_api(answer(200, invalid)) == ("rejected", invalid["error"])
    assert classify_api(answer(200, bug))[0] == "crashed"
    document = {"claims": [{"result": invalid}, {"result": bug}], "skipped": []}
    assert classify_api(answer(200, document), lambda d: [c["result"] for c in d["claims"]])[0] == "crashed"


@pytest.mark.slow
def test_the_fuzzer_sees_what_an_input_does_inside_the_server(tmp_path, monkeypatch):
    """Hostile input through the app: rejected cleanly; and were the server to evaluate
    its input, the fuzzer would see it (the checks run in the server's threads)."""
    from symbolic_bp.integrations import fuzz
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "p.txt").write_text('"open(\'PWNED\', \'w\')"\n"y @ (x.T"\n')
    [clean] = fuzz.run(examples=0, corpus=corpus, budget=5.0, only=["check (web API)"])
    assert clean.tried > 8 and clean.counts["rejected"] > 0 and not fuzz.failed([clean]), clean.problems

    def evaluating(claim, seconds, seed):          # what the server must never do
        try:
            eval(claim.claim)                       # noqa: S307 - the point of the test
        except Exception:
            pass
        return serve.Result("invalid", claim.claim, error="evaluated")
    monkeypatch.setattr(serve, "check_claim", evaluating)
    [caught] = fuzz.run(examples=0, corpus=corpus, budget=5.0, only=["check (web API)"])
    assert caught.counts["executed"] >= 1 and any("PWNED" in p for p in caught.problems), caught.problems
