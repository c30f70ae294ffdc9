"""A lean HTTP/1.1 load generator: keep-alive connections on asyncio streams, every answer checked.

httpx costs more CPU a request than the raw baseline's server does; this costs little, so that one core of
load generator keeps a server core busy. Each answer is compared with what is expected: bytes already
seen to be right are recognised at once, others are parsed and checked (`check`), and a wrong one is counted.
"""
import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    wrong: int = 0
    first_wrong: str | None = None

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def request_bytes(host: str, port: int, query: str, token: str | None) -> bytes:
    body = json.dumps({"query": query}).encode()
    headers = ["POST /graphql HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
               "Accept: application/json", f"Content-Length: {len(body)}"]
    if token:
        headers.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked = None, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if length is not None:
        return status, await reader.readexactly(length)
    if not chunked:
        raise RuntimeError("an answer without Content-Length or chunked encoding")
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


class Checker:
    """Whether an answer is the expected one; the bytes of right answers are remembered."""

    def __init__(self, check: Callable[[object], bool]) -> None:
        self.check, self.right = check, set()

    def __call__(self, status: int, body: bytes) -> bool:
        if status == 200 and body in self.right:
            return True
        try:
            ok = status == 200 and self.check(json.loads(body))
        except ValueError:
            ok = False
        if ok and len(self.right) < 64:
            self.right.add(body)
        return ok


async def run_load(host: str, port: int, payload: bytes, *, concurrency: int, seconds: float,
                   checker: Checker, record: bool = True) -> LoadResult:
    """`concurrency` clients, each sending `payload` again as soon as its answer is in, for `seconds`."""
    result = LoadResult()
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                writer.write(payload)
                status, body = await read_response(reader)
                if record:
                    result.latencies.append(time.perf_counter() - start)
                result.requests += 1
                if not checker(status, body):
                    result.wrong += 1
                    if result.first_wrong is None:
                        result.first_wrong = body[:400].decode(errors="replace")
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - start
    return result


async def run_sequence(host: str, port: int, payload: bytes, count: int, checker: Checker) -> LoadResult:
    """`count` requests one after the other on one connection."""
    result = LoadResult()
    reader, writer = await asyncio.open_connection(host, port)
    start = time.perf_counter()
    try:
        for _ in range(count):
            writer.write(payload)
            status, body = await read_response(reader)
            result.requests += 1
            if not checker(status, body):
                result.wrong += 1
    finally:
        writer.close()
    result.seconds = time.perf_counter() - start
    return result
