"""A statement of hundreds of invoices: the answer computed from the rows themselves, at a number of SQL statements
that does not grow with them."""
from datetime import date, timedelta
from decimal import Decimal

from portal.core.ids import from_global_id
from portal.models.invoices import Invoice, InvoiceStatus
from portal.models.payments import Payment

STATEMENT = """query($c: ID) { statement(customerId: $c, from: "2025-01-01", to: "2025-12-31") {
  openingBalance invoicedAmount amountPaid closingBalance lines { date kind reference amount payment balance } } }"""
WITH_DOCUMENTS = """query($c: ID) { statement(customerId: $c, from: "2025-01-01", to: "2025-12-31") {
  closingBalance lines { reference ...shown } } }
fragment shown on StatementLine { document { __typename ... on Invoice { number total } ... on Payment { number } } }"""
START, END = date(2025, 1, 1), date(2025, 12, 31)


def amount(n: int) -> Decimal:
    return Decimal(n * 7919 % 100_000 + 1).scaleb(-2)


async def add_history(app, business, customer: dict, invoices: int, first_number: int) -> None:
    """`invoices` billed invoices dated over 2025, a tenth of them before it, drafts and voids beside them, and a
    payment for every third; numbers from `first_number` on, beyond those the business gives out."""
    _, organization_id = from_global_id(business.organization_id)
    _, customer_id = from_global_id(customer["id"])
    rows: list[Invoice | Payment] = []
    for n in range(invoices):
        number = first_number + n
        day = START + timedelta(days=n * 365 // invoices - (40 if n % 10 == 0 else 0))
        status = InvoiceStatus.VOID if n % 17 == 0 else InvoiceStatus.DRAFT if n % 19 == 0 else InvoiceStatus.SENT
        rows.append(Invoice(organization_id=organization_id, customer_id=customer_id, number=f"INV-{number}",
                            date=day, due_date=day + timedelta(days=30), status=status, currency="USD",
                            sub_total=amount(n), tax_total=Decimal("0.00"), total=amount(n)))
        if n % 3 == 0:
            rows.append(Payment(organization_id=organization_id, customer_id=customer_id, number=f"PAY-{number}",
                                date=day + timedelta(days=n % 2), amount=amount(n + 1), currency="USD",
                                method="OFFLINE"))
    async with app.state.services.session_factory() as session:
        session.add_all(rows)
        await session.commit()


async def expected_statement(app, customer: dict) -> dict:
    """The statement computed here from the customer's rows: billed invoices and payments up to the end, the
    period's by date, on one day invoices first, each in number order."""
    from sqlalchemy import select

    _, customer_id = from_global_id(customer["id"])
    async with app.state.services.session_factory() as session:
        invoices = [row for row in await session.scalars(select(Invoice).where(Invoice.customer_id == customer_id))
                    if row.status not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID) and row.date <= END]
        payments = [row for row in await session.scalars(select(Payment).where(Payment.customer_id == customer_id))
                    if row.date <= END]
    opening = (sum((row.total for row in invoices if row.date < START), Decimal("0.00"))
               - sum((row.amount for row in payments if row.date < START), Decimal("0.00")))
    entries = sorted([(row.date, 0, row.number, row.total, Decimal("0.00")) for row in invoices if row.date >= START]
                     + [(row.date, 1, row.number, Decimal("0.00"), row.amount) for row in payments
                        if row.date >= START])
    balance, lines = opening, [{"date": START.isoformat(), "kind": "OPENING_BALANCE", "reference": "Opening balance",
                                "amount": "0.00", "payment": "0.00", "balance": str(opening)}]
    for day, order, number, debit, credit in entries:
        balance += debit - credit
        lines.append({"date": day.isoformat(), "kind": ("INVOICE", "PAYMENT")[order], "reference": number,
                      "amount": str(debit), "payment": str(credit), "balance": str(balance)})
    invoiced = sum((entry[3] for entry in entries), Decimal("0.00"))
    paid = sum((entry[4] for entry in entries), Decimal("0.00"))
    return {"openingBalance": str(opening), "invoicedAmount": str(invoiced), "amountPaid": str(paid),
            "closingBalance": str(opening + invoiced - paid), "lines": lines}


async def test_a_statement_of_500_invoices_is_the_one_computed_from_its_rows(app, business, mailbox):
    customer = await business.customer("Bulk Buyer")
    neighbour = await business.customer("Next Door")
    await add_history(app, business, customer, 500, first_number=90_000)
    await add_history(app, business, neighbour, 50, first_number=95_000)
    portal, _ = await business.portal_user(customer["id"], f"bulk@{business.portal_name}.example.com", mailbox)

    statement = (await portal.data(STATEMENT))["statement"]

    assert statement == await expected_statement(app, customer)
    assert len([line for line in statement["lines"] if line["kind"] == "INVOICE"]) > 400


async def test_the_sql_statements_of_a_statement_do_not_grow_with_its_invoices(app, business, count_statements):
    small, large = await business.customer("Small"), await business.customer("Large")
    await add_history(app, business, small, 5, first_number=80_000)
    await add_history(app, business, large, 500, first_number=81_000)

    counts = {}
    for name, query in (("lines", STATEMENT), ("documents", WITH_DOCUMENTS)):
        for size, customer in (("small", small), ("large", large)):
            with count_statements() as counter:
                lines = (await business.staff.data(query, c=customer["id"]))["statement"]["lines"]
            counts[name, size] = counter.count
            if name == "documents":
                assert [line["document"]["number"] for line in lines[1:]] == [line["reference"] for line in lines[1:]]

    assert counts["lines", "small"] == counts["lines", "large"]
    assert counts["documents", "small"] == counts["documents", "large"] == counts["lines", "large"]
