"""The benchmark: a real `portal serve` on PostgreSQL, measured from outside as clients see it.

Writes bench/results.md (and .json). Targets are checked here, never in unit tests.
Run: make bench   (PostgreSQL at 127.0.0.1:5432 as in the README; BENCH_DATABASE=sqlite for the embedded one)
     make bench BENCH=scenarios   only the scenarios below (latency, payments, PDFs, activity)
     make bench BENCH=scale       only the scale comparison of issue 11 (scale.py: raw baseline, PostGraphile)
     make bench BENCH=profile     profile the service under the scale benchmark (into bench/profiles/)
     make bench BENCH=documents   the statement of 500 invoices and an invoice PDF against WeasyPrint alone
     make bench BENCH=events      live activity to 1,000 and 10,000 subscriptions on 2 workers (events.py)
Each part rewrites its own section of results.md and keeps the rest.
"""
import asyncio
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

HERE = Path(__file__).parent
POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "bench"))

from results_file import write_section
from scenarios import SCENARIOS

# p95 latency, one client at a time unless the name says otherwise; the client runs on the same machine.
TARGETS_MS = {"dashboard p95": 25, "invoices page p95": 40, "statement p95": 40, "payInvoices p95": 150,
              "dashboard, 10 clients p95": 150, "invoice PDF p95": 1500, "activity event p95": 500}
PDF_WARM_UP_SECONDS = 8
TARGET_RSS_MB = 300  # the largest process: a worker or a PDF renderer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def fresh_database() -> tuple[str, str]:
    if os.environ.get("BENCH_DATABASE") == "sqlite":
        path = HERE / f"bench-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite+aiosqlite:///{path}", ""
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    server = await asyncpg.connect(POSTGRES_SERVER)
    await server.execute(f'CREATE DATABASE "{name}"')
    await server.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", name


async def drop_database(name: str) -> None:
    if name:
        server = await asyncpg.connect(POSTGRES_SERVER)
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()


WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))


def start_server(database_url: str, port: int, mail_dir: str) -> subprocess.Popen:
    """`portal demo` as production runs it: one worker per core, Redis between them."""
    env = {**os.environ, "PORTAL_DATABASE_URL": database_url, "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
           "PORTAL_MAIL_DIR": mail_dir}
    if WORKERS > 1:
        env["PORTAL_BROADCAST_URL"] = os.environ.get("BENCH_BROADCAST_URL", "redis://127.0.0.1:6379")
    log = open(HERE / "server.log", "wb")  # noqa: SIM115 - the server owns it; a pipe nobody reads would stall it
    command = [str(ROOT / ".venv/bin/portal"), "demo", "--port", str(port), "--workers", str(WORKERS)]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not become ready")


def rss_mb(pid: int) -> dict[int, float]:
    """Resident memory of the server and of every process it started (workers, PDF renderers)."""
    sizes = {}
    for process in [pid, *descendants(pid)]:
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes[process] = int(line.split()[1]) / 1024
    return sizes


def descendants(pid: int) -> list[int]:
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def report(results: dict, rss: dict[int, float], database: str) -> str:
    lines = [f"## Latency scenarios ({time.strftime('%Y-%m-%d %H:%M')}, {database}, {WORKERS} worker(s), "
             f"{os.cpu_count()} cores, client on the same machine)", "",
             "| measurement | n | p50 ms | p95 ms | p99 ms | per second | target | ok |",
             "|---|---|---|---|---|---|---|---|"]
    for name, stats in results.items():
        target = TARGETS_MS.get(f"{name} p95")
        ok = "" if target is None else ("yes" if stats["p95"] <= target else "NO")
        lines.append(f"| {name} | {stats['n']} | {stats['p50']} | {stats['p95']} | {stats['p99']} | "
                     f"{stats.get('per_second', '')} | {'' if target is None else f'p95 ≤ {target}'} | {ok} |")
    largest = max(rss.values())
    lines += ["", f"Memory after the run: {len(rss)} processes, {sum(rss.values()):.0f} MB resident in all; "
                  f"the largest {largest:.0f} MB (target ≤ {TARGET_RSS_MB} MB: "
                  f"{'yes' if largest <= TARGET_RSS_MB else 'NO'}).", ""]
    return "\n".join(lines)


async def main() -> int:
    database_url, name = await fresh_database()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(database_url, port, str(HERE / "mail"))
    try:
        await wait_ready(base)
        # Each worker's PDF renderers warm up on a sample document as it starts (at a lower priority): the
        # scenarios measure the service once that start-up work is done, as a deployment's traffic would see it.
        await asyncio.sleep(PDF_WARM_UP_SECONDS)
        results = {}
        for scenario in SCENARIOS:
            results.update(await scenario(base))
        rss = rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        await drop_database(name)
    database = "SQLite" if not name else "PostgreSQL"
    text = report(results, rss, database)
    write_section("scenarios", text)
    (HERE / "results.json").write_text(json.dumps({"results": results, "rss_mb": list(rss.values()),
                                                   "database": database},
                                                  indent=2))
    print(text)
    failed = [n for n, s in results.items() if TARGETS_MS.get(f"{n} p95", 1e9) < s["p95"]]
    return 1 if failed or max(rss.values()) > TARGET_RSS_MB else 0


def idle_fraction(seconds: float = 1.0) -> float:
    """The share of the machine's CPU time that was idle over the next `seconds` (/proc/stat: waiting on the disk
    is not idle, and guest time, counted in user time already, is left out)."""
    def idle_and_total() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return values[3], sum(values)

    idle_before, total_before = idle_and_total()
    time.sleep(seconds)
    idle_after, total_after = idle_and_total()
    return (idle_after - idle_before) / max(1, total_after - total_before)


async def checkpoint() -> None:
    server = await asyncpg.connect(POSTGRES_SERVER)
    try:
        await server.execute("CHECKPOINT")
    finally:
        await server.close()


def settle(most_seconds: float = 90.0) -> None:
    """Between two parts: PostgreSQL writes out what the last part's seeding left dirty (CHECKPOINT), and the
    machine is left until it is quiet (3 s in a row at least 90 % idle), so that a part does not measure the
    one before it."""
    asyncio.run(checkpoint())
    quiet, began = 0, time.monotonic()
    while quiet < 3:
        if time.monotonic() - began > most_seconds:
            print(f"the machine did not settle in {most_seconds:.0f} s: the next part runs on a busy machine",
                  flush=True)
            return
        quiet = quiet + 1 if idle_fraction() >= 0.9 else 0


def run(mode: str) -> int:
    """`all` (the default): the scenarios, the scale comparison, the documents, the live events; or one of them;
    or the profile."""
    import documents
    import events
    import scale

    if mode not in ("all", "scenarios", "scale", "profile", "documents", "events"):
        print(f"BENCH is all, scenarios, scale, documents, events or profile, not {mode!r}")
        return 2
    parts = [("scenarios", main), ("scale", functools.partial(scale.main, profile=mode == "profile")),
             ("documents", documents.main), ("events", events.main)]
    chosen = [part for name, part in parts if mode in ("all", name) or (mode == "profile" and name == "scale")]
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    failed = 0
    for number, part in enumerate(chosen):
        if number:
            settle()
        if cores is not None:  # scale and documents pin this process to the client's core; what follows may not
            os.sched_setaffinity(0, cores)  # inherit that (the events part's servers and clients would share one)
        failed |= asyncio.run(part())
    return failed


if __name__ == "__main__":
    sys.exit(run(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else "all"))
