"""Live activity for subscribers: stored events after a cursor, then live ones, gap-free and bounded.

Why a subscriber never misses an event nor gets one twice
- Events of an organization are numbered by `sequence`, taken from a counter row that stays
  locked until the recording transaction ends (models/sequences.py). Transactions that record
  events therefore commit one after the other in sequence order, and a rolled-back one gives its
  number back: the committed events are always exactly 1..k. A later commit can never carry a
  sequence at or below one that anybody has already read, so "everything up to k" fully describes
  what a subscriber has had, and that is what a cursor encodes.
- The database is the only source of events. An announcement through the broker only says "there
  are events up to N"; the feed of each worker then reads what follows its position, once for all
  its subscribers of that organization, and hands each of them the same rows.
- A subscriber joins the feed before it reads where to start (the latest sequence, or its cursor)
  and before it replays: every event committed after it joined reaches its queue, every event
  committed before is in the replay, and the overlap is dropped by sequence. A hole in what
  arrives is filled from the database, which cannot happen but costs nothing to handle.
- A lost announcement only delays: each worker polls the latest sequences every
  `activity_poll_seconds` (every second while the broker is down), and catches up after every
  reconnection to the broker.

Subscribers that get the same answer share one execution of it (portal/web/transport_ws.py): a
subscriber may bring a preparation, which the feed runs once per distinct key for each batch of events
before handing them out, so that the answers are ready when the subscribers wake.

A subscriber that falls more than `activity_queue_limit` events behind, or whose session ends,
is ended: its connection is closed (on_end), and the client resumes with its last cursor.

Every signed-in WebSocket connection, with a subscription or without, is also watched (`watch`): the
same poll checks the sessions of all of this worker's connections in one query and closes those whose
session was revoked or expired.
"""
import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col

from portal.core.database import AsyncSession, SerialSession
from portal.core.runtime import MessageBroker, Services
from portal.core.shared_read import SharedRead
from portal.models.activity import ActivityEvent
from portal.models.auth import LoginSession
from portal.models.columns import utcnow
from portal.notifications.activity import events_after
from portal.notifications.broadcast import ACTIVITY_CHANNEL, parse_announcement
from portal.ops.metrics import DELIVERIES, SUBSCRIPTIONS_ACTIVE
from portal.ops.outage import log_failure

logger = logging.getLogger("portal.activity")
PAGE = 200
RETRY_SECONDS = 1.0


class Ending(Enum):
    """Why a subscriber was ended: the WebSocket close code and reason its client gets."""

    TOO_SLOW = (1013, "Too many undelivered events; resume with `after`.")
    SESSION_ENDED = (4403, "Forbidden")

    @property
    def code(self) -> int:
        return self.value[0]

    @property
    def reason(self) -> str:
        return self.value[1]


class SubscriberEnded(Exception):
    def __init__(self, ending: Ending) -> None:
        super().__init__(ending.reason)
        self.ending = ending


@dataclass(eq=False)
class Subscriber:
    """One subscription's queue of events read by the feed and not yet delivered."""

    organization_id: int
    session_id: int
    limit: int
    on_end: Callable[[Ending], None]
    preparation: "Preparation | None" = None
    ending: Ending | None = None
    _pending: deque = field(default_factory=deque)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, events: list[Any]) -> None:
        if self.ending is not None:
            return
        self._pending.extend(events)
        if len(self._pending) > self.limit:
            self.end(Ending.TOO_SLOW)
        else:
            self._arrived.set()

    def end(self, ending: Ending) -> None:
        if self.ending is not None:
            return
        self.ending = ending
        self._pending.clear()
        self._arrived.set()
        self.on_end(ending)

    async def next_events(self) -> list[Any]:
        """The events offered since the last call; waits for some. Raises SubscriberEnded."""
        await self._arrived.wait()
        if self.ending is not None:
            raise SubscriberEnded(self.ending)
        events = list(self._pending)
        self._pending.clear()
        self._arrived.clear()
        return events


@dataclass(frozen=True)
class Preparation:
    """Work to do once for a batch of events before they are handed out, for every subscriber with its key."""

    key: Hashable
    prepare: Callable[[list[Any]], Awaitable[None]]


@dataclass(eq=False)
class WatchedConnection:
    """A signed-in WebSocket connection, ended (on_end) once its session is revoked or expires."""

    session_id: int
    on_end: Callable[[Ending], None]


