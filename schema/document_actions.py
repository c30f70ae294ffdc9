"""What a contact person does with any estimate or invoice: view it, forward it."""
from typing import Annotated

import strawberry

from portal.models.estimates import Estimate as EstimateRow
from portal.models.invoices import Invoice as InvoiceRow
from portal.resolvers import documents as resolve
from portal.resolvers.context import Info
from portal.schema.customers import ContactPerson
from portal.schema.documents import Document
from portal.schema.estimates import Estimate
from portal.schema.invoices import Invoice
from portal.schema.permissions import IsContactPerson, PortalAllows, only


def as_document(row: EstimateRow | InvoiceRow) -> Document:
    return Invoice.from_model(row) if isinstance(row, InvoiceRow) else Estimate.from_model(row)


DocumentId = Annotated[strawberry.ID, strawberry.argument(description="The estimate or invoice, by id.")]


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=only(IsContactPerson()),
                         description="Records the first view of an estimate or invoice; later calls change nothing.")
    async def mark_viewed(self, info: Info, document_id: DocumentId) -> Document:
        return as_document(await resolve.mark_viewed(info.context, document_id))

    @strawberry.mutation(extensions=only(IsContactPerson(), PortalAllows("allow_forwarding")),
                         description="Send a document to someone else; the recipient becomes a contact person of "
                                     "your customer and is invited, unless staff disabled their access (then "
                                     "nothing is sent). At most 20 forwards a day per person and 50 per customer: "
                                     "beyond, RATE_LIMITED with `retryAfter`.")
    async def forward_document(self, info: Info, document_id: DocumentId,
                               email: Annotated[str, strawberry.argument(
                                   description="The recipient's address; contacts of other customers are "
                                               "not looked at: the recipient is always one of your customer's.")],
                               name: Annotated[str | None, strawberry.argument(
                                   description="The recipient's full name; omitted: taken from the address.")] = None,
                               message: Annotated[str | None, strawberry.argument(
                                   description="A note to the recipient, in the email: at most 5,000 characters."
                               )] = None) -> ContactPerson:
        row = await resolve.forward_document(info.context, document_id=document_id, email=email, name=name,
                                             message=message)
        return ContactPerson.from_model(row)
