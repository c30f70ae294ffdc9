"""Comments on estimates, invoices and projects, and who is told about them."""
from collections.abc import Awaitable, Callable

from portal.core.database import AsyncSession
from portal.core.errors import NotFound
from portal.core.ids import decode_id, issued_id
from portal.models.access import active_contacts_of
from portal.models.auth import Principal
from portal.models.comments import Comment, Commentable, new_comment, tells_customer
from portal.models.estimates import get_estimate
from portal.models.invoices import get_invoice
from portal.models.organizations import StaffUser
from portal.models.projects import get_project, shown_only_with_projects
from portal.models.rows import saved_id
from portal.notifications import customer_updates as updates
from portal.notifications import emails, events
from portal.resolvers.context import Context
from portal.resolvers.projects import require_projects_shown
from portal.resolvers.scope import signed_in_person

COMMENTABLE: dict[str, Callable[[AsyncSession, Principal, int], Awaitable[Commentable]]] = {
    "Estimate": get_estimate, "Invoice": get_invoice, "Project": get_project}


async def commentable(ctx: Context, subject_id: str) -> tuple[str, Commentable]:
    """The estimate, invoice or project a comment is about, if the viewer may see it."""
    principal = ctx.viewer
    type_name, _ = issued_id(subject_id)
    if type_name not in COMMENTABLE:
        raise NotFound("Estimate, invoice or project")
    if shown_only_with_projects(type_name) and principal.is_contact:
        await require_projects_shown(ctx)
    subject = await COMMENTABLE[type_name](ctx.session, principal, decode_id(subject_id, type_name))
    return type_name, subject


async def _author_name(ctx: Context) -> str:
    person = await signed_in_person(ctx)
    return person.name if isinstance(person, StaffUser) else person.full_name


async def add_comment(ctx: Context, *, subject_id: str, body: str, visible_in_portal: bool) -> Comment:
    type_name, subject = await commentable(ctx, subject_id)
    principal = ctx.viewer
    author = await _author_name(ctx)
    comment = new_comment(principal, subject_type=type_name, subject_id=saved_id(subject),
                          customer_id=subject.customer_id, body=body, author_name=author,
                          visible_in_portal=visible_in_portal)
    ctx.session.add(comment)
    await ctx.session.flush()
    await events.comment_added(ctx.session, comment, subject)  # before the update: the lock order of both counters
    await updates.comment_added(ctx.session, comment, subject)
    await _tell_about_comment(ctx, comment, subject)
    return comment


async def _tell_about_comment(ctx: Context, comment: Comment, subject: Commentable) -> None:
    """A contact person's comment goes to the owner; a staff comment to the customer, where the rules say so."""
    organization = await ctx.viewer_organization()
    if not comment.by_staff:
        await emails.notify_owner_of_comment(ctx.session, ctx.settings, organization, comment, subject)
        return
    if tells_customer(comment, subject, await ctx.portal_settings()):
        for contact in await active_contacts_of(ctx.session, comment.customer_id):
            emails.queue_comment_notice(ctx.session, ctx.settings, organization, comment, subject, contact)
