"""The service's Prometheus metrics, one set per process.

Under `portal serve` every worker writes its values to files in PROMETHEUS_MULTIPROC_DIR (set by the
command before anything imports prometheus_client), and `/metrics` in any worker reads them all: one
coherent view of the whole server. Gauges that count what is open (connections, subscriptions, renders,
pooled connections in use) add up over the live workers ("livesum"). Labels hold only values the service
chooses (root fields of the schema, operation types, error codes, statuses), never what a client wrote.
What lives in the database (the email outbox, webhook deliveries) is read when /metrics is scraped.
"""
import asyncio
import os
import re
import time
from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess, values
from prometheus_client.registry import REGISTRY, Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
RENDER_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
ERROR_CODE = re.compile(r"[A-Z][A-Z_]{0,39}")

GRAPHQL_REQUESTS = Counter(
    "portal_graphql_requests", "GraphQL operations by root field, operation type and outcome (OK or the first "
    "error's extensions.code); an operation with several root fields counts once for each.",
    ["field", "operation_type", "outcome"])
GRAPHQL_DURATION = Histogram(
    "portal_graphql_request_duration_seconds", "How long GraphQL queries and mutations took, by root field.",
    ["field", "operation_type"], buckets=LATENCY_BUCKETS)
HTTP_REQUESTS = Counter("portal_http_requests", "HTTP requests answered, by route and status class.",
                        ["route", "status"])
CLIENT_DISCONNECTS = Counter("portal_http_client_disconnects", "Requests whose client went away before the answer.")

WEBSOCKETS_OPEN = Gauge("portal_websocket_connections", "WebSocket connections open.", multiprocess_mode="livesum")
SUBSCRIPTIONS_ACTIVE = Gauge("portal_subscriptions_active", "Live activity subscriptions running.",
                             multiprocess_mode="livesum")
EVENTS_PUBLISHED = Counter("portal_activity_events_published", "Activity events committed and announced.")
EVENTS_DELIVERED = Counter("portal_activity_events_delivered", "Activity events handed to subscribers.")
DELIVERY_LAG = Histogram("portal_activity_delivery_lag_seconds",
                         "From an event's commit time to its delivery to a subscriber.", buckets=LAG_BUCKETS)
BROKER_CONNECTED = Gauge("portal_broker_connected", "1 while every worker's broker connection is up, else 0.",
                         multiprocess_mode="livemin")
BROKER_DISCONNECTS = Counter("portal_broker_disconnects", "Broker connections lost (each is then remade).")
BROKER_PUBLISH_FAILURES = Counter("portal_broker_publish_failures",
                                  "Announcements the broker did not take (subscribers catch up by polling).")

PDF_IN_FLIGHT = Gauge("portal_pdf_renders_in_flight", "PDFs being rendered.", multiprocess_mode="livesum")
PDF_QUEUED = Gauge("portal_pdf_renders_queued", "PDFs waiting for a renderer.", multiprocess_mode="livesum")
PDF_DURATION = Histogram("portal_pdf_render_duration_seconds", "How long a PDF took to render.",
                         buckets=RENDER_BUCKETS)

PAYMENT_ATTEMPTS = Counter("portal_payment_attempts", "Online payments asked for, by the status answered.",
                           ["status"])
PAYMENT_RECOVERIES = Counter("portal_payment_recoveries",
                             "Payment attempts a crash left pending, finished by the recovery pass.", ["outcome"])
WEBHOOK_ATTEMPTS = Counter("portal_webhook_attempts", "Webhook delivery attempts, by outcome.", ["outcome"])

DB_CONNECTIONS_IN_USE = Gauge("portal_db_connections_in_use", "Pooled database connections checked out.",
                              multiprocess_mode="livesum")


