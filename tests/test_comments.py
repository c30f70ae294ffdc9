"""Comments: who sees them, and who is told."""
from helpers import activity_kinds

ADD = """mutation($s: ID!, $b: String!, $v: Boolean) { addComment(subjectId: $s, body: $b, visibleInPortal: $v) {
  id body authorName byStaff visibleInPortal } }"""
COMMENTS = "query($id: ID!) { node(id: $id) { ... on Invoice { comments { body byStaff } } } }"


async def test_a_contact_comments_and_the_owner_is_told(business, mailbox, app):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    portal, _ = await business.portal_user(customer["id"], "talk@client.example.com", mailbox)

    comment = (await portal.data(ADD, s=invoice["id"], b="<script>alert(1)</script> Can you split it?", v=False))

    assert comment["addComment"]["visibleInPortal"] is True  # a contact's comment is always visible
    assert comment["addComment"]["byStaff"] is False
    assert (await activity_kinds(app, business.organization_id))[-1] == "COMMENTED"
    [notice] = [m for m in await mailbox.to(business.owner_email) if "commented" in m["Subject"]]
    assert "<script>" in notice.get_body(("plain",)).get_content()
    html = notice.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert invoice["id"] in html


async def test_hidden_staff_comments_stay_hidden(business, mailbox):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    portal, _ = await business.portal_user(customer["id"], "reader@client.example.com", mailbox)

    await business.staff.data(ADD, s=invoice["id"], b="Internal: chase them", v=False)
    await business.staff.data(ADD, s=invoice["id"], b="Thanks for your order", v=True)

    seen = (await portal.data(COMMENTS, id=invoice["id"]))["node"]["comments"]
    assert seen == [{"body": "Thanks for your order", "byStaff": True}]
    everything = (await business.staff.data(COMMENTS, id=invoice["id"]))["node"]["comments"]
    assert len(everything) == 2
    hidden_id = (await business.staff.data(ADD, s=invoice["id"], b="Also internal", v=False))["addComment"]["id"]
    assert await portal.error_code("query($id: ID!) { node(id: $id) { id } }", id=hidden_id) == "NOT_FOUND"
    mails = [m["Subject"] for m in await mailbox.to("reader@client.example.com")]
    assert sum("commented" in subject for subject in mails) == 1


async def test_staff_comment_emails_can_be_turned_off(business, mailbox):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    await business.portal_user(customer["id"], "quiet@client.example.com", mailbox)
    await business.staff.data("mutation { updatePortalSettings(input: {notifyCustomersOnStaffComments: false}) "
                              "{ portalName } }")

    await business.staff.data(ADD, s=invoice["id"], b="Visible but not mailed", v=True)

    assert not [m for m in await mailbox.to("quiet@client.example.com") if "commented" in m["Subject"]]


async def test_comment_bodies_are_checked(business):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])

    assert await business.staff.error_code(ADD, s=invoice["id"], b="") == "BAD_USER_INPUT"
    assert await business.staff.error_code(ADD, s=invoice["id"], b="x" * 5001) == "BAD_USER_INPUT"
    assert (await business.staff.data(ADD, s=invoice["id"], b="x" * 5000))["addComment"]["body"] == "x" * 5000
    assert await business.staff.error_code(ADD, s=customer["id"], b="hi") == "NOT_FOUND"
