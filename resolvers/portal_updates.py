"""Customer-side live updates (`portalUpdates`): a contact person's own customer's, as they may see them.

Each update is checked when it is delivered, with the portal settings of that moment: its subject
(and comment) must load through the contact person's visibility rules (their customer's, no drafts,
no hidden comments), and what lives with projects is dropped while the portal hides projects. One
exception: a document that left their portal (an estimate reworked into a draft) is announced with
no subject, so that an open page learns it is gone without learning what it became.
"""
import asyncio
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from portal.core.cursors import decode_update_cursor
from portal.core.errors import BadUserInput, Unauthenticated
from portal.models.auth import Principal
from portal.models.customer_updates import CustomerUpdate, PortalUpdateKind
from portal.models.projects import shown_only_with_projects
from portal.notifications.subscriptions import SubscriberEnded, feed_stream, live_sessions
from portal.notifications.update_feed import check_update_cursor_exists, running_update_feed
from portal.resolvers import nodes
from portal.resolvers.context import ConnectionContext, Context, event_scope
from portal.resolvers.loaders import Loaders


@dataclass
class DeliveredUpdate:
    """An update and what it points at, loaded as the contact person sees them."""

    row: CustomerUpdate
    subject: Any
    comment: Any | None


async def portal_updates(ctx: Context, *, after: str | None,
                         loaders: Mapping[str, nodes.LoadVisible]) -> AsyncGenerator[DeliveredUpdate, None]:
    """The contact person's customer's updates after `after` (or from now on), then live ones, each once.

    The checks run before the stream starts, so that a refusal is the subscription's error.
    """
    if not isinstance(ctx, ConnectionContext):  # the app serves subscriptions over the WebSocket only
        raise BadUserInput("Subscribe over the WebSocket.")
    principal = ctx.viewer
    customer_id, _ = principal.contact_ids()
    async with ctx.services.read_session_factory() as session:
        if principal.session_id not in await live_sessions(session, {principal.session_id}):
            raise Unauthenticated("The session has ended; sign in again.")
        start = None
        if after is not None:
            start = decode_update_cursor(after, customer_id)
            await check_update_cursor_exists(session, principal.organization_id, customer_id, start)
    rows = feed_stream(running_update_feed(ctx.services), organization_id=principal.organization_id,
                       session_id=principal.session_id, after=start, only=customer_id,
                       on_end=lambda ending: ctx.close_connection(ending.code, ending.reason))
    return _as_seen(ctx, principal, rows, loaders)


async def _as_seen(ctx: Context, principal: Principal, rows: AsyncGenerator[CustomerUpdate, None],
                   loaders: Mapping[str, nodes.LoadVisible]) -> AsyncGenerator[DeliveredUpdate, None]:
    async with aclosing(rows):
        try:
            async for row in rows:
                async with event_scope(ctx.services.read_session_factory, lambda session: Loaders(session, principal)):
                    delivered = await _seen(ctx, principal, row, loaders)
                    if delivered is not None:
                        yield delivered
        except SubscriberEnded:
            # The connection is being closed (on_end); ending the stream would first say "complete".
            await asyncio.Event().wait()


async def _seen(ctx: Context, principal: Principal, row: CustomerUpdate,
                loaders: Mapping[str, nodes.LoadVisible]) -> DeliveredUpdate | None:
    """The update as the contact person may see it now, or None if they may not."""
    if shown_only_with_projects(row.subject_type) and not (await ctx.portal_settings()).show_projects_and_timesheets:
        return None
    subject = await _load(ctx, principal, loaders, row.subject_type, row.subject_id)
    if subject is None and _withdrawn(row):
        return DeliveredUpdate(row=row, subject=None, comment=None)
    comment = None if row.comment_id is None else await _load(ctx, principal, loaders, "Comment", row.comment_id)
    if subject is None or (row.comment_id is not None and comment is None):
        return None
    return DeliveredUpdate(row=row, subject=subject, comment=comment)


def _withdrawn(row: CustomerUpdate) -> bool:
    """A document change whose document the contact person may no longer load: it left their portal.

    DOCUMENT_CHANGED is only recorded about a document the customer sees at that moment (never a draft), so
    it is theirs to hear about — its summary names the number they saw — but not what it has become.
    """
    return (row.kind == PortalUpdateKind.DOCUMENT_CHANGED and row.comment_id is None
            and row.subject_type in ("Estimate", "Invoice"))


async def _load(ctx: Context, principal: Principal, loaders: Mapping[str, nodes.LoadVisible], type_name: str,
                pk: int) -> Any | None:
    load = loaders.get(type_name)
    if load is None:
        return None
    [found] = await load(ctx.session, principal, [pk])
    return found
