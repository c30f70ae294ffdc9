"""Spreading one payment over invoices, alone: the sum is the payment, no balance goes below zero."""
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from memory import QUICK, cents, invoice, snapshot

from portal.core.errors import BadUserInput, Conflict
from portal.models.invoices import InvoiceStatus, PaymentMethodKind, check_payable_online
from portal.models.payments import allocate_payment, settlement_in_full


@st.composite
def open_invoices(draw, max_size=5):
    """Sent invoices of one customer, some partly paid, each with a balance left."""
    invoices = []
    for number in range(1, draw(st.integers(1, max_size)) + 1):
        total = draw(cents(1, 10**9))
        paid = draw(cents(0, int(total * 100) - 1))
        invoices.append(invoice(id=number, number=f"INV-{number:05d}", total=total, amount_paid=paid,
                                status=InvoiceStatus.PARTIALLY_PAID if paid else InvoiceStatus.SENT))
    return invoices


@st.composite
def fitting_allocations(draw):
    """Each invoice gets between one cent and its whole balance."""
    invoices = draw(open_invoices())
    return [(row, draw(cents(1, int(row.balance_due * 100)))) for row in invoices]


@QUICK
@given(fitting_allocations())
def test_a_payment_is_the_sum_of_its_allocations_and_no_balance_goes_negative(allocations):
    balances = [row.balance_due for row, _ in allocations]

    amount = allocate_payment(allocations)

    assert amount == sum(share for _, share in allocations)
    for (row, share), balance in zip(allocations, balances, strict=True):
        assert row.balance_due == balance - share >= 0
        assert row.amount_paid + row.balance_due == row.total
        assert row.status == (InvoiceStatus.PAID if row.balance_due == 0 else InvoiceStatus.PARTIALLY_PAID)


@QUICK
@given(open_invoices(), st.data())
def test_an_allocation_above_a_balance_or_not_positive_changes_nothing(invoices, data):
    allocations = [(row, data.draw(cents(1, int(row.balance_due * 100)))) for row in invoices]
    wrong = data.draw(st.integers(0, len(allocations) - 1))
    row = allocations[wrong][0]
    allocations[wrong] = (row, data.draw(st.one_of(
        cents(int(row.balance_due * 100) + 1, 10**12), cents(0, 0), cents(-(10**6), -1))))
    before = [snapshot(row) for row in invoices]

    with pytest.raises(BadUserInput):
        allocate_payment(allocations)

    assert [snapshot(row) for row in invoices] == before


@QUICK
@given(open_invoices())
def test_paying_several_invoices_in_full_charges_their_balances_and_settles_them(invoices):
    """payInvoices: what the attempt reserves is what the payment allocates, and nothing stays owed."""
    charged = sum(row.balance_due for row in invoices)

    amount = allocate_payment(settlement_in_full(invoices))

    assert amount == charged
    assert all(row.status == InvoiceStatus.PAID and row.balance_due == 0 for row in invoices)
    assert all(row.status_on(date(2100, 1, 1)) == InvoiceStatus.PAID for row in invoices)


@QUICK
@given(open_invoices(max_size=3), st.sampled_from(["customer_id", "currency"]))
def test_a_payment_is_for_one_customer_in_one_currency(invoices, field):
    assume(len(invoices) > 1)
    setattr(invoices[-1], field, 2 if field == "customer_id" else "EUR")
    before = [snapshot(row) for row in invoices]

    with pytest.raises(BadUserInput, match=r"one customer|one currency"):
        allocate_payment(settlement_in_full(invoices))

    assert [snapshot(row) for row in invoices] == before


@st.composite
def invoices_in_any_state(draw):
    """Invoices of one customer as they may stand when a contact asks to pay them online, mostly payable."""
    invoices = []
    for number in range(1, draw(st.integers(1, 3)) + 1):
        status = draw(st.sampled_from([InvoiceStatus.SENT] * 3 + [InvoiceStatus.PARTIALLY_PAID] * 3
                                      + [InvoiceStatus.DRAFT, InvoiceStatus.PAID, InvoiceStatus.VOID]))
        total = draw(cents(2, 10**8))
        paid = Decimal("0.00")
        if status == InvoiceStatus.PARTIALLY_PAID:
            paid = draw(cents(1, int(total * 100) - 1))
        elif status == InvoiceStatus.PAID:
            paid = total
        invoices.append(invoice(
            id=number, number=f"INV-{number:05d}", status=status, total=total, amount_paid=paid,
            currency=draw(st.sampled_from(["USD"] * 5 + ["EUR"])),
            reserved_by_attempt_id=draw(st.sampled_from([None] * 5 + [7])),
            payment_options=draw(st.sampled_from(["CARD,BANK_ACCOUNT"] * 3 + ["CARD", "BANK_ACCOUNT"]))))
    return invoices


@QUICK
@given(invoices_in_any_state(), st.sampled_from([PaymentMethodKind.CARD, PaymentMethodKind.BANK_ACCOUNT]))
def test_invoices_accepted_for_online_payment_can_always_be_settled_in_full(invoices, method):
    """What reserve lets through, record never refuses after the charge."""
    try:
        check_payable_online(invoices, method=method, ach_enabled=True)
    except (BadUserInput, Conflict):
        return
    charged = sum(row.balance_due for row in invoices)

    assert allocate_payment(settlement_in_full(invoices)) == charged > 0
    assert all(row.status == InvoiceStatus.PAID and row.balance_due == 0 for row in invoices)


@pytest.mark.parametrize("status", [InvoiceStatus.DRAFT, InvoiceStatus.VOID, InvoiceStatus.PAID])
def test_only_a_sent_unpaid_invoice_takes_a_payment(status):
    row = invoice(status=status, amount_paid=Decimal("100.00") if status == InvoiceStatus.PAID else Decimal("0.00"))

    with pytest.raises(BadUserInput):
        allocate_payment([(row, Decimal("1.00"))])


def test_two_allocations_to_one_invoice_may_not_pass_its_balance_together():
    row = invoice(total=Decimal("100.00"))

    with pytest.raises(BadUserInput, match="more than the balance due"):
        allocate_payment([(row, Decimal("60.00")), (row, Decimal("60.00"))])
