"""The statement of accounts: opening balance, invoices and payments of a period, running balance."""
import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import BigInteger, ColumnElement, cast, func, select
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


class Billed(Protocol):
    """A billed invoice as the statement reads it: its row, or only these columns of it."""

    @property
    def date(self) -> date: ...

    @property
    def number(self) -> str: ...

    @property
    def total(self) -> Decimal: ...


class Received(Protocol):
    """A payment as the statement reads it: its row, or only these columns of it."""

    @property
    def date(self) -> date: ...

    @property
    def number(self) -> str: ...

    @property
    def amount(self) -> Decimal: ...


@dataclass(frozen=True)
class StatementLine:
    date: date
    kind: StatementLineKind
    reference: str
    amount: Decimal
    payment: Decimal
    balance: Decimal
    # The invoice or payment the line shows, as it was read (whole rows only where a client asked for them);
    # None for the opening balance.
    source: Billed | Received | None = None


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


# Drafts were never sent and voids were cancelled: neither is owed.
UNBILLED = (InvoiceStatus.DRAFT, InvoiceStatus.VOID)


def _billed(customer_id: int) -> list[ColumnElement[bool]]:
    return [col(Invoice.customer_id) == customer_id, col(Invoice.status).not_in(UNBILLED)]


def _cents(amount: Any) -> ColumnElement[int]:
    # Summed as whole cents: exact on both backends (SQLite keeps NUMERIC as REAL, whose sums drift).
    return func.coalesce(func.sum(cast(func.round(amount * 100), BigInteger)), 0)


async def opening_balance(session: AsyncSession, customer_id: int, start: date) -> Decimal:
    """Billed invoices minus payments dated before `start`, in one statement."""
    invoiced = select(_cents(col(Invoice.total))).where(*_billed(customer_id), col(Invoice.date) < start)
    paid = select(_cents(col(Payment.amount))).where(col(Payment.customer_id) == customer_id,
                                                      col(Payment.date) < start)
    cents = await session.scalar(select(invoiced.scalar_subquery() - paid.scalar_subquery()))
    return Decimal(cents or 0).scaleb(-2)


async def statement_for(session: AsyncSession, customer: Customer, *, start: date, end: date,
                        with_documents: bool = False) -> Statement:
    """Three statements however many lines: the opening balance, the period's billed invoices and its payments,
    each in date and number order. Only their columns are read, unless the lines' documents are wanted."""
    customer_id = saved_id(customer)
    opening = await opening_balance(session, customer_id, start)
    invoice_columns = (Invoice,) if with_documents else (
        col(Invoice.id), col(Invoice.date), col(Invoice.number), col(Invoice.total))
    payment_columns = (Payment,) if with_documents else (
        col(Payment.id), col(Payment.date), col(Payment.number), col(Payment.amount))
    invoices = await session.execute(
        select(*invoice_columns).where(*_billed(customer_id), col(Invoice.date).between(start, end))
        .order_by(col(Invoice.date), col(Invoice.number)))
    payments = await session.execute(
        select(*payment_columns).where(col(Payment.customer_id) == customer_id, col(Payment.date).between(start, end))
        .order_by(col(Payment.date), col(Payment.number)))
    if with_documents:
        return build_statement(customer, start=start, end=end, opening_balance=opening,
                               invoices=invoices.scalars().all(), payments=payments.scalars().all())
    return build_statement(customer, start=start, end=end, opening_balance=opening, invoices=invoices.all(),
                           payments=payments.all())


Entry = tuple[date, int, StatementLineKind, str, Decimal, Decimal, Billed | Received]


def _day_then_kind(entry: Entry) -> tuple[date, int]:
    return entry[0], entry[1]


def build_statement(customer: Customer, *, start: date, end: date, opening_balance: Decimal,
                    invoices: Sequence[Billed], payments: Sequence[Received]) -> Statement:
    """The statement from the opening balance and the period's invoices and payments, each list in date and
    number order: merged by date, on one day invoices first, with a running balance."""
    balance, invoiced, paid = opening_balance, ZERO, ZERO
    lines = [StatementLine(date=start, kind=StatementLineKind.OPENING_BALANCE, reference="Opening balance",
                           amount=ZERO, payment=ZERO, balance=balance)]
    # (date, invoices first, what the line shows): each list is in order already, so a merge keeps it.
    billed: Iterable[Entry] = ((invoice.date, 0, StatementLineKind.INVOICE, invoice.number, invoice.total, ZERO,
                                invoice) for invoice in invoices)
    received: Iterable[Entry] = ((payment.date, 1, StatementLineKind.PAYMENT, payment.number, ZERO, payment.amount,
                                  payment) for payment in payments)
    for day, _, kind, number, amount, payment, source in heapq.merge(billed, received, key=_day_then_kind):
        balance += amount - payment
        invoiced += amount
        paid += payment
        lines.append(StatementLine(date=day, kind=kind, reference=number, amount=amount, payment=payment,
                                   balance=balance, source=source))
    return Statement(customer=customer, start=start, end=end, currency=customer.currency,
                     opening_balance=opening_balance, invoiced_amount=invoiced, amount_paid=paid,
                     closing_balance=opening_balance + invoiced - paid, lines=lines)
