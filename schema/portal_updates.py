"""Customer-side live updates: what changed in a contact person's portal, for their pages to follow."""
import functools
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime
from typing import Annotated, Any

import strawberry

from portal.core.cursors import encode_update_cursor
from portal.core.database import AsyncSession
from portal.models.auth import Principal
from portal.models.customer_updates import CustomerUpdate, PortalUpdateKind, updates_visible_to
from portal.resolvers import portal_updates as resolve
from portal.resolvers.context import Info, live_delivery
from portal.schema.comments import Comment
from portal.schema.enums import graphql_enum
from portal.schema.node import node_loaders
from portal.schema.nodes import GLOBAL_ID, Node, global_id, load_in_order
from portal.schema.permissions import IsContactPerson, only

graphql_enum(PortalUpdateKind, name="PortalUpdateKind", description="What changed in a customer's portal.",
             described={
    PortalUpdateKind.DOCUMENT_SENT: "An estimate or invoice of the customer was sent (or sent again after rework).",
    PortalUpdateKind.DOCUMENT_CHANGED: "A document the customer can see changed: paid, partly paid, voided, or an "
                                       "estimate reworked or converted.",
    PortalUpdateKind.PAYMENT_RECORDED: "A payment of the customer was recorded, online or by the business.",
    PortalUpdateKind.COMMENT_ADDED: "A comment visible in the portal was added to one of the customer's documents "
                                    "or projects.",
})


@strawberry.type(description="What changed in a customer's portal, for the pages of its contact persons to update "
                             "themselves.")
class PortalUpdate(Node):
    row: strawberry.Private[CustomerUpdate]
    delivered: strawberry.Private[resolve.DeliveredUpdate | None]
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    cursor: str = strawberry.field(description="Opaque, strictly increasing per customer: pass it as `after` to "
                                               "resume.")
    kind: PortalUpdateKind = strawberry.field(description="What changed.")
    occurred_at: datetime = strawberry.field(description="When it was recorded, in UTC.")
    summary: str = strawberry.field(description="One line for people: what changed.")

    @strawberry.field(description="The estimate, invoice, payment or project concerned, as the contact person may "
                                  "see it; null for DOCUMENT_CHANGED when the document left their portal (an "
                                  "estimate being revised is a draft again until it is sent).")
    async def subject(self, info: Info) -> Node | None:
        if self.delivered is not None:
            return self.delivered.subject
        return await _visible_node(info, self.row.subject_type, self.row.subject_id)

    @strawberry.field(description="The comment, for COMMENT_ADDED.")
    async def comment(self, info: Info) -> Comment | None:
        if self.delivered is not None:
            return self.delivered.comment
        return None if self.row.comment_id is None else await _visible_node(info, "Comment", self.row.comment_id)

    @classmethod
    def from_model(cls, row: CustomerUpdate, delivered: resolve.DeliveredUpdate | None = None) -> "PortalUpdate":
        return cls(row=row, delivered=delivered, id=global_id("PortalUpdate", row.id),
                   cursor=encode_update_cursor(row.customer_id, row.sequence), kind=PortalUpdateKind(row.kind),
                   occurred_at=row.occurred_at, summary=row.summary)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal,
                           ids: list[int]) -> list["PortalUpdate | None"]:
        return await load_in_order(session, updates_visible_to(principal), CustomerUpdate, ids, cls.from_model)


async def _visible_node(info: Info, type_name: str, pk: int) -> Any:
    load = node_loaders(info.schema).get(type_name)
    if load is None:
        return None
    [found] = await load(info.context.session, info.context.viewer, [pk])
    return found


@strawberry.type
class Subscription:
    @strawberry.subscription(extensions=only(IsContactPerson()),
                             description="what changes in the contact person's own customer's portal: documents "
                                         "sent or changed, payments recorded, comments added — never drafts, hidden "
                                         "comments or hidden projects. With `after`, the updates since that cursor "
                                         "are replayed first, in order, then live ones follow, with no gap and no "
                                         "duplicate, as for portalActivity.")
    async def portal_updates(self, info: Info,
                             after: Annotated[str | None, strawberry.argument(
                                 description="The `cursor` of the last update received: the ones after it are "
                                             "replayed first. Omitted: live updates only.")] = None,
                             ) -> AsyncGenerator[PortalUpdate, None]:
        updates = await resolve.portal_updates(info.context, after=after, loaders=node_loaders(info.schema))
        return _as_graphql(updates)


async def _as_graphql(updates: AsyncGenerator[resolve.DeliveredUpdate, None]) -> AsyncGenerator[PortalUpdate, None]:
    """As portalActivity's: executed once for the subscriptions that would get the same answer (schema/activity.py)."""
    delivery = live_delivery()
    async with aclosing(updates):
        async for delivered in updates:
            if delivery is None:
                yield PortalUpdate.from_model(delivered.row, delivered)
            else:
                await delivery.deliver(delivered.row, functools.partial(PortalUpdate.from_model, delivered.row,
                                                                        delivered))
