"""What estimates and invoices share: line items, comments, the Document interface."""
from datetime import date, datetime
from decimal import Decimal

import strawberry
from portal.models.documents import LineDraft
from portal.models.documents import LineItem as LineItemRow
from portal.schema.comments import Comment
from portal.schema.inputs import value
from portal.schema.nodes import Node


@strawberry.type(description="One line of an estimate or invoice.")
class LineItem:
    name: str
    description: str | None
    quantity: Decimal
    rate: Decimal
    tax_percent: Decimal
    amount: Decimal = strawberry.field(description="quantity × rate, rounded half-up to cents.")

    @classmethod
    def from_model(cls, row: LineItemRow) -> "LineItem":
        return cls(name=row.name, description=row.description, quantity=row.quantity, rate=row.rate,
                   tax_percent=row.tax_percent, amount=row.amount)


@strawberry.input(description="One line of an estimate or invoice.")
class LineItemInput:
    name: str
    description: str | None = strawberry.UNSET
    quantity: Decimal
    rate: Decimal
    tax_percent: Decimal | None = Decimal("0")


def line_drafts(inputs: list[LineItemInput]) -> list[LineDraft]:
    return [LineDraft(name=line.name, description=value(line.description), quantity=line.quantity,
                      rate=line.rate, tax_percent=Decimal(0) if line.tax_percent is None else line.tax_percent) for line in inputs]


@strawberry.interface(description="Estimates and invoices: what can be viewed, commented on, printed and forwarded.")
class Document(Node):
    id: strawberry.ID
    number: str
    date: date
    currency: str
    line_items: list[LineItem]
    sub_total: Decimal
    tax_total: Decimal
    total: Decimal
    viewed_at: datetime | None = strawberry.field(
        description="First time any contact person of the customer viewed it.")
    comments: list[Comment]
    pdf_url: str = strawberry.field(description="GET with the same Authorization header returns application/pdf.")


def pdf_path(global_id: str) -> str:
    return f"/pdf/{global_id}"
