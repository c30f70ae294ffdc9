"""Projects: the owner keeps them; contact persons follow them where the portal allows."""
from portal.core.ids import decode_id
from portal.models import projects as rules
from portal.models.customers import get_customer
from portal.models.projects import Project


async def require_projects_shown(ctx) -> None:
    """Projects, their tasks, time and comments disappear from the portal when the owner hides them."""
    await ctx.require_portal_allows("show_projects_and_timesheets")


async def projects(ctx) -> list[Project]:
    return list(await ctx.session.scalars(rules.projects_visible_to(ctx.viewer).order_by(Project.id)))


async def create_project(ctx, customer_id, *, name, description) -> Project:
    principal = ctx.viewer
    customer = await get_customer(ctx.session, principal, decode_id(customer_id, "Customer"))
    project = await rules.create_project(ctx.session, organization_id=principal.organization_id,
                                         customer_id=customer.id, name=name, description=description)
    return project


async def add_project_task(ctx, project_id, *, name, billable):
    principal = ctx.viewer
    project = await rules.get_project(ctx.session, principal, decode_id(project_id, "Project"))
    task = await rules.add_task(ctx.session, project, name=name, billable=billable)
    return task


async def log_time(ctx, task_id, *, entry_date, hours, notes, billed):
    principal = ctx.viewer
    task = await rules.get_task(ctx.session, principal, decode_id(task_id, "ProjectTask"))
    entry = await rules.log_time(ctx.session, task, entry_date=entry_date, hours=hours, notes=notes, billed=billed)
    return entry, task
