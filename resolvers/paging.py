"""Relay paging by keyset: newest first, cursors that stay valid while documents are added."""
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, Tuple, bindparam, case, func, not_, select, tuple_
from sqlalchemy.orm import Mapped, QueryableAttribute
from sqlmodel import col

from portal.core.cursors import decode_page_cursor, encode_page_cursor
from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput
from portal.core.ids import bounded_int
from portal.models.estimates import Estimate
from portal.models.invoices import Invoice
from portal.models.payments import Payment

MAX_PAGE = 100
DEFAULT_PAGE = 20

Item = TypeVar("Item")
Dated = TypeVar("Dated", Estimate, Invoice, Payment)


@dataclass
class Page(Generic[Item]):
    rows: list[Item]
    cursors: list[str]
    has_next: bool
    total_count: int
    has_previous: bool = False

    @property
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def check_first(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    return check_size(first, "first")


def check_size(size: int, argument: str) -> int:
    if not 0 <= size <= MAX_PAGE:
        raise BadUserInput(f"`{argument}` is between 0 and {MAX_PAGE}.")
    return size


def attribute_name(column: Mapped[object]) -> str:
    """The name of a model's column attribute, `col(Model.name)`, as rows and subqueries know it."""
    if not isinstance(column, QueryableAttribute):
        raise TypeError(f"Pages are ordered by model columns, not {column!r}.")
    return column.key


def beyond(key: Tuple, position: Tuple, *, descending: bool) -> ColumnElement[bool]:
    """The rows after a cursor at `position`, in a listing ordered by `key`."""
    return key < position if descending else key > position


async def count_around(session: AsyncSession, query: Select[Item], *, columns: Sequence[Mapped[object]],
                       position: Tuple | None, descending: bool = True,
                       params: dict[str, Any] | None = None) -> tuple[int, int]:
    """How many rows `query` lists, and how many of them come before a page that starts after `position`
    (the row at the cursor and those ahead of it), in one statement; (total, 0) without a position."""
    listed = query.order_by(None).subquery()
    counts = [func.count()]
    if position is not None:
        key = tuple_(*(listed.c[attribute_name(column)] for column in columns))
        counts.append(func.count(case((not_(beyond(key, position, descending=descending)), 1))))
    total, *earlier = (await session.execute(select(*counts).select_from(listed), params or {})).one()
    return total, earlier[0] if earlier else 0


def first_page_statement(query: Select[Item], columns: Sequence[Mapped[object]], *,
                         descending: bool = True) -> Select[Any]:
    """A first page of `query` ordered by `columns`, and how many rows the whole list has, in one statement:
    `count(*) OVER ()` counts the rows the query lists before its LIMIT, which is bound as `page_rows`.
    A query listing distinct rows has no such statement (its window would count before DISTINCT)."""
    return query.order_by(*_ordering(columns, descending)).limit(bindparam("page_rows")).add_columns(
        func.count().over())


def _ordering(columns: Sequence[Mapped[object]], descending: bool) -> list[ColumnElement[Any]]:
    return [column.desc() if descending else column.asc() for column in columns]


async def _first_page(session: AsyncSession, statement: Select[Any], params: dict[str, Any],
                      size: int) -> tuple[list[Item], int]:
    """The rows of a first page and the list's total (no rows at all: the list is empty)."""
    counted = (await session.execute(statement, {**params, "page_rows": size + 1})).all()
    return [row[0] for row in counted], counted[0][1] if counted else 0


async def keyset_page(session: AsyncSession, query: Select[Item], *, columns: Sequence[Mapped[object]],
                      parsers: list[Callable[[Any], Any]], first: int | None, after: str | None,
                      descending: bool = True, params: dict[str, Any] | None = None,
                      first_page: Select[Any] | None = None) -> Page[Item]:
    """A page ordered by `columns` (the last one unique), resuming strictly after the cursor.

    `params` are the values of the query's bound parameters; `first_page` is its `first_page_statement`
    when that was built once with the query."""
    size = check_first(first)
    params = params or {}
    position = tuple_(*decode_page_cursor(after, parsers)) if after else None
    if position is None and not query._distinct:
        statement = first_page if first_page is not None else first_page_statement(query, columns,
                                                                                   descending=descending)
        rows, total = await _first_page(session, statement, params, size)
        earlier = 0
    else:
        total, earlier = await count_around(session, query, columns=columns, position=position,
                                            descending=descending, params=params)
        if position is not None:
            query = query.where(beyond(tuple_(*columns), position, descending=descending))
        rows = list(await session.scalars(query.order_by(*_ordering(columns, descending)).limit(size + 1), params))
    page = rows[:size]
    names = [attribute_name(column) for column in columns]
    cursors = [encode_page_cursor(tuple(getattr(row, name) for name in names)) for row in page]
    return Page(rows=page, cursors=cursors, has_next=len(rows) > size, total_count=total,
                has_previous=earlier > 0)


def newest_first_columns(model: type[Dated]) -> tuple[Mapped[object], ...]:
    return col(model.date), col(model.number), col(model.id)


async def newest_first(session: AsyncSession, query: Select[Dated], model: type[Dated], *, first: int | None,
                       after: str | None, params: dict[str, Any] | None = None,
                       first_page: Select[Any] | None = None) -> Page[Dated]:
    """Estimates, invoices or payments by date, then number, newest first."""
    return await keyset_page(session, query, columns=newest_first_columns(model),
                             parsers=[date.fromisoformat, str, bounded_int], first=first, after=after,
                             params=params, first_page=first_page)
