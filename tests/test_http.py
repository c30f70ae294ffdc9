"""GraphQL over HTTP as clients use it: GET and POST, refusals in JSON, browser origins, what a bad token is told."""
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from factories import LOGIN, OWNER_PASSWORD, STAFF_LOGIN
from live import ActivityClient, HttpGraphQL, free_port, http_base, portal_serving, uvicorn_serving
from sqlalchemy import update
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from portal.core.settings import Settings
from portal.models.auth import LoginSession, hash_token, new_token
from portal.models.columns import utcnow
from portal.web.app import create_app

VIEWER = "{ viewer { __typename ... on StaffUser { email } ... on ContactPerson { email } } }"
ORGANIZATION = "{ organization { name } }"
LOGOUT = "mutation { logout }"
BOTH = "query Who { viewer { __typename } } mutation Out { logout }"
SUBSCRIPTION = "subscription { portalActivity { id } }"
TRACING = ["sentry-trace", "baggage", "traceparent", "tracestate"]
PORTAL = Path(sys.executable).parent / "portal"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def get(client, query: str, headers: dict | None = None, **params) -> httpx.Response:
    return await client.get("/graphql", params={"query": query, **params}, headers=headers or {})


def refusal(response: httpx.Response, status: int) -> str:
    """The code of the one GraphQL error a refusal answers with, after checking that it is JSON."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["message"]
    return error["extensions"]["code"]


# ---------------------------------------------------------------- GET and POST


async def test_a_query_by_get_answers_as_by_post(client, business):
    variables = json.dumps({"first": 1})
    query = "query Few($first: Int) { customers(first: $first) { totalCount } } query Me { viewer { __typename } }"

    by_get = await get(client, query, bearer(business.staff.token), variables=variables, operationName="Few")
    by_post = await client.post("/graphql", headers=bearer(business.staff.token),
                                json={"query": query, "variables": {"first": 1}, "operationName": "Few"})

    assert by_get.status_code == 200 and by_get.headers["content-type"] == "application/json"
    assert by_get.json() == by_post.json() == {"data": {"customers": {"totalCount": 0}}}
    assert by_get.headers["cache-control"] == "private, no-store"
    assert by_get.headers["x-request-id"]


async def test_a_mutation_by_get_is_405_and_changes_nothing(client, business):
    response = await get(client, LOGOUT, bearer(business.staff.token))
    chosen = await get(client, BOTH, bearer(business.staff.token), operationName="Out")

    assert refusal(response, 405) == refusal(chosen, 405) == "BAD_USER_INPUT"
    assert response.headers["allow"] == "POST"
    assert "POST" in response.json()["errors"][0]["message"]
    assert (await business.staff.data(VIEWER))["viewer"]["email"] == business.owner_email
    assert (await get(client, BOTH, bearer(business.staff.token), operationName="Who")).status_code == 200


async def test_subscriptions_are_served_only_over_the_websocket(client, business):
    by_post = await client.post("/graphql", json={"query": SUBSCRIPTION}, headers=bearer(business.staff.token))
    by_get = await get(client, SUBSCRIPTION, bearer(business.staff.token))

    assert refusal(by_post, 400) == refusal(by_get, 400) == "BAD_USER_INPUT"
    assert "WebSocket" in by_post.json()["errors"][0]["message"]


@pytest.mark.parametrize("method, request_options, status", [
    ("POST", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
    # What an HTML form can send cross-site without a preflight is not GraphQL here.
    ("POST", {"content": b"query={viewer{__typename}}", "headers": {"content-type": "text/plain"}}, 400),
    ("POST", {"data": {"query": "{ viewer { __typename } }"}}, 400),
    ("POST", {"json": {"variables": {}}}, 400),
    ("POST", {"json": [{"query": "{ viewer { __typename } }"}]}, 400),
    ("GET", {"params": {"query": "{ viewer { __typename } }", "variables": "{nope"}}, 400),
    ("GET", {"params": {"query": "{ viewer { __typename } }", "variables": "[1]"}}, 400),
    # A browser's (Accept: text/html) gets GraphiQL where PORTAL_GRAPHIQL allows it: test_web_pages.py.
    ("GET", {"headers": {"accept": "application/json"}}, 400),
    ("GET", {"params": {"query": "query A { viewer { id } }", "operationName": "B"}}, 400),
    ("PUT", {"json": {"query": "{ viewer { __typename } }"}}, 405),
    ("DELETE", {}, 405),
])
async def test_every_refusal_is_a_graphql_error_in_json(client, method, request_options, status):
    response = await client.request(method, "/graphql", **request_options)

    assert refusal(response, status) == "BAD_USER_INPUT"
    if status == 405:
        assert response.headers["allow"] == "GET, POST"


async def test_by_get_the_same_limits_apply(client, business):
    deep = "{ invoices { edges { node { " + "payments { allocations { invoice { " * 4 + "id" + " } } }" * 4 + " } } } }"
    aliases = "{ " + " ".join(f"a{n}: __typename" for n in range(31)) + " }"
    huge = "{ " + " ".join(f"a{n}: __typename" for n in range(3000)) + " }"
    broken = "{ viewer { "

    for query in (deep, aliases, huge, broken):
        response = await get(client, query, bearer(business.staff.token))
        assert response.status_code == 200
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", query[:40]


# ---------------------------------------------------------------- browser origins


async def test_the_base_origin_may_call_by_get_and_post_with_tracing_headers(client):
    preflight = await client.options("/graphql", headers={
        "Origin": "http://portal.test", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": ", ".join(["authorization", "content-type", *TRACING])})

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://portal.test"
    assert preflight.headers["access-control-allow-methods"] == "GET, POST"
    allowed = {name.strip().lower() for name in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", *TRACING} <= allowed


async def test_a_refused_preflight_says_why_in_json_and_in_the_log(client, caplog):
    with caplog.at_level(logging.WARNING, logger="portal"):
        foreign = await client.options("/graphql", headers={
            "Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization"})
        odd_header = await client.options("/graphql", headers={
            "Origin": "http://portal.test", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, x-secret-sauce"})

    assert refusal(foreign, 400) == "FORBIDDEN"
    assert "PORTAL_ALLOWED_ORIGINS" in foreign.json()["errors"][0]["message"]
    assert "access-control-allow-origin" not in foreign.headers
    assert refusal(odd_header, 400) == "BAD_USER_INPUT"
    assert "x-secret-sauce" in odd_header.json()["errors"][0]["message"]
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("http://localhost:5173" in message and "PORTAL_ALLOWED_ORIGINS" in message for message in warnings)
    assert any("x-secret-sauce" in message for message in warnings)


async def test_a_get_from_a_foreign_page_is_logged(client, caplog):
    """A GET without a token needs no preflight: the browser alone refuses the page the answer."""
    with caplog.at_level(logging.WARNING, logger="portal"):
        response = await get(client, "{ viewer { __typename } }", {"Origin": "http://elsewhere.example"})

    assert "access-control-allow-origin" not in response.headers
    assert any("http://elsewhere.example" in record.getMessage() and "PORTAL_ALLOWED_ORIGINS" in record.getMessage()
               for record in caplog.records)


@pytest.fixture(scope="module")
async def server(app):
    async with uvicorn_serving(app) as url:
        yield url


async def test_a_websocket_from_a_foreign_page_is_closed_with_a_reason(server, business, caplog):
    with caplog.at_level(logging.WARNING, logger="portal"):
        async with connect(server, subprotocols=["graphql-transport-ws"], origin="http://localhost:5173") as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 5)

    assert closed.value.rcvd.code == 1008
    assert closed.value.rcvd.reason == "Origin http://localhost:5173 is not allowed: add it to PORTAL_ALLOWED_ORIGINS"
    assert any("http://localhost:5173" in record.getMessage() and "PORTAL_ALLOWED_ORIGINS" in record.getMessage()
               for record in caplog.records)
    async with ActivityClient.connected(server, business.staff.token, origin="http://portal.test"):
        pass


async def test_allowed_origins_as_a_developer_writes_them(settings, monkeypatch, business):
    monkeypatch.setenv("PORTAL_ALLOWED_ORIGINS", "http://localhost:5173/, https://App.Example.com:443")
    app = create_app(Settings(database_url=settings.database_url, mail_dir=settings.mail_dir,
                              base_url="http://portal.test/"))
    async with app.router.lifespan_context(app), uvicorn_serving(app) as url:
        async with httpx.AsyncClient(base_url=http_base(url)) as http:
            origins = ["http://localhost:5173", "https://app.example.com", "http://portal.test"]
            preflights = [await http.options("/graphql", headers={
                "Origin": origin, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, sentry-trace, baggage"})
                for origin in origins]
        async with ActivityClient.connected(url, business.staff.token, origin="http://localhost:5173") as owner:
            await owner.subscribe()

    assert [preflight.status_code for preflight in preflights] == [200, 200, 200]
    assert [preflight.headers["access-control-allow-origin"] for preflight in preflights] == origins


@pytest.mark.parametrize("value, complaint", [
    ("localhost:5173", "'localhost:5173' is not an origin"),
    ("http://localhost:5173/app", "is not an origin"),
    ('["http://localhost:5173"', "not valid JSON"),
    ("*", "'*' is not an origin"),
])
def test_a_malformed_origin_list_stops_start_up_naming_the_variable(tmp_path, value, complaint):
    environment = {**os.environ, "PORTAL_ALLOWED_ORIGINS": value,
                   "PORTAL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}"}

    finished = subprocess.run([str(PORTAL), "serve"], env=environment, capture_output=True, text=True, timeout=60)

    assert finished.returncode != 0
    [line] = finished.stderr.strip().splitlines()
    assert line.startswith("error: PORTAL_ALLOWED_ORIGINS: ") and complaint in line


# ---------------------------------------------------------------- what a bad token is told


async def expire(app, token: str) -> None:
    async with app.state.services.session_factory() as session:
        await session.execute(update(LoginSession).where(LoginSession.token_hash == hash_token(token))
                              .values(expires_at=utcnow() - timedelta(minutes=1)))
        await session.commit()


async def signed_in_again(gql, business) -> str:
    return (await gql.data(STAFF_LOGIN, email=business.owner_email, password=OWNER_PASSWORD))["staffLogin"]["token"]


async def test_a_token_without_bearer_is_malformed_not_anonymous(gql, business):
    for authorization in (business.staff.token, f"Basic {business.staff.token}", "Bearer", "Bearer undefined",
                          f"Bearer {business.staff.token}x"):
        response = await gql.http.post("/graphql", json={"query": ORGANIZATION},
                                       headers={"Authorization": authorization})
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": "MALFORMED"}, authorization
        assert "Bearer <token>" in error["message"]


async def test_the_scheme_may_be_written_in_any_case_and_an_empty_header_is_no_token(gql, business):
    lower = await gql.http.post("/graphql", json={"query": VIEWER},
                                headers={"Authorization": f"bearer  {business.staff.token} "})
    empty = await gql.http.post("/graphql", json={"query": VIEWER}, headers={"Authorization": ""})

    assert lower.json() == {"data": {"viewer": {"__typename": "StaffUser", "email": business.owner_email}}}
    assert empty.json() == {"data": {"viewer": None}}


async def test_a_well_formed_token_nobody_issued_is_unknown(gql):
    stranger, _ = new_token()

    body = await gql.as_(stranger).request(ORGANIZATION)

    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "UNKNOWN"}


async def test_an_expired_or_signed_out_token_is_expired(app, gql, business):
    expired, signed_out = await signed_in_again(gql, business), await signed_in_again(gql, business)
    await expire(app, expired)
    await gql.as_(signed_out).data(LOGOUT)

    for token in (expired, signed_out):
        [error] = (await gql.as_(token).request(ORGANIZATION))["errors"]
        assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": "EXPIRED"}
        assert "sign in again" in error["message"]


async def test_without_a_token_unauthenticated_has_no_reason(gql):
    [error] = (await gql.request(ORGANIZATION))["errors"]

    assert error["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_viewer_tells_a_bad_token_and_sign_in_ignores_it(app, gql, business, scene):
    expired = await signed_in_again(gql, business)
    await expire(app, expired)

    viewer = await gql.as_(expired).request(VIEWER)
    staff_login = await gql.as_(expired).request(STAFF_LOGIN, email=business.owner_email, password=OWNER_PASSWORD)
    login = await gql.as_("not a token").request(LOGIN, portal=business.portal_name, email="pat@acme.example.com",
                                                 password="contact-password-1")

    assert viewer["data"] == {"viewer": None}
    assert viewer["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "EXPIRED"}
    assert viewer["errors"][0]["path"] == ["viewer"]
    assert "errors" not in staff_login and staff_login["data"]["staffLogin"]["token"]
    assert "errors" not in login and login["data"]["login"]["token"]


async def test_a_pdf_with_a_bad_token_says_why(client, app, gql, business, scene):
    url = "/pdf/" + scene["invoice"]["id"]
    expired = await signed_in_again(gql, business)
    await expire(app, expired)

    response = await client.get(url, headers=bearer(expired))
    malformed = await client.get(url, headers={"Authorization": expired})

    assert response.status_code == malformed.status_code == 401
    assert "sign in again" in response.json()["message"]
    assert "Bearer <token>" in malformed.json()["message"]


async def test_a_websocket_with_a_bad_token_is_closed_saying_why(server, app, gql, business):
    expired = await signed_in_again(gql, business)
    await expire(app, expired)

    async with connect(server, subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {expired}"}}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)

    assert closed.value.rcvd.code == 4403
    assert "sign in again" in closed.value.rcvd.reason


# ---------------------------------------------------------------- where links point


async def test_portal_serve_links_follow_its_port(database_url, business, tmp_path):
    environment = {"PORTAL_DATABASE_URL": database_url, "PORTAL_MAIL_DIR": str(tmp_path)}

    async with portal_serving(environment, log_dir=tmp_path) as (server,):
        answer = await HttpGraphQL(server.base, business.staff.token).data("{ portalSettings { portalUrl } }")

    assert answer["portalSettings"]["portalUrl"] == f"{server.base}/portal/{business.portal_name}"


def test_portal_demo_prints_links_with_its_port(tmp_path):
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if key.upper() != "PORTAL_BASE_URL"}
    environment.update(PORTAL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
                       PORTAL_MAIL_DIR=str(tmp_path / "mail"))
    demo = subprocess.Popen([str(PORTAL), "demo", "--port", str(port)], env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        printed = []
        for line in demo.stdout:
            printed.append(line)
            if "Uvicorn running" in line:
                break
        graphql = f"http://127.0.0.1:{port}/graphql"
        signed_in = httpx.post(graphql, json={"query": STAFF_LOGIN, "variables": {
            "email": "owner@northwind.example.com", "password": "demo-owner-password"}}).json()
        answer = httpx.get(graphql, params={"query": "{ portalSettings { portalUrl } }"},
                           headers=bearer(signed_in["data"]["staffLogin"]["token"])).json()
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(15)

    text = "".join(printed)
    assert f"GraphQL: http://127.0.0.1:{port}/graphql" in text
    assert f"Customer pages: http://127.0.0.1:{port}/portal/demo/ " in text
    assert f"Owner page: http://127.0.0.1:{port}/owner/\n" in text
    assert f"http://127.0.0.1:{port}/portal/demo/accept-invite?token=" in text
    assert answer == {"data": {"portalSettings": {"portalUrl": f"http://127.0.0.1:{port}/portal/demo"}}}
