"""The statement of accounts alone: from the opening balance, a line per invoice or payment, a running balance."""
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
    """A period, the opening balance, and the period's invoices and payments as the statement's queries read them:
    each in date and number order."""
    start, end = sorted([draw(days()), draw(days())])
    in_period = days((start - DAY_ONE).days, (end - DAY_ONE).days)
    invoices = sorted((invoice(id=n, number=f"INV-{n:05d}", date=draw(in_period), total=draw(cents()))
                       for n in range(1, draw(st.integers(0, 8)) + 1)), key=lambda row: (row.date, row.number))
    payments = sorted((payment(id=n, number=f"PAY-{n:05d}", date=draw(in_period), amount=draw(cents()))
                       for n in range(1, draw(st.integers(0, 8)) + 1)), key=lambda row: (row.date, row.number))
    return start, end, draw(cents(-10**8)), invoices, payments


@QUICK
@given(accounts())
def test_each_line_carries_the_opening_balance_plus_debits_minus_credits_so_far(account):
    start, end, opening, invoices, payments = account

    statement = build_statement(customer(), start=start, end=end, opening_balance=opening, invoices=invoices,
                                payments=payments)

    assert statement.opening_balance == statement.lines[0].balance == opening
    assert statement.lines[0].kind == StatementLineKind.OPENING_BALANCE and statement.lines[0].date == start
    debits = credits = ZERO
    for line in statement.lines[1:]:
        debits, credits = debits + line.amount, credits + line.payment
        assert line.balance == opening + debits - credits
    assert statement.invoiced_amount == debits == sum((row.total for row in invoices), ZERO)
    assert statement.amount_paid == credits == sum((row.amount for row in payments), ZERO)
    assert statement.closing_balance == statement.lines[-1].balance == opening + debits - credits


@QUICK
@given(accounts())
def test_lines_are_the_invoices_and_payments_by_date_each_in_the_order_read(account):
    start, end, opening, invoices, payments = account

    lines = build_statement(customer(), start=start, end=end, opening_balance=opening, invoices=invoices,
                            payments=payments).lines[1:]

    assert [line.date for line in lines] == sorted(line.date for line in lines)
    assert [line.source for line in lines if line.kind == StatementLineKind.INVOICE] == invoices
    assert [line.source for line in lines if line.kind == StatementLineKind.PAYMENT] == payments
    for line in lines:
        if line.kind == StatementLineKind.INVOICE:
            assert (line.reference, line.amount, line.payment) == (line.source.number, line.source.total, ZERO)
        else:
            assert (line.reference, line.amount, line.payment) == (line.source.number, ZERO, line.source.amount)


def test_on_one_day_invoices_come_before_payments():
    day = DAY_ONE + timedelta(days=3)
    invoices = [invoice(id=1, number="INV-00001", date=day), invoice(id=2, number="INV-00002", date=day)]
    payments = [payment(number="PAY-00001", date=day - timedelta(days=1)), payment(number="PAY-00002", date=day)]

    statement = build_statement(customer(), start=DAY_ONE, end=day, opening_balance=ZERO, invoices=invoices,
                                payments=payments)

    assert [line.reference for line in statement.lines] == ["Opening balance", "PAY-00001", "INV-00001",
                                                            "INV-00002", "PAY-00002"]
    assert [str(line.balance) for line in statement.lines] == ["0.00", "-10.00", "90.00", "190.00", "180.00"]


def test_a_period_defaults_to_the_month_so_far():
    assert statement_period(None, None, date(2024, 3, 17)) == (date(2024, 3, 1), date(2024, 3, 17))
    assert statement_period(None, date(2024, 2, 10), date(2024, 3, 17)) == (date(2024, 2, 1), date(2024, 2, 10))


@pytest.mark.parametrize(("start", "end"), [(date(2024, 3, 2), date(2024, 3, 1)), (date(2014, 1, 1), date(2024, 3, 1))])
def test_a_period_runs_forward_and_covers_at_most_ten_years(start, end):
    with pytest.raises(BadUserInput):
        statement_period(start, end, date(2024, 3, 17))
