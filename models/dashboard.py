"""The customer's dashboard: what is owed, the last payment, estimates to answer."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Label,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.core.errors import NotFound
from portal.models.auth import Principal
from portal.models.customers import Customer
from portal.models.estimates import Estimate, EstimateStatus
from portal.models.invoices import OWED, Invoice, InvoiceKind
from portal.models.organizations import PortalSettings
from portal.models.payments import Payment


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


# The dashboard is one statement, built once at import: a request pays only for the compiled-cache lookup.
_CUSTOMER_ID = bindparam("customer_id", type_=Integer)
_ORGANIZATION_ID = bindparam("organization_id", type_=Integer)
_TODAY = bindparam("today", type_=Date)


def _owed(kind: InvoiceKind) -> tuple[Label[int], Label[int]]:
    """How many owed invoices of `kind` there are, and their balance due in cents.

    In cents because SQLite keeps NUMERIC as REAL: a sum of integers is exact on both databases, a sum of
    floats is not. Each balance is whole cents, so rounding it to them only undoes the float's error.
    """
    of_kind = col(Invoice.kind) == kind.value
    balance = cast(func.round((col(Invoice.total) - col(Invoice.amount_paid)) * literal_column("100")), BigInteger)
    name = kind.value.lower()
    return (func.count(case((of_kind, 1))).label(f"{name}_count"),
            func.coalesce(func.sum(case((of_kind, balance))), 0).label(f"{name}_cents"))


# Sent and partly paid invoices: drafts, voids and paid ones owe nothing. The statuses are literals, not
# an expanding IN, so that the SQL is complete when compiled and not rewritten at each execution.
_OUTSTANDING = (
    select(*_owed(InvoiceKind.STANDARD), *_owed(InvoiceKind.RETAINER))
    .where(col(Invoice.customer_id) == _CUSTOMER_ID,
           col(Invoice.status).in_([literal(status.value) for status in OWED]))
    .subquery("outstanding"))

_ESTIMATES_AWAITING = (
    select(func.count()).select_from(Estimate)
    .where(col(Estimate.customer_id) == _CUSTOMER_ID, col(Estimate.status) == EstimateStatus.SENT.value,
           or_(col(Estimate.expiry_date).is_(None), col(Estimate.expiry_date) >= _TODAY))
    .scalar_subquery())

_LAST_PAYMENT_ID = (
    select(col(Payment.id)).where(col(Payment.customer_id) == _CUSTOMER_ID)
    .order_by(col(Payment.date).desc(), col(Payment.number).desc()).limit(1)
    .scalar_subquery())

DASHBOARD = (
    select(col(Customer.currency), col(PortalSettings.organization_id).label("settings_found"),
           col(PortalSettings.banner_message), _OUTSTANDING, _ESTIMATES_AWAITING.label("estimates_awaiting"), Payment)
    .select_from(Customer)
    .outerjoin(PortalSettings, col(PortalSettings.organization_id) == col(Customer.organization_id))
    .join(_OUTSTANDING, true())
    .outerjoin(Payment, col(Payment.id) == _LAST_PAYMENT_ID)
    # what customers_visible_to(principal) lets through: the organization's (a contact's own: dashboard_for)
    .where(col(Customer.id) == _CUSTOMER_ID, col(Customer.organization_id) == _ORGANIZATION_ID))


def _summary(count: int, cents: int | Decimal) -> MoneySummary:
    return MoneySummary(count=count, total=Decimal(cents).scaleb(-2))  # 23000 cents: 230.00


async def dashboard_for(session: AsyncSession, principal: Principal, customer_id: int, *, today: date) -> Dashboard:
    """The dashboard of a customer the principal may see; another customer's answers NotFound, like a missing one."""
    if principal.is_contact and customer_id != principal.customer_id:
        raise NotFound("Customer")
    row = (await session.execute(DASHBOARD, {"customer_id": customer_id, "organization_id": principal.organization_id,
                                             "today": today})).one_or_none()
    if row is None:
        raise NotFound("Customer")
    if row.settings_found is None:  # made with the organization: only a deleted organization has none
        raise NotFound("Organization")
    return Dashboard(
        currency=row.currency,
        banner_message=row.banner_message,
        outstanding_invoices=_summary(row.standard_count, row.standard_cents),
        outstanding_retainer_invoices=_summary(row.retainer_count, row.retainer_cents),
        last_payment=row.Payment,
        estimates_awaiting_approval=row.estimates_awaiting,
    )
