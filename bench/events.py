"""Live activity at scale (issue 11): `portalActivity` delivery from a real `portal serve --workers 2` with Redis.

A fresh PostgreSQL database with 100 organizations, each with its owner signed in and a contact person with
an invoice to comment on. Subscriptions are opened over real WebSockets by several client processes (so that
the load generator is not what is measured); this process drives portal actions (a contact person's
`addComment`, which records a COMMENTED event) at a fixed rate and notes when each answer arrived. Every
subscriber notes when each event arrived, by the comment's body, which numbers the action.

Measured: latency from the mutation's answer to the event at each subscriber (p50/p95/p99), events lost and
duplicated, the mutation's p50 with 1 and with 1,000 subscriptions, how long until 1,000 new subscriptions
all receive events (from when the client processes, already started, begin to open them), server CPU a
delivery (the server tree's utime + stime), and server memory per idle subscription (the workers' RSS before
and after opening them), with permessage-deflate off and on. Measured actions begin once every subscription
has received a warm-up action. Every full garbage collection (generation 2) in the server's processes is
noted (a gc callback, installed by a sitecustomize on the server's PYTHONPATH), and those that began while
actions were measured are reported: each is a pause of everything the worker serves.

Run: .venv/bin/python bench/events.py   (writes the `events` section of bench/results.md)
Environment: BENCH_EVENT_SECONDS (10), BENCH_EVENT_CLIENTS (4 client processes), BENCH_EVENT_WIDE=0 skips
the 10,000-subscription shape, BENCH_KEEP_DATABASE=1.
"""
import asyncio
import gc
import hashlib
import json
import multiprocessing
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from results_file import write_section
from scale import cpu_seconds, free_port, process_tree, stop_group
from scale_seed import PASSWORD, create_database, drop_database, migrate
from stats import summarize

SECONDS = float(os.environ.get("BENCH_EVENT_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_EVENT_CLIENTS", "4"))
WIDE = os.environ.get("BENCH_EVENT_WIDE", "1") != "0"
ORGANIZATIONS = 100
RATE, WIDE_RATE = 5.0, 10.0  # portal actions a second
WARMUP_RATE = 50.0  # one action in each of the 100 organizations before the wide shape is measured
WARMUP_LIMIT_SECONDS = 120.0  # at most, until every subscription has received a warm-up action
TARGET_P99_MS = 100.0
TARGET_MUTATION_RATIO = 1.5
TARGET_LIVE_SECONDS = 3.0
TARGET_IDLE_KB = 64.0
SETTLE = 3.0  # seconds after the last action for events still on their way; later ones count as lost
SUBSCRIBE = ('{"id":"1","type":"subscribe","payload":{"query":"subscription { portalActivity(kinds: [COMMENTED]) '
             '{ cursor kind summary occurredAt customer { id displayName } contactPerson { id email } '
             'comment { body } subject { __typename id ... on Invoice { number } } } }"}}')
COMMENT = "mutation($id: ID!, $body: String!) { addComment(subjectId: $id, body: $body) { id } }"


def global_id(type_name: str, pk: int) -> str:
    from portal.core.ids import to_global_id

    return to_global_id(type_name, pk)


@dataclass(frozen=True)
class Organization:
    id: int
    owner_token: str
    contact_token: str
    invoice_id: str  # global id


