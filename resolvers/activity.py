"""Portal activity on the owner's side: the stored feed, the live subscription, what events point at."""
import asyncio
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import aclosing, nullcontext
from dataclasses import dataclass

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from portal.resolvers.context import ConnectionContext, event_scope
from portal.core.errors import Forbidden, NotFound, Unauthenticated
from portal.models.activity import ActivityEvent
from portal.models.auth import Principal
from portal.models.comments import Comment, comments_visible_to
from portal.models.customers import ContactPerson, Customer, contact_persons_visible_to, customers_visible_to
from portal.models.estimates import Estimate, estimates_visible_to
from portal.models.invoices import Invoice, invoices_visible_to
from portal.models.payments import Payment, payments_visible_to
from portal.models.projects import Project, projects_visible_to
from portal.models.reviews import Review, reviews_visible_to
from portal.notifications.activity import check_cursor_exists, decode_cursor, events_after
from portal.notifications.subscriptions import SubscriberEnded, activity_stream, live_sessions
from portal.resolvers import nodes
from portal.resolvers.loaders import Loaders
from portal.resolvers.paging import check_first


@dataclass
class ActivityPage:
    events: list[ActivityEvent]
    has_next: bool


async def activity(ctx, *, after: str | None, first: int | None) -> ActivityPage:
    """After a cursor: the events that follow it. Without one: the latest `first`. Oldest first."""
    principal = ctx.require_staff()
    first = check_first(first)
    if after is None:
        latest = await ctx.session.scalars(
            select(ActivityEvent).where(ActivityEvent.organization_id == principal.organization_id)
            .order_by(ActivityEvent.sequence.desc()).limit(first))
        return ActivityPage(events=list(reversed(list(latest))), has_next=False)
    sequence = await resume_point(ctx.session, principal.organization_id, after)
    events = await events_after(ctx.session, principal.organization_id, sequence, limit=first + 1)
    return ActivityPage(events=events[:first], has_next=len(events) > first)


async def resume_point(session, organization_id: int, after: str) -> int:
    """The sequence a cursor of this organization points at; anything else is BAD_USER_INPUT."""
    sequence = decode_cursor(after, organization_id)
    await check_cursor_exists(session, organization_id, sequence)
    return sequence


async def portal_activity(ctx, *, kinds: list[str] | None, after: str | None) -> AsyncIterator[ActivityEvent]:
    """Staff: the organization's events after `after` (or from now on), then live ones, each once.

    The checks run before the stream starts, so that a refusal is the subscription's error.
    """
    principal = ctx.require_staff()
    async with ctx.services.read_session_factory() as session:
        if principal.session_id not in await live_sessions(session, {principal.session_id}):
            raise Unauthenticated("The session has ended; sign in again.")
        start = None if after is None else await resume_point(session, principal.organization_id, after)
    events = activity_stream(ctx.services.activity_feed, organization_id=principal.organization_id,
                             session_id=principal.session_id, after=start, kinds=set(kinds) if kinds else None,
                             on_end=lambda ending: ctx.close_connection(ending.code, ending.reason))
    return _each_in_its_own_session(ctx, principal, events)


async def _each_in_its_own_session(ctx, principal: Principal, events) -> AsyncIterator[ActivityEvent]:
    async with aclosing(events):
        try:
            async for event in events:
                async with event_scope(ctx.services.read_session_factory, lambda session: Loaders(session, principal)):
                    yield event
        except SubscriberEnded:
            # The connection is being closed (on_end). Ending the stream instead would first tell
            # the client the subscription is complete, and it would not resume.
            await _until_cancelled()


async def _until_cancelled() -> None:
    await asyncio.Event().wait()


# What an event's subject may be, and the visibility rule each is read under.
SUBJECTS = {
    "Estimate": (Estimate, estimates_visible_to),
    "Invoice": (Invoice, invoices_visible_to),
    "Payment": (Payment, payments_visible_to),
    "Project": (Project, projects_visible_to),
    "Customer": (Customer, customers_visible_to),
    "Review": (Review, reviews_visible_to),
    "ContactPerson": (ContactPerson, contact_persons_visible_to),
}


