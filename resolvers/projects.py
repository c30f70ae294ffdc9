"""Projects: the owner keeps them; contact persons follow them where the portal allows."""
from datetime import date
from decimal import Decimal

from sqlmodel import col

from portal.core.ids import decode_id
from portal.models import projects as rules
from portal.models.customers import get_customer
from portal.models.projects import Project, ProjectTask, TimeEntry
from portal.models.rows import saved_id
from portal.resolvers.context import Context


async def require_projects_shown(ctx: Context) -> None:
    """Projects, their tasks, time and comments disappear from the portal when the owner hides them."""
    await ctx.require_portal_allows("show_projects_and_timesheets")


async def projects(ctx: Context) -> list[Project]:
    return list(await ctx.session.scalars(rules.projects_visible_to(ctx.viewer).order_by(col(Project.id))))


async def create_project(ctx: Context, customer_id: str, *, name: str, description: str | None) -> Project:
    principal = ctx.viewer
    customer = await get_customer(ctx.session, principal, decode_id(customer_id, "Customer"))
    return await rules.create_project(ctx.session, organization_id=principal.organization_id,
                                         customer_id=saved_id(customer), name=name, description=description)


async def add_project_task(ctx: Context, project_id: str, *, name: str, billable: bool) -> ProjectTask:
    principal = ctx.viewer
    project = await rules.get_project(ctx.session, principal, decode_id(project_id, "Project"))
    return await rules.add_task(ctx.session, project, name=name, billable=billable)


async def log_time(ctx: Context, task_id: str, *, entry_date: date, hours: Decimal, notes: str | None,
                   billed: bool) -> tuple[TimeEntry, ProjectTask]:
    principal = ctx.viewer
    task = await rules.get_task(ctx.session, principal, decode_id(task_id, "ProjectTask"))
    entry = await rules.log_time(ctx.session, task, entry_date=entry_date, hours=hours, notes=notes, billed=billed)
    return entry, task
