"""Who is asking: passwords, bearer-token sessions and portal invitations."""
import asyncio
import hashlib
import os
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession
from portal.core.errors import Unauthenticated
from portal.models.columns import UTCDateTime, utcnow
from portal.models.passwords import check_password_rules

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the email is unknown, so that a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
# argon2 takes ~150 ms of CPU and releases the GIL: it runs here, never on the event loop, at most one
# hash per core at a time; more sign-ins wait their turn while the loop keeps serving everything else.
HASHING_THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
_hashing_pool = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="argon2")


@dataclass(frozen=True)
class Principal:
    """The signed-in staff member or contact person of one request."""

    organization_id: int
    session_id: int
    staff_user_id: int | None = None
    contact_person_id: int | None = None
    customer_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.staff_user_id is not None

    @property
    def is_contact(self) -> bool:
        return self.contact_person_id is not None

    def contact_ids(self) -> tuple[int, int]:
        """The customer and the contact person of a contact person's request; asking it of staff is a
        programming error (the field's permissions keep staff out)."""
        if self.customer_id is None or self.contact_person_id is None:
            raise ValueError("Only a contact person acts for a customer.")
        return self.customer_id, self.contact_person_id


def bound_principal(*, is_contact: bool) -> Principal:
    """A principal of a kind whose ids are bound parameters, named as `principal_params` names them.

    A statement that the `*_visible_to` functions build for it is the statement they build for any principal
    of that kind, with the same filters: built once, kept, and executed with each request's values.
    """
    def bound(name: str) -> int:
        return cast("int", bindparam(name))

    if is_contact:
        return Principal(organization_id=bound("organization_id"), session_id=0,
                         contact_person_id=bound("contact_person_id"), customer_id=bound("customer_id"))
    return Principal(organization_id=bound("organization_id"), session_id=0, staff_user_id=bound("staff_user_id"))


def principal_params(principal: Principal) -> dict[str, int | None]:
    """The values of a `bound_principal`'s parameters for this principal."""
    return {"organization_id": principal.organization_id, "staff_user_id": principal.staff_user_id,
            "contact_person_id": principal.contact_person_id, "customer_id": principal.customer_id}


