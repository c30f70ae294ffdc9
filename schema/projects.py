"""Projects, tasks and timesheets."""
import datetime as dt
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.models.auth import Principal
from portal.models.projects import Project as ProjectRow
from portal.models.projects import ProjectTask as ProjectTaskRow
from portal.models.projects import TimeEntry as TimeEntryRow
from portal.models.projects import hours_summary, projects_visible_to, tasks_visible_to, time_entries_visible_to
from portal.models.rows import saved_id
from portal.resolvers import projects as resolve
from portal.resolvers.context import Info
from portal.schema.arguments import CustomerId
from portal.schema.comments import Comment
from portal.schema.nodes import GLOBAL_ID, Node, global_id, in_order, load_in_order
from portal.schema.permissions import IsSignedIn, IsStaff, PortalAllows, only


@strawberry.enum(description="Whether logged time has been invoiced.")
class TimeEntryStatus(Enum):
    UNBILLED = strawberry.enum_value("UNBILLED", description="Not invoiced yet.")
    BILLED = strawberry.enum_value("BILLED", description="Invoiced.")


@strawberry.type(description="A task of a project.")
class ProjectTask(Node):
    row: strawberry.Private[ProjectTaskRow]
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    name: str = strawberry.field(description="What the task is called.")
    billable: bool = strawberry.field(description="Only billable tasks and their time entries are shown in the portal.")

    async def _hours(self, info: Info) -> tuple[Decimal, Decimal, Decimal]:
        return hours_summary(await info.context.loaders.task_entries.load(saved_id(self.row)))

    @strawberry.field(description="All hours logged on the task.")
    async def logged_hours(self, info: Info) -> Decimal:
        return (await self._hours(info))[0]

    @strawberry.field(description="Hours already invoiced.")
    async def billed_hours(self, info: Info) -> Decimal:
        return (await self._hours(info))[1]

    @strawberry.field(description="Hours not invoiced yet.")
    async def unbilled_hours(self, info: Info) -> Decimal:
        return (await self._hours(info))[2]

    @classmethod
    def from_model(cls, row: ProjectTaskRow) -> "ProjectTask":
        return cls(row=row, id=global_id("ProjectTask", row.id), name=row.name, billable=row.billable)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal,
                           ids: list[int]) -> list["ProjectTask | None"]:
        return in_order(ids, await _tasks(session, principal, ids), cls.from_model)


async def _tasks(session: AsyncSession, principal: Principal, ids: Collection[int]) -> list[ProjectTaskRow]:
    return list(await session.scalars(tasks_visible_to(principal).where(col(ProjectTaskRow.id).in_(ids))))


@strawberry.type(description="Time logged on a task.")
class TimeEntry(Node):
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    task: ProjectTask = strawberry.field(description="The task the time was logged on.")
    date: dt.date = strawberry.field(description="The day the work was done.")
    hours: Decimal = strawberry.field(description="Hours worked: more than 0, at most 24.")
    status: TimeEntryStatus = strawberry.field(description="Whether the time has been invoiced.")
    notes: str | None = strawberry.field(description="What was done.")

    @classmethod
    def from_model(cls, row: TimeEntryRow, task: ProjectTaskRow) -> "TimeEntry":
        return cls(id=global_id("TimeEntry", row.id), task=ProjectTask.from_model(task), date=row.date,
                   hours=row.hours, status=TimeEntryStatus.BILLED if row.billed else TimeEntryStatus.UNBILLED,
                   notes=row.notes)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal,
                           ids: list[int]) -> list["TimeEntry | None"]:
        entries = list(await session.scalars(time_entries_visible_to(principal).where(col(TimeEntryRow.id).in_(ids))))
        if not entries:
            return [None] * len(ids)
        tasks = {task.id: task for task in await _tasks(session, principal, {entry.task_id for entry in entries})}
        return in_order(ids, entries, lambda entry: cls.from_model(entry, tasks[entry.task_id]))


