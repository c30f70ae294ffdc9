"""Projects: the owner keeps them; contact persons follow them where the portal allows."""
from portal.core.errors import Forbidden
from portal.core.ids import decode_id
from portal.models import projects as rules
from portal.models.customers import get_customer
from portal.models.organizations import PortalSettings
from portal.models.projects import Project


async def require_projects_shown(ctx) -> None:
    settings = await ctx.session.get(PortalSettings, ctx.principal.organization_id)
    if not settings.show_projects_and_timesheets:
        raise Forbidden("This portal does not show projects and timesheets.")


async def projects(ctx) -> list[Project]:
    principal = ctx.require_principal()
    if principal.is_contact:
        await require_projects_shown(ctx)
    return list(await ctx.session.scalars(rules.projects_visible_to(principal).order_by(Project.id)))


async def create_project(ctx, customer_id, *, name, description) -> Project:
    principal = ctx.require_staff()
    customer = await get_customer(ctx.session, principal, decode_id(customer_id, "Customer"))
    project = await rules.create_project(ctx.session, organization_id=principal.organization_id,
                                         customer_id=customer.id, name=name, description=description)
    await ctx.commit()
    return project


async def add_project_task(ctx, project_id, *, name, billable):
    principal = ctx.require_staff()
    project = await rules.get_project(ctx.session, principal, decode_id(project_id, "Project"))
    task = await rules.add_task(ctx.session, project, name=name, billable=billable)
    await ctx.commit()
    return task


async def log_time(ctx, task_id, *, entry_date, hours, notes, billed):
    principal = ctx.require_staff()
    task = await rules.get_task(ctx.session, principal, decode_id(task_id, "ProjectTask"))
    entry = await rules.log_time(ctx.session, task, entry_date=entry_date, hours=hours, notes=notes, billed=billed)
    await ctx.commit()
    return entry, task
