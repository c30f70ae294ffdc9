"""The objects of open connections are frozen once a burst has settled, and the garbage freezing keeps is
reclaimed (portal/ops/heap.py): the policy on a clock of the test's, and the served heap with its steps recorded."""
import asyncio
import gc
import weakref

from portal.ops.heap import ConnectionHeap, FreezePolicy, Step, reclaim

SETTLE, WAIT = 2.0, 30.0


def policy(**overrides) -> FreezePolicy:
    return FreezePolicy(**{"settle_seconds": SETTLE, "most_wait_seconds": WAIT, "least_unfrozen": 100,
                           "garbage_fraction": 0.25, "least_garbage": 50, **overrides})


def open_many(heap: FreezePolicy, count: int, now: float) -> list[int]:
    return [heap.opened(now) for _ in range(count)]


def close_all(heap: FreezePolicy, opened: list[int]) -> None:
    for opened_at_freeze in opened:
        heap.closed(opened_at_freeze)


def test_a_few_new_connections_are_never_frozen():
    heap = policy()
    open_many(heap, 99, now=0.0)

    assert heap.due(1000.0) is None and not heap.pending()


def test_a_burst_is_frozen_once_no_connection_opened_for_a_while():
    heap = policy()
    open_many(heap, 150, now=0.0)

    assert heap.due(SETTLE / 2) is None  # perhaps more are on their way
    assert heap.due(SETTLE) is Step.FREEZE
    heap.took(Step.FREEZE)
    assert heap.unfrozen == 0 and heap.due(1000.0) is None


def test_connections_arriving_without_pause_are_frozen_after_the_longest_wait():
    heap = policy()
    now = 0.0
    while now < WAIT:
        open_many(heap, 10, now)
        assert heap.due(now) is None, now
        now += 1.0

    open_many(heap, 10, now)
    assert heap.due(now) is Step.FREEZE


def test_frozen_connections_closed_past_a_fraction_of_those_open_are_reclaimed_once_settled():
    heap = policy()
    frozen = open_many(heap, 400, now=0.0)
    heap.took(Step.FREEZE)
    close_all(heap, frozen[:79])
    assert heap.due(100.0) is None  # 79 < a quarter of the 321 open

    close_all(heap, frozen[79:81])
    assert heap.due(100.0) is Step.RECLAIM
    heap.took(Step.RECLAIM)
    assert heap.closed_since_reclaim == 0 and heap.due(200.0) is None


def test_as_many_closed_as_open_are_reclaimed_even_while_connections_keep_opening():
    heap = policy()
    frozen = open_many(heap, 200, now=0.0)
    heap.took(Step.FREEZE)
    close_all(heap, frozen[:150])
    open_many(heap, 10, now=50.0)  # not settled: 60 open, 150 closed since the freeze

    assert heap.due(50.5) is Step.RECLAIM


def test_connections_closed_before_any_freeze_leave_nothing_to_reclaim():
    heap = policy()
    close_all(heap, open_many(heap, 400, now=0.0))

    assert heap.due(100.0) is None and not heap.pending()


async def test_the_served_heap_takes_each_step_in_the_event_loop():
    now, taken = [0.0], []
    heap = ConnectionHeap(policy=policy(), clock=lambda: now[0], check_seconds=0.01,
                          steps={Step.FREEZE: lambda: taken.append(Step.FREEZE),
                                 Step.RECLAIM: lambda: taken.append(Step.RECLAIM)})
    opened = [heap.opened() for _ in range(150)]
    now[0] = SETTLE
    await asyncio.sleep(0.05)
    assert taken == [Step.FREEZE]

    for opened_at_freeze in opened[:100]:
        heap.closed(opened_at_freeze)
    now[0] = 100.0
    await asyncio.sleep(0.05)
    assert taken == [Step.FREEZE, Step.RECLAIM]


def test_a_reclaim_frees_cycles_that_died_frozen():
    class Node:
        pass

    first, second = Node(), Node()
    first.other, second.other = second, first  # a cycle: only the collector frees it
    alive = weakref.ref(first)
    gc.freeze()
    del first, second
    gc.collect()
    assert alive() is not None  # frozen: the collector no longer looks at it

    reclaim()
    assert alive() is None
    gc.unfreeze()
