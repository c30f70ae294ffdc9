"""Invoice and estimate statuses alone: a function of amounts, dates and stored state; illegal moves refused."""
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from memory import DAY_ONE, QUICK, cents, customer, days, estimate, invoice, snapshot

from portal.core.errors import BadUserInput, Conflict
from portal.models.documents import LineDraft
from portal.models.estimates import (
    EstimateStatus,
    accept_estimate,
    decline_estimate,
    mark_invoiced,
    revise_estimate,
    send_estimate,
)
from portal.models.invoices import OWED, InvoiceStatus, apply_payment, send_invoice, void_invoice

STORED_INVOICE = [status for status in InvoiceStatus if status != InvoiceStatus.OVERDUE]
STORED_ESTIMATE = [status for status in EstimateStatus if status != EstimateStatus.EXPIRED]
TODAY = DAY_ONE + timedelta(days=10)
LINE = LineDraft(name="Work", quantity=Decimal(2), rate=Decimal(50))


def refused_unchanged(row, change, error) -> None:
    before = snapshot(row)
    with pytest.raises(error):
        change()
    assert snapshot(row) == before


@QUICK
@given(st.sampled_from(STORED_INVOICE), days(), days())
def test_an_invoice_is_overdue_only_while_owed_past_its_due_date(stored, due, today):
    row = invoice(status=stored, due_date=due)

    overdue = stored in OWED and due < today
    assert row.status_on(today) == (InvoiceStatus.OVERDUE if overdue else stored)


@QUICK
@given(st.sampled_from(STORED_ESTIMATE), st.one_of(st.none(), days()), days())
def test_an_estimate_is_expired_only_while_sent_past_its_expiry_date(stored, expiry, today):
    row = estimate(status=stored, expiry_date=expiry)

    expired = stored == EstimateStatus.SENT and expiry is not None and expiry < today
    assert row.status_on(today) == (EstimateStatus.EXPIRED if expired else stored)


def test_sending_an_invoice_with_nothing_to_pay_settles_it():
    assert send_invoice(invoice(status=InvoiceStatus.DRAFT, total=Decimal("0.00"))).status == InvoiceStatus.PAID
    assert send_invoice(invoice(status=InvoiceStatus.DRAFT)).status == InvoiceStatus.SENT


def test_a_void_invoice_owes_nothing_and_takes_nothing():
    row = void_invoice(invoice())

    assert (row.status, row.balance_due) == (InvoiceStatus.VOID, Decimal("0.00"))
    refused_unchanged(row, lambda: send_invoice(row), Conflict)
    refused_unchanged(row, lambda: apply_payment(row, Decimal("1.00")), BadUserInput)


@pytest.mark.parametrize("fields", [{"amount_paid": Decimal("0.01"), "status": InvoiceStatus.PARTIALLY_PAID},
                                    {"reserved_by_attempt_id": 7}])
def test_an_invoice_with_payments_or_one_under_way_cannot_be_voided(fields):
    row = invoice(**fields)

    refused_unchanged(row, lambda: void_invoice(row), Conflict)


class InvoiceLifecycle(RuleBasedStateMachine):
    """Any sequence of sends, voids, payments and reservations keeps the amounts and the status consistent."""

    @initialize(total=st.one_of(cents(0, 0), cents(1, 10**6)))
    def draft(self, total):
        self.invoice = invoice(status=InvoiceStatus.DRAFT, total=total)

    @rule()
    def send(self):
        before = self.invoice.status
        if before == InvoiceStatus.VOID:
            refused_unchanged(self.invoice, lambda: send_invoice(self.invoice), Conflict)
            return
        send_invoice(self.invoice)
        if before == InvoiceStatus.DRAFT:
            assert self.invoice.status == (InvoiceStatus.PAID if self.invoice.total == 0 else InvoiceStatus.SENT)
        else:
            assert self.invoice.status == before

    @rule()
    def void(self):
        if self.invoice.amount_paid > 0 or self.invoice.reserved_by_attempt_id is not None:
            refused_unchanged(self.invoice, lambda: void_invoice(self.invoice), Conflict)
        else:
            assert void_invoice(self.invoice).status == InvoiceStatus.VOID

    @rule(share=st.one_of(cents(-100, 100), cents(1, 2 * 10**6)), in_full=st.booleans())
    def pay(self, share, in_full):
        share = self.invoice.balance_due if in_full else share
        if self.invoice.status not in OWED or not 0 < share <= self.invoice.balance_due:
            refused_unchanged(self.invoice, lambda: apply_payment(self.invoice, share), BadUserInput)
            return
        paid = self.invoice.amount_paid
        apply_payment(self.invoice, share)
        assert self.invoice.amount_paid == paid + share

    @rule(attempt=st.one_of(st.none(), st.just(7)))
    def reserve_or_release(self, attempt):
        self.invoice.reserved_by_attempt_id = attempt

    @invariant()
    def balance_is_never_negative_and_void_owes_nothing(self):
        row = self.invoice
        if row.status == InvoiceStatus.VOID:
            assert row.balance_due == row.amount_paid == 0
        else:
            assert 0 <= row.amount_paid <= row.total
            assert row.balance_due == row.total - row.amount_paid >= 0

    @invariant()
    def status_follows_the_amounts(self):
        row = self.invoice
        if row.status == InvoiceStatus.DRAFT:
            assert row.amount_paid == 0
        elif row.status != InvoiceStatus.VOID:
            paid_in_full = row.amount_paid == row.total
            expected = (InvoiceStatus.PAID if paid_in_full else
                        InvoiceStatus.PARTIALLY_PAID if row.amount_paid > 0 else InvoiceStatus.SENT)
            assert row.status == expected

    @invariant()
    def a_paid_invoice_is_never_overdue(self):
        if self.invoice.status == InvoiceStatus.PAID:
            assert self.invoice.status_on(self.invoice.due_date + timedelta(days=365)) == InvoiceStatus.PAID


