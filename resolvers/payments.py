"""Payments: lists for both sides; offline payments recorded by the owner."""
from portal.core.errors import NotFound
from portal.core.ids import decode_id
from portal.models.columns import utcnow
from portal.models.invoices import get_invoice
from portal.models.payment_methods import SavedPaymentMethod, payment_methods_of
from portal.models.payments import Payment, payments_visible_to, record_offline_payment
from portal.resolvers import checkout
from portal.resolvers.paging import newest_first
from portal.resolvers.scope import narrowed_to_customer


async def payments(ctx, *, customer_id, first, after):
    principal = ctx.require_principal()
    query = await narrowed_to_customer(ctx, payments_visible_to(principal), Payment, customer_id)
    return await newest_first(ctx.session, query, Payment, first=first, after=after)


async def record_payment(ctx, *, invoice_id, amount, payment_date, reference) -> Payment:
    principal = ctx.require_staff()
    invoice = await get_invoice(ctx.session, principal, decode_id(invoice_id, "Invoice"), for_update=True)
    payment = await record_offline_payment(ctx.session, invoice, amount=amount,
                                           payment_date=payment_date or ctx.today, reference=reference)
    await ctx.commit()
    return payment


async def pay_invoices(ctx, *, invoice_ids, saved_payment_method_id, gateway_token, save_method,
                       idempotency_key) -> checkout.PayResult:
    principal = ctx.require_contact()
    pks = checkout.check_request(invoice_ids, idempotency_key)
    gateway = ctx.services.gateway
    token_details = await checkout.describe_token(gateway, gateway_token)
    source = await checkout.payment_source(ctx.session, principal, saved_payment_method_id=saved_payment_method_id,
                                           gateway_token=gateway_token, token_details=token_details)
    reserved = await checkout.reserve(ctx.session, ctx.principal, pks=pks, source=source, save_method=save_method,
                                      idempotency_key=idempotency_key, today=ctx.today)
    if isinstance(reserved, checkout.PayResult):
        return reserved
    outcome = await checkout.charge(gateway, reserved)
    result = await checkout.record(ctx.session, ctx.settings, reserved, outcome, token_details)
    await ctx.commit()
    return result


async def saved_payment_methods(ctx) -> list[SavedPaymentMethod]:
    principal = ctx.require_contact()
    return list(await ctx.session.scalars(payment_methods_of(principal).order_by(SavedPaymentMethod.id)))


async def remove_saved_payment_method(ctx, method_id: str) -> bool:
    principal = ctx.require_contact()
    method = await ctx.session.scalar(
        payment_methods_of(principal).where(SavedPaymentMethod.id == decode_id(method_id, "SavedPaymentMethod")))
    if method is None:
        raise NotFound("Saved payment method")
    method.removed_at = utcnow()
    await ctx.commit()
    return True
