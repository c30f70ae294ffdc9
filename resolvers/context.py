"""The per-request GraphQL context: a session, who asks, and fresh DataLoaders."""
import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

import strawberry

from portal.core.addresses import UNKNOWN
from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput, Unauthenticated
from portal.core.runtime import Services
from portal.core.settings import Settings
from portal.models.auth import Principal, TokenProblem, token_refused
from portal.models.organizations import (
    Organization,
    PortalSettings,
    check_portal_allows,
    read_portal_settings,
    today_in_zone,
)
from portal.notifications.publishing import commit_and_publish
from portal.ops.logs import new_request_id
from portal.resolvers.loaders import Loaders

PORTAL_SETTINGS = "portal_settings"


def _today_of(time_zone: str | None) -> date:
    return today_in_zone(time_zone) if time_zone else date.today()


@dataclass
class Context:
    services: Services
    session: AsyncSession
    principal: Principal | None = None
    organization: Organization | None = None  # read on first use (viewer_organization) unless given
    time_zone: str | None = None  # the organization's as signed in, for `today` until `organization` is read
    request_id: str = field(default_factory=new_request_id)
    request: object | None = None
    response: object | None = None
    token_problem: TokenProblem | None = None  # why the bearer token sent signs in nobody, if one was sent
    # Who failed sign-ins are counted against (portal/core/addresses.py), worked out only when a sign-in asks.
    address_of_client: Callable[[], str] | None = None

    @functools.cached_property
    def loaders(self) -> Loaders:
        """The request's DataLoaders, made on first use: they die with it, never serving another.
        They read what the viewer may see, so only fields of signed-in callers use them."""
        return Loaders(self.session, self.viewer)

    @functools.cached_property
    def client_address(self) -> str:
        return self.address_of_client() if self.address_of_client else UNKNOWN

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @functools.cached_property
    def today(self) -> date:
        """Today in the organization's zone, as of the request's first asking (a page asks once per row)."""
        return _today_of(self.organization_time_zone)

    @property
    def organization_time_zone(self) -> str | None:
        """The zone of the organization once read (a mutation may have changed it), else the signed-in one."""
        return self.organization.time_zone if self.organization else self.time_zone

    @property
    def session_ttl(self) -> timedelta:
        return timedelta(hours=self.settings.session_ttl_hours)

    @property
    def viewer(self) -> Principal:
        """Who asks. Root fields declare who may call them (schema/permissions.py), so a field that
        reads the viewer has already refused anonymous callers; this only keeps that promise typed."""
        if self.principal is None:
            raise self.not_signed_in()
        return self.principal

    def not_signed_in(self) -> Unauthenticated:
        """UNAUTHENTICATED for this request: what is wrong with the token it sent, or that it sent none."""
        return token_refused(self.token_problem)

    async def viewer_organization(self) -> Organization:
        """The organization of who asks, read in the request's session on first use; signed in, they always
        have one."""
        if self.organization is None:
            self.organization = await self.session.get(Organization, self.viewer.organization_id)
            if self.organization is None:
                raise Unauthenticated()
        return self.organization

    async def portal_settings(self) -> PortalSettings:
        """The viewer's portal settings, read once per session: once per HTTP operation."""
        settings: PortalSettings | None = self.session.info.get(PORTAL_SETTINGS)
        if settings is None:
            settings = await read_portal_settings(self.session, self.viewer.organization_id)
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

    def __init__(self, open_session: Callable[[], AsyncSession],
                 make_loaders: Callable[[AsyncSession], Loaders]) -> None:
        self._open_session, self._make_loaders = open_session, make_loaders
        self._session: AsyncSession | None = None
        self._loaders: Loaders | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._open_session()
        return self._session

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = self._make_loaders(self.session)
        return self._loaders

    async def release(self) -> None:
        """Give the connection back; the rows read stay usable."""
        if self._session is not None:
            await self._session.close()


