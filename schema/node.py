"""The `node` query: one entry point for every type with a global id."""
import strawberry
from strawberry.types import Info

from portal.models.projects import ProjectTask as ProjectTaskRow
from portal.resolvers import nodes as resolve
from portal.schema.comments import Comment
from portal.schema.customers import ContactPerson, Customer
from portal.schema.estimates import Estimate
from portal.schema.invoices import Invoice
from portal.schema.nodes import Node
from portal.schema.organizations import Organization, StaffUser
from portal.schema.payments import Payment, SavedPaymentMethod
from portal.schema.projects import Project, ProjectTask, TimeEntry
from portal.schema.reviews import Review

WRAPPERS = {
    "Organization": Organization.from_model,
    "StaffUser": StaffUser.from_model,
    "Customer": Customer.from_model,
    "ContactPerson": ContactPerson.from_model,
    "Estimate": Estimate.from_model,
    "Invoice": Invoice.from_model,
    "Payment": Payment.from_model,
    "Comment": Comment.from_model,
    "Project": Project.from_model,
    "ProjectTask": ProjectTask.from_model,
    "Review": Review.from_model,
    "SavedPaymentMethod": SavedPaymentMethod.from_model,
}


async def _time_entry(info: Info, row):
    return TimeEntry.from_model(row, await info.context.session.get(ProjectTaskRow, row.task_id))


@strawberry.type
class Query:
    @strawberry.field(description="Any object the viewer may see; others answer NOT_FOUND, as if missing.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, row = await resolve.node(info.context, id)
        if type_name == "TimeEntry":
            return await _time_entry(info, row)
        return WRAPPERS[type_name](row)
