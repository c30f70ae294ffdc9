"""The sandbox gateway: a stand-in processor for demos and tests, with a ledger of its charges.

Its tables live in the portal's database for convenience, but it behaves like a remote
service: every call is its own transaction, committed before the portal hears the answer.
"""
import secrets
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel, col

from portal.core.database import SerialSession
from portal.core.gateway import ChargeOutcome, InvalidToken, PaymentFailureCode, TokenDetails
from portal.models.columns import Money, UTCDateTime, utcnow

SUCCEEDS = "succeeds"
DECLINED = "card_declined"
INSUFFICIENT_FUNDS = "insufficient_funds"
EXPIRED_CARD = "expired_card"
INCORRECT_CVC = "incorrect_cvc"
PROCESSING_ERROR = "processing_error"
# Each failing outcome: what the customer reads, and the code a program branches on.
FAILURES = {
    DECLINED: ("Your card was declined.", PaymentFailureCode.CARD_DECLINED),
    INSUFFICIENT_FUNDS: ("Your card has insufficient funds.", PaymentFailureCode.INSUFFICIENT_FUNDS),
    EXPIRED_CARD: ("Your card has expired.", PaymentFailureCode.EXPIRED_CARD),
    INCORRECT_CVC: ("Your card's security code is incorrect.", PaymentFailureCode.INCORRECT_CVC),
    PROCESSING_ERROR: ("An error occurred while processing your card; try again.",
                       PaymentFailureCode.PROCESSING_ERROR),
}


class SandboxToken(SQLModel, table=True):
    __tablename__ = "sandbox_tokens"

    token: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16)
    brand: str | None = Field(default=None, max_length=40)
    last4: str = Field(max_length=4)
    exp_month: int | None = None
    exp_year: int | None = None
    outcome: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SandboxCharge(SQLModel, table=True):
    __tablename__ = "sandbox_charges"

    id: str = Field(primary_key=True, max_length=40)
    idempotency_key: str = Field(max_length=200, unique=True)
    source: str = Field(max_length=64)
    amount: Decimal = Field(sa_type=Money)
    currency: str = Field(max_length=3)
    succeeded: bool
    failure_reason: str | None = Field(default=None, max_length=200)
    failure_code: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def outcome(self) -> ChargeOutcome:
        code = None if self.failure_code is None else PaymentFailureCode(self.failure_code)
        return ChargeOutcome(succeeded=self.succeeded, charge_id=self.id, failure_reason=self.failure_reason,
                             failure_code=code)


def _next_year() -> int:
    return date.today().year + 3


WELL_KNOWN = {
    "tok_visa": ("CARD", "Visa", "4242", SUCCEEDS),
    "tok_mastercard": ("CARD", "Mastercard", "4444", SUCCEEDS),
    "tok_chargeDeclined": ("CARD", "Visa", "0002", DECLINED),
    "tok_insufficientFunds": ("CARD", "Visa", "9995", INSUFFICIENT_FUNDS),
    "tok_chargeDeclinedExpiredCard": ("CARD", "Visa", "0069", EXPIRED_CARD),
    "tok_chargeDeclinedIncorrectCvc": ("CARD", "Visa", "0127", INCORRECT_CVC),
    "tok_chargeDeclinedProcessingError": ("CARD", "Visa", "0119", PROCESSING_ERROR),
    "btok_us_verified": ("BANK_ACCOUNT", "Sandbox Bank", "6789", SUCCEEDS),
}


class SandboxGateway:
    def __init__(self, session_factory: async_sessionmaker[SerialSession]) -> None:
        self.session_factory = session_factory

    async def _token(self, token: str) -> SandboxToken:
        if token in WELL_KNOWN:
            kind, brand, last4, outcome = WELL_KNOWN[token]
            card = kind == "CARD"
            return SandboxToken(token=token, kind=kind, brand=brand, last4=last4, outcome=outcome,
                                exp_month=12 if card else None, exp_year=_next_year() if card else None)
        async with self.session_factory() as session:
            found = await session.get(SandboxToken, token)
        if found is None:
            raise InvalidToken("The payment gateway does not know this token.")
        return found

    async def describe(self, token: str) -> TokenDetails:
        found = await self._token(token)
        return TokenDetails(kind=found.kind, brand=found.brand, last4=found.last4, exp_month=found.exp_month,
                            exp_year=found.exp_year, reusable_reference=found.token)

    async def charge(self, *, source: str, amount: Decimal, currency: str, idempotency_key: str) -> ChargeOutcome:
        earlier = await self.find_charge(idempotency_key)
        if earlier is not None:
            return earlier
        token = await self._token(source)
        reason, code = FAILURES.get(token.outcome, (None, None))
        charge = SandboxCharge(id=f"ch_{secrets.token_hex(12)}", idempotency_key=idempotency_key, source=source,
                               amount=amount, currency=currency, succeeded=token.outcome == SUCCEEDS,
                               failure_reason=reason, failure_code=code)
        try:
            async with self.session_factory() as session:
                session.add(charge)
                await session.commit()
        except IntegrityError:  # the same key raced in: its first charge stands
            first = await self.find_charge(idempotency_key)
            if first is None:  # not that race: another constraint failed
                raise
            return first
        return charge.outcome()

    async def find_charge(self, idempotency_key: str) -> ChargeOutcome | None:
        async with self.session_factory() as session:
            charge = await session.scalar(
                select(SandboxCharge).where(col(SandboxCharge.idempotency_key) == idempotency_key))
        return charge.outcome() if charge else None

    async def create_card_token(self, *, brand: str, last4: str, exp_month: int, exp_year: int,
                                outcome: str) -> SandboxToken:
        token = SandboxToken(token=f"tok_{secrets.token_hex(12)}", kind="CARD", brand=brand, last4=last4,
                             exp_month=exp_month, exp_year=exp_year, outcome=outcome)
        async with self.session_factory() as session:
            session.add(token)
            await session.commit()
        return token
