"""`statuses:` lists what has any of them, computed statuses (OVERDUE, EXPIRED) included, in SQL."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from factories import RECORD_PAYMENT

ONE_LINE = [{"name": "Work", "quantity": "1", "rate": "100"}]
INVOICES = """query($status: InvoiceStatus, $statuses: [InvoiceStatus!], $first: Int) {
  invoices(status: $status, statuses: $statuses, first: $first) {
    totalCount edges { node { number status } } } }"""
ESTIMATES = """query($status: EstimateStatus, $statuses: [EstimateStatus!]) {
  estimates(status: $status, statuses: $statuses) { totalCount edges { node { number status } } } }"""
TIME_ZONE = "mutation($zone: String!) { updateOrganization(input: {timeZone: $zone}) { timeZone } }"
VOID = "mutation($id: ID!) { voidInvoice(id: $id) { id } }"


def days_ago(days: int) -> str:
    return (date.today() - timedelta(days=days)).isoformat()


def listed(connection: dict) -> dict[str, str]:
    """Number → status of each listed document; the total must agree with the page."""
    assert connection["totalCount"] == len(connection["edges"])
    return {edge["node"]["number"]: edge["node"]["status"] for edge in connection["edges"]}


async def invoices_of_every_status(business) -> dict[str, str]:
    """One invoice per status, by status."""
    customer = await business.customer()
    numbers = {}

    async def invoice(status, send=True, **dates):
        numbers[status] = (await business.invoice(customer["id"], ONE_LINE, send=send, **dates))["number"]
        return numbers[status]

    await invoice("DRAFT", send=False)
    await invoice("SENT")
    await invoice("OVERDUE", date=days_ago(40), dueDate=days_ago(10))
    partly = await business.invoice(customer["id"], ONE_LINE)
    numbers["PARTIALLY_PAID"] = partly["number"]
    await business.staff.data(RECORD_PAYMENT, input={"invoiceId": partly["id"], "amount": "10"})
    late_and_partly = await business.invoice(customer["id"], ONE_LINE, date=days_ago(50), dueDate=days_ago(20))
    numbers["OVERDUE, partly paid"] = late_and_partly["number"]
    await business.staff.data(RECORD_PAYMENT, input={"invoiceId": late_and_partly["id"], "amount": "10"})
    paid = await business.invoice(customer["id"], ONE_LINE)
    numbers["PAID"] = paid["number"]
    await business.staff.data(RECORD_PAYMENT, input={"invoiceId": paid["id"], "amount": "100"})
    void = await business.invoice(customer["id"], ONE_LINE)
    numbers["VOID"] = void["number"]
    await business.staff.data(VOID, id=void["id"])
    return numbers


async def test_statuses_match_any_of_them_as_of_today(business):
    numbers = await invoices_of_every_status(business)

    outstanding = listed((await business.staff.data(INVOICES, statuses=["SENT", "PARTIALLY_PAID", "OVERDUE"]))
                         ["invoices"])
    overdue = listed((await business.staff.data(INVOICES, statuses=["OVERDUE"]))["invoices"])
    sent = listed((await business.staff.data(INVOICES, statuses=["SENT"]))["invoices"])
    settled = listed((await business.staff.data(INVOICES, statuses=["PAID", "VOID", "PAID"]))["invoices"])

    assert outstanding == {numbers["SENT"]: "SENT", numbers["PARTIALLY_PAID"]: "PARTIALLY_PAID",
                           numbers["OVERDUE"]: "OVERDUE", numbers["OVERDUE, partly paid"]: "OVERDUE"}
    assert overdue == {numbers["OVERDUE"]: "OVERDUE", numbers["OVERDUE, partly paid"]: "OVERDUE"}
    assert sent == {numbers["SENT"]: "SENT"}  # a sent invoice past its due date is OVERDUE, not SENT
    assert settled == {numbers["PAID"]: "PAID", numbers["VOID"]: "VOID"}


async def test_statuses_and_status_together_keep_what_both_allow(business):
    numbers = await invoices_of_every_status(business)

    both = listed((await business.staff.data(INVOICES, status="OVERDUE", statuses=["SENT", "OVERDUE"]))["invoices"])
    neither = listed((await business.staff.data(INVOICES, status="PAID", statuses=["SENT"]))["invoices"])
    every = listed((await business.staff.data(INVOICES, statuses=[], first=100))["invoices"])

    assert both == {numbers["OVERDUE"]: "OVERDUE", numbers["OVERDUE, partly paid"]: "OVERDUE"}
    assert neither == {}
    assert len(every) == len(numbers)  # an empty list filters nothing


async def test_contact_persons_never_get_drafts_even_when_asking_for_them(business, mailbox):
    numbers = await invoices_of_every_status(business)
    customer_id = (await business.staff.data("{ customers { edges { node { id } } } }"))["customers"]["edges"][0]
    portal, _ = await business.portal_user(customer_id["node"]["id"], "filters@acme.example.com", mailbox)

    drafts = listed((await portal.data(INVOICES, statuses=["DRAFT", "VOID"]))["invoices"])

    assert drafts == {numbers["VOID"]: "VOID"}


async def test_overdue_is_judged_by_the_organizations_today(business):
    # 26 hours apart: whatever the hour, "today" is a later date in the first zone than in the second.
    ahead, behind = "Etc/GMT-14", "Etc/GMT+12"
    due = datetime.now(ZoneInfo(behind)).date().isoformat()
    customer = await business.customer()
    invoice = await business.invoice(customer["id"], ONE_LINE, date=due, dueDate=due)

    await business.staff.data(TIME_ZONE, zone=behind)
    on_time = listed((await business.staff.data(INVOICES, statuses=["OVERDUE"]))["invoices"])
    still_sent = listed((await business.staff.data(INVOICES, statuses=["SENT"]))["invoices"])
    await business.staff.data(TIME_ZONE, zone=ahead)
    late = listed((await business.staff.data(INVOICES, statuses=["OVERDUE"]))["invoices"])

    assert on_time == {}
    assert still_sent == {invoice["number"]: "SENT"}
    assert late == {invoice["number"]: "OVERDUE"}


async def test_expired_estimates_are_filtered_by_their_expiry_date(business):
    customer = await business.customer()
    expired = await business.estimate(customer["id"], ONE_LINE, date=days_ago(30), expiryDate=days_ago(1))
    open_one = await business.estimate(customer["id"], ONE_LINE, expiryDate=days_ago(-10))
    never_expires = await business.estimate(customer["id"], ONE_LINE)
    draft = await business.estimate(customer["id"], ONE_LINE, send=False)

    sent = listed((await business.staff.data(ESTIMATES, statuses=["SENT"]))["estimates"])
    expired_ones = listed((await business.staff.data(ESTIMATES, statuses=["EXPIRED"]))["estimates"])
    answerable_or_draft = listed((await business.staff.data(ESTIMATES, statuses=["SENT", "DRAFT"]))["estimates"])
    both = listed((await business.staff.data(ESTIMATES, status="SENT", statuses=["EXPIRED"]))["estimates"])

    assert sent == {open_one["number"]: "SENT", never_expires["number"]: "SENT"}
    assert expired_ones == {expired["number"]: "EXPIRED"}
    assert answerable_or_draft == {open_one["number"]: "SENT", never_expires["number"]: "SENT",
                                   draft["number"]: "DRAFT"}
    assert both == {}
