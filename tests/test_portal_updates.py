"""Customer-side live updates (`portalUpdates`) over a real WebSocket: what a contact person's pages follow."""
import asyncio

import pytest
from factories import CONTACT_PASSWORD
from live import COMMENT, ActivityClient, HttpGraphQL, portal_serving, uvicorn_serving
from sqlalchemy import func, select
from test_workers import REDIS_URL, environment, postgres_only  # noqa: F401 - the fixture

from portal.core.cursors import encode_update_cursor
from portal.core.ids import from_global_id
from portal.models.customer_updates import CustomerUpdate

PORTAL_UPDATES = """subscription($after: String) { portalUpdates(after: $after) {
  id cursor kind occurredAt summary
  subject { __typename id ... on Invoice { number status } ... on Estimate { number estimateStatus: status }
            ... on Payment { amount }
            ... on Project { name } }
  comment { body }
} }"""
STAFF_COMMENT = """mutation($id: ID!, $body: String!, $visible: Boolean) {
  addComment(subjectId: $id, body: $body, visibleInPortal: $visible) { id } }"""
SEND_INVOICE = "mutation($id: ID!) { sendInvoice(id: $id) { id status } }"
VOID_INVOICE = "mutation($id: ID!) { voidInvoice(id: $id) { id status } }"
RECORD_PAYMENT = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { id } }"""
PAY = """mutation($ids: [ID!]!, $key: String!) { payInvoices(input: {invoiceIds: $ids,
  paymentMethod: {gatewayToken: "tok_visa"}, idempotencyKey: $key}) { status } }"""
ACCEPT = "mutation($id: ID!) { acceptEstimate(id: $id) { id } }"
DECLINE = "mutation($id: ID!) { declineEstimate(id: $id, reason: \"Too dear\") { id } }"
CONVERT = "mutation($id: ID!) { convertEstimateToInvoice(id: $id) { id } }"
UPDATE_ESTIMATE = "mutation($id: ID!, $input: EstimateInput!) { updateEstimate(id: $id, input: $input) { status } }"
SEND_ESTIMATE = "mutation($id: ID!) { sendEstimate(id: $id) { status } }"
CREATE_PROJECT = 'mutation($c: ID!) { createProject(customerId: $c, name: "Relaunch") { id } }'
SHOW_PROJECTS = "mutation($show: Boolean!) { updatePortalSettings(input: {showProjectsAndTimesheets: $show}) " \
                "{ portalName } }"
LOGOUT = "mutation { logout }"
LOGIN = """mutation($portal: String!, $email: String!, $password: String!) {
  login(portalName: $portal, email: $email, password: $password) { token } }"""
LINES = [{"name": "Design", "quantity": "1", "rate": "100.00", "taxPercent": "0"}]
REWORKED = [{"name": "Redesign", "quantity": "1", "rate": "80.00", "taxPercent": "0"}]


class UpdateClient(ActivityClient):
    async def subscribe(self, query: str = PORTAL_UPDATES, **variables) -> str:
        return await super().subscribe(query, **variables)

    async def next_event(self, timeout: float = 10) -> dict:
        message = await self.receive(timeout)
        assert message["type"] == "next" and "errors" not in message["payload"], message
        return message["payload"]["data"]["portalUpdates"]


@pytest.fixture(scope="session")
async def ws_url(app):
    async with uvicorn_serving(app) as url:
        yield url


async def cursor_now(app, customer_id: str) -> str:
    """Where the customer's updates are now: subscribing after it gets what commits next, no race."""
    pk = from_global_id(customer_id)[1]
    async with app.state.services.session_factory() as session:
        latest = await session.scalar(select(func.max(CustomerUpdate.sequence))
                                      .where(CustomerUpdate.customer_id == pk))
    return encode_update_cursor(pk, latest or 0)


