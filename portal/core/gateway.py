"""The payment gateway interface: describe a token, charge it, find a charge again.

A real processor (a Stripe-like adapter) is one new module in `portal/gateway/` implementing
`PaymentGateway`, and one line in `portal.gateway.gateway_for`. Card numbers never reach the portal: only tokens do.
"""
from dataclasses import dataclass
from decimal import Decimal
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


@dataclass(frozen=True)
class ChargeOutcome:
    succeeded: bool
    charge_id: str | None = None
    failure_reason: str | None = None


class PaymentGateway(Protocol):
    async def describe(self, token: str) -> TokenDetails: ...

    async def charge(self, *, source: str, amount: Decimal, currency: str, idempotency_key: str) -> ChargeOutcome:
        """Charge once per idempotency key: the same key returns the first outcome again."""

    async def find_charge(self, idempotency_key: str) -> ChargeOutcome | None:
        """The outcome of an earlier charge with this key, or None if none was made."""
