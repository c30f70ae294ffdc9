"""Every operation that takes an id, tried with another customer's and another organization's ids."""
from helpers import activity_kinds, outbox_count

CONTACT_OPERATIONS = [
    ("query($id: ID!) { dashboard(customerId: $id) { currency } }", "customer"),
    ("query($id: ID!) { statement(customerId: $id) { closingBalance } }", "customer"),
    ("query($id: ID!) { invoices(customerId: $id) { totalCount } }", "customer"),
    ("query($id: ID!) { estimates(customerId: $id) { totalCount } }", "customer"),
    ("query($id: ID!) { payments(customerId: $id) { totalCount } }", "customer"),
    ("query($id: ID!) { transactions(customerId: $id) { totalCount } }", "customer"),
    ("query($id: ID!) { node(id: $id) { id } }", "invoice"),
    ("query($id: ID!) { node(id: $id) { id } }", "estimate"),
    ("query($id: ID!) { node(id: $id) { id } }", "project"),
    ("query($id: ID!) { node(id: $id) { id } }", "payment"),
    ("mutation($id: ID!) { markViewed(documentId: $id) { id } }", "invoice"),
    ("mutation($id: ID!) { acceptEstimate(id: $id) { id } }", "estimate"),
    ("mutation($id: ID!) { declineEstimate(id: $id, reason: \"no\") { id } }", "estimate"),
    ("mutation($id: ID!) { addComment(subjectId: $id, body: \"hi\") { id } }", "invoice"),
    ("mutation($id: ID!) { addComment(subjectId: $id, body: \"hi\") { id } }", "project"),
    ("mutation($id: ID!) { forwardDocument(documentId: $id, email: \"f@iso.example.com\") { id } }", "estimate"),
]
STAFF_OPERATIONS = [
    *CONTACT_OPERATIONS[:10],
    ("mutation($id: ID!) { sendInvoice(id: $id) { id } }", "invoice"),
    ("mutation($id: ID!) { voidInvoice(id: $id) { id } }", "invoice"),
    ("mutation($id: ID!) { sendEstimate(id: $id) { id } }", "estimate"),
    ("mutation($id: ID!) { convertEstimateToInvoice(id: $id) { id } }", "estimate"),
    ("mutation($id: ID!) { addComment(subjectId: $id, body: \"hi\") { id } }", "invoice"),
    ("mutation($id: ID!) { recordPayment(input: {invoiceId: $id, amount: \"1\"}) { id } }", "invoice"),
    ("mutation($id: ID!) { setAchEnabled(customerId: $id, enabled: true) { id } }", "customer"),
    ("mutation($id: ID!) { createProject(customerId: $id, name: \"P\") { id } }", "customer"),
    ("mutation($id: ID!) { addProjectTask(projectId: $id, name: \"T\") { id } }", "project"),
    ("mutation($id: ID!) { enablePortalAccess(contactPersonIds: [$id]) { id } }", "contact"),
    ("mutation($id: ID!) { disablePortalAccess(contactPersonIds: [$id]) { id } }", "contact"),
    ("mutation($id: ID!) { requestReview(contactPersonIds: [$id]) }", "contact"),
    ("mutation($id: ID!) { addContactPerson(customerId: $id, input: {firstName: \"A\", email: \"a@iso.example.com\"}) "
     "{ id } }", "customer"),
    ("mutation($id: ID!) { createInvoice(input: {customerId: $id, lineItems: [{name: \"x\", quantity: \"1\", "
     "rate: \"1\"}]}) { id } }", "customer"),
]


async def someone_elses(business, mailbox) -> dict:
    """A customer with one of everything, and the ids of it all."""
    customer = await business.customer("Someone Else")
    invoice = await business.invoice(customer["id"])
    estimate = await business.estimate(customer["id"])
    payment = await business.staff.data(
        "mutation($id: ID!) { recordPayment(input: {invoiceId: $id, amount: \"1\"}) { id } }", id=invoice["id"])
    project = await business.staff.data(
        "mutation($id: ID!) { createProject(customerId: $id, name: \"P\") { id } }", id=customer["id"])
    _, contact = await business.portal_user(customer["id"], f"else@{business.portal_name}.example.com", mailbox)
    return {"customer": customer["id"], "invoice": invoice["id"], "estimate": estimate["id"],
            "payment": payment["recordPayment"]["id"], "project": project["createProject"]["id"],
            "contact": contact["id"]}


async def test_another_customers_ids_are_not_found_for_a_contact(business, mailbox, app):
    theirs = await someone_elses(business, mailbox)
    mine = await business.customer("Mine")
    portal, _ = await business.portal_user(mine["id"], f"mine@{business.portal_name}.example.com", mailbox)
    await mailbox.to("nobody")
    events, emails = await activity_kinds(app, business.organization_id), await outbox_count(app)

    for operation, target in CONTACT_OPERATIONS:
        assert await portal.error_code(operation, id=theirs[target]) == "NOT_FOUND", (operation, target)

    assert await activity_kinds(app, business.organization_id) == events
    assert await outbox_count(app) == emails


async def test_another_organizations_ids_are_not_found_for_staff(business, other_business, mailbox, app):
    theirs = await someone_elses(business, mailbox)
    events, emails = await activity_kinds(app, business.organization_id), await outbox_count(app)

    for operation, target in STAFF_OPERATIONS:
        assert await other_business.staff.error_code(operation, id=theirs[target]) == "NOT_FOUND", (operation, target)

    assert await activity_kinds(app, business.organization_id) == events
    assert await outbox_count(app) == emails


async def test_contacts_are_refused_staff_operations_and_strangers_everything(business, mailbox, gql):
    customer = await business.customer()
    portal, contact = await business.portal_user(customer["id"], f"c@{business.portal_name}.example.com", mailbox)
    ids = {"customer": customer["id"], "contact": contact["id"]}

    for operation, target in STAFF_OPERATIONS[10:]:
        if target in ids and not operation.startswith("query"):
            assert await portal.error_code(operation, id=ids[target]) == "FORBIDDEN", operation
    for operation, target in CONTACT_OPERATIONS:
        assert await gql.error_code(operation, id=ids.get(target, customer["id"])) == "UNAUTHENTICATED", operation
