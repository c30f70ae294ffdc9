"""Portal activity: what contact persons did, stored as a feed and delivered live to the owner."""
import functools
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime
from typing import Annotated

import strawberry

from portal.core.cursors import encode_activity_cursor
from portal.core.database import AsyncSession
from portal.models.activity import ActivityEvent as ActivityEventRow
from portal.models.activity import ActivityKind, activity_visible_to
from portal.models.auth import Principal
from portal.resolvers import activity as resolve
from portal.resolvers.context import Info, live_delivery
from portal.schema.comments import Comment
from portal.schema.customers import ContactPerson, Customer
from portal.schema.enums import graphql_enum
from portal.schema.node import node_loaders
from portal.schema.nodes import GLOBAL_ID, Node, PageInfo, global_id, load_in_order
from portal.schema.permissions import IsStaff, only

graphql_enum(ActivityKind, name="ActivityKind", description="What a contact person did.", described={
    ActivityKind.VIEWED: "Opened an estimate or invoice for the first time (the first view of anyone of the customer).",
    ActivityKind.COMMENTED: "Commented on an estimate, invoice or project.",
    ActivityKind.PAYMENT_RECEIVED: "Paid one or more invoices online.",
    ActivityKind.PAYMENT_FAILED: "Tried to pay online; the payment gateway declined the charge.",
    ActivityKind.ESTIMATE_ACCEPTED: "Accepted an estimate.",
    ActivityKind.ESTIMATE_DECLINED: "Declined an estimate, perhaps with a reason.",
    ActivityKind.DOCUMENT_FORWARDED: "Forwarded an estimate or invoice to someone, who became a contact person.",
    ActivityKind.DETAILS_UPDATED: "Changed the customer's company name or addresses.",
    ActivityKind.REVIEW_SUBMITTED: "Rated and reviewed the business.",
    ActivityKind.INVITE_ACCEPTED: "Accepted the invitation to the portal and chose a password.",
})


@strawberry.type(description="Something a contact person did in the portal, in the order it was committed.")
class ActivityEvent(Node):
    row: strawberry.Private[ActivityEventRow]
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    cursor: str = strawberry.field(description="Opaque, strictly increasing per organization: pass it as "
                                               "`after` to resume.")
    kind: ActivityKind = strawberry.field(description="What the contact person did.")
    occurred_at: datetime = strawberry.field(description="When it was recorded, in UTC.")
    summary: str = strawberry.field(description="One line for people: who did what, to what.")

    def _relations(self, info: Info) -> resolve.EventRelations:
        return resolve.relations(info.context, self.row, node_loaders(info.schema))

    @strawberry.field(description="The customer whose contact person acted.")
    async def customer(self, info: Info) -> Customer:
        return await self._relations(info).customer(self.row)

    @strawberry.field(description="Who acted, where a contact person did.")
    async def contact_person(self, info: Info) -> ContactPerson | None:
        return await self._relations(info).contact_person(self.row)

    @strawberry.field(description="What the event is about: the estimate or invoice (VIEWED, ESTIMATE_ACCEPTED, "
                                  "ESTIMATE_DECLINED, DOCUMENT_FORWARDED, PAYMENT_FAILED: the first invoice of the "
                                  "attempt, COMMENTED on a document), the project (COMMENTED on a project), the "
                                  "payment (PAYMENT_RECEIVED), the customer (DETAILS_UPDATED), the review "
                                  "(REVIEW_SUBMITTED) or the contact person (INVITE_ACCEPTED).")
    async def subject(self, info: Info) -> Node | None:
        return await self._relations(info).subject(self.row)

    @strawberry.field(description="The comment, for COMMENTED.")
    async def comment(self, info: Info) -> Comment | None:
        return await self._relations(info).comment(self.row)

    @classmethod
    def from_model(cls, row: ActivityEventRow) -> "ActivityEvent":
        return cls(row=row, id=global_id("ActivityEvent", row.id),
                   cursor=encode_activity_cursor(row.organization_id, row.sequence), kind=ActivityKind(row.kind),
                   occurred_at=row.occurred_at, summary=row.summary)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal,
                           ids: list[int]) -> list["ActivityEvent | None"]:
        return await load_in_order(session, activity_visible_to(principal), ActivityEventRow, ids, cls.from_model)


