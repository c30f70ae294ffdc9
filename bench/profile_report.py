"""Where the service's time goes under the scale benchmark, and what each request asks of PostgreSQL.

`scale.py --profile` runs the service under cProfile (profiled_serve.py), loads it as the benchmark does, and
writes bench/profiles/<scenario>.txt: self time by package, the costliest functions, field resolutions and
ORM rows a request; and, from PostgreSQL's own log (log_statement = all, for this database only), the
statements a request of the service and of the raw baseline run, BEGIN/COMMIT/ROLLBACK and pool pings included.
cProfile inflates the cost of small Python calls (graphql-core and Strawberry make many): read the shares as
an upper bound for them, the order as right.
"""
import asyncio
import os
import pstats
import re
import signal
from collections import Counter
from pathlib import Path

import asyncpg
from loadgen import Checker, request_bytes, run_load, run_sequence
from raw_baseline import DASHBOARD, INVOICES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROFILES = HERE / "profiles"
LOG_GLOB = "/var/log/postgresql/postgresql-*-main.log"
SEQUENTIAL = 50  # requests counted one after another for the statements a request
PROFILE_SECONDS = float(os.environ.get("BENCH_PROFILE_SECONDS", "8"))

# Where a function's self time is counted, by the path of its file (first match).
PACKAGES = [
    ("graphql-core", "/graphql/"),
    ("Strawberry", "/strawberry/"),
    ("SQLAlchemy ORM", "/sqlalchemy/orm/"),
    ("SQLAlchemy engine, pool, SQL compiler", "/sqlalchemy/"),
    ("SQLModel", "/sqlmodel/"),
    ("asyncpg", "/asyncpg/"),
    ("uvicorn, Starlette, HTTP", "/uvicorn/"),
    ("uvicorn, Starlette, HTTP", "/starlette/"),
    ("uvicorn, Starlette, HTTP", "/cross_web/"),
    ("uvicorn, Starlette, HTTP", "/httptools/"),
    ("metrics, tracing, logging", "/prometheus_client/"),
    ("metrics, tracing, logging", "/opentelemetry/"),
    ("metrics, tracing, logging", "/logging/"),
    ("asyncio, uvloop, contextvars", "/asyncio/"),
    ("asyncio, uvloop, contextvars", "/uvloop/"),
    ("json", "/json/"),
    ("pydantic", "/pydantic"),
    ("greenlet (SQLAlchemy's async bridge)", "/greenlet/"),
    ("other third-party packages", "/site-packages/"),
    ("the portal's own code", f"{ROOT}/"),
]


def category(filename: str, function: str) -> str:
    for name, marker in PACKAGES:
        if marker in filename:
            return name
    if filename == "~":
        if "uvloop" in function or "_asyncio" in function or "Task" in function or "Future" in function:
            return "asyncio, uvloop, contextvars"
        if "json" in function or "encode" in function:
            return "json"
        return "C built-ins (called from all of the above)"
    return "other standard library"


