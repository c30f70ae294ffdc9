"""The statement of accounts alone: a running balance that adds up, lines in date order."""
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from memory import DAY_ONE, QUICK, cents, customer, days, invoice, payment

from portal.core.errors import BadUserInput
from portal.models.money import ZERO
from portal.models.statements import StatementLineKind, build_statement, statement_period


@st.composite
def accounts(draw):
    """A period and the invoices and payments dated up to its end, as the statement's queries find them."""
    start, end = sorted([draw(days()), draw(days())])
    invoices = [invoice(id=n, number=f"INV-{n:05d}", date=draw(days(0, (end - DAY_ONE).days)), total=draw(cents()))
                for n in range(1, draw(st.integers(0, 8)) + 1)]
    payments = [payment(id=n, number=f"PAY-{n:05d}", date=draw(days(0, (end - DAY_ONE).days)), amount=draw(cents()))
                for n in range(1, draw(st.integers(0, 8)) + 1)]
    return start, end, invoices, payments


@QUICK
@given(accounts())
def test_each_line_carries_the_opening_balance_plus_debits_minus_credits_so_far(account):
    start, end, invoices, payments = account

    statement = build_statement(customer(), start=start, end=end, invoices=invoices, payments=payments)

    opening = (sum((row.total for row in invoices if row.date < start), ZERO)
               - sum((row.amount for row in payments if row.date < start), ZERO))
    assert statement.opening_balance == statement.lines[0].balance == opening
    assert statement.lines[0].kind == StatementLineKind.OPENING_BALANCE and statement.lines[0].date == start
    debits = credits = ZERO
    for line in statement.lines[1:]:
        debits, credits = debits + line.amount, credits + line.payment
        assert line.balance == opening + debits - credits
    assert statement.invoiced_amount == debits == sum((row.total for row in invoices if row.date >= start), ZERO)
    assert statement.amount_paid == credits == sum((row.amount for row in payments if row.date >= start), ZERO)
    assert statement.closing_balance == statement.lines[-1].balance == opening + debits - credits


@QUICK
@given(accounts())
def test_lines_are_the_periods_invoices_and_payments_in_date_order(account):
    start, end, invoices, payments = account

    lines = build_statement(customer(), start=start, end=end, invoices=invoices, payments=payments).lines[1:]

    assert [line.date for line in lines] == sorted(line.date for line in lines)
    assert all(start <= line.date <= end for line in lines)
    assert sorted(line.reference for line in lines) == sorted(
        [row.number for row in invoices if row.date >= start] + [row.number for row in payments if row.date >= start])
    for line in lines:
        if line.kind == StatementLineKind.INVOICE:
            assert line.payment == ZERO
        else:
            assert (line.kind, line.amount) == (StatementLineKind.PAYMENT, ZERO)


@QUICK
@given(accounts(), st.randoms(use_true_random=False))
def test_a_statement_does_not_depend_on_the_order_rows_were_read(account, random):
    start, end, invoices, payments = account
    shuffled_invoices, shuffled_payments = invoices[:], payments[:]
    random.shuffle(shuffled_invoices)
    random.shuffle(shuffled_payments)

    owner = customer()
    first = build_statement(owner, start=start, end=end, invoices=invoices, payments=payments)
    second = build_statement(owner, start=start, end=end, invoices=shuffled_invoices, payments=shuffled_payments)

    assert first == second


def test_on_one_day_invoices_come_before_payments_in_number_order():
    day = DAY_ONE + timedelta(days=3)
    invoices = [invoice(id=2, number="INV-00002", date=day), invoice(id=1, number="INV-00001", date=day)]
    payments = [payment(number="PAY-00001", date=day)]

    statement = build_statement(customer(), start=DAY_ONE, end=day, invoices=invoices, payments=payments)

    assert [line.reference for line in statement.lines] == ["Opening balance", "INV-00001", "INV-00002", "PAY-00001"]
    assert [str(line.balance) for line in statement.lines] == ["0.00", "100.00", "200.00", "190.00"]


def test_a_period_defaults_to_the_month_so_far():
    assert statement_period(None, None, date(2024, 3, 17)) == (date(2024, 3, 1), date(2024, 3, 17))
    assert statement_period(None, date(2024, 2, 10), date(2024, 3, 17)) == (date(2024, 2, 1), date(2024, 2, 10))


@pytest.mark.parametrize(("start", "end"), [(date(2024, 3, 2), date(2024, 3, 1)), (date(2014, 1, 1), date(2024, 3, 1))])
def test_a_period_runs_forward_and_covers_at_most_ten_years(start, end):
    with pytest.raises(BadUserInput):
        statement_period(start, end, date(2024, 3, 17))
