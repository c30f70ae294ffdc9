"""The ASGI application: GraphQL over HTTP and WebSocket, health checks, and the lifespan."""
import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, overload

import orjson
from cross_web import HTTPException
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.types import QueryParams
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.execution import ExecutionResult
from strawberry.types.unset import UNSET

from portal.core import bounded_json
from portal.core.addresses import client_address
from portal.core.database import SerialSession, create_engine, session_factory
from portal.core.runtime import Services
from portal.core.settings import Settings, get_settings
from portal.gateway import gateway_for
from portal.gateway.routes import routes as sandbox_routes
from portal.notifications.broadcast import Broker
from portal.notifications.delivery import delivery_for
from portal.notifications.sender import OutboxSender
from portal.notifications.subscriptions import ActivityFeed
from portal.notifications.update_feed import UpdateFeed
from portal.notifications.webhook_sender import WebhookSender
from portal.ops.heap import freeze_startup_heap
from portal.ops.logs import new_request_id
from portal.ops.outage import log_failure
from portal.ops.pool import watch_pool
from portal.ops.tracing import enable_tracing
from portal.pdf.rendering import render_pool
from portal.resolvers.context import ConnectionContext, Context
from portal.schema import schema
from portal.services.checkout import recover_stale_attempts
from portal.web import pages
from portal.web.auth import SignInBurst, authenticate
from portal.web.body_limit import BodyLimit
from portal.web.draining import Drain
from portal.web.graphql_http import (
    HTTP_METHODS,
    OPERATIONS_BY_METHOD,
    Refusal,
    method_not_allowed,
    operation_not_allowed,
    refusal_response,
)
from portal.web.metrics_route import metrics
from portal.web.origins import BrowserOrigins, PortalCORS
from portal.web.outage import TRY_AGAIN, database_unreachable, unavailable
from portal.web.pdf_routes import routes as pdf_routes
from portal.web.request_log import RequestLog, note_principal, request_id
from portal.web.sandbox_ledger import routes as ledger_routes
from portal.web.security_headers import SecurityHeaders
from portal.web.transport_ws import PortalTransportWS, PortalWebSocketAdapter

logger = logging.getLogger("portal")


