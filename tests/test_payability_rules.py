"""Which invoices can be paid online together, and by which method, alone."""
from decimal import Decimal

import pytest
from memory import invoice, snapshot

from portal.core.errors import BadUserInput, Conflict, Forbidden
from portal.models.invoices import InvoiceStatus, PaymentMethodKind, check_payable_online

CARD, BANK = PaymentMethodKind.CARD, PaymentMethodKind.BANK_ACCOUNT


def refusal(invoices, *, method=CARD, ach_enabled=False) -> tuple[type, str]:
    with pytest.raises((BadUserInput, Conflict, Forbidden)) as refused:
        check_payable_online(invoices, method=method, ach_enabled=ach_enabled)
    return type(refused.value), refused.value.message


def test_open_invoices_in_one_currency_are_payable_and_left_as_they_were():
    invoices = [invoice(id=1, number="INV-00001"),
                invoice(id=2, number="INV-00002", status=InvoiceStatus.PARTIALLY_PAID, amount_paid=Decimal("40.00"))]
    before = [snapshot(row) for row in invoices]

    check_payable_online(invoices, method=CARD, ach_enabled=False)

    assert [snapshot(row) for row in invoices] == before


@pytest.mark.parametrize("status", [InvoiceStatus.DRAFT, InvoiceStatus.VOID])
def test_a_draft_or_void_invoice_cannot_be_paid(status):
    assert refusal([invoice(status=status)]) == (BadUserInput, f"Invoice INV-00001 is {status} and cannot be paid.")


def test_a_draft_is_named_before_a_paid_invoice_listed_ahead_of_it():
    paid = invoice(id=1, number="INV-00001", status=InvoiceStatus.PAID, amount_paid=Decimal("100.00"))
    draft = invoice(id=2, number="INV-00002", status=InvoiceStatus.DRAFT)

    assert refusal([paid, draft]) == (BadUserInput, "Invoice INV-00002 is DRAFT and cannot be paid.")


@pytest.mark.parametrize("row", [
    invoice(status=InvoiceStatus.PAID, amount_paid=Decimal("100.00")),
    invoice(status=InvoiceStatus.SENT, total=Decimal("0.00")),  # nothing left to pay
])
def test_a_paid_invoice_is_a_conflict(row):
    assert refusal([row]) == (Conflict, "Invoice INV-00001 is already paid.")


def test_an_invoice_held_by_another_payment_is_a_conflict():
    assert refusal([invoice(reserved_by_attempt_id=7)]) == (Conflict,
                                                             "A payment of invoice INV-00001 is in progress.")


def test_invoices_in_different_currencies_are_paid_separately():
    invoices = [invoice(id=1, number="INV-00001"), invoice(id=2, number="INV-00002", currency="EUR")]

    assert refusal(invoices) == (BadUserInput, "Invoices in different currencies are paid separately.")


def test_a_bank_account_needs_ach_enabled_for_the_customer():
    row = invoice(payment_options="CARD,BANK_ACCOUNT")

    assert refusal([row], method=BANK) == (Forbidden, "This customer may not pay by bank account.")
    check_payable_online([row], method=BANK, ach_enabled=True)


def test_each_invoice_must_be_open_to_the_method():
    invoices = [invoice(id=1, number="INV-00001", payment_options="CARD,BANK_ACCOUNT"),
                invoice(id=2, number="INV-00002", payment_options="CARD")]

    assert refusal(invoices, method=BANK, ach_enabled=True) == (
        BadUserInput, "Invoice INV-00002 cannot be paid by BANK_ACCOUNT.")
