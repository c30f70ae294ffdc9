"""Money rules: Decimal everywhere, each line rounded once, half-up to cents."""
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def round_money(value: Decimal) -> Decimal:
    """The one rounding rule: half-up to two decimal places."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def in_whole_cents(value: Decimal) -> bool:
    """Whether a finite amount has nothing below the cent.

    Read from the digits, not by rounding: quantize fails on amounts of more than 26 digits,
    and a client may send any size.
    """
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # NaN and the infinities
        return False
    return exponent >= -2 or not any(digits[exponent + 2:])


def decimal_places(value: Decimal) -> int:
    """The digits a finite number has after the point, as written: 2.50 has 2, 10 and 1E+1 none."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):  # NaN and the infinities
        raise ValueError(f"{value} is not a finite number.")
    return max(0, -exponent)


def plain_decimal(value: Decimal) -> Decimal:
    """A quantity, rate or hours without the zeros its four-place column pads it with: 2.5000 -> 2.5 and
    10.0000 -> 10. How it is then written out is `shown_decimal`'s concern.

    10, not the 1E+1 that normalize() alone gives.
    """
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def shown_decimal(value: Decimal) -> str:
    """A decimal as the portal shows it, in the API and in PDFs: plain notation, no grouping, the decimals
    the value has but at least two: 49 -> "49.00", 0.18250 -> "0.1825", -0.00 -> "0.00"."""
    text = str(value)
    if text[-3:-2] == "." and text != "-0.00":  # two places, in plain notation: money, as it is read and kept
        return text
    whole, point, decimals = text.partition(".")
    if point and "E" not in decimals:  # other places, in plain notation: quantities and rates, as read
        decimals = decimals.rstrip("0")
        if not decimals and whole in ("0", "-0"):
            return "0.00"  # never "-0.00"
        return f"{whole}.{decimals:0<2}"
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number.")
    whole, _, decimals = format(value, "f").partition(".")
    if value.is_zero():
        whole = "0"
    return f"{whole}.{decimals.rstrip('0').ljust(2, '0')}"


@dataclass(frozen=True)
class LineAmounts:
    amount: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    sub_total: Decimal
    tax_total: Decimal
    total: Decimal


def line_amounts(quantity: Decimal, rate: Decimal, tax_percent: Decimal) -> LineAmounts:
    amount = round_money(quantity * rate)
    return LineAmounts(amount=amount, tax=round_money(amount * tax_percent / 100))


class PricedLine(Protocol):
    """What a document's totals add up: a line's LineAmounts, or the stored line item itself."""

    @property
    def amount(self) -> Decimal: ...

    @property
    def tax(self) -> Decimal: ...


def document_totals(lines: Iterable[PricedLine]) -> Totals:
    lines = list(lines)
    sub_total = sum((line.amount for line in lines), ZERO)
    tax_total = sum((line.tax for line in lines), ZERO)
    return Totals(sub_total=sub_total, tax_total=tax_total, total=sub_total + tax_total)
