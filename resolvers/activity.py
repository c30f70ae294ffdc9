"""Portal activity on the owner's side: the stored feed, the live subscription, what events point at."""
import asyncio
import functools
import weakref
from collections import defaultdict
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, aclosing, nullcontext
from dataclasses import dataclass
from typing import Any

from strawberry.dataloader import DataLoader

from portal.core.cursors import decode_activity_cursor
from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput, Forbidden, NotFound, Unauthenticated
from portal.models.activity import ActivityEvent
from portal.models.auth import Principal
from portal.notifications.activity import check_cursor_exists, count_events, events_after, events_before
from portal.notifications.subscriptions import (
    Preparation,
    SubscriberEnded,
    activity_stream,
    live_sessions,
    running_feed,
)
from portal.resolvers import nodes
from portal.resolvers.context import ConnectionContext, Context, LiveDelivery, event_scope, live_delivery
from portal.resolvers.loaders import Loaders
from portal.resolvers.paging import check_first, check_size

LATEST = 50


@dataclass
class ActivityPage:
    events: list[ActivityEvent]  # oldest first
    has_next: bool
    has_previous: bool
    total_count: int


async def activity(ctx: Context, *, after: str | None, first: int | None, before: str | None,
                   last: int | None) -> ActivityPage:
    """After a cursor: the `first` events that follow it. Otherwise the `last` (or `first`, or 50) events
    before a cursor, or the latest ones. Oldest first in either case."""
    principal = ctx.viewer
    size = page_size(after=after, first=first, before=before, last=last)
    if after is not None:
        return await _page_after(ctx.session, principal.organization_id, after, size)
    return await _page_before(ctx.session, principal.organization_id, before, size)


def page_size(*, after: str | None, first: int | None, before: str | None, last: int | None) -> int:
    """How many events a page holds; paging forward (`after`, `first`) and back (`before`, `last`) don't mix."""
    if (after is not None or first is not None) and (before is not None or last is not None):
        raise BadUserInput("Page forward with `after` and `first`, or back with `before` and `last`, not both.")
    if first is not None:
        return check_first(first)
    if last is not None:
        return check_size(last, "last")
    return LATEST


async def _page_after(session: AsyncSession, organization_id: int, after: str, size: int) -> ActivityPage:
    sequence = await resume_point(session, organization_id, after)
    events = await events_after(session, organization_id, sequence, limit=size + 1)
    counts = await count_events(session, organization_id, at_or_before=sequence)
    return ActivityPage(events=events[:size], has_next=len(events) > size, has_previous=counts.at_or_before > 0,
                        total_count=counts.total)


async def _page_before(session: AsyncSession, organization_id: int, before: str | None, size: int) -> ActivityPage:
    sequence = None if before is None else await resume_point(session, organization_id, before)
    newest_first = await events_before(session, organization_id, sequence, limit=size + 1)
    counts = await count_events(session, organization_id, at_or_after=sequence)
    return ActivityPage(events=newest_first[:size][::-1], has_next=counts.at_or_after > 0,
                        has_previous=len(newest_first) > size, total_count=counts.total)


async def resume_point(session: AsyncSession, organization_id: int, after: str) -> int:
    """The sequence a cursor of this organization points at; anything else is BAD_USER_INPUT."""
    sequence = decode_activity_cursor(after, organization_id)
    await check_cursor_exists(session, organization_id, sequence)
    return sequence


async def portal_activity(ctx: Context, *, kinds: list[str] | None, after: str | None,
                          root_value: Callable[[ActivityEvent], object]) -> AsyncGenerator[ActivityEvent, None]:
    """Staff: the organization's events after `after` (or from now on), then live ones, each once.

    The checks run before the stream starts, so that a refusal is the subscription's error. Where the
    transport delivers the events (live_delivery), each batch of live ones is answered before it is handed
    out, once for all the subscriptions that get the same answer; `root_value` is what an event is to GraphQL.
    """
    if not isinstance(ctx, ConnectionContext):  # the app serves subscriptions over the WebSocket only
        raise BadUserInput("Subscribe over the WebSocket.")
    principal = ctx.viewer
    delivery = live_delivery()
    start = None
    # The WebSocket transport that delivers checks the session as each operation starts (web/session_watch.py).
    if delivery is None or after is not None:
        async with ctx.services.read_session_factory() as session:
            if delivery is None and principal.session_id not in await live_sessions(session, {principal.session_id}):
                raise Unauthenticated("The session has ended; sign in again.")
            start = None if after is None else await resume_point(session, principal.organization_id, after)
    wanted = set(kinds) if kinds else None
    events = activity_stream(running_feed(ctx.services), organization_id=principal.organization_id,
                             session_id=principal.session_id, after=start, kinds=wanted,
                             on_end=lambda ending: ctx.close_connection(ending.code, ending.reason),
                             preparation=None if delivery is None else _answered(delivery, wanted, root_value))
    return _each_in_its_own_session(ctx, principal, events, own_scope=delivery is None)


