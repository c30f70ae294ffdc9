"""Operations (issue 16): /metrics, log lines, `portal check`, SIGTERM, and outages of PostgreSQL and Redis.

The outage tests run servers of their own against a throwaway PostgreSQL cluster and a Redis of their own,
on free ports: the machine's PostgreSQL (5432) and Redis (6379), which other tests use, are never touched.
"""
import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from live import COMMENT, MARK_VIEWED, ActivityClient, HttpGraphQL, PortalProcess, free_port, portal_serving
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.parser import text_string_to_metric_families

from portal.core.settings import Settings
from portal.ops.logs import JsonFormatter, RequestRecord, TextFormatter, current_request
from portal.ops.metrics import LAG_BUCKETS, DeliveryTally, observe_all
from portal.web.app import create_app

PORTAL = str(Path(sys.executable).parent / "portal")
PAY = """mutation($input: PayInvoicesInput!) { payInvoices(input: $input) { status payment { id } } }"""


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a scrape, by name and sorted labels; parsing fails on anything not in the text format."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(scraped: dict, name: str, **labels) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def total(scraped: dict, name: str, **labels) -> float:
    """The sum over the samples of `name` whose labels include `labels`."""
    return sum(number for (sample, sample_labels), number in scraped.items()
               if sample == name and set(labels.items()) <= set(sample_labels))


async def scrape(http: httpx.AsyncClient, base: str = "", **headers) -> dict:
    response = await http.get(f"{base}/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def environment(database_url: str, mail_dir, **more) -> dict:
    return {"PORTAL_DATABASE_URL": database_url, "PORTAL_BROADCAST_URL": "memory://",
            "PORTAL_MAIL_DIR": str(mail_dir), "PORTAL_BASE_URL": "http://portal.test", **more}


@pytest.fixture
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("servers in other processes share a PostgreSQL database")


# ---------------------------------------------------------------- /metrics in this process


async def test_metrics_move_with_traffic(client, business, scene):
    before = await scrape(client)
    portal = scene["portal"]
    await portal.data(MARK_VIEWED, id=scene["invoice"]["id"])
    await portal.data(COMMENT, id=scene["invoice"]["id"], body="Counted")
    assert await portal.error_code("{ invoices(first: 5) { edges { node { id } } } } { viewer { __typename } }")
    await business.staff.data("{ viewer { __typename } invoices(first: 1) { totalCount } }")
    pdf = await client.get(f"/pdf/{scene['invoice']['id']}", headers={"Authorization": f"Bearer {portal.token}"})
    assert pdf.status_code == 200
    paid = await portal.data(PAY, input={"invoiceIds": [scene["invoice"]["id"]], "idempotencyKey": uuid.uuid4().hex,
                                         "paymentMethod": {"gatewayToken": "tok_visa"}})
    assert paid["payInvoices"]["status"] == "SUCCEEDED"
    after = await scrape(client)

    def moved(name: str, **labels) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("portal_graphql_requests_total", field="markViewed", operation_type="mutation", outcome="OK") == 1
    assert moved("portal_graphql_requests_total", field="addComment", operation_type="mutation", outcome="OK") == 1
    # Several root fields: each counted; a document with two anonymous operations names none of them.
    assert moved("portal_graphql_requests_total", field="viewer", operation_type="query") >= 1
    assert moved("portal_graphql_requests_total", field="invoices", operation_type="query") >= 1
    assert moved("portal_graphql_requests_total", field="(none)", outcome="BAD_USER_INPUT") == 1
    assert moved("portal_graphql_request_duration_seconds_count", field="addComment") == 1
    assert moved("portal_http_requests_total", route="graphql", status="2xx") >= 4
    assert moved("portal_activity_events_published_total") >= 2
    assert moved("portal_pdf_render_duration_seconds_count") == 1
    assert moved("portal_payment_attempts_total", status="SUCCEEDED") == 1
    # Read from the database at the scrape: the comment queued an email to the owner.
    assert value(after, "portal_metrics_database_up") == 1
    for name in ("portal_outbox_emails_pending", "portal_outbox_oldest_pending_age_seconds",
                 "portal_webhook_deliveries_pending", "portal_db_connections_in_use", "portal_websocket_connections",
                 "portal_subscriptions_active", "portal_pdf_renders_in_flight", "portal_broker_connected"):
        assert (name, ()) in after, name


async def test_client_chosen_names_never_become_labels(client, gql):
    name = f"Probe{uuid.uuid4().hex}"
    await gql.request(f"query {name} {{ __typename }}")
    await gql.request(f"query {{ {name} }}")  # a field the schema does not have: refused, counted as (unknown)
    text = (await client.get("/metrics")).text
    assert name not in text
    assert '(unknown)' in text


async def test_metrics_answer_only_direct_loopback_requests_without_a_token(app, client):
    assert (await client.get("/metrics")).status_code == 200
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        assert (await client.get("/metrics", headers={header: "127.0.0.1"})).status_code == 403
    remote = httpx.ASGITransport(app=app, client=("10.1.2.3", 40000))
    async with httpx.AsyncClient(transport=remote, base_url="http://portal.test") as http:
        assert (await http.get("/metrics")).status_code == 403


async def test_metrics_refuse_a_trusted_proxy_on_this_machine_that_adds_no_forwarding_header(settings):
    """A proxy at 127.0.0.1 (PORTAL_TRUSTED_PROXIES) configured without X-Forwarded-For: its requests are
    forwarded, not direct, so they need the token; another loopback peer is still direct."""
    behind_proxy = settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})

    async def status(app, peer: str, **headers: str) -> int:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
            return (await http.get("/metrics", headers=headers)).status_code

    proxied = create_app(behind_proxy)
    assert await status(proxied, "127.0.0.1") == 403
    assert await status(proxied, "::ffff:127.0.0.1") == 403
    assert await status(proxied, "127.0.0.2") == 200
    guarded = create_app(behind_proxy.model_copy(update={"metrics_token": "scrape-me-please"}))
    assert await status(guarded, "127.0.0.1") == 401
    assert await status(guarded, "127.0.0.1", Authorization="Bearer scrape-me-please") == 200


