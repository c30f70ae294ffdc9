"""Webhooks: the organization's endpoints, their delivery log, and the mutations that manage them (staff)."""
from datetime import datetime
from typing import Annotated

import strawberry

from portal.core.database import AsyncSession
from portal.models.activity import ActivityEvent as ActivityEventRow
from portal.models.activity import ActivityKind
from portal.models.auth import Principal
from portal.models.webhooks import DeliveryStatus, webhook_deliveries_visible_to, webhook_endpoints_visible_to
from portal.models.webhooks import WebhookDelivery as WebhookDeliveryRow
from portal.models.webhooks import WebhookEndpoint as WebhookEndpointRow
from portal.resolvers import webhooks as resolve
from portal.resolvers.context import Info
from portal.schema.activity import ActivityEvent
from portal.schema.enums import graphql_enum
from portal.schema.inputs import checked, value
from portal.schema.nodes import GLOBAL_ID, Node, PageInfo, load_in_order
from portal.schema.permissions import IsStaff, only
from portal.schema.rows import from_row

graphql_enum(DeliveryStatus, name="WebhookDeliveryStatus", description="Where a webhook delivery stands.", described={
    DeliveryStatus.PENDING: "Not delivered yet: an attempt is due at `nextAttemptAt` (or is under way).",
    DeliveryStatus.SUCCEEDED: "The endpoint answered 2xx within 10 seconds.",
    DeliveryStatus.FAILED: "Every attempt of the retry schedule failed; `redeliverWebhook` tries once more.",
})


@strawberry.type(description="One event for one endpoint, with all its attempts.")
class WebhookDelivery(Node):
    row: strawberry.Private[WebhookDeliveryRow]
    event_row: strawberry.Private[ActivityEventRow | None]
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    message_id: str = strawberry.field(
        description="The `webhook-id` header: the same on every attempt, so receivers can drop duplicates.")
    status: DeliveryStatus = strawberry.field(description="Pending, succeeded or failed for good.")
    attempts: int = strawberry.field(description="How many attempts were made, redeliveries included.")
    last_attempt_at: datetime | None = strawberry.field(description="When the last attempt was made; null before any.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due, while PENDING; null once SUCCEEDED or FAILED.")
    response_status: int | None = strawberry.field(
        description="HTTP status of the last attempt; null when it got no answer.")
    response_snippet: str | None = strawberry.field(
        description="The start of the last answer's body, or why there was none.")

    @strawberry.field(description="The activity event delivered.")
    async def event(self, info: Info) -> ActivityEvent:
        row = self.event_row or await resolve.event_of(info.context, self.row)
        return ActivityEvent.from_model(row)

    @classmethod
    def from_model(cls, row: WebhookDeliveryRow, event: ActivityEventRow | None = None) -> "WebhookDelivery":
        return from_row(cls, row, row=row, event_row=event, status=DeliveryStatus(row.status))

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal,
                           ids: list[int]) -> list["WebhookDelivery | None"]:
        return await load_in_order(session, webhook_deliveries_visible_to(principal), WebhookDeliveryRow, ids,
                                   cls.from_model)


@strawberry.type(description="A webhook delivery and the cursor that points at it.")
class WebhookDeliveryEdge:
    node: WebhookDelivery = strawberry.field(description="The delivery.")
    cursor: str = strawberry.field(description="Pass it as `after` to get the (older) deliveries that follow it.")


@strawberry.type(description="Webhook deliveries of one endpoint, newest first.")
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge] = strawberry.field(description="The deliveries of this page, newest first.")
    page_info: PageInfo = strawberry.field(
        description="Whether more deliveries follow, and the cursor to ask for them.")
    total_count: int = strawberry.field(description="How many deliveries the endpoint has, over all pages.")


@strawberry.type(description="An HTTPS endpoint of the business that receives the organization's activity events, "
                             "signed as the Standard Webhooks specification says (OPERATIONS.md).")
class WebhookEndpoint(Node):
    row: strawberry.Private[WebhookEndpointRow]
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    url: str = strawberry.field(description="Where the events are POSTed.")
    description: str | None = strawberry.field(description="What the endpoint is for, in the business's words.")
    kinds: list[ActivityKind] = strawberry.field(description="The kinds delivered; empty means every kind.")
    enabled: bool = strawberry.field(description="Whether events are delivered to it.")
    disabled_reason: str | None = strawberry.field(
        description="Why the service disabled the endpoint by itself (it kept failing), if it did.")
    created_at: datetime = strawberry.field(description="When it was created, in UTC.")

    @strawberry.field(description="Newest first.")
    async def deliveries(self, info: Info,
                         first: Annotated[int | None, strawberry.argument(
                             description="How many deliveries, 0 to 100.")] = 20,
                         after: Annotated[str | None, strawberry.argument(
                             description="A cursor: the page holds the (older) deliveries after it.")] = None,
                         ) -> WebhookDeliveryConnection:
        page = await resolve.deliveries(info.context, self.row, first=first, after=after)
        events = await resolve.events_of(info.context, page.rows)
        edges = [WebhookDeliveryEdge(node=WebhookDelivery.from_model(row, events.get(row.event_id)), cursor=cursor)
                 for row, cursor in zip(page.rows, page.cursors, strict=True)]
        page_info = PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor,
                             has_previous_page=page.has_previous, start_cursor=page.start_cursor)
        return WebhookDeliveryConnection(edges=edges, page_info=page_info, total_count=page.total_count)

    @classmethod
    def from_model(cls, row: WebhookEndpointRow) -> "WebhookEndpoint":
        return from_row(cls, row, row=row, kinds=row.kind_list)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal,
                           ids: list[int]) -> list["WebhookEndpoint | None"]:
        return await load_in_order(session, webhook_endpoints_visible_to(principal), WebhookEndpointRow, ids,
                                   cls.from_model)