SEED_SQL = """
INSERT INTO organizations (id, name, portal_name, email, time_zone, created_at)
SELECT o, 'Events ' || o, 'events-' || o, 'owner' || o || '@events.example.com', 'UTC', now()
FROM generate_series(1, {n}) AS o;
INSERT INTO staff_users (id, organization_id, name, email, password_hash, created_at)
SELECT o, o, 'Owner ' || o, 'owner' || o || '@events.example.com', $1, now() FROM generate_series(1, {n}) AS o;
INSERT INTO portal_settings (organization_id, banner_message, notify_owner_on_activity, allow_forwarding,
                             notify_customers_on_staff_comments, show_projects_and_timesheets,
                             allow_customers_to_edit_details)
SELECT o, '', false, true, false, true, true FROM generate_series(1, {n}) AS o;
INSERT INTO customers (id, organization_id, display_name, company_name, currency, ach_enabled, created_at)
SELECT o, o, 'Customer ' || o, 'Customer ' || o || ' Inc.', 'USD', false, now() FROM generate_series(1, {n}) AS o;
INSERT INTO contact_persons (id, organization_id, customer_id, first_name, last_name, email, portal_access,
                             password_hash, created_at)
SELECT o, o, o, 'Contact', o::text, 'contact' || o || '@customer.example.com', 'ACTIVE', $1, now()
FROM generate_series(1, {n}) AS o;
INSERT INTO invoices (id, organization_id, customer_id, number, kind, date, due_date, status, currency,
                      sub_total, tax_total, total, amount_paid, payment_options, created_at)
SELECT o, o, o, 'INV-00001', 'STANDARD', current_date, current_date + 30, 'SENT', 'USD', 100, 0, 100, 0, 'CARD',
       now()
FROM generate_series(1, {n}) AS o;
INSERT INTO line_items (organization_id, invoice_id, position, name, quantity, rate, tax_percent, amount, tax)
SELECT o, o, 0, 'Consulting', 1, 100, 0, 100, 0 FROM generate_series(1, {n}) AS o;
INSERT INTO number_sequences (organization_id, name, last_value)
SELECT o, kind, CASE WHEN kind = 'INV' THEN 1 ELSE 0 END
FROM generate_series(1, {n}) AS o, unnest(ARRAY['EST', 'INV', 'PAY', 'ACTIVITY', 'UPDATE']) AS kind
"""
SERIAL_TABLES = ("organizations", "staff_users", "customers", "contact_persons", "sessions", "invoices",
                 "line_items")


async def seed() -> tuple[str, str, list[Organization]]:
    """A fresh database: its name, its SQLAlchemy URL, and each organization's tokens and invoice."""
    from argon2 import PasswordHasher

    name, url = await create_database()
    sqlalchemy_url = url.replace("postgresql://", "postgresql+asyncpg://")
    await asyncio.to_thread(migrate, sqlalchemy_url)
    password_hash = PasswordHasher().hash(PASSWORD)
    connection = await asyncpg.connect(url)
    organizations = []
    try:
        async with connection.transaction():
            for statement in SEED_SQL.format(n=ORGANIZATIONS).split(";\n"):
                await connection.execute(statement, password_hash) if "$1" in statement \
                    else await connection.execute(statement)
            sessions = []
            for index in range(1, ORGANIZATIONS + 1):
                owner, contact = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
                sessions += [(2 * index - 1, index, hashlib.sha256(owner.encode()).hexdigest(), index, None),
                             (2 * index, index, hashlib.sha256(contact.encode()).hexdigest(), None, index)]
                organizations.append(Organization(index, owner, contact, global_id("Invoice", index)))
            await connection.executemany(
                "INSERT INTO sessions (id, organization_id, token_hash, staff_user_id, contact_person_id, "
                "created_at, expires_at) VALUES ($1, $2, $3, $4, $5, now(), now() + interval '30 days')", sessions)
            for table in SERIAL_TABLES:
                await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                         f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
    finally:
        await connection.close()
    return name, sqlalchemy_url, organizations


# --- subscribers, in client processes ----------------------------------------------------------------------

def subscriber_process(share: int, ws_url: str, tokens: list[str], signals: "Signals", deflate: bool) -> None:
    """Once `go`: open one subscription per token, report when all are open, note each event until `stop`, report."""
    asyncio.run(_subscribers(share, ws_url, tokens, signals, deflate))


@dataclass
class Signals:
    """Between this process and the client processes (multiprocessing objects of one spawn context)."""

    ready: Any  # Queue: a client process is started and waits for `go`
    go: Any  # Event: open the subscriptions (the opening is timed from here, not from the processes' start)
    opened: Any  # Queue: a client process has opened all its subscriptions, at this time
    joined: Any  # Value: subscriptions that have received at least one action
    stop: Any  # Event
    results: Any  # Queue: (share, what each subscription received)


