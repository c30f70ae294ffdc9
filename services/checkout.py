"""Paying invoices online: reserve → charge → record (the order is explained in models/payment_attempts.py).

The one use case that commits by itself rather than through the commit-on-success rule of every
mutation (schema/commit.py): each step is its own transaction, so that no lock is held across the
gateway call and a crash after the charge leaves an attempt that `recover_stale_attempts` finishes.
"""
import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput, InputCheck, NotFound, PaymentFailed
from portal.core.gateway import (
    ChargeOutcome,
    GatewayUnavailable,
    InvalidToken,
    PaymentFailureCode,
    PaymentGateway,
    TokenDetails,
)
from portal.core.ids import decode_id
from portal.core.runtime import Services
from portal.core.settings import Settings
from portal.models.auth import Principal
from portal.models.customers import ContactPerson, Customer
from portal.models.invoices import Invoice, PaymentMethodKind, check_payable_online, invoices_visible_to
from portal.models.organizations import Organization, today_in
from portal.models.payment_attempts import (
    AttemptStatus,
    PaymentAttempt,
    check_replayable,
    find_attempt,
    fingerprint,
    finish,
    stale_attempts,
)
from portal.models.payment_methods import SavedPaymentMethod, payment_methods_of, remember_method
from portal.models.payments import Payment, payment_total, record_allocated_payment, settlement_in_full
from portal.notifications import customer_updates as updates
from portal.notifications import emails, events
from portal.notifications.publishing import commit_and_publish
from portal.ops.metrics import PAYMENT_ATTEMPTS, PAYMENT_RECOVERIES

logger = logging.getLogger("portal.payments")
MAX_INVOICES = 100
MAX_KEY = 200
# A charge call that has not come back after this long never will: its attempt is recovered.
STALE_AFTER = timedelta(minutes=2)
CHARGE_TIMEOUT = timedelta(seconds=30)


@dataclass(frozen=True)
class PaymentSource:
    kind: PaymentMethodKind
    source: str  # what the gateway charges: a token or a saved method's reference
    identity: str  # what makes two requests "the same method"


@dataclass(frozen=True)
class PayRequest:
    invoice_ids: Sequence[str]
    saved_payment_method_id: str | None
    gateway_token: str | None
    save_method: bool
    idempotency_key: str


@dataclass(frozen=True)
class PayResult:
    status: AttemptStatus
    payment: Payment | None
    failure_reason: str | None
    failure_code: PaymentFailureCode | None = None


async def pay_invoices(services: Services, session: AsyncSession, principal: Principal,
                       request: PayRequest) -> PayResult:
    """Pay the invoices once per idempotency key: the first result again for a repeated request."""
    pks = check_request(request.invoice_ids, request.idempotency_key)
    token_details = await describe_token(services.gateway, request.gateway_token)
    source = await payment_source(session, principal, saved_payment_method_id=request.saved_payment_method_id,
                                  gateway_token=request.gateway_token, token_details=token_details)
    reserved = await reserve(session, principal, pks=pks, source=source, save_method=request.save_method,
                             idempotency_key=request.idempotency_key)
    if isinstance(reserved, PayResult):
        PAYMENT_ATTEMPTS.labels(status="REPLAYED").inc()  # the first result again, or CONFLICT: no new charge
        return reserved
    try:
        outcome = await charge(services.gateway, reserved)
        result = await record(session, services.settings, reserved, outcome, token_details)
        await commit_and_publish(session, services)
    except BaseException:
        PAYMENT_ATTEMPTS.labels(status="UNFINISHED").inc()  # left to the recovery pass
        raise
    PAYMENT_ATTEMPTS.labels(status=str(result.status.value)).inc()
    return result


async def describe_token(gateway: PaymentGateway, gateway_token: str | None) -> TokenDetails | None:
    """Ask the gateway about a token; called while no transaction is open, as for any remote call."""
    if gateway_token is None:
        return None
    try:
        return await gateway.describe(gateway_token)
    except InvalidToken as error:
        raise BadUserInput(str(error), field="payment_method.gateway_token") from None


async def payment_source(session: AsyncSession, principal: Principal, *, saved_payment_method_id: str | None,
                         gateway_token: str | None, token_details: TokenDetails | None) -> PaymentSource:
    """`token_details` describe `gateway_token` (describe_token)."""
    if saved_payment_method_id is None and gateway_token is not None and token_details is not None:
        return PaymentSource(kind=PaymentMethodKind(token_details.kind), source=gateway_token,
                             identity=f"token:{gateway_token}")
    if saved_payment_method_id is None or gateway_token is not None:  # neither, or both
        raise BadUserInput("Give exactly one of savedPaymentMethodId and gatewayToken.", field="payment_method")
    pk = decode_id(saved_payment_method_id, "SavedPaymentMethod")
    method = await session.scalar(payment_methods_of(principal).where(col(SavedPaymentMethod.id) == pk))
    if method is None:
        raise NotFound("Saved payment method")
    return PaymentSource(kind=PaymentMethodKind(method.kind), source=method.gateway_reference,
                         identity=f"saved:{method.id}")


