"""One read for a burst of callers: those who ask while no read of theirs has begun share it.

A burst of new WebSocket connections (clients reconnecting after a deploy) each sign in, check their
session and read where their subscription starts. Asked one by one, that is a query each; asked together,
one query for the keys of all who asked before it began. A caller who asks once a read is under way waits
for a later read, begun after it asked: no caller gets an answer read before its question.

Reads run one at a time: the next begins when the one under way ends, for every key asked meanwhile. Under
a burst, the callers of one round trip then share the next, instead of each starting a read of its own
beside the others (which is what made every connection of a burst cost a query).
"""
import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Answer = TypeVar("Answer")


class SharedRead(Generic[Key, Answer]):
    """`read(keys)`, once for the keys asked for while no read had begun; one read at a time.

    A read taking longer than `timeout_seconds` fails its callers with TimeoutError (the database is then
    as good as unreachable), so that one stuck connection does not hold back every later caller.
    """

    def __init__(self, read: Callable[[set[Key]], Awaitable[Answer]], *, timeout_seconds: float = 10.0) -> None:
        self._read = read
        self._timeout_seconds = timeout_seconds
        self._pending: tuple[set[Key], asyncio.Future[Answer]] | None = None  # the next read, not yet begun
        self._reader: asyncio.Task[None] | None = None
        self.reads = 0  # begun so far: beside the callers, how much was shared

    async def ask(self, key: Key) -> Answer:
        """The answer of a read begun after this call, whose keys include `key`."""
        if self._pending is None:
            self._pending = (set(), asyncio.get_running_loop().create_future())
        if self._reader is None or self._reader.done():  # done: its callback, which forgets it, is still to run
            self._reader = asyncio.create_task(self._read_while_asked())
            self._reader.add_done_callback(self._reader_ended)
        keys, answer = self._pending
        keys.add(key)
        return await asyncio.shield(answer)

    async def _read_while_asked(self) -> None:
        while self._pending is not None:
            pending, self._pending = self._pending, None  # begun: who asks from now on needs a later read
            await self._run(pending)

    def _reader_ended(self, reader: asyncio.Task[None]) -> None:
        # A callback, not a `finally`: a reader cancelled before it began never runs its body.
        if self._reader is not reader:
            return
        self._reader = None
        if self._pending is not None:  # cancelled (a shutdown) before the next read began: its callers are told
            self._pending[1].cancel()
            self._pending = None

    async def _run(self, pending: tuple[set[Key], asyncio.Future[Answer]]) -> None:
        self.reads += 1
        keys, answer = pending
        try:
            async with asyncio.timeout(self._timeout_seconds):
                answer.set_result(await self._read(keys))
        except Exception as error:
            answer.set_exception(error)
        finally:
            if not answer.done():  # cancelled: the callers are told so
                answer.cancel()

    def under_way(self) -> list[asyncio.Task[None]]:
        """The read under way, if any, for a shutdown to cancel and await."""
        return [] if self._reader is None else [self._reader]