async def _subscribers(share, ws_url, tokens, signals: Signals, deflate) -> None:
    from websockets.asyncio.client import connect

    signals.ready.put(share)
    await asyncio.to_thread(signals.go.wait)

    received: list[list[tuple[int, float]]] = [[] for _ in tokens]
    sockets: list = [None] * len(tokens)  # by token: sockets open in any order, each listened to as its token's
    listeners = []

    async def one(index: int, token: str) -> None:
        for attempt in range(5):
            try:
                socket = await connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=60,
                                       max_queue=None, compression="deflate" if deflate else None,
                                       ping_interval=None)
                break
            except OSError:
                await asyncio.sleep(0.2 * (attempt + 1))
        else:
            raise RuntimeError("could not connect")
        sockets[index] = socket
        await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        acknowledged = json.loads(await socket.recv())
        assert acknowledged["type"] == "connection_ack", acknowledged
        await socket.send(SUBSCRIBE)
        listeners.append(asyncio.create_task(listen(index, socket)))  # events are timed as they arrive

    async def listen(index: int, socket) -> None:
        mine = received[index]
        try:
            async for message in socket:
                if '"type":"ping"' in message:
                    await socket.send('{"type":"pong"}')
                    continue
                try:
                    text = json.loads(message)["payload"]["data"]["portalActivity"]["comment"]["body"]
                    mine.append((int(text.rsplit(" ", 1)[1]), time.time()))
                    if len(mine) == 1:
                        with signals.joined.get_lock():
                            signals.joined.value += 1
                except (KeyError, TypeError, ValueError):
                    if '"type":"pong"' not in message:
                        mine.append((-1, time.time()))  # anything else is a failure the report shows
        except Exception:  # the connection ended: what it did not get counts as lost
            mine.append((-2, time.time()))

    limit = asyncio.Semaphore(50)

    async def bounded(index: int, token: str) -> None:
        async with limit:
            await one(index, token)

    await asyncio.gather(*(bounded(i, t) for i, t in enumerate(tokens)))
    gc.freeze()  # the sockets live to the end: full collections of this process would show as the server's latency
    signals.opened.put(time.time())
    await asyncio.to_thread(signals.stop.wait)
    await asyncio.sleep(0.3)  # the last events in flight
    for socket in sockets:
        await socket.close()
    for task in listeners:
        task.cancel()
    signals.results.put((share, received))


@dataclass
class Subscribers:
    """Client processes holding subscriptions, one list of received (action, time) per subscription."""

    processes: list
    signals: Signals
    expected_orgs: list[int]
    began: float  # when the client processes, started and ready, were told to open

    @classmethod
    def start(cls, ws_url: str, assignments: list[tuple[str, int]], deflate: bool = False) -> "Subscribers":
        """Start the client processes, wait until each is ready, then let them open the subscriptions."""
        context = multiprocessing.get_context("spawn")
        signals = Signals(ready=context.Queue(), go=context.Event(), opened=context.Queue(),
                          joined=context.Value("i", 0), stop=context.Event(), results=context.Queue())
        shares = [assignments[i::CLIENTS] for i in range(CLIENTS)] if len(assignments) >= CLIENTS else [assignments]
        processes = []
        for index, share in enumerate(shares):
            process = context.Process(target=subscriber_process,
                                      args=(index, ws_url, [t for t, _ in share], signals, deflate))
            process.start()
            processes.append(process)
        for _ in processes:
            signals.ready.get(timeout=120)
        signals.go.set()
        orgs = [org for share in shares for _, org in share]
        return cls(processes=processes, signals=signals, expected_orgs=orgs, began=time.time())

    @property
    def joined(self) -> int:
        """How many subscriptions have received an action so far."""
        return self.signals.joined.value

    def wait_opened(self) -> float:
        return max(self.signals.opened.get(timeout=600) for _ in self.processes)

    def finish(self) -> list[list[tuple[int, float]]]:
        self.signals.stop.set()
        by_share = dict(self.signals.results.get(timeout=120) for _ in self.processes)
        received = [events for share in sorted(by_share) for events in by_share[share]]
        for process in self.processes:
            process.join(timeout=30)
        return received


# --- the server and the actions ----------------------------------------------------------------------------

