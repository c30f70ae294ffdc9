"""Issue 12, items 3, 11 (JSON nesting) and 17, and the security headers: sent to a real uvicorn server.

- a costly document is refused before validation runs, over HTTP and WebSocket, and documents are
  validated once;
- a body past PORTAL_MAX_BODY_BYTES is answered 413 before it is read whole (announced or chunked),
  a WebSocket message past it closes the connection with 1009;
- JSON nested 100,000 deep is BAD_USER_INPUT (HTTP 400), and a WebSocket closes normally (4400);
- every HTTP answer carries the security headers;
- the sandbox ledger answers only the staff of the organization whose charges they are.
"""
import asyncio
import json
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from live import ActivityClient, http_base, portal_serving, uvicorn_serving
from starlette.routing import Route
from test_payments import PAY, pay_input

from portal.schema import document_limits
from portal.schema.document_limits import MAX_DOCUMENT_BYTES, MAX_FRAGMENTS, MAX_SELECTIONS
from portal.web.app import PortalApp

LIMIT = 1024 * 1024  # PORTAL_MAX_BODY_BYTES by default
DEEP = 100_000
VIEWER = "{ viewer { __typename } }"
INVOICE_PDF_URL = "query($id: ID!) { node(id: $id) { ... on Invoice { pdfUrl } } }"


@pytest.fixture(scope="module")
async def server(app):
    async with uvicorn_serving(app) as url:
        yield url


def fragments_document(count: int) -> str:
    """About 20 KB with 300 fragments: under the token limit, and over a second to validate unchecked."""
    spreads = " ".join(f"...F{number}" for number in range(count))
    definitions = "\n".join(f"fragment F{number} on Invoice {{ id number status total balanceDue }}"
                            for number in range(count))
    return f"# {uuid.uuid4()}\nquery {{ invoices {{ edges {{ node {{ {spreads} }} }} }} }}\n{definitions}"


@pytest.fixture
def validations(monkeypatch) -> list[str]:
    """The documents validated while the test runs."""
    validated: list[str] = []
    original = document_limits.validate_document

    def counting(schema, document, rules):
        validated.append(document.loc.source.body if document.loc else "")
        return original(schema, document, rules)

    monkeypatch.setattr(document_limits, "validate_document", counting)
    return validated


async def post(server: str, body: object, token: str | None = None, **options) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=http_base(server), timeout=30) as http:
        if isinstance(body, (bytes, str)):
            return await http.post("/graphql", content=body, headers={"Content-Type": "application/json", **headers},
                                   **options)
        return await http.post("/graphql", json=body, headers=headers, **options)


