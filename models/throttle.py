"""Slowing down password guessing: failed sign-ins per account, counted over a window."""
import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlmodel import Field, SQLModel, col

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


async def check_not_throttled(session, key: str) -> None:
    failures = await session.scalar(select(func.count()).select_from(FailedSignIn).where(
        col(FailedSignIn.account_key) == key, col(FailedSignIn.failed_at) > utcnow() - WINDOW))
    if failures >= MAX_FAILURES:
        raise RateLimited("Too many failed sign-ins. Wait 15 minutes, then try again.")


async def note_failure(session_factory, key: str) -> None:
    """Kept in a transaction of its own, an exception to the one-commit-per-mutation rule
    (schema/commit.py): the failed sign-in's own transaction is rolled back, and the note must stay."""
    async with session_factory() as session:
        session.add(FailedSignIn(account_key=key))
        await session.execute(delete(FailedSignIn).where(col(FailedSignIn.failed_at) < utcnow() - WINDOW))
        await session.commit()
