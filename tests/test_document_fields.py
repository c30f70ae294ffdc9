"""Whose each document and payment is, and what each statement line shows: answered in batches."""
from factories import RECORD_PAYMENT

ONE_LINE = [{"name": "Work", "quantity": "1", "rate": "100"}]
INVOICES = """query($customer: Boolean!) { invoices(first: 20) { edges { node { number
  customer @include(if: $customer) { id displayName } } } } }"""
ESTIMATES = "{ estimates(first: 20) { edges { node { number customer { id displayName } } } } }"
PAYMENTS = "{ payments(first: 20) { edges { node { number customer { id displayName } } } } }"
TRANSACTIONS = """query($customer: Boolean!) { transactions(first: 20) { edges { node {
  ... on Document { number customer @include(if: $customer) { id } }
  ... on Payment { number customer @include(if: $customer) { id } } } } } }"""
STATEMENT = """query($c: ID, $documents: Boolean!) { statement(customerId: $c, from: "2023-12-01") {
  lines { kind reference document @include(if: $documents) { __typename id
    ... on Invoice { number customer { id } } ... on Payment { number customer { id } } } } } }"""
NODE = "query($id: ID!) { node(id: $id) { ... on Document { customer { id displayName } } } }"


def owners(connection: dict) -> dict[str, str]:
    return {edge["node"]["number"]: edge["node"]["customer"]["id"] for edge in connection["edges"]}


async def test_every_document_and_payment_says_whose_it_is(business):
    acme, globex = await business.customer("Acme Corp"), await business.customer("Globex")
    expected = {}
    for customer in (acme, globex):
        invoice = await business.invoice(customer["id"], ONE_LINE)
        estimate = await business.estimate(customer["id"], ONE_LINE)
        payment = await business.staff.data(RECORD_PAYMENT, input={"invoiceId": invoice["id"], "amount": "10"})
        expected |= {invoice["number"]: customer["id"], estimate["number"]: customer["id"],
                     payment["recordPayment"]["number"]: customer["id"]}

    invoices = (await business.staff.data(INVOICES, customer=True))["invoices"]
    estimates = (await business.staff.data(ESTIMATES))["estimates"]
    payments = (await business.staff.data(PAYMENTS))["payments"]

    assert owners(invoices) | owners(estimates) | owners(payments) == expected
    assert {edge["node"]["customer"]["displayName"] for edge in invoices["edges"]} == {"Acme Corp", "Globex"}


async def test_a_contact_person_sees_their_own_customer_and_no_other(business, other_business, mailbox):
    acme, globex = await business.customer("Acme Corp"), await business.customer("Globex")
    mine = await business.invoice(acme["id"], ONE_LINE)
    theirs = await business.invoice(globex["id"], ONE_LINE)
    elsewhere = await other_business.invoice((await other_business.customer())["id"], ONE_LINE)
    portal, _ = await business.portal_user(acme["id"], "owner-check@acme.example.com", mailbox)

    listed = (await portal.data(INVOICES, customer=True))["invoices"]
    node = (await portal.data(NODE, id=mine["id"]))["node"]

    assert owners(listed) == {mine["number"]: acme["id"]}
    assert node["customer"] == {"id": acme["id"], "displayName": "Acme Corp"}
    assert await portal.error_code(NODE, id=theirs["id"]) == "NOT_FOUND"
    assert await business.staff.error_code(NODE, id=elsewhere["id"]) == "NOT_FOUND"


