"""Turning the Authorization header into the principal of a request, in one query.

A WebSocket connection signs in with its connection_init; a burst of them (clients reconnecting after a
deploy) is signed in by one query for them all (`SignInBurst`).
"""
import copy
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Row, Select, bindparam, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from portal.core.database import AsyncSession, SerialSession, read_rows
from portal.core.errors import Unauthenticated
from portal.core.shared_read import SharedRead
from portal.models.auth import (
    LoginSession,
    Principal,
    TokenProblem,
    hash_token,
    is_token_shaped,
    session_has_ended,
    token_refused,
)
from portal.models.columns import UTCDateTime, utcnow
from portal.models.customers import ContactPerson, PortalAccess
from portal.models.organizations import Organization


@dataclass(frozen=True)
class Authentication:
    """Who the Authorization header signs in; or, when it carries a token that signs in nobody, why not.

    `organization` is loaded with the sign-in only where the caller keeps it (a WebSocket connection, for
    hours); a request reads it when a resolver first asks (`Context.viewer_organization`), and most never do.
    """

    principal: Principal | None = None
    organization: Organization | None = None
    time_zone: str | None = None  # the organization's, for the request's "today"
    problem: TokenProblem | None = None

    def refusal(self) -> Unauthenticated:
        return token_refused(self.problem)


ANONYMOUS = Authentication()


class SignedIn(NamedTuple):
    """A row of SIGNED_IN, as asyncpg or SQLAlchemy gives it (by position)."""

    id: int
    organization_id: int
    staff_user_id: int | None
    contact_person_id: int | None
    customer_id: int | None
    ended: bool  # expired or revoked, as of the `now` it was read with
    access: str | None
    time_zone: str


def _sign_ins(*columns: Any) -> Select[*tuple[Any, ...]]:
    """Sessions with their ids, their contact's customer, then `columns`, joined to their organization and contact."""
    return (
        select(col(LoginSession.id), col(LoginSession.organization_id), col(LoginSession.staff_user_id),
               col(LoginSession.contact_person_id), col(ContactPerson.customer_id), *columns)
        .join(Organization, col(Organization.id) == LoginSession.organization_id)
        .outerjoin(ContactPerson, col(ContactPerson.id) == LoginSession.contact_person_id)
    )


# Built once, as plain columns: a request's sign-in is read by the driver (read_rows), without SQLAlchemy's
# execution and ORM layers, and whether the session has ended is worked out by the database, on the app's clock.
SIGNED_IN = _sign_ins(
    or_(col(LoginSession.revoked_at).is_not(None),
        col(LoginSession.expires_at) <= bindparam("now", type_=UTCDateTime)).label("ended"),
    col(ContactPerson.portal_access), col(Organization.time_zone),
).where(col(LoginSession.token_hash) == bindparam("token_hash"))
# A burst of WebSocket connections: each connection keeps its organization for as long as it stays open.
SIGNED_IN_ANY = _sign_ins(
    col(LoginSession.expires_at), col(LoginSession.revoked_at), Organization,
    col(ContactPerson.portal_access).label("access"), col(LoginSession.token_hash),
).where(col(LoginSession.token_hash).in_(bindparam("token_hashes", expanding=True)))


def bearer_token(authorization: str) -> str | None:
    """The token of `Bearer <token>` (the scheme in any case, as HTTP allows); None for anything else."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and is_token_shaped(token) else None


async def authenticate(session: AsyncSession, authorization: str | None) -> Authentication:
    """The principal of a live session and its organization's time zone; anonymous without a header (or an
    empty one, as clients send when they hold no token); otherwise why the token signs in nobody.

    A contact person counts only while their access is ACTIVE: disabling it ends their sessions.
    """
    if not authorization or not authorization.strip():
        return ANONYMOUS
    token = bearer_token(authorization)
    if token is None:
        return Authentication(problem=TokenProblem.MALFORMED)
    rows = await read_rows(session, SIGNED_IN, {"token_hash": hash_token(token), "now": utcnow()})
    if not rows:
        return Authentication(problem=TokenProblem.UNKNOWN)
    login = SignedIn(*rows[0])
    if login.ended:
        return Authentication(problem=TokenProblem.EXPIRED)
    return _signed_in(login, time_zone=login.time_zone)


def signed_in_by(login: Row[Any] | None, organization: Organization | None) -> Authentication:
    """Who a row of SIGNED_IN_ANY signs in; UNKNOWN without a row."""
    if login is None or organization is None:
        return Authentication(problem=TokenProblem.UNKNOWN)
    if session_has_ended(login, utcnow()):
        return Authentication(problem=TokenProblem.EXPIRED)
    return _signed_in(login, organization=organization, time_zone=organization.time_zone)


def _signed_in(login: SignedIn | Row[Any], *, time_zone: str,
               organization: Organization | None = None) -> Authentication:
    """The principal of a session that has not ended: staff, or a contact person whose access is ACTIVE."""
    if login.staff_user_id is not None:
        principal = Principal(organization_id=login.organization_id, session_id=login.id,
                              staff_user_id=login.staff_user_id)
    elif login.access == PortalAccess.ACTIVE:
        principal = Principal(organization_id=login.organization_id, session_id=login.id,
                              contact_person_id=login.contact_person_id, customer_id=login.customer_id)
    else:
        return Authentication(problem=TokenProblem.EXPIRED)
    return Authentication(principal=principal, organization=organization, time_zone=time_zone)


_ORGANIZATION = sa_inspect(Organization)


class SignInBurst:
    """`authenticate` for WebSocket connections, batched by token hash: the connections that ask before a
    read has begun share its one query; one that asks while a read is under way waits for a later read,
    begun after it asked (SharedRead).

    Each connection gets its own Organization object: one query loads one object per organization, and
    a connection's mutations (updateOrganization) change the object in its context, which no other
    connection, of another person perhaps, may see.
    """

    def __init__(self, session_factory: async_sessionmaker[SerialSession]) -> None:
        self.session_factory = session_factory
        self._rows: SharedRead[str, dict[str, Row[Any]]] = SharedRead(self._read)

    @property
    def reads(self) -> int:
        """Queries begun: with the connections signed in, how much is shared."""
        return self._rows.reads

    async def authenticate(self, authorization: str | None) -> Authentication:
        """As `authenticate`, read with the other connections that ask at the same moment."""
        if not authorization or not authorization.strip():
            return ANONYMOUS
        token = bearer_token(authorization)
        if token is None:
            return Authentication(problem=TokenProblem.MALFORMED)
        token_hash = hash_token(token)
        row = (await self._rows.ask(token_hash)).get(token_hash)
        return signed_in_by(row, None if row is None else own_copy(row.Organization))

    async def _read(self, token_hashes: set[str]) -> dict[str, Row[Any]]:
        async with self.session_factory() as session:
            result = await session.execute(SIGNED_IN_ANY, {"token_hashes": sorted(token_hashes)})
            return {row.token_hash: row for row in result.all()}


def own_copy(organization: Organization) -> Organization:
    """A detached Organization equal to `organization`, as a session of its own would have left it."""
    copied = _ORGANIZATION.class_manager.new_instance()
    for column in _ORGANIZATION.column_attrs:
        set_committed_value(copied, column.key, copy.deepcopy(getattr(organization, column.key)))
    make_transient_to_detached(copied)
    return copied
