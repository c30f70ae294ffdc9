"""The `portal` command: serve, migrate, create-organization, demo, schema, check."""
import asyncio
import getpass
import os
import sys

import typer
from pydantic import ValidationError

from portal.core.settings import get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="The customer portal: a GraphQL service for invoicing businesses and their customers.")


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def _migrate() -> None:
    from portal.migrations import upgrade

    try:
        upgrade(get_settings().database_url)
    except Exception as error:
        fail(f"cannot migrate the database at PORTAL_DATABASE_URL: {_reason(error)}")


def _reason(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _links_follow(host: str, port: int) -> None:
    """Without PORTAL_BASE_URL, links point at where this server listens (a wildcard address: this machine).

    Set in the environment, so that uvicorn's worker processes read the same.
    """
    if any(name.upper() == "PORTAL_BASE_URL" for name in os.environ):
        return
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    os.environ["PORTAL_BASE_URL"] = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
    get_settings.cache_clear()


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (safe to run twice)."""
    _migrate()
    typer.echo("database is up to date")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Apply pending migrations, then serve GraphQL, PDFs and health checks."""
    import uvicorn

    if workers < 1:
        fail("--workers must be at least 1")
    from portal.ops.logs import logging_config
    from portal.ops.metrics_dir import metrics_dir

    _links_follow(host, port)
    settings = get_settings()
    with metrics_dir():  # before the app loads prometheus_client: every worker writes its metrics there
        _migrate()
        # A WebSocket message past PORTAL_MAX_BODY_BYTES is refused (1009) before uvicorn assembles it.
        # On SIGTERM: stop accepting, close WebSockets with 1012, let requests in flight finish (bounded).
        # Each request is logged once by the app (portal/web/request_log.py), so not by uvicorn's access log.
        uvicorn.run("portal.web.app:served_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info", proxy_headers=False, ws_max_size=settings.max_body_bytes,
                    # The sans-I/O protocol keeps no tasks of its own per connection, and compresses (when
                    # PORTAL_WS_PER_MESSAGE_DEFLATE is on) with a reduced window and memory level.
                    ws="websockets-sansio", ws_per_message_deflate=settings.ws_per_message_deflate,
                    log_config=logging_config(settings.log_format), access_log=False,
                    timeout_graceful_shutdown=int(settings.shutdown_grace_seconds))


@app.command("create-organization")
def create_organization(
    name: str = typer.Option(..., help="The business's name."),
    portal_name: str = typer.Option(..., help="3-63 lower-case letters, digits and hyphens."),
    owner_name: str = typer.Option(...),
    owner_email: str = typer.Option(...),
) -> None:
    """Create a business and its owner; the password comes from PORTAL_OWNER_PASSWORD or a prompt."""
    from portal.core.errors import DomainError
    from portal.seed import create_business

    password = get_settings().owner_password
    if password is None:
        if not sys.stdin.isatty():
            fail("set PORTAL_OWNER_PASSWORD, or run on a terminal to be asked for the password")
        password = getpass.getpass("Owner's password: ")
    _migrate()
    try:
        organization_id = asyncio.run(create_business(get_settings(), name=name, portal_name=portal_name,
                                                      owner_name=owner_name, owner_email=owner_email,
                                                      password=password))
    except DomainError as error:
        fail(error.message)
    typer.echo(organization_id)


@app.command()
def demo(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Fill the database with a demo business (once), print the logins, then serve."""
    from portal.demo import seed_demo

    # Webhooks to a receiver on this machine (http://127.0.0.1:…) work in the demo, unless set off explicitly.
    # In the environment, so that uvicorn's worker processes read the same.
    os.environ.setdefault("PORTAL_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    _links_follow(host, port)
    _migrate()
    logins = asyncio.run(seed_demo(get_settings()))
    typer.echo(logins)
    serve(host=host, port=port, workers=workers)


@app.command()
def check() -> None:
    """Validate the settings and reach the database, the broker and the mail server: one line each."""
    from portal.check import run_checks

    lines, failed = asyncio.run(run_checks(get_settings()))
    for line in lines:
        typer.echo(line)
    if failed:
        raise typer.Exit(code=1)


@app.command()
def schema() -> None:
    """Print the GraphQL schema (SDL)."""
    from portal.schema import schema as graphql_schema

    typer.echo(graphql_schema.as_str())


def main() -> None:
    try:
        get_settings()
    except ValidationError as error:
        problem = error.errors()[0]
        name = f"PORTAL_{str(problem['loc'][0]).upper()}"
        typer.echo(f"error: {name}: {problem['msg'].removeprefix('Value error, ')}", err=True)
        sys.exit(2)
    app()
