"""The sandbox gateway: a stand-in processor for demos and tests, with a ledger of its charges.

Its tables live in the portal's database for convenience, but it behaves like a remote
service: every call is its own transaction, committed before the portal hears the answer.
"""
import secrets
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from portal.core.gateway import ChargeOutcome, InvalidToken, TokenDetails
from portal.models.columns import Money, UTCDateTime, utcnow

SUCCEEDS = "succeeds"
DECLINED = "card_declined"
INSUFFICIENT_FUNDS = "insufficient_funds"
FAILURE_MESSAGES = {DECLINED: "Your card was declined.",
                    INSUFFICIENT_FUNDS: "Your card has insufficient funds."}


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
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def outcome(self) -> ChargeOutcome:
        return ChargeOutcome(succeeded=self.succeeded, charge_id=self.id, failure_reason=self.failure_reason)


def _next_year() -> int:
    return date.today().year + 3


WELL_KNOWN = {
    "tok_visa": ("CARD", "Visa", "4242", SUCCEEDS),
    "tok_mastercard": ("CARD", "Mastercard", "4444", SUCCEEDS),
    "tok_chargeDeclined": ("CARD", "Visa", "0002", DECLINED),
    "tok_insufficientFunds": ("CARD", "Visa", "9995", INSUFFICIENT_FUNDS),
    "btok_us_verified": ("BANK_ACCOUNT", "Sandbox Bank", "6789", SUCCEEDS),
}


class SandboxGateway:
    def __init__(self, session_factory) -> None:
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
        charge = SandboxCharge(id=f"ch_{secrets.token_hex(12)}", idempotency_key=idempotency_key, source=source,
                               amount=amount, currency=currency, succeeded=token.outcome == SUCCEEDS,
                               failure_reason=FAILURE_MESSAGES.get(token.outcome))
        try:
            async with self.session_factory() as session:
                session.add(charge)
                await session.commit()
        except IntegrityError:  # the same key raced in: its first charge stands
            return await self.find_charge(idempotency_key)
        return charge.outcome()

    async def find_charge(self, idempotency_key: str) -> ChargeOutcome | None:
        async with self.session_factory() as session:
            charge = await session.scalar(select(SandboxCharge).where(SandboxCharge.idempotency_key == idempotency_key))
        return charge.outcome() if charge else None

    async def create_card_token(self, *, brand: str, last4: str, exp_month: int, exp_year: int,
                                outcome: str) -> SandboxToken:
        token = SandboxToken(token=f"tok_{secrets.token_hex(12)}", kind="CARD", brand=brand, last4=last4,
                             exp_month=exp_month, exp_year=exp_year, outcome=outcome)
        async with self.session_factory() as session:
            session.add(token)
            await session.commit()
        return token

    async def ledger(self) -> list[SandboxCharge]:
        async with self.session_factory() as session:
            return list(await session.scalars(select(SandboxCharge).order_by(SandboxCharge.created_at)))
