"""What lives long is frozen, so that the garbage collector stops walking it.

Start-up builds the schema, the ORM mappings and the compiled statements: tens of thousands of objects
that live as long as the process. Every open WebSocket connection adds about 300 more (its protocol,
handler, tasks and subscriptions), which live as long as it does: 10,000 connections in a worker are
three million. A full collection (generation 2) walks every tracked object that is not frozen, and found
none of these to be garbage, while every request and event of the worker waited: 0.7–1.6 s a pass at
10,000 connections, which CPython runs whenever the survivors grow by a quarter.

So the start-up heap is frozen once the app is up (`freeze_startup_heap`), and then, in `portal serve`,
the objects of open connections are frozen too (`ConnectionHeap`): once a burst of new connections has
settled (none opened for `settle_seconds`, or `most_wait_seconds` after they began to arrive), young
garbage is collected and everything left is frozen: an O(1) move, no pause. Collections then walk only
what was made since.

The trade-off: the collector no longer looks at frozen objects, so cycles among the objects of a
connection that closes after its freeze (about 67 objects a connection) stay until they are looked at
again, as does whatever else was cyclic garbage in the old generation when it was frozen. Their memory is
bounded by reclaiming: once the connections closed since the last reclaim pass `garbage_fraction` of those
open (and `least_garbage`), everything is unfrozen, collected once and frozen again, at the next moment
without new connections; past as many closed as open, without waiting for one. A reclaim is one full
pass, as CPython's own would be, but once per quarter of the connections turned over rather than whenever
anything grows, and never while a burst is opening. A worker that never holds `least_unfrozen` new
connections at once never freezes them, and collects as CPython does.
"""
import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

logger = logging.getLogger("portal.heap")


def freeze_startup_heap() -> None:
    """Freeze what start-up built, and from now on the objects of open connections (`ConnectionHeap`)."""
    global _connection_heap
    gc.collect()
    gc.freeze()
    _connection_heap = ConnectionHeap()


class Step(Enum):
    FREEZE = "freeze"  # collect the young generations, freeze the rest
    RECLAIM = "reclaim"  # unfreeze, collect everything, freeze again


@dataclass
class FreezePolicy:
    """When to freeze the objects of open connections, and when to reclaim the garbage freezing keeps.

    Counts connections, not objects: a connection's objects are what the collector would walk, and the
    cycles it leaves behind once closed are what freezing keeps.
    """

    settle_seconds: float = 2.0  # no connection opened for this long: a burst has settled
    most_wait_seconds: float = 30.0  # connections arriving without pause are frozen after this long anyway
    least_unfrozen: int = 500  # fewer new connections cost a full pass of ~0.1 s at most: not worth a freeze
    garbage_fraction: float = 0.25  # closed since the last reclaim, of those open, that make a reclaim due
    least_garbage: int = 500

    open: int = 0
    unfrozen: int = 0  # open connections opened since the last freeze: the collector still walks them
    closed_since_reclaim: int = 0  # each may have left its cycles among the frozen objects
    holding: bool = False  # connections have been frozen since the last reclaim emptied the frozen of garbage
    freezes: int = 0
    last_opened: float = field(default=float("-inf"))
    first_unfrozen: float | None = None

    def opened(self, now: float) -> int:
        """A connection opened; what to hand `closed` when it closes."""
        self.open += 1
        self.unfrozen += 1
        self.last_opened = now
        if self.first_unfrozen is None:
            self.first_unfrozen = now
        return self.freezes

    def closed(self, opened_at_freeze: int) -> None:
        self.open -= 1
        self.closed_since_reclaim += 1
        if opened_at_freeze == self.freezes:  # not frozen yet: the collector walks what it leaves
            self.unfrozen -= 1
            if self.unfrozen == 0:
                self.first_unfrozen = None

    def due(self, now: float) -> Step | None:
        settled = now - self.last_opened >= self.settle_seconds
        garbage = self.closed_since_reclaim if self.holding else 0
        if garbage >= max(self.least_garbage, self.open) or (
                settled and garbage >= max(self.least_garbage, self.garbage_fraction * self.open)):
            return Step.RECLAIM
        waited = self.first_unfrozen is not None and now - self.first_unfrozen >= self.most_wait_seconds
        if self.unfrozen >= self.least_unfrozen and (settled or waited):
            return Step.FREEZE
        return None

    def pending(self) -> bool:
        """Whether a step may come due without another connection opening or closing."""
        return self.unfrozen >= self.least_unfrozen or (self.holding and self.closed_since_reclaim > 0)

    def took(self, step: Step) -> None:
        """`step` was taken: every open connection is frozen now."""
        self.freezes += 1
        self.unfrozen = 0
        self.first_unfrozen = None
        if step is Step.RECLAIM:
            self.closed_since_reclaim = 0
            self.holding = self.open > 0
        else:
            self.holding = True


def freeze_young() -> None:
    gc.collect(1)
    gc.freeze()


def reclaim() -> None:
    gc.unfreeze()
    gc.collect()
    gc.freeze()


@dataclass
class ConnectionHeap:
    """The policy at work in a served process: told of each connection, it checks once a second while a
    step may come due, and takes it in the event loop (a freeze costs the young generations' collection)."""

    policy: FreezePolicy = field(default_factory=FreezePolicy)
    clock: Callable[[], float] = time.monotonic
    steps: dict[Step, Callable[[], None]] = field(
        default_factory=lambda: {Step.FREEZE: freeze_young, Step.RECLAIM: reclaim})
    check_seconds: float = 1.0
    _check: asyncio.TimerHandle | None = None

    def opened(self) -> int:
        opened_at_freeze = self.policy.opened(self.clock())
        self._watch()
        return opened_at_freeze

    def closed(self, opened_at_freeze: int) -> None:
        self.policy.closed(opened_at_freeze)
        self._watch()

    def check(self) -> None:
        self._check = None
        step = self.policy.due(self.clock())
        if step is not None:
            self._take(step)
        self._watch()

    def _take(self, step: Step) -> None:
        began, garbage = time.perf_counter(), self.policy.closed_since_reclaim
        self.steps[step]()
        self.policy.took(step)
        log = logger.info if step is Step.RECLAIM else logger.debug
        log("heap %s: %d connections open, %d closed since the last reclaim, %.0f ms", step.value,
            self.policy.open, garbage, (time.perf_counter() - began) * 1000)

    def _watch(self) -> None:
        if self._check is None and self.policy.pending():
            self._check = asyncio.get_running_loop().call_later(self.check_seconds, self.check)


_connection_heap: ConnectionHeap | None = None  # in `portal serve` only: a process of its own


def connection_opened() -> int | None:
    """Note a WebSocket connection opened; what to hand `connection_closed` (None: connections are not frozen)."""
    return None if _connection_heap is None else _connection_heap.opened()


def connection_closed(opened_at_freeze: int | None) -> None:
    if _connection_heap is not None and opened_at_freeze is not None:
        _connection_heap.closed(opened_at_freeze)
