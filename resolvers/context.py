"""The per-request GraphQL context: a session, who asks, and fresh DataLoaders."""
import asyncio
import contextlib
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta

import strawberry

from portal.core.errors import BadUserInput, Unauthenticated
from portal.core.runtime import Services
from portal.core.settings import Settings
from portal.models.auth import Principal
from portal.models.organizations import Organization, PortalSettings, check_portal_allows, today_in
from portal.notifications.publishing import commit_and_publish

PORTAL_SETTINGS = "portal_settings"


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

    @property
    def viewer(self) -> Principal:
        """Who asks. Root fields declare who may call them (schema/permissions.py), so a field that
        reads the viewer has already refused anonymous callers; this only keeps that promise typed."""
        if self.principal is None:
            raise Unauthenticated()
        return self.principal

    async def portal_settings(self) -> PortalSettings:
        """The viewer's portal settings, read once per session: per request, or per delivered event."""
        settings = self.session.info.get(PORTAL_SETTINGS)
        if settings is None:
            settings = await self.session.get(PortalSettings, self.viewer.organization_id)
            self.session.info[PORTAL_SETTINGS] = settings
        return settings

    async def require_portal_allows(self, feature: str) -> None:
        """A contact person is refused a feature the owner switched off; staff always pass."""
        if self.viewer.is_contact:
            check_portal_allows(await self.portal_settings(), feature)

    async def commit(self) -> None:
        await commit_and_publish(self.session, self.services)


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


# What every resolver receives: `info.context` is a Context (a ConnectionContext on a WebSocket).
Info = strawberry.Info[Context, None]
