"""Invoices."""
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from portal.core.database import AsyncSession
from portal.models.auth import Principal
from portal.models.invoices import Invoice as InvoiceRow
from portal.models.invoices import InvoiceKind, InvoiceStatus, PaymentMethodKind, invoices_visible_to
from portal.models.rows import saved_id
from portal.resolvers import estimates as resolve_estimates
from portal.resolvers import invoices as resolve
from portal.resolvers.context import Info
from portal.schema.arguments import After, CustomerFilter, First
from portal.schema.documents import Document, LineItemInput, line_drafts, load_lines_of_page
from portal.schema.enums import graphql_enum
from portal.schema.inputs import checked, value
from portal.schema.nodes import Connection, load_in_order
from portal.schema.permissions import IsSignedIn, IsStaff, only
from portal.schema.rows import from_row

if TYPE_CHECKING:
    from portal.schema.payments import Payment

graphql_enum(InvoiceKind, name="InvoiceKind", description="A standard or a retainer invoice.", described={
    InvoiceKind.STANDARD: "Bills goods or work delivered.",
    InvoiceKind.RETAINER: "Bills an advance for work to come; the dashboard counts these apart.",
})
graphql_enum(InvoiceStatus, name="InvoiceStatus",
             description="OVERDUE is a sent or partly paid invoice past its due date.",
             described={
                 InvoiceStatus.DRAFT: "Being prepared; only staff see it.",
                 InvoiceStatus.SENT: "Shown to the customer, nothing paid yet, not past its due date.",
                 InvoiceStatus.OVERDUE: "Sent or partly paid, and today is past its due date.",
                 InvoiceStatus.PARTIALLY_PAID: "Part of the total paid, not past its due date.",
                 InvoiceStatus.PAID: "Paid in full.",
                 InvoiceStatus.VOID: "Cancelled; nothing is owed on it.",
             })
graphql_enum(PaymentMethodKind, name="PaymentMethodKind", description="How a payment is made.", described={
    PaymentMethodKind.CARD: "By card, online in the portal.",
    PaymentMethodKind.BANK_ACCOUNT: "By bank account (ACH), online in the portal, where the customer may.",
    PaymentMethodKind.OFFLINE: "Outside the portal (cash, cheque, transfer), recorded by staff.",
})


@strawberry.type(description="A bill to a customer.")
class Invoice(Document):
    row: strawberry.Private[InvoiceRow]
    number: str = strawberry.field(description="Invoice number, like INV-00042: numbered per business, without gaps.")
    kind: InvoiceKind = strawberry.field(description="Standard or retainer: the dashboard counts them apart.")
    due_date: dt.date = strawberry.field(
        description="When the invoice is due; past it, an unpaid invoice is OVERDUE "
                    "(today in the organization's time zone).")
    total: Decimal = strawberry.field(description="What the customer is billed: subtotal + tax.")
    amount_paid: Decimal = strawberry.field(description="Sum of the payments applied to it.")
    balance_due: Decimal = strawberry.field(
        description="Balance still owed: total − amount paid; 0 for a void invoice.")
    payment_options: list[PaymentMethodKind] = strawberry.field(
        description="How this invoice may be paid in the portal (chosen when it was created).")

    @strawberry.field(description="DRAFT, SENT, OVERDUE, PARTIALLY_PAID, PAID or VOID, as of today.")
    def status(self, info: Info) -> InvoiceStatus:
        return self.row.status_on(info.context.today)

    @strawberry.field(extensions=only(IsSignedIn()), description="Payments applied to this invoice, oldest first.")
    async def payments(self, info: Info) -> list[Annotated["Payment", strawberry.lazy("portal.schema.payments")]]:
        from portal.schema.payments import Payment

        rows = await info.context.loaders.invoice_payments.load(saved_id(self.row))
        return [Payment.from_model(row) for row in rows]

    @classmethod
    def from_model(cls, row: InvoiceRow) -> "Invoice":
        return from_row(cls, row, row=row, kind=InvoiceKind(row.kind), payment_options=row.payment_methods)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal, ids: list[int]) -> list["Invoice | None"]:
        return await load_in_order(session, invoices_visible_to(principal), InvoiceRow, ids, cls.from_model)