def _answered(delivery: LiveDelivery, wanted: set[str] | None,
              root_value: Callable[[ActivityEvent], object]) -> Preparation:
    async def answer(events: list[ActivityEvent]) -> None:
        await asyncio.gather(*(delivery.prepare(event, functools.partial(root_value, event)) for event in events
                               if wanted is None or event.kind in wanted))

    return Preparation(key=delivery.sharing_key(), prepare=answer)


async def _each_in_its_own_session(ctx: Context, principal: Principal, events: AsyncGenerator[ActivityEvent, None],
                                   *, own_scope: bool) -> AsyncGenerator[ActivityEvent, None]:
    """Each event resolved with a session of its own; a delivered one (not `own_scope`) brings its own."""
    async with aclosing(events):
        try:
            async for event in events:
                if not own_scope:
                    yield event
                    continue
                async with event_scope(ctx.services.read_session_factory, lambda session: Loaders(session, principal)):
                    yield event
        except SubscriberEnded:
            # The connection is being closed (on_end). Ending the stream instead would first tell
            # the client the subscription is complete, and it would not resume.
            await _until_cancelled()


async def _until_cancelled() -> None:
    await asyncio.Event().wait()


class EventRelations:
    """What activity events point at, read in batches under one viewer's visibility rules.

    Each is a node (customer, contact person, comment, subject), loaded by its own type as
    `node(id:)` loads it (`loaders`, the schema's registry): one read per type per batch.
    """

    def __init__(self, principal: Principal, session_scope: Callable[[], AbstractAsyncContextManager[AsyncSession]],
                 loaders: Mapping[str, nodes.LoadVisible]) -> None:
        self.principal = principal
        self._session_scope = session_scope  # a session to read with, as an async context manager
        self._loaders = loaders
        self._nodes = DataLoader(self._load_nodes)

    async def customer(self, event: ActivityEvent) -> Any:
        customer = await self._nodes.load(("Customer", event.customer_id))
        if customer is None:
            raise NotFound("Customer")
        return customer

    async def contact_person(self, event: ActivityEvent) -> Any | None:
        return await self._node("ContactPerson", event.contact_person_id)

    async def comment(self, event: ActivityEvent) -> Any | None:
        return await self._node("Comment", event.comment_id)

    async def subject(self, event: ActivityEvent) -> Any | None:
        """What the event is about; None if there is nothing, or nothing the viewer may see."""
        return None if event.subject_type is None else await self._node(event.subject_type, event.subject_id)

    async def _node(self, type_name: str, pk: int | None) -> Any | None:
        return None if pk is None else await self._nodes.load((type_name, pk))

    async def _load_nodes(self, keys: list[tuple[str, int]]) -> list:
        ids_by_type: defaultdict[str, list[int]] = defaultdict(list)
        for type_name, pk in keys:
            ids_by_type[type_name].append(pk)
        found: dict[tuple[str, int], Any] = {}
        async with self._session_scope() as session:
            for type_name, ids in ids_by_type.items():
                load = self._loaders.get(type_name)  # None: a type the schema no longer has
                loaded = await load(session, self.principal, ids) if load else [None] * len(ids)
                found.update(zip([(type_name, pk) for pk in ids], loaded, strict=True))
        return [found[key] for key in keys]


_of_request: "weakref.WeakKeyDictionary[Loaders, EventRelations]" = weakref.WeakKeyDictionary()
_of_delivered_event: dict[tuple[int, int], EventRelations] = {}


def relations(ctx: Context, event: ActivityEvent, loaders: Mapping[str, nodes.LoadVisible]) -> EventRelations:
    """The EventRelations to resolve `event`'s fields with, for who asks; `loaders` load each node type.

    In a request, one for the whole request (a page of events is read in a few queries). For a
    delivered event, one shared by the event's subscribers in this worker: they are all staff of
    its organization, who see the same, so a thousand of them cost one read, not a thousand.
    """
    principal = ctx.viewer
    if not isinstance(ctx, ConnectionContext):
        if ctx.loaders not in _of_request:
            session = ctx.session  # not ctx: the value must not keep its weak key (ctx.loaders) alive
            _of_request[ctx.loaders] = EventRelations(principal, lambda: nullcontext(session), loaders)
        return _of_request[ctx.loaders]
    if not principal.is_staff:
        raise Forbidden("Only the business's staff may do this.")
    key = (id(event), principal.organization_id)
    if key not in _of_delivered_event:
        _of_delivered_event[key] = EventRelations(principal, ctx.services.read_session_factory, loaders)
        weakref.finalize(event, _of_delivered_event.pop, key, None)  # forgotten with the event
    return _of_delivered_event[key]
