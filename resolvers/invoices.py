"""Invoices: the owner creates, sends and voids them."""
from datetime import date

from sqlmodel import col

from portal.core.ids import decode_id
from portal.models import invoices as rules
from portal.models.customers import get_customer
from portal.models.documents import LineDraft
from portal.models.invoices import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    PaymentMethodKind,
    get_invoice,
    invoices_visible_to,
)
from portal.notifications import customer_updates as updates
from portal.resolvers.context import Context
from portal.resolvers.paging import Page, newest_first
from portal.resolvers.scope import narrowed_to_customer


async def invoices(ctx: Context, *, status: InvoiceStatus | None, statuses: list[InvoiceStatus] | None,
                   kind: InvoiceKind | None, customer_id: str | None, first: int | None,
                   after: str | None) -> Page[Invoice]:
    """Each filter given narrows the list: `status` and `statuses` together keep what both allow."""
    principal = ctx.viewer
    query = await narrowed_to_customer(ctx, invoices_visible_to(principal), Invoice, customer_id)
    if status is not None:
        query = query.where(rules.having_status(status, ctx.today))
    if statuses:
        query = query.where(rules.having_any_status(statuses, ctx.today))
    if kind is not None:
        query = query.where(col(Invoice.kind) == kind)
    return await newest_first(ctx.session, query, Invoice, first=first, after=after)


async def create_invoice(ctx: Context, *, customer_id: str, kind: InvoiceKind, invoice_date: date | None,
                         due_date: date | None, lines: list[LineDraft],
                         payment_options: list[PaymentMethodKind] | None, send: bool) -> Invoice:
    principal = ctx.viewer
    customer = await get_customer(ctx.session, principal, decode_id(customer_id, "Customer"))
    invoice = await rules.create_invoice(ctx.session, customer, today=ctx.today, kind=kind,
                                         invoice_date=invoice_date, due_date=due_date, lines=lines,
                                         payment_options=payment_options, send=send)
    if invoice.status != InvoiceStatus.DRAFT:
        await updates.document_sent(ctx.session, invoice)
    return invoice


async def _invoice_for_staff(ctx: Context, invoice_id: str) -> Invoice:
    principal = ctx.viewer
    return await get_invoice(ctx.session, principal, decode_id(invoice_id, "Invoice"), for_update=True)


async def send_invoice(ctx: Context, invoice_id: str) -> Invoice:
    invoice = await _invoice_for_staff(ctx, invoice_id)
    was_draft = invoice.status == InvoiceStatus.DRAFT
    rules.send_invoice(invoice)
    if was_draft:
        await updates.document_sent(ctx.session, invoice)
    return invoice


async def void_invoice(ctx: Context, invoice_id: str) -> Invoice:
    invoice = await _invoice_for_staff(ctx, invoice_id)
    was = invoice.status
    rules.void_invoice(invoice)
    if was not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):  # a draft was never in the portal
        await updates.document_changed(ctx.session, invoice, "was voided")
    return invoice