@strawberry.input(description="An invoice's customer, kind, dates, lines and ways to pay.")
class InvoiceInput:
    customer_id: strawberry.ID = strawberry.field(
        description="The customer billed; the invoice takes the customer's currency.")
    kind: InvoiceKind | None = strawberry.field(
        default=InvoiceKind.STANDARD, description="Standard or retainer invoice.")
    date: dt.date | None = strawberry.field(
        default=strawberry.UNSET,
        description="The date it is issued; today in the organization's time zone when omitted.")
    due_date: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="When it is due, not before `date`; 30 days after `date` when omitted.")
    line_items: list[LineItemInput] = strawberry.field(description="The lines, in order: 1 to 500.")
    payment_options: list[PaymentMethodKind] | None = strawberry.field(
        default=strawberry.UNSET,
        description="How it may be paid in the portal: CARD, BANK_ACCOUNT or both; CARD when omitted.")


STATUS = "Only invoices with this status, as of today; kept for older clients: prefer `statuses`."
STATUSES = ("Invoices with any of these statuses, as of today (OVERDUE: sent or partly paid, past due); "
            "empty or omitted: every status. Given with `status`, both must hold.")


InvoiceId = Annotated[strawberry.ID, strawberry.argument(description="The invoice, by id.")]


@strawberry.type
class Query:
    @strawberry.field(extensions=only(IsSignedIn()),
                      description="Invoices the viewer may see, newest first (by date, then number).")
    async def invoices(self, info: Info,
                       status: Annotated[InvoiceStatus | None, strawberry.argument(description=STATUS)] = None,
                       statuses: Annotated[list[InvoiceStatus] | None,
                                           strawberry.argument(description=STATUSES)] = None,
                       kind: Annotated[InvoiceKind | None, strawberry.argument(
                           description="Only standard or only retainer invoices; omitted: both.")] = None,
                       customer_id: CustomerFilter = None, first: First = 20,
                       after: After = None) -> Connection[Invoice]:
        page = await resolve.invoices(info.context, status=status, statuses=statuses, kind=kind,
                                      customer_id=customer_id, first=first, after=after)
        await load_lines_of_page(info, page.rows)
        return Connection.from_page(page, Invoice.from_model)


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=only(IsStaff()),
                         description="a new invoice, a draft unless `send`; due in 30 days by default.")
    async def create_invoice(self, info: Info, input: Annotated[InvoiceInput, strawberry.argument(
                                 description="The customer, kind, dates, lines and ways to pay.")],
                             send: Annotated[bool | None, strawberry.argument(
                                 description="true: send it to the customer at once (SENT); "
                                             "false or omitted: keep it a DRAFT.")] = False) -> Invoice:
        with checked("input"):
            row = await resolve.create_invoice(
                info.context, customer_id=input.customer_id, kind=input.kind or InvoiceKind.STANDARD,
                invoice_date=value(input.date), due_date=value(input.due_date), lines=line_drafts(input.line_items),
                payment_options=value(input.payment_options), send=bool(send))
        return Invoice.from_model(row)

    @strawberry.mutation(extensions=only(IsStaff()), description="show a draft invoice to the customer.")
    async def send_invoice(self, info: Info, id: InvoiceId) -> Invoice:
        return Invoice.from_model(await resolve.send_invoice(info.context, id))

    @strawberry.mutation(extensions=only(IsStaff()), description="cancel an invoice that has no payments.")
    async def void_invoice(self, info: Info, id: InvoiceId) -> Invoice:
        return Invoice.from_model(await resolve.void_invoice(info.context, id))

    @strawberry.mutation(extensions=only(IsStaff()),
                         description="An ACCEPTED estimate becomes INVOICED; the new invoice is a DRAFT "
                                     "with the same lines.")
    async def convert_estimate_to_invoice(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(
                                              description="The accepted estimate, by id.")]) -> Invoice:
        return Invoice.from_model(await resolve_estimates.convert_estimate_to_invoice(info.context, id))
