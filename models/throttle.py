"""Slowing down password guessing without letting anyone lock a victim out.

A failed try (a wrong email or password, an invalid invitation link, a wrong current password) is
noted three times, each as a hash in `failed_sign_ins`, so that every worker sees it: under its
identifier and client address together, under the identifier, and under the address. A try is refused
(RATE_LIMITED, before any password is hashed) while, within the last WINDOW,
- its identifier and address together have PER_PAIR failures;
- its identifier has UNDER_ATTACK failures from anywhere and this address has failed on it: an account
  under attack gives the addresses that guessed wrong no more tries, yet one with no failure on it —
  its owner at home — still signs in with the right password;
- its address has PER_ADDRESS failures across all identifiers: a bar against credential stuffing, high
  enough for an office behind one NAT address.
A try counts as a failure from before its check until its password verifies, in the table every worker reads,
so parallel guesses gain nothing, however many workers share them (attempt()).
The identifier is normalised before it is hashed (portal_key), so that spellings of one email that
sign in to the same account share one count.
"""
import contextlib
import hashlib
import logging
import math
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput, RateLimited
from portal.models.columns import UTCDateTime, utcnow
from portal.models.customers import normalize_email

logger = logging.getLogger("portal.throttle")
WINDOW = timedelta(minutes=15)
PER_PAIR = 5
UNDER_ATTACK = 20
PER_ADDRESS = 1000
REFUSAL = "Too many failed attempts. Wait a little, then try again."


class FailedSignIn(SQLModel, table=True):
    __tablename__ = "failed_sign_ins"

    id: int | None = Field(default=None, primary_key=True)
    account_key: str = Field(max_length=64, index=True)  # a hash: the table never holds an address
    failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def account_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def email_identifier(email: str) -> str:
    """One spelling for every way of writing an address: compatibility forms folded (full-width letters,
    `．`), then normalised as sign-in looks it up (IDNA for the domain, so `。` is a dot, lower case)."""
    folded = unicodedata.normalize("NFKC", email)
    try:
        return normalize_email(folded)
    except BadUserInput:  # not an address: nobody signs in with it, but its guesses still count together
        return folded.strip().casefold()


@dataclass(frozen=True)
class AttemptKeys:
    """The three counts a try is checked against and a failure is noted under."""

    pair: str
    identifier: str
    address: str

    @classmethod
    def of(cls, identifier: str, address: str) -> "AttemptKeys":
        return cls(pair=account_key("pair", identifier, address), identifier=account_key("identifier", identifier),
                   address=account_key("address", address))

    def all(self) -> tuple[str, str, str]:
        return self.pair, self.identifier, self.address


def sign_in_keys(kind: str, *scope: str, email: str, address: str) -> AttemptKeys:
    """Keys of a sign-in: `kind` ("staff", "contact") and its scope (the portal name) with the normalised email."""
    return AttemptKeys.of("\x1f".join((kind, *(part.strip().lower() for part in scope), email_identifier(email))),
                          address)


def secret_keys(kind: str, secret: str, address: str) -> AttemptKeys:
    """Keys of a try at a secret (an invitation token, a session's current password): hashed, never stored."""
    return AttemptKeys.of(f"{kind}\x1f{hashlib.sha256(secret.encode()).hexdigest()}", address)


@dataclass
class Attempt:
    """A try let through: its failure rows are written already; `fail()` keeps them, else they go at its end."""

    keys: AttemptKeys
    row_ids: list[int]
    failed: bool = False

    def fail(self) -> None:
        self.failed = True


SessionFactory = Callable[[], AsyncSession]


@contextlib.asynccontextmanager
async def attempt(session_factory: SessionFactory, keys: AttemptKeys) -> AsyncIterator[Attempt]:
    """Check that a try may go ahead (else RATE_LIMITED), counting it as a failure, in the shared table, while it runs.

    The try's three rows are committed before the check reads the others' (each in a transaction of its own, an
    exception to the one-commit-per-mutation rule, schema/commit.py): of parallel tries in any number of workers,
    the n-th to commit sees the n - 1 before it, so no more than the limit get past. A refused try deletes its rows
    (it cost no hash); a try let through keeps them only if it calls `fail()` — a right password leaves no failure.
    """
    now = utcnow()
    row_ids = await _note_running(session_factory, keys, now)
    try:
        await _check_not_throttled(session_factory, keys, row_ids, now)
    except BaseException:
        await _delete_rows(session_factory, row_ids)
        raise
    running = Attempt(keys, row_ids)
    try:
        yield running
    finally:
        if running.failed:
            await _forget_old_failures(session_factory, now)
        else:
            await _delete_rows(session_factory, row_ids)


