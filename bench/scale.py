"""The scale benchmark of issue 11: `portal serve` against a raw baseline and PostGraphile v4, same database.

A fresh PostgreSQL database at the issue's scale (scale_seed.py); beside the service, the raw baseline
(raw_baseline.py: Starlette + asyncpg, same token check, same JSON) and PostGraphile v4 (bench/package.json)
serving the same page. The servers share core 0, the load generator (this process) has core 1; each target
is warmed up, then loaded by 20 clients for a fixed time, every answer checked against the expected JSON.
Server CPU a request comes from the server's process tree (/proc/<pid>/stat utime + stime) before and after:
it is the stable figure on a shared machine, where requests per second are not.

Run: .venv/bin/python bench/scale.py           (writes its section of bench/results.md)
     .venv/bin/python bench/scale.py --profile (cProfile of the service and PostgreSQL statements a request,
                                                into bench/profiles/; results.md is left alone)
Environment: BENCH_SECONDS (8), BENCH_WARMUP (2), BENCH_ROUNDS (2), BENCH_CONCURRENCY (20),
BENCH_KEEP_DATABASE=1.
"""
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from loadgen import Checker, LoadResult, request_bytes, run_load, run_sequence
from raw_baseline import DASHBOARD, INVOICES
from results_file import write_section
from scale_seed import Seeded, drop_database, seed
from stats import summarize

SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "2"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "20"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
SERVER_CORE, CLIENT_CORE = 0, 1
TICKS = os.sysconf("SC_CLK_TCK")
# Server CPU a request, as a multiple of the raw baseline's in the same run (issue 11's targets).
TARGET_RATIOS = {"invoices(first: 20)": 5.0, "dashboard": 7.0}
POSTGRAPHILE_BIN = HERE / "node_modules/.bin/postgraphile"

# PostGraphile's spelling of the same page: the contact person's customer, newest first, 20, with lines.
POSTGRAPHILE_INVOICES = """{ allInvoices(condition: {customerId: CUSTOMER}, orderBy: [DATE_DESC, NUMBER_DESC, ID_DESC],
  first: 20) { totalCount pageInfo { hasNextPage endCursor } nodes { id number status date dueDate currency subTotal
  taxTotal total amountPaid lineItemsByInvoiceId(orderBy: POSITION_ASC) { nodes { name quantity rate amount } } } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(command: list[str]) -> list[str]:
    return ["taskset", "-c", str(SERVER_CORE), *command] if shutil.which("taskset") else command


@dataclass
class Target:
    name: str
    process: subprocess.Popen
    port: int
    token: str | None = None


def start(name: str, command: list[str], port: int, env: dict | None = None, token: str | None = None) -> Target:
    (HERE / "logs").mkdir(exist_ok=True)
    log = open(HERE / "logs" / f"{name}.log", "wb")  # noqa: SIM115 - the server owns it
    process = subprocess.Popen(pinned(command), env={**os.environ, **(env or {})}, stdout=log,
                               stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    return Target(name=name, process=process, port=port, token=token)


def stop(target: Target) -> None:
    stop_group(target.process)


def stop_group(process: subprocess.Popen, seconds: float = 20) -> None:
    """Ctrl-C to a server's process group (its workers too), then a kill if it is not gone in `seconds`."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


async def ask(target: Target, query: str) -> tuple[int, object]:
    """One request on a fresh connection: (HTTP status, parsed answer)."""
    from loadgen import read_response

    reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
    try:
        writer.write(request_bytes("127.0.0.1", target.port, query, target.token))
        status, body = await read_response(reader)
    finally:
        writer.close()
    return status, json.loads(body)


async def wait_ready(target: Target, query: str, seconds: float = 90) -> None:
    await wait_until_answers(target, lambda: ask(target, query), seconds)


async def wait_until_answers(target: Target, probe: Callable[[], Awaitable[tuple[int, object]]],
                             seconds: float = 90) -> None:
    """Until `probe` (a request to the target) answers 200; an error if the target exits or takes `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if target.process.poll() is not None:
            raise RuntimeError(f"{target.name} exited; see bench/logs/{target.name}.log")
        try:
            status, _ = await probe()
            if status == 200:
                return
        except (OSError, ValueError, asyncio.IncompleteReadError):
            pass
        await asyncio.sleep(0.3)
    raise RuntimeError(f"{target.name} did not answer in {seconds:.0f} s; see bench/logs/{target.name}.log")


def process_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, pending = [pid], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """utime + stime of each process (children that ended are not counted: these servers keep theirs)."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return used


