"""Live activity over a real WebSocket (graphql-transport-ws, uvicorn), and the stored feed."""
import asyncio
from datetime import timedelta

import pytest
from factories import OWNER_PASSWORD, STAFF_LOGIN
from live import COMMENT, MARK_VIEWED, ActivityClient, uvicorn_serving
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from portal.core.cursors import decode_activity_cursor
from portal.core.ids import from_global_id
from portal.models.activity import ActivityKind
from portal.models.auth import LoginSession, hash_token
from portal.notifications.activity import record_activity
from portal.notifications.subscriptions import Ending

ACCEPT = "mutation($id: ID!) { acceptEstimate(id: $id) { id } }"
DECLINE = "mutation($id: ID!) { declineEstimate(id: $id, reason: \"Too dear\") { id } }"
UPDATE_COMPANY = "mutation { updateCompanyDetails(input: {companyName: \"Acme Two\"}) { companyName } }"
REVIEW = "mutation { submitReview(rating: 5, comment: \"Great\") { id } }"
LOGOUT = "mutation { logout }"
ACTIVITY = """query($after: String, $first: Int) { activity(after: $after, first: $first) {
  edges { cursor node { cursor kind summary customer { displayName } contactPerson { email }
    subject { __typename id } comment { body } } }
  pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture(scope="session")
async def ws_url(app):
    async with uvicorn_serving(app) as url:
        yield url


def staff_token(business) -> str:
    return business.staff.token


async def latest_cursor(business) -> str:
    """Where the organization's activity is now: subscribing after it gets what commits next, no race."""
    return (await business.staff.data(ACTIVITY, first=1))["activity"]["pageInfo"]["endCursor"]


async def comment_times(portal, invoice_id: str, count: int) -> None:
    for number in range(1, count + 1):
        await portal.data(COMMENT, id=invoice_id, body=f"Comment {number}")


async def test_staff_get_one_event_per_portal_action_in_order(ws_url, business, scene):
    portal, invoice, estimate = scene["portal"], scene["invoice"], scene["estimate"]
    async with ActivityClient.connected(ws_url, staff_token(business)) as owner:
        await owner.subscribe()
        await asyncio.sleep(0.2)  # subscribed: without `after`, it gets what commits from now on

        await portal.data(MARK_VIEWED, id=invoice["id"])
        await portal.data(COMMENT, id=invoice["id"], body="Looks right")
        await portal.data(ACCEPT, id=estimate["id"])
        await portal.data(UPDATE_COMPANY)
        await portal.data(REVIEW)

        viewed, commented, accepted, updated, reviewed = await owner.events(5)
        assert await owner.nothing_more()

    assert [e["kind"] for e in (viewed, commented, accepted, updated, reviewed)] == [
        "VIEWED", "COMMENTED", "ESTIMATE_ACCEPTED", "DETAILS_UPDATED", "REVIEW_SUBMITTED"]
    assert viewed["subject"] == {"__typename": "Invoice", "id": invoice["id"], "number": invoice["number"]}
    assert viewed["customer"]["displayName"] == "Acme Corp"
    assert viewed["contactPerson"] == {"id": scene["contact"]["id"], "email": "pat@acme.example.com"}
    assert commented["comment"] == {"body": "Looks right"}
    assert commented["subject"]["id"] == invoice["id"]
    assert accepted["subject"] == {"__typename": "Estimate", "id": estimate["id"], "number": estimate["number"],
                                   "status": "ACCEPTED"}
    assert updated["subject"]["__typename"] == "Customer"
    assert reviewed["subject"] == {"__typename": "Review", "id": reviewed["subject"]["id"], "rating": 5}
    assert "viewed invoice" in viewed["summary"]


