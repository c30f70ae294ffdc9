"""Estimates: the owner drafts and sends them; the customer accepts or declines."""
from datetime import date

from portal.core.ids import decode_id
from portal.models import estimates as rules
from portal.models.customers import ContactPerson, get_customer
from portal.models.documents import LineDraft, as_drafts
from portal.models.estimates import Estimate, EstimateStatus, estimates_visible_to, get_estimate
from portal.models.invoices import Invoice, InvoiceKind, create_invoice
from portal.notifications import customer_updates as updates
from portal.notifications import emails, events
from portal.resolvers.context import Context
from portal.resolvers.paging import Page, newest_first
from portal.resolvers.scope import narrowed_to_customer, signed_in_contact


async def estimates(ctx: Context, *, status: EstimateStatus | None, statuses: list[EstimateStatus] | None,
                    customer_id: str | None, first: int | None, after: str | None) -> Page[Estimate]:
    """Each filter given narrows the list: `status` and `statuses` together keep what both allow."""
    principal = ctx.viewer
    query = await narrowed_to_customer(ctx, estimates_visible_to(principal), Estimate, customer_id)
    if status is not None:
        query = query.where(rules.having_status(status, ctx.today))
    if statuses:
        query = query.where(rules.having_any_status(statuses, ctx.today))
    return await newest_first(ctx.session, query, Estimate, first=first, after=after)


async def create_estimate(ctx: Context, *, customer_id: str, estimate_date: date | None, expiry_date: date | None,
                          lines: list[LineDraft], send: bool) -> Estimate:
    principal = ctx.viewer
    customer = await get_customer(ctx.session, principal, decode_id(customer_id, "Customer"))
    estimate = await rules.create_estimate(ctx.session, customer, today=ctx.today, estimate_date=estimate_date,
                                           expiry_date=expiry_date, lines=lines, send=send)
    if estimate.status != EstimateStatus.DRAFT:
        await updates.document_sent(ctx.session, estimate)
    return estimate


async def update_estimate(ctx: Context, estimate_id: str, *, customer_id: str, estimate_date: date | None,
                          expiry_date: date | None, lines: list[LineDraft]) -> Estimate:
    principal = ctx.viewer
    estimate = await get_estimate(ctx.session, principal, decode_id(estimate_id, "Estimate"), for_update=True)
    customer = await get_customer(ctx.session, principal, decode_id(customer_id, "Customer"))
    was, shown_to = estimate.status, estimate.customer_id
    await rules.update_estimate(ctx.session, estimate, customer, estimate_date=estimate_date,
                                expiry_date=expiry_date, lines=lines)
    if was == EstimateStatus.DRAFT:  # never in a portal
        return estimate
    if estimate.status == EstimateStatus.DRAFT or estimate.customer_id != shown_to:  # gone from where it was
        await updates.estimate_withdrawn(ctx.session, estimate, customer_id=shown_to)
        if estimate.status != EstimateStatus.DRAFT:
            await updates.document_sent(ctx.session, estimate)  # now in the other customer's portal
    else:
        await updates.document_changed(ctx.session, estimate, "was changed")
    return estimate


async def send_estimate(ctx: Context, estimate_id: str) -> Estimate:
    principal = ctx.viewer
    estimate = await get_estimate(ctx.session, principal, decode_id(estimate_id, "Estimate"), for_update=True)
    was_draft = estimate.status == EstimateStatus.DRAFT
    rules.send_estimate(estimate, today=ctx.today)
    if was_draft:
        await updates.document_sent(ctx.session, estimate)
    return estimate


async def convert_estimate_to_invoice(ctx: Context, estimate_id: str) -> Invoice:
    principal = ctx.viewer
    estimate = await get_estimate(ctx.session, principal, decode_id(estimate_id, "Estimate"), for_update=True)
    rules.mark_invoiced(estimate, today=ctx.today)
    customer = await get_customer(ctx.session, principal, estimate.customer_id)
    lines = as_drafts(await rules.estimate_lines(ctx.session, estimate))
    invoice = await create_invoice(ctx.session, customer, today=ctx.today, kind=InvoiceKind.STANDARD,
                                   invoice_date=None, due_date=None, lines=lines, payment_options=None,
                                   send=False, estimate_id=estimate.id)
    await updates.document_changed(ctx.session, estimate, "was converted to an invoice")  # after INV: lock order
    return invoice


async def _estimate_to_answer(ctx: Context, estimate_id: str) -> tuple[ContactPerson, Estimate]:
    """The signed-in contact person, and the estimate they answer, locked."""
    contact = await signed_in_contact(ctx)
    estimate = await get_estimate(ctx.session, ctx.viewer, decode_id(estimate_id, "Estimate"), for_update=True)
    return contact, estimate


async def accept_estimate(ctx: Context, estimate_id: str) -> Estimate:
    contact, estimate = await _estimate_to_answer(ctx, estimate_id)
    rules.accept_estimate(estimate, today=ctx.today)
    await events.estimate_accepted(ctx.session, estimate, contact)
    customer = await get_customer(ctx.session, ctx.viewer, estimate.customer_id)
    await emails.notify_estimate_accepted(ctx.session, ctx.settings, await ctx.viewer_organization(), estimate,
                                            customer=customer, contact=contact)
    return estimate


async def decline_estimate(ctx: Context, estimate_id: str, *, reason: str | None) -> Estimate:
    contact, estimate = await _estimate_to_answer(ctx, estimate_id)
    rules.decline_estimate(estimate, today=ctx.today, reason=reason)
    await events.estimate_declined(ctx.session, estimate, contact, reason)
    customer = await get_customer(ctx.session, ctx.viewer, estimate.customer_id)
    await emails.notify_estimate_declined(ctx.session, ctx.settings, await ctx.viewer_organization(), estimate,
                                            customer=customer, contact=contact, reason=reason)
    return estimate