async def test_metrics_token_is_required_when_set(settings):
    guarded = create_app(settings.model_copy(update={"metrics_token": "scrape-me-please"}))
    transport = httpx.ASGITransport(app=guarded, client=("10.1.2.3", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
        refused = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        answered = await http.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
    assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer")
    assert wrong.status_code == 401
    assert answered.status_code == 200 and samples(answered.text)


async def test_every_answer_has_a_request_id(client):
    first, second = await client.get("/healthz"), await client.post("/graphql", json={"query": "{ __typename }"})
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2 and all(len(each) == 16 for each in ids)
    assert len(second.headers.get_list("x-request-id")) == 1


# ---------------------------------------------------------------- log lines


async def test_one_log_line_per_request_names_the_operation_and_who_asked(client, business, caplog):
    with caplog.at_level(logging.INFO, logger="portal.access"):
        response = await client.post("/graphql", json={"query": "query Dashboard { viewer { __typename } }"},
                                     headers={"Authorization": f"Bearer {business.staff.token}"})
    lines = [record for record in caplog.records if record.name == "portal.access"]
    assert len(lines) == 1
    line = json.loads(JsonFormatter().format(lines[0]))
    assert line["request_id"] == response.headers["x-request-id"]
    assert (line["level"], line["operation_name"], line["operation_type"], line["fields"]) == (
        "INFO", "Dashboard", "query", "viewer")
    assert (line["principal_kind"], line["status"], line["outcome"]) == ("staff", 200, "OK")
    assert isinstance(line["principal_id"], int) and line["duration_ms"] >= 0
    assert line["time"].endswith("Z")
    assert business.staff.token not in json.dumps(line)
    text = TextFormatter().format(lines[0])
    assert "POST /graphql 200" in text and f"request_id={line['request_id']}" in text


async def test_a_sign_in_is_logged_without_its_password(client, business, caplog):
    password = "owner-password-1"
    with caplog.at_level(logging.INFO, logger="portal.access"):
        await client.post("/graphql", json={
            "query": "mutation($e: String!, $p: String!) { staffLogin(email: $e, password: $p) { token } }",
            "variables": {"e": business.owner_email, "p": password}})
    formatted = [JsonFormatter().format(record) for record in caplog.records]
    assert formatted and not any(password in line for line in formatted)


def test_json_lines_carry_the_request_id_of_the_request_being_served():
    record = RequestRecord(kind="http", method="GET", path="/x")
    token = current_request.set(record)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            entry = logging.LogRecord("portal.graphql", logging.ERROR, __file__, 1, "failed %s", ("here",),
                                      sys.exc_info())
        line = json.loads(JsonFormatter().format(entry))
    finally:
        current_request.reset(token)
    assert (line["request_id"], line["message"], line["level"]) == (record.request_id, "failed here", "ERROR")
    assert "ValueError: boom" in line["exception"]


# ---------------------------------------------------------------- portal check


def run_check(**variables: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    return subprocess.run([PORTAL, "check"], env={**env, **variables}, capture_output=True, text=True, timeout=60)


def test_portal_check_reaches_everything(database_url, tmp_path):
    done = run_check(PORTAL_DATABASE_URL=database_url, PORTAL_MAIL_DIR=str(tmp_path / "mail"))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["settings", "database", "broker", "mail"]
    assert all(": ok" in line for line in lines), lines


def test_portal_check_says_what_failed(database_url, tmp_path):
    closed = free_port()
    done = run_check(PORTAL_DATABASE_URL=database_url, PORTAL_MAIL_DIR=str(tmp_path),
                     PORTAL_BROADCAST_URL=f"redis://127.0.0.1:{closed}", PORTAL_SMTP_URL=f"smtp://127.0.0.1:{closed}")
    assert done.returncode == 1
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert lines["database"].startswith("ok")
    assert lines["broker"].startswith("FAILED") and lines["mail"].startswith("FAILED")
    assert "Traceback" not in done.stdout + done.stderr

    unreachable = run_check(PORTAL_DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:{closed}/nowhere",
                            PORTAL_MAIL_DIR=str(tmp_path))
    assert unreachable.returncode == 1 and "database: FAILED" in unreachable.stdout
    bad = run_check(PORTAL_LOG_FORMAT="xml")
    assert bad.returncode != 0 and "PORTAL_LOG_FORMAT" in bad.stderr


# ---------------------------------------------------------------- deliveries counted in bulk


def lag_metrics() -> tuple[CollectorRegistry, Counter, Histogram]:
    registry = CollectorRegistry()
    return (registry, Counter("delivered", "", registry=registry),
            Histogram("lag", "", buckets=LAG_BUCKETS, registry=registry))


def test_observing_all_at_once_adds_what_observing_each_does():
    amounts = [0.0, 0.003, 0.01, 0.0100001, 0.05, 0.2, 0.2, 7.5, 60.0, 299.9, 300.0, 1e6, 0.01]
    one_by_one, _, each = lag_metrics()
    at_once, _, bulk = lag_metrics()
    for amount in amounts:
        each.observe(amount)
    observe_all(bulk, amounts)
    bulk_samples, each_samples = lag_samples(at_once), lag_samples(one_by_one)
    assert bulk_samples.pop(("lag_sum", ())) == pytest.approx(each_samples.pop(("lag_sum", ())))
    assert bulk_samples == each_samples
    assert bulk_samples[("lag_count", ())] == len(amounts)


def lag_samples(registry: CollectorRegistry) -> dict:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in registry.collect() for sample in family.samples
            if family.name == "lag" and not sample.name.endswith("_created")}


async def test_deliveries_of_a_burst_reach_the_metrics_at_the_next_turn_of_the_loop():
    registry, delivered, lag = lag_metrics()
    tally = DeliveryTally(delivered, lag)
    committed = datetime.now(UTC) - timedelta(seconds=2)
    for _ in range(500):
        tally.note(committed)
    assert registry.get_sample_value("delivered_total") == 0
    await asyncio.sleep(0)
    assert registry.get_sample_value("delivered_total") == 500
    assert registry.get_sample_value("lag_count") == 500
    assert registry.get_sample_value("lag_bucket", {"le": "1.0"}) == 0
    assert registry.get_sample_value("lag_bucket", {"le": "2.5"}) == 500
    assert 1000 <= registry.get_sample_value("lag_sum") < 1250


def test_deliveries_a_closed_loop_never_flushed_are_flushed_by_the_next():
    registry, delivered, lag = lag_metrics()
    tally = DeliveryTally(delivered, lag)

    closing = asyncio.new_event_loop()

    def deliver_as_the_loop_stops() -> None:
        closing.stop()  # the loop ends after this turn: the flush this schedules never runs
        for _ in range(3):
            tally.note(datetime.now(UTC))

    closing.call_soon(deliver_as_the_loop_stops)
    closing.run_forever()
    closing.close()
    assert registry.get_sample_value("delivered_total") == 0

    async def deliver_and_wait() -> None:
        for _ in range(2):
            tally.note(datetime.now(UTC))
        await asyncio.sleep(0)

    asyncio.run(deliver_and_wait())
    assert registry.get_sample_value("delivered_total") == 5


# ---------------------------------------------------------------- several workers, one view


async def test_two_workers_report_one_view_and_log_json(database_url, business, scene, tmp_path):
    env = environment(database_url, tmp_path, PORTAL_LOG_FORMAT="json", PORTAL_ACTIVITY_POLL_SECONDS="1")
    async with portal_serving(env, log_dir=tmp_path, workers=2) as (server,):
        portal = HttpGraphQL(server.base, scene["portal"].token)
        async with httpx.AsyncClient() as http, \
                ActivityClient.connected(server.ws_url, business.staff.token) as owner:
            await owner.subscribe()
            await asyncio.sleep(0.3)
            before = await scrape(http, server.base)
            for number in range(20):  # a new connection per request: both workers answer some
                await portal.data(COMMENT, id=scene["invoice"]["id"], body=f"Worker traffic {number}")
            await owner.events(20)
            views = [await scrape(http, server.base) for _ in range(6)]  # each from either worker
    counted = {total(view, "portal_graphql_requests_total", field="addComment", outcome="OK")
               - total(before, "portal_graphql_requests_total", field="addComment", outcome="OK") for view in views}
    assert counted == {20}
    for view in views:
        assert value(view, "portal_websocket_connections") == 1
        assert value(view, "portal_subscriptions_active") == 1
        assert value(view, "portal_activity_events_delivered_total") == 20
        assert value(view, "portal_activity_events_published_total") >= 20
        assert value(view, "portal_activity_delivery_lag_seconds_count") == 20
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("fields") == "addComment"]
    assert len(requests) == 20
    assert len({line["request_id"] for line in requests}) == 20
    assert {line["principal_kind"] for line in requests} == {"contact"}
    workers = {line["message"] for line in lines if line["message"].startswith("Started server process")}
    assert len(workers) == 2


# ---------------------------------------------------------------- SIGTERM


async def trickled_request(port: int, body: bytes, headers: dict, pause: asyncio.Event) -> tuple[int, bytes]:
    """POST /graphql whose body arrives in two halves, the second once `pause` is set: a long request."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n{head}\r\n".encode() + body[:10])
    await writer.drain()
    await pause.wait()
    writer.write(body[10:])
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 20)
    writer.close()
    status = int(answer.split(b" ", 2)[1])
    return status, answer.split(b"\r\n\r\n", 1)[1]


async def test_sigterm_finishes_requests_in_flight_and_closes_websockets_with_1012(database_url, business, scene,
                                                                                   tmp_path):
    env = environment(database_url, tmp_path, PORTAL_ACTIVITY_POLL_SECONDS="1")
    invoice_id = scene["invoice"]["id"]
    server = PortalProcess(env, tmp_path)
    try:
        await server.ready()
        portal = HttpGraphQL(server.base, scene["portal"].token)
        async with ActivityClient.connected(server.ws_url, business.staff.token) as owner:
            await owner.subscribe()
            await asyncio.sleep(0.3)
            await portal.data(COMMENT, id=invoice_id, body="Before the restart")
            last_seen = (await owner.next_event())["cursor"]
            go_on = asyncio.Event()
            body = json.dumps({"query": COMMENT, "variables": {"id": invoice_id, "body": "In flight"}}).encode()
            signed_in = {"Authorization": f"Bearer {scene['portal'].token}"}
            in_flight = asyncio.create_task(trickled_request(server.port, body, signed_in, go_on))
            payment = json.dumps({"query": PAY, "variables": {"input": {
                "invoiceIds": [invoice_id], "idempotencyKey": uuid.uuid4().hex,
                "paymentMethod": {"gatewayToken": "tok_visa"}}}}).encode()
            paying = asyncio.create_task(trickled_request(server.port, payment, signed_in, go_on))
            await asyncio.sleep(1)  # both requests accepted, their bodies half sent
            os.killpg(server.process.pid, 15)
            close_code = await owner.close_code()
        await asyncio.sleep(0.5)
        go_on.set()
        status, answer = await in_flight
        paid_status, paid = await paying
        await asyncio.wait_for(asyncio.to_thread(server.process.wait), 30)
        assert server.process.returncode in (0, -15)  # uvicorn re-raises the signal once it has stopped

        server.start()
        await server.ready()
        async with ActivityClient.connected(server.ws_url, business.staff.token) as owner:
            await owner.subscribe(after=last_seen)
            missed = await owner.events(2)
            assert await owner.nothing_more()
            balance = await HttpGraphQL(server.base, scene["portal"].token).data(
                "query($id: ID!) { node(id: $id) { ... on Invoice { status balanceDue } } }", id=invoice_id)
    finally:
        await server.stop()
    assert close_code == 1012
    assert status == 200 and "errors" not in json.loads(answer), answer
    assert paid_status == 200 and json.loads(paid)["data"]["payInvoices"]["status"] == "SUCCEEDED", paid
    assert sorted(event["kind"] for event in missed) == ["COMMENTED", "PAYMENT_RECEIVED"], missed
    assert next(event for event in missed if event["comment"])["comment"]["body"] == "In flight"
    assert balance["node"] == {"status": "PAID", "balanceDue": "0.00"}
    log = server.log.read_text()
    assert "Traceback" not in log


async def test_a_client_that_goes_away_mid_request_is_an_info_line(database_url, tmp_path):
    env = environment(database_url, tmp_path)
    async with portal_serving(env, log_dir=tmp_path) as (server,):
        for _ in range(3):
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 500\r\n\r\n{\"query\":")
            await writer.drain()
            await asyncio.sleep(0.2)
            writer.close()
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient() as http:
            scraped = await scrape(http, server.base)
    log = server.log.read_text()
    assert "Traceback" not in log and "ERROR" not in log, log
    assert log.count("client disconnected before the answer") == 3
    assert value(scraped, "portal_http_client_disconnects_total") == 3


# ---------------------------------------------------------------- outages, on servers of the test's own


def initdb_binary() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1] if found else None


class ThrowawayPostgres:
    """A PostgreSQL cluster of this test's own (initdb + pg_ctl, as the postgres user), on a free port."""

    def __init__(self) -> None:
        initdb = initdb_binary()
        if initdb is None:
            pytest.skip("initdb not found under /usr/lib/postgresql/*/bin: no throwaway cluster can be made")
        self.bin = initdb.parent
        self.port = free_port()
        # Not under pytest's tmp_path, whose parents the postgres user may not enter.
        self.root = Path(tempfile.mkdtemp(prefix=f"portal-pg-{self.port}-"))
        self.data = self.root / "data"
        subprocess.run(["chown", "-R", "postgres", str(self.root)], check=True)
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def _as_postgres(self, tool: str, *arguments: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / tool), *arguments], check=True,
                       capture_output=True, timeout=60)

    def start(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start",
                          "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off")

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture
def throwaway_postgres(postgres_only):
    cluster = ThrowawayPostgres()
    try:
        yield cluster
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(cluster.bin / "pg_ctl"), "-D", str(cluster.data),
                        "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(cluster.root, ignore_errors=True)


