"""Webhook endpoints, managed by staff: create, change, rotate the secret, delete; the delivery log; redeliver."""
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlmodel import col

from portal.core.errors import BadUserInput, InputCheck, NotFound
from portal.core.ids import bounded_int, decode_id
from portal.models.activity import ActivityEvent, ActivityKind
from portal.models.columns import utcnow
from portal.models.lookup import one_visible
from portal.models.rows import saved_id
from portal.models.text import single_line
from portal.models.webhooks import (
    MAX_DESCRIPTION,
    MAX_URL,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    joined_kinds,
    new_secret,
    rotate,
    webhook_deliveries_visible_to,
    webhook_endpoints_visible_to,
)
from portal.notifications.webhook_targets import UnsafeTarget, check_endpoint_url
from portal.notifications.webhooks import mark_webhooks_due
from portal.resolvers.context import Context
from portal.resolvers.paging import Page, keyset_page


@dataclass(frozen=True)
class EndpointWithSecret:
    endpoint: WebhookEndpoint
    secret: str


@dataclass(frozen=True)
class EndpointInput:
    url: str
    description: str | None
    kinds: Sequence[ActivityKind] | None


async def webhook_endpoints(ctx: Context) -> list[WebhookEndpoint]:
    query = webhook_endpoints_visible_to(ctx.viewer)
    return list(await ctx.session.scalars(query.order_by(col(WebhookEndpoint.created_at), col(WebhookEndpoint.id))))


async def checked_input(ctx: Context, given: EndpointInput) -> tuple[str, str | None, str]:
    """The URL, description and kinds to store; BadUserInput naming every problem (fields under `input`)."""
    check = InputCheck()
    url = given.url.strip()
    with check.field("url"):
        if len(url) > MAX_URL:
            raise BadUserInput(f"A URL has at most {MAX_URL:,} characters.")
        try:
            await check_endpoint_url(url, allow_private=ctx.settings.webhook_allow_private)
        except UnsafeTarget as refusal:
            raise BadUserInput(str(refusal)) from None
    with check.field("description"):
        description = single_line(given.description, "A description", limit=MAX_DESCRIPTION) or None
    check.done()
    return url, description, joined_kinds(given.kinds)


async def create_webhook_endpoint(ctx: Context, given: EndpointInput) -> EndpointWithSecret:
    url, description, kinds = await checked_input(ctx, given)
    endpoint = WebhookEndpoint(organization_id=ctx.viewer.organization_id, url=url, description=description,
                               kinds=kinds, secret=new_secret())
    ctx.session.add(endpoint)
    await ctx.session.flush()
    return EndpointWithSecret(endpoint, endpoint.secret)


async def visible_endpoint(ctx: Context, global_id: str) -> WebhookEndpoint:
    """Another organization's endpoint answers NOT_FOUND, exactly like a missing one."""
    pk = decode_id(global_id, "WebhookEndpoint")
    query = webhook_endpoints_visible_to(ctx.viewer).where(col(WebhookEndpoint.id) == pk)
    return await one_visible(ctx.session, query, "Webhook endpoint", for_update=True)


async def update_webhook_endpoint(ctx: Context, global_id: str, given: EndpointInput,
                                  enabled: bool | None) -> WebhookEndpoint:
    checked = await checked_input(ctx, given)  # resolves the host (seconds, at worst): before the row is locked
    endpoint = await visible_endpoint(ctx, global_id)
    endpoint.url, endpoint.description, endpoint.kinds = checked
    if enabled is True and not endpoint.enabled:
        # A fresh start: it is judged on the deliveries from now on.
        endpoint.enabled, endpoint.disabled_reason, endpoint.failing_since = True, None, None
    elif enabled is False:
        endpoint.enabled = False
    await ctx.session.flush()
    return endpoint


async def rotate_webhook_secret(ctx: Context, global_id: str) -> EndpointWithSecret:
    endpoint = await visible_endpoint(ctx, global_id)
    secret = rotate(endpoint, utcnow())
    await ctx.session.flush()
    return EndpointWithSecret(endpoint, secret)


async def delete_webhook_endpoint(ctx: Context, global_id: str) -> bool:
    """The endpoint and its delivery log; an attempt in flight finds nothing to record."""
    endpoint = await visible_endpoint(ctx, global_id)
    await ctx.session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint.id))
    await ctx.session.delete(endpoint)
    await ctx.session.flush()
    return True


async def redeliver_webhook(ctx: Context, global_id: str) -> WebhookDelivery:
    """A new attempt now, with the same messageId and body; after it, a failed one is FAILED again."""
    pk = decode_id(global_id, "WebhookDelivery")
    query = webhook_deliveries_visible_to(ctx.viewer).where(col(WebhookDelivery.id) == pk)
    delivery = await one_visible(ctx.session, query, "Webhook delivery", for_update=True)
    endpoint = await ctx.session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        raise BadUserInput("The endpoint is disabled: enable it first (updateWebhookEndpoint with enabled: true).")
    delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, utcnow()
    await ctx.session.flush()
    mark_webhooks_due(ctx.session)
    return delivery


async def deliveries(ctx: Context, endpoint: WebhookEndpoint, *, first: int | None,
                     after: str | None) -> Page[WebhookDelivery]:
    """The endpoint's deliveries, newest first."""
    query = webhook_deliveries_visible_to(ctx.viewer).where(col(WebhookDelivery.endpoint_id) == endpoint.id)
    return await keyset_page(ctx.session, query, columns=(col(WebhookDelivery.id),), parsers=[bounded_int],
                             first=first, after=after)


async def events_of(ctx: Context, rows: Sequence[WebhookDelivery]) -> dict[int, ActivityEvent]:
    """The events of these deliveries, in one read."""
    ids = {row.event_id for row in rows}
    if not ids:
        return {}
    events = await ctx.session.scalars(select(ActivityEvent).where(
        col(ActivityEvent.id).in_(ids), col(ActivityEvent.organization_id) == ctx.viewer.organization_id))
    return {saved_id(event): event for event in events}


async def event_of(ctx: Context, row: WebhookDelivery) -> ActivityEvent:
    found = (await events_of(ctx, [row])).get(row.event_id)
    if found is None:
        raise NotFound("Activity event")
    return found
