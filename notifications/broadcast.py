"""Announcing committed activity to every worker, through broadcaster.

An announcement only says "organization X has events up to sequence N"; subscribers read the
events from the database, which is the truth. A lost announcement therefore delays events and
never loses them (notifications/subscriptions.py also polls the database as a safety net).

broadcaster 0.3.1 alone would let a service stall, so `Broker` adds what it lacks:
- one backend call at a time: its postgres:// backend shares one asyncpg connection for LISTEN
  and NOTIFY, and concurrent calls fail with "another operation is in progress";
- a heartbeat that goes round through the broker: broadcaster never notices that its listener
  died (its issues #66, #121), so when a heartbeat does not come back in time the connection is
  thrown away and a new one is made, retried with backoff (also at start, where broadcaster
  would keep the app from starting);
- `listen()`, which survives those reconnections and says each time it (re)subscribed, since
  what was published in between may be lost and the listener must catch up from the database.
"""
import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Protocol, TypeVar

from broadcaster import Broadcast, Event

from portal.core.runtime import MessageBroker
from portal.models.activity import ActivityEvent
from portal.models.customer_updates import CustomerUpdate
from portal.ops.metrics import BROKER_CONNECTED, BROKER_DISCONNECTS, BROKER_PUBLISH_FAILURES, EVENTS_PUBLISHED

logger = logging.getLogger("portal.broadcast")
ACTIVITY_CHANNEL = "portal-activity"
UPDATES_CHANNEL = "portal-updates"  # customer updates (portalUpdates), numbered apart from activity
RETRY_CAP_SECONDS = 10.0
T = TypeVar("T")


class BrokerLost(Exception):
    """The connection to the broker is gone; the broker is making a new one."""


class _Subscriber(Protocol):
    """What broadcaster's `subscribe` yields (its class is private)."""

    async def get(self) -> Event: ...


