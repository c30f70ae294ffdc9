"""What estimates and invoices share: line items, comments, the Document interface."""
import datetime as dt
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import strawberry
from graphql.pyutils import AwaitableOrValue
from strawberry.dataloader import DataLoader

from portal.models.comments import Comment as CommentRow
from portal.models.documents import LineDraft, ShownLine
from portal.models.estimates import Estimate as EstimateRow
from portal.models.invoices import Invoice as InvoiceRow
from portal.models.rows import saved_id
from portal.resolvers.context import Info
from portal.resolvers.loaders import held, load_now
from portal.schema.comments import Comment
from portal.schema.customers import Customer, customer_of
from portal.schema.inputs import value
from portal.schema.nodes import Node
from portal.schema.selections import asks_for


@strawberry.type(description="One line of an estimate or invoice.")
class LineItem:
    """Never built: a line as read (`ShownLine`) has each of these fields by name."""

    name: str = strawberry.field(description="What is sold, as printed on the document.")
    description: str | None = strawberry.field(description="More detail, printed under the name.")
    quantity: Decimal = strawberry.field(description="How many units.")
    rate: Decimal = strawberry.field(description="Price of one unit, before tax.")
    tax_percent: Decimal = strawberry.field(description="Tax rate in percent, applied to the line's amount.")
    amount: Decimal = strawberry.field(description="quantity × rate, rounded half-up to cents.")


@strawberry.input(description="One line of an estimate or invoice.")
class LineItemInput:
    name: str = strawberry.field(description="What is sold: 1 to 200 characters.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="More detail, printed under the name.")
    quantity: Decimal = strawberry.field(description="How many units: more than 0, at most 4 decimals.")
    rate: Decimal = strawberry.field(description="Price of one unit before tax: 0 or more, at most 4 decimals.")
    tax_percent: Decimal | None = strawberry.field(
        default=Decimal("0"), description="Tax rate in percent, 0 to 100; 0 when omitted.")


def line_drafts(inputs: list[LineItemInput]) -> list[LineDraft]:
    return [LineDraft(name=line.name, description=value(line.description), quantity=line.quantity,
                      rate=line.rate, tax_percent=Decimal(0) if line.tax_percent is None else line.tax_percent)
            for line in inputs]


def _loaders_of(row: EstimateRow | InvoiceRow,
                info: Info) -> tuple[DataLoader[int, list[ShownLine]], DataLoader[int, list[CommentRow]]]:
    """The request's loaders of this kind of document's lines and comments."""
    loaders = info.context.loaders
    if isinstance(row, InvoiceRow):
        return loaders.invoice_lines, loaders.invoice_comments
    return loaders.estimate_lines, loaders.estimate_comments


async def load_lines_of_page(info: Info, rows: Sequence[EstimateRow | InvoiceRow]) -> None:
    """One query for the lines of a page of documents, when the operation asks for them."""
    if rows and asks_for(info, "edges", "node", "lineItems"):
        lines, _ = _loaders_of(rows[0], info)
        await load_now(lines, [saved_id(row) for row in rows])


@strawberry.interface(description="Estimates and invoices: what can be viewed, commented on, printed and forwarded.")
class Document(Node):
    """The fields estimates and invoices share, declared once: Estimate and Invoice add their own and
    restate only those whose description says something of their kind."""

    row: strawberry.Private[EstimateRow | InvoiceRow]
    number: str = strawberry.field(
        description="EST-00001 for an estimate, INV-00001 for an invoice: numbered per business, without gaps.")
    date: dt.date = strawberry.field(description="The date it was issued.")
    currency: str = strawberry.field(description="The customer's currency, the one every amount on it is in.")
    sub_total: Decimal = strawberry.field(description="Sum of the line amounts, before tax.")
    tax_total: Decimal = strawberry.field(description="Sum of the lines' tax, each line's rounded half-up to cents.")
    total: Decimal = strawberry.field(description="What the customer is asked to pay: subtotal + tax.")
    viewed_at: datetime | None = strawberry.field(
        description="First time any contact person of the customer viewed it.")

    @strawberry.field(graphql_type=list[LineItem], description="The lines, in order.")
    def line_items(self, info: Info) -> AwaitableOrValue[list[ShownLine]]:
        """The lines as read: LineItem's fields are theirs by name. Answered without awaiting when the page's
        lines were loaded with it (`load_lines_of_page`)."""
        lines, _ = _loaders_of(self.row, info)
        key = saved_id(self.row)
        loaded = held(lines, key)
        return lines.load(key) if loaded is None else loaded

    @strawberry.field(description="Comments the viewer may see, oldest first.")
    async def comments(self, info: Info) -> list[Comment]:
        _, comments = _loaders_of(self.row, info)
        return [Comment.from_model(row) for row in await comments.load(saved_id(self.row))]

    @strawberry.field(description="GET with the same Authorization header returns application/pdf.")
    def pdf_url(self, info: Info) -> str:
        return info.context.settings.link(f"/pdf/{self.id}")

    @strawberry.field(description="Whose document it is.")
    async def customer(self, info: Info) -> Customer:
        return await customer_of(info, self.row.customer_id)
