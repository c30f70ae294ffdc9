"""Real servers for end-to-end tests: uvicorn in this process or `portal serve` in another, and a
graphql-transport-ws client like the owner's dashboard would use."""
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

PROTOCOL = "graphql-transport-ws"
EVENT_FIELDS = """id cursor kind occurredAt summary
  customer { id displayName }
  contactPerson { id email }
  subject { __typename id ... on Invoice { number } ... on Estimate { number status } ... on Review { rating } }
  comment { body }"""
MARK_VIEWED = "mutation($id: ID!) { markViewed(documentId: $id) { id } }"
COMMENT = "mutation($id: ID!, $body: String!) { addComment(subjectId: $id, body: $body) { id } }"
PORTAL_ACTIVITY = f"""subscription($kinds: [ActivityKind!], $after: String) {{
  portalActivity(kinds: $kinds, after: $after) {{ {EVENT_FIELDS} }}
}}"""


@pytest.fixture
async def scene(business, mailbox):
    """A customer with an invoice, an estimate and a contact person signed in to the portal."""
    customer = await business.customer("Acme Corp")
    invoice = await business.invoice(customer["id"])
    estimate = await business.estimate(customer["id"])
    portal, contact = await business.portal_user(customer["id"], "pat@acme.example.com", mailbox)
    return {"customer": customer, "invoice": invoice, "estimate": estimate, "portal": portal, "contact": contact}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def uvicorn_serving(app):
    """The app (its lifespan already entered) behind a real uvicorn; yields the WebSocket URL."""
    port = free_port()
    # As `portal serve` runs it: X-Forwarded-For is the app's to read (PORTAL_TRUSTED_PROXIES), not uvicorn's.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning",
                                           proxy_headers=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


def http_base(ws_url: str) -> str:
    """The http://host:port of the server whose GraphQL WebSocket URL this is."""
    return ws_url.replace("ws://", "http://").removesuffix("/graphql")


@asynccontextmanager
async def uvicorn_http(app):
    """As `uvicorn_serving`, yielding the server's http://host:port instead."""
    async with uvicorn_serving(app) as ws_url:
        yield http_base(ws_url)


class PortalProcess:
    """`portal serve` in its own process group, logging to a file."""

    def __init__(self, environment: dict, log_dir: Path, *, workers: int = 1) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/graphql"
        self.log = log_dir / f"portal-serve-{self.port}.log"
        self.environment, self.workers = environment, workers
        self.start()

    def start(self) -> None:
        """Start the server process; after `stop()`, start it again on the same port."""
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "portal"), "serve", "--port", str(self.port),
                 "--workers", str(self.workers)],
                env={**os.environ, **self.environment}, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True)

    async def ready(self) -> None:
        async with httpx.AsyncClient() as http:
            for _ in range(400):
                if self.process.poll() is not None:
                    raise RuntimeError(f"portal serve exited:\n{self.log.read_text()}")
                try:
                    if (await http.get(f"{self.base}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"portal serve did not get ready:\n{self.log.read_text()}")

    async def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(self.process.wait), 15)
        except TimeoutError:
            os.killpg(self.process.pid, signal.SIGKILL)
            await asyncio.to_thread(self.process.wait)


@asynccontextmanager
async def portal_serving(*environments: dict, log_dir: Path, workers: int = 1):
    """One `portal serve` per environment, started side by side; always stopped."""
    processes = []
    try:
        for environment in environments:
            processes.append(PortalProcess(environment, log_dir, workers=workers))
        await asyncio.gather(*(process.ready() for process in processes))
        yield processes
    finally:
        await asyncio.gather(*(process.stop() for process in processes))


class HttpGraphQL:
    """GraphQL over HTTP against a server in another process, a fresh connection per request."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base, self.token = base, token

    async def data(self, query: str, **variables) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{self.base}/graphql", json={"query": query, "variables": variables},
                                       headers=headers)
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


def connection_init(token: str | None) -> str:
    return json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"} if token else {}})


class ActivityClient:
    """A graphql-transport-ws client: it answers the server's pings and collects what arrives."""

    def __init__(self, socket) -> None:
        self.socket = socket
        self.pings = 0
        self._ids = iter(range(1, 1_000_000))

    @classmethod
    @asynccontextmanager
    async def connected(cls, url: str, token: str | None, **options):
        async with connect(url, subprotocols=[PROTOCOL], open_timeout=10, **options) as websocket:
            client = cls(websocket)
            await websocket.send(connection_init(token))
            acknowledged = await client.receive()
            assert acknowledged["type"] == "connection_ack", acknowledged
            yield client

    @classmethod
    async def refusal_code(cls, url: str, token: str | None) -> int:
        """The close code the server answers this token's connection_init with."""
        async with connect(url, subprotocols=[PROTOCOL], open_timeout=10) as websocket:
            await websocket.send(connection_init(token))
            return await cls(websocket).close_code()

    async def subscribe(self, query: str = PORTAL_ACTIVITY, **variables) -> str:
        operation = str(next(self._ids))
        await self.socket.send(json.dumps({"id": operation, "type": "subscribe",
                                           "payload": {"query": query, "variables": variables}}))
        return operation

    async def receive(self, timeout: float = 10) -> dict:
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
            if message["type"] == "ping":
                self.pings += 1
                await self.socket.send(json.dumps({"type": "pong"}))
                continue
            return message

    async def next_event(self, timeout: float = 10) -> dict:
        message = await self.receive(timeout)
        assert message["type"] == "next" and "errors" not in message["payload"], message
        return message["payload"]["data"]["portalActivity"]

    async def events(self, count: int, timeout: float = 10) -> list[dict]:
        return [await self.next_event(timeout) for _ in range(count)]

    async def error_code(self) -> str:
        message = await self.receive()
        assert message["type"] == "error", message
        return message["payload"][0]["extensions"]["code"]

    async def nothing_more(self, seconds: float = 0.3) -> bool:
        try:
            message = await self.receive(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message {message}")

    async def close_code(self, timeout: float = 10) -> int:
        """The code the server closes the connection with, before sending anything else."""
        try:
            message = await self.receive(timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006
        raise AssertionError(f"unexpected message {message}")