@strawberry.type(description="An activity event and the cursor that points at it.")
class ActivityEdge:
    node: ActivityEvent = strawberry.field(description="The event.")
    cursor: str = strawberry.field(
        description="The event's cursor: pass it as `after` to get the events that follow it.")


@strawberry.type(description="Activity events, oldest first.")
class ActivityConnection:
    edges: list[ActivityEdge] = strawberry.field(description="The events of this page, oldest first.")
    page_info: PageInfo = strawberry.field(
        description="Whether later and earlier events exist, and the cursors to page to them.")
    total_count: int = strawberry.field(description="How many events the organization has, over all pages.")

    @classmethod
    def from_page(cls, page: resolve.ActivityPage) -> "ActivityConnection":
        edges = [ActivityEdge(node=event, cursor=event.cursor) for event in map(ActivityEvent.from_model, page.events)]
        page_info = PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None,
                             has_previous_page=page.has_previous, start_cursor=edges[0].cursor if edges else None)
        return cls(edges=edges, page_info=page_info, total_count=page.total_count)


@strawberry.type
class Query:
    @strawberry.field(extensions=only(IsStaff()),
                      description="the organization's activity, oldest first within a page. "
                                  "Without arguments: the latest 50 (`first` alone: the latest `first`). "
                                  "`after`/`first` pages forward from a cursor; `before`/`last` pages back towards "
                                  "the oldest; the two ways do not mix (BAD_USER_INPUT). Pass the last cursor to "
                                  "`portalActivity` to follow on live.")
    async def activity(
        self, info: Info,
        after: Annotated[str | None, strawberry.argument(
            description="A cursor: the page holds the events that follow it.")] = None,
        first: Annotated[int | None, strawberry.argument(
            description="How many events, 0 to 100; 50 when omitted.")] = None,
        before: Annotated[str | None, strawberry.argument(
            description="A cursor: the page holds the latest events that precede it.")] = None,
        last: Annotated[int | None, strawberry.argument(
            description="How many events, 0 to 100, ending at `before` or at the latest; 50 when omitted.")] = None,
    ) -> ActivityConnection:
        page = await resolve.activity(info.context, after=after, first=first, before=before, last=last)
        return ActivityConnection.from_page(page)


@strawberry.type
class Subscription:
    @strawberry.subscription(extensions=only(IsStaff()),
                             description="live portal activity of the staff member's organization. "
                                         "With `after`, the events since that cursor are replayed first, in order, "
                                         "then live ones follow, with no gap and no duplicate. A connection closed "
                                         "by the server with 1013 (too slow) resumes with the last cursor.")
    async def portal_activity(self, info: Info,
                              kinds: Annotated[list[ActivityKind] | None, strawberry.argument(
                                  description="Only events of these kinds; empty or omitted: every kind.")] = None,
                              after: Annotated[str | None, strawberry.argument(
                                  description="The `cursor` of the last event received: the ones after it are "
                                              "replayed first. Omitted: live events only.")] = None,
                              ) -> AsyncGenerator[ActivityEvent, None]:
        events = await resolve.portal_activity(info.context, kinds=[kind.value for kind in kinds or ()], after=after,
                                               root_value=ActivityEvent.from_model)
        return _as_graphql(events)


async def _as_graphql(events: AsyncGenerator[ActivityEventRow, None]) -> AsyncGenerator[ActivityEvent, None]:
    """Each event, executed once for all the subscriptions that would get the same answer where the
    transport delivers them (live_delivery); yielded to be executed here otherwise."""
    delivery = live_delivery()
    async with aclosing(events):
        async for row in events:
            if delivery is None:
                yield ActivityEvent.from_model(row)
            else:
                await delivery.deliver(row, functools.partial(ActivityEvent.from_model, row))
