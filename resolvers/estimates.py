"""Estimates: the owner drafts and sends them; the customer accepts or declines."""
from portal.core.ids import decode_id
from portal.models import estimates as rules
from portal.models.activity import ActivityKind
from portal.models.customers import get_customer
from portal.models.documents import as_drafts
from portal.models.estimates import Estimate, estimates_visible_to, get_estimate
from portal.models.invoices import InvoiceKind, create_invoice
from portal.notifications.activity import record_activity
from portal.notifications.messages import document_link, notify_owner
from portal.resolvers.paging import newest_first
from portal.resolvers.scope import narrowed_to_customer, signed_in_contact


async def estimates(ctx, *, status, customer_id, first, after):
    principal = ctx.require_principal()
    query = await narrowed_to_customer(ctx, estimates_visible_to(principal), Estimate, customer_id)
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
    await rules.update_estimate(ctx.session, estimate, customer, estimate_date=estimate_date,
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


async def _answer(ctx, estimate_id, answer, *, kind: ActivityKind, verb: str, reason: str | None = None):
    contact = await signed_in_contact(ctx)
    estimate = await get_estimate(ctx.session, ctx.principal, decode_id(estimate_id, "Estimate"), for_update=True)
    answer(estimate)
    await record_activity(ctx.session, organization_id=estimate.organization_id, kind=kind,
                          customer_id=estimate.customer_id, contact_person_id=contact.id, subject_type="Estimate",
                          subject_id=estimate.id, summary=f"{contact.full_name} {verb} estimate {estimate.number}"
                          + (f": {reason}" if reason else ""))
    customer = await get_customer(ctx.session, ctx.principal, estimate.customer_id)
    await notify_owner(
        ctx.session, ctx.organization, subject=f"{contact.full_name} {verb} estimate {estimate.number}",
        paragraphs=[f"{contact.full_name} of {customer.display_name} {verb} estimate {estimate.number} "
                    f"({estimate.currency} {estimate.total:,.2f})."] + (["Their reason:"] if reason else []),
        quote=reason, link_url=document_link(ctx.settings, ctx.organization, estimate_id))
    await ctx.commit()
    return estimate


async def accept_estimate(ctx, estimate_id) -> Estimate:
    return await _answer(ctx, estimate_id, lambda estimate: rules.accept_estimate(estimate, today=ctx.today),
                         kind=ActivityKind.ESTIMATE_ACCEPTED, verb="accepted")


async def decline_estimate(ctx, estimate_id, *, reason: str | None) -> Estimate:
    return await _answer(ctx, estimate_id,
                         lambda estimate: rules.decline_estimate(estimate, today=ctx.today, reason=reason),
                         kind=ActivityKind.ESTIMATE_DECLINED, verb="declined", reason=reason)
