"""A contact person's access to the portal: DISABLED → INVITED → ACTIVE, and back to DISABLED.

Anyone may be invited again, whatever their state: an active person keeps their access and gets a
fresh link, a disabled one is invited anew. Only an active person signs in, and only an active
person is sent notices; the others are sent invitations.
"""
from datetime import timedelta

from sqlalchemy import ColumnElement, select
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.core.errors import Unauthenticated
from portal.models.auth import issue_invitation, revoke_invitations, revoke_sessions
from portal.models.customers import ContactPerson, PortalAccess
from portal.models.rows import saved_id

EXPIRED_INVITATION = "This invitation link is invalid or has expired."


def has_access(contact: ContactPerson) -> bool:
    """Signs in to the portal, and so is told about things rather than invited."""
    return contact.portal_access == PortalAccess.ACTIVE


def having_access() -> ColumnElement[bool]:
    """`has_access` as a condition of a query on contact persons."""
    return col(ContactPerson.portal_access) == PortalAccess.ACTIVE


def mark_invited(contact: ContactPerson) -> None:
    """An invitation leaves an active person active; anyone else waits for their answer."""
    if not has_access(contact):
        contact.portal_access = PortalAccess.INVITED


def accept_invitation(contact: ContactPerson, password_hash: str) -> None:
    """The invited person chose a password. A person disabled meanwhile is refused as an expired link is."""
    if contact.portal_access == PortalAccess.DISABLED:
        raise Unauthenticated(EXPIRED_INVITATION)
    contact.password_hash = password_hash
    contact.portal_access = PortalAccess.ACTIVE


def disable(contact: ContactPerson) -> None:
    contact.portal_access = PortalAccess.DISABLED


async def invite(session: AsyncSession, contact: ContactPerson, *, ttl: timedelta) -> str:
    """A fresh single-use invitation token for the person, who becomes INVITED unless ACTIVE."""
    token = await issue_invitation(session, organization_id=contact.organization_id,
                                   contact_person_id=saved_id(contact), ttl=ttl)
    mark_invited(contact)
    return token


async def disable_access(session: AsyncSession, contacts: list[ContactPerson]) -> None:
    """The persons lose access at once: their sessions end and their invitation links stop working."""
    for contact in contacts:
        disable(contact)
    ids = [saved_id(contact) for contact in contacts]
    await revoke_sessions(session, contact_person_ids=ids)
    await revoke_invitations(session, ids)


async def active_contacts_of(session: AsyncSession, customer_id: int) -> list[ContactPerson]:
    return list(await session.scalars(select(ContactPerson).where(col(ContactPerson.customer_id) == customer_id,
                                                                  having_access())))
