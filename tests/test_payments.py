"""Paying invoices in the portal through the sandbox gateway: never a double charge."""
import asyncio
import uuid

import pytest
from helpers import activity_kinds

from portal.core.ids import from_global_id
from portal.models.invoices import Invoice

PAY = """mutation($input: PayInvoicesInput!) { payInvoices(input: $input) { status failureReason
  payment { id number amount method reference allocations { amount invoice { id status balanceDue } } } } }"""
SAVED = "{ savedPaymentMethods { id kind brand last4 expMonth expYear } }"
REMOVE = "mutation($id: ID!) { removeSavedPaymentMethod(id: $id) }"
INVOICE = "query($id: ID!) { node(id: $id) { ... on Invoice { status amountPaid balanceDue } } }"
DASHBOARD = "{ dashboard { outstandingInvoices { count total } lastPayment { number } } }"
ONE_LINE = [{"name": "Work", "quantity": "1", "rate": "100"}]


def pay_input(invoice_ids, token=None, saved=None, key=None, save=False):
    method = {"gatewayToken": token} if token else {"savedPaymentMethodId": saved}
    return {"invoiceIds": invoice_ids, "paymentMethod": method, "savePaymentMethod": save,
            "idempotencyKey": key or uuid.uuid4().hex}


async def ledger(client, business) -> list[dict]:
    """The sandbox's charges of the business, as its staff reads them."""
    response = await client.get("/sandbox-gateway/charges", headers={"Authorization": f"Bearer {business.staff.token}"})
    assert response.status_code == 200, response.text
    return response.json()["charges"]


@pytest.fixture
async def payer(business, mailbox):
    customer = await business.customer()
    portal, contact = await business.portal_user(customer["id"], f"payer@{business.portal_name}.example.com",
                                                 mailbox)
    return customer, portal, contact


async def test_a_card_payment(business, payer, mailbox, app, client):
    customer, portal, contact = payer
    invoice = await business.invoice(customer["id"])
    charges_before = len(await ledger(client, business))

    result = (await portal.data(PAY, input=pay_input([invoice["id"]], token="tok_visa")))["payInvoices"]

    assert result["status"] == "SUCCEEDED" and result["failureReason"] is None
    payment = result["payment"]
    assert (payment["amount"], payment["method"]) == ("410.10", "CARD")
    assert payment["reference"].startswith("ch_")
    assert payment["allocations"] == [{"amount": "410.10", "invoice": {"id": invoice["id"], "status": "PAID",
                                                                       "balanceDue": "0.00"}}]
    charges = await ledger(client, business)
    assert len(charges) == charges_before + 1 and charges[-1]["id"] == payment["reference"]
    assert charges[-1]["amount"] == "410.10"
    assert (await activity_kinds(app, business.organization_id))[-1] == "PAYMENT_RECEIVED"
    assert [m for m in await mailbox.to(business.owner_email) if "Payment received" in m["Subject"]]
    [receipt] = [m for m in await mailbox.to(contact["email"]) if "Receipt" in m["Subject"]]
    assert payment["number"] in receipt["Subject"]
    assert (await portal.data(DASHBOARD))["dashboard"]["lastPayment"]["number"] == payment["number"]


async def test_a_bulk_payment_of_three_invoices(business, payer):
    customer, portal, _ = payer
    invoices = [await business.invoice(customer["id"], [{"name": "W", "quantity": "1", "rate": rate}])
                for rate in ("100", "250.50", "0.99")]
    before = (await portal.data(DASHBOARD))["dashboard"]["outstandingInvoices"]

    result = (await portal.data(PAY, input=pay_input([i["id"] for i in invoices], token="tok_mastercard")))

    payment = result["payInvoices"]["payment"]
    assert payment["amount"] == "351.49"
    assert [a["amount"] for a in payment["allocations"]] == ["100.00", "250.50", "0.99"]
    assert {a["invoice"]["status"] for a in payment["allocations"]} == {"PAID"}
    assert before == {"count": 3, "total": "351.49"}
    assert (await portal.data(DASHBOARD))["dashboard"]["outstandingInvoices"] == {"count": 0, "total": "0.00"}


@pytest.mark.parametrize("token, reason", [("tok_chargeDeclined", "declined"),
                                           ("tok_insufficientFunds", "insufficient funds")])
