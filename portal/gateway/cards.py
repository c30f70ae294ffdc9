"""Checking card details the way a processor's hosted card form does; nothing here is stored."""
import re
from dataclasses import dataclass
from datetime import date

from portal.gateway.sandbox import (
    DECLINED,
    EXPIRED_CARD,
    INCORRECT_CVC,
    INSUFFICIENT_FUNDS,
    PROCESSING_ERROR,
    SUCCEEDS,
)

# The test card numbers processors document, each with the outcome it stands for.
OUTCOMES = {"4000000000000002": DECLINED, "4000000000009995": INSUFFICIENT_FUNDS, "4000000000000069": EXPIRED_CARD,
            "4000000000000127": INCORRECT_CVC, "4000000000000119": PROCESSING_ERROR}


# ASCII digits only: str.isdigit() and int() also take "²", "٣" and full-width digits, which no card has.
DIGITS = re.compile(r"[0-9]+")
MAX_YEARS_AHEAD = 50  # cards are issued for a few years; anything further is a typo, or an attempt


class CardRefused(ValueError):
    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field  # the detail refused, as the card form names it: number, expMonth, expYear, cvc


@dataclass(frozen=True)
class CheckedCard:
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    outcome: str


def luhn_valid(number: str) -> bool:
    digits = [int(digit) for digit in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * digit, 10)) for digit in digits[1::2])
    return total % 10 == 0


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "Visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4]) <= 2720:
        return "Mastercard"
    if number[:2] in {"34", "37"}:
        return "American Express"
    return "Card"


def check_card(details: dict, today: date) -> CheckedCard:
    number = "".join(str(details.get("number", "")).split())
    if not DIGITS.fullmatch(number) or not 12 <= len(number) <= 19 or not luhn_valid(number):
        raise CardRefused("The card number is not valid.", field="number")
    exp_month = _small_number(details.get("expMonth"), "expMonth")
    exp_year = _small_number(details.get("expYear"), "expYear")
    if exp_year < 100:
        exp_year += 2000
    if not 1 <= exp_month <= 12:
        raise CardRefused("The expiry month is 1 to 12.", field="expMonth")
    if (exp_year, exp_month) < (today.year, today.month):
        raise CardRefused("The card has expired.", field="expYear")
    if exp_year > today.year + MAX_YEARS_AHEAD:
        raise CardRefused("The expiry year is not valid.", field="expYear")
    cvc = str(details.get("cvc", ""))
    if not DIGITS.fullmatch(cvc) or not 3 <= len(cvc) <= 4:
        raise CardRefused("The CVC is 3 or 4 digits.", field="cvc")
    return CheckedCard(brand=brand_of(number), last4=number[-4:], exp_month=exp_month, exp_year=exp_year,
                       outcome=OUTCOMES.get(number, SUCCEEDS))


def _small_number(value: object, field: str) -> int:
    """An expiry month or year: a JSON integer or a string of at most 4 ASCII digits."""
    if isinstance(value, str) and DIGITS.fullmatch(value.strip()) and len(value.strip()) <= 4:
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9999:
        return value
    raise CardRefused("The expiry month and year are required, as numbers.", field=field)
