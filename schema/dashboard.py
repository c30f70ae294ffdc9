"""The customer's dashboard and statement of accounts."""
import datetime as dt
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated
from urllib.parse import urlencode

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from portal.core.ids import to_global_id
from portal.models.dashboard import Dashboard as DashboardValue
from portal.models.invoices import Invoice as InvoiceRow
from portal.models.payments import Payment as PaymentRow
from portal.models.statements import Billed, Received, StatementLineKind
from portal.models.statements import Statement as StatementValue
from portal.resolvers import dashboard as resolve
from portal.resolvers.context import Info
from portal.schema.enums import graphql_enum
from portal.schema.invoices import Invoice
from portal.schema.nodes import Node
from portal.schema.payments import Payment
from portal.schema.permissions import IsSignedIn, only
from portal.schema.rows import from_row

graphql_enum(StatementLineKind, name="StatementLineKind", description="What a statement line records.", described={
    StatementLineKind.OPENING_BALANCE: "What the customer owed when the period began; always the first line.",
    StatementLineKind.INVOICE: "An invoice dated in the period: it increases what the customer owes.",
    StatementLineKind.PAYMENT: "A payment dated in the period: it decreases what the customer owes.",
})


@strawberry.type(description="How many, and how much in all.")
class MoneySummary:
    count: int = strawberry.field(description="How many invoices are outstanding.")
    total: Decimal = strawberry.field(description="What is still owed on them: the sum of their balances due.")


@strawberry.type(description="What a customer sees first: what is owed, the last payment, estimates to answer.")
class Dashboard:
    currency: str = strawberry.field(description="The customer's currency, the one every amount here is in.")
    banner_message: str | None = strawberry.field(
        description="The business's message to every customer, from the portal settings; null for none.")
    outstanding_invoices: MoneySummary = strawberry.field(
        description="Standard invoices sent, overdue or partly paid: their count and balance due.")
    outstanding_retainer_invoices: MoneySummary = strawberry.field(description="The same for retainer invoices.")
    last_payment: Payment | None = strawberry.field(
        description="The customer's latest payment by date; null before the first.")
    estimates_awaiting_approval: int = strawberry.field(description="Sent estimates that have not expired.")

    @classmethod
    def from_value(cls, value: DashboardValue) -> "Dashboard":
        return from_row(
            cls, value, outstanding_invoices=from_row(MoneySummary, value.outstanding_invoices),
            outstanding_retainer_invoices=from_row(MoneySummary, value.outstanding_retainer_invoices),
            last_payment=Payment.from_model(value.last_payment) if value.last_payment else None)


@strawberry.type(description="One line of a statement.")
class StatementLine:
    date: dt.date = strawberry.field(
        description="The invoice or payment date; the period's first day for the opening balance.")
    kind: StatementLineKind = strawberry.field(description="Opening balance, invoice or payment.")
    reference: str = strawberry.field(description="The invoice or payment number, or \"Opening balance\".")
    amount: Decimal = strawberry.field(description="Increase of what the customer owes.")
    payment: Decimal = strawberry.field(description="Decrease of what the customer owes.")
    balance: Decimal = strawberry.field(description="Running balance after this line.")
    source: strawberry.Private[Billed | Received | None]

    @strawberry.field(description="The invoice or payment of the line; null for the opening balance.")
    def document(self) -> Node | None:
        # The statement read these rows whole, as this field was asked for: no query, however many lines.
        if isinstance(self.source, InvoiceRow):
            return Invoice.from_model(self.source)
        return Payment.from_model(self.source) if isinstance(self.source, PaymentRow) else None


@strawberry.type(description="A statement of accounts for a period.")
class Statement:
    from_: date = strawberry.field(
        name="from", description="First day of the period; by default the first of the month of `to`.")
    to: date = strawberry.field(
        description="Last day of the period, included; by default today in the organization's time zone.")
    currency: str = strawberry.field(description="The customer's currency, the one every amount here is in.")
    opening_balance: Decimal = strawberry.field(
        description="What the customer owed before `from`: earlier invoices minus earlier payments.")
    invoiced_amount: Decimal = strawberry.field(
        description="Total of the invoices dated in the period; drafts and void invoices are left out.")
    amount_paid: Decimal = strawberry.field(description="Total of the payments dated in the period.")
    closing_balance: Decimal = strawberry.field(
        description="What the customer owes at the end of `to`: opening balance + invoiced − paid.")
    lines: list[StatementLine] = strawberry.field(
        description="The opening balance, then the period's invoices and payments by date.")
    pdf_url: str = strawberry.field(description="GET with the same Authorization header returns application/pdf.")

    @classmethod
    def from_value(cls, value: StatementValue, info: Info) -> "Statement":
        query = urlencode({"customerId": to_global_id("Customer", value.customer.id),
                           "from": value.start.isoformat(), "to": value.end.isoformat()})
        # Built directly, not by from_row: a statement may have thousands of lines.
        lines = [StatementLine(date=line.date, kind=line.kind, reference=line.reference, amount=line.amount,
                               payment=line.payment, balance=line.balance, source=line.source)
                 for line in value.lines]
        return from_row(cls, value, from_=value.start, to=value.end, lines=lines,
                        pdf_url=info.context.settings.link(f"/pdf/statement?{query}"))


def _selects(selections: Sequence[Selection], path: tuple[str, ...]) -> bool:
    """Whether the query selects this path of fields below `selections` (fragments followed; fields under
    @skip or @include count as selected: reading more than needed is only slower)."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == path[0] and (len(path) == 1 or _selects(selection.selections, path[1:])):
                return True
        elif _selects(selection.selections, path):
            return True
    return False


CustomerOfView = Annotated[strawberry.ID | None, strawberry.argument(
    description="Whose: staff must give it (else BAD_USER_INPUT); a contact person may leave it out or give their "
                "own.")]


@strawberry.type
class Query:
    @strawberry.field(extensions=only(IsSignedIn()),
                      description="A customer's dashboard; staff must give the customerId.")
    async def dashboard(self, info: Info, customer_id: CustomerOfView = None) -> Dashboard:
        return Dashboard.from_value(await resolve.dashboard(info.context, customer_id=customer_id))

    @strawberry.field(extensions=only(IsSignedIn()),
                      description="A customer's statement; by default the current month up to today. "
                                  "Staff must give the customerId.")
    async def statement(self, info: Info,
                        from_: Annotated[date | None, strawberry.argument(
                            name="from", description="First day of the period; omitted: the first of the month "
                                                     "of `to`.")] = None,
                        to: Annotated[date | None, strawberry.argument(
                            description="Last day of the period, not before `from`, at most ten years after it; "
                                        "omitted: today.")] = None,
                        customer_id: CustomerOfView = None) -> Statement:
        documents = _selects(info.selected_fields, ("statement", "lines", "document"))
        value = await resolve.statement(info.context, start=from_, end=to, customer_id=customer_id,
                                        with_documents=documents)
        return Statement.from_value(value, info)
