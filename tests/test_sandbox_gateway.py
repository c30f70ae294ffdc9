"""The sandbox gateway's card form, and recovery from a crash between charge and record."""
import uuid
from datetime import date, timedelta

from sqlalchemy import update
from test_payments import INVOICE, PAY, ledger, pay_input

from portal.models.columns import utcnow
from portal.models.payment_attempts import PaymentAttempt
from portal.services.checkout import recover_stale_attempts

NEXT_YEAR = date.today().year + 1


async def test_card_details_become_a_token_that_pays(client, business, mailbox):
    response = await client.post("/sandbox-gateway/tokens", json={
        "number": "4242 4242 4242 4242", "expMonth": 12, "expYear": NEXT_YEAR, "cvc": "123", "name": "Pat",
        "address": "1 Main St", "country": "US"})
    declined = await client.post("/sandbox-gateway/tokens", json={
        "number": "4000000000000002", "expMonth": 1, "expYear": NEXT_YEAR, "cvc": "1234"})

    assert response.status_code == 200
    token = response.json()
    assert (token["brand"], token["last4"]) == ("Visa", "4242") and token["token"].startswith("tok_")
    assert "4242424242424242" not in response.text
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], f"card@{business.portal_name}.example.com", mailbox)
    first, second = await business.invoice(customer["id"]), await business.invoice(customer["id"])
    paid = await portal.data(PAY, input=pay_input([first["id"]], token=token["token"]))
    failed = await portal.data(PAY, input=pay_input([second["id"]], token=declined.json()["token"]))
    assert paid["payInvoices"]["status"] == "SUCCEEDED"
    assert failed["payInvoices"]["status"] == "FAILED"


async def test_bad_card_details_are_refused_with_a_clear_error(client):
    good = {"number": "4242424242424242", "expMonth": 12, "expYear": NEXT_YEAR, "cvc": "123"}
    for change in ({"number": "4242424242424241"}, {"number": "abc"}, {"expYear": 2020},
                   {"expMonth": 13}, {"cvc": "12"}, {"cvc": "12345"}, {"cvc": "abc"}):
        response = await client.post("/sandbox-gateway/tokens", json={**good, **change})
        assert response.status_code == 400, change
        assert response.json()["error"]
    assert (await client.post("/sandbox-gateway/tokens", content=b"not json")).status_code == 400


async def test_a_charge_made_before_a_crash_is_recorded_by_the_recovery(business, mailbox, app, client):
    from portal.services import checkout

    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], f"crash@{business.portal_name}.example.com", mailbox)
    charged, abandoned = await business.invoice(customer["id"]), await business.invoice(customer["id"])
    services = app.state.services
    original_record = checkout.record

    async def crash(*args, **kwargs):
        raise RuntimeError("the process died here")

    checkout.record = crash
    try:
        crashed = await portal.request(PAY, input=pay_input([charged["id"]], token="tok_visa", key="k1"))
    finally:
        checkout.record = original_record
    assert crashed["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert await portal.error_code(PAY, input=pay_input([charged["id"]], token="tok_visa", key="k1")) == "CONFLICT"
    charges = len(await ledger(client, business))

    original_charge = checkout.charge
    checkout.charge = crash
    try:
        await portal.request(PAY, input=pay_input([abandoned["id"]], token="tok_visa", key="k2"))
    finally:
        checkout.charge = original_charge
    async with services.session_factory() as session:
        await session.execute(update(PaymentAttempt).where(PaymentAttempt.status == "PENDING")
                              .values(created_at=utcnow() - timedelta(hours=1)))
        await session.commit()

    assert await recover_stale_attempts(services) == 2

    assert (await portal.data(INVOICE, id=charged["id"]))["node"]["status"] == "PAID"
    assert (await portal.data(INVOICE, id=abandoned["id"]))["node"]["status"] == "SENT"
    assert len(await ledger(client, business)) == charges
    replay = await portal.data(PAY, input=pay_input([charged["id"]], token="tok_visa", key="k1"))
    assert replay["payInvoices"]["status"] == "SUCCEEDED"
    paid_now = await portal.data(PAY, input=pay_input([abandoned["id"]], token="tok_visa", key=uuid.uuid4().hex))
    assert paid_now["payInvoices"]["status"] == "SUCCEEDED"
