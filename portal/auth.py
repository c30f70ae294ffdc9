"""Turning a bearer token into the principal of a request."""
from sqlalchemy import select

from portal.models.auth import LoginSession, Principal, find_live_session
from portal.models.customers import ContactPerson, PortalAccess
from portal.models.organizations import Organization


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def authenticate(session, authorization: str | None) -> tuple[Principal | None, Organization | None]:
    """The principal and organization of a live session; (None, None) for no or a dead token."""
    token = bearer_token(authorization)
    if token is None:
        return None, None
    login = await find_live_session(session, token)
    if login is None:
        return None, None
    return await principal_of(session, login)


async def principal_of(session, login: LoginSession) -> tuple[Principal | None, Organization | None]:
    organization = await session.get(Organization, login.organization_id)
    if login.staff_user_id is not None:
        return Principal(organization_id=login.organization_id, session_id=login.id,
                         staff_user_id=login.staff_user_id), organization
    customer_id = await session.scalar(
        select(ContactPerson.customer_id).where(
            ContactPerson.id == login.contact_person_id, ContactPerson.portal_access == PortalAccess.ACTIVE
        )
    )
    if customer_id is None:
        return None, None
    return Principal(organization_id=login.organization_id, session_id=login.id,
                     contact_person_id=login.contact_person_id, customer_id=customer_id), organization