async def test_a_resumed_subscription_gets_exactly_what_it_missed_then_live_ones(ws_url, business, scene):
    portal, invoice = scene["portal"], scene["invoice"]
    async with ActivityClient.connected(ws_url, staff_token(business)) as owner:
        await owner.subscribe(after=await latest_cursor(business))
        await portal.data(MARK_VIEWED, id=invoice["id"])
        last_seen = (await owner.next_event())["cursor"]

    await comment_times(portal, invoice["id"], 20)

    async with ActivityClient.connected(ws_url, staff_token(business)) as owner:
        await owner.subscribe(after=last_seen)
        missed = await owner.events(20)
        await portal.data(COMMENT, id=invoice["id"], body="Live one")
        live = await owner.next_event()
        assert await owner.nothing_more()

    assert [event["comment"]["body"] for event in missed] == [f"Comment {n}" for n in range(1, 21)]
    assert live["comment"]["body"] == "Live one"
    cursors = [last_seen] + [event["cursor"] for event in [*missed, live]]
    assert len(set(cursors)) == 22


async def test_kinds_narrow_the_subscription(ws_url, business, scene):
    portal, invoice, estimate = scene["portal"], scene["invoice"], scene["estimate"]
    async with ActivityClient.connected(ws_url, staff_token(business)) as owner:
        await owner.subscribe(kinds=["ESTIMATE_ACCEPTED", "ESTIMATE_DECLINED"], after=await latest_cursor(business))
        await portal.data(MARK_VIEWED, id=invoice["id"])
        await portal.data(COMMENT, id=invoice["id"], body="Not this")
        await portal.data(ACCEPT, id=estimate["id"])

        assert (await owner.next_event())["kind"] == "ESTIMATE_ACCEPTED"
        assert await owner.nothing_more()


async def test_replay_with_kinds_skips_other_events(ws_url, business, scene):
    portal, invoice, estimate = scene["portal"], scene["invoice"], scene["estimate"]
    start = await latest_cursor(business)
    await portal.data(MARK_VIEWED, id=invoice["id"])
    await comment_times(portal, invoice["id"], 3)
    await portal.data(DECLINE, id=estimate["id"])

    async with ActivityClient.connected(ws_url, staff_token(business)) as owner:
        await owner.subscribe(after=start, kinds=["ESTIMATE_DECLINED"])
        assert (await owner.next_event())["kind"] == "ESTIMATE_DECLINED"
        assert await owner.nothing_more()


async def test_another_organizations_events_never_arrive(ws_url, business, other_business, mailbox, scene):
    customer = await other_business.customer("Elsewhere Inc")
    invoice = await other_business.invoice(customer["id"])
    elsewhere, _ = await other_business.portal_user(customer["id"], "someone@elsewhere.example.com", mailbox)
    async with ActivityClient.connected(ws_url, staff_token(business)) as owner:
        await owner.subscribe(after=await latest_cursor(business))
        await elsewhere.data(MARK_VIEWED, id=invoice["id"])
        await elsewhere.data(COMMENT, id=invoice["id"], body="Not for you")
        await scene["portal"].data(MARK_VIEWED, id=scene["invoice"]["id"])

        assert (await owner.next_event())["customer"]["displayName"] == "Acme Corp"
        assert await owner.nothing_more()


async def test_a_contact_person_may_not_subscribe(ws_url, scene):
    async with ActivityClient.connected(ws_url, scene["portal"].token) as contact:
        await contact.subscribe()
        assert await contact.error_code() == "FORBIDDEN"


@pytest.mark.parametrize("token", [None, "not-a-token"])
async def test_a_connection_without_a_valid_token_is_refused(ws_url, token):
    assert await ActivityClient.refusal_code(ws_url, token) == 4403


async def test_unknown_and_foreign_cursors_are_bad_user_input(ws_url, business, other_business, scene):
    await scene["portal"].data(MARK_VIEWED, id=scene["invoice"]["id"])
    cursor = (await business.staff.data(ACTIVITY, first=1))["activity"]["pageInfo"]["endCursor"]
    async with ActivityClient.connected(ws_url, staff_token(other_business)) as stranger:
        for bad in ("garbage", cursor):
            await stranger.subscribe(after=bad)
            assert await stranger.error_code() == "BAD_USER_INPUT"
    assert await other_business.staff.error_code(ACTIVITY, after=cursor) == "BAD_USER_INPUT"
    assert await business.staff.error_code(ACTIVITY, after="garbage") == "BAD_USER_INPUT"


