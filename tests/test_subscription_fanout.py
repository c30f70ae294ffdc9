"""One execution per live event for all the subscriptions that get the same answer, over a real WebSocket.

The same document and variables asked by the same person share an execution and its payload; another
person, or other variables, get their own; a subscriber whose socket does not take its events holds
back nobody else.
"""
import asyncio
import json

import pytest
from factories import OWNER_PASSWORD, STAFF_LOGIN
from live import COMMENT, ActivityClient, uvicorn_serving
from sqlalchemy import select
from test_activity import latest_cursor
from test_portal_updates import STAFF_COMMENT, UpdateClient, cursor_now

from portal.models.auth import LoginSession, hash_token
from portal.notifications.subscriptions import Ending
from portal.web import transport_ws
from portal.web.transport_ws import PortalTransportWS, shared_answers


@pytest.fixture(scope="session")
async def ws_url(app):
    async with uvicorn_serving(app) as url:
        yield url


async def second_staff_token(gql, business) -> str:
    """Another session of the same owner: the same person, so the same answers."""
    login = await gql.data(STAFF_LOGIN, email=business.owner_email, password=OWNER_PASSWORD)
    return login["staffLogin"]["token"]


async def raw_next(client: ActivityClient) -> dict:
    """The next `next` message as sent, envelope and all."""
    message = await client.receive()
    assert message["type"] == "next" and "errors" not in message["payload"], message
    return message


async def test_subscribers_with_the_same_document_share_one_execution(ws_url, gql, business, scene):
    portal, invoice = scene["portal"], scene["invoice"]
    start = await latest_cursor(business)
    async with ActivityClient.connected(ws_url, business.staff.token) as first, \
            ActivityClient.connected(ws_url, await second_staff_token(gql, business)) as second:
        await first.subscribe(after=start)
        await second.subscribe(after=start)
        await asyncio.sleep(0.2)  # both live: the event is read once for both
        executions = shared_answers().executions

        await portal.data(COMMENT, id=invoice["id"], body="Once for both")
        one, other = await raw_next(first), await raw_next(second)

        assert shared_answers().executions - executions == 1
    assert one == other  # the same operation id ("1") on each connection, the same payload
    assert one["payload"]["data"]["portalActivity"]["comment"] == {"body": "Once for both"}


async def test_other_variables_get_an_execution_of_their_own(ws_url, business, scene):
    portal, invoice = scene["portal"], scene["invoice"]
    start = await latest_cursor(business)
    async with ActivityClient.connected(ws_url, business.staff.token) as owner:
        await owner.subscribe(after=start)
        await owner.subscribe(after=start, kinds=["COMMENTED"])
        await asyncio.sleep(0.2)
        executions = shared_answers().executions

        await portal.data(COMMENT, id=invoice["id"], body="Twice")
        answers = [await raw_next(owner), await raw_next(owner)]

        assert shared_answers().executions - executions == 2
    assert sorted(answer["id"] for answer in answers) == ["1", "2"]
    assert answers[0]["payload"] == answers[1]["payload"]


async def test_other_people_never_share_an_answer(ws_url, business, scene, mailbox, app):
    """Two contact persons of one customer, with the same document: each gets what they may see, from an
    execution of their own, even where the answers happen to be equal."""
    customer, invoice = scene["customer"], scene["invoice"]
    colleague, _ = await business.portal_user(customer["id"], "sam@acme.example.com", mailbox)
    after = await cursor_now(app, customer["id"])
    async with UpdateClient.connected(ws_url, scene["portal"].token) as pat, \
            UpdateClient.connected(ws_url, colleague.token) as sam, \
            UpdateClient.connected(ws_url, scene["portal"].token) as pat_again:
        for client in (pat, sam, pat_again):
            await client.subscribe(after=after)
        await asyncio.sleep(0.2)
        executions = shared_answers().executions

        await business.staff.data(STAFF_COMMENT, id=invoice["id"], body="For the customer", visible=True)
        updates = [await client.next_event() for client in (pat, sam, pat_again)]

        assert shared_answers().executions - executions == 2  # Pat's two connections share; Sam has his own
    assert {update["comment"]["body"] for update in updates} == {"For the customer"}


async def test_a_subscriber_that_does_not_take_its_events_holds_back_no_one(ws_url, app, gql, business, scene,
                                                                             monkeypatch):
    portal, invoice = scene["portal"], scene["invoice"]
    monkeypatch.setattr(app.state.services.activity_feed, "queue_limit", 3)
    stuck_token = await second_staff_token(gql, business)
    _, stuck_session = await session_of(app, stuck_token)
    never = asyncio.Event()
    send_text = PortalTransportWS.send_text

    async def stalled_for_one(handler: PortalTransportWS, text: str) -> None:
        if '"type":"next"' in text and handler.context.principal.session_id == stuck_session:
            await never.wait()  # as a socket whose client reads nothing, and whose buffers are full
        await send_text(handler, text)

    monkeypatch.setattr(transport_ws.PortalTransportWS, "send_text", stalled_for_one)
    start = await latest_cursor(business)
    async with ActivityClient.connected(ws_url, business.staff.token) as owner, \
            ActivityClient.connected(ws_url, stuck_token) as stuck:
        await owner.subscribe(after=start)
        await stuck.subscribe(after=start)
        await asyncio.sleep(0.2)

        for number in range(1, 7):
            await portal.data(COMMENT, id=invoice["id"], body=f"Comment {number}")
            assert (await owner.next_event(timeout=2))["comment"]["body"] == f"Comment {number}"

        assert await stuck.close_code() == Ending.TOO_SLOW.code
    never.set()


async def session_of(app, token: str) -> tuple[int, int]:
    async with app.state.services.session_factory() as session:
        row = (await session.execute(select(LoginSession.organization_id, LoginSession.id).where(
            LoginSession.token_hash == hash_token(token)))).one()
    return row[0], row[1]


async def test_the_envelope_is_the_protocols():
    """The frame built around a shared payload is a graphql-transport-ws `next` message."""
    operation = type("Operation", (), {"id": 'op "7"', "variables": None})()
    live = transport_ws.LiveOperation(handler=None, operation=operation)  # type: ignore[arg-type]
    frame = json.loads(f'{live._envelope}{json.dumps({"data": {"x": 1}})}}}')
    assert frame == {"id": 'op "7"', "type": "next", "payload": {"data": {"x": 1}}}