@strawberry.type(description="The endpoint with its signing secret (`whsec_…`), shown only when it is created or "
                             "rotated.")
class WebhookEndpointSecret:
    endpoint: WebhookEndpoint = strawberry.field(description="The endpoint.")
    secret: str = strawberry.field(
        description="`whsec_` and the base64 of the HMAC key: verify requests with it (Standard Webhooks). "
                    "Shown only now; keep it.")

    @classmethod
    def from_result(cls, result: resolve.EndpointWithSecret) -> "WebhookEndpointSecret":
        return cls(endpoint=WebhookEndpoint.from_model(result.endpoint), secret=result.secret)


@strawberry.input(description="Where and what to deliver.")
class WebhookEndpointInput:
    url: str = strawberry.field(
        description="https://… (http and private addresses only where OPERATIONS.md allows them).")
    description: str | None = strawberry.field(default=strawberry.UNSET,
                                               description="What the endpoint is for: at most 500 characters.")
    kinds: list[ActivityKind] | None = strawberry.field(default=strawberry.UNSET,
                                                        description="Empty or omitted: every kind.")

    def given(self) -> resolve.EndpointInput:
        return resolve.EndpointInput(url=self.url, description=value(self.description), kinds=value(self.kinds))


EndpointInputArgument = Annotated[WebhookEndpointInput, strawberry.argument(
    description="The URL, an optional description and the kinds of events to deliver.")]
EndpointId = Annotated[strawberry.ID, strawberry.argument(description="The webhook endpoint's id.")]


@strawberry.type
class Query:
    @strawberry.field(extensions=only(IsStaff()), description="the organization's webhook endpoints, oldest first.")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        return [WebhookEndpoint.from_model(row) for row in await resolve.webhook_endpoints(info.context)]


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=only(IsStaff()),
                         description="add an endpoint that receives the organization's activity events; the answer "
                                     "holds its signing secret, shown only this once.")
    async def create_webhook_endpoint(self, info: Info, input: EndpointInputArgument) -> WebhookEndpointSecret:
        with checked("input"):
            result = await resolve.create_webhook_endpoint(info.context, input.given())
        return WebhookEndpointSecret.from_result(result)

    @strawberry.mutation(extensions=only(IsStaff()),
                         description="change an endpoint's URL, description and kinds; enable or disable it. "
                                     "Also re-enables an endpoint that the service disabled (enabled: true).")
    async def update_webhook_endpoint(self, info: Info, id: EndpointId, input: EndpointInputArgument,
                                      enabled: Annotated[bool | None, strawberry.argument(
                                          description="true: deliver to it again; false: stop; omitted: as it is."
                                      )] = None) -> WebhookEndpoint:
        with checked("input"):
            row = await resolve.update_webhook_endpoint(info.context, id, input.given(), enabled)
        return WebhookEndpoint.from_model(row)

    @strawberry.mutation(extensions=only(IsStaff()),
                         description="A new secret; the old one stays valid for 24 hours (both signatures are sent "
                                     "meanwhile).")
    async def rotate_webhook_secret(self, info: Info, id: EndpointId) -> WebhookEndpointSecret:
        return WebhookEndpointSecret.from_result(await resolve.rotate_webhook_secret(info.context, id))

    @strawberry.mutation(extensions=only(IsStaff()),
                         description="delete an endpoint and its delivery log; nothing more is sent to it.")
    async def delete_webhook_endpoint(self, info: Info, id: EndpointId) -> bool:
        return await resolve.delete_webhook_endpoint(info.context, id)

    @strawberry.mutation(extensions=only(IsStaff()),
                         description="Delivers the delivery's event again, now, as a new attempt with the same "
                                     "messageId.")
    async def redeliver_webhook(self, info: Info, delivery_id: Annotated[strawberry.ID, strawberry.argument(
                                    description="The webhook delivery's id.")]) -> WebhookDelivery:
        return WebhookDelivery.from_model(await resolve.redeliver_webhook(info.context, delivery_id))
