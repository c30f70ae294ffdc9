"""Estimates."""
import datetime as dt
from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

from portal.core.ids import to_global_id
from portal.models.estimates import Estimate as EstimateRow
from portal.models.estimates import EstimateStatus as EstimateStatusValues
from portal.resolvers import estimates as resolve
from portal.schema.comments import Comment
from portal.schema.documents import Document, LineItem, LineItemInput, line_drafts
from portal.schema.inputs import value
from portal.schema.nodes import GLOBAL_ID, Connection

EstimateStatus = strawberry.enum(EstimateStatusValues, name="EstimateStatus",
                                 description="EXPIRED is a sent estimate past its expiry date.")


@strawberry.type(description="An offer to a customer, to accept or decline.")
class Estimate(Document):
    row: strawberry.Private[EstimateRow]
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    number: str = strawberry.field(description="Estimate number, like EST-00042: numbered per business, without gaps.")
    date: dt.date = strawberry.field(description="The date it was issued.")
    expiry_date: dt.date | None = strawberry.field(
        description="Last day it can be accepted, in the organization's time zone; null: it never expires.")
    currency: str = strawberry.field(description="The customer's currency, the one every amount on it is in.")
    sub_total: Decimal = strawberry.field(description="Sum of the line amounts, before tax.")
    tax_total: Decimal = strawberry.field(description="Sum of the lines' tax, each line's rounded half-up to cents.")
    total: Decimal = strawberry.field(description="What the customer would pay: subtotal + tax.")
    viewed_at: datetime | None = strawberry.field(
        description="First time any contact person of the customer viewed it.")
    accepted_at: datetime | None = strawberry.field(description="When a contact person accepted it.")
    declined_at: datetime | None = strawberry.field(
        description="When a contact person declined it; cleared when staff rework it.")
    decline_reason: str | None = strawberry.field(description="Why the contact person declined it, if they said.")

    @strawberry.field(description="DRAFT, SENT, ACCEPTED, DECLINED, EXPIRED or INVOICED, as of today.")
    def status(self, info: Info) -> EstimateStatus:
        return self.row.status_on(info.context.today)

    @strawberry.field(description="The lines, in order.")
    async def line_items(self, info: Info) -> list[LineItem]:
        return [LineItem.from_model(row) for row in await info.context.loaders.estimate_lines.load(self.row.id)]

    @strawberry.field(description="Comments the viewer may see, oldest first.")
    async def comments(self, info: Info) -> list[Comment]:
        return [Comment.from_model(row) for row in await info.context.loaders.estimate_comments.load(self.row.id)]

    @classmethod
    def from_model(cls, row: EstimateRow) -> "Estimate":
        return cls(row=row, id=to_global_id("Estimate", row.id), number=row.number, date=row.date,
                   expiry_date=row.expiry_date, currency=row.currency, sub_total=row.sub_total,
                   tax_total=row.tax_total, total=row.total, viewed_at=row.viewed_at, accepted_at=row.accepted_at,
                   declined_at=row.declined_at, decline_reason=row.decline_reason)


@strawberry.input(description="An estimate's customer, dates and lines.")
class EstimateInput:
    customer_id: strawberry.ID = strawberry.field(
        description="The customer it is for; the estimate takes the customer's currency.")
    date: dt.date | None = strawberry.field(
        default=strawberry.UNSET,
        description="The date it is issued; when omitted, today in the organization's time zone "
                    "(on update: unchanged).")
    expiry_date: dt.date | None = strawberry.field(
        default=strawberry.UNSET,
        description="Last day it can be accepted, not before `date`; omitted or null: it never expires.")
    line_items: list[LineItemInput] = strawberry.field(
        description="The lines, in order: 1 to 500; they replace the earlier ones on update.")


def _fields(input: EstimateInput) -> dict:
    return {"customer_id": input.customer_id, "estimate_date": value(input.date),
            "expiry_date": value(input.expiry_date), "lines": line_drafts(input.line_items)}


@strawberry.type
class Query:
    @strawberry.field(description="Estimates the viewer may see, newest first.")
    async def estimates(self, info: Info, status: EstimateStatus | None = None, customer_id: strawberry.ID | None = None,
                        first: int | None = 20, after: str | None = None) -> Connection[Estimate]:
        page = await resolve.estimates(info.context, status=status, customer_id=customer_id, first=first, after=after)
        return Connection.from_page(page, Estimate.from_model)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Staff: a new estimate, a draft unless `send`.")
    async def create_estimate(self, info: Info, input: EstimateInput, send: bool | None = False) -> Estimate:
        return Estimate.from_model(await resolve.create_estimate(info.context, send=bool(send), **_fields(input)))

    @strawberry.mutation(description="A declined estimate may be reworked; sending it again makes it SENT.")
    async def update_estimate(self, info: Info, id: strawberry.ID, input: EstimateInput) -> Estimate:
        return Estimate.from_model(await resolve.update_estimate(info.context, id, **_fields(input)))

    @strawberry.mutation(description="Staff: show the estimate to the customer.")
    async def send_estimate(self, info: Info, id: strawberry.ID) -> Estimate:
        return Estimate.from_model(await resolve.send_estimate(info.context, id))

    @strawberry.mutation(description="Contact person: accept a sent, unexpired estimate.")
    async def accept_estimate(self, info: Info, id: strawberry.ID) -> Estimate:
        return Estimate.from_model(await resolve.accept_estimate(info.context, id))

    @strawberry.mutation(description="Contact person: decline a sent, unexpired estimate, with a reason.")
    async def decline_estimate(self, info: Info, id: strawberry.ID, reason: str | None = None) -> Estimate:
        return Estimate.from_model(await resolve.decline_estimate(info.context, id, reason=reason))
