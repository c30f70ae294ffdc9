"""The per-request GraphQL context: a session, who asks, and fresh DataLoaders."""
import asyncio
import contextlib
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta

from portal.core.errors import BadUserInput, Forbidden, Unauthenticated
from portal.models.auth import Principal
from portal.models.organizations import Organization, today_in
from portal.notifications.activity import take_pending_events
from portal.notifications.broadcast import publish_events
from portal.core.settings import Settings


@dataclass
class Services:
    """Process-wide parts built by the app's lifespan."""

    settings: Settings
    engine: object
    session_factory: object
    # For sessions that only read while others write (live activity); on PostgreSQL the same factory.
    read_session_factory: object
    broadcast: object
    mail_sender: object | None = None
    gateway: object | None = None
    activity_feed: object | None = None


@dataclass
class Context:
    services: Services
    session: object
    principal: Principal | None = None
    organization: Organization | None = None
    loaders: object | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    request: object | None = None
    response: object | None = None

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def today(self) -> date:
        return today_in(self.organization) if self.organization else date.today()

    @property
    def session_ttl(self) -> timedelta:
        return timedelta(hours=self.settings.session_ttl_hours)

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated()
        return self.principal

    def require_staff(self) -> Principal:
        principal = self.require_principal()
        if not principal.is_staff:
            raise Forbidden("Only the business's staff may do this.")
        return principal

    def require_contact(self) -> Principal:
        principal = self.require_principal()
        if not principal.is_contact:
            raise Forbidden("Only a contact person signed in to the portal may do this.")
        return principal

    async def commit(self) -> None:
        await commit_and_publish(self.session, self.services)


async def commit_and_publish(session, services: Services) -> None:
    """Commit, then announce the activity the transaction recorded and wake the mail sender."""
    events = take_pending_events(session)
    await session.commit()
    if events:
        await publish_events(services.broadcast, events)
    if services.mail_sender is not None:
        services.mail_sender.wake()


class EventScope:
    """The session and DataLoaders of one delivered event, made only if a field needs them."""

    def __init__(self, open_session, make_loaders) -> None:
        self._open_session, self._make_loaders = open_session, make_loaders
        self._session = self._loaders = None

    @property
    def session(self):
        if self._session is None:
            self._session = self._open_session()
        return self._session

    @property
    def loaders(self):
        if self._loaders is None:
            self._loaders = self._make_loaders(self.session)
        return self._loaders

    async def release(self) -> None:
        """Give the connection back; the rows read stay usable."""
        if self._session is not None:
            await self._session.close()


_event_scope: ContextVar[EventScope | None] = ContextVar("portal_event_scope", default=None)


def _event_part(name: str):
    def read(context: "ConnectionContext"):
        scope = _event_scope.get()
        if scope is None:
            raise BadUserInput("Over the WebSocket, only subscriptions are served; send queries and mutations "
                               "over HTTP.")
        return getattr(scope, name)

    def assign(context: "ConnectionContext", value) -> None:
        if value is not None:
            raise AttributeError(f"a connection's {name} belongs to the event being delivered")

    return property(read, assign)


class ConnectionContext(Context):
    """The context of one WebSocket connection: who connected, for as long as it stays open.

    The connection's subscriptions run side by side. Each event they deliver is resolved with a
    session and DataLoaders of its own (`event_scope`), kept in a context variable of the
    subscription's task: `session` and `loaders` then read as in an HTTP request, no two
    subscriptions share them, and no database connection is held between events.
    """

    session = _event_part("session")
    loaders = _event_part("loaders")
    connection_params: dict | None = None  # the connection_init payload, set by Strawberry
    _closing: asyncio.Task | None = None

    def close_connection(self, code: int, reason: str) -> None:
        """Close the WebSocket from a subscription; Strawberry then cancels its operations."""
        if self._closing is None:
            self._closing = asyncio.create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):  # the client may have gone already
            await self.request.close(code=code, reason=reason)


@contextlib.asynccontextmanager
async def event_scope(open_session, make_loaders):
    """Resolve the event delivered within this block with a session from `open_session` and
    `make_loaders(session)`, both made on first use."""
    scope = EventScope(open_session, make_loaders)
    _event_scope.set(scope)
    try:
        yield
    finally:
        # set, not reset: an abandoned generator may be finalized in another context
        _event_scope.set(None)
        await scope.release()


async def release_event_session() -> None:
    """The delivered event's result is complete: give its database connection back before sending it."""
    scope = _event_scope.get()
    if scope is not None:
        await scope.release()
