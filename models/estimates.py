"""Estimates: offers a customer accepts or declines, and that become invoices."""
import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, UniqueConstraint, and_, or_, select
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput, Conflict, InputCheck
from portal.models.auth import Principal
from portal.models.columns import Money, UTCDateTime, utcnow
from portal.models.customers import Customer
from portal.models.documents import LineDraft, LineItem, build_lines, documents_visible_to, replace_lines
from portal.models.lookup import one_visible
from portal.models.money import Totals
from portal.models.rows import saved_id
from portal.models.sequences import next_number


class EstimateStatus(StrEnum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"  # never stored: a SENT estimate past its expiry date
    INVOICED = "INVOICED"


class Estimate(SQLModel, table=True):
    __tablename__ = "estimates"
    __table_args__ = (UniqueConstraint("organization_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    number: str = Field(max_length=20)
    # In this class body the `date` column hides the type: name the type through its module.
    date: dt.date
    expiry_date: dt.date | None = None
    status: str = Field(default=EstimateStatus.DRAFT, max_length=10)
    currency: str = Field(max_length=3)
    sub_total: Decimal = Field(sa_type=Money)
    tax_total: Decimal = Field(sa_type=Money)
    total: Decimal = Field(sa_type=Money)
    viewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    declined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decline_reason: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def status_on(self, today: dt.date) -> EstimateStatus:
        if self.status == EstimateStatus.SENT and self.expiry_date is not None and self.expiry_date < today:
            return EstimateStatus.EXPIRED
        return EstimateStatus(self.status)


def estimates_visible_to(principal: Principal) -> Select[Estimate]:
    """Every estimate query starts here: the organization's, and for a contact their customer's, sent ones."""
    return documents_visible_to(Estimate, principal)


def having_status(status: EstimateStatus, today: date) -> ColumnElement[bool]:
    expired = and_(col(Estimate.status) == EstimateStatus.SENT, col(Estimate.expiry_date) < today)
    if status == EstimateStatus.EXPIRED:
        return expired
    if status == EstimateStatus.SENT:
        return and_(col(Estimate.status) == EstimateStatus.SENT,
                    or_(col(Estimate.expiry_date).is_(None), col(Estimate.expiry_date) >= today))
    return col(Estimate.status) == status


def having_any_status(statuses: list[EstimateStatus], today: date) -> ColumnElement[bool]:
    """Estimates whose status as of `today` (`Estimate.status_on`) is any of `statuses`."""
    return or_(*(having_status(status, today) for status in dict.fromkeys(statuses)))


async def get_estimate(session: AsyncSession, principal: Principal, estimate_id: int, *,
                       for_update: bool = False) -> Estimate:
    query = estimates_visible_to(principal).where(col(Estimate.id) == estimate_id)
    return await one_visible(session, query, "Estimate", for_update=for_update)


def _checked_lines(drafts: list[LineDraft], *, organization_id: int, estimate_date: date,
                   expiry_date: date | None) -> tuple[list[LineItem], Totals]:
    """The estimate's line rows and totals, once its dates and every line are found right."""
    check = InputCheck()
    if expiry_date is not None and expiry_date < estimate_date:
        check.add("expiry_date", "The expiry date cannot be before the estimate date.")
    with check.collect():
        rows, totals = build_lines(drafts, organization_id=organization_id)
    check.done()
    return rows, totals


async def create_estimate(session: AsyncSession, customer: Customer, *, today: date, estimate_date: date | None,
                          expiry_date: date | None, lines: list[LineDraft], send: bool) -> Estimate:
    estimate_date = estimate_date or today
    rows, totals = _checked_lines(lines, organization_id=customer.organization_id, estimate_date=estimate_date,
                                  expiry_date=expiry_date)
    estimate = Estimate(
        organization_id=customer.organization_id, customer_id=saved_id(customer),
        number=await next_number(session, customer.organization_id, "EST"),
        date=estimate_date, expiry_date=expiry_date, currency=customer.currency, status=EstimateStatus.DRAFT,
        sub_total=totals.sub_total, tax_total=totals.tax_total, total=totals.total,
    )
    if send:  # sent by the same rule as sendEstimate's, which refuses an estimate already expired
        send_estimate(estimate, today=today)
    session.add(estimate)
    await session.flush()
    await replace_lines(session, estimate_id=estimate.id, rows=rows)
    return estimate


async def update_estimate(session: AsyncSession, estimate: Estimate, customer: Customer, *,
                          estimate_date: date | None, expiry_date: date | None, lines: list[LineDraft]) -> Estimate:
    rows = revise_estimate(estimate, customer, estimate_date=estimate_date, expiry_date=expiry_date, lines=lines)
    await replace_lines(session, estimate_id=estimate.id, rows=rows)
    return estimate


def revise_estimate(estimate: Estimate, customer: Customer, *, estimate_date: date | None,
                    expiry_date: date | None, lines: list[LineDraft]) -> list[LineItem]:
    """Edit a draft or sent estimate, or rework a declined one (it becomes a draft to send again).

    Returns the new line rows, for the caller to store in place of the old ones.
    """
    if estimate.status in (EstimateStatus.ACCEPTED, EstimateStatus.INVOICED):
        raise Conflict(f"Estimate {estimate.number} is {estimate.status} and can no longer be changed.")
    estimate_date = estimate_date or estimate.date
    rows, totals = _checked_lines(lines, organization_id=estimate.organization_id, estimate_date=estimate_date,
                                  expiry_date=expiry_date)
    if estimate.status == EstimateStatus.DECLINED:
        estimate.status = EstimateStatus.DRAFT
        estimate.declined_at = None
        estimate.decline_reason = None
    estimate.customer_id, estimate.currency = saved_id(customer), customer.currency
    estimate.date, estimate.expiry_date = estimate_date, expiry_date
    estimate.sub_total, estimate.tax_total, estimate.total = totals.sub_total, totals.tax_total, totals.total
    return rows


def send_estimate(estimate: Estimate, *, today: date) -> Estimate:
    if estimate.status == EstimateStatus.DECLINED:
        raise Conflict(f"Estimate {estimate.number} was declined: rework it with updateEstimate first.")
    if estimate.status not in (EstimateStatus.DRAFT, EstimateStatus.SENT):
        raise Conflict(f"Estimate {estimate.number} is {estimate.status_on(today)} and cannot be sent.")
    if estimate.expiry_date is not None and estimate.expiry_date < today:
        raise BadUserInput(f"Estimate {estimate.number} expired on {estimate.expiry_date}; "
                           "change its expiry date first.")
    estimate.status = EstimateStatus.SENT
    return estimate


def _check_open_for_answer(estimate: Estimate, today: date) -> None:
    status = estimate.status_on(today)
    if status != EstimateStatus.SENT:
        raise Conflict(f"Estimate {estimate.number} is {status}; only a sent, unexpired estimate can be answered.")


def accept_estimate(estimate: Estimate, *, today: date) -> Estimate:
    _check_open_for_answer(estimate, today)
    estimate.status = EstimateStatus.ACCEPTED
    estimate.accepted_at = utcnow()
    return estimate


def decline_estimate(estimate: Estimate, *, today: date, reason: str | None) -> Estimate:
    _check_open_for_answer(estimate, today)
    if reason is not None and len(reason) > 2000:
        raise BadUserInput("A reason has at most 2,000 characters.", field="reason")
    estimate.status = EstimateStatus.DECLINED
    estimate.declined_at = utcnow()
    estimate.decline_reason = reason
    return estimate


def mark_invoiced(estimate: Estimate, *, today: date) -> None:
    if estimate.status != EstimateStatus.ACCEPTED:
        raise Conflict(f"Estimate {estimate.number} is {estimate.status_on(today)}; "
                       "only an accepted estimate can become an invoice.")
    estimate.status = EstimateStatus.INVOICED


async def estimate_lines(session: AsyncSession, estimate: Estimate) -> list[LineItem]:
    rows = await session.scalars(
        select(LineItem).where(col(LineItem.estimate_id) == estimate.id).order_by(col(LineItem.position))
    )
    return list(rows)