async def test_a_page_of_twenty_with_their_customers_costs_one_statement_more(business, count_statements):
    customers = [await business.customer(f"Customer {number}") for number in range(5)]
    for number in range(20):
        invoice = await business.invoice(customers[number % 5]["id"], ONE_LINE)
        if number % 4 == 0:
            await business.staff.data(RECORD_PAYMENT, input={"invoiceId": invoice["id"], "amount": "1"})
        if number % 2 == 0:
            await business.estimate(customers[number % 5]["id"], ONE_LINE)

    for query in (INVOICES, TRANSACTIONS):
        with count_statements() as without_customers:
            plain = await business.staff.data(query, customer=False)
        with count_statements() as with_customers:
            rich = await business.staff.data(query, customer=True)

        assert len(next(iter(rich.values()))["edges"]) == len(next(iter(plain.values()))["edges"]) == 20
        assert with_customers.count == without_customers.count + 1, query


async def test_statement_lines_point_at_their_invoice_or_payment_at_no_cost(business, mailbox, count_statements):
    customer = await business.customer()
    invoices = [await business.invoice(customer["id"], ONE_LINE, date=f"2024-0{month}-01") for month in (1, 2, 3)]
    payment = await business.staff.data(RECORD_PAYMENT, input={"invoiceId": invoices[0]["id"], "amount": "100",
                                                               "date": "2024-01-15"})
    portal, _ = await business.portal_user(customer["id"], "statement@acme.example.com", mailbox)

    with count_statements() as plain:
        await portal.data(STATEMENT, documents=False)
    with count_statements() as with_documents:
        lines = (await portal.data(STATEMENT, documents=True))["statement"]["lines"]

    assert [(line["kind"], line["document"] and line["document"]["id"]) for line in lines] == [
        ("OPENING_BALANCE", None), ("INVOICE", invoices[0]["id"]), ("PAYMENT", payment["recordPayment"]["id"]),
        ("INVOICE", invoices[1]["id"]), ("INVOICE", invoices[2]["id"])]
    assert all(line["document"]["number"] == line["reference"] for line in lines[1:])
    assert {line["document"]["__typename"] for line in lines[1:]} == {"Invoice", "Payment"}
    assert with_documents.count == plain.count + 1  # their customer, once


PAGE_LINES = [
    "{ invoices(first: 20) { edges { node { number lineItems { name amount } } } } }",
    "{ invoices(first: 20) { edges { node { number ... on Document { lineItems { name amount } id } } } } }",
    "{ invoices(first: 20) { ...page } } fragment page on InvoiceConnection { edges { node { number "
    "lineItems { name amount } } } }",
    "{ estimates(first: 20) { edges { node { number lineItems { name amount } } } } }",
]


async def test_a_pages_line_items_come_with_the_page_in_one_statement(business, monkeypatch, count_statements):
    from portal.schema import documents

    customer = await business.customer()
    for _ in range(3):
        await business.invoice(customer["id"], ONE_LINE)
        await business.estimate(customer["id"], ONE_LINE)
    awaited = []
    held_lines = documents.held
    def noted(loader, key):
        lines = held_lines(loader, key)
        if lines is None:
            awaited.append(key)
        return lines

    monkeypatch.setattr(documents, "held", noted)

    for query in PAGE_LINES:
        with count_statements() as counted:
            page = next(iter((await business.staff.data(query)).values()))
        assert [edge["node"]["lineItems"] for edge in page["edges"]] == [[{"name": "Work", "amount": "100.00"}]] * 3
        assert awaited == [], query  # every document's lines were there when it was completed
        assert counted.count == await _statements_of_a_page_without_lines(business, query, count_statements) + 1

    one = page["edges"][0]["node"]["number"]
    invoice = (await business.staff.data("{ invoices(first: 1) { edges { node { id } } } }"))["invoices"]
    lines = await business.staff.data("query($id: ID!) { node(id: $id) { ... on Invoice { lineItems { name } } } }",
                                      id=invoice["edges"][0]["node"]["id"])
    assert one and lines["node"]["lineItems"] == [{"name": "Work"}] and len(awaited) == 1  # one document: its loader


async def _statements_of_a_page_without_lines(business, query: str, count_statements) -> int:
    with count_statements() as counted:
        await business.staff.data(query.replace("lineItems { name amount }", ""))
    return counted.count
