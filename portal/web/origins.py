"""Which browser pages may call the API: CORS for HTTP, the Origin check for WebSockets.

A refusal says why where a developer looks: a preflight answers a JSON GraphQL error naming
PORTAL_ALLOWED_ORIGINS (the browser's network panel shows it), a WebSocket is accepted only to be
closed at once with 1008 and a reason (a page reads `CloseEvent.reason`; a handshake refused with
403 reaches it as a bare 1006, and graphql-ws retries that, while 1008 ends its retries), and the
server logs a warning naming the origin and the variable.
"""
import logging
from collections.abc import Collection, Mapping

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.http.websocket_origin import is_same_origin, normalize_origin

from portal.web.graphql_http import error_body

logger = logging.getLogger("portal")

VARIABLE = "PORTAL_ALLOWED_ORIGINS"
ALLOWED_METHODS = ["GET", "POST"]  # GraphQL: queries by GET or POST, mutations by POST; PDFs by GET
# What browser clients send besides the token: Sentry's and W3C Trace Context's tracing headers,
# and Apollo Client's client-awareness headers.
ALLOWED_HEADERS = ["Authorization", "Content-Type", "sentry-trace", "baggage", "traceparent", "tracestate",
                   "apollographql-client-name", "apollographql-client-version"]
EXPOSED_HEADERS = ["X-Request-ID", "Content-Disposition"]
POLICY_VIOLATION = 1008
MAX_CLOSE_REASON_BYTES = 123  # what a WebSocket close frame can carry


class BrowserOrigins:
    """The origins (already normalised, see portal.core.origins) whose pages may call the API."""

    def __init__(self, origins: Collection[str]) -> None:
        self.origins = frozenset(origins)

    def allows(self, origin: str) -> bool:
        return normalize_origin(origin) in self.origins

    def admits(self, headers: Mapping[str, str]) -> bool:
        """A request without Origin (not a browser), from the page's own host, or from an allowed origin."""
        origin = headers.get("origin")
        return (origin is None or headers.get("sec-fetch-site") == "same-origin"
                or is_same_origin(origin, headers.get("host")) or self.allows(origin))

    def warn(self, origin: str, what: str) -> None:
        logger.warning("refused %s from origin %s: to allow pages there, add it to %s (allowed now: %s)",
                       what, origin, VARIABLE, ", ".join(sorted(self.origins)))

    async def refuse_websocket(self, websocket: WebSocket, subprotocol: str | None) -> None:
        origin = websocket.headers.get("origin", "")
        self.warn(origin, "a WebSocket")
        await websocket.accept(subprotocol=subprotocol)
        await websocket.close(code=POLICY_VIOLATION, reason=close_reason(origin))


def close_reason(origin: str) -> str:
    words = f" is not allowed: add it to {VARIABLE}"
    room = MAX_CLOSE_REASON_BYTES - len(f"Origin {words}".encode())
    return f"Origin {origin.encode()[:room].decode(errors='ignore')}{words}"


class PortalCORS(CORSMiddleware):
    """Starlette's CORS, with refusals that say what to change, and a warning in the log for each."""

    def __init__(self, app: ASGIApp, origins: BrowserOrigins) -> None:
        super().__init__(app, allow_origins=sorted(origins.origins), allow_methods=ALLOWED_METHODS,
                         allow_headers=ALLOWED_HEADERS, expose_headers=EXPOSED_HEADERS, max_age=600)
        self.browser_origins = origins

    def is_allowed_origin(self, origin: str) -> bool:
        return self.browser_origins.allows(origin)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        problems = self._preflight_problems(request_headers) or [(bytes(response.body).decode(), "FORBIDDEN")]
        origin = request_headers["origin"]
        if not self.is_allowed_origin(origin):
            self.browser_origins.warn(origin, "a CORS preflight")
        else:
            logger.warning("refused a CORS preflight from origin %s: %s", origin,
                           " ".join(message for message, _ in problems))
        headers = {key: value for key, value in response.headers.items() if key.lower().startswith(("access-", "vary"))}
        return JSONResponse(error_body(*problems), status_code=response.status_code, headers=headers)

    def _preflight_problems(self, request_headers: Headers) -> list[tuple[str, str]]:
        origin = request_headers["origin"]
        method = request_headers["access-control-request-method"]
        asked = [name.strip() for name in request_headers.get("access-control-request-headers", "").split(",")]
        refused = [name for name in asked if name and name.lower() not in self.allow_headers]
        problems = []
        if not self.is_allowed_origin(origin):
            problems.append((f"Pages on {origin} may not call this API: the server's {VARIABLE} does not list "
                             "that origin.", "FORBIDDEN"))
        if method not in self.allow_methods:
            problems.append((f"{method} is not served: send GraphQL by GET (queries) or POST.", "BAD_USER_INPUT"))
        if refused:
            problems.append((f"These request headers are not accepted: {', '.join(refused)}. Accepted: "
                             f"{', '.join(ALLOWED_HEADERS)}.", "BAD_USER_INPUT"))
        return problems

    async def simple_response(self, scope: Scope, receive: Receive, send: Send, request_headers: Headers) -> None:
        # Requests a browser sends without a preflight (a GET without a token) are refused by the
        # browser alone, which the server would otherwise never hear of.
        if not self.browser_origins.admits(request_headers):
            self.browser_origins.warn(request_headers["origin"], f"a {scope['method']} of {scope['path']}")
        await super().simple_response(scope, receive, send, request_headers)
