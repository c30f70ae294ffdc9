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
Tries still running in this worker count as failures, so parallel guesses gain nothing.
The identifier is normalised before it is hashed (portal_key), so that spellings of one email that
sign in to the same account share one count.
"""
import contextlib
import hashlib
import logging
import math
import unicodedata
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
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


_in_flight: Counter[str] = Counter()  # keys of the tries this worker is checking a password for


@contextlib.asynccontextmanager
async def attempt(session: AsyncSession, keys: AttemptKeys) -> AsyncIterator[None]:
    """Check that a try may go ahead (else RATE_LIMITED), and count it as a failure while it runs.

    A failure must be noted (note_failure) inside the block, so that no moment passes uncounted. The try
    counts as running before it is checked: of parallel tries, none can pass unseen by the others.
    """
    with _running(keys):
        await check_not_throttled(session, keys)
        yield


def _others_running(key: str) -> int:
    """Tries under `key` running in this worker besides the one being checked."""
    return max(0, _in_flight[key] - 1)


@contextlib.contextmanager
def _running(keys: AttemptKeys) -> Iterator[None]:
    _in_flight.update(keys.all())
    try:
        yield
    finally:
        _in_flight.subtract(keys.all())
        for key in keys.all():
            if _in_flight[key] <= 0:
                del _in_flight[key]


async def check_not_throttled(session: AsyncSession, keys: AttemptKeys) -> None:
    now = utcnow()
    waits = [wait for wait in (await _pair_wait(session, keys, now), await _address_wait(session, keys, now))
             if wait is not None]
    if waits:
        raise RateLimited(REFUSAL, retry_after=max(waits))


async def _pair_wait(session: AsyncSession, keys: AttemptKeys, now: datetime) -> int | None:
    """Seconds until this identifier may be tried from this address again; None: now."""
    running = _others_running(keys.pair)
    failures = await _latest(session, keys.pair, now, PER_PAIR)
    if running + len(failures) >= PER_PAIR:
        return _wait(failures, PER_PAIR - running, now)
    if running + len(failures) == 0:
        return None
    others = _others_running(keys.identifier)
    attacked = await _latest_nth(session, keys.identifier, UNDER_ATTACK - others, now)
    if attacked is None and others < UNDER_ATTACK:
        return None
    # Through when either lifts: this address's failures on it leave the window, or the attack subsides.
    mine = _wait(failures, 1, now) if failures else 1
    return min(mine, seconds_until_retry(attacked, now) if attacked else 1)


async def _address_wait(session: AsyncSession, keys: AttemptKeys, now: datetime) -> int | None:
    running = _others_running(keys.address)
    if running >= PER_ADDRESS:
        return 1
    blocking = await _latest_nth(session, keys.address, PER_ADDRESS - running, now)
    return None if blocking is None else seconds_until_retry(blocking, now)


def _wait(failures: list[datetime], needed: int, now: datetime) -> int:
    """Seconds until fewer than `needed` of these failures (latest first) are in the window; 1 while the
    refusal rests on tries still running."""
    if needed <= 0 or len(failures) < needed:
        return 1
    return seconds_until_retry(failures[needed - 1], now)


async def _latest(session: AsyncSession, key: str, now: datetime, limit: int) -> list[datetime]:
    return list(await session.scalars(
        select(col(FailedSignIn.failed_at))
        .where(col(FailedSignIn.account_key) == key, col(FailedSignIn.failed_at) > now - WINDOW)
        .order_by(col(FailedSignIn.failed_at).desc()).limit(limit)))


async def _latest_nth(session: AsyncSession, key: str, n: int, now: datetime) -> datetime | None:
    """The n-th latest failure under `key` in the window: while it is there, so are n failures."""
    if n <= 0:
        return None
    return await session.scalar(
        select(col(FailedSignIn.failed_at))
        .where(col(FailedSignIn.account_key) == key, col(FailedSignIn.failed_at) > now - WINDOW)
        .order_by(col(FailedSignIn.failed_at).desc()).offset(n - 1).limit(1))


def seconds_until_retry(blocking: datetime, now: datetime) -> int:
    """Whole seconds until `blocking` leaves the window and a try goes through again; at least 1."""
    return max(1, math.ceil((blocking + WINDOW - now).total_seconds()))


async def note_failure(session_factory: Callable[[], AsyncSession], keys: AttemptKeys) -> None:
    """Kept in a transaction of its own, an exception to the one-commit-per-mutation rule
    (schema/commit.py): the failed try's own transaction is rolled back, and the note must stay."""
    now = utcnow()
    async with session_factory() as session:
        session.add_all([FailedSignIn(account_key=key, failed_at=now) for key in keys.all()])
        await session.commit()
    await _forget_old_failures(session_factory, now)


async def _forget_old_failures(session_factory: Callable[[], AsyncSession], now: datetime) -> None:
    """Housekeeping, apart from the note: parallel failures deleting the same old rows may collide (a
    deadlock on PostgreSQL), and losing that race must neither lose a note nor fail the answer."""
    try:
        async with session_factory() as session:
            await session.execute(delete(FailedSignIn).where(col(FailedSignIn.failed_at) < now - WINDOW))
            await session.commit()
    except DBAPIError:
        logger.info("old failed sign-ins not deleted this time; a later failure will", exc_info=True)
