"""Signing in and out, for staff and contact persons."""
import contextlib
from collections.abc import AsyncIterator
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
    usable_invitation,
    verify_password,
)
from portal.models.customers import ContactPerson, normalize_email
from portal.models.organizations import StaffUser
from portal.models.passwords import check_new_password, check_not_the_email, check_password_rules
from portal.models.rows import saved_id
from portal.models.throttle import Attempt, AttemptKeys, attempt, secret_keys, sign_in_keys
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


@contextlib.asynccontextmanager
async def _throttled(ctx: Context, keys: AttemptKeys) -> AsyncIterator[Attempt]:
    """RATE_LIMITED here, before any hash; inside, the try counts as a failure for every worker until it ends
    without `fail()` (models/throttle.py). Its rows are written and taken back in sessions of their own, so the
    request's transaction ends before either (on SQLite an open one holds the write lock they wait for): what
    the block read is expired at its end."""
    await ctx.session.rollback()
    async with attempt(ctx.services.session_factory, keys) as running:
        try:
            yield running
        finally:
            await ctx.session.rollback()


async def _note_failure(ctx: Context, running: Attempt) -> None:
    await ctx.session.rollback()  # the request fails: nothing it did is kept, the try's failure rows are
    running.fail()


async def _refuse(ctx: Context, running: Attempt) -> NoReturn:
    await _note_failure(ctx, running)
    raise Unauthenticated(WRONG_CREDENTIALS)


async def _end_transaction_keeping(ctx: Context, rows: list[SQLModel]) -> None:
    """End the request's transaction before argon2 runs, keeping the rows read usable: no database
    connection (nor SQLite's write lock) waits on a hash. `ctx.session.merge` takes a row back."""
    for row in rows:
        ctx.session.expunge(row)
    await ctx.session.rollback()


async def staff_login(ctx: Context, *, email: str, password: str) -> SignedIn:
    keys = sign_in_keys("staff", email=email, address=ctx.client_address)
    async with _throttled(ctx, keys) as running:
        address = _email_or_none(email)
        found = None if address is None else await ctx.session.scalar(
            select(StaffUser).where(col(StaffUser.email) == address))
        await _end_transaction_keeping(ctx, [found] if found else [])
        # verify_password runs argon2 even without a user, so both failures take as long.
        if not await verify_password(found.password_hash if found else None, password) or found is None:
            await _refuse(ctx, running)
    staff = await ctx.session.merge(found, load=False)
    token, login = await open_session(ctx.session, organization_id=staff.organization_id, ttl=ctx.session_ttl,
                                      staff_user_id=staff.id)
    return SignedIn(token=token, expires_at=login.expires_at, person=staff)


async def login(ctx: Context, *, portal_name: str, email: str, password: str,
                customer_id: str | None = None) -> SignedIn:
    """One email may be a contact of several customers: models/contact_sign_in.py says who signs in."""
    keys = sign_in_keys("contact", portal_name, email=email, address=ctx.client_address)
    async with _throttled(ctx, keys) as running:
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
            await _refuse(ctx, running)
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
    async with _throttled(ctx, keys) as running:
        try:
            invited = (await usable_invitation(ctx.session, token)).contact_person_id
        except Unauthenticated:
            await _note_failure(ctx, running)
            raise
    with check.field("password"):
        check_not_the_email(password, (await _invited_contact(ctx, invited)).email)
    check.done()
    await _end_transaction_keeping(ctx, [])
    password_hash = await hash_password(password)  # with no transaction open; the link is spent only now
    contact = await _invited_contact(ctx, (await redeem_invitation(ctx.session, token)).contact_person_id)
    access.accept_invitation(contact, password_hash)
    await revoke_sessions(ctx.session, contact_person_ids=[saved_id(contact)])
    await events.invite_accepted(ctx.session, contact)
    return await _open_contact_session(ctx, contact)


async def _invited_contact(ctx: Context, contact_person_id: int) -> ContactPerson:
    contact = await ctx.session.get(ContactPerson, contact_person_id)
    if contact is None:  # the person was removed since: their link leads nowhere
        raise Unauthenticated(access.EXPIRED_INVITATION)
    return contact


async def logout(ctx: Context) -> bool:
    principal = ctx.viewer
    await revoke_session(ctx.session, principal.session_id)
    return True


async def change_password(ctx: Context, *, current_password: str, new_password: str) -> bool:
    """Set a new password; every other session of the person ends."""
    principal = ctx.viewer
    keys = secret_keys("session", str(principal.session_id), ctx.client_address)
    async with _throttled(ctx, keys) as running:
        person = await signed_in_person(ctx)
        email, current_hash, check = person.email, person.password_hash, InputCheck()
        await _end_transaction_keeping(ctx, [])  # argon2 runs with no transaction open
        if not await verify_password(current_hash, current_password):
            await _note_failure(ctx, running)
            check.add("current_password", "The current password is wrong.")
        with check.field("new_password"):
            check_new_password(new_password, email)
        check.done()
    new_hash = await hash_password(new_password)
    person = await signed_in_person(ctx)
    person.password_hash = new_hash
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
