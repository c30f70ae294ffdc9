"""The dashboard and the statement of accounts of one customer."""
from datetime import date

from portal.models.dashboard import Dashboard, dashboard_for
from portal.models.statements import Statement, statement_for, statement_period
from portal.resolvers.context import Context
from portal.resolvers.scope import customer_of_view


async def dashboard(ctx: Context, *, customer_id: str | None) -> Dashboard:
    customer = await customer_of_view(ctx, customer_id)
    settings = await ctx.portal_settings()  # the customer's organization is the viewer's
    return await dashboard_for(ctx.session, customer, today=ctx.today, banner_message=settings.banner_message)


async def statement(ctx: Context, *, start: date | None, end: date | None, customer_id: str | None) -> Statement:
    start, end = statement_period(start, end, ctx.today)
    customer = await customer_of_view(ctx, customer_id)
    return await statement_for(ctx.session, customer, start=start, end=end)
