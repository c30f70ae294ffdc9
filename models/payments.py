"""Payments and how they are allocated to invoices."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import UniqueConstraint, select
from sqlmodel import Field, SQLModel

from portal.core.errors import BadUserInput
from portal.models.auth import Principal
from portal.models.columns import Money, UTCDateTime, utcnow
from portal.models.invoices import Invoice, PaymentMethodKind, apply_payment, check_not_reserved, check_payable
from portal.models.lookup import group_by, one_visible
from portal.models.money import round_money
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


def payments_visible_to(principal: Principal):
    query = select(Payment).where(Payment.organization_id == principal.organization_id)
    if principal.is_contact:
        query = query.where(Payment.customer_id == principal.customer_id)
    return query


async def get_payment(session, principal: Principal, payment_id: int) -> Payment:
    return await one_visible(session, payments_visible_to(principal).where(Payment.id == payment_id), "Payment")


async def record_allocated_payment(session, *, allocations: list[tuple[Invoice, Decimal]], payment_date: date,
                                   method: PaymentMethodKind, reference: str | None,
                                   contact_person_id: int | None = None) -> Payment:
    """One payment spread over invoices of one customer in one currency; the invoices must be locked."""
    first = allocations[0][0]
    if len({invoice.customer_id for invoice, _ in allocations}) != 1:
        raise BadUserInput("A payment is for the invoices of one customer.")
    if len({invoice.currency for invoice, _ in allocations}) != 1:
        raise BadUserInput("A payment is for invoices in one currency.")
    for invoice, amount in allocations:
        check_payable(invoice, amount)
    payment = Payment(
        organization_id=first.organization_id, customer_id=first.customer_id,
        contact_person_id=contact_person_id, number=await next_number(session, first.organization_id, "PAY"),
        date=payment_date, amount=sum(amount for _, amount in allocations), currency=first.currency,
        method=method, reference=reference,
    )
    session.add(payment)
    await session.flush()
    for invoice, amount in allocations:
        apply_payment(invoice, amount)
        session.add(PaymentAllocation(organization_id=first.organization_id, payment_id=payment.id,
                                      invoice_id=invoice.id, amount=amount))
    await session.flush()
    return payment


async def record_offline_payment(session, invoice: Invoice, *, amount: Decimal, payment_date: date,
                                 reference: str | None) -> Payment:
    if not amount.is_finite() or round_money(amount) != amount:
        raise BadUserInput("A payment amount has at most two decimal places.")
    if reference is not None and len(reference) > 200:
        raise BadUserInput("A reference has at most 200 characters.")
    check_not_reserved(invoice)
    return await record_allocated_payment(session, allocations=[(invoice, amount)], payment_date=payment_date,
                                          method=PaymentMethodKind.OFFLINE, reference=reference)


async def allocations_of(session, payment_ids: list[int]) -> dict[int, list[PaymentAllocation]]:
    rows = await session.scalars(
        select(PaymentAllocation).where(PaymentAllocation.payment_id.in_(payment_ids)).order_by(PaymentAllocation.id)
    )
    return group_by(rows, lambda row: row.payment_id)


async def payments_of_invoices(session, invoice_ids: list[int]) -> dict[int, list[Payment]]:
    rows = await session.execute(
        select(PaymentAllocation.invoice_id, Payment)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.invoice_id.in_(invoice_ids))
        .order_by(Payment.date, Payment.number)
    )
    return group_by(rows, key=lambda pair: pair[0], value=lambda pair: pair[1])
