"""node(id): any object the viewer may see, by its global id."""
from sqlalchemy import select

from portal.core.errors import NotFound
from portal.core.ids import from_global_id
from portal.models.comments import Comment, comments_visible_to
from portal.models.customers import get_contact_person, get_customer
from portal.models.estimates import get_estimate
from portal.models.invoices import get_invoice
from portal.models.lookup import one_visible
from portal.models.organizations import Organization, StaffUser
from portal.models.payment_methods import SavedPaymentMethod, payment_methods_of
from portal.models.payments import get_payment
from portal.models.projects import ProjectTask, TimeEntry, get_project, get_task, tasks_visible_to
from portal.models.reviews import Review, reviews_visible_to
from portal.resolvers.projects import require_projects_shown


async def _organization(session, principal, pk):
    return await one_visible(session, select(Organization).where(Organization.id == pk,
                                                          Organization.id == principal.organization_id),
                      "Organization")


async def _staff_user(session, principal, pk):
    if not principal.is_staff:
        raise NotFound("Staff user")
    return await one_visible(session, select(StaffUser).where(StaffUser.id == pk,
                                                       StaffUser.organization_id == principal.organization_id),
                      "Staff user")


async def _comment(session, principal, pk):
    return await one_visible(session, comments_visible_to(principal).where(Comment.id == pk), "Comment")


async def _check_projects_shown(ctx, type_name: str, row) -> None:
    """Projects, their tasks, time and comments disappear from the portal when the owner hides them."""
    if not ctx.principal.is_contact:
        return
    if type_name in PROJECT_TYPES or (type_name == "Comment" and row.subject_type == "Project"):
        await require_projects_shown(ctx)


async def _review(session, principal, pk):
    return await one_visible(session, reviews_visible_to(principal).where(Review.id == pk), "Review")


async def _saved_payment_method(session, principal, pk):
    if not principal.is_contact:  # a person's saved cards are theirs alone
        raise NotFound("Saved payment method")
    return await one_visible(session, payment_methods_of(principal).where(SavedPaymentMethod.id == pk),
                      "Saved payment method")


async def _time_entry(session, principal, pk):
    task_ids = tasks_visible_to(principal).with_only_columns(ProjectTask.id)
    return await one_visible(session, select(TimeEntry).where(TimeEntry.id == pk, TimeEntry.task_id.in_(task_ids)),
                      "Time entry")


FETCHERS = {
    "Organization": _organization,
    "StaffUser": _staff_user,
    "Customer": get_customer,
    "ContactPerson": get_contact_person,
    "Estimate": get_estimate,
    "Invoice": get_invoice,
    "Payment": get_payment,
    "Comment": _comment,
    "Project": get_project,
    "ProjectTask": get_task,
    "TimeEntry": _time_entry,
    "Review": _review,
    "SavedPaymentMethod": _saved_payment_method,
}
PROJECT_TYPES = {"Project", "ProjectTask", "TimeEntry"}


def register(type_name: str, fetch) -> None:
    """Later domains add their node types here."""
    FETCHERS[type_name] = fetch


async def node(ctx, global_id: str) -> tuple[str, object]:
    principal = ctx.require_principal()
    type_name, pk = from_global_id(global_id)
    fetch = FETCHERS.get(type_name)
    if fetch is None:
        raise NotFound("Object")
    row = await fetch(ctx.session, principal, pk)
    await _check_projects_shown(ctx, type_name, row)
    return type_name, row
