"""Money rules alone: half-up to cents once per line, totals from rounded lines, NUMERIC(14, 2) bounds."""
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from memory import QUICK, half_up_cents

from portal.core.errors import BadUserInput
from portal.models.columns import Money
from portal.models.documents import MAX_TOTAL, LineDraft, build_lines, validate_lines
from portal.models.money import in_whole_cents, line_amounts, round_money

BELOW_COLUMN = Decimal("9999999999.9999")  # the largest quantity or rate NUMERIC(14, 4) holds


def four_places(low, high):
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=4)


# Most documents are small; the full range reaches the bound on totals.
quantities = st.one_of(four_places("0.0001", "1000"), four_places("0.0001", BELOW_COLUMN))
rates = st.one_of(four_places(0, "10000"), four_places(0, BELOW_COLUMN))
tax_percents = st.one_of(st.sampled_from([Decimal(0), Decimal("7.5"), Decimal(20), Decimal(100)]), four_places(0, 100))
drafts = st.builds(LineDraft, name=st.just("Work"), quantity=quantities, rate=rates, tax_percent=tax_percents)
any_amount = st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, allow_infinity=False)


def reference_line(draft: LineDraft) -> tuple[Decimal, Decimal]:
    amount = half_up_cents(Fraction(draft.quantity) * Fraction(draft.rate))
    return amount, half_up_cents(Fraction(amount) * Fraction(draft.tax_percent) / 100)


@pytest.mark.parametrize(("value", "rounded"), [
    ("0.005", "0.01"), ("0.0049", "0.00"), ("2.675", "2.68"), ("-0.005", "-0.01"), ("1.5", "1.50"),
    ("999999999999.994", "999999999999.99"),
])
def test_rounding_is_half_up_to_cents(value, rounded):
    assert str(round_money(Decimal(value))) == rounded


@QUICK
@given(any_amount)
def test_rounding_matches_exact_arithmetic(value):
    rounded = round_money(value)

    assert rounded == half_up_cents(Fraction(value))
    assert rounded.as_tuple().exponent == -2
    assert abs(rounded - value) <= Decimal("0.005")
    assert round_money(rounded) == rounded
    assert round_money(-value) == -rounded


@QUICK
@given(st.decimals(allow_nan=True, allow_infinity=True))
@example(Decimal("1e26"))
@example(Decimal("100000000000000000000000000.001"))
def test_whole_cents_are_recognised_at_any_size(value):
    if not value.is_finite():
        assert not in_whole_cents(value)
    else:
        assert in_whole_cents(value) == ((Fraction(value) * 100).denominator == 1)


@QUICK
@given(cents_value=st.integers(-(10**14) + 1, 10**14 - 1))
def test_the_money_column_reads_back_exact_cents_from_a_float(cents_value):
    """SQLite keeps NUMERIC as REAL: every amount the column holds survives that."""
    amount = Decimal(cents_value).scaleb(-2)

    assert Money().process_result_value(float(amount), None) == amount
    assert Money().process_bind_param(amount, None) == amount


def test_tax_is_taken_on_the_rounded_line_amount():
    line = line_amounts(Decimal(1), Decimal("0.026"), Decimal(50))

    # 0.026 rounds to 0.03, whose half is 0.015 → 0.02; half of the unrounded 0.026 would give 0.01.
    assert (line.amount, line.tax) == (Decimal("0.03"), Decimal("0.02"))


def test_each_line_is_rounded_once_before_the_total():
    rows, totals = build_lines([LineDraft(name="Work", quantity=Decimal(1), rate=Decimal("0.10"),
                                          tax_percent=Decimal(5))] * 3, organization_id=1)

    assert [row.tax for row in rows] == [Decimal("0.01")] * 3
    assert (totals.sub_total, totals.tax_total, totals.total) == (Decimal("0.30"), Decimal("0.03"), Decimal("0.33"))


@QUICK
@given(st.lists(drafts, min_size=1, max_size=12))
def test_a_total_is_the_sum_of_the_rounded_lines(lines):
    expected = [reference_line(draft) for draft in lines]
    expected_total = sum(amount + tax for amount, tax in expected)
    if expected_total >= MAX_TOTAL:
        with pytest.raises(BadUserInput, match="total must stay below"):
            build_lines(lines, organization_id=1)
        return

    rows, totals = build_lines(lines, organization_id=1)

    assert [(row.amount, row.tax) for row in rows] == expected
    assert totals.sub_total == sum(row.amount for row in rows)
    assert totals.tax_total == sum(row.tax for row in rows)
    assert totals.total == totals.sub_total + totals.tax_total == expected_total
    for value in (totals.sub_total, totals.tax_total, totals.total, *(row.amount for row in rows)):
        assert value.as_tuple().exponent == -2 and 0 <= value < MAX_TOTAL


def test_the_largest_total_the_column_holds_is_accepted_and_a_cent_more_refused():
    largest = LineDraft(name="Work", quantity=Decimal(100), rate=BELOW_COLUMN)

    _, totals = build_lines([largest], organization_id=1)
    assert totals.total == Decimal("999999999999.99")
    with pytest.raises(BadUserInput):
        build_lines([largest, LineDraft(name="Work", quantity=Decimal(1), rate=Decimal("0.01"))], organization_id=1)


@pytest.mark.parametrize(("field", "value"), [
    ("quantity", "10000000000"), ("rate", "1e10"), ("quantity", "0.00001"), ("rate", "1.00001"),
    ("quantity", "0"), ("rate", "-0.01"), ("tax_percent", "100.0001"), ("tax_percent", "-1"),
    ("quantity", "NaN"), ("rate", "Infinity"),
])
def test_a_line_past_what_its_columns_hold_is_refused(field, value):
    line = {"name": "Work", "quantity": Decimal(1), "rate": Decimal(1), "tax_percent": Decimal(0)}

    with pytest.raises(BadUserInput):
        validate_lines([LineDraft(**{**line, field: Decimal(value)})])