def summary(path: Path, requests: int) -> str:
    stats = pstats.Stats(str(path))
    total = stats.total_tt  # type: ignore[attr-defined]
    by_package: Counter[str] = Counter()
    for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_package[category(filename, function)] += tottime
    lines = [f"{requests} requests, {total:.2f} s profiled: {total * 1000 / requests:.2f} ms a request "
             "(with cProfile's overhead)", "", "Self time by package:"]
    lines += [f"  {share * 100 / total:5.1f} %  {name}" for name, share in by_package.most_common()]
    lines += ["", "Calls a request of chosen functions (cumulative ms a request):"]
    for label, pattern in CHOSEN:
        calls, cumulative = 0, 0.0
        for (filename, _, function), (_, ncalls, _, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
            if re.search(pattern, f"{filename}:{function}"):
                calls += ncalls
                cumulative = max(cumulative, cumtime)
        lines.append(f"  {calls / requests:8.1f} calls  {cumulative * 1000 / requests:7.3f} ms  {label}")
    report = "\n".join(lines) + "\n"
    return report + _top(path, "tottime") + _top(path, "cumulative")


CHOSEN = [
    ("graphql-core execute_field (field resolutions)", r"graphql/execution/executor\.py:execute_field$"),
    ("graphql-core complete_value", r"graphql/execution/executor\.py:complete_value$"),
    ("Strawberry extension resolve hooks (per field)", r"strawberry/extensions/.*:resolve$"),
    ("Strawberry info objects (_strawberry_info_from_graphql)", r"strawberry/.*:_strawberry_info_from_graphql$"),
    ("Strawberry argument conversion (get_arguments)", r"strawberry/.*:get_arguments$"),
    ("document parse", r"graphql/language/parser\.py:parse$"),
    ("document validate", r"graphql/validation/validate\.py:validate$"),
    ("StorableText extension (schema/storable_text.py)", r"schema/storable_text\.py:on_execute$"),
    ("ORM rows built (loading._instance)", r"sqlalchemy/orm/loading\.py:_instance$"),
    ("ORM result processing (loading.instances)", r"sqlalchemy/orm/loading\.py:instances$"),
    ("SQL compilation (compiler.process)", r"sqlalchemy/sql/compiler\.py:process$"),
    ("statements executed (default.do_execute)", r"sqlalchemy/engine/default\.py:do_execute$"),
    ("pool checkout", r"sqlalchemy/pool/base\.py:_checkout$"),
    ("pool pre-ping (do_ping)", r"sqlalchemy/.*:do_ping$"),
    ("session commit", r"sqlalchemy/ext/asyncio/session\.py:commit$"),
    ("Decimal shown (shown_decimal)", r"models/money\.py:shown_decimal$"),
    ("from_row (schema/rows.py)", r"schema/rows\.py:from_row$"),
    ("json.dumps", r"json/__init__\.py:dumps$"),
    ("authenticate (portal/web/auth.py)", r"portal/web/auth\.py:authenticate$"),
]


def _top(path: Path, order: str, count: int = 30) -> str:
    import io

    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.strip_dirs().sort_stats(order).print_stats(count)
    body = out.getvalue()
    return f"\n=== top {count} by {order} ===\n" + body[body.find("   ncalls"):]


def postgres_log() -> Path | None:
    logs = sorted(Path("/").glob(LOG_GLOB.lstrip("/")))
    return logs[-1] if logs and os.access(logs[-1], os.R_OK) else None


async def log_statements(seeded: object) -> None:
    """Every statement of this database into PostgreSQL's log (new sessions only)."""
    server = await asyncpg.connect(seeded.url)  # type: ignore[attr-defined]
    try:
        await server.execute(f'ALTER DATABASE "{seeded.database}" SET log_statement = \'all\'')  # type: ignore[attr-defined]
    finally:
        await server.close()


def statements_between(log: Path, start: int, database: str) -> Counter[str]:
    """Statements logged for `database` since `start`, by kind; the background loops' apart."""
    kinds: Counter[str] = Counter()
    with log.open("rb") as handle:
        handle.seek(start)
        lines = [raw.decode(errors="replace") for raw in handle]
    for index, line in enumerate(lines):
        if f"@{database} " not in line:
            continue
        found = re.search(r"LOG:  (?:statement|execute [^:]*): (.*)", line)
        if not found:
            continue
        text = found.group(1).strip() or (lines[index + 1].strip() if index + 1 < len(lines) else "")
        if "outbox_emails" in text or "webhook_deliveries" in text or "payment_attempts" in text:
            kinds["(background loops)"] += 1
        elif text.startswith("SELECT pg_advisory_unlock_all"):
            kinds["asyncpg pool reset"] += 1
        else:
            kinds[text.split()[0].upper().rstrip(";") if text.split() else "(empty)"] += 1
    return kinds


async def count_statements(target: object, query: str, database: str, log: Path) -> str:
    start = log.stat().st_size  # noqa: ASYNC240 - one stat of a local file
    checker = Checker(lambda answer: "errors" not in answer)  # type: ignore[operator]
    result = await run_sequence("127.0.0.1", target.port, request_bytes(  # type: ignore[attr-defined]
        "127.0.0.1", target.port, query, target.token), SEQUENTIAL, checker)  # type: ignore[attr-defined]
    await asyncio.sleep(1.0)  # the log is written asynchronously
    kinds = statements_between(log, start, database)
    total = sum(kinds.values())
    shown = ", ".join(f"{kind} {count / SEQUENTIAL:.1f}" for kind, count in kinds.most_common())
    return (f"{total / SEQUENTIAL:.1f} logged statements a request ({shown}); {result.wrong} wrong answers. "
            "Not logged: SQLAlchemy's pre-ping `;` between a BEGIN and ROLLBACK at each pool checkout.")


async def profile_service(seeded: object, service: object, raw: object) -> None:
    PROFILES.mkdir(exist_ok=True)
    for old in PROFILES.glob("service-*.prof"):
        old.unlink()
    log = postgres_log()
    for number, (scenario, query) in enumerate((("invoices", INVOICES), ("dashboard", DASHBOARD)), start=1):
        lines = [f"# {scenario}", ""]
        if log is not None:
            for name, target in (("service", service), ("raw baseline", raw)):
                counted = await count_statements(target, query, seeded.database, log)  # type: ignore[attr-defined]
                lines.append(f"PostgreSQL, {name}: {counted}")
        else:
            lines.append("PostgreSQL's log is not readable here: statements a request not counted.")
        payload = request_bytes("127.0.0.1", service.port, query, service.token)  # type: ignore[attr-defined]
        checker = Checker(lambda answer: "errors" not in answer)  # type: ignore[operator]
        await run_load("127.0.0.1", service.port, payload, concurrency=20, seconds=2,  # type: ignore[attr-defined]
                       checker=checker, record=False)
        os.kill(service.process.pid, signal.SIGUSR1)  # type: ignore[attr-defined]
        result = await run_load("127.0.0.1", service.port, payload, concurrency=20,  # type: ignore[attr-defined]
                                seconds=PROFILE_SECONDS, checker=checker, record=False)
        os.kill(service.process.pid, signal.SIGUSR2)  # type: ignore[attr-defined]
        prof = PROFILES / f"service-{number}.prof"
        for _ in range(100):
            if prof.exists() and prof.stat().st_size:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        (PROFILES / f"{scenario}.head").write_text("\n".join(lines))
        (PROFILES / f"{scenario}.requests").write_text(str(result.requests))
        print(write_summary(scenario, number)[:4000], flush=True)


def write_summary(scenario: str, number: int) -> str:
    """bench/profiles/<scenario>.txt from the profile and the statement counts gathered for it."""
    head = (PROFILES / f"{scenario}.head").read_text()
    requests = int((PROFILES / f"{scenario}.requests").read_text())
    text = head + "\n\n" + summary(PROFILES / f"service-{number}.prof", requests)
    (PROFILES / f"{scenario}.txt").write_text(text)
    return text


if __name__ == "__main__":  # summarise the profiles again, e.g. after changing the packages above
    for index, name in enumerate(("invoices", "dashboard"), start=1):
        print(write_summary(name, index)[:3000])
