"""Estimates, invoices and payments in one list."""
from typing import Annotated

import strawberry

from portal.models.estimates import Estimate as EstimateRow
from portal.models.invoices import Invoice as InvoiceRow
from portal.models.payments import Payment as PaymentRow
from portal.resolvers import transactions as resolve
from portal.resolvers.context import Info
from portal.schema.arguments import After, CustomerFilter, First
from portal.schema.estimates import Estimate
from portal.schema.invoices import Invoice
from portal.schema.nodes import Connection
from portal.schema.payments import Payment
from portal.schema.permissions import IsSignedIn, only

Transaction = Annotated[Invoice | Estimate | Payment,
                        strawberry.union("Transaction", description="An estimate, invoice or payment.")]


def as_transaction(row: InvoiceRow | EstimateRow | PaymentRow) -> Invoice | Estimate | Payment:
    if isinstance(row, InvoiceRow):
        return Invoice.from_model(row)
    if isinstance(row, EstimateRow):
        return Estimate.from_model(row)
    return Payment.from_model(row)


@strawberry.type
class Query:
    @strawberry.field(extensions=only(IsSignedIn()),
                      description="Estimates, invoices and payments together, newest first (by date, then number).")
    async def transactions(self, info: Info, customer_id: CustomerFilter = None, first: First = 20,
                           after: After = None) -> Connection[Transaction]:
        page = await resolve.transactions(info.context, customer_id=customer_id, first=first, after=after)
        return Connection.from_page(page, as_transaction)