async def test_each_kind_arrives_for_the_customers_contacts(ws_url, app, business, scene):
    customer_id, portal = scene["customer"]["id"], scene["portal"]
    async with UpdateClient.connected(ws_url, portal.token) as contact:
        await contact.subscribe(after=await cursor_now(app, customer_id))
        invoice = await business.invoice(customer_id, LINES)
        sent = await contact.next_event()
        await business.staff.data(STAFF_COMMENT, id=invoice["id"], body="Thanks!", visible=True)
        commented = await contact.next_event()
        await business.staff.data(RECORD_PAYMENT, input={"invoiceId": invoice["id"], "amount": "40.00"})
        paid_partly = await contact.events(2)
        await portal.data(PAY, ids=[invoice["id"]], key="updates-pay-1")
        paid = await contact.events(2)
        await portal.data(COMMENT, id=invoice["id"], body="Paid now")
        own_comment = await contact.next_event()
        assert await contact.nothing_more()

    assert (sent["kind"], sent["subject"]["number"]) == ("DOCUMENT_SENT", invoice["number"])
    assert (commented["kind"], commented["comment"]["body"]) == ("COMMENT_ADDED", "Thanks!")
    assert [event["kind"] for event in paid_partly] == ["PAYMENT_RECORDED", "DOCUMENT_CHANGED"]
    assert paid_partly[0]["subject"]["amount"] == "40.00"
    assert paid_partly[1]["subject"]["status"] == "PARTIALLY_PAID"
    assert [event["kind"] for event in paid] == ["PAYMENT_RECORDED", "DOCUMENT_CHANGED"]
    assert paid[1]["subject"]["status"] == "PAID"
    assert own_comment["comment"]["body"] == "Paid now"
    cursors = [event["cursor"] for event in [sent, commented, *paid_partly, *paid, own_comment]]
    assert len(set(cursors)) == len(cursors)


async def test_voids_and_estimate_changes_arrive_but_drafts_never(ws_url, app, business, scene):
    customer_id, portal = scene["customer"]["id"], scene["portal"]
    async with UpdateClient.connected(ws_url, portal.token) as contact:
        await contact.subscribe(after=await cursor_now(app, customer_id))
        draft = await business.invoice(customer_id, LINES, send=False)
        await business.staff.data(STAFF_COMMENT, id=draft["id"], body="On a draft", visible=True)
        await business.staff.data(VOID_INVOICE, id=draft["id"])
        assert await contact.nothing_more(0.5)

        voided = await business.invoice(customer_id, LINES)
        assert (await contact.next_event())["kind"] == "DOCUMENT_SENT"
        await business.staff.data(VOID_INVOICE, id=voided["id"])
        void = await contact.next_event()

        accepted = await business.estimate(customer_id, LINES)
        await contact.next_event()
        await portal.data(ACCEPT, id=accepted["id"])
        await business.staff.data(CONVERT, id=accepted["id"])
        converted = await contact.next_event()

        declined = await business.estimate(customer_id, LINES)
        await contact.next_event()
        await portal.data(DECLINE, id=declined["id"])
        await business.staff.data(UPDATE_ESTIMATE, id=declined["id"],
                                  input={"customerId": customer_id, "lineItems": REWORKED})
        reworked = await contact.next_event()  # a draft again: told it is gone, not what it becomes
        await business.staff.data(SEND_ESTIMATE, id=declined["id"])
        resent = await contact.next_event()
        assert await contact.nothing_more()

    assert (void["kind"], void["subject"]["status"]) == ("DOCUMENT_CHANGED", "VOID")
    assert (converted["kind"], converted["subject"]["estimateStatus"]) == ("DOCUMENT_CHANGED", "INVOICED")
    assert reworked["kind"] == "DOCUMENT_CHANGED" and reworked["subject"] is None
    assert reworked["summary"] == f"Estimate {declined['number']} is being revised"
    assert "Redesign" not in str(reworked)
    assert (resent["kind"], resent["subject"]["number"]) == ("DOCUMENT_SENT", declined["number"])


