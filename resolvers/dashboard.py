"""The dashboard and the statement of accounts of one customer."""
from portal.models.dashboard import Dashboard, dashboard_for
from portal.models.organizations import PortalSettings
from portal.models.statements import Statement, statement_for, statement_period
from portal.resolvers.scope import customer_of_view


async def dashboard(ctx, *, customer_id) -> Dashboard:
    customer = await customer_of_view(ctx, customer_id)
    settings = await ctx.session.get(PortalSettings, customer.organization_id)
    return await dashboard_for(ctx.session, customer, today=ctx.today, banner_message=settings.banner_message)


async def statement(ctx, *, start, end, customer_id) -> Statement:
    start, end = statement_period(start, end, ctx.today)
    customer = await customer_of_view(ctx, customer_id)
    return await statement_for(ctx.session, customer, start=start, end=end)