async def test_a_declined_card_changes_nothing(business, payer, app, token, reason):
    customer, portal, _ = payer
    invoice = await business.invoice(customer["id"])

    result = (await portal.data(PAY, input=pay_input([invoice["id"]], token=token)))["payInvoices"]

    assert result["status"] == "FAILED" and result["payment"] is None
    assert reason in result["failureReason"]
    node = (await portal.data(INVOICE, id=invoice["id"]))["node"]
    assert node == {"status": "SENT", "amountPaid": "0.00", "balanceDue": "410.10"}
    assert (await activity_kinds(app, business.organization_id))[-1] == "PAYMENT_FAILED"
    paid = await portal.data(PAY, input=pay_input([invoice["id"]], token="tok_visa"))
    assert paid["payInvoices"]["status"] == "SUCCEEDED"


async def test_bank_accounts_need_ach_and_the_option(business, payer, client):
    customer, portal, _ = payer
    card_only = await business.invoice(customer["id"])
    both = await business.invoice(customer["id"], paymentOptions=["CARD", "BANK_ACCOUNT"])
    charges_before = len(await ledger(client, business))

    refused = await portal.error_code(PAY, input=pay_input([both["id"]], token="btok_us_verified"))
    refused_first = await portal.error_code(PAY, input=pay_input([card_only["id"]], token="btok_us_verified"))
    await business.staff.data("mutation($id: ID!) { setAchEnabled(customerId: $id, enabled: true) { id } }",
                              id=customer["id"])
    not_an_option = await portal.error_code(PAY, input=pay_input([card_only["id"]], token="btok_us_verified"))
    assert len(await ledger(client, business)) == charges_before
    paid = await portal.data(PAY, input=pay_input([both["id"]], token="btok_us_verified"))

    assert (refused, refused_first, not_an_option) == ("FORBIDDEN", "FORBIDDEN", "BAD_USER_INPUT")
    assert paid["payInvoices"]["payment"]["method"] == "BANK_ACCOUNT"


async def test_a_saved_card_is_reused_and_removed(business, payer, mailbox):
    customer, portal, _ = payer
    first, second = await business.invoice(customer["id"]), await business.invoice(customer["id"])

    await portal.data(PAY, input=pay_input([first["id"]], token="tok_visa", save=True))
    [saved] = (await portal.data(SAVED))["savedPaymentMethods"]
    assert (saved["kind"], saved["brand"], saved["last4"]) == ("CARD", "Visa", "4242")
    reused = await portal.data(PAY, input=pay_input([second["id"]], saved=saved["id"]))
    assert reused["payInvoices"]["status"] == "SUCCEEDED"

    other, _ = await business.portal_user(customer["id"], f"colleague@{business.portal_name}.example.com", mailbox)
    assert await other.error_code(REMOVE, id=saved["id"]) == "NOT_FOUND"
    assert (await portal.data(REMOVE, id=saved["id"]))["removeSavedPaymentMethod"] is True
    assert (await portal.data(SAVED))["savedPaymentMethods"] == []
    third = await business.invoice(customer["id"])
    assert await portal.error_code(PAY, input=pay_input([third["id"]], saved=saved["id"])) == "NOT_FOUND"


async def test_the_same_key_replays_and_a_different_input_conflicts(business, payer, client):
    customer, portal, _ = payer
    invoice, other = await business.invoice(customer["id"]), await business.invoice(customer["id"])
    key = uuid.uuid4().hex

    first = await portal.data(PAY, input=pay_input([invoice["id"]], token="tok_visa", key=key))
    charges = len(await ledger(client, business))
    again = await portal.data(PAY, input=pay_input([invoice["id"]], token="tok_visa", key=key))

    assert again == first
    assert len(await ledger(client, business)) == charges
    assert await portal.error_code(PAY, input=pay_input([other["id"]], token="tok_visa", key=key)) == "CONFLICT"
    assert await portal.error_code(PAY, input=pay_input([invoice["id"]], token="tok_visa")) == "CONFLICT"


