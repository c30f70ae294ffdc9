"""Every test runs twice: on SQLite and on a fresh PostgreSQL database created for the run."""
import asyncio
import contextvars
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from pathlib import Path

import asyncpg
import httpx
import pytest
from live import scene  # noqa: F401 - the live-server tests' fixture, shared with every test module

from portal.core.settings import Settings
from portal.migrations import upgrade
from portal.web.app import create_app

# Every app and server of the run, in this process and in those it starts: the PDF tests start the workers.
os.environ.setdefault("PORTAL_PDF_WORKERS_AT_START", "false")
POSTGRES_SERVER = os.environ.get("PORTAL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = [b for b in os.environ.get("PORTAL_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


@asynccontextmanager
async def database_of_its_own(backend: str, folder: Path, prefix: str) -> AsyncIterator[str]:
    """The URL of an empty database on the backend of `backend` (a URL, or "sqlite"/"postgresql"): a SQLite
    file in `folder`, or a PostgreSQL database dropped at the end."""
    if backend.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{folder / f'{prefix}.db'}"
        return
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    server = await asyncpg.connect(POSTGRES_SERVER)
    await server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(request, tmp_path_factory):
    async with database_of_its_own(request.param, tmp_path_factory.mktemp("db"), "portal_test") as url:
        await asyncio.to_thread(upgrade, url)
        yield url


@pytest.fixture
async def fresh_database_url(database_url, tmp_path):
    """An empty database of this test's own, on the run's backend: no other server or sender touches it."""
    async with database_of_its_own(database_url, tmp_path, "portal_own") as url:
        yield url


@pytest.fixture(scope="session")
async def settings(database_url, tmp_path_factory) -> Settings:
    return Settings(database_url=database_url, mail_dir=str(tmp_path_factory.mktemp("mail")),
                    base_url="http://portal.test")


@pytest.fixture(scope="session")
async def app(settings):
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
        yield http


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    def as_(self, token: str | None) -> "GraphQLClient":
        return GraphQLClient(self.http, token)

    async def request(self, query: str, **variables) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, **variables) -> dict:
        body = await self.request(query, **variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def error_code(self, query: str, **variables) -> str:
        body = await self.request(query, **variables)
        assert body.get("errors"), body
        return body["errors"][0]["extensions"]["code"]


@pytest.fixture
def gql(client) -> GraphQLClient:
    return GraphQLClient(client)


class Mailbox:
    """The .eml files the sender wrote, as parsed messages."""

    def __init__(self, mail_dir: str, sender) -> None:
        self.mail_dir = Path(mail_dir)
        self.sender = sender

    async def to(self, address: str) -> list:
        while await self.sender.send_due():
            pass
        messages = [message_from_bytes(path.read_bytes(), policy=policy.default)
                    for path in sorted(self.mail_dir.glob("*.eml"), key=os.path.getmtime)]
        return [message for message in messages if address.lower() in message["To"].lower()]


@pytest.fixture
def mailbox(settings, app) -> Mailbox:
    return Mailbox(settings.mail_dir, app.state.services.mail_sender)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def business(settings, gql):
    from factories import new_business

    name = unique("biz")
    return await new_business(settings, gql, name, f"owner@{name}.example.com")


@pytest.fixture
async def other_business(settings, gql):
    from factories import new_business

    name = unique("other")
    return await new_business(settings, gql, name, f"owner@{name}.example.com")


COUNTING = contextvars.ContextVar("counting", default=None)


class StatementCounter:
    """Counts the statements of the code run inside `with`; background tasks of the app are not counted.

    Tasks the request spawns (graphql-core gathers sibling fields) inherit the context variable;
    the mail sender and other lifespan tasks were started before it was set.
    """

    def __init__(self, engine) -> None:
        self.engine = engine.sync_engine
        self.count = 0

    def _count(self, *args) -> None:
        if COUNTING.get() is self:
            self.count += 1

    def __enter__(self) -> "StatementCounter":
        from sqlalchemy import event

        self._token = COUNTING.set(self)
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._count)
        COUNTING.reset(self._token)


@pytest.fixture
def count_statements(app):
    """`with count_statements() as counter:` counts the SQL statements the service runs."""
    return lambda: StatementCounter(app.state.services.engine)


def pytest_terminal_summary(terminalreporter) -> None:
    """The hostile battery's figures (tests/test_isolation_properties.py, test_schema_fuzzing.py), even with -q."""
    from helpers import BATTERY_COUNTS

    if BATTERY_COUNTS:
        terminalreporter.write_sep("=", "hostile battery")
        for what, count in sorted(BATTERY_COUNTS.items()):
            terminalreporter.write_line(f"{what}: {count}")