async def migrated_database(cluster: ThrowawayPostgres) -> str:
    """The URL of a database "portal" in the cluster, migrated to the latest schema."""
    import asyncpg

    from portal.migrations import upgrade

    server_admin = await asyncpg.connect(cluster.url("postgres", "postgresql"))
    await server_admin.execute("CREATE DATABASE portal")
    await server_admin.close()
    url = cluster.url("portal")
    await asyncio.to_thread(upgrade, url)
    return url


def test_a_failing_pass_keeps_its_traceback_every_time(caplog):
    from portal.ops.outage import PassFailures

    failures = PassFailures(logging.getLogger("portal.test"), "pass failed")
    for _ in range(2):
        try:
            raise ValueError("a bug, not an outage")
        except ValueError:
            failures.failed()
    assert [(record.levelname, bool(record.exc_info)) for record in caplog.records] == [("ERROR", True)] * 2


async def test_senders_log_a_database_outage_once_and_its_end_once(throwaway_postgres, tmp_path, caplog):
    """The mail and webhook senders pass every 0.1 s while PostgreSQL is down for 3 s: each logs one warning
    line without a traceback when the outage starts, and one line when the database is back."""
    from portal.core.database import create_engine, session_factory
    from portal.notifications.delivery import FileDelivery
    from portal.notifications.sender import OutboxSender
    from portal.notifications.webhook_sender import WebhookSender

    cluster = throwaway_postgres
    url = await migrated_database(cluster)
    engine = create_engine(url)
    factory = session_factory(engine)
    senders = [OutboxSender(factory, FileDelivery(str(tmp_path)), mail_from="portal@outage.example.com",
                            poll_seconds=0.1),
               WebhookSender(factory, factory, Settings(database_url=url, mail_dir=str(tmp_path)), poll_seconds=0.1)]
    caplog.set_level(logging.INFO, logger="portal")
    running = [asyncio.create_task(sender.run()) for sender in senders]
    try:
        await asyncio.sleep(0.5)
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(3)
        await asyncio.to_thread(cluster.start)
        await asyncio.sleep(2)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await engine.dispose()

    for name, message in (("portal.mail", "outbox pass failed"), ("portal.webhooks", "webhook pass failed")):
        lines = [record for record in caplog.records if record.name == name]
        assert [(record.levelname, record.getMessage().split(" (")[0].split(":")[0]) for record in lines] == [
            ("WARNING", message), ("INFO", message)], [record.getMessage() for record in lines]
        assert "the database is unreachable" in lines[0].getMessage()
        assert "the database is reachable again" in lines[1].getMessage()
        assert not any(record.exc_info for record in lines)


