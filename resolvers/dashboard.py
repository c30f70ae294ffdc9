"""The dashboard and the statement of accounts of one customer."""
from datetime import date

from portal.models.dashboard import Dashboard, dashboard_for
from portal.models.statements import Statement, statement_for, statement_period
from portal.resolvers.context import Context
from portal.resolvers.scope import customer_of_view, customer_pk_of_view


async def dashboard(ctx: Context, *, customer_id: str | None) -> Dashboard:
    customer_pk = await customer_pk_of_view(ctx, customer_id)
    return await dashboard_for(ctx.session, ctx.viewer, customer_pk, today=ctx.today)


async def statement(ctx: Context, *, start: date | None, end: date | None, customer_id: str | None,
                    with_documents: bool = False) -> Statement:
    start, end = statement_period(start, end, ctx.today)
    customer = await customer_of_view(ctx, customer_id)
    return await statement_for(ctx.session, customer, start=start, end=end, with_documents=with_documents)