def postgres_backends(database: str) -> list[int]:
    """The PostgreSQL backends serving `database` (on this machine)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if text.startswith("postgres: ") and f" {database} " in text:
            found.append(int(cmdline.parent.name))
    return found


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


@dataclass
class Measured:
    """One target's load over all rounds: CPU seconds summed, so that a figure is CPU over all its requests."""

    load: LoadResult
    server_cpu: float = 0.0
    postgres_cpu: float = 0.0

    @property
    def server_cpu_ms(self) -> float:
        return self.server_cpu * 1000 / max(self.load.requests, 1)

    @property
    def postgres_cpu_ms(self) -> float:
        return self.postgres_cpu * 1000 / max(self.load.requests, 1)

    def add(self, other: "Measured") -> "Measured":
        load = self.load
        load.requests += other.load.requests
        load.seconds += other.load.seconds
        load.latencies += other.load.latencies
        load.wrong += other.load.wrong
        load.first_wrong = load.first_wrong or other.load.first_wrong
        return Measured(load=load, server_cpu=self.server_cpu + other.server_cpu,
                        postgres_cpu=self.postgres_cpu + other.postgres_cpu)


async def measure(target: Target, query: str, checker: Checker, database: str) -> Measured:
    payload = request_bytes("127.0.0.1", target.port, query, target.token)
    await run_load("127.0.0.1", target.port, payload, concurrency=CONCURRENCY, seconds=WARMUP, checker=checker,
                   record=False)
    servers = process_tree(target.process.pid)
    server_before, postgres_before = cpu_seconds(servers), cpu_seconds(postgres_backends(database))
    load = await run_load("127.0.0.1", target.port, payload, concurrency=CONCURRENCY, seconds=SECONDS,
                          checker=checker)
    server_after = cpu_seconds(servers)
    postgres_after = cpu_seconds(postgres_backends(database))
    return Measured(load=load, server_cpu=spent(server_before, server_after),
                    postgres_cpu=spent(postgres_before, postgres_after))


def postgraphile_projection(answer: object) -> object:
    """What PostGraphile's page has in common with the service's: the same invoices, amounts and lines."""
    page = answer["data"]["allInvoices"]  # type: ignore[index]
    return {"totalCount": page["totalCount"], "hasNextPage": page["pageInfo"]["hasNextPage"], "invoices": [
        (node["number"], node["date"], node["dueDate"], node["currency"], node["subTotal"], node["taxTotal"],
         node["total"], node["amountPaid"], node["status"],
         [(line["name"], Decimal(line["quantity"]), Decimal(line["rate"]), line["amount"])
          for line in node["lineItemsByInvoiceId"]["nodes"]]) for node in page["nodes"]]}


def expected_projection(answer: dict) -> object:
    """The service's page as PostGraphile shows it: stored statuses (OVERDUE is computed), numbers as Decimals."""
    page = answer["data"]["invoices"]
    return {"totalCount": page["totalCount"], "hasNextPage": page["pageInfo"]["hasNextPage"], "invoices": [
        (node["number"], node["date"], node["dueDate"], node["currency"], node["subTotal"], node["taxTotal"],
         node["total"], node["amountPaid"], "SENT" if node["status"] == "OVERDUE" else node["status"],
         [(line["name"], Decimal(line["quantity"]), Decimal(line["rate"]), line["amount"])
          for line in node["lineItems"]]) for node in (edge["node"] for edge in page["edges"])]}


def check_expected(invoices: dict, dashboard: dict) -> None:
    """The expected answers themselves add up: a full page of 20, totals equal to their lines, sums that hold."""
    page = invoices["data"]["invoices"]
    assert page["totalCount"] == 100 and len(page["edges"]) == 20 and page["pageInfo"]["hasNextPage"], page
    for edge in page["edges"]:
        node = edge["node"]
        lines = node["lineItems"]
        assert len(lines) == 3 and sum(Decimal(line["amount"]) for line in lines) == Decimal(node["subTotal"])
        assert Decimal(node["subTotal"]) + Decimal(node["taxTotal"]) == Decimal(node["total"])
        assert Decimal(node["total"]) - Decimal(node["amountPaid"]) == Decimal(node["balanceDue"])
    board = dashboard["data"]["dashboard"]
    assert board["outstandingInvoices"]["count"] + board["outstandingRetainerInvoices"]["count"] == 70, board