class _Connection:
    """One broadcaster connection, and whether it was found dead."""

    def __init__(self, broadcast: Broadcast) -> None:
        self.broadcast = broadcast
        self.lost = asyncio.Event()

    async def until_lost(self, awaitable: Awaitable[T]) -> T:
        """The awaitable's result; BrokerLost if the connection is found dead first."""
        result = asyncio.ensure_future(awaitable)
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            await asyncio.wait({result, lost}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            result.cancel()
            raise
        finally:
            lost.cancel()
        if not result.done():
            result.cancel()
            raise BrokerLost()
        return result.result()


class Broker:
    """broadcaster with serialised calls, a heartbeat, reconnection, and listeners that survive it."""

    def __init__(self, url: str, *, heartbeat_seconds: float = 5.0, timeout_seconds: float = 5.0) -> None:
        Broadcast(url)  # an unsupported URL fails here, at start, rather than in every reconnection
        self.url = url
        self.heartbeat_seconds = heartbeat_seconds
        self.timeout_seconds = timeout_seconds
        self._connection: _Connection | None = None
        self._connected = asyncio.Event()
        self._calls = asyncio.Lock()
        self._heartbeat_channel = f"portal-heartbeat-{uuid.uuid4().hex}"
        self._supervisor: asyncio.Task | None = None

    @property
    def healthy(self) -> bool:
        return self._connected.is_set()

    async def start(self) -> None:
        """Connect in the background; wait a moment so that a reachable broker is used from the start."""
        self._supervisor = asyncio.create_task(self._supervise(), name="broker-supervisor")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), self.timeout_seconds)

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        self._connected.clear()
        if self._connection is not None:
            await self._discard(self._connection)
            self._connection = None

    async def publish(self, channel: str, message: str) -> None:
        connection = self._connection
        if connection is None or connection.lost.is_set():
            raise BrokerLost()
        await self._publish_on(connection, channel, message)

    async def listen(self, channel: str) -> AsyncIterator[str | None]:
        """The messages published on `channel`, across reconnections.

        Yields None each time it has (re)subscribed: messages published before may have been missed.
        """
        while True:
            connection = await self._live_connection()
            try:
                async with self._subscription(connection, channel) as subscriber:
                    yield None
                    while True:
                        event = await connection.until_lost(subscriber.get())
                        yield event.message
            except BrokerLost:
                continue

    async def _live_connection(self) -> _Connection:
        while True:
            await self._connected.wait()
            connection = self._connection
            if connection is not None and not connection.lost.is_set():
                return connection
            await asyncio.sleep(0.05)

    async def _publish_on(self, connection: _Connection, channel: str, message: str) -> None:
        try:
            async with self._calls:
                # Those queued behind a call that found the connection dead give up at once.
                if connection.lost.is_set():
                    raise BrokerLost()
                await asyncio.wait_for(connection.broadcast.publish(channel=channel, message=message),
                                       self.timeout_seconds)
        except BrokerLost:
            raise
        except Exception as error:
            self._lose(connection, error)
            raise BrokerLost() from error

    @contextlib.asynccontextmanager
    async def _subscription(self, connection: _Connection, channel: str) -> AsyncIterator[_Subscriber]:
        stack = contextlib.AsyncExitStack()
        try:
            async with self._calls:
                subscriber = await asyncio.wait_for(stack.enter_async_context(connection.broadcast.subscribe(channel)),
                                                    self.timeout_seconds)
        except Exception as error:
            self._lose(connection, error)
            raise BrokerLost() from error
        try:
            yield subscriber
        finally:
            # On a dead connection unsubscribing may hang: give it a moment, the connection is discarded anyway.
            with contextlib.suppress(Exception):
                async with self._calls:
                    await asyncio.wait_for(stack.aclose(), 1.0 if connection.lost.is_set() else self.timeout_seconds)

    async def _supervise(self) -> None:
        delay = 0.5
        while True:
            try:
                connection = await self._connect()
            except Exception as error:
                logger.warning("cannot connect to the broker (%s); retrying in %.1f s", _reason(error), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_CAP_SECONDS)
                continue
            delay = 0.5
            self._connection = connection
            self._connected.set()
            BROKER_CONNECTED.set(1)
            logger.info("connected to the broker")
            try:
                await self._heartbeat(connection)
            except Exception as error:
                self._lose(connection, error)
            self._connected.clear()
            BROKER_CONNECTED.set(0)
            await self._discard(connection)

    async def _connect(self) -> _Connection:
        broadcast = Broadcast(self.url)
        try:
            await asyncio.wait_for(broadcast.connect(), self.timeout_seconds)
        except BaseException:
            # broadcaster's own disconnect() needs a connect() that succeeded; close the backend directly.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(broadcast._backend.disconnect(), self.timeout_seconds)
            raise
        return _Connection(broadcast)

    async def _heartbeat(self, connection: _Connection) -> None:
        """Return (or raise) once a heartbeat fails to come back through the broker in time."""
        async with self._subscription(connection, self._heartbeat_channel) as echoes:
            while True:
                token = uuid.uuid4().hex
                await self._publish_on(connection, self._heartbeat_channel, token)
                await connection.until_lost(asyncio.wait_for(_echo(echoes, token), max(1.0, self.heartbeat_seconds)))
                await connection.until_lost(asyncio.sleep(self.heartbeat_seconds))

    def _lose(self, connection: _Connection, error: BaseException) -> None:
        if not connection.lost.is_set():
            BROKER_DISCONNECTS.inc()
            logger.warning("lost the broker connection (%s); reconnecting", _reason(error))
            connection.lost.set()

    async def _discard(self, connection: _Connection) -> None:
        connection.lost.set()
        broadcast = connection.broadcast
        with contextlib.suppress(Exception):
            await asyncio.wait_for(broadcast.disconnect(), self.timeout_seconds)
        # broadcaster's disconnect() stops at a dead listener's exception before closing the backend.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(broadcast._backend.disconnect(), self.timeout_seconds)


async def _echo(echoes: _Subscriber, token: str) -> None:
    while (await echoes.get()).message != token:
        pass


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def announcement(organization_id: int, sequence: int) -> str:
    return json.dumps({"organization": organization_id, "sequence": sequence})


def parse_announcement(message: str) -> tuple[int, int] | None:
    """(organization id, sequence), or None for a message that is not one."""
    try:
        fields = json.loads(message)
        return int(fields["organization"]), int(fields["sequence"])
    except (ValueError, TypeError, KeyError):
        return None


async def publish_events(broker: MessageBroker, events: Sequence[ActivityEvent | CustomerUpdate],
                         channel: str = ACTIVITY_CHANNEL) -> None:
    """Announce events (or customer updates, on UPDATES_CHANNEL) that are already committed: per
    organization, the highest sequence.

    Never raises: the action has happened. Without an announcement, subscribers find the events
    at their next poll of the database.
    """
    EVENTS_PUBLISHED.inc(len(events))
    latest: dict[int, int] = {}
    for event in events:
        latest[event.organization_id] = max(event.sequence, latest.get(event.organization_id, 0))
    for organization_id, sequence in latest.items():
        try:
            await broker.publish(channel, announcement(organization_id, sequence))
        except Exception as error:
            BROKER_PUBLISH_FAILURES.inc()
            logger.warning("could not announce activity of organization %s up to %s: %s",
                           organization_id, sequence, _reason(error))
