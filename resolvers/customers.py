"""Customers and contact persons: the owner's side, and a contact person's own details."""
from portal.core.errors import BadUserInput, Forbidden
from portal.core.ids import bounded_int, decode_id
from portal.models.activity import ActivityKind
from portal.models.auth import issue_invitation, revoke_invitations, revoke_sessions
from portal.models.customers import (
    Customer,
    PortalAccess,
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
from portal.models.organizations import PortalSettings
from portal.notifications import messages
from portal.notifications.activity import record_activity
from portal.notifications.messages import notify_owner, portal_link
from portal.resolvers.paging import keyset_page
from portal.resolvers.scope import signed_in_contact


async def customers(ctx, *, search, first, after):
    principal = ctx.require_staff()
    return await keyset_page(ctx.session, search_customers(principal, search),
                             columns=(Customer.display_name, Customer.id), parsers=[str, bounded_int],
                             first=first, after=after, descending=False)


async def my_customer(ctx) -> Customer:
    principal = ctx.require_contact()
    return await get_customer(ctx.session, principal, principal.customer_id)


async def customer_for_staff(ctx, customer_id: str) -> Customer:
    principal = ctx.require_staff()
    return await get_customer(ctx.session, principal, decode_id(customer_id, "Customer"))


async def create_customer(ctx, **fields) -> Customer:
    principal = ctx.require_staff()
    customer = await new_customer(ctx.session, principal, **fields)
    await ctx.commit()
    return customer


async def add_contact_person(ctx, customer_id: str, **fields):
    customer = await customer_for_staff(ctx, customer_id)
    contact = await add_contact(ctx.session, customer, **fields)
    await ctx.commit()
    return contact


async def set_ach_enabled(ctx, customer_id: str, enabled: bool) -> Customer:
    customer = await customer_for_staff(ctx, customer_id)
    customer.ach_enabled = enabled
    await ctx.commit()
    return customer


async def _contacts_for_staff(ctx, contact_person_ids: list[str]):
    principal = ctx.require_staff()
    if not contact_person_ids:
        raise BadUserInput("Name at least one contact person.")
    ids = list(dict.fromkeys(decode_id(value, "ContactPerson") for value in contact_person_ids))
    return [await get_contact_person(ctx.session, principal, pk) for pk in ids]


async def enable_portal_access(ctx, contact_person_ids: list[str]):
    """Invite each person: INVITED, a fresh single-use token, an email with the link."""
    contacts = await _contacts_for_staff(ctx, contact_person_ids)
    for contact in contacts:
        await invite(ctx, contact)
    await ctx.commit()
    return contacts


async def invite(ctx, contact, *, document_label: str | None = None, message: str | None = None) -> None:
    """Put a contact person on INVITED and queue the invitation; part of the caller's transaction."""
    token = await issue_invitation(ctx.session, organization_id=contact.organization_id,
                                   contact_person_id=contact.id,
                                   ttl=messages.invitation_ttl(ctx.settings))
    if contact.portal_access != PortalAccess.ACTIVE:
        contact.portal_access = PortalAccess.INVITED
    messages.queue_invitation(ctx.session, ctx.settings, ctx.organization, contact, token,
                              document_label=document_label, message=message)


async def disable_portal_access(ctx, contact_person_ids: list[str]):
    contacts = await _contacts_for_staff(ctx, contact_person_ids)
    ids = [contact.id for contact in contacts]
    for contact in contacts:
        contact.portal_access = PortalAccess.DISABLED
    await revoke_sessions(ctx.session, contact_person_ids=ids)
    await revoke_invitations(ctx.session, ids)
    await ctx.commit()
    return contacts


async def _require_editing_allowed(ctx) -> None:
    settings = await ctx.session.get(PortalSettings, ctx.principal.organization_id)
    if not settings.allow_customers_to_edit_details:
        raise Forbidden("This portal does not let customers edit their details.")


async def update_my_account(ctx, changes: dict):
    contact = await signed_in_contact(ctx)
    await _require_editing_allowed(ctx)
    update_contact_details(contact, changes)
    await ctx.commit()
    return contact


async def update_company_details(ctx, changes: dict) -> Customer:
    contact = await signed_in_contact(ctx)
    await _require_editing_allowed(ctx)
    customer = await get_customer(ctx.session, ctx.principal, contact.customer_id)
    update_company(customer, changes)
    await record_activity(ctx.session, organization_id=customer.organization_id, kind=ActivityKind.DETAILS_UPDATED,
                          customer_id=customer.id, contact_person_id=contact.id, subject_type="Customer",
                          subject_id=customer.id,
                          summary=f"{contact.full_name} updated the details of {customer.display_name}")
    await notify_owner(ctx.session, ctx.organization,
                       subject=f"{contact.full_name} updated the details of {customer.display_name}",
                       paragraphs=[f"{contact.full_name} updated the company details of {customer.display_name}: "
                                   f"{', '.join(_labels(changes))}."],
                       link_url=portal_link(ctx.settings, ctx.organization, "/account"))
    await ctx.commit()
    return customer


def _labels(changes: dict) -> list[str]:
    names = {"company_name": "company name", "billing_address": "billing address",
             "shipping_address": "shipping address"}
    return [names[key] for key in changes] or ["nothing"]
