"""Estimates."""
import datetime as dt
from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from portal.core.database import AsyncSession
from portal.models.auth import Principal
from portal.models.estimates import Estimate as EstimateRow
from portal.models.estimates import EstimateStatus, estimates_visible_to
from portal.resolvers import estimates as resolve
from portal.resolvers.context import Info
from portal.schema.arguments import After, CustomerFilter, First
from portal.schema.documents import Document, LineItemInput, line_drafts, load_lines_of_page
from portal.schema.enums import graphql_enum
from portal.schema.inputs import checked, value
from portal.schema.nodes import Connection, load_in_order
from portal.schema.permissions import IsContactPerson, IsSignedIn, IsStaff, only
from portal.schema.rows import from_row

graphql_enum(EstimateStatus, name="EstimateStatus", description="EXPIRED is a sent estimate past its expiry date.",
             described={
                 EstimateStatus.DRAFT: "Being prepared; only staff see it.",
                 EstimateStatus.SENT: "Shown to the customer, waiting for an answer.",
                 EstimateStatus.ACCEPTED: "Accepted by a contact person of the customer.",
                 EstimateStatus.DECLINED: "Declined by a contact person; staff may rework it and send it again.",
                 EstimateStatus.EXPIRED: "Sent, and today is past its expiry date: it can no longer be accepted.",
                 EstimateStatus.INVOICED: "Accepted and turned into an invoice.",
             })


@strawberry.type(description="An offer to a customer, to accept or decline.")
class Estimate(Document):
    row: strawberry.Private[EstimateRow]
    number: str = strawberry.field(description="Estimate number, like EST-00042: numbered per business, without gaps.")
    expiry_date: dt.date | None = strawberry.field(
        description="Last day it can be accepted, in the organization's time zone; null: it never expires.")
    total: Decimal = strawberry.field(description="What the customer would pay: subtotal + tax.")
    accepted_at: datetime | None = strawberry.field(description="When a contact person accepted it.")
    declined_at: datetime | None = strawberry.field(
        description="When a contact person declined it; cleared when staff rework it.")
    decline_reason: str | None = strawberry.field(description="Why the contact person declined it, if they said.")

    @strawberry.field(description="DRAFT, SENT, ACCEPTED, DECLINED, EXPIRED or INVOICED, as of today.")
    def status(self, info: Info) -> EstimateStatus:
        return self.row.status_on(info.context.today)

    @classmethod
    def from_model(cls, row: EstimateRow) -> "Estimate":
        return from_row(cls, row, row=row)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal, ids: list[int]) -> list["Estimate | None"]:
        return await load_in_order(session, estimates_visible_to(principal), EstimateRow, ids, cls.from_model)


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


STATUS = "Only estimates with this status, as of today; kept for older clients: prefer `statuses`."
STATUSES = ("Estimates with any of these statuses, as of today (EXPIRED: sent, past its expiry date); "
            "empty or omitted: every status. Given with `status`, both must hold.")


EstimateId = Annotated[strawberry.ID, strawberry.argument(description="The estimate, by id.")]


@strawberry.type
class Query:
    @strawberry.field(extensions=only(IsSignedIn()),
                      description="Estimates the viewer may see, newest first (by date, then number).")
    async def estimates(self, info: Info,
                        status: Annotated[EstimateStatus | None, strawberry.argument(description=STATUS)] = None,
                        statuses: Annotated[list[EstimateStatus] | None,
                                            strawberry.argument(description=STATUSES)] = None,
                        customer_id: CustomerFilter = None,
                        first: First = 20, after: After = None) -> Connection[Estimate]:
        page = await resolve.estimates(info.context, status=status, statuses=statuses, customer_id=customer_id,
                                       first=first, after=after)
        await load_lines_of_page(info, page.rows)
        return Connection.from_page(page, Estimate.from_model)


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=only(IsStaff()), description="a new estimate, a draft unless `send`.")
    async def create_estimate(self, info: Info, input: Annotated[EstimateInput, strawberry.argument(
                                  description="The customer, dates and lines.")],
                              send: Annotated[bool | None, strawberry.argument(
                                  description="true: send it to the customer at once (SENT); "
                                              "false or omitted: keep it a DRAFT.")] = False) -> Estimate:
        with checked("input"):
            estimate = await resolve.create_estimate(
                info.context, customer_id=input.customer_id, estimate_date=value(input.date),
                expiry_date=value(input.expiry_date), lines=line_drafts(input.line_items), send=bool(send))
        return Estimate.from_model(estimate)

    @strawberry.mutation(extensions=only(IsStaff()),
                         description="A declined estimate may be reworked; sending it again makes it SENT.")
    async def update_estimate(self, info: Info, id: EstimateId, input: Annotated[EstimateInput, strawberry.argument(
                                  description="The customer, dates and lines, replacing the earlier ones.")]
                              ) -> Estimate:
        with checked("input"):
            estimate = await resolve.update_estimate(
                info.context, id, customer_id=input.customer_id, estimate_date=value(input.date),
                expiry_date=value(input.expiry_date), lines=line_drafts(input.line_items))
        return Estimate.from_model(estimate)

    @strawberry.mutation(extensions=only(IsStaff()), description="show the estimate to the customer.")
    async def send_estimate(self, info: Info, id: EstimateId) -> Estimate:
        return Estimate.from_model(await resolve.send_estimate(info.context, id))

    @strawberry.mutation(extensions=only(IsContactPerson()), description="accept a sent, unexpired estimate.")
    async def accept_estimate(self, info: Info, id: EstimateId) -> Estimate:
        return Estimate.from_model(await resolve.accept_estimate(info.context, id))

    @strawberry.mutation(extensions=only(IsContactPerson()),
                         description="decline a sent, unexpired estimate, with a reason.")
    async def decline_estimate(self, info: Info, id: EstimateId, reason: Annotated[str | None, strawberry.argument(
                                   description="Why, for the business: at most 2,000 characters.")] = None
                               ) -> Estimate:
        return Estimate.from_model(await resolve.decline_estimate(info.context, id, reason=reason))
