"""Turning the Authorization header into the principal of a request, in one query."""
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.core.errors import Unauthenticated
from portal.models.auth import (
    LoginSession,
    Principal,
    TokenProblem,
    hash_token,
    is_token_shaped,
    session_has_ended,
    token_refused,
)
from portal.models.columns import utcnow
from portal.models.customers import ContactPerson, PortalAccess
from portal.models.organizations import Organization


@dataclass(frozen=True)
class Authentication:
    """Who the Authorization header signs in; or, when it carries a token that signs in nobody, why not."""

    principal: Principal | None = None
    organization: Organization | None = None
    problem: TokenProblem | None = None

    def refusal(self) -> Unauthenticated:
        return token_refused(self.problem)


ANONYMOUS = Authentication()

# Built once: a request pays only for the compiled statement's cache lookup. The session's own columns are
# read as a row, and only the organization, which resolvers use throughout, as an object.
SIGNED_IN: Select[*tuple[Any, ...]] = (
    select(col(LoginSession.id), col(LoginSession.organization_id), col(LoginSession.staff_user_id),
           col(LoginSession.contact_person_id), col(LoginSession.expires_at), col(LoginSession.revoked_at),
           Organization,
           col(ContactPerson.customer_id), col(ContactPerson.portal_access).label("access"))
    .join(Organization, col(Organization.id) == LoginSession.organization_id)
    .outerjoin(ContactPerson, col(ContactPerson.id) == LoginSession.contact_person_id)
    .where(col(LoginSession.token_hash) == bindparam("token_hash"))
)


def bearer_token(authorization: str) -> str | None:
    """The token of `Bearer <token>` (the scheme in any case, as HTTP allows); None for anything else."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and is_token_shaped(token) else None


async def authenticate(session: AsyncSession, authorization: str | None) -> Authentication:
    """The principal and organization of a live session; anonymous without a header (or an empty one, as
    clients send when they hold no token); otherwise why the token signs in nobody.

    A contact person counts only while their access is ACTIVE: disabling it ends their sessions.
    """
    if not authorization or not authorization.strip():
        return ANONYMOUS
    token = bearer_token(authorization)
    if token is None:
        return Authentication(problem=TokenProblem.MALFORMED)
    row = (await session.execute(SIGNED_IN, {"token_hash": hash_token(token)})).first()
    if row is None:
        return Authentication(problem=TokenProblem.UNKNOWN)
    login, organization = row, row.Organization
    if session_has_ended(login, utcnow()) or (login.staff_user_id is None and login.access != PortalAccess.ACTIVE):
        return Authentication(problem=TokenProblem.EXPIRED)
    if login.staff_user_id is not None:
        principal = Principal(organization_id=login.organization_id, session_id=login.id,
                              staff_user_id=login.staff_user_id)
    else:
        principal = Principal(organization_id=login.organization_id, session_id=login.id,
                              contact_person_id=login.contact_person_id, customer_id=login.customer_id)
    return Authentication(principal=principal, organization=organization)