@dataclass(eq=False)
class Room:
    """The subscribers of one organization in this worker, and how far the feed has read for them."""

    organization_id: int
    subscribers: set[Subscriber] = field(default_factory=set)
    position: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    wanted: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None
    # What every batch of events asks of the subscribers, kept until they change: a thousand of them
    # share a handful of preparations and sessions, not worth gathering again for each event.
    _preparations: list[Preparation] | None = field(default=None, init=False, repr=False)
    _session_ids: set[int] | None = field(default=None, init=False, repr=False)

    def add(self, subscriber: Subscriber) -> None:
        self.subscribers.add(subscriber)
        self._preparations = self._session_ids = None

    def discard(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        self._preparations = self._session_ids = None

    def preparations(self) -> list[Preparation]:
        """Each distinct preparation of the subscribers, once."""
        if self._preparations is None:
            by_key = {subscriber.preparation.key: subscriber.preparation for subscriber in self.subscribers
                      if subscriber.preparation is not None}
            self._preparations = list(by_key.values())
        return self._preparations

    def session_ids(self) -> set[int]:
        if self._session_ids is None:
            self._session_ids = {subscriber.session_id for subscriber in self.subscribers}
        return self._session_ids


class ActivityFeed:
    """The events of every organization that has subscribers in this worker, read once for them all.

    The log it follows is its channel and its four readers below; UpdateFeed follows customer updates.
    """

    channel = ACTIVITY_CHANNEL

    async def read_after(self, session: AsyncSession, organization_id: int, sequence: int, *, limit: int,
                         only: Any = None) -> list[Any]:
        """The organization's entries after `sequence`, in order; `only` narrows them (here: kinds)."""
        return await events_after(session, organization_id, sequence, limit=limit, kinds=list(only or ()))

    def wanted(self, event: Any, only: Any) -> bool:
        """Whether a live entry passes `only`, as read_after would have narrowed it."""
        return not only or event.kind in only

    async def latest(self, session: AsyncSession, organization_id: int) -> int:
        return await latest_sequence(session, organization_id)

    async def latest_many(self, session: AsyncSession, organization_ids: list[int]) -> dict[int, int]:
        return await latest_sequences(session, organization_ids)

    def __init__(self, broker: MessageBroker, session_factory: async_sessionmaker[SerialSession], *,
                 queue_limit: int = 1000, poll_seconds: float = 5.0) -> None:
        self.broker = broker
        self.session_factory = session_factory
        self.queue_limit = queue_limit
        self.poll_seconds = poll_seconds
        self._rooms: dict[int, Room] = {}
        self._connections: set[WatchedConnection] = set()
        self._tasks: list[asyncio.Task] = []
        self._start_points: SharedRead[int, dict[int, int]] = SharedRead(self._latest_of)
        self._session_checks: SharedRead[int, set[int]] = SharedRead(self._live_of)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen(), name="activity-listener"),
                       asyncio.create_task(self._poll(), name="activity-poll")]

    async def stop(self) -> None:
        tasks = [*self._tasks, *(room.task for room in self._rooms.values() if room.task),
                 *self._start_points.under_way(), *self._session_checks.under_way()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._rooms.clear()

    def watch(self, session_id: int, on_end: Callable[[Ending], None]) -> WatchedConnection:
        """Check this connection's session at every poll, until `unwatch`."""
        connection = WatchedConnection(session_id=session_id, on_end=on_end)
        self._connections.add(connection)
        return connection

    def unwatch(self, connection: WatchedConnection) -> None:
        self._connections.discard(connection)

    @contextlib.asynccontextmanager
    async def subscription(self, organization_id: int, session_id: int, on_end: Callable[[Ending], None],
                           preparation: Preparation | None = None) -> AsyncIterator[Subscriber]:
        """A subscriber that gets every event committed from now on, until it leaves."""
        subscriber = await self.join(organization_id, session_id, on_end, preparation)
        try:
            yield subscriber
        finally:
            self.leave(subscriber)

    async def join(self, organization_id: int, session_id: int, on_end: Callable[[Ending], None],
                   preparation: Preparation | None = None) -> Subscriber:
        """As `subscription`, for a caller that calls `leave` itself once this has returned."""
        room = self._rooms.get(organization_id) or self._open_room(organization_id)
        subscriber = Subscriber(organization_id=organization_id, session_id=session_id, limit=self.queue_limit,
                                on_end=on_end, preparation=preparation)
        room.add(subscriber)
        SUBSCRIPTIONS_ACTIVE.inc()
        try:
            # The room's position must be read before the subscriber takes its own start.
            await room.ready.wait()
        except BaseException:
            self.leave(subscriber)
            raise
        return subscriber

    async def start_point(self, organization_id: int) -> int:
        """The organization's latest sequence, read after the caller joined: where its subscription starts.

        Callers that ask before the read has begun share it (SharedRead), so that a burst of new
        subscriptions reads once, for all their organizations; a caller that asks once it is under way waits
        for a read begun after it joined.
        """
        return (await self._start_points.ask(organization_id)).get(organization_id, 0)

    async def session_is_live(self, session_id: int) -> bool:
        """Whether the session is neither revoked nor expired, read after the caller asked.

        As start_point: the callers that ask before the check has begun share one query, so that a burst
        of new subscriptions (each checked as it starts, web/session_watch.py) reads once.
        """
        return session_id in await self._session_checks.ask(session_id)

    async def _latest_of(self, organization_ids: set[int]) -> dict[int, int]:
        async with self.session_factory() as session:
            return await self.latest_many(session, sorted(organization_ids))

    async def _live_of(self, session_ids: set[int]) -> set[int]:
        async with self.session_factory() as session:
            return await live_sessions(session, session_ids)

    def leave(self, subscriber: Subscriber) -> None:
        SUBSCRIPTIONS_ACTIVE.dec()
        room = self._rooms.get(subscriber.organization_id)
        if room is not None:
            room.discard(subscriber)
            if not room.subscribers:
                self._close_room(room)

    def _open_room(self, organization_id: int) -> Room:
        room = Room(organization_id=organization_id)
        self._rooms[organization_id] = room
        room.task = asyncio.create_task(self._serve(room), name=f"activity-room-{organization_id}")
        return room

    def _close_room(self, room: Room) -> None:
        if self._rooms.get(room.organization_id) is room:
            del self._rooms[room.organization_id]
        if room.task is not None:
            room.task.cancel()

    async def _serve(self, room: Room) -> None:
        room.position = await self._latest_sequence_retrying(room.organization_id)
        room.ready.set()
        while True:
            await room.wanted.wait()
            room.wanted.clear()
            try:
                await self._catch_up(room)
            except Exception:  # a database hiccup: try again shortly, nothing is lost meanwhile
                log_failure(logger, "could not read the activity of organization %s", room.organization_id)
                await asyncio.sleep(RETRY_SECONDS)
                room.wanted.set()

    async def _catch_up(self, room: Room) -> None:
        """Hand every subscriber of the room the events after the room's position."""
        while room.subscribers:
            async with self.session_factory() as session:
                events = await self.read_after(session, room.organization_id, room.position, limit=PAGE)
                if not events:
                    return
                checked = room.session_ids()
                live = await live_sessions(session, checked)
            await prepare(room.preparations(), events)  # without holding a connection: preparing reads with its own
            for subscriber in list(room.subscribers):
                # One who joined since (its session was checked as it started) is not among those checked here.
                if subscriber.session_id in live or subscriber.session_id not in checked:
                    subscriber.offer(events)
                else:
                    subscriber.end(Ending.SESSION_ENDED)
            room.position = events[-1].sequence
            if len(events) < PAGE:
                return

    async def _listen(self) -> None:
        while True:
            try:
                async for message in self.broker.listen(self.channel):
                    self._on_announcement(message)
            except Exception:  # the poll delivers meanwhile
                logger.exception("listening to the broker failed")
                await asyncio.sleep(RETRY_SECONDS)

    def _on_announcement(self, message: str | None) -> None:
        if message is None:  # (re)subscribed: announcements may have been missed meanwhile
            for room in list(self._rooms.values()):
                room.wanted.set()
            return
        announced = parse_announcement(message)
        if announced is None:
            return
        organization_id, sequence = announced
        behind = self._rooms.get(organization_id)
        if behind is not None and sequence > behind.position:
            behind.wanted.set()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds if self.broker.healthy else min(RETRY_SECONDS, self.poll_seconds))
            try:
                await self._poll_once()
            except Exception:
                log_failure(logger, "activity poll failed")

    async def _poll_once(self) -> None:
        """Wake the rooms whose organization has events they have not read; end expired sessions."""
        rooms, connections = list(self._rooms.values()), list(self._connections)
        if not rooms and not connections:
            return
        subscribers = [subscriber for room in rooms for subscriber in room.subscribers]
        async with self.session_factory() as session:
            latest = await self.latest_many(session, [room.organization_id for room in rooms]) if rooms else {}
            live = await live_sessions(session, {subscriber.session_id for subscriber in subscribers}
                                       | {connection.session_id for connection in connections})
        for subscriber in subscribers:
            if subscriber.session_id not in live:
                subscriber.end(Ending.SESSION_ENDED)
        for connection in connections:
            if connection.session_id not in live:
                self.unwatch(connection)
                connection.on_end(Ending.SESSION_ENDED)
        for room in rooms:
            if latest.get(room.organization_id, 0) > room.position:
                room.wanted.set()

    async def _latest_sequence_retrying(self, organization_id: int) -> int:
        while True:
            try:
                async with self.session_factory() as session:
                    return await self.latest(session, organization_id)
            except Exception:
                log_failure(logger, "could not read the activity of organization %s; retrying", organization_id)
                await asyncio.sleep(RETRY_SECONDS)


