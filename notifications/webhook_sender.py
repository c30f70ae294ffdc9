"""The background webhook sender of each worker: every due delivery sent once per attempt, none lost.

Claiming. A pass claims due deliveries of enabled endpoints in one short statement that sets their
`claimed_until` a lease ahead (FOR UPDATE SKIP LOCKED on PostgreSQL, so that workers neither wait
for each other nor claim the same row; on SQLite, one process, the claiming UPDATE holds the write
lock). Each attempt then runs with no transaction open, and its outcome is recorded at once. A worker
that dies mid-attempt leaves its claims to run out: the delivery is tried again (at least once, with
the same webhook-id, so that receivers can drop the copy).

Fairness. Each delivery is its own task, within three bounds per worker: in all, per organization and
per endpoint. A pass claims nothing for an endpoint or organization at its bound, so one organization's
hanging endpoints (each attempt is cut at 10 seconds) hold only their own share, never everyone's.

Safety. The URL is checked at every attempt (webhook_targets.py) and the request goes to the address
that was checked, with the URL's host name in `Host` and for TLS; redirects are not followed and only
the first few kilobytes of the answer are read.
"""
import asyncio
import contextlib
import logging
import ssl
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col

from portal.core.database import SerialSession
from portal.core.settings import Settings
from portal.models.columns import utcnow
from portal.models.organizations import Organization
from portal.models.webhooks import SNIPPET_CHARACTERS, DeliveryStatus, WebhookDelivery, WebhookEndpoint, retry_delay
from portal.notifications.emails import notify_webhook_endpoint_disabled
from portal.notifications.webhook_signing import webhook_headers
from portal.notifications.webhook_targets import IPAddress, Target, UnsafeTarget, checked_target
from portal.ops.metrics import webhook_attempted
from portal.ops.outage import PassFailures, log_failure

logger = logging.getLogger("portal.webhooks")
TIMEOUT_SECONDS = 10.0  # a 2xx answer within this is success (OPERATIONS.md)
READ_CAP = 4096  # bytes of an answer read at most
LEASE = timedelta(seconds=TIMEOUT_SECONDS + 50)  # a claim outlives its attempt (resolving, connecting, reading)
USER_AGENT = "portal-webhooks/1"


@dataclass(frozen=True)
class Limits:
    """Attempts one worker makes at the same time: in all, per organization, per endpoint."""

    total: int = 32
    per_organization: int = 8
    per_endpoint: int = 4


@dataclass(frozen=True)
class Job:
    """One claimed delivery and what its attempt needs of its endpoint, read when it was claimed."""

    delivery_id: int
    organization_id: int
    endpoint_id: int
    message_id: str
    body: bytes
    attempts: int  # made before this one
    url: str
    secrets: list[str]


@dataclass(frozen=True)
class Outcome:
    status: int | None  # the HTTP status, None without an answer
    snippet: str  # the start of the answer, or why there was none

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def due(now: datetime) -> list[ColumnElement[bool]]:
    """Deliveries to attempt now: pending, due, unclaimed (or their claim ran out), of an enabled endpoint."""
    enabled = select(col(WebhookEndpoint.id)).where(col(WebhookEndpoint.enabled))
    return [col(WebhookDelivery.status) == DeliveryStatus.PENDING, col(WebhookDelivery.next_attempt_at) <= now,
            or_(col(WebhookDelivery.claimed_until).is_(None), col(WebhookDelivery.claimed_until) <= now),
            col(WebhookDelivery.endpoint_id).in_(enabled)]


def readable(data: bytes) -> str:
    """The start of an answer as text the database stores (no NUL), for the delivery log."""
    return data.decode("utf-8", "replace").replace("\x00", "\ufffd")[:SNIPPET_CHARACTERS]


@dataclass
class Answer:
    """The status of an answer, kept when reading its body runs out of time."""

    status: int | None = None


