"""One log line per HTTP request and per WebSocket connection, its request id in X-Request-ID, and its metrics.

Outermost of the app: it sees every answer, the 500s of the error handler too. A client that goes away
before its answer is an INFO line (a load test, a closed tab), not an error with a traceback.
"""
import logging

from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.models.auth import Principal
from portal.ops.logs import RequestRecord, current_request
from portal.ops.metrics import CLIENT_DISCONNECTS, HTTP_REQUESTS, WEBSOCKETS_OPEN
from portal.web.outage import database_unreachable

logger = logging.getLogger("portal.access")
ROUTES = {"graphql", "pdf", "healthz", "readyz", "metrics", "sandbox-gateway", "portal", "owner"}
QUIET = {"healthz", "readyz", "metrics"}  # probes and scrapes: DEBUG, or they would drown the rest


def route_of(path: str) -> str:
    first = path.lstrip("/").split("/", 1)[0]
    return first if first in ROUTES else "other"


def note_principal(principal: Principal | None) -> None:
    """Who the current request or connection is signed in as, for its log line (kind and id, nothing else)."""
    record = current_request.get()
    if record is None or principal is None:
        return
    if principal.staff_user_id is not None:
        record.signed_in("staff", principal.staff_user_id)
    elif principal.contact_person_id is not None:
        record.signed_in("contact", principal.contact_person_id)


def request_id() -> str | None:
    record = current_request.get()
    return record.request_id if record is not None else None


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        record = RequestRecord(kind=scope["type"], method=scope.get("method", "GET"), path=scope["path"])
        token = current_request.set(record)
        try:
            if scope["type"] == "http":
                await self._http(record, scope, receive, send)
            else:
                await self._websocket(record, scope, receive, send)
        finally:
            current_request.reset(token)

    async def _http(self, record: RequestRecord, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:
                    headers.append("X-Request-ID", record.request_id)
            await send(message)

        route = route_of(scope["path"])
        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            CLIENT_DISCONNECTS.inc()
            record.outcome = "CLIENT_DISCONNECTED"
            logger.info("client disconnected before the answer", extra=record.as_extra())
            return
        except Exception as error:
            answered = record.status is not None  # the error handler has sent its 500
            record.status = record.status or 500
            HTTP_REQUESTS.labels(route=route, status="5xx").inc()
            if answered and database_unreachable(error):  # a line, not a traceback per request while it is down
                logger.warning("%s %s failed: the database is unreachable (%s)", record.method, record.path,
                               type(error).__name__, extra=record.as_extra())
                return
            logger.warning("%s %s failed", record.method, record.path, extra=record.as_extra())
            raise
        status = record.status or 0
        HTTP_REQUESTS.labels(route=route, status=f"{status // 100}xx").inc()
        level = logging.DEBUG if route in QUIET and status < 500 else logging.INFO
        logger.log(level, "%s %s %s", record.method, record.path, status, extra=record.as_extra())

    async def _websocket(self, record: RequestRecord, scope: Scope, receive: Receive, send: Send) -> None:
        accepted = False

        async def watched_send(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                WEBSOCKETS_OPEN.inc()
            elif message["type"] == "websocket.close":
                record.status = message.get("code", 1000)
            await send(message)

        async def watched_receive() -> Message:
            message = await receive()
            if message["type"] == "websocket.disconnect" and record.status is None:
                record.status = message.get("code", 1005)
            return message

        try:
            await self.app(scope, watched_receive, watched_send)
        finally:
            if accepted:
                WEBSOCKETS_OPEN.dec()
            logger.info("websocket %s closed (%s)", record.path, record.status, extra=record.as_extra())