async def test_an_estimate_moved_to_another_customer_leaves_one_portal_and_arrives_in_the_other(
        ws_url, app, business, scene, mailbox):
    customer_id, portal = scene["customer"]["id"], scene["portal"]
    other = await business.customer("Other Inc")
    other_portal, _ = await business.portal_user(other["id"], "omar@other.example.com", mailbox)
    estimate = await business.estimate(customer_id, LINES)
    async with UpdateClient.connected(ws_url, portal.token) as contact, \
            UpdateClient.connected(ws_url, other_portal.token) as newcomer:
        await contact.subscribe(after=await cursor_now(app, customer_id))
        await newcomer.subscribe(after=await cursor_now(app, other["id"]))
        await business.staff.data(UPDATE_ESTIMATE, id=estimate["id"],
                                  input={"customerId": other["id"], "lineItems": REWORKED})
        gone = await contact.next_event()
        arrived = await newcomer.next_event()
        assert await contact.nothing_more() and await newcomer.nothing_more()

    assert (gone["kind"], gone["subject"]) == ("DOCUMENT_CHANGED", None)
    assert gone["summary"] == f"Estimate {estimate['number']} is being revised"
    assert (arrived["kind"], arrived["subject"]["number"]) == ("DOCUMENT_SENT", estimate["number"])


async def test_hidden_comments_hidden_projects_and_other_customers_never_arrive(ws_url, app, business, scene, mailbox):
    customer_id, portal = scene["customer"]["id"], scene["portal"]
    other = await business.customer("Other Inc")
    other_portal, _ = await business.portal_user(other["id"], "olga@other.example.com", mailbox)
    project = (await business.staff.data(CREATE_PROJECT, c=customer_id))["createProject"]
    async with UpdateClient.connected(ws_url, portal.token) as contact, \
            UpdateClient.connected(ws_url, other_portal.token) as stranger:
        await contact.subscribe(after=await cursor_now(app, customer_id))
        await stranger.subscribe(after=await cursor_now(app, other["id"]))
        await business.staff.data(STAFF_COMMENT, id=scene["invoice"]["id"], body="Staff only", visible=False)
        await business.staff.data(SHOW_PROJECTS, show=False)
        try:
            await business.staff.data(STAFF_COMMENT, id=project["id"], body="While hidden", visible=True)
            assert await contact.nothing_more(0.5)
        finally:
            await business.staff.data(SHOW_PROJECTS, show=True)
        await business.staff.data(STAFF_COMMENT, id=project["id"], body="Shown", visible=True)
        shown = await contact.next_event()
        assert await contact.nothing_more()
        assert await stranger.nothing_more()

    assert (shown["subject"]["name"], shown["comment"]["body"]) == ("Relaunch", "Shown")


async def test_a_resumed_subscription_gets_exactly_what_it_missed_then_live_ones(ws_url, app, business, scene):
    customer_id, portal, invoice_id = scene["customer"]["id"], scene["portal"], scene["invoice"]["id"]
    async with UpdateClient.connected(ws_url, portal.token) as contact:
        await contact.subscribe(after=await cursor_now(app, customer_id))
        await portal.data(COMMENT, id=invoice_id, body="Seen")
        last_seen = (await contact.next_event())["cursor"]
    for number in range(1, 6):
        await business.staff.data(STAFF_COMMENT, id=invoice_id, body=f"Missed {number}", visible=True)
        await business.staff.data(STAFF_COMMENT, id=invoice_id, body="Hidden", visible=False)

    async with UpdateClient.connected(ws_url, portal.token) as contact:
        await contact.subscribe(after=last_seen)
        missed = await contact.events(5)
        await portal.data(COMMENT, id=invoice_id, body="Live")
        live = await contact.next_event()
        assert await contact.nothing_more()

    assert [event["comment"]["body"] for event in missed] == [f"Missed {number}" for number in range(1, 6)]
    assert live["comment"]["body"] == "Live"