async def test_postgresql_restarted_under_writes_loses_no_acknowledged_write(throwaway_postgres, tmp_path):
    import asyncpg
    from conftest import GraphQLClient
    from factories import ACCEPT_INVITE, CONTACT_PASSWORD, ENABLE_PORTAL, invite_token, new_business

    cluster = throwaway_postgres
    url = await migrated_database(cluster)
    mail_dir = tmp_path / "mail"
    env = environment(url, mail_dir, PORTAL_ACTIVITY_POLL_SECONDS="1")
    async with portal_serving(env, log_dir=tmp_path) as (server,), httpx.AsyncClient(base_url=server.base) as http:
        gql = GraphQLClient(http)
        business = await new_business(Settings(database_url=url, mail_dir=str(mail_dir)), gql, "outage",
                                      "owner@outage.example.com")
        customer = await business.customer()
        contact = await business.contact(customer["id"], "pat@outage.example.com")
        await business.staff.data(ENABLE_PORTAL, ids=[contact["id"]])
        token = invite_token(await first_email(mail_dir, "pat@outage.example.com"))
        accepted = await gql.data(ACCEPT_INVITE, token=token, password=CONTACT_PASSWORD)
        portal = gql.as_(accepted["acceptInvite"]["token"])
        invoices = [await business.invoice(customer["id"]) for _ in range(40)]
        comment_on = invoices[0]["id"]

        acknowledged_comments: list[str] = []
        acknowledged_at: list[float] = []
        acknowledged_payments: list[str] = []
        readiness: list[tuple[float, int]] = []
        events: list[dict] = []
        stop = asyncio.Event()

        async def write_comments() -> None:
            number = 0
            while not stop.is_set():
                number += 1
                body = f"Outage comment {number}"
                if await acknowledged(portal, COMMENT, id=comment_on, body=body):
                    acknowledged_comments.append(body)
                    acknowledged_at.append(time.monotonic())
                await asyncio.sleep(0.05)

        async def pay() -> None:
            for invoice in invoices[1:]:
                if stop.is_set():
                    return
                key = uuid.uuid4().hex
                for _ in range(100):  # the same key until an answer comes: a client retrying safely
                    answer = await acknowledged(portal, PAY, input={
                        "invoiceIds": [invoice["id"]], "paymentMethod": {"gatewayToken": "tok_visa"},
                        "idempotencyKey": key})
                    if answer:
                        assert answer["payInvoices"]["status"] == "SUCCEEDED", answer
                        acknowledged_payments.append(key)
                        break
                    if stop.is_set():
                        return
                    await asyncio.sleep(0.2)

        async def probe() -> None:
            async with httpx.AsyncClient() as probe_http:
                while not stop.is_set():
                    try:
                        status = (await probe_http.get(f"{server.base}/readyz", timeout=2)).status_code
                    except httpx.TransportError:
                        status = 0
                    readiness.append((time.monotonic(), status))
                    await asyncio.sleep(0.1)

        subscribed = asyncio.Event()
        following = asyncio.create_task(
            follow_activity([server.ws_url], business.staff.token, events, subscribed, settle=0.3))
        await asyncio.wait_for(subscribed.wait(), 10)
        tasks = [asyncio.create_task(work()) for work in (write_comments, pay, probe)]
        await asyncio.sleep(2)
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(3)
        await asyncio.to_thread(cluster.start)
        restarted = time.monotonic()
        await asyncio.sleep(6)
        stop.set()
        await asyncio.gather(*tasks)
        # Everything acknowledged reaches the subscriber, after the outage too.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            delivered = {event["comment"]["body"] for event in events if event.get("comment")}
            if set(acknowledged_comments) <= delivered:
                break
            await asyncio.sleep(0.2)
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)

    stored = await asyncpg.connect(cluster.url("portal", "postgresql"))
    try:
        bodies = {row["body"] for row in await stored.fetch("SELECT body FROM comments")}
        paid = {row["idempotency_key"] for row in await stored.fetch(
            "SELECT idempotency_key FROM payment_attempts WHERE status = 'SUCCEEDED' AND payment_id IS NOT NULL")}
    finally:
        await stored.close()
    down = [at for at, status in readiness if status == 503]
    back = [at for at, status in readiness if status == 200 and at > restarted]
    recovery = back[0] - restarted
    first_write = min(at for at in acknowledged_at if at > restarted) - restarted
    print(f"\nPostgreSQL restart: {len(acknowledged_comments)} comments and {len(acknowledged_payments)} payments "
          f"acknowledged; /readyz 503 for {len(down)} probes; 200 again {recovery:.2f} s and a write acknowledged "
          f"{first_write:.2f} s after the restart")
    assert down and back and recovery < 10
    assert set(acknowledged_comments) <= bodies
    assert set(acknowledged_payments) <= paid
    after_restart = [body for body in acknowledged_comments if body not in {e["comment"]["body"] for e in events
                                                                            if e.get("comment")}]
    assert not after_restart, f"acknowledged but never delivered: {after_restart}"
    delivered = [event["comment"]["body"] for event in events if event.get("comment")]
    assert len(delivered) == len(set(delivered)), "an event came twice"
    assert acknowledged_comments and acknowledged_payments


