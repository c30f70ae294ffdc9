"""Who renders next: the render pool shared fairly between the principals who ask for PDFs.

Each principal (a contact person, a staff member) has at most half of the workers rendering (one of
two), so whoever else asks starts at once or after one render, however many one principal sends. The
rest wait in a queue bounded per principal and overall. Only the one who asks for more than their
share of the queue is refused (429, with how long until their own PDFs are through); when the whole
queue is full, the newest place of whoever holds the most places goes to a newcomer with fewer. A
freed worker goes to the waiting principal with the fewest renders running, longest waiting first.
"""
import asyncio
import itertools
import math
from collections import deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


class QueueFull(Exception):
    """Every place in the queue is held, by principals who hold no more than this one: try again shortly."""


class TooManyWaiting(Exception):
    """This principal already holds their share of the queue."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass
class Waiter:
    order: int
    turn: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass
class Principal:
    running: int = 0
    waiting: deque[Waiter] = field(default_factory=deque)

    @property
    def held(self) -> int:
        return self.running + len(self.waiting)


class FairShare:
    def __init__(self, *, slots: int, max_waiting_each: int, max_waiting: int) -> None:
        self.slots = slots
        self.max_running_each = max(1, slots // 2)
        self.max_waiting_each = max_waiting_each
        self.max_waiting = max_waiting
        self.seconds_per_render = 1.0  # an estimate for Retry-After, updated as renders finish
        self._principals: dict[Hashable, Principal] = {}
        self._order = itertools.count()

    @property
    def running(self) -> int:
        return sum(principal.running for principal in self._principals.values())

    @property
    def waiting(self) -> int:
        return sum(len(principal.waiting) for principal in self._principals.values())

    def running_by_principal(self) -> dict[Hashable, int]:
        return {who: principal.running for who, principal in self._principals.items() if principal.running}

    @asynccontextmanager
    async def turn(self, who: Hashable) -> AsyncIterator[None]:
        """Wait for this principal's turn to render; raises TooManyWaiting or QueueFull instead of waiting."""
        principal = self._principals.setdefault(who, Principal())
        if self._may_start(principal):
            principal.running += 1
        else:
            await self._wait(who, principal)
        try:
            yield
        finally:
            principal.running -= 1
            self._forget_if_idle(who, principal)
            self._start_next()

    def note_render_time(self, seconds: float) -> None:
        self.seconds_per_render = 0.8 * self.seconds_per_render + 0.2 * seconds

    def retry_after(self, principal: Principal) -> int:
        """Seconds until this principal's renders now held are through, at their share of the workers."""
        return max(1, math.ceil(self.seconds_per_render * principal.held / self.max_running_each))

    def _may_start(self, principal: Principal) -> bool:
        return self.running < self.slots and principal.running < self.max_running_each and not principal.waiting

    async def _wait(self, who: Hashable, principal: Principal) -> None:
        if len(principal.waiting) >= self.max_waiting_each:
            self._forget_if_idle(who, principal)
            raise TooManyWaiting(self.retry_after(principal))
        if self.waiting >= self.max_waiting and not self._make_room_for(principal):
            self._forget_if_idle(who, principal)
            raise QueueFull()
        waiter = Waiter(next(self._order))
        principal.waiting.append(waiter)
        try:
            await waiter.turn
        except asyncio.CancelledError:
            if waiter in principal.waiting:
                principal.waiting.remove(waiter)
            elif waiter.turn.done() and not waiter.turn.cancelled() and waiter.turn.exception() is None:
                principal.running -= 1  # the turn came as the request was cancelled: pass it on
                self._start_next()
            self._forget_if_idle(who, principal)
            raise
        except TooManyWaiting:
            self._forget_if_idle(who, principal)
            raise

    def _make_room_for(self, newcomer: Principal) -> bool:
        """Take the newest place of whoever holds the most, if they hold more than the newcomer would."""
        holder = max(self._principals.values(), key=lambda principal: len(principal.waiting))
        if len(holder.waiting) <= len(newcomer.waiting) + 1:
            return False
        evicted = holder.waiting.pop()
        if not evicted.turn.done():
            evicted.turn.set_exception(TooManyWaiting(self.retry_after(holder)))
        return True

    def _start_next(self) -> None:
        while self.running < self.slots:
            ready = [principal for principal in self._principals.values()
                     if principal.waiting and principal.running < self.max_running_each]
            if not ready:
                return
            principal = min(ready, key=lambda candidate: (candidate.running, candidate.waiting[0].order))
            waiter = principal.waiting.popleft()
            if waiter.turn.done():  # cancelled, and its request not yet told: nothing to start
                continue
            principal.running += 1
            waiter.turn.set_result(None)

    def _forget_if_idle(self, who: Hashable, principal: Principal) -> None:
        if principal.held == 0 and self._principals.get(who) is principal:
            del self._principals[who]
