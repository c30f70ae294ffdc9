"""The dashboard, the statement and the transactions list, against sums computed from the documents."""
from datetime import date, timedelta
from decimal import Decimal

from factories import RECORD_PAYMENT

DASHBOARD = """query($c: ID) { dashboard(customerId: $c) { currency bannerMessage estimatesAwaitingApproval
  outstandingInvoices { count total } outstandingRetainerInvoices { count total } lastPayment { number amount } } }"""
STATEMENT = """query($from: Date, $to: Date, $c: ID) { statement(from: $from, to: $to, customerId: $c) {
  from to currency openingBalance invoicedAmount amountPaid closingBalance pdfUrl
  lines { date kind reference amount payment balance } } }"""
TRANSACTIONS = """query($first: Int, $after: String) { transactions(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { __typename ... on Invoice { number } ... on Estimate { number } ... on Payment { number } } }
} }"""
VOID = "mutation($id: ID!) { voidInvoice(id: $id) { id } }"
ONE_LINE = [{"name": "Work", "quantity": "1", "rate": "100"}]


def days_ago(days: int) -> str:
    return (date.today() - timedelta(days=days)).isoformat()


async def a_customer_with_history(business, mailbox):
    customer = await business.customer()
    old = await business.invoice(customer["id"], ONE_LINE, date=days_ago(70), dueDate=days_ago(40))
    await business.staff.data(RECORD_PAYMENT, input={"invoiceId": old["id"], "amount": "30", "date": days_ago(65)})
    overdue = await business.invoice(customer["id"], [{"name": "B", "quantity": "2", "rate": "50"}],
                                     date=days_ago(45), dueDate=days_ago(15))
    partial = await business.invoice(customer["id"], [{"name": "C", "quantity": "1", "rate": "80"}],
                                     date=days_ago(5))
    await business.staff.data(RECORD_PAYMENT, input={"invoiceId": partial["id"], "amount": "20", "date": days_ago(3)})
    await business.invoice(customer["id"], [{"name": "R", "quantity": "1", "rate": "500"}], kind="RETAINER",
                           date=days_ago(4))
    void = await business.invoice(customer["id"], ONE_LINE, date=days_ago(6))
    await business.staff.data(VOID, id=void["id"])
    await business.invoice(customer["id"], ONE_LINE, send=False)
    await business.estimate(customer["id"])
    await business.estimate(customer["id"], send=False)
    await business.estimate(customer["id"], date=days_ago(40), expiryDate=days_ago(10))
    portal, _ = await business.portal_user(customer["id"], f"history@{business.portal_name}.example.com", mailbox)
    return customer, portal, overdue


async def test_the_dashboard_adds_up(business, mailbox):
    await business.staff.data("mutation { updatePortalSettings(input: {bannerMessage: \"Hi!\"}) { portalName } }")
    customer, portal, _ = await a_customer_with_history(business, mailbox)

    mine = (await portal.data(DASHBOARD))["dashboard"]
    staff = (await business.staff.data(DASHBOARD, c=customer["id"]))["dashboard"]

    # standard: 100 - 30 + 100 + 80 - 20 = 230 in three invoices; the void and the draft owe nothing
    assert mine == staff == {
        "currency": "USD", "bannerMessage": "Hi!", "estimatesAwaitingApproval": 1,
        "outstandingInvoices": {"count": 3, "total": "230.00"},
        "outstandingRetainerInvoices": {"count": 1, "total": "500.00"},
        "lastPayment": {"number": "PAY-00002", "amount": "20.00"},
    }
    assert await business.staff.error_code(DASHBOARD) == "BAD_USER_INPUT"


async def test_the_dashboard_costs_the_same_statements_however_many_documents(business, mailbox, count_statements):
    customer, portal, _ = await a_customer_with_history(business, mailbox)
    with count_statements() as before:
        await portal.data(DASHBOARD)
    for _ in range(5):
        invoice = await business.invoice(customer["id"], ONE_LINE)
        await business.staff.data(RECORD_PAYMENT, input={"invoiceId": invoice["id"], "amount": "1"})
        await business.estimate(customer["id"])

    with count_statements() as after:
        mine = (await portal.data(DASHBOARD))["dashboard"]

    assert (mine["outstandingInvoices"]["count"], mine["estimatesAwaitingApproval"]) == (8, 6)
    assert 0 < after.count == before.count


async def test_the_dashboard_adds_up_to_the_cent_at_the_largest_amounts(business, mailbox):
    customer = await business.customer()
    largest = [{"name": "All of it", "quantity": "100", "rate": "9999999999.9999"}]  # 999,999,999,999.99
    invoices = [await business.invoice(customer["id"], largest) for _ in range(3)]
    await business.staff.data(RECORD_PAYMENT, input={"invoiceId": invoices[0]["id"], "amount": "0.01"})
    portal, _ = await business.portal_user(customer["id"], f"large@{business.portal_name}.example.com", mailbox)

    owed = (await portal.data(DASHBOARD))["dashboard"]["outstandingInvoices"]

    assert owed == {"count": 3, "total": "2999999999999.96"}


