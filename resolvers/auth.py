"""Signing in and out, for staff and contact persons."""
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import select
from sqlmodel import col

from portal.core.errors import BadUserInput, InputCheck, Unauthenticated
from portal.models import access
from portal.models.auth import (
    check_new_password,
    hash_password,
    open_session,
    redeem_invitation,
    revoke_session,
    revoke_sessions,
    verify_password,
)
from portal.models.customers import ContactPerson, normalize_email
from portal.models.organizations import Organization, StaffUser
from portal.models.rows import saved_id
from portal.models.throttle import account_key, check_not_throttled, note_failure
from portal.notifications import events
from portal.resolvers.context import Context
from portal.resolvers.scope import signed_in_person

WRONG_CREDENTIALS = "Wrong email or password."


@dataclass
class SignedIn:
    token: str
    expires_at: datetime
    person: StaffUser | ContactPerson


def _email_or_none(email: str) -> str | None:
    try:
        return normalize_email(email)
    except BadUserInput:
        return None


async def _note_failure(ctx: Context, key: str) -> None:
    await ctx.session.rollback()  # the request fails: end its transaction before writing the note
    await note_failure(ctx.services.session_factory, key)


async def _refuse(ctx: Context, key: str) -> NoReturn:
    await _note_failure(ctx, key)
    raise Unauthenticated(WRONG_CREDENTIALS)


async def staff_login(ctx: Context, *, email: str, password: str) -> SignedIn:
    key = account_key("staff", email)
    await check_not_throttled(ctx.session, key)
    address = _email_or_none(email)
    staff = None if address is None else await ctx.session.scalar(
        select(StaffUser).where(col(StaffUser.email) == address))
    # verify_password runs argon2 even without a user, so both failures take as long.
    if not verify_password(staff.password_hash if staff else None, password) or staff is None:
        await _refuse(ctx, key)
    token, login = await open_session(ctx.session, organization_id=staff.organization_id, ttl=ctx.session_ttl,
                                      staff_user_id=staff.id)
    return SignedIn(token=token, expires_at=login.expires_at, person=staff)


async def login(ctx: Context, *, portal_name: str, email: str, password: str) -> SignedIn:
    key = account_key("contact", portal_name, email)
    await check_not_throttled(ctx.session, key)
    address = _email_or_none(email)
    contact = None if address is None else await ctx.session.scalar(
        select(ContactPerson)
        .join(Organization, col(Organization.id) == ContactPerson.organization_id)
        .where(col(Organization.portal_name) == portal_name, col(ContactPerson.email) == address,
               access.having_access())
    )
    if not verify_password(contact.password_hash if contact else None, password) or contact is None:
        await _refuse(ctx, key)
    return await _open_contact_session(ctx, contact)


async def _open_contact_session(ctx: Context, contact: ContactPerson) -> SignedIn:
    token, login = await open_session(ctx.session, organization_id=contact.organization_id, ttl=ctx.session_ttl,
                                      contact_person_id=contact.id)
    return SignedIn(token=token, expires_at=login.expires_at, person=contact)


async def accept_invite(ctx: Context, *, token: str, password: str) -> SignedIn:
    check = InputCheck()
    with check.field("password"):
        password_hash = hash_password(password)  # a short password is refused before the token is spent
    check.done()
    invitation = await redeem_invitation(ctx.session, token)
    contact = await ctx.session.get(ContactPerson, invitation.contact_person_id)
    if contact is None:  # the person was removed since: their link leads nowhere
        raise Unauthenticated(access.EXPIRED_INVITATION)
    access.accept_invitation(contact, password_hash)
    await events.invite_accepted(ctx.session, contact)
    return await _open_contact_session(ctx, contact)


async def logout(ctx: Context) -> bool:
    principal = ctx.viewer
    await revoke_session(ctx.session, principal.session_id)
    return True


async def change_password(ctx: Context, *, current_password: str, new_password: str) -> bool:
    """Set a new password; every other session of the person ends."""
    principal = ctx.viewer
    key = account_key("session", str(principal.session_id))
    await check_not_throttled(ctx.session, key)
    person = await signed_in_person(ctx)
    check = InputCheck()
    if not verify_password(person.password_hash, current_password):
        await _note_failure(ctx, key)
        check.add("current_password", "The current password is wrong.")
    with check.field("new_password"):
        check_new_password(new_password)
    check.done()
    person.password_hash = hash_password(new_password)
    if isinstance(person, StaffUser):
        await revoke_sessions(ctx.session, staff_user_id=person.id, except_session_id=principal.session_id)
    else:
        await revoke_sessions(ctx.session, contact_person_ids=[saved_id(person)],
                              except_session_id=principal.session_id)
    return True


async def viewer(ctx: Context) -> StaffUser | ContactPerson | None:
    principal = ctx.principal
    if principal is None:
        if ctx.token_problem is not None:
            raise ctx.not_signed_in()  # a client that sent a bad token learns it, rather than read "nobody"
        return None
    if principal.is_staff:
        return await ctx.session.get(StaffUser, principal.staff_user_id)
    return await ctx.session.get(ContactPerson, principal.contact_person_id)
