"""A burst of WebSocket connections is signed in by one query for them all, each as itself (issue 11).

Real sockets (graphql-transport-ws) against uvicorn: the connection_inits of different people, of two
organizations, arrive together with an expired and an unknown token; each connection is the person its
token names, with its own organization object, and the refusals say why as a lone connection's would.
"""
import asyncio
import dataclasses
import json
import secrets
from contextlib import AsyncExitStack

import pytest
from live import PROTOCOL, connection_init, uvicorn_serving
from sqlalchemy import event
from starlette.routing import WebSocketRoute
from test_http import expire, signed_in_again
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from portal.core.ids import to_global_id
from portal.models.auth import TokenProblem, token_refused
from portal.models.organizations import Organization
from portal.resolvers.context import ConnectionContext
from portal.web.app import PortalGraphQL
from portal.web.auth import Authentication, SignInBurst, authenticate

ORGANIZATION = "{ organization { id name } }"  # over the socket, a query answered from the connection alone


@pytest.fixture(scope="session")
async def ws_url(app):
    async with uvicorn_serving(app) as url:
        yield url


def graphql_view(app) -> PortalGraphQL:
    return next(route.app for route in app.routes if isinstance(route, WebSocketRoute)
                and isinstance(route.app, PortalGraphQL))


class SignInQueries:
    """Counts the sign-in queries the server runs, by their text: the server's tasks are not the test's."""

    def __init__(self, engine) -> None:
        self.engine, self.count = engine.sync_engine, 0

    def _count(self, connection, cursor, statement, *args) -> None:
        if "token_hash IN" in statement:
            self.count += 1

    def __enter__(self) -> "SignInQueries":
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


async def ask(socket, query: str) -> dict:
    await socket.send(json.dumps({"id": "who", "type": "subscribe", "payload": {"query": query}}))
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), 10))
        if message["type"] == "next":
            return message["payload"]
        assert message["type"] == "ping", message


async def closed_with(socket) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 10)
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.fixture
def connected(app, monkeypatch) -> list[ConnectionContext]:
    """The context of each connection the server signed in, in the order they were signed in."""
    contexts: list[ConnectionContext] = []
    on_ws_connect = PortalGraphQL.on_ws_connect

    async def noting(view: PortalGraphQL, context: ConnectionContext) -> None:
        await on_ws_connect(view, context)
        contexts.append(context)

    monkeypatch.setattr(PortalGraphQL, "on_ws_connect", noting)
    return contexts


async def lone_sign_in(app, token: str) -> Authentication:
    """As a request signs in, with the organization it reads when a resolver first asks."""
    async with app.state.services.session_factory() as session:
        signed_in = await authenticate(session, f"Bearer {token}")
        organization = await session.get(Organization, signed_in.principal.organization_id)
        return dataclasses.replace(signed_in, organization=organization)


def authorization_of(context: ConnectionContext) -> str:
    return (context.connection_params or {})["authorization"]


async def test_a_burst_of_connections_signs_in_each_as_itself_in_fewer_queries(
        app, ws_url, gql, business, other_business, scene, mailbox, connected):
    other_customer = await other_business.customer("Globex")
    other_contact, _ = await other_business.portal_user(other_customer["id"], "kim@globex.example.com", mailbox)
    expired = await signed_in_again(gql, business)
    await expire(app, expired)
    people = [business.staff.token, scene["portal"].token, other_business.staff.token, other_contact.token]
    signed_in = [token for token in people for _ in range(3)]  # three connections each
    refused = {expired: TokenProblem.EXPIRED, secrets.token_urlsafe(32): TokenProblem.UNKNOWN}
    tokens = signed_in + list(refused)

    async with AsyncExitStack() as sockets:
        opened = await asyncio.gather(*(sockets.enter_async_context(connect(ws_url, subprotocols=[PROTOCOL]))
                                        for _ in tokens))
        reads = graphql_view(app).sign_ins.reads
        with SignInQueries(app.state.services.engine) as queries:
            await asyncio.gather(*(socket.send(connection_init(token))
                                   for socket, token in zip(opened, tokens, strict=True)))
            acks = [json.loads(await asyncio.wait_for(socket.recv(), 10)) for socket in opened[:len(signed_in)]]
            refusals = [await closed_with(socket) for socket in opened[len(signed_in):]]
        answers = [await ask(socket, ORGANIZATION) for socket in opened[:len(signed_in)]]

    assert [ack["type"] for ack in acks] == ["connection_ack"] * len(signed_in)
    assert refusals == [(4403, token_refused(problem).message) for problem in refused.values()]
    expected = {token: await lone_sign_in(app, token) for token in people}
    for token, answer in zip(signed_in, answers, strict=True):
        assert answer == {"data": {"organization": {"id": to_global_id("Organization", expected[token].principal
                                                                      .organization_id),
                                                    "name": expected[token].organization.name}}}
    assert sorted(authorization_of(context) for context in connected) == sorted(f"Bearer {t}" for t in signed_in)
    for context in connected:
        alone = expected[authorization_of(context).removeprefix("Bearer ")]
        assert context.principal == alone.principal
        assert context.organization.model_dump() == alone.organization.model_dump()
    assert len({id(context.organization) for context in connected}) == len(connected)  # each its own object
    assert 1 <= queries.count < len(tokens)
    assert graphql_view(app).sign_ins.reads - reads == queries.count


@pytest.mark.parametrize("authorization, problem", [(None, None), ("Basic abc", TokenProblem.MALFORMED),
                                                    (f"Bearer {'x' * 43}", TokenProblem.UNKNOWN)])
async def test_refusals_read_as_a_lone_sign_in(app, authorization, problem):
    burst = SignInBurst(app.state.services.session_factory)
    signed_in = await burst.authenticate(authorization)
    assert signed_in.principal is None and signed_in.problem == problem
    assert burst.reads == (problem is TokenProblem.UNKNOWN)


async def test_sign_ins_asked_together_share_one_read_and_a_later_one_its_own(app, gql, business, other_business):
    burst = SignInBurst(app.state.services.session_factory)
    together = [business.staff.token, other_business.staff.token, business.staff.token]
    first = [asyncio.create_task(burst.authenticate(f"Bearer {token}")) for token in together]
    await asyncio.sleep(0)  # the read has begun: who asks now waits for another
    later = asyncio.create_task(burst.authenticate(f"Bearer {business.staff.token}"))
    outcomes = await asyncio.gather(*first, later)

    assert burst.reads == 2
    organizations = [outcome.organization for outcome in outcomes]
    assert [organization.portal_name for organization in organizations] == [
        business.portal_name, other_business.portal_name, business.portal_name, business.portal_name]
    assert organizations[0] is not organizations[2]  # the same organization, an object for each connection
    organizations[0].name = "Changed by one connection"
    assert organizations[2].name == f"Business {business.portal_name}"
    assert outcomes[0].principal == outcomes[2].principal == outcomes[3].principal


async def test_an_unreachable_database_closes_the_burst_with_1013(app, ws_url, business, monkeypatch):
    def unreachable():
        raise ConnectionRefusedError("the database is down")

    monkeypatch.setattr(graphql_view(app).sign_ins, "session_factory", unreachable)
    async with connect(ws_url, subprotocols=[PROTOCOL]) as one, connect(ws_url, subprotocols=[PROTOCOL]) as two:
        await asyncio.gather(one.send(connection_init(business.staff.token)),
                             two.send(connection_init(business.staff.token)))
        codes = [(await closed_with(socket))[0] for socket in (one, two)]
    assert codes == [1013, 1013]