_event_scope: ContextVar[EventScope | None] = ContextVar("portal_event_scope", default=None)


def _delivered_event() -> EventScope:
    scope = _event_scope.get()
    if scope is None:
        raise BadUserInput("Over the WebSocket, only subscriptions are served; send queries and mutations "
                           "over HTTP.")
    return scope


class ClosableConnection(Protocol):
    """What a subscription needs of its WebSocket: a way to close it."""

    async def close(self, code: int, reason: str | None) -> None: ...


class ConnectionContext(Context):
    """The context of one WebSocket connection: who connected, for as long as it stays open.

    The connection's subscriptions run side by side. Each event they deliver is resolved with a
    session and DataLoaders of its own (`event_scope`), kept in a context variable of the
    subscription's task: `session` and `loaders` then read as in an HTTP request, no two
    subscriptions share them, and no database connection is held between events.
    """

    request: ClosableConnection | None
    connection_params: dict | None = None  # the connection_init payload, set by Strawberry
    _closing: asyncio.Task | None = None

    def __init__(self, *, services: Services, request: ClosableConnection | None = None,
                 response: object | None = None, principal: Principal | None = None,
                 organization: Organization | None = None) -> None:
        # Not Context's __init__: a connection has no session or DataLoaders of its own to be given.
        self.services, self.request, self.response = services, request, response
        self.principal, self.organization = principal, organization
        self.request_id = new_request_id()

    @property
    def session(self) -> AsyncSession:
        return _delivered_event().session

    @session.setter
    def session(self, session: AsyncSession) -> None:
        raise AttributeError("a connection's session belongs to the event being delivered")

    @property
    def loaders(self) -> Loaders:
        return _delivered_event().loaders

    @property  # a connection outlives its day: asked afresh each time
    def today(self) -> date:
        return _today_of(self.organization_time_zone)

    async def portal_settings(self) -> PortalSettings:
        """Per delivered event, as in a request; when a subscription starts (no event yet), read afresh.

        Never once per connection: the owner may switch a feature off while the socket stays open.
        """
        if _event_scope.get() is not None:
            return await super().portal_settings()
        async with self.services.read_session_factory() as session:
            return await read_portal_settings(session, self.viewer.organization_id)

    def close_connection(self, code: int, reason: str) -> None:
        """Close the WebSocket from a subscription; Strawberry then cancels its operations."""
        if self._closing is None:
            self._closing = asyncio.create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):  # the client may have gone already
            if self.request is not None:
                await self.request.close(code=code, reason=reason)


@contextlib.asynccontextmanager
async def event_scope(open_session: Callable[[], AsyncSession],
                      make_loaders: Callable[[AsyncSession], Loaders]) -> AsyncIterator[None]:
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


class LiveDelivery(Protocol):
    """How a subscription's events reach its client, given by the WebSocket transport to each operation."""

    def sharing_key(self) -> Hashable:
        """Equal for the subscriptions that get the same answers."""

    async def prepare(self, event: object, root_value: Callable[[], object]) -> None:
        """Answer the operation for `event` (a row the feed shares between subscribers) with
        `root_value()` as the subscription's value, for `deliver` to find."""

    async def deliver(self, event: object, root_value: Callable[[], object]) -> None:
        """Answer the operation for `event` (as `prepare`, unless that was done) and send the answer to the client."""


_live_delivery: ContextVar[LiveDelivery | None] = ContextVar("portal_live_delivery", default=None)


def live_delivery() -> LiveDelivery | None:
    """The running subscription's LiveDelivery; None where no transport gave one (the events are then
    yielded, and executed one by one)."""
    return _live_delivery.get()


def deliver_through(delivery: LiveDelivery) -> None:
    """Deliver the events of the operation run by the current task through `delivery`."""
    _live_delivery.set(delivery)


# What every resolver receives: `info.context` is a Context (a ConnectionContext on a WebSocket).
Info = strawberry.Info[Context, None]
