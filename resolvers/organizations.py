"""The business's profile and portal settings."""
from portal.models.invoices import PaymentMethodKind, portal_payment_methods
from portal.models.organizations import Organization, PortalSettings, find_portal
from portal.models.organizations import update_organization as change_organization
from portal.models.organizations import update_portal_settings as change_portal_settings
from portal.notifications.emails import portal_link
from portal.resolvers.context import Context
from portal.resolvers.scope import customer_of_view


async def organization(ctx: Context) -> Organization:
    return await ctx.viewer_organization()


async def portal_url(ctx: Context) -> str:
    return portal_link(ctx.settings, await ctx.viewer_organization())


async def portal_settings(ctx: Context) -> PortalSettings:
    return await ctx.portal_settings()


async def my_portal(ctx: Context) -> tuple[PortalSettings, list[PaymentMethodKind]]:
    """The contact person's portal settings, and the ways their customer may pay in it."""
    customer = await customer_of_view(ctx, None)
    return await ctx.portal_settings(), portal_payment_methods(ach_enabled=customer.ach_enabled)


async def public_portal(ctx: Context, portal_name: str) -> tuple[Organization, PortalSettings] | None:
    return await find_portal(ctx.session, portal_name)


async def update_organization(ctx: Context, changes: dict) -> Organization:
    organization = await ctx.viewer_organization()
    await change_organization(ctx.session, organization, changes)
    return organization


async def update_portal_settings(ctx: Context, changes: dict) -> PortalSettings:
    settings = await portal_settings(ctx)
    await change_portal_settings(ctx.session, await ctx.viewer_organization(), settings, changes)
    return settings