def the_error(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    [error] = response.json()["errors"]
    return error


# ---------------------------------------------------------------- item 3: validation cost


async def test_a_document_of_300_fragments_is_refused_before_validation(server, business, validations):
    document = fragments_document(300)
    assert 15_000 < len(document) < MAX_DOCUMENT_BYTES

    error = the_error(await post(server, {"query": document}, business.staff.token))

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["limit"] == "fragments"
    assert f"at most {MAX_FRAGMENTS}" in error["message"]
    assert validations == []  # refused before validation ran


async def test_too_many_selections_or_bytes_are_refused_before_validation(server, business, validations):
    many_fields = "{ " + "__typename " * (MAX_SELECTIONS + 1) + "}"
    padded = f"{VIEWER}\n# {'x' * MAX_DOCUMENT_BYTES}"

    selections = the_error(await post(server, {"query": many_fields}, business.staff.token))
    size = the_error(await post(server, {"query": padded}, business.staff.token))

    assert (selections["extensions"]["code"], selections["extensions"]["limit"]) == ("BAD_USER_INPUT", "selections")
    assert (size["extensions"]["code"], size["extensions"]["limit"]) == ("BAD_USER_INPUT", "documentBytes")
    assert validations == []


async def test_a_document_is_validated_once_however_often_it_comes(server, business, validations):
    document = f"# {uuid.uuid4()}\n{{ organization {{ name }} }}"

    answers = [await post(server, {"query": document}, business.staff.token) for _ in range(3)]

    names = [answer.json()["data"]["organization"]["name"] for answer in answers]
    assert names == [f"Business {business.portal_name}"] * 3
    assert validations.count(document) == 1


async def test_over_the_websocket_a_costly_document_is_an_error_and_the_connection_stays(server, business,
                                                                                         validations):
    async with ActivityClient.connected(server, business.staff.token) as client:
        refused = await client.subscribe("subscription " + fragments_document(300).partition("query ")[2])
        error = await client.receive()
        await client.subscribe()  # the connection serves on: the portalActivity subscription is live
        assert await client.nothing_more(0.5)

    assert error["type"] == "error" and error["id"] == refused
    assert error["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["payload"][0]["extensions"]["limit"] == "fragments"
    assert all("fragment F299" not in document for document in validations)


# ---------------------------------------------------------------- item 3: request bodies


async def raw_request(server: str, head: str, body_chunks, *, max_send: int) -> tuple[bytes, int]:
    """Sends `head` and then the chunks (until `max_send` bytes or the server closes); the answer and the bytes
    sent."""
    address = urlsplit(server)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    sent = 0

    async def send_body() -> None:
        nonlocal sent
        try:
            for chunk in body_chunks:
                if sent >= max_send:
                    return
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)
        except (ConnectionError, OSError):
            pass  # the server answered and closed: nothing more is read

    writer.write(head.encode())
    sending = asyncio.create_task(send_body())
    try:
        answer = await asyncio.wait_for(reader.read(65536), 30)
    finally:
        sending.cancel()
        writer.close()
    return answer, sent


def status_and_headers(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


async def test_an_80_mb_body_is_refused_with_413_before_it_is_read(server):
    head = ("POST /graphql HTTP/1.1\r\nHost: portal.test\r\nContent-Type: application/json\r\n"
            f"Content-Length: {80 * 1024 * 1024}\r\n\r\n")
    chunks = (b" " * 65536 for _ in range(80 * 16))

    answer, sent = await raw_request(server, head, chunks, max_send=80 * 1024 * 1024)

    status, headers, body = status_and_headers(answer)
    assert status == 413
    assert headers["connection"] == "close"
    assert json.loads(body)["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert sent < 40 * 1024 * 1024  # answered long before the body was through


async def test_a_chunked_body_is_cut_off_at_the_limit(server):
    head = ("POST /graphql HTTP/1.1\r\nHost: portal.test\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    chunk = b" " * 65536
    chunks = (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(80 * 16))

    answer, sent = await raw_request(server, head, chunks, max_send=80 * 1024 * 1024)

    status, _, body = status_and_headers(answer)
    assert status == 413, answer[:300]
    assert json.loads(body)["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert sent < 40 * 1024 * 1024


async def test_a_body_at_the_limit_is_read_and_one_byte_more_is_not(server, business):
    query = json.dumps({"query": VIEWER})
    at_limit = query[:-1] + " " * (LIMIT - len(query)) + "}"

    accepted = await post(server, at_limit, business.staff.token)
    refused = await post(server, at_limit + " ", business.staff.token)

    assert accepted.json() == {"data": {"viewer": {"__typename": "StaffUser"}}}
    assert the_error(refused, 413)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_websocket_message_past_the_limit_closes_with_1009(server, business):
    async with ActivityClient.connected(server, business.staff.token) as client:
        await client.socket.send(json.dumps({"id": "1", "type": "subscribe",
                                             "payload": {"query": VIEWER, "padding": "x" * LIMIT}}))
        assert await client.close_code() == 1009


async def test_portal_serve_takes_its_limit_from_the_setting(database_url, business, tmp_path):
    environment = {"PORTAL_DATABASE_URL": database_url, "PORTAL_MAIL_DIR": str(tmp_path),
                   "PORTAL_MAX_BODY_BYTES": "65536"}
    query = json.dumps({"query": VIEWER})

    async with portal_serving(environment, log_dir=tmp_path) as (served,):
        fits = await post(served.ws_url, query[:-1] + " " * (65536 - len(query)) + "}", business.staff.token)
        too_large = await post(served.ws_url, " " * 65537, business.staff.token)
        async with ActivityClient.connected(served.ws_url, business.staff.token) as client:
            await client.socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": VIEWER, "padding": "x" * 65536}}))
            closed_with = await client.close_code()

    assert fits.json() == {"data": {"viewer": {"__typename": "StaffUser"}}}
    assert the_error(too_large, 413)["extensions"]["code"] == "BAD_USER_INPUT"
    assert closed_with == 1009


# ---------------------------------------------------------------- item 11: JSON nesting


async def test_json_nested_100000_deep_is_bad_user_input_not_500(server, business):
    deep_array = "[" * DEEP + "]" * DEEP
    deep_variables = '{"query": "{ viewer { __typename } }", "variables": {"x": ' + deep_array + "}}"

    for body in ("[" * DEEP, deep_array, deep_variables):
        error = the_error(await post(server, body, business.staff.token), 400)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "nested deeper" in error["message"]
    async with httpx.AsyncClient(base_url=http_base(server)) as http:
        # A URL holds less: 2,000 levels, still far past the bound.
        deep_variables = '{"x": ' + "[" * 2000 + "]" * 2000 + "}"
        by_get = await http.get("/graphql", params={"query": VIEWER, "variables": deep_variables})
        card = await http.post("/sandbox-gateway/tokens", content=deep_array)
    assert the_error(by_get, 400)["extensions"]["code"] == "BAD_USER_INPUT"
    assert card.status_code == 400


async def test_json_nested_100000_deep_over_the_websocket_closes_it_cleanly(server, business):
    async with ActivityClient.connected(server, business.staff.token) as client:
        await client.socket.send("[" * DEEP)
        assert await client.close_code() == 4400
    async with ActivityClient.connected(server, business.staff.token) as client:
        await client.socket.send('{"id": "1", "type": "subscribe", "payload": {"query": "{ viewer { __typename } }", '
                                 '"variables": {"x": ' + "[" * DEEP + "]" * DEEP + "}}}")
        assert await client.close_code() == 4400


# ---------------------------------------------------------------- security headers


def assert_security_headers(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url} -> {response.status_code}"
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, where
    assert "connect-src 'self' ws://portal.test" in policy, where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("x-frame-options") == "DENY", where
    assert response.headers.get("referrer-policy") == "no-referrer", where


async def test_every_http_answer_carries_the_security_headers(server, business):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    pdf_path = urlsplit((await business.staff.data(INVOICE_PDF_URL, id=invoice["id"]))["node"]["pdfUrl"]).path
    staff = {"Authorization": f"Bearer {business.staff.token}"}
    async with httpx.AsyncClient(base_url=http_base(server), timeout=60) as http:
        answers = [
            await http.post("/graphql", json={"query": VIEWER}, headers=staff),
            await http.get("/graphql", params={"query": VIEWER}),
            await http.get("/graphql", params={"query": "mutation { logout }"}),  # 405
            await http.put("/graphql"),  # 405
            await http.options("/graphql", headers={"Origin": "http://portal.test",
                                                    "Access-Control-Request-Method": "POST"}),
            await http.options("/graphql", headers={"Origin": "http://evil.example",
                                                    "Access-Control-Request-Method": "POST"}),  # refused
            await http.post("/graphql", content=b"{", headers={"Content-Type": "application/json"}),  # 400
            await http.post("/graphql", content=b" " * (LIMIT + 1)),  # 413
            await http.get("/healthz"),
            await http.get("/readyz"),
            await http.get("/no/such/page"),
            await http.get(pdf_path, headers=staff),
            await http.get(pdf_path),  # 401
            await http.get("/pdf/nothing-here", headers=staff),  # 404
            await http.post("/sandbox-gateway/tokens", json={"number": "1"}),  # 400
            await http.get("/sandbox-gateway/charges"),  # 404
        ]
    statuses = {answer.status_code for answer in answers}
    assert {200, 400, 401, 404, 405, 413} <= statuses
    assert answers[11].headers["content-type"] == "application/pdf"
    for answer in answers:
        assert_security_headers(answer)


async def test_an_unexpected_500_carries_them_too():
    async def broken(request):
        raise RuntimeError("a bug")

    app = PortalApp(base_url="http://portal.test", routes=[Route("/broken", broken)])
    async with uvicorn_serving(app) as url, httpx.AsyncClient(base_url=http_base(url)) as http:
        answer = await http.get("/broken")

    assert answer.status_code == 500
    assert_security_headers(answer)


# ---------------------------------------------------------------- item 17: the sandbox ledger


async def test_the_ledger_answers_only_the_staff_of_the_organization_charged(server, business, other_business,
                                                                            mailbox):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], f"ledger@{business.portal_name}.example.com", mailbox)
    invoice = await business.invoice(customer["id"])
    paid = await portal.data(PAY, input=pay_input([invoice["id"]], token="tok_visa"))
    charge_id = paid["payInvoices"]["payment"]["reference"]

    async with httpx.AsyncClient(base_url=http_base(server)) as http:
        async def ledger(token: str | None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return await http.get("/sandbox-gateway/charges", headers=headers)

        own = await ledger(business.staff.token)
        rival = await ledger(other_business.staff.token)
        refused = [await ledger(portal.token), await ledger(None), await ledger("not-a-token"),
                   await ledger("x" * 43)]
        unknown_path = await http.get("/sandbox-gateway/no-such-thing")

    assert own.status_code == 200
    assert charge_id in [charge["id"] for charge in own.json()["charges"]]
    assert rival.status_code == 200
    assert charge_id not in [charge["id"] for charge in rival.json()["charges"]]
    for answer in refused:  # exactly what a path that does not exist answers
        assert (answer.status_code, answer.text) == (unknown_path.status_code, unknown_path.text) == (404, "Not Found")
