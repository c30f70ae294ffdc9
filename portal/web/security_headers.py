"""Security headers on every HTTP answer: GraphQL, PDFs, health checks, the sandbox, errors and 404s.

The Content-Security-Policy suits the web client this service will serve: its own scripts, styles,
images and fonts, API calls to its own origin over HTTP and WebSocket, and never inside a frame
(`frame-ancestors 'none'`, and X-Frame-Options for older browsers). The WebSocket origin is named
as well as 'self', which older browsers do not extend to ws:/wss:. It comes from PORTAL_BASE_URL,
never from the request. No Referer leaves the pages: invitation links carry a token in the URL.
"""
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.core.origins import url_origin


def content_security_policy(base_url: str) -> str:
    origin = url_origin(base_url)
    websocket_origin = "wss" + origin.removeprefix("https") if origin.startswith("https:") \
        else "ws" + origin.removeprefix("http")
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src 'self' {websocket_origin}",
        "form-action 'self'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ))


def security_headers(base_url: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(base_url),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }


class SecurityHeaders:
    """Adds the headers to every HTTP response start (a route's own value of one of them is kept)."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        self.headers = security_headers(base_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
