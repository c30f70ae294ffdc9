"""What an idle `portalActivity` subscription holds in the server, by tracemalloc (issue 11).

The app runs in this process behind uvicorn (the protocol `portal serve` uses); client processes open
N subscriptions of one owner, each on its own connection; the Python memory allocated meanwhile, less what
was there before, is divided by N and broken down by the file that allocated it.

Run: .venv/bin/python bench/idle_memory.py   (N=500, WS=websockets-sansio, DEFLATE=0, GROUP=filename or lineno)
It prints; it writes nothing. The benchmark's own figure (events.py) is the workers' RSS, which also counts
the allocator's overhead.
"""
import asyncio
import gc
import os
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from events import Subscribers, free_port, seed
from scale_seed import drop_database

N = int(os.environ.get("N", "500"))
WS = os.environ.get("WS", "websockets-sansio")
DEFLATE = os.environ.get("DEFLATE", "0") == "1"
GROUP = os.environ.get("GROUP", "filename")
SHOWN = 30


async def main() -> None:
    import uvicorn

    name, database_url, organizations = await seed()
    port = free_port()
    os.environ.update(PORTAL_DATABASE_URL=database_url, PORTAL_BASE_URL=f"http://127.0.0.1:{port}")
    from portal.web.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, ws=WS,
                                           ws_per_message_deflate=DEFLATE, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(600):
            if server.started:
                break
            await asyncio.sleep(0.05)
        ws_url, owner = f"ws://127.0.0.1:{port}/graphql", organizations[0]
        warm = Subscribers.start(ws_url, [(owner.owner_token, owner.id)] * 20, deflate=True)  # first-use caches
        await asyncio.to_thread(warm.wait_opened)
        await asyncio.sleep(1)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        idle = Subscribers.start(ws_url, [(owner.owner_token, owner.id)] * N, deflate=True)
        await asyncio.to_thread(idle.wait_opened)
        await asyncio.sleep(2)
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        differences = after.compare_to(before, GROUP)
        total = sum(difference.size_diff for difference in differences)
        print(f"{WS}, permessage-deflate {'on' if DEFLATE else 'off'}: {total / N / 1024:.1f} KB of Python memory "
              f"per idle subscription ({N} subscriptions)")
        for difference in differences[:SHOWN]:
            print(f"{difference.size_diff / N:8.0f} B {difference.count_diff / N:6.1f} blocks  "
                  f"{str(difference.traceback).split('site-packages/')[-1]}")
        await asyncio.to_thread(idle.finish)
        await asyncio.to_thread(warm.finish)
    finally:
        server.should_exit = True
        await serving
        await drop_database(name)


if __name__ == "__main__":
    asyncio.run(main())