class LoginSession(SQLModel, table=True):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "sessions"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    staff_user_id: int | None = Field(default=None, foreign_key="staff_users.id", index=True)
    contact_person_id: int | None = Field(default=None, foreign_key="contact_persons.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Invitation(SQLModel, table=True):
    __tablename__ = "invitations"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    contact_person_id: int = Field(foreign_key="contact_persons.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def hash_password(password: str) -> str:
    """The argon2 hash of a password that passed the rules of models/passwords.py, computed off the loop."""
    check_password_rules(password)  # a last guard: callers check every rule, with the email, before
    return await asyncio.get_running_loop().run_in_executor(_hashing_pool, _hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; without a hash, the same argon2 work is done and the answer is no.

    Callers check the sign-in throttle first (models/throttle.py): only admitted tries cost a hash.
    """
    return await asyncio.get_running_loop().run_in_executor(_hashing_pool, _verify, password_hash, password)


def _hash(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str]:
    """A random 256-bit token and the hash that is stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # what new_token makes: 32 bytes, URL-safe base64


def is_token_shaped(token: str) -> bool:
    return _TOKEN_SHAPE.fullmatch(token) is not None


class TokenProblem(StrEnum):
    """Why a bearer token that was sent signs nobody in. Its sender is told (`extensions.reason`); telling
    EXPIRED needs the token itself (its hash matches an ended session), so it helps nobody guess one."""

    MALFORMED = "MALFORMED"
    UNKNOWN = "UNKNOWN"
    EXPIRED = "EXPIRED"


_TOKEN_PROBLEM_MESSAGES = {
    TokenProblem.MALFORMED: "The Authorization header must be 'Bearer <token>', with a token from a sign-in.",
    TokenProblem.UNKNOWN: "This token is not known here; sign in to get one.",
    TokenProblem.EXPIRED: "This token's session has ended (it expired or was signed out); sign in again.",
}


def token_refused(problem: TokenProblem | None) -> Unauthenticated:
    """UNAUTHENTICATED for a request without a principal: what is wrong with its token, or that it sent none."""
    if problem is None:
        return Unauthenticated()
    return Unauthenticated(_TOKEN_PROBLEM_MESSAGES[problem], reason=problem.value)


class SessionSpan(Protocol):
    """When a session ends: what `session_has_ended` reads, of a LoginSession or of a row of its columns."""

    @property
    def expires_at(self) -> datetime: ...
    @property
    def revoked_at(self) -> datetime | None: ...


def session_has_ended(login: SessionSpan, now: datetime) -> bool:
    """Expired, or revoked (by logout, a password change or a withdrawn portal access)."""
    return login.revoked_at is not None or login.expires_at <= now


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(session: AsyncSession, *, organization_id: int, ttl: timedelta,
                       staff_user_id: int | None = None,
                       contact_person_id: int | None = None) -> tuple[str, LoginSession]:
    token, token_hash = new_token()
    login = LoginSession(organization_id=organization_id, token_hash=token_hash, staff_user_id=staff_user_id,
                         contact_person_id=contact_person_id, expires_at=utcnow() + ttl)
    session.add(login)
    await session.flush()
    return token, login


async def revoke_sessions(session: AsyncSession, *, staff_user_id: int | None = None,
                          contact_person_ids: list[int] | None = None,
                          except_session_id: int | None = None) -> None:
    statement = update(LoginSession).where(col(LoginSession.revoked_at).is_(None)).values(revoked_at=utcnow())
    if staff_user_id is not None:
        statement = statement.where(col(LoginSession.staff_user_id) == staff_user_id)
    else:
        statement = statement.where(col(LoginSession.contact_person_id).in_(contact_person_ids or []))
    if except_session_id is not None:
        statement = statement.where(col(LoginSession.id) != except_session_id)
    await session.execute(statement)


async def revoke_session(session: AsyncSession, session_id: int) -> None:
    await session.execute(
        update(LoginSession).where(col(LoginSession.id) == session_id).values(revoked_at=utcnow())
    )


async def issue_invitation(session: AsyncSession, *, organization_id: int, contact_person_id: int,
                           ttl: timedelta) -> str:
    """A fresh single-use invitation token; older ones of the same person stop working."""
    await session.execute(
        update(Invitation)
        .where(col(Invitation.contact_person_id) == contact_person_id, col(Invitation.used_at).is_(None),
               col(Invitation.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    token, token_hash = new_token()
    session.add(Invitation(organization_id=organization_id, contact_person_id=contact_person_id,
                           token_hash=token_hash, expires_at=utcnow() + ttl))
    await session.flush()
    return token


async def usable_invitation(session: AsyncSession, token: str, *, lock: bool = False) -> Invitation:
    """The invitation of a token that may still be used; an unknown, used, revoked or expired token is refused alike."""
    query = select(Invitation).where(col(Invitation.token_hash) == hash_token(token))
    invitation = await session.scalar(query.with_for_update() if lock else query)
    if invitation is None or invitation.used_at or invitation.revoked_at or invitation.expires_at <= utcnow():
        raise Unauthenticated("This invitation link is invalid or has expired.")
    return invitation


async def redeem_invitation(session: AsyncSession, token: str) -> Invitation:
    """Use an invitation once, checked again under its row lock: of parallel uses, one succeeds."""
    invitation = await usable_invitation(session, token, lock=True)
    invitation.used_at = utcnow()
    return invitation


async def revoke_invitations(session: AsyncSession, contact_person_ids: list[int]) -> None:
    await session.execute(
        update(Invitation)
        .where(col(Invitation.contact_person_id).in_(contact_person_ids), col(Invitation.used_at).is_(None),
               col(Invitation.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