async def follow_activity(ws_urls: list[str], token: str, into: list[dict], subscribed: asyncio.Event, *,
                          settle: float = 0.0) -> None:
    """The owner's live activity into `into`, resumed with `after` on the next server whenever the connection
    drops; `subscribed` is set once a subscription is `settle` seconds old. Runs until cancelled."""
    after, which = None, 0
    while True:
        try:
            async with ActivityClient.connected(ws_urls[which % len(ws_urls)], token) as owner:
                await (owner.subscribe(after=after) if after else owner.subscribe())
                await asyncio.sleep(settle)
                subscribed.set()
                while True:
                    event = await owner.next_event(timeout=60)
                    into.append(event)
                    after = event["cursor"]
        except Exception:
            which += 1
            await asyncio.sleep(0.1)


async def acknowledged(client, query: str, **variables) -> dict | None:
    """The data of a request the server answered without error, else None (refused, failed, or no answer)."""
    try:
        body = await client.request(query, **variables)
    except (AssertionError, httpx.TransportError, json.JSONDecodeError):
        return None
    return None if body.get("errors") else body["data"]


async def first_email(mail_dir: Path, address: str):
    from email import message_from_bytes, policy

    for _ in range(200):
        for raw in await asyncio.to_thread(lambda: [path.read_bytes() for path in sorted(mail_dir.glob("*.eml"))]):
            message = message_from_bytes(raw, policy=policy.default)
            if address in message["To"]:
                return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"no email to {address}")


