"""The background sender: delivers queued emails, retries with backoff, sends each once.

Each pass claims a few due emails in one short statement that moves their next attempt a lease
into the future (FOR UPDATE SKIP LOCKED on PostgreSQL, so that workers neither wait for each
other nor claim the same row; on SQLite the claiming UPDATE holds the write lock). The emails
are then handed to the mail server with no transaction open, and each outcome is recorded at
once: sent, or tried again after a backoff capped at 30 s, or (a message that cannot be built, which
no retry mends) failed for good, logged once and never claimed again. Holding the claim's transaction
across the sends instead would keep row locks and a pooled connection (on SQLite: the write lock
of the whole database) for as long as a slow or unreachable mail server takes.

A sender stopped mid-pass (shutdown) makes its unsent emails due again at once; a worker that
dies leaves them to be sent when the lease runs out. An email goes twice only if its worker
stopped after the server took it and before it was marked sent; its stable Message-ID lets the
receiving side drop the copy.
"""
import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

import aiosmtplib
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col

from portal.core.database import SerialSession
from portal.models.columns import utcnow
from portal.models.outbox import FAILED_FOR_GOOD, OutboxEmail
from portal.models.rows import saved_id
from portal.notifications.delivery import Delivery, UnbuildableEmail, build_message
from portal.ops.outage import PassFailures, log_failure

logger = logging.getLogger("portal.mail")
MAX_BACKOFF_SECONDS = 30.0
BATCH = 10
SEND_TIMEOUT_SECONDS = 60.0
LEASE = timedelta(seconds=BATCH * SEND_TIMEOUT_SECONDS + 60)


# A 5xx answer (no such mailbox, policy) will not change in 30 s: such an email is kept and
# tried hourly rather than hammered, and logged as an error for someone to look at.
PERMANENT_RETRY = timedelta(hours=1)


def is_permanent(error: Exception) -> bool:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= refusal.code < 600 for refusal in error.recipients)
    return isinstance(error, aiosmtplib.SMTPResponseException) and 500 <= error.code < 600


def backoff(attempts: int, cap_seconds: float = MAX_BACKOFF_SECONDS) -> timedelta:
    return timedelta(seconds=min(2 ** attempts, cap_seconds))


class OutboxSender:
    def __init__(self, session_factory: async_sessionmaker[SerialSession], delivery: Delivery, *, mail_from: str,
                 poll_seconds: float = 1.0, max_backoff_seconds: float = MAX_BACKOFF_SECONDS) -> None:
        self.session_factory = session_factory
        self.delivery = delivery
        self.mail_from = mail_from
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self._wake = asyncio.Event()
        # One pass at a time in this process: a caller of send_due() returns only once the
        # emails claimed before it are delivered (or rescheduled).
        self._one_pass = asyncio.Lock()

    def wake(self) -> None:
        """Called after a commit that queued mail, so it leaves now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        failures = PassFailures(logger, "outbox pass failed")
        while True:
            try:
                while await self.send_due() == BATCH:
                    pass
            except Exception:  # a database hiccup must not stop the sender for good
                failures.failed()
            else:
                failures.succeeded()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()

    async def send_due(self) -> int:
        """Send one batch of due emails; return how many were claimed."""
        async with self._one_pass:
            emails = await self._claim_due()
            pending = list(emails)
            try:
                while pending:
                    await self._send(pending[0])
                    pending.pop(0)
            finally:
                if pending:  # stopped mid-batch (shutdown, a database error): the rest are due again now
                    await asyncio.shield(self._release(pending))
            return len(emails)

    async def _release(self, emails: list[OutboxEmail]) -> None:
        try:
            async with self.session_factory() as session:
                await session.execute(update(OutboxEmail)
                                      .where(col(OutboxEmail.id).in_([email.id for email in emails]),
                                             col(OutboxEmail.sent_at).is_(None),
                                             col(OutboxEmail.next_attempt_at) < FAILED_FOR_GOOD)
                                      .values(next_attempt_at=utcnow())
                                      .execution_options(synchronize_session=False))
                await session.commit()
        except Exception:  # the lease runs out in the end: they are late, not lost
            log_failure(logger, "could not release %d claimed emails", len(emails))

    async def _claim_due(self) -> list[OutboxEmail]:
        now = utcnow()
        due = (select(col(OutboxEmail.id))
               .where(col(OutboxEmail.sent_at).is_(None), col(OutboxEmail.next_attempt_at) <= now)
               .order_by(col(OutboxEmail.id)).limit(BATCH)
               .with_for_update(skip_locked=True))
        async with self.session_factory() as session:
            claimed = await session.scalars(
                update(OutboxEmail)
                .where(col(OutboxEmail.id).in_(due), col(OutboxEmail.sent_at).is_(None),
                       col(OutboxEmail.next_attempt_at) <= now)
                .values(next_attempt_at=now + LEASE)
                .returning(OutboxEmail)
                .execution_options(synchronize_session=False))
            emails = sorted(claimed, key=saved_id)
            await session.commit()
        return emails

    async def _send(self, email: OutboxEmail) -> None:
        try:
            message = build_message(email, mail_from=self.mail_from)
        except UnbuildableEmail as error:
            # No retry can mend it: given up for good and logged once, never tried again every 30 s.
            await self._record(email, attempts=email.attempts + 1, next_attempt_at=FAILED_FOR_GOOD,
                               last_error=f"Cannot be built: {error}"[:1000])
            logger.error("email %s to %s cannot be built and will not be sent: %s", email.id, email.to_address, error)
            return
        try:
            await asyncio.wait_for(self.delivery.deliver(message), SEND_TIMEOUT_SECONDS)
        except Exception as error:
            attempts = email.attempts + 1
            delay = PERMANENT_RETRY if is_permanent(error) else backoff(attempts, self.max_backoff_seconds)
            await self._record(email, attempts=attempts, next_attempt_at=utcnow() + delay,
                               last_error=f"{type(error).__name__}: {error}"[:1000])
            log = logger.error if is_permanent(error) else logger.warning
            log("email %s to %s failed (attempt %d): %s", email.id, email.to_address, attempts, error)
        else:
            await self._record(email, sent_at=utcnow())

    async def _record(self, email: OutboxEmail, **outcome: int | str | datetime) -> None:
        async with self.session_factory() as session:
            await session.execute(update(OutboxEmail).where(col(OutboxEmail.id) == email.id).values(**outcome)
                                  .execution_options(synchronize_session=False))
            await session.commit()
