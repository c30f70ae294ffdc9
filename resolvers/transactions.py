"""Estimates, invoices and payments together, newest first, paged by (date, number).

Numbers carry their type's prefix (EST-, INV-, PAY-) and are unique per organization, so
(date, number) orders the three lists into one without ties.
"""
from datetime import date

from sqlalchemy import Select, Tuple, tuple_
from sqlmodel import col

from portal.core.cursors import decode_page_cursor, encode_page_cursor
from portal.core.database import AsyncSession
from portal.models.estimates import Estimate, estimates_visible_to
from portal.models.invoices import Invoice, invoices_visible_to
from portal.models.payments import Payment, payments_visible_to
from portal.resolvers.context import Context
from portal.resolvers.paging import Dated, Page, check_first, count_around
from portal.resolvers.scope import customer_filter


async def transactions(ctx: Context, *, customer_id: str | None, first: int | None,
                       after: str | None) -> Page[Estimate | Invoice | Payment]:
    principal = ctx.viewer
    size = check_first(first)
    customer_pk = await customer_filter(ctx, customer_id)  # looked up once for the three lists
    position = tuple_(*decode_page_cursor(after, [date.fromisoformat, str])) if after else None
    rows: list[Estimate | Invoice | Payment] = []
    total = earlier = 0
    for kind_rows, listed, before_page in (
            await _newest_of_kind(ctx.session, estimates_visible_to(principal), Estimate, customer_pk, position, size),
            await _newest_of_kind(ctx.session, invoices_visible_to(principal), Invoice, customer_pk, position, size),
            await _newest_of_kind(ctx.session, payments_visible_to(principal), Payment, customer_pk, position, size)):
        rows += kind_rows
        total, earlier = total + listed, earlier + before_page
    rows.sort(key=lambda row: (row.date, row.number), reverse=True)
    page = rows[:size]
    return Page(rows=page, cursors=[encode_page_cursor((row.date, row.number)) for row in page],
                has_next=len(rows) > size, total_count=total, has_previous=earlier > 0)


async def _newest_of_kind(session: AsyncSession, query: Select[Dated], model: type[Dated], customer_pk: int | None,
                          position: Tuple | None, size: int) -> tuple[list[Dated], int, int]:
    """Up to `size + 1` rows of one kind after `position`, newest first; how many the kind lists in all,
    and how many of those come before the page."""
    if customer_pk is not None:
        query = query.where(col(model.customer_id) == customer_pk)
    listed, before_page = await count_around(session, query, columns=(col(model.date), col(model.number)),
                                             position=position)
    if position is not None:
        query = query.where(tuple_(col(model.date), col(model.number)) < position)
    query = query.order_by(col(model.date).desc(), col(model.number).desc()).limit(size + 1)
    return list(await session.scalars(query)), listed, before_page
