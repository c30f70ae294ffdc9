"""Turning a bearer token into the principal of a request, in one query."""
from sqlalchemy import select

from portal.models.auth import LoginSession, Principal, hash_token
from portal.models.columns import utcnow
from portal.models.customers import ContactPerson, PortalAccess
from portal.models.organizations import Organization


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def authenticate(session, authorization: str | None) -> tuple[Principal | None, Organization | None]:
    """The principal and organization of a live session; (None, None) for no, a dead or a revoked token.

    A contact person counts only while their access is ACTIVE: disabling it ends their sessions.
    """
    token = bearer_token(authorization)
    if token is None:
        return None, None
    row = (await session.execute(
        select(LoginSession, Organization, ContactPerson.customer_id, ContactPerson.portal_access)
        .join(Organization, Organization.id == LoginSession.organization_id)
        .outerjoin(ContactPerson, ContactPerson.id == LoginSession.contact_person_id)
        .where(LoginSession.token_hash == hash_token(token), LoginSession.revoked_at.is_(None),
               LoginSession.expires_at > utcnow())
    )).first()
    if row is None:
        return None, None
    login, organization, customer_id, access = row
    if login.staff_user_id is not None:
        return Principal(organization_id=organization.id, session_id=login.id,
                         staff_user_id=login.staff_user_id), organization
    if access != PortalAccess.ACTIVE:
        return None, None
    return Principal(organization_id=organization.id, session_id=login.id, contact_person_id=login.contact_person_id,
                     customer_id=customer_id), organization