class PortalGraphQL(GraphQL[Context, None]):
    """GraphQL over HTTP (the methods and refusals of graphql_http.py) and over WebSocket (graphql-transport-ws)."""

    graphql_transport_ws_handler_class = PortalTransportWS
    websocket_adapter_class = PortalWebSocketAdapter

    def __init__(self, services: Services, origins: BrowserOrigins) -> None:
        settings = services.settings
        super().__init__(
            schema,
            graphql_ide=None,
            allow_queries_via_get=True,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            keep_alive=True,
            keep_alive_interval=settings.ws_keep_alive_seconds,
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=10,
            allowed_origins=sorted(origins.origins),
        )
        self.services = services
        self.origins = origins
        self.proxies = settings.proxy_networks
        self.sign_ins = SignInBurst(services.session_factory)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            if scope["method"] not in HTTP_METHODS:
                raise method_not_allowed(scope["method"])
            request = Request(scope, receive)
            if self.services.settings.graphiql_enabled and pages.wants_graphiql(request):
                await pages.graphiql_page()(scope, receive, send)
                return
            response = await self.run(request)
        except HTTPException as refusal:
            response = refusal_response(refusal)
        except Exception as error:
            if not database_unreachable(error):
                raise
            response = unavailable(request_id(), error)
        await response(scope, receive, send)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        return self.graphql_ide is not None and super().should_render_graphql_ide(request)

    def create_response(self, response_data: object, sub_response: Response) -> Response:
        """Strawberry's answer to a query or mutation, encoded by orjson: the same compact UTF-8 JSON in a
        tenth of the time. (WebSocket messages keep `encode_json`, whose text their sender expects.)"""
        response = Response(orjson.dumps(response_data), status_code=sub_response.status_code or 200,
                            media_type="application/json")
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        return response

    def decode_json(self, data: str | bytes) -> object:
        return bounded_json.loads(data)  # HTTP bodies, GET variables and WebSocket messages

    def parse_json(self, data: str | bytes) -> object:
        try:
            return self.decode_json(data)
        except bounded_json.JSONTooDeep as error:
            raise Refusal(400, f"The JSON is nested deeper than {error.max_depth} levels.") from None
        except json.JSONDecodeError:
            raise Refusal(400, "Unable to parse request body as JSON") from None

    def parse_query_params(self, params: QueryParams) -> dict[str, object]:
        try:
            return super().parse_query_params(params)
        except Refusal as refusal:
            if "nested" not in refusal.reason:
                raise Refusal(400, "The `variables` and `extensions` of a GET must be JSON objects.") from None
            raise
        except HTTPException:
            raise Refusal(400, "The `variables` and `extensions` of a GET must be JSON objects.") from None

    async def execute_single(self, request: Request, request_adapter: object, sub_response: object,
                             context: Context, root_value: None, request_data: GraphQLRequestData) -> ExecutionResult:
        """Strawberry's, with the operations each method serves (OPERATIONS_BY_METHOD) and refusals that say so."""
        try:
            return await self.schema.execute(
                request_data.query, variable_values=request_data.variables, context_value=context,
                root_value=root_value, operation_name=request_data.operation_name,
                allowed_operation_types=OPERATIONS_BY_METHOD[request.method],
                operation_extensions=request_data.extensions)
        except InvalidOperationTypeError as error:
            raise operation_not_allowed(error.operation_type) from None
        except CannotGetOperationTypeError as error:
            raise Refusal(400, error.as_http_error_reason()) from None
        except MissingQueryError:
            raise Refusal(400, "No GraphQL query found in the request.") from None

    @overload
    async def run(self, request: Request, context: Context = UNSET, root_value: None = UNSET) -> Response: ...

    @overload
    async def run(self, request: WebSocket, context: Context = UNSET, root_value: None = UNSET) -> WebSocket: ...

    async def run(self, request: Request | WebSocket, context: Context = UNSET,
                  root_value: None = UNSET) -> Response | WebSocket:
        if isinstance(request, WebSocket):
            if not self.origins.admits(request.headers):
                await self.origins.refuse_websocket(request, await self.pick_websocket_subprotocol(request))
                return request
            return await super().run(request, context, root_value)
        # One database session per HTTP request, closed (and rolled back if uncommitted) at its end.
        async with self.services.session_factory() as session:
            request.state.session = session
            return await super().run(request, context, root_value)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        if isinstance(request, WebSocket):
            connection = ConnectionContext(services=self.services, request=request, response=response)
            connection.request_id = request_id() or connection.request_id
            return connection
        if isinstance(response, WebSocket):
            raise TypeError("Strawberry answers an HTTP request with a Response")
        session: SerialSession = request.state.session
        # On PostgreSQL the sign-in read opens the request's one transaction (resolvers that wait on something
        # slow, a password hash or the payment gateway, end it before they do). On SQLite every transaction
        # holds the write lock from its start (database.py): there it ends, so that a resolver's own session
        # may write.
        signed_in = await authenticate(session, request.headers.get("authorization"))
        if self.services.settings.embedded_database:
            await session.commit()
        context = Context(services=self.services, session=session, principal=signed_in.principal,
                          organization=signed_in.organization, time_zone=signed_in.time_zone,
                          token_problem=signed_in.problem, request=request, response=response,
                          address_of_client=functools.partial(self._client_address, request),
                          request_id=request_id() or new_request_id())  # the one RequestLog logs and answers
        note_principal(signed_in.principal)
        response.headers["X-Request-ID"] = context.request_id
        if request.method == "GET":
            response.headers["Cache-Control"] = "private, no-store"  # the answer depends on the token
        return context

    def _client_address(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        return client_address(peer, request.headers.getlist("x-forwarded-for"), self.proxies)

    async def on_ws_connect(self, context: Context) -> None:
        """Who connects, from the connection_init payload {"authorization": "Bearer …"}; else close with 4403.

        A burst of connections (clients reconnecting together) is signed in by one query (SignInBurst).
        """
        if not isinstance(context, ConnectionContext):
            raise TypeError("get_context gives every WebSocket a ConnectionContext")
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        authorization = next((value for key, value in params.items()
                              if key.lower() == "authorization" and isinstance(value, str)), None)
        try:
            signed_in = await self.sign_ins.authenticate(authorization)
        except Exception as error:
            if not database_unreachable(error):
                raise
            logger.warning("database unreachable (%s); WebSocket closed with 1013", type(error).__name__)
            if context.request is not None:  # 1013 (try again later): graphql-ws clients reconnect
                await context.request.close(code=1013, reason=TRY_AGAIN)
            raise ConnectionRejectionError() from None
        if signed_in.principal is None:
            if context.request is not None:  # the reason says why: no token, or a malformed, unknown or expired one
                await context.request.close(code=4403, reason=signed_in.refusal().message)
            raise ConnectionRejectionError()
        context.principal, context.organization = signed_in.principal, signed_in.organization
        note_principal(signed_in.principal)


class PortalApp(Starlette):
    """Starlette, with the security headers outside even its error handler: a 500 carries them too."""

    def __init__(self, *, base_url: str, **options: Any) -> None:
        self.base_url = base_url
        super().__init__(**options)

    def build_middleware_stack(self) -> ASGIApp:
        # RequestLog outermost: it logs and counts every answer, and sets X-Request-ID on each.
        return RequestLog(SecurityHeaders(super().build_middleware_stack(), base_url=self.base_url))


async def cancel_and_wait(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def recover_payments_forever(services: Services, every_seconds: float = 60) -> None:
    """Finish online payments that a crash left between charge and record."""
    while True:
        try:
            await recover_stale_attempts(services)
        except Exception:
            log_failure(logger, "payment recovery pass failed")
        await asyncio.sleep(every_seconds)


def served_app() -> Starlette:
    """The app of `portal serve`: a process of its own, whose start-up heap is frozen once it is up."""
    return create_app(freeze_heap=True)


def create_app(settings: Settings | None = None, *, freeze_heap: bool = False) -> Starlette:
    settings = settings or get_settings()
    engine = create_engine(settings.database_url)
    factory = session_factory(engine)
    is_sqlite = settings.embedded_database
    read_engine = create_engine(settings.database_url, for_reading=True) if is_sqlite else engine
    broker = Broker(settings.broadcast_url, heartbeat_seconds=settings.broker_heartbeat_seconds)
    services = Services(settings=settings, engine=engine, session_factory=factory,
                        read_session_factory=session_factory(read_engine) if is_sqlite else factory,
                        broadcast=broker, gateway=gateway_for(settings, factory))
    watch_pool(engine)
    drain = Drain(settings.shutdown_drain_seconds)
    enable_tracing(schema, [engine] if read_engine is engine else [engine, read_engine])

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> JSONResponse:
        if drain.draining:  # SIGTERM: a proxy stops sending here before the server stops accepting
            return JSONResponse({"status": "stopping"}, status_code=503)
        try:
            async with factory() as session:
                await session.execute(text("SELECT 1"))
        except Exception as error:  # once per probe while the database is down: a line, not a traceback
            logger.warning("readiness check failed: %s: %s", type(error).__name__, str(error).split("\n")[0])
            return JSONResponse({"database": "unreachable"}, status_code=503)
        # Without the broker, live activity still flows (from the database, every second): not fatal.
        return JSONResponse({"database": "ok", "broker": "ok" if services.broadcast.healthy else "reconnecting"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Each part is stopped in the reverse order of its start, also when a later start fails.
        async with contextlib.AsyncExitStack() as running:
            drain.install()
            running.callback(drain.uninstall)
            running.push_async_callback(engine.dispose)
            if read_engine is not engine:
                running.push_async_callback(read_engine.dispose)
            await services.broadcast.start()
            running.push_async_callback(services.broadcast.stop)
            running.callback(render_pool.shutdown)
            if settings.pdf_workers_at_start:
                render_pool.start()
            feed = ActivityFeed(broker, services.read_session_factory, queue_limit=settings.activity_queue_limit,
                                poll_seconds=settings.activity_poll_seconds)
            services.activity_feed = feed
            await feed.start()
            running.push_async_callback(feed.stop)
            updates = UpdateFeed(broker, services.read_session_factory, queue_limit=settings.activity_queue_limit,
                                 poll_seconds=settings.activity_poll_seconds)
            services.update_feed = updates
            await updates.start()
            running.push_async_callback(updates.stop)
            sender = OutboxSender(factory, delivery_for(settings), mail_from=settings.mail_from,
                                  poll_seconds=settings.mail_poll_seconds,
                                  max_backoff_seconds=settings.mail_max_backoff_seconds)
            services.mail_sender = sender
            webhooks = WebhookSender(factory, services.read_session_factory, settings, wake_mail=sender.wake)
            services.webhook_sender = webhooks
            for name, work in (("outbox-sender", sender.run()),
                               ("webhook-sender", webhooks.run()),
                               ("payment-recovery", recover_payments_forever(services))):
                running.push_async_callback(cancel_and_wait, asyncio.create_task(work, name=name))
            if freeze_heap:
                freeze_startup_heap()
            yield


    origins = BrowserOrigins(settings.browser_origins)
    graphql = PortalGraphQL(services, origins)
    app = PortalApp(
        routes=[
            Route("/graphql", graphql),  # every method: the view answers those it does not serve, in JSON
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *pdf_routes,
            *pages.routes,
            *(sandbox_routes + ledger_routes if settings.payment_gateway == "sandbox" else []),
        ],
        # Browser apps on the allowed origins may call the API with their bearer token; no cookies are used.
        # The body limit is inside CORS, so that a browser can read its 413.
        middleware=[Middleware(PortalCORS, origins=origins), Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
        lifespan=lifespan,
        base_url=settings.base_url,
    )
    app.state.services = services
    return app