async def test_a_revoked_session_stops_receiving_events(ws_url, business, scene, gql):
    login = await gql.data(STAFF_LOGIN, email=business.owner_email, password=OWNER_PASSWORD)
    second = gql.as_(login["staffLogin"]["token"])
    async with ActivityClient.connected(ws_url, second.token) as owner:
        await owner.subscribe(after=await latest_cursor(business))
        await scene["portal"].data(MARK_VIEWED, id=scene["invoice"]["id"])
        await owner.next_event()
        await second.data(LOGOUT)

        await scene["portal"].data(COMMENT, id=scene["invoice"]["id"], body="Not for a revoked session")

        assert await owner.close_code() == 4403


async def test_a_rolled_back_action_publishes_nothing(ws_url, app, business, scene):
    _, organization_id = from_global_id(business.organization_id)
    _, customer_id = from_global_id(scene["customer"]["id"])
    start = await latest_cursor(business)
    async with ActivityClient.connected(ws_url, staff_token(business)) as owner:
        await owner.subscribe(after=start)
        async with app.state.services.session_factory() as session:
            await record_activity(session, organization_id=organization_id, kind=ActivityKind.VIEWED,
                                  customer_id=customer_id, summary="never happened")
            await session.rollback()
        await scene["portal"].data(MARK_VIEWED, id=scene["invoice"]["id"])

        event = await owner.next_event()
        assert await owner.nothing_more()

    assert event["summary"] != "never happened"
    # The rolled-back transaction gave its number back: no hole for a resuming subscriber to wait on.
    assert decode_activity_cursor(event["cursor"], organization_id) == \
        decode_activity_cursor(start, organization_id) + 1


async def test_concurrent_actions_commit_in_cursor_order(ws_url, app, business, scene):
    """The second transaction waits for the first one's counter lock: it can only commit after it,
    with the next sequence, so a subscriber that has seen a cursor has seen everything before it."""
    _, organization_id = from_global_id(business.organization_id)
    _, customer_id = from_global_id(scene["customer"]["id"])
    factory = app.state.services.session_factory

    async def record(summary: str, hold_seconds: float):
        async with factory() as session:
            event = await record_activity(session, organization_id=organization_id, kind=ActivityKind.VIEWED,
                                          customer_id=customer_id, summary=summary)
            await asyncio.sleep(hold_seconds)
            await session.commit()
            return event.sequence

    async with ActivityClient.connected(ws_url, staff_token(business)) as owner:
        await owner.subscribe(after=await latest_cursor(business))
        slow = asyncio.create_task(record("first, slow to commit", 0.5))
        await asyncio.sleep(0.1)
        second = await record("second", 0)
        first = await slow
        await scene["portal"].data(MARK_VIEWED, id=scene["invoice"]["id"])  # announces both

        events = await owner.events(3)

    assert second == first + 1
    assert [event["summary"] for event in events[:2]] == ["first, slow to commit", "second"]


async def test_the_activity_query_pages_oldest_first(business, scene):
    portal, invoice = scene["portal"], scene["invoice"]
    await comment_times(portal, invoice["id"], 5)

    latest = (await business.staff.data(ACTIVITY, first=3))["activity"]
    after_first = (await business.staff.data(ACTIVITY, after=latest["edges"][0]["cursor"], first=1))["activity"]

    assert [edge["node"]["comment"]["body"] for edge in latest["edges"]] == ["Comment 3", "Comment 4", "Comment 5"]
    assert latest["pageInfo"] == {"hasNextPage": False, "endCursor": latest["edges"][-1]["cursor"]}
    assert [edge["node"]["comment"]["body"] for edge in after_first["edges"]] == ["Comment 4"]
    assert after_first["pageInfo"]["hasNextPage"] is True
    assert latest["edges"][0]["node"]["subject"] == {"__typename": "Invoice", "id": invoice["id"]}
    assert await portal.error_code(ACTIVITY) == "FORBIDDEN"


async def test_the_activity_query_does_not_query_per_event(business, scene, count_statements):
    portal, invoice, estimate = scene["portal"], scene["invoice"], scene["estimate"]
    await comment_times(portal, invoice["id"], 2)
    await portal.data(ACCEPT, id=estimate["id"])
    with count_statements() as few:
        await business.staff.data(ACTIVITY, first=3)
    await comment_times(portal, invoice["id"], 10)
    await portal.data(REVIEW)
    with count_statements() as many:
        await business.staff.data(ACTIVITY, first=14)

    assert many.count <= few.count + 1  # one more subject type: reviews


