"""One read for a burst of callers: those who ask before it has begun share it.

A burst of new WebSocket connections (clients reconnecting after a deploy) each sign in, check their
session and read where their subscription starts. Asked one by one, that is a query each; asked together,
one query for the keys of all who asked before it began. A caller who asks once a read is under way waits
for a later read, begun after it asked: no caller gets an answer read before its question.
"""
import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Answer = TypeVar("Answer")


class SharedRead(Generic[Key, Answer]):
    """`read(keys)`, once for the keys asked for while no read had begun."""

    def __init__(self, read: Callable[[set[Key]], Awaitable[Answer]]) -> None:
        self._read = read
        self._pending: tuple[set[Key], asyncio.Future[Answer]] | None = None  # a read not yet begun
        self._tasks: set[asyncio.Task[None]] = set()
        self.reads = 0  # begun so far: beside the callers, how much was shared

    async def ask(self, key: Key) -> Answer:
        """The answer of a read begun after this call, whose keys include `key`."""
        if self._pending is None:
            pending: tuple[set[Key], asyncio.Future[Answer]] = (set(), asyncio.get_running_loop().create_future())
            self._pending = pending
            task = asyncio.create_task(self._run(pending))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        keys, answer = self._pending
        keys.add(key)
        return await asyncio.shield(answer)

    async def _run(self, pending: tuple[set[Key], asyncio.Future[Answer]]) -> None:
        if self._pending is pending:
            self._pending = None  # begun: who asks from now on needs a later read
        self.reads += 1
        keys, answer = pending
        try:
            answer.set_result(await self._read(keys))
        except Exception as error:
            answer.set_exception(error)
        finally:
            if not answer.done():  # cancelled: the callers are told so
                answer.cancel()

    def under_way(self) -> list[asyncio.Task[None]]:
        """The reads begun and not yet done, for a shutdown to cancel and await."""
        return list(self._tasks)
