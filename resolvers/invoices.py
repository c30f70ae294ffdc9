"""Invoices: the owner creates, sends and voids them."""
import functools
from datetime import date
from typing import Any, cast

from sqlalchemy import Date, Select, bindparam
from sqlmodel import col

from portal.core.ids import decode_id
from portal.models import invoices as rules
from portal.models.auth import bound_principal, principal_params
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
from portal.resolvers.paging import Page, first_page_statement, newest_first, newest_first_columns
from portal.resolvers.scope import customer_filter


async def invoices(ctx: Context, *, status: InvoiceStatus | None, statuses: list[InvoiceStatus] | None,
                   kind: InvoiceKind | None, customer_id: str | None, first: int | None,
                   after: str | None) -> Page[Invoice]:
    """Each filter given narrows the list: `status` and `statuses` together keep what both allow."""
    principal = ctx.viewer
    customer_pk = await customer_filter(ctx, customer_id)
    query, first_page = _listing(principal.is_contact, customer_pk is not None, status,
                                 tuple(dict.fromkeys(statuses or ())), kind is not None)
    params = {**principal_params(principal), "listed_customer_id": customer_pk, "today": ctx.today, "kind": kind}
    return await newest_first(ctx.session, query, Invoice, first=first, after=after, params=params,
                              first_page=first_page)


@functools.lru_cache(maxsize=256)
def _listing(for_contact: bool, one_customer: bool, status: InvoiceStatus | None,
             statuses: tuple[InvoiceStatus, ...], of_kind: bool) -> tuple[Select[Invoice], Select[Any]]:
    """The list query of `invoices` for these filters, and its first page, built once: every value is a bound
    parameter (`bound_principal`, then `listed_customer_id`, `today` and `kind`)."""
    query = invoices_visible_to(bound_principal(is_contact=for_contact))
    if one_customer:
        query = query.where(col(Invoice.customer_id) == bindparam("listed_customer_id"))
    today = cast("date", bindparam("today", type_=Date))
    if status is not None:
        query = query.where(rules.having_status(status, today))
    if statuses:
        query = query.where(rules.having_any_status(list(statuses), today))
    if of_kind:
        query = query.where(col(Invoice.kind) == bindparam("kind"))
    return query, first_page_statement(query, newest_first_columns(Invoice))


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
