"""`PaymentResult.failureCode`: why a payment failed, for programs, from the gateway's outcome and on replay."""
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import update
from test_payments import ledger, pay_input

from portal.models.columns import utcnow
from portal.models.payment_attempts import PaymentAttempt
from portal.services import checkout

PAY = """mutation($input: PayInvoicesInput!) { payInvoices(input: $input) { status failureCode failureReason
  payment { id } } }"""
NEXT_YEAR = date.today().year + 1


@pytest.fixture
async def payer(business, mailbox):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], f"codes@{business.portal_name}.example.com", mailbox)
    return customer, portal


@pytest.mark.parametrize("token, code", [
    ("tok_chargeDeclined", "CARD_DECLINED"), ("tok_insufficientFunds", "INSUFFICIENT_FUNDS"),
    ("tok_chargeDeclinedExpiredCard", "EXPIRED_CARD"), ("tok_chargeDeclinedIncorrectCvc", "INCORRECT_CVC"),
    ("tok_chargeDeclinedProcessingError", "PROCESSING_ERROR")])
async def test_each_failure_has_its_code_and_replays_it(business, payer, client, token, code):
    customer, portal = payer
    invoice = await business.invoice(customer["id"])
    key = uuid.uuid4().hex

    failed = (await portal.data(PAY, input=pay_input([invoice["id"]], token=token, key=key)))["payInvoices"]
    charges = len(await ledger(client, business))
    replayed = (await portal.data(PAY, input=pay_input([invoice["id"]], token=token, key=key)))["payInvoices"]

    assert (failed["status"], failed["failureCode"], failed["payment"]) == ("FAILED", code, None)
    assert failed["failureReason"]
    assert replayed == failed
    assert len(await ledger(client, business)) == charges


async def test_a_payment_that_goes_through_has_no_code(business, payer):
    customer, portal = payer
    invoice = await business.invoice(customer["id"])

    paid = (await portal.data(PAY, input=pay_input([invoice["id"]], token="tok_visa")))["payInvoices"]

    assert (paid["status"], paid["failureCode"], paid["failureReason"]) == ("SUCCEEDED", None, None)


@pytest.mark.parametrize("number, code", [
    ("4000000000000002", "CARD_DECLINED"), ("4000000000009995", "INSUFFICIENT_FUNDS"),
    ("4000000000000069", "EXPIRED_CARD"), ("4000000000000127", "INCORRECT_CVC"),
    ("4000000000000119", "PROCESSING_ERROR")])
async def test_the_card_forms_test_numbers_fail_with_their_codes(business, payer, client, number, code):
    customer, portal = payer
    invoice = await business.invoice(customer["id"])
    token = (await client.post("/sandbox-gateway/tokens", json={
        "number": number, "expMonth": 12, "expYear": NEXT_YEAR, "cvc": "123"})).json()["token"]

    failed = (await portal.data(PAY, input=pay_input([invoice["id"]], token=token)))["payInvoices"]

    assert (failed["status"], failed["failureCode"]) == ("FAILED", code)


async def test_an_attempt_the_recovery_closes_uncharged_replays_as_a_processing_error(business, payer, app):
    customer, portal = payer
    invoice = await business.invoice(customer["id"])
    original_charge = checkout.charge

    async def crash(*args, **kwargs):
        raise RuntimeError("the process died here")

    checkout.charge = crash
    try:
        await portal.request(PAY, input=pay_input([invoice["id"]], token="tok_visa", key="never-charged"))
    finally:
        checkout.charge = original_charge
    async with app.state.services.session_factory() as session:
        await session.execute(update(PaymentAttempt).where(PaymentAttempt.status == "PENDING")
                              .values(created_at=utcnow() - timedelta(hours=1)))
        await session.commit()
    await checkout.recover_stale_attempts(app.state.services)

    replayed = (await portal.data(PAY, input=pay_input([invoice["id"]], token="tok_visa", key="never-charged")))

    assert replayed["payInvoices"]["status"] == "FAILED"
    assert replayed["payInvoices"]["failureCode"] == "PROCESSING_ERROR"
