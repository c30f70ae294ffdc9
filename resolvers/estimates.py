"""Estimates: the owner drafts and sends them; the customer accepts or declines."""
from portal.ids import decode_id
from portal.models import estimates as rules
from portal.models.customers import get_customer
from portal.models.documents import as_drafts
from portal.models.estimates import Estimate, estimates_visible_to, get_estimate
from portal.models.invoices import InvoiceKind, create_invoice
from portal.resolvers.paging import newest_first
from portal.resolvers.scope import customer_filter


async def estimates(ctx, *, status, customer_id, first, after):
    principal = ctx.require_principal()
    query = estimates_visible_to(principal)
    customer_pk = await customer_filter(ctx, customer_id)
    if customer_pk is not None:
        query = query.where(Estimate.customer_id == customer_pk)
    if status is not None:
        query = query.where(rules.having_status(status, ctx.today))
    return await newest_first(ctx.session, query, Estimate, first=first, after=after)


async def create_estimate(ctx, *, customer_id, estimate_date, expiry_date, lines, send) -> Estimate:
    principal = ctx.require_staff()
    customer = await get_customer(ctx.session, principal, decode_id(customer_id, "Customer"))
    estimate = await rules.create_estimate(ctx.session, customer, today=ctx.today, estimate_date=estimate_date,
                                           expiry_date=expiry_date, lines=lines, send=send)
    await ctx.commit()
    return estimate


async def update_estimate(ctx, estimate_id, *, customer_id, estimate_date, expiry_date, lines) -> Estimate:
    principal = ctx.require_staff()
    estimate = await get_estimate(ctx.session, principal, decode_id(estimate_id, "Estimate"), for_update=True)
    customer = await get_customer(ctx.session, principal, decode_id(customer_id, "Customer"))
    await rules.update_estimate(ctx.session, estimate, customer, today=ctx.today, estimate_date=estimate_date,
                                expiry_date=expiry_date, lines=lines)
    await ctx.commit()
    return estimate


async def send_estimate(ctx, estimate_id) -> Estimate:
    principal = ctx.require_staff()
    estimate = await get_estimate(ctx.session, principal, decode_id(estimate_id, "Estimate"), for_update=True)
    rules.send_estimate(estimate, today=ctx.today)
    await ctx.commit()
    return estimate


async def convert_estimate_to_invoice(ctx, estimate_id):
    principal = ctx.require_staff()
    estimate = await get_estimate(ctx.session, principal, decode_id(estimate_id, "Estimate"), for_update=True)
    rules.mark_invoiced(estimate, today=ctx.today)
    customer = await get_customer(ctx.session, principal, estimate.customer_id)
    lines = as_drafts(await rules.estimate_lines(ctx.session, estimate))
    invoice = await create_invoice(ctx.session, customer, today=ctx.today, kind=InvoiceKind.STANDARD,
                                   invoice_date=None, due_date=None, lines=lines, payment_options=None,
                                   send=False, estimate_id=estimate.id)
    await ctx.commit()
    return invoice
