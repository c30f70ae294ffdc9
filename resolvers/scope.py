"""Who asks, and which customer a list or a view is about for them."""
from typing import TypeVar

from sqlalchemy import Select
from sqlmodel import col

from portal.core.errors import BadUserInput, Forbidden, NotFound, Unauthenticated
from portal.core.ids import decode_id
from portal.models.customers import ContactPerson, Customer, get_customer
from portal.models.estimates import Estimate
from portal.models.invoices import Invoice
from portal.models.organizations import StaffUser
from portal.models.payments import Payment
from portal.resolvers.context import Context

Listed = TypeVar("Listed", Estimate, Invoice, Payment)


async def customer_filter(ctx: Context, customer_id: str | None) -> int | None:
    """The customer to narrow a list to: a contact's own always; for staff the one named, if any.

    A customer id of another organization, or another customer's for a contact person,
    answers NOT_FOUND like a missing one.
    """
    principal = ctx.viewer
    if principal.is_contact:
        if customer_id is not None and decode_id(customer_id, "Customer") != principal.customer_id:
            raise NotFound("Customer")
        return principal.customer_id
    if customer_id is None:
        return None
    customer = await get_customer(ctx.session, principal, decode_id(customer_id, "Customer"))
    return customer.id


async def narrowed_to_customer(ctx: Context, query: Select[Listed], model: type[Listed],
                               customer_id: str | None) -> Select[Listed]:
    """A list query narrowed to the customer of `customer_filter`, if there is one."""
    customer_pk = await customer_filter(ctx, customer_id)
    return query if customer_pk is None else query.where(col(model.customer_id) == customer_pk)


async def customer_pk_of_view(ctx: Context, customer_id: str | None) -> int:
    """The primary key of the customer a dashboard or statement is for; staff must name one."""
    customer_pk = await customer_filter(ctx, customer_id)  # a contact person's own always, without a query
    if customer_pk is None:
        raise BadUserInput("Staff must give a customerId.")
    return customer_pk


async def customer_of_view(ctx: Context, customer_id: str | None) -> Customer:
    """The customer a dashboard or statement is for; staff must name one."""
    return await get_customer(ctx.session, ctx.viewer, await customer_pk_of_view(ctx, customer_id))


async def signed_in_person(ctx: Context) -> StaffUser | ContactPerson:
    """The staff member or contact person who asks."""
    principal = ctx.viewer
    person: StaffUser | ContactPerson | None
    if principal.is_staff:
        person = await ctx.session.get(StaffUser, principal.staff_user_id)
    else:
        person = await ctx.session.get(ContactPerson, principal.contact_person_id)
    if person is None:  # their session outlived them: nobody is signed in
        raise Unauthenticated()
    return person


async def signed_in_contact(ctx: Context) -> ContactPerson:
    """The contact person who asks; anyone else is refused."""
    person = await signed_in_person(ctx)
    if not isinstance(person, ContactPerson):
        raise Forbidden("Only a contact person signed in to the portal may do this.")
    return person
