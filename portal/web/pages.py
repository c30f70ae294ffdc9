"""The reference web client's pages (built from web/ by `make web` into portal/web/client/) and GraphiQL.

Every page path (OPERATIONS.md "Pages"), and the base URL itself (a landing page naming the others),
answers the client's one index.html, which routes in the browser;
its scripts and styles are under /assets/ with content hashes in their names, so they are cached for good
while index.html is never cached (a new build is picked up at the next load). Everything is served from
this origin: the Content-Security-Policy allows nothing else.
"""
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

CLIENT_DIR = Path(__file__).parent / "client"
ASSETS_PREFIX = "/assets"
NOT_BUILT = ("The web client is not built: run `make web` (it builds web/ into portal/web/client/), "
             "or install the package, which builds it.")
FOREVER = "public, max-age=31536000, immutable"


def client_file(name: str) -> Path | None:
    path = CLIENT_DIR / name
    return path if path.is_file() else None


async def index(request: Request) -> Response:
    """The single-page app, whatever page of it is asked for; 503 while the client is not built."""
    page = client_file("index.html")
    if page is None:
        return PlainTextResponse(NOT_BUILT, status_code=503, headers={"Retry-After": "60"})
    return FileResponse(page, media_type="text/html", headers={"Cache-Control": "no-store"})


def graphiql_page() -> Response:
    page = client_file("graphiql.html")
    if page is None:
        return PlainTextResponse(f"GraphiQL is not built. {NOT_BUILT}", status_code=404)
    return FileResponse(page, media_type="text/html", headers={"Cache-Control": "no-store"})


def wants_graphiql(request: Request) -> bool:
    """A browser opening /graphql: a GET for HTML without a query (API GETs carry `query`)."""
    return (request.method in ("GET", "HEAD") and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", ""))


async def assets(scope: Scope, receive: Receive, send: Send) -> None:
    """The client's hashed files, cached for a year; 404 for anything else (or before a build)."""
    async def cached_for_good(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            message.setdefault("headers", [])
            message["headers"] = [*message["headers"], (b"cache-control", FOREVER.encode())]
        await send(message)

    directory = CLIENT_DIR / "assets"
    if not directory.is_dir():
        await PlainTextResponse(f"Not Found. {NOT_BUILT}", status_code=404)(scope, receive, send)
        return
    await StaticFiles(directory=directory)(scope, receive, cached_for_good)


routes = [
    Route("/", index, methods=["GET", "HEAD"]),  # the client's landing page: where the customer and owner pages are
    Route("/portal/{portal_name}", index, methods=["GET", "HEAD"]),
    Route("/portal/{portal_name}/{page:path}", index, methods=["GET", "HEAD"]),
    Route("/owner", index, methods=["GET", "HEAD"]),
    Route("/owner/{page:path}", index, methods=["GET", "HEAD"]),
    Mount(ASSETS_PREFIX, app=assets),
]
