"""What estimates and invoices share: line items and their money rules."""
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, TypeVar

from sqlalchemy import Integer, Select, any_, bindparam, delete, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession, read_rows
from portal.core.errors import BadUserInput, InputCheck
from portal.models.auth import Principal
from portal.models.columns import Money, Quantity
from portal.models.lookup import group_pairs, organization_rows
from portal.models.money import Totals, decimal_places, document_totals, line_amounts
from portal.models.text import single_line

MAX_LINE_NAME = 200
MAX_LINES = 500
MAX_DESCRIPTION = 2000
MAX_TOTAL = Decimal(10) ** 12  # what NUMERIC(14, 2) holds


class LineItem(SQLModel, table=True):
    __tablename__ = "line_items"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    estimate_id: int | None = Field(default=None, foreign_key="estimates.id", index=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoices.id", index=True)
    position: int
    name: str = Field(max_length=MAX_LINE_NAME)
    description: str | None = None
    quantity: Decimal = Field(sa_type=Quantity)
    rate: Decimal = Field(sa_type=Quantity)
    tax_percent: Decimal = Field(sa_type=Quantity)
    amount: Decimal = Field(sa_type=Money)
    tax: Decimal = Field(sa_type=Money)


class Document(Protocol):
    """What estimates and invoices both have."""

    organization_id: int
    customer_id: int
    status: str


Shown = TypeVar("Shown", bound=Document)


def documents_visible_to(model: type[Shown], principal: Principal) -> Select[Shown]:
    """Estimates or invoices (`model`): the organization's, and for a contact person their customer's sent ones.

    Drafts are the staff's alone: DRAFT is a stored status of both kinds.
    """
    return organization_rows(model, principal, col(model.customer_id) == principal.customer_id,
                             col(model.status) != "DRAFT")


@dataclass(frozen=True)
class LineDraft:
    name: str
    quantity: Decimal
    rate: Decimal
    tax_percent: Decimal = Decimal(0)
    description: str | None = None


# The numbers of a line: field, name in messages, the range it must be in, and that range in words.
LINE_NUMBERS: tuple[tuple[str, str, Callable[[Decimal], bool], str], ...] = (
    ("quantity", "quantity", lambda value: value > 0, "must be greater than 0"),
    ("rate", "rate", lambda value: value >= 0, "must not be negative"),
    ("tax_percent", "taxPercent", lambda value: 0 <= value <= 100, "must be between 0 and 100"),
)


def validate_lines(drafts: list[LineDraft]) -> None:
    """Every problem of every line at once, each at its `line_items[i].field`."""
    if not drafts:
        raise BadUserInput("A document needs at least one line item.", field="line_items")
    if len(drafts) > MAX_LINES:
        raise BadUserInput(f"A document has at most {MAX_LINES} line items.", field="line_items")
    check = InputCheck()
    for index, draft in enumerate(drafts):
        with check.field(f"line_items[{index}]"):
            _validate_line(index + 1, draft)
    check.done()


def _validate_line(number: int, draft: LineDraft) -> None:
    check = InputCheck()
    if not 1 <= len(draft.name.strip()) <= MAX_LINE_NAME:
        check.add("name", f"Line {number}: the name has 1 to {MAX_LINE_NAME} characters.")
    if draft.description is not None and len(draft.description) > MAX_DESCRIPTION:
        check.add("description", f"Line {number}: the description has at most {MAX_DESCRIPTION:,} characters.")
    for field, label, in_range, rule in LINE_NUMBERS:
        value = getattr(draft, field)
        if not value.is_finite() or decimal_places(value) > 4 or abs(value) >= Decimal("1e10"):
            check.add(field, f"Line {number}: {label} must be a number below 10^10 with at most 4 decimals.")
        elif not in_range(value):
            check.add(field, f"Line {number}: {label} {rule}.")
    check.done()


def build_lines(drafts: list[LineDraft], *, organization_id: int) -> tuple[list[LineItem], Totals]:
    validate_lines(drafts)
    rows = []
    for position, draft in enumerate(drafts):
        amounts = line_amounts(draft.quantity, draft.rate, draft.tax_percent)
        rows.append(LineItem(
            organization_id=organization_id, position=position,
            name=single_line(draft.name, f"Line {position + 1}: the name", limit=MAX_LINE_NAME, required=True),
            description=draft.description, quantity=draft.quantity, rate=draft.rate,
            tax_percent=draft.tax_percent, amount=amounts.amount, tax=amounts.tax,
        ))
    totals = document_totals(rows)
    if totals.total >= MAX_TOTAL:
        raise BadUserInput(f"A document's total must stay below {MAX_TOTAL:,}.", field="line_items")
    return rows, totals


def as_drafts(rows: list[LineItem]) -> list[LineDraft]:
    return [LineDraft(name=row.name, description=row.description, quantity=row.quantity, rate=row.rate,
                      tax_percent=row.tax_percent) for row in rows]


async def replace_lines(session: AsyncSession, *, estimate_id: int | None = None, invoice_id: int | None = None,
                        rows: list[LineItem]) -> None:
    if estimate_id is not None:
        await session.execute(delete(LineItem).where(col(LineItem.estimate_id) == estimate_id))
    if invoice_id is not None:
        await session.execute(delete(LineItem).where(col(LineItem.invoice_id) == invoice_id))
    for row in rows:
        row.estimate_id, row.invoice_id = estimate_id, invoice_id
    session.add_all(rows)
    await session.flush()


class ShownLine(NamedTuple):
    """A line item as read for showing: plain columns, without an ORM object (and its tracking) per line;
    a tuple whose fields are read faster than a SQLAlchemy row's, many times a page."""

    name: str
    description: str | None
    quantity: Decimal
    rate: Decimal
    tax_percent: Decimal
    amount: Decimal
    tax: Decimal


SHOWN_LINE = (col(LineItem.name), col(LineItem.description), col(LineItem.quantity), col(LineItem.rate),
              col(LineItem.tax_percent), col(LineItem.amount), col(LineItem.tax))


_lines_statements: dict[tuple[str, str], Select[*tuple[Any, ...]]] = {}


def _lines_statement(column: Mapped[int | None], dialect: str) -> Select[*tuple[Any, ...]]:
    """Built once per kind of document (by its column's name) and database: a request pays for neither
    building the statement nor working out its cache key. PostgreSQL takes the ids as one array, whose
    statement stays the same text for any number of ids; SQLite has no arrays, and an IN list is expanded."""
    key = (str(col(column)), dialect)
    if key not in _lines_statements:
        if dialect == "postgresql":
            among = col(column) == any_(bindparam("document_ids", type_=postgresql.ARRAY(Integer)))
        else:
            among = col(column).in_(bindparam("document_ids", expanding=True))
        _lines_statements[key] = select(column, *SHOWN_LINE).where(among).order_by(col(LineItem.position))
    return _lines_statements[key]


async def lines_of(session: AsyncSession, column: Mapped[int | None],
                   document_ids: list[int]) -> dict[int, list[ShownLine]]:
    """Line items of many documents in one query, keyed by `column` (estimate_id or invoice_id)."""
    statement = _lines_statement(column, session.get_bind().dialect.name)
    rows = await read_rows(session, statement, {"document_ids": document_ids})
    # Neither IN nor = ANY matches a NULL: the test only tells the type checker so.
    return group_pairs((row[0], ShownLine(*row[1:])) for row in rows if row[0] is not None)