TestInvoiceLifecycle = InvoiceLifecycle.TestCase
TestInvoiceLifecycle.settings = QUICK


def answer(operation: str, row):
    return {
        "send": lambda: send_estimate(row, today=TODAY),
        "accept": lambda: accept_estimate(row, today=TODAY),
        "decline": lambda: decline_estimate(row, today=TODAY, reason="Too dear"),
        "revise": lambda: revise_estimate(row, customer(), estimate_date=None, expiry_date=row.expiry_date,
                                          lines=[LINE]),
        "convert": lambda: mark_invoiced(row, today=TODAY),
    }[operation]


S, C, B = EstimateStatus, Conflict, BadUserInput
OPERATIONS = ("send", "accept", "decline", "revise", "convert")
# What each operation does from each stored status, before and after the expiry date (TODAY).
TRANSITIONS = {
    (S.DRAFT, False): (S.SENT, C, C, S.DRAFT, C),
    (S.DRAFT, True): (B, C, C, S.DRAFT, C),
    (S.SENT, False): (S.SENT, S.ACCEPTED, S.DECLINED, S.SENT, C),
    (S.SENT, True): (B, C, C, S.SENT, C),
    (S.ACCEPTED, False): (C, C, C, C, S.INVOICED),
    (S.ACCEPTED, True): (C, C, C, C, S.INVOICED),
    (S.DECLINED, False): (C, C, C, S.DRAFT, C),
    (S.DECLINED, True): (C, C, C, S.DRAFT, C),
    (S.INVOICED, False): (C, C, C, C, C),
    (S.INVOICED, True): (C, C, C, C, C),
}
CASES = [(status, expired, operation, outcome) for (status, expired), outcomes in TRANSITIONS.items()
         for operation, outcome in zip(OPERATIONS, outcomes, strict=True)]


@pytest.mark.parametrize(("stored", "expired", "operation", "outcome"), CASES)
def test_estimate_transitions(stored, expired, operation, outcome):
    row = estimate(status=stored, expiry_date=TODAY + timedelta(days=-1 if expired else 20))

    if isinstance(outcome, type):
        refused_unchanged(row, answer(operation, row), outcome)
    else:
        answer(operation, row)()
        assert row.status == outcome


class EstimateLifecycle(RuleBasedStateMachine):
    """Any sequence of edits, sends, answers and conversions over passing days keeps the estimate consistent."""

    @initialize(expiry=st.one_of(st.none(), st.integers(0, 30)))
    def draft(self, expiry):
        self.today = DAY_ONE
        self.estimate = estimate(status=EstimateStatus.DRAFT,
                                 expiry_date=None if expiry is None else DAY_ONE + timedelta(days=expiry))
        self.invoiced = False

    def attempt(self, change) -> None:
        before = snapshot(self.estimate)
        try:
            change()
        except (Conflict, BadUserInput):
            assert snapshot(self.estimate) == before

    @rule(step=st.integers(0, 15))
    def time_passes(self, step):
        self.today += timedelta(days=step)

    @rule()
    def send(self):
        self.attempt(lambda: send_estimate(self.estimate, today=self.today))

    @rule()
    def accept(self):
        self.attempt(lambda: accept_estimate(self.estimate, today=self.today))

    @rule(reason=st.one_of(st.none(), st.just("Too dear")))
    def decline(self, reason):
        self.attempt(lambda: decline_estimate(self.estimate, today=self.today, reason=reason))

    @rule(extra_days=st.one_of(st.none(), st.integers(0, 60)))
    def revise(self, extra_days):
        expiry = None if extra_days is None else self.estimate.date + timedelta(days=extra_days)
        self.attempt(lambda: revise_estimate(self.estimate, customer(), estimate_date=None, expiry_date=expiry,
                                             lines=[LINE]))

    @rule()
    def convert(self):
        self.attempt(lambda: mark_invoiced(self.estimate, today=self.today))

    @invariant()
    def answers_are_stamped_only_while_they_stand(self):
        row = self.estimate
        assert (row.accepted_at is not None) == (row.status in (EstimateStatus.ACCEPTED, EstimateStatus.INVOICED))
        assert (row.declined_at is not None) == (row.status == EstimateStatus.DECLINED)
        assert row.decline_reason is None or row.status == EstimateStatus.DECLINED

    @invariant()
    def an_invoiced_estimate_stays_invoiced(self):
        if self.invoiced:
            assert self.estimate.status == EstimateStatus.INVOICED
        self.invoiced = self.estimate.status == EstimateStatus.INVOICED

    @invariant()
    def expired_is_sent_past_the_expiry_date(self):
        row = self.estimate
        expired = (row.status == EstimateStatus.SENT and row.expiry_date is not None
                   and row.expiry_date < self.today)
        assert (row.status_on(self.today) == EstimateStatus.EXPIRED) == expired


TestEstimateLifecycle = EstimateLifecycle.TestCase
TestEstimateLifecycle.settings = QUICK
