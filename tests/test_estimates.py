"""Estimates: sending, answering, reworking and invoicing."""
from datetime import date, timedelta

from factories import TWO_LINES

ACCEPT = "mutation($id: ID!) { acceptEstimate(id: $id) { id status acceptedAt } }"
DECLINE = "mutation($id: ID!, $r: String) { declineEstimate(id: $id, reason: $r) { id status declineReason } }"
UPDATE = """mutation($id: ID!, $input: EstimateInput!) { updateEstimate(id: $id, input: $input) { id status total } }"""
SEND = "mutation($id: ID!) { sendEstimate(id: $id) { id status } }"
CONVERT = "mutation($id: ID!) { convertEstimateToInvoice(id: $id) { id status total lineItems { name } } }"
ESTIMATE = "query($id: ID!) { node(id: $id) { ... on Estimate { status } } }"
ACTIVITY_KINDS = "SELECT kind FROM activity_events WHERE organization_id = :org ORDER BY sequence"


async def test_a_customer_accepts_and_the_owner_invoices(business, mailbox):
    customer = await business.customer()
    estimate = await business.estimate(customer["id"])
    portal, _ = await business.portal_user(customer["id"], "yes@client.example.com", mailbox)

    accepted = await portal.data(ACCEPT, id=estimate["id"])
    invoice = await business.staff.data(CONVERT, id=estimate["id"])

    assert accepted["acceptEstimate"]["status"] == "ACCEPTED"
    assert invoice["convertEstimateToInvoice"]["status"] == "DRAFT"
    assert invoice["convertEstimateToInvoice"]["total"] == estimate["total"]
    assert [line["name"] for line in invoice["convertEstimateToInvoice"]["lineItems"]] == ["Design", "Hosting"]
    assert (await business.staff.data(ESTIMATE, id=estimate["id"]))["node"]["status"] == "INVOICED"
    [notice] = [m for m in await mailbox.to(business.owner_email) if "accepted" in m["Subject"]]
    assert estimate["number"] in notice["Subject"]


async def test_a_declined_estimate_is_reworked_and_sent_again(business, mailbox):
    customer = await business.customer()
    estimate = await business.estimate(customer["id"])
    portal, _ = await business.portal_user(customer["id"], "no@client.example.com", mailbox)

    declined = await portal.data(DECLINE, id=estimate["id"], r="Too <b>expensive</b>")
    assert declined["declineEstimate"] == {"id": estimate["id"], "status": "DECLINED",
                                           "declineReason": "Too <b>expensive</b>"}
    assert await portal.error_code(ACCEPT, id=estimate["id"]) == "CONFLICT"
    assert await business.staff.error_code(SEND, id=estimate["id"]) == "CONFLICT"

    cheaper = [{**TWO_LINES[0], "rate": "100"}]
    reworked = await business.staff.data(UPDATE, id=estimate["id"],
                                         input={"customerId": customer["id"], "lineItems": cheaper})
    assert reworked["updateEstimate"]["status"] == "DRAFT"
    assert await portal.error_code(ACCEPT, id=estimate["id"]) == "NOT_FOUND"  # a draft is not shown
    await business.staff.data(SEND, id=estimate["id"])
    assert (await portal.data(ACCEPT, id=estimate["id"]))["acceptEstimate"]["status"] == "ACCEPTED"

    [notice] = [m for m in await mailbox.to(business.owner_email) if "declined" in m["Subject"]]
    assert "Too <b>expensive</b>" in notice.get_body(("plain",)).get_content()
    assert "Too &lt;b&gt;expensive&lt;/b&gt;" in notice.get_body(("html",)).get_content()


async def test_only_a_sent_unexpired_estimate_can_be_answered(business, mailbox):
    customer = await business.customer()
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    expired = await business.estimate(customer["id"], date=(date.today() - timedelta(days=30)).isoformat(),
                                      expiryDate=yesterday)
    portal, _ = await business.portal_user(customer["id"], "late@client.example.com", mailbox)

    body = await portal.request(ACCEPT, id=expired["id"])

    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "EXPIRED" in body["errors"][0]["message"]
    assert (await business.staff.data(ESTIMATE, id=expired["id"]))["node"]["status"] == "EXPIRED"


async def test_staff_cannot_answer_for_the_customer(business):
    customer = await business.customer()
    estimate = await business.estimate(customer["id"])

    assert await business.staff.error_code(ACCEPT, id=estimate["id"]) == "FORBIDDEN"


async def test_only_an_accepted_estimate_becomes_an_invoice(business):
    customer = await business.customer()
    estimate = await business.estimate(customer["id"])

    assert await business.staff.error_code(CONVERT, id=estimate["id"]) == "CONFLICT"


async def test_estimates_filter_by_status(business, mailbox):
    customer = await business.customer()
    await business.estimate(customer["id"], send=False)
    sent = await business.estimate(customer["id"])
    await business.estimate(customer["id"], date="2020-01-01", expiryDate="2020-02-01")

    query = "query($s: EstimateStatus) { estimates(status: $s) { totalCount edges { node { id status } } } }"
    only_sent = await business.staff.data(query, s="SENT")
    expired = await business.staff.data(query, s="EXPIRED")
    everything = await business.staff.data(query)

    assert [edge["node"]["id"] for edge in only_sent["estimates"]["edges"]] == [sent["id"]]
    assert expired["estimates"]["totalCount"] == 1
    assert everything["estimates"]["totalCount"] == 3