def start_servers(seeded: Seeded, profile_prefix: Path | None) -> dict[str, Target]:
    service_port, raw_port, postgraphile_port = free_port(), free_port(), free_port()
    env = {"PORTAL_DATABASE_URL": seeded.sqlalchemy_url, "PORTAL_BASE_URL": f"http://127.0.0.1:{service_port}",
           "PORTAL_MAIL_DIR": str(HERE / "mail"), "PORTAL_LOG_FORMAT": "json",  # metrics are always on
           # No PDF here: render workers warming up at start would count as the service's CPU.
           "PORTAL_PDF_WORKERS_AT_START": "false"}
    if profile_prefix is None:
        service_command = [str(ROOT / ".venv/bin/portal"), "serve", "--port", str(service_port)]
    else:
        service_command = [str(ROOT / ".venv/bin/python"), str(HERE / "profiled_serve.py"), str(service_port),
                           str(profile_prefix)]
    targets = {"service": start("service", service_command, service_port, env, seeded.token)}
    targets["raw"] = start("raw_baseline", [str(ROOT / ".venv/bin/python"), str(HERE / "raw_baseline.py"),
                                            seeded.url, str(raw_port)], raw_port, token=seeded.token)
    if POSTGRAPHILE_BIN.exists() and shutil.which("node") and profile_prefix is None:
        targets["postgraphile"] = start(
            "postgraphile", [str(POSTGRAPHILE_BIN), "-c", seeded.url, "--schema", "public", "--host", "127.0.0.1",
                             "--port", str(postgraphile_port), "--disable-query-log", "--disable-graphiql"],
            postgraphile_port)
    return targets


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("inf")


def report(seeded: Seeded, rows: dict[str, dict[str, Measured]], skipped: str | None) -> tuple[str, bool]:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [f"## Scale: this service vs a raw baseline and PostGraphile ({when})", "",
             "A fresh PostgreSQL database (dropped afterwards): 1 organization, 1,000 customers with a contact person "
             "signed in, "
             f"100,000 invoices of 3 lines, 30 % paid, seeded in {seeded.seconds} s. `portal serve` (1 process), "
             f"the raw baseline and PostGraphile on core {SERVER_CORE}, the load generator on core {CLIENT_CORE}; "
             f"{CONCURRENCY} clients; {ROUNDS} rounds taking the targets in turn, each a {WARMUP:g} s warm-up and "
             f"{SECONDS:g} s measured; every answer checked. Server CPU is the server process tree's utime + stime "
             "over the measured requests; "
             "PostgreSQL CPU that of the database's backends.", "",
             "| scenario | server | req/s | p50 ms | p99 ms | server CPU ms/req | PostgreSQL CPU ms/req | answers "
             "| wrong |",
             "|---|---|---|---|---|---|---|---|---|"]
    ok = True
    for scenario, measured in rows.items():
        for server, result in measured.items():
            stats = summarize(result.load.latencies) if result.load.latencies else {"p50": "", "p99": ""}
            lines.append(f"| `{scenario}` | {server} | {result.load.per_second:,.0f} | {stats['p50']} | "
                         f"{stats['p99']} | {result.server_cpu_ms:.3f} | {result.postgres_cpu_ms:.3f} | "
                         f"{result.load.requests:,} | {result.load.wrong} |")
            if result.load.wrong:
                ok = False
    lines += ["", "| scenario | server CPU a request, service ÷ raw | target | req/s, raw ÷ service | "
                  "p99 service / raw ms | result |", "|---|---|---|---|---|---|"]
    for scenario, measured in rows.items():
        service, raw = measured.get("this service"), measured.get("raw baseline")
        if service is None or raw is None:
            continue
        cpu = ratio(service.server_cpu_ms, raw.server_cpu_ms)
        answers_ok = service.load.wrong == 0 and raw.load.wrong == 0
        passed = answers_ok and cpu <= TARGET_RATIOS[scenario]
        ok = ok and passed
        p99 = (summarize(service.load.latencies)["p99"], summarize(raw.load.latencies)["p99"])
        verdict = "pass" if passed else ("FAIL (answers differ)" if not answers_ok else "FAIL")
        lines.append(f"| `{scenario}` | {cpu:.1f}× | ≤ {TARGET_RATIOS[scenario]:g}× | "
                     f"{ratio(raw.load.per_second, service.load.per_second):.1f}× | {p99[0]} / {p99[1]} | "
                     f"**{verdict}** |")
    lines += ["", "Documents, as a contact person (bearer token): `" + " ".join(INVOICES.split()) + "` and `"
              + " ".join(DASHBOARD.split()) + "`."]
    if skipped:
        lines += ["", f"PostGraphile: {skipped}"]
    else:
        lines += ["", "PostGraphile v4 (bench/package.json) serves the same page as `allInvoices(condition: "
                      "{customerId})` ordered by date, number and id, with line items, and checks no token "
                      "(it has no session lookup); its answers are checked on invoices, amounts, lines and paging."]
    return "\n".join(lines) + "\n", ok