@pytest.fixture
def own_redis(tmp_path):
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0:
        pytest.skip("redis-server not found")
    port = free_port()

    def start() -> subprocess.Popen:
        process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() == b"PONG":
                return process
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    class OwnRedis:
        url = f"redis://127.0.0.1:{port}"
        process = start()

        def stop(self) -> None:
            self.process.terminate()
            self.process.wait(10)

        def restart(self) -> None:
            self.process = start()

    redis = OwnRedis()
    try:
        yield redis
    finally:
        redis.stop()


async def test_redis_restarted_live_activity_recovers_and_the_metrics_say_so(postgres_only, database_url, business,
                                                                             scene, tmp_path, own_redis):
    env = environment(database_url, tmp_path, PORTAL_BROADCAST_URL=own_redis.url,
                      PORTAL_BROKER_HEARTBEAT_SECONDS="0.5", PORTAL_ACTIVITY_POLL_SECONDS="30")
    portal = HttpGraphQL("", scene["portal"].token)
    invoice_id = scene["invoice"]["id"]
    async with portal_serving(env, log_dir=tmp_path) as (server,), httpx.AsyncClient() as http:
        portal.base = server.base
        async with ActivityClient.connected(server.ws_url, business.staff.token) as owner:
            await owner.subscribe()
            await asyncio.sleep(0.3)
            connected = await scrape(http, server.base)
            await asyncio.to_thread(own_redis.stop)
            down = await until(http, server.base, lambda view: value(view, "portal_broker_connected") == 0)
            ready = (await http.get(f"{server.base}/readyz")).json()
            await asyncio.to_thread(own_redis.restart)
            up = await until(http, server.base, lambda view: value(view, "portal_broker_connected") == 1)
            await portal.data(COMMENT, id=invoice_id, body="After Redis came back")
            event = await owner.next_event(timeout=10)
    assert value(connected, "portal_broker_connected") == 1
    assert ready == {"database": "ok", "broker": "reconnecting"}
    assert value(down, "portal_broker_connected") == 0
    assert value(up, "portal_broker_disconnects_total") >= 1
    assert event["comment"]["body"] == "After Redis came back"


