"""A WebSocket connection lives only as long as the session it signed in with.

Its session is checked when each operation starts (a query or mutation sent over the socket as much
as a subscription) and, with those of every other connection of this worker in one query, at each
poll of the activity feed (PORTAL_ACTIVITY_POLL_SECONDS). Once it is revoked (logout, a new password,
disabled access) or expired, the connection is closed with 4403.
"""
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage, SubscribeMessage

from portal.notifications.subscriptions import Ending, WatchedConnection, live_sessions, running_feed
from portal.resolvers.context import ConnectionContext, Context


class SessionCheckedTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    _watched: WatchedConnection | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        principal = self.context.principal
        if self.connection_acknowledged and principal is not None:
            self._watched = running_feed(self.context.services).watch(principal.session_id, self._session_ended)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and not await self._session_is_live():
            self._session_ended(Ending.SESSION_ENDED)
            return
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        if self._watched is not None:
            running_feed(self.context.services).unwatch(self._watched)
        await super().shutdown()

    async def _session_is_live(self) -> bool:
        principal = self.context.principal
        if principal is None:
            return False
        async with self.context.services.read_session_factory() as session:
            return bool(await live_sessions(session, {principal.session_id}))

    def _session_ended(self, ending: Ending) -> None:
        if isinstance(self.context, ConnectionContext):
            self.context.close_connection(ending.code, ending.reason)