@strawberry.type(description="Work done for a customer, with its tasks and timesheets.")
class Project(Node):
    row: strawberry.Private[ProjectRow]
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    name: str = strawberry.field(description="What the business calls the project.")
    description: str | None = strawberry.field(description="What the project is about.")

    @strawberry.field(description="The tasks the viewer may see: only billable ones in the portal.")
    async def tasks(self, info: Info) -> list[ProjectTask]:
        rows = await info.context.loaders.project_tasks.load(saved_id(self.row))
        return [ProjectTask.from_model(row) for row in rows]

    @strawberry.field(description="Time entries of the tasks the viewer may see, by date.")
    async def timesheets(self, info: Info) -> list[TimeEntry]:
        tasks = await info.context.loaders.project_tasks.load(saved_id(self.row))
        entries = await info.context.loaders.task_entries.load_many([saved_id(task) for task in tasks])
        rows = [(entry, task) for task, task_entries in zip(tasks, entries, strict=True) for entry in task_entries]
        rows.sort(key=lambda pair: (pair[0].date, pair[0].id))
        return [TimeEntry.from_model(entry, task) for entry, task in rows]

    @strawberry.field(description="Comments the viewer may see, oldest first.")
    async def comments(self, info: Info) -> list[Comment]:
        rows = await info.context.loaders.project_comments.load(saved_id(self.row))
        return [Comment.from_model(row) for row in rows]

    @classmethod
    def from_model(cls, row: ProjectRow) -> "Project":
        return cls(row=row, id=global_id("Project", row.id), name=row.name, description=row.description)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal, ids: list[int]) -> list["Project | None"]:
        return await load_in_order(session, projects_visible_to(principal), ProjectRow, ids, cls.from_model)


@strawberry.type
class Query:
    @strawberry.field(extensions=only(IsSignedIn(), PortalAllows("show_projects_and_timesheets")),
                      description="The customer's projects for a contact person; every project for staff. "
                                  "Oldest first.")
    async def projects(self, info: Info) -> list[Project]:
        return [Project.from_model(row) for row in await resolve.projects(info.context)]


ProjectName = Annotated[str, strawberry.argument(description="What it is called: 1 to 200 characters.")]


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=only(IsStaff()), description="start a project for a customer.")
    async def create_project(self, info: Info, customer_id: CustomerId, name: ProjectName,
                             description: Annotated[str | None, strawberry.argument(
                                 description="What the project is about, shown in the portal.")] = None) -> Project:
        return Project.from_model(await resolve.create_project(info.context, customer_id, name=name,
                                                               description=description))

    @strawberry.mutation(extensions=only(IsStaff()), description="add a task to a project.")
    async def add_project_task(self, info: Info, project_id: Annotated[strawberry.ID, strawberry.argument(
                                   description="The project, by id.")], name: ProjectName,
                               billable: Annotated[bool | None, strawberry.argument(
                                   description="Only billable tasks and their time are shown in the portal; "
                                               "true when omitted.")] = True) -> ProjectTask:
        return ProjectTask.from_model(await resolve.add_project_task(info.context, project_id, name=name,
                                                                     billable=billable is not False))

    @strawberry.mutation(extensions=only(IsStaff()), description="log time on a task.")
    async def log_time(self, info: Info,
                       task_id: Annotated[strawberry.ID, strawberry.argument(description="The task, by id.")],
                       date: Annotated[date, strawberry.argument(description="The day the work was done.")],
                       hours: Annotated[Decimal, strawberry.argument(
                           description="Hours worked: more than 0, at most 24, at most 4 decimals.")],
                       notes: Annotated[str | None, strawberry.argument(description="What was done.")] = None,
                       billed: Annotated[bool | None, strawberry.argument(
                           description="true: the time is already invoiced (BILLED); false or omitted: UNBILLED."
                       )] = False) -> TimeEntry:
        entry, task = await resolve.log_time(info.context, task_id, entry_date=date, hours=hours, notes=notes,
                                             billed=bool(billed))
        return TimeEntry.from_model(entry, task)
