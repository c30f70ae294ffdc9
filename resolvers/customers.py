"""Customers and contact persons: the owner's side, and a contact person's own details."""
from collections.abc import Sequence

from sqlmodel import col

from portal.core.errors import BadUserInput
from portal.core.ids import bounded_int, decode_id
from portal.models import access
from portal.models.customers import (
    ContactPerson,
    Customer,
    get_contact_person,
    get_customer,
    search_customers,
    update_company,
    update_contact_details,
)
from portal.models.customers import (
    add_contact_person as add_contact,
)
from portal.models.customers import (
    create_customer as new_customer,
)
from portal.notifications import emails, events
from portal.resolvers.context import Context
from portal.resolvers.paging import Page, keyset_page
from portal.resolvers.scope import customer_of_view, signed_in_contact


async def customers(ctx: Context, *, search: str | None, first: int | None,
                    after: str | None) -> Page[Customer]:
    principal = ctx.viewer
    return await keyset_page(ctx.session, search_customers(principal, search),
                             columns=(col(Customer.display_name), col(Customer.id)), parsers=[str, bounded_int],
                             first=first, after=after, descending=False)


async def my_customer(ctx: Context) -> Customer:
    """A contact person's own customer."""
    return await customer_of_view(ctx, None)


async def customer_for_staff(ctx: Context, customer_id: str) -> Customer:
    principal = ctx.viewer
    return await get_customer(ctx.session, principal, decode_id(customer_id, "Customer"))


async def create_customer(ctx: Context, *, display_name: str, company_name: str | None, currency: str | None,
                          billing_address: dict[str, object] | None,
                          shipping_address: dict[str, object] | None) -> Customer:
    principal = ctx.viewer
    return await new_customer(ctx.session, principal, display_name=display_name, company_name=company_name,
                              currency=currency, billing_address=billing_address, shipping_address=shipping_address)


async def add_contact_person(ctx: Context, customer_id: str, *, first_name: str, last_name: str | None, email: str,
                             phone: str | None, mobile: str | None) -> ContactPerson:
    customer = await customer_for_staff(ctx, customer_id)
    return await add_contact(ctx.session, customer, first_name=first_name, last_name=last_name, email=email,
                             phone=phone, mobile=mobile)


async def set_ach_enabled(ctx: Context, customer_id: str, enabled: bool) -> Customer:
    customer = await customer_for_staff(ctx, customer_id)
    customer.ach_enabled = enabled
    return customer


async def _contacts_for_staff(ctx: Context, contact_person_ids: Sequence[str]) -> list[ContactPerson]:
    principal = ctx.viewer
    if not contact_person_ids:
        raise BadUserInput("Name at least one contact person.")
    ids = list(dict.fromkeys(decode_id(value, "ContactPerson") for value in contact_person_ids))
    return [await get_contact_person(ctx.session, principal, pk) for pk in ids]


async def enable_portal_access(ctx: Context, contact_person_ids: Sequence[str]) -> list[ContactPerson]:
    """Invite each person: INVITED, a fresh single-use token, an email with the link."""
    contacts = await _contacts_for_staff(ctx, contact_person_ids)
    for contact in contacts:
        await invite(ctx, contact)
    return contacts


async def invite(ctx: Context, contact: ContactPerson, *, document_label: str | None = None,
                 message: str | None = None, quoted_from: str | None = None) -> None:
    """Invite a contact person and queue the invitation, quoting `quoted_from`'s message; part of the caller's
    transaction."""
    token = await access.invite(ctx.session, contact, ttl=emails.invitation_ttl(ctx.settings))
    emails.queue_invitation(ctx.session, ctx.settings, await ctx.viewer_organization(), contact, token,
                              document_label=document_label, message=message, message_author=quoted_from)


async def disable_portal_access(ctx: Context, contact_person_ids: Sequence[str]) -> list[ContactPerson]:
    contacts = await _contacts_for_staff(ctx, contact_person_ids)
    await access.disable_access(ctx.session, contacts)
    return contacts


async def update_my_account(ctx: Context, changes: dict) -> ContactPerson:
    contact = await signed_in_contact(ctx)
    update_contact_details(contact, changes)
    return contact


async def update_company_details(ctx: Context, changes: dict) -> Customer:
    contact = await signed_in_contact(ctx)
    customer = await get_customer(ctx.session, ctx.viewer, contact.customer_id)
    update_company(customer, changes)
    await events.details_updated(ctx.session, customer, contact)
    await emails.notify_details_updated(ctx.session, ctx.settings, await ctx.viewer_organization(), customer,
                                          contact=contact, changed=list(changes))
    return customer
