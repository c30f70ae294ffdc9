"""Signing in and out, for staff and contact persons."""
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import select
from sqlmodel import SQLModel, col

from portal.core.errors import BadUserInput, InputCheck, Unauthenticated
from portal.models import access, contact_sign_in
from portal.models.auth import (
    hash_password,
    open_session,
    redeem_invitation,
    revoke_session,
    revoke_sessions,
    verify_password,
)
from portal.models.customers import ContactPerson, normalize_email
from portal.models.organizations import StaffUser
from portal.models.passwords import check_new_password, check_not_the_email, check_password_rules
from portal.models.rows import saved_id
from portal.models.throttle import AttemptKeys, attempt, note_failure, secret_keys, sign_in_keys
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


async def _note_failure(ctx: Context, keys: AttemptKeys) -> None:
    await ctx.session.rollback()  # the request fails: end its transaction before writing the note
    await note_failure(ctx.services.session_factory, keys)


async def _refuse(ctx: Context, keys: AttemptKeys) -> NoReturn:
    await _note_failure(ctx, keys)
    raise Unauthenticated(WRONG_CREDENTIALS)


async def _end_transaction_keeping(ctx: Context, rows: list[SQLModel]) -> None:
    """End the request's transaction before argon2 runs, keeping the rows read usable: no database
    connection (nor SQLite's write lock) waits on a hash. `ctx.session.merge` takes a row back."""
    for row in rows:
        ctx.session.expunge(row)
    await ctx.session.rollback()


async def staff_login(ctx: Context, *, email: str, password: str) -> SignedIn:
    keys = sign_in_keys("staff", email=email, address=ctx.client_address)
    async with attempt(ctx.session, keys):  # RATE_LIMITED here, before any hash
        address = _email_or_none(email)
        found = None if address is None else await ctx.session.scalar(
            select(StaffUser).where(col(StaffUser.email) == address))
        await _end_transaction_keeping(ctx, [found] if found else [])
        # verify_password runs argon2 even without a user, so both failures take as long.
        if not await verify_password(found.password_hash if found else None, password) or found is None:
            await _refuse(ctx, keys)
    staff = await ctx.session.merge(found, load=False)
    token, login = await open_session(ctx.session, organization_id=staff.organization_id, ttl=ctx.session_ttl,
                                      staff_user_id=staff.id)
    return SignedIn(token=token, expires_at=login.expires_at, person=staff)


async def login(ctx: Context, *, portal_name: str, email: str, password: str,
                customer_id: str | None = None) -> SignedIn:
    """One email may be a contact of several customers: models/contact_sign_in.py says who signs in."""
    keys = sign_in_keys("contact", portal_name, email=email, address=ctx.client_address)
    async with attempt(ctx.session, keys):  # RATE_LIMITED here, before any hash
        customer_pk = contact_sign_in.chosen_customer(customer_id)
        address = _email_or_none(email)
        candidates = [] if address is None else await contact_sign_in.active_contacts_at(
            ctx.session, portal_name, address)
        await _end_transaction_keeping(ctx, list(candidates))
        # verify_password runs argon2 even without a contact, so an unknown address takes as long.
        verified = [contact for contact in candidates if await verify_password(contact.password_hash, password)]
        if not candidates:
            await verify_password(None, password)
        contact = await contact_sign_in.contact_signing_in(ctx.session, verified, customer_pk)
        if contact is None:
            await _refuse(ctx, keys)
    return await _open_contact_session(ctx, await ctx.session.merge(contact, load=False))


async def _open_contact_session(ctx: Context, contact: ContactPerson) -> SignedIn:
    token, login = await open_session(ctx.session, organization_id=contact.organization_id, ttl=ctx.session_ttl,
                                      contact_person_id=contact.id)
    return SignedIn(token=token, expires_at=login.expires_at, person=contact)


async def accept_invite(ctx: Context, *, token: str, password: str) -> SignedIn:
    """A new password for the invited person; their older sessions (opened with an older password) end."""
    check = InputCheck()
    with check.field("password"):
        check_password_rules(password)  # a short password is refused before the token is looked at or spent
    check.done()
    keys = secret_keys("invitation", token, ctx.client_address)
    async with attempt(ctx.session, keys):  # RATE_LIMITED here, before any hash
        try:
            invitation = await redeem_invitation(ctx.session, token)
        except Unauthenticated:
            await _note_failure(ctx, keys)
            raise
    contact = await ctx.session.get(ContactPerson, invitation.contact_person_id)
    if contact is None:  # the person was removed since: their link leads nowhere
        raise Unauthenticated(access.EXPIRED_INVITATION)
    with check.field("password"):
        check_not_the_email(password, contact.email)
    check.done()
    access.accept_invitation(contact, await hash_password(password))
    await revoke_sessions(ctx.session, contact_person_ids=[saved_id(contact)])
    await events.invite_accepted(ctx.session, contact)
    return await _open_contact_session(ctx, contact)


async def logout(ctx: Context) -> bool:
    principal = ctx.viewer
    await revoke_session(ctx.session, principal.session_id)
    return True


async def change_password(ctx: Context, *, current_password: str, new_password: str) -> bool:
    """Set a new password; every other session of the person ends."""
    principal = ctx.viewer
    keys = secret_keys("session", str(principal.session_id), ctx.client_address)
    async with attempt(ctx.session, keys):  # RATE_LIMITED here, before any hash
        person = await signed_in_person(ctx)
        email, check = person.email, InputCheck()  # the email is read before a failure's rollback expires it
        if not await verify_password(person.password_hash, current_password):
            await _note_failure(ctx, keys)
            check.add("current_password", "The current password is wrong.")
        with check.field("new_password"):
            check_new_password(new_password, email)
        check.done()
    person.password_hash = await hash_password(new_password)
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
