"""Payments and how they are allocated to invoices."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, UniqueConstraint, select
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput, InputCheck
from portal.models.auth import Principal
from portal.models.columns import Money, UTCDateTime, utcnow
from portal.models.documents import MAX_TOTAL
from portal.models.invoices import Invoice, PaymentMethodKind, apply_payment, check_not_reserved, check_payable
from portal.models.lookup import group_by, group_pairs, organization_rows
from portal.models.money import in_whole_cents, round_money
from portal.models.rows import saved_id
from portal.models.sequences import next_number


class Payment(SQLModel, table=True):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("organization_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    contact_person_id: int | None = Field(default=None, foreign_key="contact_persons.id")
    number: str = Field(max_length=20)
    date: date
    amount: Decimal = Field(sa_type=Money)
    currency: str = Field(max_length=3)
    method: str = Field(max_length=16)
    reference: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentAllocation(SQLModel, table=True):
    __tablename__ = "payment_allocations"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    payment_id: int = Field(foreign_key="payments.id", index=True)
    invoice_id: int = Field(foreign_key="invoices.id", index=True)
    amount: Decimal = Field(sa_type=Money)


def payments_visible_to(principal: Principal) -> Select[Payment]:
    return organization_rows(Payment, principal, col(Payment.customer_id) == principal.customer_id)


def allocate_payment(allocations: list[tuple[Invoice, Decimal]]) -> Decimal:
    """Apply one payment spread over invoices of one customer in one currency; returns its amount."""
    if len({invoice.customer_id for invoice, _ in allocations}) != 1:
        raise BadUserInput("A payment is for the invoices of one customer.")
    if len({invoice.currency for invoice, _ in allocations}) != 1:
        raise BadUserInput("A payment is for invoices in one currency.")
    for invoice, amount in allocations:
        check_payable(invoice, amount)
    for invoice, amount in allocations:
        apply_payment(invoice, amount)
    return sum((amount for _, amount in allocations), Decimal(0))


def payment_total(allocations: list[tuple[Invoice, Decimal]]) -> Decimal:
    """What a payment of these allocations comes to, if one payment can hold it (NUMERIC(14, 2))."""
    total = sum((amount for _, amount in allocations), Decimal(0))
    if total >= MAX_TOTAL:
        raise BadUserInput(f"One payment must stay below {MAX_TOTAL:,}: pay these invoices in several payments.",
                           field="invoice_ids")
    return total


def settlement_in_full(invoices: list[Invoice]) -> list[tuple[Invoice, Decimal]]:
    """How an online payment of several invoices is split: each invoice gets its whole balance due."""
    return [(invoice, invoice.balance_due) for invoice in invoices]


async def record_allocated_payment(session: AsyncSession, *, allocations: list[tuple[Invoice, Decimal]],
                                   payment_date: date, method: PaymentMethodKind, reference: str | None,
                                   contact_person_id: int | None = None) -> Payment:
    """One payment spread over invoices of one customer in one currency; the invoices must be locked."""
    total = allocate_payment(allocations)
    first = allocations[0][0]
    payment = Payment(
        organization_id=first.organization_id, customer_id=first.customer_id,
        contact_person_id=contact_person_id, number=await next_number(session, first.organization_id, "PAY"),
        date=payment_date, amount=total, currency=first.currency,
        method=method, reference=reference,
    )
    session.add(payment)
    await session.flush()
    for invoice, amount in allocations:
        session.add(PaymentAllocation(organization_id=first.organization_id, payment_id=saved_id(payment),
                                      invoice_id=saved_id(invoice), amount=amount))
    await session.flush()
    return payment


async def record_offline_payment(session: AsyncSession, invoice: Invoice, *, amount: Decimal, payment_date: date,
                                 reference: str | None) -> Payment:
    check = InputCheck()
    if not in_whole_cents(amount):
        check.add("amount", "A payment amount has at most two decimal places.")
    else:
        with check.collect():
            check_payable(invoice, amount)
    if reference is not None and len(reference) > 200:
        check.add("reference", "A reference has at most 200 characters.")
    check.done()
    check_not_reserved(invoice)
    amount = round_money(amount)  # once, at the door: the answer shows what every later read shows ("10.00")
    return await record_allocated_payment(session, allocations=[(invoice, amount)], payment_date=payment_date,
                                          method=PaymentMethodKind.OFFLINE, reference=reference)


async def allocations_of(session: AsyncSession, payment_ids: list[int]) -> dict[int, list[PaymentAllocation]]:
    rows = await session.scalars(
        select(PaymentAllocation).where(col(PaymentAllocation.payment_id).in_(payment_ids))
        .order_by(col(PaymentAllocation.id))
    )
    return group_by(rows, lambda row: row.payment_id)


async def payments_of_invoices(session: AsyncSession, invoice_ids: list[int]) -> dict[int, list[Payment]]:
    rows = await session.execute(
        select(col(PaymentAllocation.invoice_id), Payment)
        .join(Payment, col(Payment.id) == col(PaymentAllocation.payment_id))
        .where(col(PaymentAllocation.invoice_id).in_(invoice_ids))
        .order_by(col(Payment.date), col(Payment.number))
    )
    return group_pairs(rows)