async def prepare(preparations: list[Preparation], events: list[Any]) -> None:
    """Each preparation for the events; one that fails is left to its subscribers."""
    outcomes = await asyncio.gather(*(preparation.prepare(events) for preparation in preparations),
                                    return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            logger.warning("preparing events for subscribers failed: %s", outcome)


def running_feed(services: Services) -> ActivityFeed:
    """This worker's activity feed, which the app's lifespan starts before it serves any subscription."""
    if not isinstance(services.activity_feed, ActivityFeed):
        raise RuntimeError("The activity feed is not running.")
    return services.activity_feed


def activity_stream(feed: ActivityFeed, *, organization_id: int, session_id: int, after: int | None,
                    kinds: set[str] | None, on_end: Callable[[Ending], None],
                    preparation: Preparation | None = None) -> AsyncGenerator[ActivityEvent, None]:
    """The organization's events after `after` (None: from now on), in order, then live ones.

    Raises SubscriberEnded once the subscriber was ended; on_end has then been told why.
    """
    return feed_stream(feed, organization_id=organization_id, session_id=session_id, after=after, only=kinds,
                       on_end=on_end, preparation=preparation)


async def feed_stream(feed: ActivityFeed, *, organization_id: int, session_id: int, after: int | None,
                      only: Any, on_end: Callable[[Ending], None],
                      preparation: Preparation | None = None) -> AsyncGenerator[Any, None]:
    """The entries of the feed's log after `after` (None: from now on) that pass `only`, in order, then live ones.

    Raises SubscriberEnded once the subscriber was ended; on_end has then been told why.
    """
    # Joined and left without a context manager: one object fewer held by each idle subscription.
    subscriber = await feed.join(organization_id, session_id, on_end, preparation)
    try:
        latest = await feed.start_point(organization_id)
        position = latest
        if after is not None:
            async for event in stored_events(feed, organization_id, after, latest, only):
                yield event
        while True:
            for event in await subscriber.next_events():
                if event.sequence <= position:
                    continue
                if event.sequence > position + 1:
                    async for missed in stored_events(feed, organization_id, position, event.sequence - 1, only):
                        yield missed
                position = event.sequence
                if feed.wanted(event, only):
                    DELIVERIES.note(event.occurred_at)
                    yield event
    finally:
        feed.leave(subscriber)


async def stored_events(feed: ActivityFeed, organization_id: int, after: int, up_to: int,
                        only: Any) -> AsyncIterator[Any]:
    """Entries with after < sequence <= up_to that pass `only`, in order, read page by page in short transactions."""
    while after < up_to:
        async with feed.session_factory() as session:
            page = await feed.read_after(session, organization_id, after, limit=PAGE, only=only)
        page = [event for event in page if event.sequence <= up_to]
        for event in page:
            yield event
        if len(page) < PAGE:
            return
        after = page[-1].sequence


async def latest_sequence(session: AsyncSession, organization_id: int) -> int:
    latest = await session.scalar(select(func.max(ActivityEvent.sequence))
                                  .where(col(ActivityEvent.organization_id) == organization_id))
    return latest or 0


async def latest_sequences(session: AsyncSession, organization_ids: list[int]) -> dict[int, int]:
    rows = await session.execute(
        select(col(ActivityEvent.organization_id), func.max(ActivityEvent.sequence))
        .where(col(ActivityEvent.organization_id).in_(organization_ids))
        .group_by(col(ActivityEvent.organization_id)))
    return dict(rows.all())


async def live_sessions(session: AsyncSession, session_ids: set[int]) -> set[int]:
    """Those of the sessions that are neither revoked nor expired."""
    if not session_ids:
        return set()
    rows = await session.scalars(select(col(LoginSession.id)).where(
        col(LoginSession.id).in_(session_ids), col(LoginSession.revoked_at).is_(None),
        col(LoginSession.expires_at) > utcnow()))
    return session_ids & set(rows)