async def test_another_customers_dashboard_is_not_found(business, other_business, mailbox):
    mine, portal, _ = await a_customer_with_history(business, mailbox)
    theirs = await business.customer("Someone Else")

    assert await portal.error_code(DASHBOARD, c=theirs["id"]) == "NOT_FOUND"
    assert await other_business.staff.error_code(DASHBOARD, c=mine["id"]) == "NOT_FOUND"
    assert (await portal.data(DASHBOARD, c=mine["id"]))["dashboard"]["currency"] == "USD"


async def test_the_statement_runs_a_balance(business, mailbox):
    _customer, portal, _ = await a_customer_with_history(business, mailbox)

    statement = (await portal.data(STATEMENT, **{"from": days_ago(50), "to": days_ago(0)}))["statement"]

    # before the period: invoice 100 - payment 30 = 70 opening
    assert statement["openingBalance"] == "70.00"
    lines = [(line["kind"], line["amount"], line["payment"], line["balance"]) for line in statement["lines"]]
    assert lines == [
        ("OPENING_BALANCE", "0.00", "0.00", "70.00"),
        ("INVOICE", "100.00", "0.00", "170.00"),
        ("INVOICE", "80.00", "0.00", "250.00"),
        ("INVOICE", "500.00", "0.00", "750.00"),
        ("PAYMENT", "0.00", "20.00", "730.00"),
    ]
    assert (statement["invoicedAmount"], statement["amountPaid"], statement["closingBalance"]) == \
        ("680.00", "20.00", "730.00")
    assert statement["pdfUrl"].startswith("http://portal.test/pdf/statement?")
    closing = Decimal(statement["openingBalance"]) + Decimal(statement["invoicedAmount"]) - \
        Decimal(statement["amountPaid"])
    assert str(closing) == statement["closingBalance"]


async def test_the_statement_defaults_to_this_month_and_checks_the_period(business, mailbox):
    _customer, portal, _ = await a_customer_with_history(business, mailbox)

    statement = (await portal.data(STATEMENT))["statement"]

    assert statement["from"] == date.today().replace(day=1).isoformat()
    assert statement["to"] == date.today().isoformat()
    assert await portal.error_code(STATEMENT, **{"from": days_ago(0), "to": days_ago(1)}) == "BAD_USER_INPUT"
    assert await business.staff.error_code(STATEMENT) == "BAD_USER_INPUT"


async def test_paging_two_at_a_time_walks_every_transaction_once(business, mailbox):
    _customer, portal, _ = await a_customer_with_history(business, mailbox)

    seen, after, pages = [], None, 0
    while True:
        page = (await portal.data(TRANSACTIONS, first=2, after=after))["transactions"]
        seen += [edge["node"]["number"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    # 5 sent invoices (one void), 2 payments, 2 sent estimates (one expired); drafts never
    assert len(seen) == len(set(seen)) == page["totalCount"] == 9
    assert pages == 5


async def test_cursors_stay_valid_while_documents_are_added(business, mailbox):
    customer, portal, _ = await a_customer_with_history(business, mailbox)
    first_page = (await portal.data(TRANSACTIONS, first=3))["transactions"]

    await business.invoice(customer["id"], ONE_LINE)
    rest = (await portal.data(TRANSACTIONS, first=100, after=first_page["pageInfo"]["endCursor"]))["transactions"]

    numbers = [edge["node"]["number"] for edge in first_page["edges"] + rest["edges"]]
    assert len(numbers) == len(set(numbers)) == 9
    assert rest["totalCount"] == 10


async def test_void_invoices_are_listed_as_void(business, mailbox):
    _customer, portal, _ = await a_customer_with_history(business, mailbox)

    voids = await portal.data("{ invoices(status: VOID) { totalCount } }")
    overdue = await portal.data("{ invoices(status: OVERDUE) { edges { node { number balanceDue } } } }")

    assert voids["invoices"]["totalCount"] == 1
    assert [edge["node"]["balanceDue"] for edge in overdue["invoices"]["edges"]] == ["100.00", "70.00"]  # newest first


async def test_listing_invoices_with_their_lines_does_not_query_per_invoice(business, mailbox, count_statements):
    customer, portal, _ = await a_customer_with_history(business, mailbox)
    query = """{ invoices(first: 100) { edges { node { number lineItems { name } comments { body }
      payments { number allocations { amount invoice { number } } } } } } }"""
    with count_statements() as before:
        await portal.data(query)
    for _ in range(5):
        invoice = await business.invoice(customer["id"], ONE_LINE)
        await business.staff.data(RECORD_PAYMENT, input={"invoiceId": invoice["id"], "amount": "1"})

    with count_statements() as after:
        await portal.data(query)

    assert 0 < after.count == before.count
