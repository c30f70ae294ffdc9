"""SharedRead, the burst-sharing read behind sign-ins, session checks and start points: one read at a time,
each for every key asked while none of theirs had begun, each answer read after its question."""
import asyncio

import pytest

from portal.core.shared_read import SharedRead


class GatedRead:
    """A read that answers each key with the number of its read, once let through."""

    def __init__(self) -> None:
        self.asked: list[set[str]] = []
        self.gates: list[asyncio.Event] = []
        self.failing: set[int] = set()  # reads (from 1) that raise
        self.asked_more = asyncio.Event()

    async def __call__(self, keys: set[str]) -> dict[str, int]:
        self.asked.append(set(keys))
        self.asked_more.set()
        number = len(self.asked)
        gate = asyncio.Event()
        self.gates.append(gate)
        await gate.wait()
        if number in self.failing:
            raise ConnectionError(f"read {number} failed")
        return dict.fromkeys(keys, number)

    async def begun(self, count: int) -> None:
        while len(self.asked) < count:
            self.asked_more.clear()
            await self.asked_more.wait()

    def let_through(self, number: int) -> None:
        self.gates[number - 1].set()


async def test_who_asks_while_a_read_is_under_way_shares_the_next_one():
    read = GatedRead()
    shared = SharedRead(read)
    first = asyncio.create_task(shared.ask("a"))
    await read.begun(1)
    later = []
    for key in "bcb":  # each a loop turn apart: under way, the first read holds all three back
        later.append(asyncio.create_task(shared.ask(key)))
        await asyncio.sleep(0)
    assert len(read.asked) == 1  # no second read beside the first

    read.let_through(1)
    await read.begun(2)
    read.let_through(2)

    assert await first == {"a": 1}
    assert [await task for task in later] == [{"b": 2, "c": 2}] * 3
    assert read.asked == [{"a"}, {"b", "c"}] and shared.reads == 2


async def test_a_failed_read_fails_its_callers_only():
    read = GatedRead()
    read.failing = {1}
    shared = SharedRead(read)
    failing = asyncio.create_task(shared.ask("a"))
    await read.begun(1)
    next_one = asyncio.create_task(shared.ask("a"))
    await asyncio.sleep(0)
    read.let_through(1)
    await read.begun(2)
    read.let_through(2)

    with pytest.raises(ConnectionError, match="read 1 failed"):
        await failing
    assert await next_one == {"a": 2}


async def test_a_caller_after_a_quiet_spell_starts_a_read_of_its_own():
    read = GatedRead()
    shared = SharedRead(read)
    for number in (1, 2):
        asked = asyncio.create_task(shared.ask("a"))
        await read.begun(number)
        read.let_through(number)
        assert await asked == {"a": number}
    assert shared.under_way() == []


async def test_a_shutdown_cancels_the_read_under_way_and_the_one_waiting():
    read = GatedRead()
    shared = SharedRead(read)
    under_way = asyncio.create_task(shared.ask("a"))
    await read.begun(1)
    waiting = asyncio.create_task(shared.ask("b"))
    await asyncio.sleep(0)

    for task in shared.under_way():
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    for caller in (under_way, waiting):
        with pytest.raises(asyncio.CancelledError):
            await caller
    assert read.asked == [{"a"}]


async def test_a_shutdown_before_the_read_began_tells_its_callers():
    read = GatedRead()
    shared = SharedRead(read)
    asked = asyncio.create_task(shared.ask("a"))
    await asyncio.sleep(0)  # asked: the reader is made, and has not run yet

    for task in shared.under_way():
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(asked, 1)
    assert read.asked == [] and shared.under_way() == []


async def test_who_asks_as_a_reader_ends_gets_a_read_of_its_own():
    read = GatedRead()
    shared = SharedRead(read)
    first = asyncio.create_task(shared.ask("a"))
    await read.begun(1)
    read.let_through(1)
    assert await first == {"a": 1}  # the reader has ended; the callback that forgets it may not have run yet
    later = asyncio.create_task(shared.ask("b"))
    await read.begun(2)
    read.let_through(2)
    assert await asyncio.wait_for(later, 1) == {"b": 2}


async def test_a_read_that_takes_too_long_fails_its_callers_and_the_next_one_runs():
    read = GatedRead()
    shared = SharedRead(read, timeout_seconds=0.05)
    stuck = asyncio.create_task(shared.ask("a"))
    await read.begun(1)
    next_one = asyncio.create_task(shared.ask("b"))
    with pytest.raises(TimeoutError):
        await stuck
    await read.begun(2)
    read.let_through(2)
    assert await next_one == {"b": 2}
