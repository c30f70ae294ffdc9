"""Payments and their allocation to invoices."""
import datetime as dt
from datetime import date
from decimal import Decimal

import strawberry
from strawberry.types import Info

from portal.ids import to_global_id
from portal.models.payments import Payment as PaymentRow
from portal.models.payments import PaymentAllocation as PaymentAllocationRow
from portal.resolvers import payments as resolve
from portal.schema.inputs import value
from portal.schema.invoices import Invoice, PaymentMethodKind
from portal.schema.nodes import Connection, Node


@strawberry.type(description="The part of a payment applied to one invoice.")
class PaymentAllocation:
    row: strawberry.Private[PaymentAllocationRow]
    amount: Decimal

    @strawberry.field(description="The invoice paid.")
    async def invoice(self, info: Info) -> Invoice:
        return Invoice.from_model(await info.context.loaders.invoice.load(self.row.invoice_id))


@strawberry.type(description="Money received from a customer.")
class Payment(Node):
    row: strawberry.Private[PaymentRow]
    id: strawberry.ID
    number: str
    date: date
    amount: Decimal
    currency: str
    method: PaymentMethodKind
    reference: str | None = strawberry.field(description="The gateway's charge id, or the owner's note.")

    @strawberry.field(description="How the payment was split over invoices.")
    async def allocations(self, info: Info) -> list[PaymentAllocation]:
        rows = await info.context.loaders.payment_allocations.load(self.row.id)
        return [PaymentAllocation(row=row, amount=row.amount) for row in rows]

    @classmethod
    def from_model(cls, row: PaymentRow) -> "Payment":
        return cls(row=row, id=to_global_id("Payment", row.id), number=row.number, date=row.date,
                   amount=row.amount, currency=row.currency, method=PaymentMethodKind(row.method),
                   reference=row.reference)


@strawberry.input(description="A payment received outside the portal, for one invoice.")
class RecordPaymentInput:
    invoice_id: strawberry.ID
    amount: Decimal
    date: dt.date | None = strawberry.UNSET
    reference: str | None = strawberry.UNSET


@strawberry.type
class Query:
    @strawberry.field(description="Payments the viewer may see, newest first.")
    async def payments(self, info: Info, customer_id: strawberry.ID | None = None, first: int | None = 20,
                       after: str | None = None) -> Connection[Payment]:
        page = await resolve.payments(info.context, customer_id=customer_id, first=first, after=after)
        return Connection.from_page(page, Payment.from_model)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Staff: record an offline payment (cash, cheque, transfer) against an invoice.")
    async def record_payment(self, info: Info, input: RecordPaymentInput) -> Payment:
        row = await resolve.record_payment(info.context, invoice_id=input.invoice_id, amount=input.amount,
                                           payment_date=value(input.date), reference=value(input.reference))
        return Payment.from_model(row)
