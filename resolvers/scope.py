"""Which customer a list or a view is about, by who asks."""
from portal.core.errors import BadUserInput, NotFound
from portal.core.ids import decode_id
from portal.models.customers import ContactPerson, get_customer


async def customer_filter(ctx, customer_id: str | None) -> int | None:
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


async def narrowed_to_customer(ctx, query, model, customer_id: str | None):
    """A list query narrowed to the customer of `customer_filter`, if there is one."""
    customer_pk = await customer_filter(ctx, customer_id)
    return query if customer_pk is None else query.where(model.customer_id == customer_pk)


async def customer_of_view(ctx, customer_id: str | None):
    """The customer a dashboard or statement is for; staff must name one."""
    principal = ctx.viewer
    if principal.is_staff and customer_id is None:
        raise BadUserInput("Staff must give a customerId.")
    return await get_customer(ctx.session, principal, await customer_filter(ctx, customer_id))


async def signed_in_contact(ctx) -> ContactPerson:
    """The contact person who asks; anyone else is refused."""
    principal = ctx.viewer
    return await ctx.session.get(ContactPerson, principal.contact_person_id)