async def post(job: Job, *, allow_private: bool, trusted: ssl.SSLContext | None = None) -> Outcome:
    """One attempt: check the URL, connect to a checked address, POST the signed body, read a little.

    The certificate must be valid for the URL's host name; `trusted` names the authorities (default: certifi's).
    """
    try:
        target = await checked_target(job.url, allow_private=allow_private)
    except UnsafeTarget as refusal:
        return Outcome(None, f"Not sent: {refusal}")
    headers = {**webhook_headers(job.secrets, job.message_id, int(time.time()), job.body),
               "host": target.host_header, "user-agent": USER_AGENT, "accept-encoding": "identity"}
    answer = Answer()
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS), \
                httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=TIMEOUT_SECONDS,
                                  verify=trusted or True) as http:
            for address in target.addresses[:-1]:  # the next address where one refuses the connection
                with contextlib.suppress(httpx.ConnectError):
                    return await _send(http, target, address, job.body, headers, answer)
            return await _send(http, target, target.addresses[-1], job.body, headers, answer)
    except TimeoutError:
        # A status that came in time stands; only the rest of its body was cut.
        return Outcome(answer.status, f"No {'complete ' if answer.status else ''}answer within "
                                      f"{TIMEOUT_SECONDS:g} seconds.")
    except httpx.HTTPError as error:
        return Outcome(answer.status, readable(f"No answer: {type(error).__name__}: {error}".encode()))


async def _send(http: httpx.AsyncClient, target: Target, address: IPAddress, body: bytes, headers: dict[str, str],
                answer: Answer) -> Outcome:
    async with http.stream("POST", target.connect_url(address), content=body, headers=headers,
                           extensions={"sni_hostname": target.host}) as response:
        answer.status = response.status_code
        start = bytearray()
        async for chunk in response.aiter_raw():
            start += chunk
            if len(start) >= READ_CAP:
                break
        return Outcome(answer.status, readable(bytes(start[:READ_CAP])))


