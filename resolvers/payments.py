"""Payments: lists for both sides; offline payments recorded by the owner."""
from portal.ids import decode_id
from portal.models.invoices import get_invoice
from portal.models.payments import Payment, payments_visible_to, record_offline_payment
from portal.resolvers.paging import newest_first
from portal.resolvers.scope import customer_filter


async def payments(ctx, *, customer_id, first, after):
    principal = ctx.require_principal()
    query = payments_visible_to(principal)
    customer_pk = await customer_filter(ctx, customer_id)
    if customer_pk is not None:
        query = query.where(Payment.customer_id == customer_pk)
    return await newest_first(ctx.session, query, Payment, first=first, after=after)


async def record_payment(ctx, *, invoice_id, amount, payment_date, reference) -> Payment:
    principal = ctx.require_staff()
    invoice = await get_invoice(ctx.session, principal, decode_id(invoice_id, "Invoice"), for_update=True)
    payment = await record_offline_payment(ctx.session, invoice, amount=amount,
                                           payment_date=payment_date or ctx.today, reference=reference)
    await ctx.commit()
    return payment
