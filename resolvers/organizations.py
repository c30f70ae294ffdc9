"""The business's profile and portal settings."""
from portal.core.errors import BadUserInput
from portal.models.organizations import PortalSettings
from portal.models.organizations import update_organization as change_organization
from portal.models.organizations import update_portal_settings as change_portal_settings
from portal.notifications.messages import portal_link


async def organization(ctx):
    return ctx.organization


def portal_url(ctx) -> str:
    return portal_link(ctx.settings, ctx.organization)


async def portal_settings(ctx) -> PortalSettings:
    principal = ctx.viewer
    return await ctx.session.get(PortalSettings, principal.organization_id)


async def update_organization(ctx, changes: dict):
    for required in ("name", "time_zone"):
        if required in changes and changes[required] is None:
            raise BadUserInput(f"{required} cannot be null.")
    await change_organization(ctx.session, ctx.organization, changes)
    return ctx.organization


async def update_portal_settings(ctx, changes: dict) -> PortalSettings:
    settings = await portal_settings(ctx)
    for flag, value in changes.items():
        if value is None and flag not in ("banner_message",):
            raise BadUserInput(f"{flag} cannot be null.")
    await change_portal_settings(ctx.session, ctx.organization, settings, changes)
    return settings