async def result_of(session: AsyncSession, attempt: PaymentAttempt) -> PayResult:
    payment = await session.get(Payment, attempt.payment_id) if attempt.payment_id else None
    code = None if attempt.failure_code is None else PaymentFailureCode(attempt.failure_code)
    return PayResult(status=AttemptStatus(attempt.status), payment=payment, failure_reason=attempt.failure_reason,
                     failure_code=code)


def check_request(invoice_ids: Sequence[str], idempotency_key: str) -> list[int]:
    check = InputCheck()
    if not 1 <= len(idempotency_key) <= MAX_KEY:
        check.add("idempotency_key", f"An idempotency key has 1 to {MAX_KEY} characters.")
    if not 1 <= len(invoice_ids) <= MAX_INVOICES:
        check.add("invoice_ids", f"Pay 1 to {MAX_INVOICES} invoices at once.")
    check.done()
    return list(dict.fromkeys(decode_id(invoice_id, "Invoice") for invoice_id in invoice_ids))


async def _locked_invoices(session: AsyncSession, principal: Principal, pks: list[int]) -> list[Invoice]:
    # Sorted, so that two payments of overlapping invoices lock them in the same order.
    rows = {row.id: row for row in await session.scalars(
        invoices_visible_to(principal).where(col(Invoice.id).in_(pks)).order_by(col(Invoice.id)).with_for_update())}
    if len(rows) != len(pks):
        raise NotFound("Invoice")
    return [rows[pk] for pk in pks]


async def reserve(session: AsyncSession, principal: Principal, *, pks: list[int], source: PaymentSource,
                  save_method: bool, idempotency_key: str) -> PaymentAttempt | PayResult:
    """Step 1: the attempt and its invoices' reservations, committed; or the earlier result of this key."""
    customer_id, contact_person_id = principal.contact_ids()
    request_fingerprint = fingerprint(pks, source.identity, save_method)
    earlier = await find_attempt(session, contact_person_id, idempotency_key)
    if earlier is not None:
        check_replayable(earlier, request_fingerprint)
        return await result_of(session, earlier)
    attempt = PaymentAttempt(
        organization_id=principal.organization_id, customer_id=customer_id,
        contact_person_id=contact_person_id, idempotency_key=idempotency_key,
        fingerprint=request_fingerprint, invoice_ids=",".join(map(str, pks)), amount=Decimal(0), currency="",
        method=source.kind, source=source.source, save_method=save_method)
    session.add(attempt)
    try:
        await session.flush()  # the unique key makes a concurrent twin wait here, then fail
    except IntegrityError:
        await session.rollback()
        earlier = await find_attempt(session, contact_person_id, idempotency_key)
        if earlier is None:  # not a concurrent twin: another constraint failed
            raise
        check_replayable(earlier, request_fingerprint)
        return await result_of(session, earlier)
    invoices = await _locked_invoices(session, principal, pks)
    customer = await session.get(Customer, customer_id)
    if customer is None:  # the payer's own customer: gone only if deleted meanwhile
        raise NotFound("Customer")
    check_payable_online(invoices, method=source.kind, ach_enabled=customer.ach_enabled)
    attempt.amount = payment_total(settlement_in_full(invoices))
    attempt.currency = invoices[0].currency
    for invoice in invoices:
        invoice.reserved_by_attempt_id = attempt.id
    await session.commit()
    return attempt


async def charge(gateway: PaymentGateway, attempt: PaymentAttempt) -> ChargeOutcome:
    """Step 2, outside any transaction. The key lets a retry or the recovery find this charge.

    The call is cut off well before STALE_AFTER, so that the recovery never judges an attempt
    whose charge may still be under way.
    """
    try:
        return await asyncio.wait_for(
            gateway.charge(source=attempt.source, amount=attempt.amount, currency=attempt.currency,
                           idempotency_key=attempt.gateway_key),
            CHARGE_TIMEOUT.total_seconds())
    except (GatewayUnavailable, TimeoutError):
        logger.warning("gateway unreachable for attempt %s; it will be recovered", attempt.id)
        raise PaymentFailed("The payment service could not be reached. Nothing was recorded; "
                            "retry later with the same idempotency key.") from None


