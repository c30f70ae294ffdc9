"""The background sender: delivers queued emails, retries with backoff, sends each once.

Rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers never send
the same email; SQLite has one writer at a time, which gives the same guarantee.
"""
import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select

from portal.models.columns import utcnow
from portal.models.outbox import OutboxEmail
from portal.notifications.delivery import build_message

logger = logging.getLogger("portal.mail")
MAX_BACKOFF_SECONDS = 30
BATCH = 20


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** attempts, MAX_BACKOFF_SECONDS))


class OutboxSender:
    def __init__(self, session_factory, delivery, *, mail_from: str, poll_seconds: float = 1.0) -> None:
        self.session_factory = session_factory
        self.delivery = delivery
        self.mail_from = mail_from
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit that queued mail, so it leaves now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                while await self.send_due() == BATCH:
                    pass
            except Exception:  # a database hiccup must not stop the sender for good
                logger.exception("outbox pass failed")
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    async def send_due(self) -> int:
        """Send one batch of due emails; return how many were claimed."""
        async with self.session_factory() as session:
            rows = list(await session.scalars(
                select(OutboxEmail)
                .where(OutboxEmail.sent_at.is_(None), OutboxEmail.next_attempt_at <= utcnow())
                .order_by(OutboxEmail.id).limit(BATCH)
                .with_for_update(skip_locked=True)
            ))
            for row in rows:
                await self._send(row)
            await session.commit()
            return len(rows)

    async def _send(self, row: OutboxEmail) -> None:
        try:
            await self.delivery.deliver(build_message(row, mail_from=self.mail_from))
        except Exception as error:  # noqa: BLE001 - any failure means: try again later
            row.attempts += 1
            row.next_attempt_at = utcnow() + backoff(row.attempts)
            row.last_error = f"{type(error).__name__}: {error}"[:1000]
            logger.warning("email %s to %s failed (attempt %d): %s", row.id, row.to_address, row.attempts, error)
        else:
            row.sent_at = utcnow()
