"""Viewing and forwarding documents."""
from factories import ACCEPT_INVITE, CONTACT_PASSWORD, invite_token
from helpers import activity_kinds, outbox_count

MARK_VIEWED = "mutation($id: ID!) { markViewed(documentId: $id) { id viewedAt ... on Invoice { status } } }"
VIEWED_AT = "query($id: ID!) { node(id: $id) { ... on Invoice { viewedAt } } }"
FORWARD = """mutation($id: ID!, $email: String!, $name: String, $m: String) {
  forwardDocument(documentId: $id, email: $email, name: $name, message: $m) { id email firstName portalAccess } }"""


async def test_the_first_view_is_recorded_once(business, mailbox, app):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    alice, _ = await business.portal_user(customer["id"], "alice@viewer.example.com", mailbox)
    bob, _ = await business.portal_user(customer["id"], "bob@viewer.example.com", mailbox)

    assert await business.staff.error_code(MARK_VIEWED, id=invoice["id"]) == "FORBIDDEN"
    assert (await business.staff.data(VIEWED_AT, id=invoice["id"]))["node"]["viewedAt"] is None
    first = (await alice.data(MARK_VIEWED, id=invoice["id"]))["markViewed"]["viewedAt"]
    again = (await bob.data(MARK_VIEWED, id=invoice["id"]))["markViewed"]["viewedAt"]

    assert first is not None and again == first
    assert (await activity_kinds(app, business.organization_id)).count("VIEWED") == 1


async def test_forwarding_invites_a_new_colleague(business, mailbox, gql):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    portal, _ = await business.portal_user(customer["id"], "sender@fwd.example.com", mailbox)

    forwarded = await portal.data(FORWARD, id=invoice["id"], email="Accounts@Fwd.example.com",
                                  name="Ann Accounts", m="Please pay this one")

    assert forwarded["forwardDocument"]["email"] == "accounts@fwd.example.com"
    assert forwarded["forwardDocument"]["firstName"] == "Ann"
    assert forwarded["forwardDocument"]["portalAccess"] == "INVITED"
    [invitation] = await mailbox.to("accounts@fwd.example.com")
    assert invoice["number"] in invitation.get_body(("plain",)).get_content()
    accepted = await gql.data(ACCEPT_INVITE, token=invite_token(invitation), password=CONTACT_PASSWORD)
    assert accepted["acceptInvite"]["viewer"]["portalAccess"] == "ACTIVE"


async def test_forwarding_to_an_active_colleague_sends_the_link(business, mailbox, app):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    portal, _ = await business.portal_user(customer["id"], "one@fwd.example.com", mailbox)
    await business.portal_user(customer["id"], "two@fwd.example.com", mailbox)

    forwarded = await portal.data(FORWARD, id=invoice["id"], email="two@fwd.example.com")

    assert forwarded["forwardDocument"]["portalAccess"] == "ACTIVE"
    [notice] = [m for m in await mailbox.to("two@fwd.example.com") if "forwarded" in m["Subject"]]
    assert f"/documents/{invoice['id']}" in notice.get_body(("plain",)).get_content()
    assert (await activity_kinds(app, business.organization_id))[-1] == "DOCUMENT_FORWARDED"


async def test_forwarding_can_be_turned_off_and_checks_the_address(business, mailbox, app):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    portal, _ = await business.portal_user(customer["id"], "nofwd@fwd.example.com", mailbox)

    assert await portal.error_code(FORWARD, id=invoice["id"], email="not an email") == "BAD_USER_INPUT"
    await business.staff.data("mutation { updatePortalSettings(input: {allowForwarding: false}) { portalName } }")
    before = await outbox_count(app)

    assert await portal.error_code(FORWARD, id=invoice["id"], email="x@fwd.example.com") == "FORBIDDEN"
    assert await outbox_count(app) == before