async def until(http: httpx.AsyncClient, base: str, condition, seconds: float = 20) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        view = await scrape(http, base)
        if condition(view):
            return view
        await asyncio.sleep(0.2)
    raise AssertionError("the metrics never said so")


# ---------------------------------------------------------------- tracing


class OtlpReceiver:
    """An OTLP/HTTP endpoint that keeps the spans posted to /v1/traces."""

    def __init__(self) -> None:
        self.spans: list = []
        self.port = free_port()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        export = ExportTraceServiceRequest()
        export.ParseFromString(await reader.readexactly(length))
        self.spans += [span for resource in export.resource_spans for scope in resource.scope_spans
                       for span in scope.spans]
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
        await writer.drain()
        writer.close()


async def test_traces_go_to_the_otlp_endpoint_when_one_is_set(database_url, business, tmp_path):
    receiver = OtlpReceiver()
    listening = await asyncio.start_server(receiver.serve, "127.0.0.1", receiver.port)
    env = environment(database_url, tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.port}",
                      OTEL_BSP_SCHEDULE_DELAY="100")
    try:
        async with portal_serving(env, log_dir=tmp_path) as (server,):
            owner = HttpGraphQL(server.base, business.staff.token)
            await owner.data("query OwnerDashboard { invoices(first: 3) { totalCount } }")
            for _ in range(100):
                if any(span.name == "GraphQL OwnerDashboard" for span in receiver.spans):
                    break
                await asyncio.sleep(0.1)
    finally:
        listening.close()
    operation = next(span for span in receiver.spans if span.name == "GraphQL OwnerDashboard")
    children = [span for span in receiver.spans if span.trace_id == operation.trace_id]
    assert any(span.name.startswith(("SELECT", "select")) or "SELECT" in span.name for span in children), [
        span.name for span in children]
    assert not any(attribute.key == "query" for span in children for attribute in span.attributes)


