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
    """The one way quantities, rates and hours are shown: 2.5000 -> 2.5 and 10.0000 -> 10.

    10, not the 1E+1 that normalize() alone gives.
    """
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


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