async def test_a_sent_estimate_changed_arrives_and_a_refused_action_records_nothing(ws_url, app, business, scene):
    customer_id, portal = scene["customer"]["id"], scene["portal"]
    paid = await business.invoice(customer_id, LINES)
    await business.staff.data(RECORD_PAYMENT, input={"invoiceId": paid["id"], "amount": "10.00"})
    async with UpdateClient.connected(ws_url, portal.token) as contact:
        before = await cursor_now(app, customer_id)
        await contact.subscribe(after=before)
        assert await business.staff.error_code(VOID_INVOICE, id=paid["id"]) == "CONFLICT"  # it has a payment
        assert await cursor_now(app, customer_id) == before
        await business.staff.data(UPDATE_ESTIMATE, id=scene["estimate"]["id"],
                                  input={"customerId": customer_id, "lineItems": LINES})
        changed = await contact.next_event()
        assert await contact.nothing_more()

    assert (changed["kind"], changed["subject"]["id"]) == ("DOCUMENT_CHANGED", scene["estimate"]["id"])
    assert changed["summary"] == f"Estimate {scene['estimate']['number']} was changed"


async def test_staff_may_not_subscribe_and_foreign_cursors_are_refused(ws_url, app, business, scene, mailbox):
    other = await business.customer("Other Inc")
    async with UpdateClient.connected(ws_url, business.staff.token) as owner:
        await owner.subscribe()
        assert await owner.error_code() == "FORBIDDEN"
    async with UpdateClient.connected(ws_url, scene["portal"].token) as contact:
        await contact.subscribe(after=await cursor_now(app, other["id"]))
        assert await contact.error_code() == "BAD_USER_INPUT"
        await contact.subscribe(after="bm90IGEgY3Vyc29y")
        assert await contact.error_code() == "BAD_USER_INPUT"


async def test_the_connection_closes_4403_once_the_session_ends(ws_url, app, business, scene, gql, mailbox):
    login = await gql.data(LOGIN, portal=business.portal_name, email="pat@acme.example.com",
                           password=CONTACT_PASSWORD)
    second = gql.as_(login["login"]["token"])
    async with UpdateClient.connected(ws_url, second.token) as contact:
        await contact.subscribe(after=await cursor_now(app, scene["customer"]["id"]))
        await scene["portal"].data(COMMENT, id=scene["invoice"]["id"], body="Before")
        await contact.next_event()
        await second.data(LOGOUT)
        await scene["portal"].data(COMMENT, id=scene["invoice"]["id"], body="After")
        assert await contact.close_code() == 4403


async def test_updates_reach_subscribers_of_another_worker(postgres_only, database_url, business, scene,  # noqa: F811
                                                           tmp_path):
    env = environment(database_url, REDIS_URL, tmp_path)
    invoice_id = scene["invoice"]["id"]
    async with portal_serving(env, log_dir=tmp_path, workers=2) as (server,):
        staff = HttpGraphQL(server.base, business.staff.token)  # a new connection per request: either worker
        async with UpdateClient.connected(server.ws_url, scene["portal"].token) as first, \
                UpdateClient.connected(server.ws_url, scene["portal"].token) as second:
            for contact in (first, second):
                await contact.subscribe()
            await asyncio.sleep(0.3)
            await staff.data(STAFF_COMMENT, id=invoice_id, body="To both", visible=True)
            last_seen = (await first.next_event())["cursor"]
            assert (await second.next_event())["cursor"] == last_seen

        for number in range(1, 11):
            await staff.data(STAFF_COMMENT, id=invoice_id, body=f"Missed {number}", visible=True)
        async with UpdateClient.connected(server.ws_url, scene["portal"].token) as contact:
            await contact.subscribe(after=last_seen)
            missed = await contact.events(10)
            await staff.data(STAFF_COMMENT, id=invoice_id, body="Live", visible=True)
            live = await contact.next_event()
            assert await contact.nothing_more()

    assert [event["comment"]["body"] for event in missed] == [f"Missed {number}" for number in range(1, 11)]
    assert live["comment"]["body"] == "Live"
