"""Payments: lists for both sides; offline payments recorded by the owner."""
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlmodel import col

from portal.core.errors import NotFound
from portal.core.ids import decode_id
from portal.models.columns import utcnow
from portal.models.invoices import get_invoice
from portal.models.payment_methods import SavedPaymentMethod, payment_methods_of
from portal.models.payments import Payment, payments_visible_to, record_offline_payment
from portal.notifications import customer_updates as updates
from portal.resolvers.context import Context
from portal.resolvers.paging import Page, newest_first
from portal.resolvers.scope import narrowed_to_customer
from portal.services import checkout


async def payments(ctx: Context, *, customer_id: str | None, first: int | None,
                   after: str | None) -> Page[Payment]:
    principal = ctx.viewer
    query = await narrowed_to_customer(ctx, payments_visible_to(principal), Payment, customer_id)
    return await newest_first(ctx.session, query, Payment, first=first, after=after)


async def record_payment(ctx: Context, *, invoice_id: str, amount: Decimal, payment_date: date | None,
                         reference: str | None) -> Payment:
    principal = ctx.viewer
    invoice = await get_invoice(ctx.session, principal, decode_id(invoice_id, "Invoice"), for_update=True)
    payment = await record_offline_payment(ctx.session, invoice, amount=amount,
                                           payment_date=payment_date or ctx.today, reference=reference)
    await updates.payment_recorded(ctx.session, payment, [invoice])
    await updates.invoices_paid(ctx.session, [invoice])
    return payment


async def pay_invoices(ctx: Context, *, invoice_ids: Sequence[str], saved_payment_method_id: str | None,
                       gateway_token: str | None, save_method: bool, idempotency_key: str) -> checkout.PayResult:
    request = checkout.PayRequest(invoice_ids=invoice_ids, saved_payment_method_id=saved_payment_method_id,
                                  gateway_token=gateway_token, save_method=save_method,
                                  idempotency_key=idempotency_key)
    return await checkout.pay_invoices(ctx.services, ctx.session, ctx.viewer, request)


async def saved_payment_methods(ctx: Context) -> list[SavedPaymentMethod]:
    principal = ctx.viewer
    return list(await ctx.session.scalars(payment_methods_of(principal).order_by(col(SavedPaymentMethod.id))))


async def remove_saved_payment_method(ctx: Context, method_id: str) -> bool:
    principal = ctx.viewer
    method = await ctx.session.scalar(payment_methods_of(principal).where(
        col(SavedPaymentMethod.id) == decode_id(method_id, "SavedPaymentMethod")))
    if method is None:
        raise NotFound("Saved payment method")
    method.removed_at = utcnow()
    return True
