"""Invoices: what a customer owes, and how much of it is paid."""
import datetime as dt
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, UniqueConstraint, and_, or_
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput, Conflict, Forbidden, InputCheck
from portal.models.auth import Principal
from portal.models.columns import Money, UTCDateTime, utcnow
from portal.models.customers import Customer
from portal.models.documents import LineDraft, build_lines, documents_visible_to, replace_lines
from portal.models.lookup import one_visible
from portal.models.money import ZERO
from portal.models.rows import saved_id
from portal.models.sequences import next_number

DEFAULT_TERMS = timedelta(days=30)


class InvoiceKind(StrEnum):
    STANDARD = "STANDARD"
    RETAINER = "RETAINER"


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    OVERDUE = "OVERDUE"  # never stored: SENT or PARTIALLY_PAID past the due date
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    VOID = "VOID"


class PaymentMethodKind(StrEnum):
    CARD = "CARD"
    BANK_ACCOUNT = "BANK_ACCOUNT"
    OFFLINE = "OFFLINE"


OWED = (InvoiceStatus.SENT, InvoiceStatus.PARTIALLY_PAID)  # stored statuses with a balance to pay


class Invoice(SQLModel, table=True):
    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("organization_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    estimate_id: int | None = Field(default=None, foreign_key="estimates.id")
    number: str = Field(max_length=20)
    kind: str = Field(default=InvoiceKind.STANDARD, max_length=10)
    # In this class body the `date` column hides the type: name the type through its module.
    date: dt.date
    due_date: dt.date
    status: str = Field(default=InvoiceStatus.DRAFT, max_length=16)
    currency: str = Field(max_length=3)
    sub_total: Decimal = Field(sa_type=Money)
    tax_total: Decimal = Field(sa_type=Money)
    total: Decimal = Field(sa_type=Money)
    amount_paid: Decimal = Field(default=ZERO, sa_type=Money)
    payment_options: str = Field(default=PaymentMethodKind.CARD, max_length=40)
    # The online payment attempt holding this invoice until its charge is recorded (no FK: attempts
    # reference invoices by id list, and a cycle of foreign keys would complicate migrations).
    reserved_by_attempt_id: int | None = None
    viewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def balance_due(self) -> Decimal:
        """What is still owed; a void invoice owes nothing."""
        return ZERO if self.status == InvoiceStatus.VOID else self.total - self.amount_paid

    @property
    def payment_methods(self) -> list[PaymentMethodKind]:
        return [PaymentMethodKind(kind) for kind in self.payment_options.split(",") if kind]

    def status_on(self, today: dt.date) -> InvoiceStatus:
        if self.status in OWED and self.due_date < today:
            return InvoiceStatus.OVERDUE
        return InvoiceStatus(self.status)


def invoices_visible_to(principal: Principal) -> Select[Invoice]:
    """Every invoice query starts here: the organization's, and for a contact their customer's, sent ones."""
    return documents_visible_to(Invoice, principal)


def having_status(status: InvoiceStatus, today: date) -> ColumnElement[bool]:
    if status == InvoiceStatus.OVERDUE:
        return and_(col(Invoice.status).in_(OWED), col(Invoice.due_date) < today)
    if status in OWED:
        return and_(col(Invoice.status) == status, col(Invoice.due_date) >= today)
    return col(Invoice.status) == status


def having_any_status(statuses: list[InvoiceStatus], today: date) -> ColumnElement[bool]:
    """Invoices whose status as of `today` (`Invoice.status_on`) is any of `statuses`."""
    return or_(*(having_status(status, today) for status in dict.fromkeys(statuses)))


async def get_invoice(session: AsyncSession, principal: Principal, invoice_id: int, *,
                      for_update: bool = False) -> Invoice:
    query = invoices_visible_to(principal).where(col(Invoice.id) == invoice_id)
    return await one_visible(session, query, "Invoice", for_update=for_update)


def _payment_options(options: list[PaymentMethodKind] | None) -> str:
    options = list(dict.fromkeys(options or [PaymentMethodKind.CARD]))
    if PaymentMethodKind.OFFLINE in options:
        raise BadUserInput("paymentOptions are the ways to pay in the portal: CARD or BANK_ACCOUNT.")
    return ",".join(options)


def default_due_date(invoice_date: date) -> date | None:
    """The due date of an invoice whose due date is not given; None past the calendar's last day (9999-12-31)."""
    try:
        return invoice_date + DEFAULT_TERMS
    except OverflowError:
        return None


async def create_invoice(session: AsyncSession, customer: Customer, *, today: date, kind: InvoiceKind,
                         invoice_date: date | None, due_date: date | None, lines: list[LineDraft],
                         payment_options: list[PaymentMethodKind] | None, send: bool,
                         estimate_id: int | None = None) -> Invoice:
    invoice_date = invoice_date or today
    check = InputCheck()
    if due_date is None:
        due_date = default_due_date(invoice_date)
        if due_date is None:
            check.add("date", f"An invoice dated {invoice_date} has no due date {DEFAULT_TERMS.days} days later "
                              "in the calendar: give its due date.")
            due_date = invoice_date
    if due_date < invoice_date:
        check.add("due_date", "The due date cannot be before the invoice date.")
    with check.collect():
        rows, totals = build_lines(lines, organization_id=customer.organization_id)
    with check.field("payment_options"):
        options = _payment_options(payment_options)
    check.done()
    invoice = Invoice(
        organization_id=customer.organization_id, customer_id=saved_id(customer), estimate_id=estimate_id,
        number=await next_number(session, customer.organization_id, "INV"),
        kind=kind, date=invoice_date, due_date=due_date, currency=customer.currency,
        status=InvoiceStatus.DRAFT,
        sub_total=totals.sub_total, tax_total=totals.tax_total, total=totals.total,
        payment_options=options,
    )
    if send:
        send_invoice(invoice)
    session.add(invoice)
    await session.flush()
    await replace_lines(session, invoice_id=invoice.id, rows=rows)
    return invoice


def send_invoice(invoice: Invoice) -> Invoice:
    if invoice.status == InvoiceStatus.VOID:
        raise Conflict(f"Invoice {invoice.number} is VOID and cannot be sent.")
    if invoice.status == InvoiceStatus.DRAFT:
        # Nothing to pay (a free service, a 100 % discount) is settled the moment it is sent.
        invoice.status = InvoiceStatus.PAID if invoice.total == 0 else InvoiceStatus.SENT
    return invoice


def check_not_reserved(invoice: Invoice) -> None:
    if invoice.reserved_by_attempt_id is not None:
        raise Conflict(f"An online payment of invoice {invoice.number} is in progress.")


def void_invoice(invoice: Invoice) -> Invoice:
    check_not_reserved(invoice)
    if invoice.amount_paid > 0:
        raise Conflict(f"Invoice {invoice.number} has payments and cannot be voided.")
    invoice.status = InvoiceStatus.VOID
    return invoice


def check_payable(invoice: Invoice, amount: Decimal) -> None:
    """An allocation must go to a sent, unpaid invoice, and be at most its balance."""
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        raise BadUserInput(f"Invoice {invoice.number} is {invoice.status} and cannot take a payment.")
    if invoice.status == InvoiceStatus.PAID:
        raise BadUserInput(f"Invoice {invoice.number} is already paid.")
    if amount <= 0:
        raise BadUserInput("A payment amount must be greater than 0.", field="amount")
    if amount > invoice.balance_due:
        raise BadUserInput(f"{amount} is more than the balance due of invoice {invoice.number} "
                           f"({invoice.balance_due}).", field="amount")


def portal_payment_methods(*, ach_enabled: bool) -> list[PaymentMethodKind]:
    """How a customer may pay in the portal: by card always, by bank account where ACH is enabled."""
    return [PaymentMethodKind.CARD, *([PaymentMethodKind.BANK_ACCOUNT] if ach_enabled else [])]


def check_payable_online(invoices: list[Invoice], *, method: PaymentMethodKind, ach_enabled: bool) -> None:
    """Invoices paid together online: sent and unpaid, not held by another payment, in one currency,
    each open to the method; a bank account only for a customer allowed ACH."""
    for invoice in invoices:
        if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
            raise BadUserInput(f"Invoice {invoice.number} is {invoice.status} and cannot be paid.")
    for invoice in invoices:
        if invoice.status == InvoiceStatus.PAID or invoice.balance_due <= 0:
            raise Conflict(f"Invoice {invoice.number} is already paid.")
        if invoice.reserved_by_attempt_id is not None:
            raise Conflict(f"A payment of invoice {invoice.number} is in progress.")
    if len({invoice.currency for invoice in invoices}) != 1:
        raise BadUserInput("Invoices in different currencies are paid separately.")
    if method == PaymentMethodKind.BANK_ACCOUNT and not ach_enabled:
        raise Forbidden("This customer may not pay by bank account.")
    for invoice in invoices:
        if method not in invoice.payment_methods:
            raise BadUserInput(f"Invoice {invoice.number} cannot be paid by {method}.")


def apply_payment(invoice: Invoice, amount: Decimal) -> None:
    check_payable(invoice, amount)
    invoice.amount_paid += amount
    invoice.status = InvoiceStatus.PAID if invoice.balance_due == 0 else InvoiceStatus.PARTIALLY_PAID