GC_NOTER = '''
import gc, os, time
_log, _began = os.environ.get("BENCH_GC_LOG", os.devnull), []


def _note(phase, info):
    if info["generation"] != 2:
        return
    if phase == "start":
        _began[:] = [time.time(), time.perf_counter()]
    elif _began:
        with open(_log, "a") as log:
            log.write(f"{os.getpid()} {_began[0]:.4f} {(time.perf_counter() - _began[1]) * 1000:.2f}\\n")


gc.callbacks.append(_note)
'''


@dataclass(frozen=True)
class Pause:
    pid: int
    began: float  # time.time()
    ms: float


class GcPauses:
    """The full collections of the server's processes, as its sitecustomize notes them."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bench-gc-"))
        (self.folder / "sitecustomize.py").write_text(GC_NOTER)
        self.log = HERE / "logs" / "events-gc.log"  # pid, began, ms; kept for a look at a run's timeline

    def environment(self) -> dict[str, str]:
        path = os.pathsep.join(filter(None, [str(self.folder), os.environ.get("PYTHONPATH")]))
        return {"PYTHONPATH": path, "BENCH_GC_LOG": str(self.log)}

    def between(self, began: float, ended: float) -> list[Pause]:
        if not self.log.exists():
            return []
        pauses = [Pause(int(pid), float(at), float(ms)) for pid, at, ms in
                  (line.split() for line in self.log.read_text().splitlines() if line.strip())]
        return [pause for pause in pauses if began <= pause.began <= ended]


def pauses_text(pauses: list[Pause]) -> str:
    if not pauses:
        return "none"
    return (f"{len(pauses)}, longest {max(p.ms for p in pauses):.0f} ms, "
            f"{sum(p.ms for p in pauses):.0f} ms in all")


class Server:
    def __init__(self, database_url: str, deflate: bool) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/graphql"
        self.gc = GcPauses()
        env = {**os.environ, "PORTAL_DATABASE_URL": database_url, "PORTAL_BASE_URL": self.base,
               "PORTAL_BROADCAST_URL": "redis://127.0.0.1:6379", "PORTAL_LOG_FORMAT": "json",
               "PORTAL_MAIL_DIR": str(HERE / "mail"), "PORTAL_ACTIVITY_QUEUE_LIMIT": "1000",
               "PORTAL_WS_PER_MESSAGE_DEFLATE": "true" if deflate else "false", **self.gc.environment()}
        (HERE / "logs").mkdir(exist_ok=True)
        log = open(HERE / "logs" / "events-server.log", "ab")  # noqa: SIM115 - the server owns it
        self.process = subprocess.Popen([str(ROOT / ".venv/bin/portal"), "serve", "--port", str(self.port),
                                         "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                        cwd=ROOT, start_new_session=True)

    async def ready(self) -> None:
        async with httpx.AsyncClient() as http:
            for _ in range(600):
                if self.process.poll() is not None:
                    raise RuntimeError("portal serve exited; see bench/logs/events-server.log")
                try:
                    if (await http.get(f"{self.base}/readyz")).status_code == 200:
                        await asyncio.sleep(1.0)  # both workers
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError("portal serve did not get ready")

    async def subscriptions_live(self, count: int, seconds: float = 300) -> None:
        """Wait until the workers count exactly `count` subscriptions (/metrics: portal_subscriptions_active)."""
        async with httpx.AsyncClient() as http:
            for _ in range(int(seconds * 5)):
                metrics = (await http.get(f"{self.base}/metrics")).text
                active = sum(float(line.split()[-1]) for line in metrics.splitlines()
                             if line.startswith("portal_subscriptions_active"))
                if active == count:
                    return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"the workers did not come to {count} subscriptions")

    def workers_rss_kb(self) -> int:
        total = 0
        for pid in process_tree(self.process.pid):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total

    def spy(self, seconds: float, phase: str = "delivery") -> list[subprocess.Popen]:
        """With BENCH_EVENT_SPY=folder: py-spy records each worker for `seconds` (raw stacks, a file each)."""
        folder = os.environ.get("BENCH_EVENT_SPY")
        if not folder:
            return []
        Path(folder).mkdir(parents=True, exist_ok=True)
        return [subprocess.Popen([str(ROOT / ".venv/bin/py-spy"), "record", "-p", str(pid), "-d", str(int(seconds)),
                                  "-r", "200", "-f", "raw", "-o", f"{folder}/{phase}-{pid}.txt"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for pid in process_tree(self.process.pid)[1:] if "spawn" in Path(f"/proc/{pid}/cmdline").read_text()]

    def cpu(self) -> float:
        return sum(cpu_seconds(process_tree(self.process.pid)).values())

    def stop(self) -> None:
        stop_group(self.process, seconds=30)
        shutil.rmtree(self.gc.folder, ignore_errors=True)


@dataclass
class Actions:
    """Actions taken: number → (organization, when its answer arrived); and each mutation's latency."""

    answered: dict[int, tuple[int, float]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    next_number: int = 1


async def drive(server: Server, organizations: list[Organization], rate: float, seconds: float,
                actions: Actions) -> None:
    """`rate` comments a second for `seconds`, taking the organizations in turn; each answer noted."""
    async with httpx.AsyncClient(timeout=30) as http:
        started = time.perf_counter()
        pending = set()
        count = int(rate * seconds)
        for index in range(count):
            await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
            organization = organizations[index % len(organizations)]
            pending.add(asyncio.create_task(_comment(http, server, organization, actions)))
        await asyncio.gather(*pending)


async def warm_up(server: Server, organizations: list[Organization], rate: float, actions: Actions,
                  subscribers: Subscribers, least_seconds: float = 0.0) -> int:
    """Rounds of actions over the organizations, at `rate` a second, for at least `least_seconds` and until every
    subscription has received one: a subscription without `after` starts at the latest event when it joins, so
    what is measured must follow every join. The rounds it took."""
    rounds, began = 0, time.perf_counter()
    while time.perf_counter() - began < WARMUP_LIMIT_SECONDS:
        await drive(server, organizations, rate, len(organizations) / rate, actions)
        rounds += 1
        if subscribers.joined == len(subscribers.expected_orgs) and time.perf_counter() - began >= least_seconds:
            return rounds
    raise RuntimeError(f"{len(subscribers.expected_orgs) - subscribers.joined} subscriptions received no action "
                       f"in {WARMUP_LIMIT_SECONDS:g} s of warm-up")


async def _comment(http: httpx.AsyncClient, server: Server, organization: Organization, actions: Actions) -> None:
    number = actions.next_number
    actions.next_number += 1
    began = time.perf_counter()
    response = await http.post(f"{server.base}/graphql",
                               headers={"Authorization": f"Bearer {organization.contact_token}"},
                               json={"query": COMMENT, "variables": {"id": organization.invoice_id,
                                                                     "body": f"bench {number}"}})
    answered = time.time()
    if response.status_code != 200 or "errors" in response.json():
        actions.failures += 1
        return
    actions.latencies.append(time.perf_counter() - began)
    actions.answered[number] = (organization.id, answered)


@dataclass
class Delivery:
    latencies: list[float]
    lost: int
    duplicated: int
    wrong: int
    expected: int
    missing_all: int = 0  # subscriptions that got none of their events
    ended: int = 0  # connections that ended with an error before the end


def deliveries(received: list[list[tuple[int, float]]], orgs: list[int], actions: Actions,
               numbers: set[int]) -> Delivery:
    """Each subscription should have got each of `numbers` of its organization exactly once."""
    latencies, lost, duplicated, wrong, expected, missing_all, ended = [], 0, 0, 0, 0, 0, 0
    for events, org in zip(received, orgs, strict=True):
        missing_all += not events
        seen: dict[int, float] = {}
        for number, when in events:
            if number == -2:
                ended += 1
            elif number < 0:
                wrong += 1
            elif number in seen:
                duplicated += 1
            else:
                seen[number] = when
        for number in numbers:
            action_org, answered = actions.answered[number]
            if action_org != org:
                continue
            expected += 1
            if number in seen:
                latencies.append(seen[number] - answered)
            else:
                lost += 1
    return Delivery(latencies, lost, duplicated, wrong, expected, missing_all, ended)


def live_after(received: list[list[tuple[int, float]]], actions: Actions, opening_started: float) -> float | None:
    """Seconds from the start of opening until every subscription got every action answered from then on."""
    got = [{number for number, _ in events} for events in received]
    numbers = sorted(actions.answered)
    for position, number in enumerate(numbers):
        if all(later in mine for later in numbers[position:] for mine in got):
            return actions.answered[number][1] - opening_started
    return None


# --- the phases ----------------------------------------------------------------------------------------------

async def idle_memory(server: Server, organizations: list[Organization], count: int,
                      deflate: bool) -> tuple[float, float]:
    """KB of worker RSS per idle subscription: over the first `count` opened at once (what such a burst
    leaves behind: the pool's extra connections, caches filled once, the allocator's arenas), and over
    `count` more opened beside them (what each further idle subscription holds). Nothing is delivered."""
    await asyncio.sleep(1.0)
    rss = [server.workers_rss_kb()]
    bursts = []
    for organization in organizations[:2]:
        subscribers = Subscribers.start(server.ws_url, [(organization.owner_token, organization.id)] * count, deflate)
        await asyncio.to_thread(subscribers.wait_opened)
        await asyncio.sleep(3.0)  # not /metrics: reading it maps the metric files, which RSS would count
        rss.append(server.workers_rss_kb())
        bursts.append(subscribers)
    for subscribers in reversed(bursts):
        await asyncio.to_thread(subscribers.finish)
    return (rss[1] - rss[0]) / count, (rss[2] - rss[1]) / count


async def one_org(server: Server, organization: Organization) -> dict:
    """1 subscription, then 1,000 new ones opened under load: delivery, mutation p50s, time to live."""
    figures: dict = {}
    single = Subscribers.start(server.ws_url, [(organization.owner_token, organization.id)])
    await asyncio.to_thread(single.wait_opened)
    await asyncio.sleep(0.5)
    alone = Actions()
    await drive(server, [organization], RATE, max(4.0, SECONDS / 2), alone)
    await asyncio.sleep(0.5)
    figures["alone"] = deliveries(await asyncio.to_thread(single.finish), single.expected_orgs, alone,
                                  set(alone.answered))
    figures["mutation alone"] = summarize(alone.latencies)

    loaded = Actions(next_number=alone.next_number)
    owners = [(organization.owner_token, organization.id)] * 1000
    spies = server.spy(8, "opening")  # from before the client processes start: attaching takes a moment
    cpu_before = server.cpu()
    many = await asyncio.to_thread(Subscribers.start, server.ws_url, owners)
    opening = many.began  # the client processes are up: what is timed is the opening itself
    warmup = asyncio.create_task(warm_up(server, [organization], RATE, loaded, many, least_seconds=6.0))
    opened_at = await asyncio.to_thread(many.wait_opened)
    figures["cpu ms an opening"] = (server.cpu() - cpu_before) * 1000 / len(owners)
    figures["open seconds"] = opened_at - opening
    for spy in spies:
        await asyncio.to_thread(spy.wait)  # the warm-up actions go on meanwhile
    await warmup
    measured_from = loaded.next_number
    cpu_before = server.cpu()
    spies = server.spy(SECONDS, "delivery")
    window = time.time()
    await drive(server, [organization], RATE, SECONDS, loaded)
    for spy in spies:
        spy.wait()
    cpu_spent = server.cpu() - cpu_before
    await asyncio.sleep(SETTLE)
    figures["gc pauses"] = server.gc.between(window, time.time())
    received = await asyncio.to_thread(many.finish)
    figures["live seconds"] = live_after(received, loaded, opening)
    numbers = {n for n in loaded.answered if n >= measured_from}
    figures["loaded"] = deliveries(received, many.expected_orgs, loaded, numbers)
    figures["mutation loaded"] = summarize(loaded.latencies[-len(numbers):])
    figures["cpu ms a delivery"] = cpu_spent * 1000 / max(1, len(figures["loaded"].latencies))
    figures["failures"] = alone.failures + loaded.failures
    return figures


async def wide(server: Server, organizations: list[Organization]) -> dict:
    """10,000 subscriptions over 100 organizations (100 each), 10 actions a second over them all."""
    assignments = [(org.owner_token, org.id) for org in organizations for _ in range(100)]
    await server.subscriptions_live(0)  # those of the phase before have left: the count is then these ones
    subscribers = await asyncio.to_thread(Subscribers.start, server.ws_url, assignments)
    opening = subscribers.began
    await asyncio.to_thread(subscribers.wait_opened)
    await server.subscriptions_live(len(assignments))
    opened_at = time.time()
    warmup = Actions()
    rounds = await warm_up(server, organizations, WARMUP_RATE, warmup, subscribers)
    await asyncio.sleep(1.0)  # the last round's deliveries
    actions = Actions(next_number=warmup.next_number)
    cpu_before = server.cpu()
    window = time.time()
    await drive(server, organizations, WIDE_RATE, SECONDS, actions)
    cpu_spent = server.cpu() - cpu_before
    await asyncio.sleep(SETTLE)
    pauses = server.gc.between(window, time.time())
    received = await asyncio.to_thread(subscribers.finish)
    result = deliveries(received, subscribers.expected_orgs, actions, set(actions.answered))
    first_round = {number for number in warmup.answered if number < len(organizations) + 1}
    not_joined = deliveries(received, subscribers.expected_orgs, warmup, first_round).lost
    return {"delivery": result, "open seconds": opened_at - opening, "mutation": summarize(actions.latencies),
            "cpu ms a delivery": cpu_spent * 1000 / max(1, len(result.latencies)),
            "failures": actions.failures + warmup.failures, "not joined at warm-up": not_joined,
            "warm-up rounds": rounds, "gc pauses": pauses}


def verdict(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"


def report(narrow: dict, broad: dict | None, memory: dict[str, float]) -> tuple[str, bool]:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    loaded, alone = narrow["loaded"], narrow["alone"]
    stats = summarize(loaded.latencies) if loaded.latencies else {"p50": None, "p95": None, "p99": None}
    ratio = narrow["mutation loaded"]["p50"] / max(narrow["mutation alone"]["p50"], 0.1)
    rows = [("1,000 subscriptions, 5 actions/s: event p99", f"{stats['p99']} ms (p50 {stats['p50']}, p95 "
             f"{stats['p95']}; alone p50 {summarize(alone.latencies)['p50'] if alone.latencies else '-'})",
             f"< {TARGET_P99_MS:g} ms", stats["p99"] is not None and stats["p99"] < TARGET_P99_MS),
            ("lost / duplicated / other messages", f"{loaded.lost} / {loaded.duplicated} / {loaded.wrong} of "
             f"{loaded.expected:,}", "0 / 0 / 0", loaded.lost == loaded.duplicated == loaded.wrong == 0),
            ("mutation p50, 1,000 subscriptions ÷ 1", f"{narrow['mutation loaded']['p50']} ÷ "
             f"{narrow['mutation alone']['p50']} ms = {ratio:.2f}×", f"≤ {TARGET_MUTATION_RATIO}×",
             ratio <= TARGET_MUTATION_RATIO),
            ("1,000 new subscriptions all live", f"{narrow['live seconds']:.2f} s (all open after "
             f"{narrow['open seconds']:.2f} s)" if narrow["live seconds"] is not None else "never",
             f"≤ {TARGET_LIVE_SECONDS:g} s", narrow["live seconds"] is not None
             and narrow["live seconds"] <= TARGET_LIVE_SECONDS),
            ("server CPU a new subscription, while the 1,000 open (warm-up actions included)",
             f"{narrow['cpu ms an opening']:.2f} ms", "", None),
            ("server CPU a delivery (1,000 subscriptions)", f"{narrow['cpu ms a delivery']:.3f} ms", "", None),
            ("full garbage collections in the server while measured (1,000 subscriptions)",
             pauses_text(narrow["gc pauses"]), "reported", None)]
    if broad is not None:
        delivery = broad["delivery"]
        wide_stats = summarize(delivery.latencies) if delivery.latencies else {"p50": None, "p95": None, "p99": None}
        rows += [("10,000 subscriptions over 100 organizations, 10 actions/s: event p99",
                  f"{wide_stats['p99']} ms (p50 {wide_stats['p50']}, p95 {wide_stats['p95']}; lost "
                  f"{delivery.lost} ({delivery.missing_all} subscriptions got nothing, {delivery.ended} connections "
                  f"failed, {delivery.wrong} other messages), duplicated "
                  f"{delivery.duplicated} of {delivery.expected:,}; {broad['not joined at warm-up']} subscriptions "
                  f"missed the first warm-up action, {broad['warm-up rounds']} warm-up round(s); opened in "
                  f"{broad['open seconds']:.1f} s; CPU {broad['cpu ms a delivery']:.3f} ms a delivery)",
                  f"< {TARGET_P99_MS:g} ms", wide_stats["p99"] is not None and wide_stats["p99"] < TARGET_P99_MS
                  and delivery.lost == delivery.duplicated == 0),
                 ("full garbage collections in the server while measured (10,000 subscriptions)",
                  pauses_text(broad["gc pauses"]), "reported", None)]
    rows += [("server memory per idle subscription, no compression (1,000 more beside 1,000 open)",
              f"{memory['off']:.1f} KB", f"≤ {TARGET_IDLE_KB:g} KB", memory["off"] <= TARGET_IDLE_KB),
             ("… with permessage-deflate on", f"{memory['on']:.1f} KB", "reported", None),
             ("workers' RSS growth over the first burst of 1,000, a subscription (off / on)",
              f"{memory['off first']:.1f} / {memory['on first']:.1f} KB", "reported", None)]
    ok = all(passed is not False for *_, passed in rows) and not narrow["failures"]
    lines = [f"## Live activity: delivery to many subscribers ({when})", "",
             "`portal serve --workers 2` with Redis for broadcast and JSON logs, on a fresh PostgreSQL database "
             f"of {ORGANIZATIONS} organizations; subscriptions of each organization's owner opened by {CLIENTS} "
             "client processes on the same machine (no pinning: 2 cores for everything); actions are a contact "
             f"person's `addComment`, {SECONDS:g} s measured. Latency runs from the mutation's answer to the event "
             "at each subscriber; CPU is the server tree's utime + stime over deliveries; memory per idle subscription "
             "is the workers' RSS growth from 1,000 to 2,000 open idle subscriptions (each its own connection), "
             "after a first burst of 1,000 whose growth is reported apart.", "",
             "| measurement | result | target | ok |", "|---|---|---|---|"]
    for name, result, target, passed in rows:
        lines.append(f"| {name} | {result} | {target} | {'' if passed is None else verdict(passed)} |")
    if narrow["failures"]:
        lines += ["", f"{narrow['failures']} mutations failed."]
    return "\n".join(lines) + "\n", ok


async def main() -> int:
    name, database_url, organizations = await seed()
    print(f"seeded {name}", flush=True)
    memory: dict[str, float] = {}
    broad = None
    try:
        server = Server(database_url, deflate=True)
        try:
            await server.ready()
            memory["on first"], memory["on"] = await idle_memory(server, organizations[1:3], 1000, deflate=True)
            print(f"idle subscription, deflate on: {memory['on']:.1f} KB", flush=True)
        finally:
            server.stop()
        server = Server(database_url, deflate=False)
        try:
            await server.ready()
            memory["off first"], memory["off"] = await idle_memory(server, organizations[3:5], 1000, deflate=True)
            print(f"idle subscription, deflate off: {memory['off']:.1f} KB", flush=True)
            narrow = await one_org(server, organizations[0])
            print(f"1,000 subscriptions: {summarize(narrow['loaded'].latencies)}, lost {narrow['loaded'].lost}",
                  flush=True)
            if WIDE:
                broad = await wide(server, organizations)
                print(broad["delivery"].lost, summarize(broad["delivery"].latencies), flush=True)
        finally:
            server.stop()
    finally:
        if os.environ.get("BENCH_KEEP_DATABASE") != "1":
            await drop_database(name)
    text, ok = report(narrow, broad, memory)
    write_section("events", text)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
