"""Estimates, invoices and payments together, newest first, paged by (date, number).

Numbers carry their type's prefix (EST-, INV-, PAY-) and are unique per organization, so
(date, number) orders the three lists into one without ties.
"""
from datetime import date

from sqlalchemy import tuple_
from sqlmodel import col

from portal.core.cursors import decode_page_cursor, encode_page_cursor
from portal.models.estimates import Estimate, estimates_visible_to
from portal.models.invoices import Invoice, invoices_visible_to
from portal.models.payments import Payment, payments_visible_to
from portal.resolvers.context import Context
from portal.resolvers.paging import Page, check_first, count_around
from portal.resolvers.scope import customer_filter


async def transactions(ctx: Context, *, customer_id: str | None, first: int | None, after: str | None) -> Page:
    principal = ctx.viewer
    size = check_first(first)
    customer_pk = await customer_filter(ctx, customer_id)  # looked up once for the three lists
    position = tuple_(*decode_page_cursor(after, [date.fromisoformat, str])) if after else None
    rows: list[Estimate | Invoice | Payment] = []
    total = earlier = 0
    for model, visible in ((Estimate, estimates_visible_to), (Invoice, invoices_visible_to),
                           (Payment, payments_visible_to)):
        query = visible(principal)
        if customer_pk is not None:
            query = query.where(col(model.customer_id) == customer_pk)
        listed, before_page = await count_around(ctx.session, query, columns=(col(model.date), col(model.number)),
                                                 position=position)
        total, earlier = total + listed, earlier + before_page
        if position is not None:
            query = query.where(tuple_(col(model.date), col(model.number)) < position)
        query = query.order_by(col(model.date).desc(), col(model.number).desc()).limit(size + 1)
        rows += list(await ctx.session.scalars(query))
    rows.sort(key=lambda row: (row.date, row.number), reverse=True)
    page = rows[:size]
    return Page(rows=page, cursors=[encode_page_cursor((row.date, row.number)) for row in page],
                has_next=len(rows) > size, total_count=total, has_previous=earlier > 0)
