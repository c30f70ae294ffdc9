"""The ASGI application: GraphQL over HTTP and WebSocket, health checks, and the lifespan."""
import asyncio
import contextlib
import logging
from datetime import timedelta

from broadcaster import Broadcast
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from portal.auth import authenticate
from portal.context import Context, Services
from portal.database import create_engine, session_factory
from portal.notifications.delivery import delivery_for
from portal.notifications.sender import OutboxSender
from portal.pdf_routes import routes as pdf_routes
from portal.resolvers.loaders import Loaders
from portal.schema import schema
from portal.settings import Settings, get_settings

logger = logging.getLogger("portal")


class PortalGraphQL(GraphQL):
    def __init__(self, services: Services) -> None:
        settings = services.settings
        super().__init__(
            schema,
            graphql_ide=None,
            allow_queries_via_get=False,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            keep_alive=True,
            keep_alive_interval=15,
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=10,
            allowed_origins=settings.allowed_origins or [settings.base_origin],
        )
        self.services = services

    async def run(self, request, context=None, root_value=None):
        if isinstance(request, WebSocket):
            return await super().run(request)
        # One database session per HTTP request, closed (and rolled back if uncommitted) at its end.
        async with self.services.session_factory() as session:
            request.state.session = session
            return await super().run(request)

    async def get_context(self, request, response) -> Context:
        if isinstance(request, WebSocket):
            return Context(services=self.services, session=None, request=request, response=response)
        session = request.state.session
        principal, organization = await authenticate(session, request.headers.get("authorization"))
        context = Context(services=self.services, session=session, principal=principal,
                          organization=organization, loaders=Loaders(session, principal),
                          request=request, response=response)
        response.headers["X-Request-ID"] = context.request_id
        return context


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    engine = create_engine(settings.database_url)
    factory = session_factory(engine)
    services = Services(settings=settings, engine=engine, session_factory=factory, broadcast=Broadcast(settings.broadcast_url))

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> JSONResponse:
        try:
            async with factory() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            logger.exception("readiness check failed")
            return JSONResponse({"database": "unreachable"}, status_code=503)
        return JSONResponse({"database": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await services.broadcast.connect()
        services.mail_sender = OutboxSender(factory, delivery_for(settings), mail_from=settings.mail_from)
        sender_task = asyncio.create_task(services.mail_sender.run(), name="outbox-sender")
        try:
            yield
        finally:
            sender_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender_task
            await services.broadcast.disconnect()
            await engine.dispose()

    graphql = PortalGraphQL(services)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["POST", "GET"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *pdf_routes,
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
