"""The dashboard and the statement of accounts of one customer."""
from datetime import date

from portal.core.errors import BadUserInput
from portal.models.dashboard import Dashboard, dashboard_for
from portal.models.statements import (
    Statement,
    StatementDocuments,
    statement_documents,
    statement_for,
    statement_period,
)
from portal.resolvers.context import Context
from portal.resolvers.scope import customer_filter, customer_of_view


async def dashboard(ctx: Context, *, customer_id: str | None) -> Dashboard:
    customer_pk = await customer_filter(ctx, customer_id)  # a contact person's own, without a query
    if customer_pk is None:
        raise BadUserInput("Staff must give a customerId.")
    return await dashboard_for(ctx.session, ctx.viewer, customer_pk, today=ctx.today)


async def statement(ctx: Context, *, start: date | None, end: date | None, customer_id: str | None) -> Statement:
    start, end = statement_period(start, end, ctx.today)
    customer = await customer_of_view(ctx, customer_id)
    return await statement_for(ctx.session, customer, start=start, end=end)


async def documents_of_statement(ctx: Context, statement: Statement) -> StatementDocuments:
    """The invoices and payments of a statement's lines, read only if a client asks for them."""
    return await statement_documents(ctx.session, ctx.viewer, statement)
