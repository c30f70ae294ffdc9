"""Portal activity: what contact persons did, stored as a feed and delivered live to the owner."""
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime

import strawberry
from strawberry.types import Info

from portal.core.ids import to_global_id
from portal.models.activity import ActivityEvent as ActivityEventRow
from portal.models.activity import ActivityKind as ActivityKindValues
from portal.notifications.activity import encode_cursor
from portal.resolvers import activity as resolve
from portal.schema.comments import Comment
from portal.schema.customers import ContactPerson, Customer
from portal.schema.node import WRAPPERS
from portal.schema.nodes import GLOBAL_ID, Node, PageInfo

ActivityKind = strawberry.enum(ActivityKindValues, name="ActivityKind", description="What a contact person did.")


@strawberry.type(description="Something a contact person did in the portal, in the order it was committed.")
class ActivityEvent(Node):
    row: strawberry.Private[ActivityEventRow]
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    cursor: str = strawberry.field(description="Opaque, strictly increasing per organization: pass it as "
                                               "`after` to resume.")
    kind: ActivityKind = strawberry.field(description="What the contact person did.")
    occurred_at: datetime = strawberry.field(description="When it was recorded, in UTC.")
    summary: str = strawberry.field(description="One line for people: who did what, to what.")

    @strawberry.field(description="The customer whose contact person acted.")
    async def customer(self, info: Info) -> Customer:
        return Customer.from_model(await resolve.relations(info.context, self.row).customer(self.row))

    @strawberry.field(description="Who acted, where a contact person did.")
    async def contact_person(self, info: Info) -> ContactPerson | None:
        row = await resolve.relations(info.context, self.row).contact_person(self.row)
        return None if row is None else ContactPerson.from_model(row)

    @strawberry.field(description="What the event is about: the estimate or invoice (VIEWED, ESTIMATE_ACCEPTED, "
                                  "ESTIMATE_DECLINED, DOCUMENT_FORWARDED, PAYMENT_FAILED: the first invoice of the "
                                  "attempt, COMMENTED on a document), the project (COMMENTED on a project), the "
                                  "payment (PAYMENT_RECEIVED), the customer (DETAILS_UPDATED), the review "
                                  "(REVIEW_SUBMITTED) or the contact person (INVITE_ACCEPTED).")
    async def subject(self, info: Info) -> Node | None:
        subject = await resolve.relations(info.context, self.row).subject(self.row)
        if subject is None or subject[0] not in WRAPPERS:
            return None
        type_name, row = subject
        return WRAPPERS[type_name](row)

    @strawberry.field(description="The comment, for COMMENTED.")
    async def comment(self, info: Info) -> Comment | None:
        row = await resolve.relations(info.context, self.row).comment(self.row)
        return None if row is None else Comment.from_model(row)

    @classmethod
    def from_model(cls, row: ActivityEventRow) -> "ActivityEvent":
        return cls(row=row, id=to_global_id("ActivityEvent", row.id), cursor=encode_cursor(row),
                   kind=ActivityKind(row.kind), occurred_at=row.occurred_at, summary=row.summary)


WRAPPERS["ActivityEvent"] = ActivityEvent.from_model


@strawberry.type(description="An activity event and the cursor that points at it.")
class ActivityEdge:
    node: ActivityEvent = strawberry.field(description="The event.")
    cursor: str = strawberry.field(
        description="The event's cursor: pass it as `after` to get the events that follow it.")


@strawberry.type(description="Activity events, oldest first.")
class ActivityConnection:
    edges: list[ActivityEdge] = strawberry.field(description="The events of this page, oldest first.")
    page_info: PageInfo = strawberry.field(description="Whether later events follow, and the cursor to ask for them.")


@strawberry.type
class Query:
    @strawberry.field(description="Staff: the organization's activity, oldest first: the events after `after`, "
                                  "or without it the latest `first`. Pass the last cursor to `portalActivity` to "
                                  "follow on live.")
    async def activity(self, info: Info, after: str | None = None, first: int | None = 50) -> ActivityConnection:
        page = await resolve.activity(info.context, after=after, first=first)
        edges = [ActivityEdge(node=ActivityEvent.from_model(row), cursor=encode_cursor(row)) for row in page.events]
        return ActivityConnection(edges=edges, page_info=PageInfo(
            has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None))


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Staff only: live portal activity of the staff member's organization. "
                                         "With `after`, the events since that cursor are replayed first, in order, "
                                         "then live ones follow, with no gap and no duplicate. A connection closed "
                                         "by the server with 1013 (too slow) resumes with the last cursor.")
    async def portal_activity(self, info: Info, kinds: list[ActivityKind] | None = None,
                              after: str | None = None) -> AsyncGenerator[ActivityEvent, None]:
        events = await resolve.portal_activity(info.context, kinds=[kind.value for kind in kinds or ()], after=after)
        return _as_graphql(events)


async def _as_graphql(events) -> AsyncGenerator[ActivityEvent, None]:
    async with aclosing(events):
        async for row in events:
            yield ActivityEvent.from_model(row)
