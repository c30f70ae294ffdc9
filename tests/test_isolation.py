"""Another customer's or organization's object answers exactly like a missing one."""
from factories import RECORD_PAYMENT

NODE = "query($id: ID!) { node(id: $id) { id } }"
SEND = "mutation($id: ID!) { sendInvoice(id: $id) { id } }"
ADD_CONTACT = """mutation($id: ID!) {
  addContactPerson(customerId: $id, input: {firstName: "E", email: "e@x.example.com"}) { id } }"""
MISSING_INVOICE = "SW52b2ljZTo5OTk5OTk5"  # Invoice:9999999


async def test_another_organizations_ids_are_not_found(business, other_business, mailbox):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    _portal, contact = await business.portal_user(customer["id"], "iso@client.example.com", mailbox)

    for object_id in (customer["id"], invoice["id"], contact["id"], business.organization_id):
        missing = await other_business.staff.request(NODE, id=object_id)
        assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND", object_id
        assert missing["errors"][0]["message"].endswith("not found.")
    assert await other_business.staff.error_code(SEND, id=invoice["id"]) == "NOT_FOUND"
    assert await other_business.staff.error_code(ADD_CONTACT, id=customer["id"]) == "NOT_FOUND"
    assert await other_business.staff.error_code(RECORD_PAYMENT, input={"invoiceId": invoice["id"],
                                                                        "amount": "1"}) == "NOT_FOUND"


async def test_a_foreign_id_answers_exactly_like_a_missing_one(business, other_business):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])

    foreign = await other_business.staff.request(NODE, id=invoice["id"])
    missing = await other_business.staff.request(NODE, id=MISSING_INVOICE)

    assert foreign["errors"][0]["message"] == missing["errors"][0]["message"]
    assert foreign["errors"][0]["extensions"] == missing["errors"][0]["extensions"]


async def test_a_contact_sees_only_their_customers_sent_documents(business, mailbox):
    mine = await business.customer("Mine")
    theirs = await business.customer("Theirs")
    my_invoice = await business.invoice(mine["id"])
    my_draft = await business.invoice(mine["id"], send=False)
    their_invoice = await business.invoice(theirs["id"])
    portal, _ = await business.portal_user(mine["id"], "mine@client.example.com", mailbox)

    assert (await portal.data(NODE, id=my_invoice["id"]))["node"]["id"] == my_invoice["id"]
    for object_id in (my_draft["id"], their_invoice["id"], theirs["id"]):
        assert await portal.error_code(NODE, id=object_id) == "NOT_FOUND"
    listed = await portal.data("{ invoices { totalCount edges { node { id } } } }")
    assert [edge["node"]["id"] for edge in listed["invoices"]["edges"]] == [my_invoice["id"]]
    assert await portal.error_code("query($c: ID) { invoices(customerId: $c) { totalCount } }",
                                   c=theirs["id"]) == "NOT_FOUND"


async def test_malformed_and_mistyped_ids(business):
    customer = await business.customer()

    assert await business.staff.error_code(NODE, id="not an id!") == "BAD_USER_INPUT"
    assert await business.staff.error_code(SEND, id=customer["id"]) == "NOT_FOUND"
