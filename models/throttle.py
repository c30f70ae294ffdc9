"""Slowing down password guessing: failed sign-ins per account, counted over a window."""
import hashlib
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession
from portal.core.errors import RateLimited
from portal.models.columns import UTCDateTime, utcnow

WINDOW = timedelta(minutes=15)
MAX_FAILURES = 10


class FailedSignIn(SQLModel, table=True):
    __tablename__ = "failed_sign_ins"

    id: int | None = Field(default=None, primary_key=True)
    account_key: str = Field(max_length=64, index=True)  # a hash: the table never holds an address
    failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def account_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(part.strip().lower() for part in parts).encode()).hexdigest()


async def check_not_throttled(session: AsyncSession, key: str) -> None:
    now = utcnow()
    # The MAX_FAILURES-th latest failure in the window: while it is in the window, so are MAX_FAILURES failures.
    blocking = await session.scalar(
        select(col(FailedSignIn.failed_at))
        .where(col(FailedSignIn.account_key) == key, col(FailedSignIn.failed_at) > now - WINDOW)
        .order_by(col(FailedSignIn.failed_at).desc()).offset(MAX_FAILURES - 1).limit(1))
    if blocking is not None:
        raise RateLimited("Too many failed sign-ins. Wait 15 minutes, then try again.",
                          retry_after=seconds_until_retry(blocking, now))


def seconds_until_retry(blocking: datetime, now: datetime) -> int:
    """Whole seconds until `blocking` leaves the window and a try goes through again; at least 1."""
    return max(1, math.ceil((blocking + WINDOW - now).total_seconds()))


async def note_failure(session_factory: Callable[[], AsyncSession], key: str) -> None:
    """Kept in a transaction of its own, an exception to the one-commit-per-mutation rule
    (schema/commit.py): the failed sign-in's own transaction is rolled back, and the note must stay."""
    async with session_factory() as session:
        session.add(FailedSignIn(account_key=key))
        await session.execute(delete(FailedSignIn).where(col(FailedSignIn.failed_at) < utcnow() - WINDOW))
        await session.commit()