async def _note_running(session_factory: SessionFactory, keys: AttemptKeys, now: datetime) -> list[int]:
    async with session_factory() as session:
        rows = [FailedSignIn(account_key=key, failed_at=now) for key in keys.all()]
        session.add_all(rows)
        await session.flush()
        row_ids = [row.id for row in rows if row.id is not None]
        await session.commit()
    return row_ids


async def _delete_rows(session_factory: SessionFactory, row_ids: list[int]) -> None:
    """Take back a try's rows; should that fail (the database went away), they stay as a failure would."""
    try:
        async with session_factory() as session:
            await session.execute(delete(FailedSignIn).where(col(FailedSignIn.id).in_(row_ids)))
            await session.commit()
    except DBAPIError:
        logger.info("a sign-in try's rows were not deleted; they count as a failure", exc_info=True)


async def _check_not_throttled(session_factory: SessionFactory, keys: AttemptKeys, mine: list[int],
                               now: datetime) -> None:
    async with session_factory() as session:
        counts = Counts(session, mine, now)
        waits = [wait for wait in (await _pair_wait(counts, keys), await _address_wait(counts, keys))
                 if wait is not None]
    if waits:
        raise RateLimited(REFUSAL, retry_after=max(waits))


@dataclass
class Counts:
    """The failures (and tries still running) in the window, all but the asking try's own rows."""

    session: AsyncSession
    mine: list[int]
    now: datetime

    def _under(self, key: str) -> Select[datetime]:
        return (select(col(FailedSignIn.failed_at))
                .where(col(FailedSignIn.account_key) == key, col(FailedSignIn.failed_at) > self.now - WINDOW,
                       col(FailedSignIn.id).not_in(self.mine))
                .order_by(col(FailedSignIn.failed_at).desc()))

    async def latest(self, key: str, limit: int) -> list[datetime]:
        return list(await self.session.scalars(self._under(key).limit(limit)))

    async def nth_latest(self, key: str, n: int) -> datetime | None:
        """The n-th latest failure under `key` in the window: while it is there, so are n failures."""
        return await self.session.scalar(self._under(key).offset(n - 1).limit(1))


async def _pair_wait(counts: Counts, keys: AttemptKeys) -> int | None:
    """Seconds until this identifier may be tried from this address again; None: now."""
    failures = await counts.latest(keys.pair, PER_PAIR)
    if len(failures) >= PER_PAIR:
        return seconds_until_retry(failures[PER_PAIR - 1], counts.now)
    if not failures:
        return None
    attacked = await counts.nth_latest(keys.identifier, UNDER_ATTACK)
    if attacked is None:
        return None
    # Through when either lifts: this address's failures on it leave the window, or the attack subsides.
    return min(seconds_until_retry(failures[0], counts.now), seconds_until_retry(attacked, counts.now))


async def _address_wait(counts: Counts, keys: AttemptKeys) -> int | None:
    blocking = await counts.nth_latest(keys.address, PER_ADDRESS)
    return None if blocking is None else seconds_until_retry(blocking, counts.now)


def seconds_until_retry(blocking: datetime, now: datetime) -> int:
    """Whole seconds until `blocking` leaves the window and a try goes through again; at least 1."""
    return max(1, math.ceil((blocking + WINDOW - now).total_seconds()))


async def _forget_old_failures(session_factory: SessionFactory, now: datetime) -> None:
    """Housekeeping, apart from the note: parallel failures deleting the same old rows may collide (a
    deadlock on PostgreSQL), and losing that race must neither lose a note nor fail the answer."""
    try:
        async with session_factory() as session:
            await session.execute(delete(FailedSignIn).where(col(FailedSignIn.failed_at) < now - WINDOW))
            await session.commit()
    except DBAPIError:
        logger.info("old failed sign-ins not deleted this time; a later failure will", exc_info=True)