class EventRelations:
    """What activity events point at, read in batches under one viewer's visibility rules."""

    def __init__(self, principal: Principal, session_scope) -> None:
        self.principal = principal
        self._session_scope = session_scope  # a session to read with, as an async context manager
        self.customers = DataLoader(self._load_customers)
        self.contact_persons = DataLoader(self._load_contact_persons)
        self.comments = DataLoader(self._load_comments)
        self.subjects = DataLoader(self._load_subjects)

    async def customer(self, event: ActivityEvent) -> Customer:
        customer = await self.customers.load(event.customer_id)
        if customer is None:
            raise NotFound("Customer")
        return customer

    async def contact_person(self, event: ActivityEvent) -> ContactPerson | None:
        return None if event.contact_person_id is None else await self.contact_persons.load(event.contact_person_id)

    async def comment(self, event: ActivityEvent) -> Comment | None:
        return None if event.comment_id is None else await self.comments.load(event.comment_id)

    async def subject(self, event: ActivityEvent) -> tuple[str, object] | None:
        """(type name, row) of what the event is about; None if there is none or it is not visible."""
        if event.subject_type is None or event.subject_id is None:
            return None
        row = await self.subjects.load((event.subject_type, event.subject_id))
        return None if row is None else (event.subject_type, row)

    async def _load_customers(self, ids):
        return await self._by_id(customers_visible_to(self.principal), Customer, ids)

    async def _load_contact_persons(self, ids):
        return await self._by_id(contact_persons_visible_to(self.principal), ContactPerson, ids)

    async def _load_comments(self, ids):
        return await self._by_id(comments_visible_to(self.principal), Comment, ids)

    async def _by_id(self, visible, model, ids):
        async with self._session_scope() as session:
            found = {row.id: row for row in await session.scalars(visible.where(model.id.in_(ids)))}
        return [found.get(pk) for pk in ids]

    async def _load_subjects(self, keys):
        ids_by_type = defaultdict(list)
        for type_name, pk in keys:
            ids_by_type[type_name].append(pk)
        found = {}
        async with self._session_scope() as session:
            for type_name, ids in ids_by_type.items():
                for row in await self._subjects_of_type(session, type_name, ids):
                    found[(type_name, row.id)] = row
        return [found.get(key) for key in keys]

    async def _subjects_of_type(self, session, type_name: str, ids: list[int]) -> list:
        if type_name in SUBJECTS:
            model, visible_to = SUBJECTS[type_name]
            return list(await session.scalars(visible_to(self.principal).where(model.id.in_(ids))))
        fetch = nodes.FETCHERS.get(type_name)  # a kind of subject added later: one by one, same rules
        rows = []
        for pk in ids if fetch else ():
            try:
                rows.append(await fetch(session, self.principal, pk))
            except NotFound:
                pass
        return rows


_of_request: "weakref.WeakKeyDictionary[Loaders, EventRelations]" = weakref.WeakKeyDictionary()
_of_delivered_event: dict[tuple[int, int], EventRelations] = {}


def relations(ctx, event: ActivityEvent) -> EventRelations:
    """The EventRelations to resolve `event`'s fields with, for who asks.

    In a request, one for the whole request (a page of events is read in a few queries). For a
    delivered event, one shared by the event's subscribers in this worker: they are all staff of
    its organization, who see the same, so a thousand of them cost one read, not a thousand.
    """
    principal = ctx.require_principal()
    if not isinstance(ctx, ConnectionContext):
        if ctx.loaders not in _of_request:
            session = ctx.session  # not ctx: the value must not keep its weak key (ctx.loaders) alive
            _of_request[ctx.loaders] = EventRelations(principal, lambda: nullcontext(session))
        return _of_request[ctx.loaders]
    if not principal.is_staff:
        raise Forbidden("Only the business's staff may do this.")
    key = (id(event), principal.organization_id)
    if key not in _of_delivered_event:
        _of_delivered_event[key] = EventRelations(principal, ctx.services.read_session_factory)
        weakref.finalize(event, _of_delivered_event.pop, key, None)  # forgotten with the event
    return _of_delivered_event[key]


async def event_node(session, principal: Principal, pk: int) -> ActivityEvent:
    """node(id:) for an activity event: staff of its organization only."""
    event = None
    if principal.is_staff:
        event = await session.scalar(select(ActivityEvent).where(
            ActivityEvent.id == pk, ActivityEvent.organization_id == principal.organization_id))
    if event is None:
        raise NotFound("Activity event")
    return event


nodes.register("ActivityEvent", event_node)
