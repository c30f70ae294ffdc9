"""PORTAL_MAX_BODY_BYTES: no request body, and no WebSocket message, is taken in beyond it.

A body announced larger (Content-Length) is answered 413 before any of it is read; a chunked one is
counted as it arrives and answered 413 at the first chunk past the limit, so a client can never make
the server hold more than the limit. The answer says `Connection: close`: the rest is not read.
A WebSocket message past the limit closes the connection with 1009 (message too big); `portal serve`
also gives uvicorn the limit, so that such a message is not even assembled.
"""
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.web.graphql_http import error_body


class BodyTooLarge(Exception):
    """Raised from `receive` when the body read so far passes the limit."""


def too_large(max_bytes: int) -> JSONResponse:
    message = f"The request body is larger than {max_bytes:,} bytes, the most this server accepts."
    return JSONResponse(error_body((message, "BAD_USER_INPUT")), status_code=413, headers={"Connection": "close"})


def declared_length(scope: Scope) -> int | None:
    value = (Headers(scope=scope).get("content-length") or "").strip()
    # ASCII digits only: str.isdigit() also takes "²", which int() then refuses.
    return int(value) if value.isascii() and value.isdigit() else None


def message_size(message: Message) -> int:
    if message.get("bytes") is not None:
        return len(message["bytes"])
    text = message.get("text") or ""
    return len(text.encode("utf-8", "surrogatepass"))


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await too_large(self.max_bytes)(scope, receive, send)
            return
        received, started = 0, False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, noting_start)
        except BodyTooLarge:
            if started:  # too late to answer 413: the connection ends
                raise
            await too_large(self.max_bytes)(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        closed = False

        async def checked() -> Message:
            nonlocal closed
            message = await receive()
            if message["type"] == "websocket.receive" and message_size(message) > self.max_bytes:
                closed = True
                await send({"type": "websocket.close", "code": 1009,
                            "reason": f"Message larger than {self.max_bytes} bytes"})
                return {"type": "websocket.disconnect", "code": 1009}
            return message

        async def unless_closed(message: Message) -> None:
            if not closed:  # the application may still try to answer or close: the connection is gone
                await send(message)

        await self.app(scope, checked, unless_closed)