def test_without_an_endpoint_opentelemetry_is_not_even_loaded(settings):
    code = ("import sys; from portal.web.app import create_app; from portal.core.settings import Settings; "
            f"create_app(Settings(database_url={settings.database_url!r}, mail_dir={settings.mail_dir!r})); "
            "print(sorted({name.split('.')[0] for name in sys.modules if name.startswith('opentelemetry')}))")
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


# ---------------------------------------------------------------- a rolling restart


async def test_a_rolling_restart_loses_no_request_and_no_event(database_url, business, scene, tmp_path):
    """Two servers behind a proxy that health-checks /readyz every 0.1 s and, like nginx's proxy_next_upstream,
    tries the other server when one refuses the connection; each is restarted in turn (SIGTERM: a 1 s drain with
    /readyz 503, then stop) while comments flow and the owner follows live, resuming with `after`."""
    env = environment(database_url, tmp_path, PORTAL_ACTIVITY_POLL_SECONDS="0.5", PORTAL_SHUTDOWN_DRAIN_SECONDS="1")
    invoice_id, token = scene["invoice"]["id"], scene["portal"].token
    async with portal_serving(env, env, log_dir=tmp_path) as servers:
        acknowledged_bodies: list[str] = []
        lost: list[str] = []
        delivered: list[dict] = []
        stop = asyncio.Event()
        turn = iter(range(1_000_000))

        healthy = set(range(len(servers)))

        async def health_checks() -> None:
            async with httpx.AsyncClient() as probe_http:
                while True:
                    for index, server in enumerate(servers):
                        try:
                            ready = (await probe_http.get(f"{server.base}/readyz", timeout=1)).status_code == 200
                        except httpx.TransportError:
                            ready = False
                        (healthy.add if ready else healthy.discard)(index)
                    await asyncio.sleep(0.1)

        async def through_proxy(body: str) -> None:
            first = next(turn) % 2
            if first not in healthy and 1 - first in healthy:
                first = 1 - first
            for server in (servers[first], servers[1 - first]):
                try:
                    await HttpGraphQL(server.base, token).data(COMMENT, id=invoice_id, body=body)
                except httpx.ConnectError:  # nothing was sent: the proxy tries the other server
                    continue
                acknowledged_bodies.append(body)
                return
            lost.append(body)

        async def write() -> None:
            number = 0
            while not stop.is_set():
                number += 1
                try:
                    await through_proxy(f"Rolling {number}")
                except Exception as error:  # an answer lost after the request was sent
                    lost.append(f"Rolling {number}: {error!r}")
                await asyncio.sleep(0.05)

        subscribed = asyncio.Event()
        following = asyncio.create_task(
            follow_activity([server.ws_url for server in servers], business.staff.token, delivered, subscribed))
        checking = asyncio.create_task(health_checks())
        await asyncio.wait_for(subscribed.wait(), 10)
        await asyncio.sleep(0.3)
        writing = asyncio.create_task(write())
        for server in servers:
            await asyncio.sleep(1)
            await server.stop()
            server.start()
            await server.ready()
        await asyncio.sleep(1)
        stop.set()
        await writing
        for _ in range(100):
            if set(acknowledged_bodies) <= {event["comment"]["body"] for event in delivered if event.get("comment")}:
                break
            await asyncio.sleep(0.2)
        for task in (following, checking):
            task.cancel()
        await asyncio.gather(following, checking, return_exceptions=True)
    bodies = [event["comment"]["body"] for event in delivered if event.get("comment")]
    assert not lost
    assert len(acknowledged_bodies) > 20
    assert set(acknowledged_bodies) <= set(bodies), set(acknowledged_bodies) - set(bodies)
    assert len(bodies) == len(set(bodies)), "an event came twice"
