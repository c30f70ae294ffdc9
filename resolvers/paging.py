"""Relay paging by keyset: newest first, cursors that stay valid while documents are added."""
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, tuple_

from portal.core.cursors import decode_page_cursor, encode_page_cursor
from portal.core.errors import BadUserInput
from portal.core.ids import bounded_int

MAX_PAGE = 100
DEFAULT_PAGE = 20


@dataclass
class Page:
    rows: list[Any]
    cursors: list[str]
    has_next: bool
    total_count: int

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def check_first(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if not 0 <= first <= MAX_PAGE:
        raise BadUserInput(f"`first` is between 0 and {MAX_PAGE}.")
    return first


async def count(session, query) -> int:
    return await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


async def keyset_page(session, query, *, columns, parsers, first: int, after: str | None,
                      descending: bool = True) -> Page:
    """A page ordered by `columns` (the last one unique), resuming strictly after the cursor."""
    first = check_first(first)
    total = await count(session, query)
    if after:
        key, position = tuple_(*columns), tuple_(*decode_page_cursor(after, parsers))
        query = query.where(key < position if descending else key > position)
    ordering = [column.desc() if descending else column.asc() for column in columns]
    rows = list(await session.scalars(query.order_by(*ordering).limit(first + 1)))
    page = rows[:first]
    cursors = [encode_page_cursor(tuple(getattr(row, column.key) for column in columns)) for row in page]
    return Page(rows=page, cursors=cursors, has_next=len(rows) > first, total_count=total)


async def newest_first(session, query, model, *, first: int, after: str | None) -> Page:
    """Estimates, invoices or payments by date, then number, newest first."""
    return await keyset_page(session, query, columns=(model.date, model.number, model.id),
                             parsers=[date.fromisoformat, str, bounded_int], first=first, after=after)
