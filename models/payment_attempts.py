"""Online payment attempts: idempotency and the reservation that prevents a double charge.

The order is reserve → charge → record, each step its own transaction:

1. reserve: insert the attempt (unique per contact person and idempotency key) and, with the
   invoices locked, mark each one as reserved by it. A second request with the same key finds
   the attempt (replay, or CONFLICT while it is pending); a request with another key for the
   same invoice finds the reservation (CONFLICT). Nothing is charged in either case.
2. charge: outside any transaction, with the gateway idempotency key `attempt-<id>`.
3. record: the payment, allocations, invoice balances, activity event and emails, the
   attempt's outcome and the release of the reservations, in one transaction.

A crash between 2 and 3 leaves a pending attempt holding its reservations. Recovery asks
the gateway for the charge by the same key: found, it is recorded as in step 3; not found
(the charge never happened), the attempt fails and the invoices are released. See
`stale_attempts` and the recovery loop of the app.
"""
import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import UniqueConstraint, select
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession
from portal.core.errors import Conflict
from portal.core.gateway import PaymentFailureCode
from portal.models.columns import Money, UTCDateTime, utcnow


class AttemptStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class PaymentAttempt(SQLModel, table=True):
    __tablename__ = "payment_attempts"
    __table_args__ = (UniqueConstraint("contact_person_id", "idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    customer_id: int = Field(foreign_key="customers.id")
    contact_person_id: int = Field(foreign_key="contact_persons.id")
    idempotency_key: str = Field(max_length=200)
    fingerprint: str = Field(max_length=64)
    status: str = Field(default=AttemptStatus.PENDING, max_length=10, index=True)
    invoice_ids: str = Field(max_length=2000)  # comma-separated, in the order given
    amount: Decimal = Field(sa_type=Money)
    currency: str = Field(max_length=3)
    method: str = Field(max_length=16)
    source: str = Field(max_length=200)  # the gateway token or saved reference charged
    save_method: bool = False
    payment_id: int | None = Field(default=None, foreign_key="payments.id")
    saved_payment_method_id: int | None = Field(default=None, foreign_key="saved_payment_methods.id")
    charge_id: str | None = Field(default=None, max_length=100)
    failure_reason: str | None = Field(default=None, max_length=500)
    failure_code: str | None = Field(default=None, max_length=32)  # a PaymentFailureCode, kept for replays
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def gateway_key(self) -> str:
        return f"attempt-{self.id}"

    @property
    def invoice_pks(self) -> list[int]:
        return [int(pk) for pk in self.invoice_ids.split(",")]


def fingerprint(invoice_ids: list[int], method_source: str, save_method: bool) -> str:
    """'Same input': the same set of invoices, the same payment method, the same save choice."""
    canonical = f"{sorted(set(invoice_ids))}|{method_source}|{save_method}"
    return hashlib.sha256(canonical.encode()).hexdigest()


async def find_attempt(session: AsyncSession, contact_person_id: int, idempotency_key: str) -> PaymentAttempt | None:
    return await session.scalar(select(PaymentAttempt).where(
        col(PaymentAttempt.contact_person_id) == contact_person_id,
        col(PaymentAttempt.idempotency_key) == idempotency_key))


def check_replayable(attempt: PaymentAttempt, request_fingerprint: str) -> None:
    if attempt.fingerprint != request_fingerprint:
        raise Conflict("This idempotency key was used for a different payment.")
    if attempt.status == AttemptStatus.PENDING:
        raise Conflict("A payment with this idempotency key is in progress.")


def finish(attempt: PaymentAttempt, *, status: AttemptStatus, charge_id: str | None = None,
           failure_reason: str | None = None, failure_code: PaymentFailureCode | None = None,
           payment_id: int | None = None) -> None:
    attempt.status = status
    attempt.charge_id = charge_id
    attempt.failure_reason = failure_reason
    attempt.failure_code = failure_code
    attempt.payment_id = payment_id
    attempt.completed_at = utcnow()


async def stale_attempts(session: AsyncSession, older_than: timedelta) -> list[PaymentAttempt]:
    """Pending attempts whose charge call must have ended long ago: left by a crash."""
    return list(await session.scalars(select(PaymentAttempt).where(
        col(PaymentAttempt.status) == AttemptStatus.PENDING, col(PaymentAttempt.created_at) < utcnow() - older_than)))
