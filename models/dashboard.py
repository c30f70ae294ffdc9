"""The customer's dashboard: what is owed, the last payment, estimates to answer."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.models.customers import Customer
from portal.models.estimates import Estimate, EstimateStatus
from portal.models.invoices import OWED, Invoice, InvoiceKind
from portal.models.money import ZERO
from portal.models.payments import Payment
from portal.models.rows import saved_id


@dataclass(frozen=True)
class MoneySummary:
    count: int
    total: Decimal


@dataclass(frozen=True)
class Dashboard:
    currency: str
    banner_message: str | None
    outstanding_invoices: MoneySummary
    outstanding_retainer_invoices: MoneySummary
    last_payment: Payment | None
    estimates_awaiting_approval: int


async def outstanding(session: AsyncSession, customer_id: int) -> dict[InvoiceKind, MoneySummary]:
    """Sent, overdue and partly paid invoices by kind: drafts, voids and paid ones owe nothing."""
    rows = (await session.execute(
        select(col(Invoice.kind), col(Invoice.total), col(Invoice.amount_paid))
        .where(col(Invoice.customer_id) == customer_id, col(Invoice.status).in_(OWED))
    )).all()
    return {kind: MoneySummary(count=sum(1 for row in rows if row.kind == kind),
                               total=sum((row.total - row.amount_paid for row in rows if row.kind == kind), ZERO))
            for kind in InvoiceKind}


async def last_payment(session: AsyncSession, customer_id: int) -> Payment | None:
    return await session.scalar(select(Payment).where(col(Payment.customer_id) == customer_id)
                                .order_by(col(Payment.date).desc(), col(Payment.number).desc()).limit(1))


async def estimates_awaiting(session: AsyncSession, customer_id: int, today: date) -> int:
    counted = await session.execute(select(func.count()).select_from(Estimate).where(
        col(Estimate.customer_id) == customer_id, col(Estimate.status) == EstimateStatus.SENT,
        or_(col(Estimate.expiry_date).is_(None), col(Estimate.expiry_date) >= today)))
    return counted.scalar_one()


async def dashboard_for(session: AsyncSession, customer: Customer, *, today: date,
                        banner_message: str | None) -> Dashboard:
    customer_id = saved_id(customer)
    owed = await outstanding(session, customer_id)
    return Dashboard(
        currency=customer.currency,
        banner_message=banner_message,
        outstanding_invoices=owed[InvoiceKind.STANDARD],
        outstanding_retainer_invoices=owed[InvoiceKind.RETAINER],
        last_payment=await last_payment(session, customer_id),
        estimates_awaiting_approval=await estimates_awaiting(session, customer_id, today),
    )
