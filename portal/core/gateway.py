"""The payment gateway interface: describe a token, charge it, find a charge again.

A real processor (a Stripe-like adapter) is one new module in `portal/gateway/` implementing
`PaymentGateway`, and one line in `portal.gateway.gateway_for`. Card numbers never reach the portal: only tokens do.
"""
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class InvalidToken(Exception):
    """The gateway does not know this token, or it cannot be used."""


class GatewayUnavailable(Exception):
    """The gateway could not be reached; the outcome of a charge is unknown."""


@dataclass(frozen=True)
class TokenDetails:
    kind: str  # "CARD" or "BANK_ACCOUNT"
    brand: str | None
    last4: str
    exp_month: int | None
    exp_year: int | None
    reusable_reference: str  # what a saved payment method keeps to charge again


class PaymentFailureCode(StrEnum):
    """Why a charge failed, for programs; an adapter maps its processor's decline codes to these."""

    CARD_DECLINED = "CARD_DECLINED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    EXPIRED_CARD = "EXPIRED_CARD"
    INCORRECT_CVC = "INCORRECT_CVC"
    PROCESSING_ERROR = "PROCESSING_ERROR"


@dataclass(frozen=True)
class ChargeOutcome:
    succeeded: bool
    charge_id: str | None = None
    failure_reason: str | None = None  # for people
    failure_code: PaymentFailureCode | None = None  # for programs; set whenever the charge failed


class PaymentGateway(Protocol):
    async def describe(self, token: str) -> TokenDetails: ...

    async def charge(self, *, source: str, amount: Decimal, currency: str, idempotency_key: str) -> ChargeOutcome:
        """Charge once per idempotency key: the same key returns the first outcome again."""

    async def find_charge(self, idempotency_key: str) -> ChargeOutcome | None:
        """The outcome of an earlier charge with this key, or None if none was made."""