async def record(session: AsyncSession, settings: Settings, attempt: PaymentAttempt, outcome: ChargeOutcome,
                 token_details: TokenDetails | None) -> PayResult:
    """Step 3: the charge's outcome and everything it causes, in one transaction the caller commits."""
    # populate_existing: read the row again, not the copy this session kept from step 1.
    attempt = (await session.scalars(select(PaymentAttempt).where(col(PaymentAttempt.id) == attempt.id)
                                     .with_for_update().execution_options(populate_existing=True))).one()
    if attempt.status != AttemptStatus.PENDING:  # recorded meanwhile by the recovery
        if outcome.succeeded and attempt.charge_id != outcome.charge_id:
            logger.critical("charge %s of attempt %s came back after the attempt was closed as %s: refund it",
                            outcome.charge_id, attempt.id, attempt.status)
        return await result_of(session, attempt)
    organization = await session.get(Organization, attempt.organization_id)
    contact = await session.get(ContactPerson, attempt.contact_person_id)
    if organization is None or contact is None:  # the payer's own rows: gone only if deleted meanwhile
        raise NotFound("Contact person")
    invoices = list(await session.scalars(
        select(Invoice).where(col(Invoice.id).in_(attempt.invoice_pks)).order_by(col(Invoice.id)).with_for_update()
        .execution_options(populate_existing=True)))
    for invoice in invoices:
        invoice.reserved_by_attempt_id = None
    if outcome.succeeded:
        await _record_success(session, settings, organization, contact, attempt, invoices, outcome, token_details)
    else:
        await _record_failure(session, contact, attempt, invoices, outcome)
    return await result_of(session, attempt)


async def _record_success(session: AsyncSession, settings: Settings, organization: Organization,
                          contact: ContactPerson, attempt: PaymentAttempt, invoices: list[Invoice],
                          outcome: ChargeOutcome, token_details: TokenDetails | None) -> None:
    by_id = {invoice.id: invoice for invoice in invoices}
    ordered = [by_id[pk] for pk in attempt.invoice_pks]
    payment = await record_allocated_payment(
        session, allocations=settlement_in_full(ordered),
        payment_date=today_in(organization), method=PaymentMethodKind(attempt.method), reference=outcome.charge_id,
        contact_person_id=contact.id)
    finish(attempt, status=AttemptStatus.SUCCEEDED, charge_id=outcome.charge_id, payment_id=payment.id)
    if attempt.save_method and token_details is not None:  # a saved method is saved already
        saved = await remember_method(session, organization_id=attempt.organization_id,
                                      contact_person_id=attempt.contact_person_id,
                                      kind=token_details.kind, brand=token_details.brand, last4=token_details.last4,
                                      exp_month=token_details.exp_month, exp_year=token_details.exp_year,
                                      reference=token_details.reusable_reference)
        attempt.saved_payment_method_id = saved.id
    await events.payment_received(session, payment, contact, ordered)
    # After the activity event: the lock order of both counters (notifications/customer_updates.py).
    await updates.payment_recorded(session, payment, ordered)
    await updates.invoices_paid(session, ordered)
    await emails.notify_payment_received(session, settings, organization, payment, contact=contact, invoices=ordered)
    emails.queue_receipt(session, settings, organization, payment, contact=contact, invoices=ordered)


async def _record_failure(session: AsyncSession, contact: ContactPerson, attempt: PaymentAttempt,
                          invoices: list[Invoice], outcome: ChargeOutcome) -> None:
    finish(attempt, status=AttemptStatus.FAILED, charge_id=outcome.charge_id,
           failure_reason=outcome.failure_reason or "The payment was declined.",
           failure_code=outcome.failure_code or PaymentFailureCode.CARD_DECLINED)
    first = next(invoice for invoice in invoices if invoice.id == attempt.invoice_pks[0])
    await events.payment_failed(session, attempt, contact, first)


async def _details_for_saving(gateway: PaymentGateway, attempt: PaymentAttempt) -> TokenDetails | None:
    try:
        return await gateway.describe(attempt.source) if attempt.save_method else None
    except InvalidToken:
        return None  # a saved method's reference: nothing new to save


async def recover_stale_attempts(services: Services) -> int:
    """Finish attempts a crash left pending: record the charge if the gateway made it, else fail them."""
    async with services.session_factory() as session:
        stale = await stale_attempts(session, STALE_AFTER)
    recovered = 0
    for attempt in stale:
        try:
            await _recover(services, attempt)
        except Exception:  # one attempt that cannot be recorded must not hold up the others
            logger.exception("payment attempt %s could not be recovered; it stays pending", attempt.id)
        else:
            recovered += 1
    return recovered


async def _recover(services: Services, attempt: PaymentAttempt) -> None:
    outcome = await services.gateway.find_charge(attempt.gateway_key) or ChargeOutcome(
        succeeded=False, failure_reason="The payment did not complete; nothing was charged.",
        failure_code=PaymentFailureCode.PROCESSING_ERROR)
    details = await _details_for_saving(services.gateway, attempt)
    async with services.session_factory() as session:
        await record(session, services.settings, attempt, outcome, details)
        await commit_and_publish(session, services)
    PAYMENT_RECOVERIES.labels(outcome="charged" if outcome.succeeded else "released").inc()
    logger.info("recovered payment attempt %s: %s", attempt.id, "charged" if outcome.succeeded else "released")