class DeliveryTally:
    """Activity events handed to subscribers, counted as plain numbers and added to the metrics (delivered,
    delivery lag) once per turn of the event loop.

    A live event reaches all of a worker's subscribers in one burst. Updating the counter and the histogram
    for each of them (under `portal serve` every value update takes a lock, checks the process id and writes
    the shared file) cost a tenth of a delivery's CPU; /metrics reads the same values either way.
    """

    def __init__(self, delivered: Counter, lag: Histogram) -> None:
        self._delivered, self._lag = delivered, lag
        self._noted: list[tuple[datetime, float]] = []  # (the event's commit time, when it was handed out)
        # The loop a flush is due on: another loop (tests run one after the other) schedules its own, so that
        # what a closed loop never flushed is not left waiting.
        self._flush_on: asyncio.AbstractEventLoop | None = None

    def note(self, occurred_at: datetime) -> None:
        """An event committed at `occurred_at` (aware) handed to a subscriber now."""
        loop = asyncio.get_running_loop()
        if self._flush_on is not loop:
            self._flush_on = loop
            loop.call_soon(self.flush)
        self._noted.append((occurred_at, time.time()))

    def flush(self) -> None:
        self._flush_on = None
        noted, self._noted = self._noted, []
        if not noted:
            return
        committed: dict[datetime, float] = {}  # one timestamp() an event, not one a delivery
        for occurred_at, _ in noted:
            if occurred_at not in committed:
                committed[occurred_at] = occurred_at.timestamp()
        self._delivered.inc(len(noted))
        observe_all(self._lag, [max(0.0, handed - committed[occurred_at]) for occurred_at, handed in noted])


def observe_all(histogram: Histogram, amounts: list[float]) -> None:
    """As `histogram.observe(amount)` for each amount, with one update of the sum and one of each bucket touched.

    prometheus_client has no bulk observe: this adds to the same values `observe` does (its sum, and the
    first bucket whose upper bound is at least the amount); tests/test_operations.py compares the two.
    """
    histogram._raise_if_not_observable()  # a histogram with labels is observed through a child
    bounds = histogram._upper_bounds
    counts: dict[int, int] = {}
    for amount in amounts:
        bucket = bisect_left(bounds, amount)
        counts[bucket] = counts.get(bucket, 0) + 1
    histogram._sum.inc(sum(amounts))
    for bucket, count in counts.items():
        histogram._buckets[bucket].inc(count)


DELIVERIES = DeliveryTally(EVENTS_DELIVERED, DELIVERY_LAG)


def outcome_code(codes: Iterable[object]) -> str:
    """OK, or the first error's code; anything that is not a code of ours counts as INTERNAL_SERVER_ERROR."""
    for code in codes:
        return code if isinstance(code, str) and ERROR_CODE.fullmatch(code) else "INTERNAL_SERVER_ERROR"
    return "OK"


def webhook_attempted(outcome: str) -> None:
    """For the webhook sender: count one delivery attempt ("succeeded", "retrying", "failed")."""
    WEBHOOK_ATTEMPTS.labels(outcome=outcome).inc()


def multiprocess_dir() -> str | None:
    """Where the workers' values are, if this process writes its own there (see prepare_multiprocess_dir)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") if getattr(values.ValueClass, "_multiprocess", False) else None


def forget_dead_workers(path: str) -> None:
    """Drop the open-things gauges of workers that are gone (a crashed worker replaced by uvicorn)."""
    for name in os.listdir(path):
        match = re.fullmatch(r"gauge_live\w+_(\d+)\.db", name)
        if match and not _alive(int(match[1])):
            multiprocess.mark_process_dead(int(match[1]), path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exposition(*extra: Collector) -> bytes:
    """The text format of every worker's metrics (this process's without PROMETHEUS_MULTIPROC_DIR), plus `extra`."""
    path = multiprocess_dir()
    if path is None:
        processes = REGISTRY
    else:
        forget_dead_workers(path)
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes, path)
    scraped = CollectorRegistry()
    for collector in extra:
        scraped.register(collector)
    return generate_latest(processes) + generate_latest(scraped)