class WebhookSender:
    def __init__(self, session_factory: async_sessionmaker[SerialSession],
                 read_session_factory: async_sessionmaker[SerialSession], settings: Settings, *,
                 wake_mail: Callable[[], None] = lambda: None, limits: Limits = Limits(),
                 poll_seconds: float = 1.0) -> None:
        self.session_factory = session_factory
        self.read_session_factory = read_session_factory  # on SQLite, looking takes no write lock
        self.settings = settings
        self.wake_mail = wake_mail
        self.limits = limits
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._attempts: set[asyncio.Task[None]] = set()
        self._by_endpoint: Counter[int] = Counter()
        self._by_organization: Counter[int] = Counter()
        self._one_pass = asyncio.Lock()
        self._next_retry: datetime | None = None  # the soonest retry this worker scheduled

    def wake(self) -> None:
        """Called after a commit that recorded activity, so its deliveries leave now, not at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        failures = PassFailures(logger, "webhook pass failed")
        try:
            while True:
                try:
                    await self.start_due()
                except Exception:  # a database hiccup must not stop the sender for good
                    failures.failed()
                else:
                    failures.succeeded()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._pause())
                self._wake.clear()
        finally:
            await self._stop_attempts()

    def _pause(self) -> float:
        """Until the next poll, or sooner when a retry this worker scheduled falls due before it."""
        if self._next_retry is None:
            return self.poll_seconds
        wait = (self._next_retry - utcnow()).total_seconds()
        if wait <= self.poll_seconds:
            self._next_retry = None
        return max(0.0, min(wait, self.poll_seconds))

    async def start_due(self) -> int:
        """Claim the due deliveries this worker has room for and start their attempts; how many started."""
        async with self._one_pass:
            room = self.limits.total - len(self._attempts)
            if room <= 0 or not await self._anything_due():
                return 0
            jobs = await self._claim(room)
            for job in jobs:
                self._by_endpoint[job.endpoint_id] += 1
                self._by_organization[job.organization_id] += 1
                task = asyncio.create_task(self._attempt(job), name=f"webhook-{job.delivery_id}")
                self._attempts.add(task)
                task.add_done_callback(self._finished(job))
            return len(jobs)

    async def drain(self) -> None:
        """Attempt until nothing is due or in flight (for tests)."""
        while await self.start_due() or self._attempts:
            if self._attempts:
                await asyncio.wait(set(self._attempts), return_when=asyncio.FIRST_COMPLETED)

    def _finished(self, job: Job) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            self._attempts.discard(task)
            for counts, key in ((self._by_endpoint, job.endpoint_id), (self._by_organization, job.organization_id)):
                counts[key] -= 1
                if counts[key] <= 0:
                    del counts[key]
            self._wake.set()  # room for another attempt
        return done

    def _busy(self, counts: Counter[int], bound: int) -> list[int]:
        return [key for key, count in counts.items() if count >= bound]

    async def _anything_due(self) -> bool:
        async with self.read_session_factory() as session:
            found = await session.scalar(select(col(WebhookDelivery.id)).where(*due(utcnow())).limit(1))
            await session.commit()
        return found is not None

    async def _claim(self, room: int) -> list[Job]:
        now = utcnow()
        busy_endpoints = self._busy(self._by_endpoint, self.limits.per_endpoint)
        busy_organizations = self._busy(self._by_organization, self.limits.per_organization)
        conditions = [*due(now), col(WebhookDelivery.endpoint_id).not_in(busy_endpoints),
                      col(WebhookDelivery.organization_id).not_in(busy_organizations)]
        # At most per_endpoint of each endpoint, so that one endpoint's backlog does not fill the room.
        ranked = (select(col(WebhookDelivery.id).label("id"), func.row_number().over(
                      partition_by=col(WebhookDelivery.endpoint_id),
                      order_by=(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))).label("rank"))
                  .where(*conditions).subquery())
        candidates = select(ranked.c.id).where(ranked.c.rank <= self.limits.per_endpoint)
        locked = (select(col(WebhookDelivery.id)).where(col(WebhookDelivery.id).in_(candidates))
                  .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id)).limit(room)
                  .with_for_update(skip_locked=True))
        async with self.session_factory() as session:
            claimed = list(await session.scalars(
                update(WebhookDelivery).where(col(WebhookDelivery.id).in_(locked), *due(now))
                .values(claimed_until=now + LEASE).returning(WebhookDelivery)
                .execution_options(synchronize_session=False)))
            endpoints = {endpoint.id: endpoint for endpoint in await session.scalars(select(WebhookEndpoint).where(
                col(WebhookEndpoint.id).in_({delivery.endpoint_id for delivery in claimed})))}
            await session.commit()
        jobs = [Job(delivery_id=delivery.id or 0, organization_id=delivery.organization_id,
                    endpoint_id=delivery.endpoint_id, message_id=delivery.message_id, body=delivery.body.encode(),
                    attempts=delivery.attempts, url=endpoints[delivery.endpoint_id].url,
                    secrets=endpoints[delivery.endpoint_id].signing_secrets(now))
                for delivery in sorted(claimed, key=lambda row: (row.next_attempt_at or now, row.id or 0))
                if delivery.endpoint_id in endpoints]  # else deleted meanwhile, with its deliveries
        return await self._within_bounds(jobs)

    async def _within_bounds(self, jobs: list[Job]) -> list[Job]:
        """The jobs that fit the bounds; the few that a pass claimed past them are handed back at once."""
        by_endpoint, by_organization = Counter(self._by_endpoint), Counter(self._by_organization)
        kept, extra = [], []
        for job in jobs:
            if (by_endpoint[job.endpoint_id] < self.limits.per_endpoint
                    and by_organization[job.organization_id] < self.limits.per_organization):
                by_endpoint[job.endpoint_id] += 1
                by_organization[job.organization_id] += 1
                kept.append(job)
            else:
                extra.append(job)
        if extra:
            await self._release(job.delivery_id for job in extra)
        return kept

    async def _attempt(self, job: Job) -> None:
        try:
            outcome = await post(job, allow_private=self.settings.webhook_allow_private)
        except asyncio.CancelledError:  # shutdown: due again now, for this worker's successor or another
            await asyncio.shield(self._release([job.delivery_id]))
            raise
        except Exception as error:  # a bug must not leave the claim to run out silently
            logger.exception("webhook attempt %s failed unexpectedly", job.delivery_id)
            outcome = Outcome(None, readable(f"Not sent: {type(error).__name__}".encode()))
        try:
            await asyncio.shield(self._record(job, outcome))
        except Exception:  # the claim runs out and the delivery is tried again: late, not lost
            log_failure(logger, "could not record webhook attempt %s", job.delivery_id)

    async def _record(self, job: Job, outcome: Outcome) -> None:
        now = utcnow()
        attempts = job.attempts + 1
        delay = None if outcome.succeeded else retry_delay(attempts, self.settings.webhook_retry_seconds)
        status = (DeliveryStatus.SUCCEEDED if outcome.succeeded
                  else DeliveryStatus.PENDING if delay is not None else DeliveryStatus.FAILED)
        disabled = None
        async with self.session_factory() as session:
            await session.execute(
                update(WebhookDelivery).where(col(WebhookDelivery.id) == job.delivery_id)
                .values(status=status, attempts=attempts, last_attempt_at=now, claimed_until=None,
                        next_attempt_at=now + delay if delay is not None else None,
                        response_status=outcome.status, response_snippet=outcome.snippet)
                .execution_options(synchronize_session=False))
            if outcome.succeeded:
                await session.execute(update(WebhookEndpoint).where(
                    col(WebhookEndpoint.id) == job.endpoint_id, col(WebhookEndpoint.failing_since).is_not(None))
                    .values(failing_since=None).execution_options(synchronize_session=False))
            else:
                disabled = await self._note_failure(session, job, outcome, now)
            await session.commit()
        webhook_attempted("retrying" if status == DeliveryStatus.PENDING else status.lower())
        if delay is not None and (self._next_retry is None or now + delay < self._next_retry):
            self._next_retry = now + delay
        if disabled:
            logger.warning("webhook endpoint %s disabled: %s", job.endpoint_id, disabled)
            self.wake_mail()
        elif status == DeliveryStatus.FAILED:
            logger.warning("webhook delivery %s failed after %d attempts", job.delivery_id, attempts)

    async def _note_failure(self, session: SerialSession, job: Job, outcome: Outcome, now: datetime) -> str | None:
        """Note since when the endpoint fails; disable it (and email the owner) once that is too long ago."""
        await session.execute(update(WebhookEndpoint).where(
            col(WebhookEndpoint.id) == job.endpoint_id, col(WebhookEndpoint.failing_since).is_(None))
            .values(failing_since=now).execution_options(synchronize_session=False))
        hours = self.settings.webhook_disable_after_hours
        last = f"HTTP {outcome.status}" if outcome.status is not None else outcome.snippet
        reason = (f"Every delivery failed for {hours:g} hours (the last: {last})."[:500])
        disabled = await session.scalar(
            update(WebhookEndpoint).where(col(WebhookEndpoint.id) == job.endpoint_id, col(WebhookEndpoint.enabled),
                                          col(WebhookEndpoint.failing_since) <= now - timedelta(hours=hours))
            .values(enabled=False, disabled_reason=reason).returning(col(WebhookEndpoint.id))
            .execution_options(synchronize_session=False))
        if disabled is None:  # still within the hours, or another worker disabled it first
            return None
        organization = await session.get(Organization, job.organization_id)
        if organization is not None:
            await notify_webhook_endpoint_disabled(session, organization, url=job.url, reason=reason)
        return reason

    async def _release(self, delivery_ids: Iterable[int]) -> None:
        ids = list(delivery_ids)
        try:
            async with self.session_factory() as session:
                await session.execute(update(WebhookDelivery).where(
                    col(WebhookDelivery.id).in_(ids), col(WebhookDelivery.status) == DeliveryStatus.PENDING)
                    .values(claimed_until=None).execution_options(synchronize_session=False))
                await session.commit()
        except Exception:  # the claims run out in the end: late, not lost
            log_failure(logger, "could not release %d claimed webhook deliveries", len(ids))

    async def _stop_attempts(self) -> None:
        attempts = list(self._attempts)
        for task in attempts:
            task.cancel()
        await asyncio.gather(*attempts, return_exceptions=True)