async def test_a_failed_result_is_replayed_too(business, payer, client):
    customer, portal, _ = payer
    invoice = await business.invoice(customer["id"])
    key = uuid.uuid4().hex

    first = await portal.data(PAY, input=pay_input([invoice["id"]], token="tok_chargeDeclined", key=key))
    charges = len(await ledger(client, business))
    again = await portal.data(PAY, input=pay_input([invoice["id"]], token="tok_chargeDeclined", key=key))

    assert again == first and first["payInvoices"]["status"] == "FAILED"
    assert len(await ledger(client, business)) == charges


async def test_what_cannot_be_paid_is_refused_before_any_charge(business, other_business, payer, client):
    customer, portal, _ = payer
    draft = await business.invoice(customer["id"], send=False)
    void = await business.invoice(customer["id"])
    await business.staff.data("mutation($id: ID!) { voidInvoice(id: $id) { id } }", id=void["id"])
    paid = await business.invoice(customer["id"])
    await business.staff.data("mutation($id: ID!) { recordPayment(input: {invoiceId: $id, amount: \"410.10\"}) "
                              "{ id } }", id=paid["id"])
    euro_customer = await business.customer("Euro", currency="EUR")
    theirs = await business.invoice(euro_customer["id"])
    foreign = await other_business.invoice((await other_business.customer())["id"])
    usd = await business.invoice(customer["id"])
    charges = len(await ledger(client, business))

    cases = [
        ([draft["id"]], "tok_visa", "NOT_FOUND"),
        ([void["id"]], "tok_visa", "BAD_USER_INPUT"),
        ([paid["id"]], "tok_visa", "CONFLICT"),
        ([theirs["id"]], "tok_visa", "NOT_FOUND"),
        ([foreign["id"]], "tok_visa", "NOT_FOUND"),
        ([usd["id"], void["id"]], "tok_visa", "BAD_USER_INPUT"),
        ([usd["id"]], "tok_nonsense", "BAD_USER_INPUT"),
        ([], "tok_visa", "BAD_USER_INPUT"),
    ]
    for invoice_ids, token, code in cases:
        assert await portal.error_code(PAY, input=pay_input(invoice_ids, token=token)) == code, (invoice_ids, token)
    both = {"invoiceIds": [usd["id"]], "paymentMethod": {"gatewayToken": "tok_visa", "savedPaymentMethodId": "x"},
            "idempotencyKey": "k"}
    assert await portal.error_code(PAY, input=both) == "BAD_USER_INPUT"
    assert await business.staff.error_code(PAY, input=pay_input([usd["id"]], token="tok_visa")) == "FORBIDDEN"
    assert len(await ledger(client, business)) == charges


async def test_a_hundred_concurrent_payments_charge_once(business, payer, client, database_url):
    customer, portal, _ = payer
    invoice = await business.invoice(customer["id"])
    charges = len(await ledger(client, business))
    shared_key = uuid.uuid4().hex
    inputs = [pay_input([invoice["id"]], token="tok_visa", key=shared_key if n % 2 else None) for n in range(100)]

    answers = await asyncio.gather(*(portal.request(PAY, input=each) for each in inputs))

    succeeded = [a["data"]["payInvoices"] for a in answers if a.get("data")]
    codes = [a["errors"][0]["extensions"]["code"] for a in answers if a.get("errors")]
    assert set(codes) <= {"CONFLICT"}, codes
    payment_ids = {result["payment"]["id"] for result in succeeded}
    assert len(payment_ids) == 1
    assert len(await ledger(client, business)) == charges + 1
    assert (await portal.data(INVOICE, id=invoice["id"]))["node"]["amountPaid"] == "410.10"
    payments = await business.staff.data("query($c: ID) { payments(customerId: $c) { totalCount } }",
                                         c=customer["id"])
    assert payments["payments"]["totalCount"] == 1


async def test_staff_cannot_record_an_offline_payment_over_a_reservation(business, payer, app):
    """The reservation is what keeps an online charge and an offline payment from both counting."""
    customer, _portal, _ = payer
    invoice = await business.invoice(customer["id"])
    async with app.state.services.session_factory() as session:
        row = await session.get(Invoice, from_global_id(invoice["id"])[1])
        row.reserved_by_attempt_id = 1
        await session.commit()

    code = await business.staff.error_code(
        "mutation($id: ID!) { recordPayment(input: {invoiceId: $id, amount: \"1\"}) { id } }", id=invoice["id"])

    assert code == "CONFLICT"