async def test_a_subscriber_that_falls_too_far_behind_is_ended(app, business, scene, monkeypatch):
    feed = app.state.services.activity_feed
    monkeypatch.setattr(feed, "queue_limit", 3)
    _, organization_id = from_global_id(business.organization_id)
    endings = []
    async with feed.subscription(organization_id, session_id=await staff_session_id(app, business),
                                 on_end=endings.append):
        await comment_times(scene["portal"], scene["invoice"]["id"], 5)  # and nobody takes them
        for _ in range(100):
            if endings:
                break
            await asyncio.sleep(0.05)

    assert endings == [Ending.TOO_SLOW]


async def staff_session_id(app, business) -> int:
    async with app.state.services.session_factory() as session:
        return await session.scalar(select(LoginSession.id).where(
            LoginSession.token_hash == hash_token(business.staff.token)))


async def test_the_server_pings_and_answers_pings(ws_url, app, business, monkeypatch):
    monkeypatch.setattr(graphql_view(app), "keep_alive_interval", 0.1)
    async with ActivityClient.connected(ws_url, staff_token(business)) as owner:
        await owner.socket.send('{"type": "ping"}')
        assert (await owner.receive())["type"] == "pong"
        await asyncio.sleep(0.35)
        await owner.nothing_more(0.1)
        assert owner.pings >= 2


async def test_a_connection_must_say_who_it_is_in_time(ws_url, app, monkeypatch):
    monkeypatch.setattr(graphql_view(app), "connection_init_wait_timeout", timedelta(seconds=0.2))
    async with connect(ws_url, subprotocols=["graphql-transport-ws"]) as websocket:
        assert await ActivityClient(websocket).close_code() == 4408


async def test_the_websocket_serves_subscriptions_and_says_so_with_a_code(ws_url, business):
    async with ActivityClient.connected(ws_url, staff_token(business)) as owner:
        await owner.subscribe("{ customers { totalCount } }")
        answer = await owner.receive()

    assert answer["type"] == "next"
    assert answer["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_subscriptions_per_connection_are_capped(ws_url, business):
    async with ActivityClient.connected(ws_url, staff_token(business)) as owner:
        for _ in range(10):
            await owner.subscribe()
        await owner.subscribe()
        refused = await owner.receive()

    assert refused["type"] == "error" and "limit" in refused["payload"][0]["message"]


async def test_only_allowed_origins_may_open_the_websocket(ws_url, business):
    async with ActivityClient.connected(ws_url, staff_token(business), origin="http://portal.test"):
        pass
    with pytest.raises(ConnectionClosed) as refused:  # closed before connection_ack, saying why
        async with ActivityClient.connected(ws_url, staff_token(business), origin="http://evil.example"):
            pass
    assert refused.value.rcvd.code == 1008 and "PORTAL_ALLOWED_ORIGINS" in refused.value.rcvd.reason


def graphql_view(app):
    return next(route.endpoint for route in app.routes if route.path == "/graphql" and hasattr(route, "endpoint")
                and hasattr(route.endpoint, "keep_alive_interval"))


DEEP_ACTIVITY = """subscription { portalActivity { cursor kind
  customer { displayName contactPersons { email } } contactPerson { email } comment { body }
  subject { __typename ... on Invoice { number lineItems { name } } } } }"""


async def test_nested_fields_of_an_event_arrive_at_once_and_whole(ws_url, business, scene):
    """Each event's own reads and the shared ones run side by side; on SQLite neither may lock out the other."""
    portal, invoice = scene["portal"], scene["invoice"]
    async with ActivityClient.connected(ws_url, staff_token(business)) as owner:
        await owner.subscribe(DEEP_ACTIVITY)
        await asyncio.sleep(0.2)

        await portal.data(COMMENT, id=invoice["id"], body="Deep")
        message = await owner.receive(timeout=5)

    event = message["payload"]["data"]["portalActivity"]
    assert "errors" not in message["payload"]
    assert event["comment"] == {"body": "Deep"}
    assert event["subject"]["lineItems"]
    assert event["customer"]["contactPersons"]