async def compare(seeded: Seeded, targets: dict[str, Target]) -> tuple[dict[str, dict[str, Measured]], str | None]:
    service, raw = targets["service"], targets["raw"]
    expected = {}
    for scenario, query in (("invoices(first: 20)", INVOICES), ("dashboard", DASHBOARD)):
        _, expected[scenario] = await ask(raw, query)
    check_expected(expected["invoices(first: 20)"], expected["dashboard"])
    postgraphile, skipped = targets.get("postgraphile"), None
    postgraphile_query = POSTGRAPHILE_INVOICES.replace("CUSTOMER", str(seeded.customer_id))
    if postgraphile is None:
        skipped = "not measured: bench/node_modules has no PostGraphile (`cd bench && npm ci`) or node is missing."
    else:
        try:
            await wait_ready(postgraphile, postgraphile_query, seconds=120)
        except RuntimeError as error:
            skipped, postgraphile = f"skipped: {error}", None
    rows: dict[str, dict[str, Measured]] = {}
    for scenario, query in (("invoices(first: 20)", INVOICES), ("dashboard", DASHBOARD)):
        wanted = expected[scenario]
        projected = expected_projection(wanted) if scenario.startswith("invoices") else None
        runs = [("this service", service, query, Checker(lambda answer, wanted=wanted: answer == wanted)),
                ("raw baseline", raw, query, Checker(lambda answer, wanted=wanted: answer == wanted))]
        if projected is not None and postgraphile is not None:
            runs.append(("PostGraphile v4", postgraphile, postgraphile_query,
                         Checker(lambda answer, projected=projected: postgraphile_projection(answer) == projected)))
        rows[scenario] = {}
        for round_number in range(ROUNDS):  # the targets in turn, so that a busy spell of the machine hits all
            for server, target, sent, checker in runs:
                measured = await measure(target, sent, checker, seeded.database)
                print(f"  round {round_number + 1}: {scenario} {server}: {measured.load.per_second:,.0f} req/s, "
                      f"CPU {measured.server_cpu_ms:.3f} ms/req", flush=True)
                rows[scenario][server] = rows[scenario][server].add(measured) if server in rows[scenario] \
                    else measured
        for server, result in rows[scenario].items():
            print(f"{scenario:22} {server:16} {result.load.per_second:8,.0f} req/s  "
                  f"CPU {result.server_cpu_ms:.3f} ms/req  PostgreSQL {result.postgres_cpu_ms:.3f} ms/req  "
                  f"wrong {result.load.wrong}" + (f"  first wrong: {result.load.first_wrong}"
                                                  if result.load.first_wrong else ""), flush=True)
    return rows, skipped


async def main(profile: bool) -> int:
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {CLIENT_CORE})
    seeded = await seed()
    print(f"seeded {seeded.database} in {seeded.seconds} s", flush=True)
    prefix = None
    if profile:
        from profile_report import log_statements

        await log_statements(seeded)  # before the servers connect: the setting applies to new sessions
        (HERE / "profiles").mkdir(exist_ok=True)
        prefix = HERE / "profiles" / "service"
    targets = start_servers(seeded, prefix)
    try:
        await wait_ready(targets["service"], DASHBOARD)
        await wait_ready(targets["raw"], DASHBOARD)
        if profile:
            from profile_report import profile_service

            await profile_service(seeded, targets["service"], targets["raw"])
            return 0
        rows, skipped = await compare(seeded, targets)
    finally:
        for target in targets.values():
            stop(target)
        if os.environ.get("BENCH_KEEP_DATABASE") != "1":
            await drop_database(seeded.database)
    text, ok = report(seeded, rows, skipped)
    write_section("scale", text)
    print(text)
    return 0 if ok else 1


__all__ = ["Measured", "Target", "ask", "run_sequence"]

if __name__ == "__main__":
    sys.exit(asyncio.run(main(profile="--profile" in sys.argv)))
