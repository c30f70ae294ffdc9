"""Projects, their tasks and the time logged on them."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, select
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput
from portal.models.auth import Principal
from portal.models.columns import Quantity, UTCDateTime, utcnow
from portal.models.lookup import group_by, one_visible, organization_rows
from portal.models.money import decimal_places
from portal.models.rows import saved_id
from portal.models.text import one_line


class Project(SQLModel, table=True):
    __tablename__ = "projects"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    name: str = Field(max_length=200)
    description: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProjectTask(SQLModel, table=True):
    __tablename__ = "project_tasks"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    name: str = Field(max_length=200)
    billable: bool = True


class TimeEntry(SQLModel, table=True):
    __tablename__ = "time_entries"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    task_id: int = Field(foreign_key="project_tasks.id", index=True)
    date: date
    hours: Decimal = Field(sa_type=Quantity)
    billed: bool = False
    notes: str | None = None


# What leaves the portal while the owner hides projects and timesheets: these, and comments on projects.
PROJECT_TYPES = frozenset({"Project", "ProjectTask", "TimeEntry"})


def shown_only_with_projects(type_name: str, *, commented_type: str | None = None) -> bool:
    """Whether a contact person sees an object of this type only while the portal shows projects and
    timesheets; for a comment (or a portal update), `commented_type` is the type of what it is on."""
    return type_name in PROJECT_TYPES or (type_name in ("Comment", "PortalUpdate") and commented_type == "Project")


def projects_visible_to(principal: Principal) -> Select[Project]:
    return organization_rows(Project, principal, col(Project.customer_id) == principal.customer_id)


def tasks_visible_to(principal: Principal) -> Select[ProjectTask]:
    query = select(ProjectTask).join(Project, col(Project.id) == col(ProjectTask.project_id)).where(
        col(ProjectTask.organization_id) == principal.organization_id
    )
    if principal.is_contact:
        # The portal shows only billable tasks and their time.
        query = query.where(col(Project.customer_id) == principal.customer_id, col(ProjectTask.billable).is_(True))
    return query


def time_entries_visible_to(principal: Principal) -> Select[TimeEntry]:
    """Time logged on the tasks the principal may see."""
    task_ids = tasks_visible_to(principal).with_only_columns(col(ProjectTask.id))
    return select(TimeEntry).where(col(TimeEntry.task_id).in_(task_ids))


async def get_project(session: AsyncSession, principal: Principal, project_id: int) -> Project:
    query = projects_visible_to(principal).where(col(Project.id) == project_id)
    return await one_visible(session, query, "Project")


async def get_task(session: AsyncSession, principal: Principal, task_id: int) -> ProjectTask:
    query = tasks_visible_to(principal).where(col(ProjectTask.id) == task_id)
    return await one_visible(session, query, "Project task")


def _check_name(name: str) -> str:
    """A project's or task's name, on one line: it is written into email subjects and sentences."""
    name = one_line(name)
    if not 1 <= len(name) <= 200:
        raise BadUserInput("A name has 1 to 200 characters.", field="name")
    return name


async def create_project(session: AsyncSession, *, organization_id: int, customer_id: int, name: str,
                         description: str | None) -> Project:
    project = Project(organization_id=organization_id, customer_id=customer_id, name=_check_name(name),
                      description=description)
    session.add(project)
    await session.flush()
    return project


async def add_task(session: AsyncSession, project: Project, *, name: str, billable: bool) -> ProjectTask:
    task = ProjectTask(organization_id=project.organization_id, project_id=saved_id(project), name=_check_name(name),
                       billable=billable)
    session.add(task)
    await session.flush()
    return task


async def log_time(session: AsyncSession, task: ProjectTask, *, entry_date: date, hours: Decimal, notes: str | None,
                   billed: bool) -> TimeEntry:
    if not hours.is_finite() or not 0 < hours <= 24 or decimal_places(hours) > 4:
        raise BadUserInput("Hours are more than 0 and at most 24 per entry.", field="hours")
    entry = TimeEntry(organization_id=task.organization_id, task_id=saved_id(task), date=entry_date, hours=hours,
                      notes=notes, billed=billed)
    session.add(entry)
    await session.flush()
    return entry


async def tasks_of(session: AsyncSession, principal: Principal, project_ids: list[int]) -> dict[int, list[ProjectTask]]:
    rows = await session.scalars(
        tasks_visible_to(principal).where(col(ProjectTask.project_id).in_(project_ids)).order_by(col(ProjectTask.id))
    )
    return group_by(rows, lambda row: row.project_id)


async def entries_of(session: AsyncSession, task_ids: list[int]) -> dict[int, list[TimeEntry]]:
    rows = await session.scalars(
        select(TimeEntry).where(col(TimeEntry.task_id).in_(task_ids)).order_by(col(TimeEntry.date), col(TimeEntry.id))
    )
    return group_by(rows, lambda row: row.task_id)


def hours_summary(entries: list[TimeEntry]) -> tuple[Decimal, Decimal, Decimal]:
    """Logged, billed and unbilled hours of a task."""
    logged = sum((entry.hours for entry in entries), Decimal(0))
    billed = sum((entry.hours for entry in entries if entry.billed), Decimal(0))
    return logged, billed, logged - billed
