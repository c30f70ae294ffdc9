"""The statement of accounts: opening balance, invoices and payments of a period, running balance."""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Select, select
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput
from portal.models.customers import Customer
from portal.models.invoices import Invoice, InvoiceStatus
from portal.models.money import ZERO
from portal.models.payments import Payment
from portal.models.rows import saved_id

MAX_DAYS = 366 * 10


class StatementLineKind(StrEnum):
    OPENING_BALANCE = "OPENING_BALANCE"
    INVOICE = "INVOICE"
    PAYMENT = "PAYMENT"


@dataclass(frozen=True)
class StatementLine:
    date: date
    kind: StatementLineKind
    reference: str
    amount: Decimal
    payment: Decimal
    balance: Decimal
    # The invoice or payment the line shows; None for the opening balance.
    source: Invoice | Payment | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Statement:
    customer: Customer
    start: date
    end: date
    currency: str
    opening_balance: Decimal
    invoiced_amount: Decimal
    amount_paid: Decimal
    closing_balance: Decimal
    lines: list[StatementLine]


def statement_period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """By default, the current calendar month up to today."""
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise BadUserInput("`from` must not be after `to`.")
    if (end - start).days > MAX_DAYS:
        raise BadUserInput("A statement covers at most ten years.")
    return start, end


def _billed(customer_id: int) -> Select[Invoice]:
    # Drafts were never sent and voids were cancelled: neither is owed.
    return select(Invoice).where(col(Invoice.customer_id) == customer_id,
                                 col(Invoice.status).not_in((InvoiceStatus.DRAFT, InvoiceStatus.VOID)))


async def statement_for(session: AsyncSession, customer: Customer, *, start: date, end: date) -> Statement:
    customer_id = saved_id(customer)
    invoices = list(await session.scalars(_billed(customer_id).where(col(Invoice.date) <= end)))
    payments = list(await session.scalars(
        select(Payment).where(col(Payment.customer_id) == customer_id, col(Payment.date) <= end)))
    return build_statement(customer, start=start, end=end, invoices=invoices, payments=payments)


def build_statement(customer: Customer, *, start: date, end: date, invoices: list[Invoice],
                    payments: list[Payment]) -> Statement:
    """The statement from the customer's billed invoices and payments dated up to `end`."""
    opening = (sum((i.total for i in invoices if i.date < start), ZERO)
               - sum((p.amount for p in payments if p.date < start), ZERO))
    entries = sorted(
        [(i.date, i.number, StatementLineKind.INVOICE, i.total, ZERO, i) for i in invoices if i.date >= start]
        + [(p.date, p.number, StatementLineKind.PAYMENT, ZERO, p.amount, p) for p in payments if p.date >= start],
        key=lambda entry: (entry[0], entry[1]),
    )
    balance = opening
    lines = [StatementLine(date=start, kind=StatementLineKind.OPENING_BALANCE, reference="Opening balance",
                           amount=ZERO, payment=ZERO, balance=opening)]
    for entry_date, number, kind, amount, payment, source in entries:
        balance += amount - payment
        lines.append(StatementLine(date=entry_date, kind=kind, reference=number, amount=amount, payment=payment,
                                   balance=balance, source=source))
    invoiced = sum((line.amount for line in lines), ZERO)
    paid = sum((line.payment for line in lines), ZERO)
    return Statement(customer=customer, start=start, end=end, currency=customer.currency, opening_balance=opening,
                     invoiced_amount=invoiced, amount_paid=paid, closing_balance=opening + invoiced - paid,
                     lines=lines)
