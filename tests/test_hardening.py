"""Inputs at the edges: each answers with a clear error code, never a 500, and leaks nothing."""
import base64

from factories import ENABLE_PORTAL

NODE = "query($id: ID!) { node(id: $id) { id } }"
ADD_COMMENT = """mutation($s: ID!, $b: String!) { addComment(subjectId: $s, body: $b) { id } }"""
CREATE_CUSTOMER = "mutation($input: CustomerInput!) { createCustomer(input: $input) { id } }"
INVOICES_AFTER = "query($after: String) { invoices(after: $after) { totalCount } }"


def encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def test_staff_comments_on_drafts_stay_out_of_the_portal(business, mailbox):
    customer = await business.customer()
    draft = await business.invoice(customer["id"], send=False)
    portal, _ = await business.portal_user(customer["id"], f"draft@{business.portal_name}.example.com", mailbox)

    comment = await business.staff.data(ADD_COMMENT, s=draft["id"], b="Internal: add a rush fee")

    assert await portal.error_code(NODE, id=comment["addComment"]["id"]) == "NOT_FOUND"
    mails = await mailbox.to(f"draft@{business.portal_name}.example.com")
    assert not [m for m in mails if "commented" in m["Subject"]]


async def test_project_comments_hide_with_the_projects(business, mailbox):
    customer = await business.customer()
    project = await business.staff.data(
        'mutation($c: ID!) { createProject(customerId: $c, name: "P") { id } }', c=customer["id"])
    portal, _ = await business.portal_user(customer["id"], f"proj@{business.portal_name}.example.com", mailbox)
    comment = await portal.data(ADD_COMMENT, s=project["createProject"]["id"], b="Hello")
    await business.staff.data("mutation { updatePortalSettings(input: {showProjectsAndTimesheets: false}) "
                              "{ portalName } }")

    assert await portal.error_code(NODE, id=comment["addComment"]["id"]) == "FORBIDDEN"


async def test_out_of_range_ids_and_cursors(business):
    for pk in ("99999999999999999999", "0", "-5"):
        assert await business.staff.error_code(NODE, id=encoded(f"Invoice:{pk}")) == "NOT_FOUND"
    for cursor in (encoded('["2026-01-01", "INV-1", 1e400]'), encoded('["2026-01-01", "INV-1", 10000000000000]'),
                   encoded("[1, 2]"), "%%%"):
        assert await business.staff.error_code(INVOICES_AFTER, after=cursor) == "BAD_USER_INPUT", cursor


async def test_amounts_beyond_what_is_stored_are_refused(business):
    customer = await business.customer()

    code = await business.staff.error_code(
        "mutation($input: InvoiceInput!) { createInvoice(input: $input) { id } }",
        input={"customerId": customer["id"], "lineItems": [{"name": "Big", "quantity": "999999999",
                                                            "rate": "999999999"}]})

    assert code == "BAD_USER_INPUT"


async def test_long_text_is_refused_not_truncated_by_the_database(business):
    customer = await business.customer()
    cases = [
        (CREATE_CUSTOMER, {"input": {"displayName": "x" * 201}}),
        (CREATE_CUSTOMER, {"input": {"displayName": "ok", "billingAddress": {"city": "c" * 201}}}),
        ("mutation($id: ID!) { addContactPerson(customerId: $id, input: {firstName: \"" + "f" * 101
         + "\", email: \"long@x.example.com\"}) { id } }", {"id": customer["id"]}),
        ("mutation { updateOrganization(input: {phone: \"" + "1" * 51 + "\"}) { name } }", {}),
        ("mutation { updateOrganization(input: {email: \"not an email\"}) { name } }", {}),
        ("mutation($b: String) { updatePortalSettings(input: {bannerMessage: $b}) { portalName } }",
         {"b": "b" * 2001}),
    ]
    for query, variables in cases:
        assert await business.staff.error_code(query, **variables) == "BAD_USER_INPUT", query[:60]


async def test_line_breaks_in_names_do_not_break_emails(business, mailbox):
    customer = await business.customer()
    contact = await business.staff.data(
        "mutation($id: ID!) { addContactPerson(customerId: $id, input: {firstName: \"Eve\\nBcc: x@evil.example.com\", "
        "email: \"eve@newline.example.com\"}) { id firstName } }", id=customer["id"])

    await business.staff.data(ENABLE_PORTAL, ids=[contact["addContactPerson"]["id"]])

    [invitation] = await mailbox.to("eve@newline.example.com")
    assert invitation["Bcc"] is None
    assert contact["addContactPerson"]["firstName"] == "Eve Bcc: x@evil.example.com"


async def test_a_zero_invoice_is_settled_when_sent(business):
    customer = await business.customer()

    free = await business.invoice(customer["id"], [{"name": "Free check-up", "quantity": "1", "rate": "0"}])

    assert (free["status"], free["balanceDue"]) == ("PAID", "0.00")
