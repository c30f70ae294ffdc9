"""Comments on estimates, invoices and projects, and who is told about them."""
from portal.core.errors import NotFound
from portal.core.ids import decode_id, from_global_id
from portal.models.access import active_contacts_of
from portal.models.comments import Comment, new_comment, tells_customer
from portal.models.customers import ContactPerson
from portal.models.estimates import get_estimate
from portal.models.invoices import get_invoice
from portal.models.organizations import PortalSettings, StaffUser
from portal.models.projects import get_project, shown_only_with_projects
from portal.notifications import events, messages
from portal.resolvers.projects import require_projects_shown

COMMENTABLE = {"Estimate": get_estimate, "Invoice": get_invoice, "Project": get_project}


async def commentable(ctx, subject_id: str):
    """The estimate, invoice or project a comment is about, if the viewer may see it."""
    principal = ctx.viewer
    type_name, _ = from_global_id(subject_id)
    if type_name not in COMMENTABLE:
        raise NotFound("Estimate, invoice or project")
    if shown_only_with_projects(type_name) and principal.is_contact:
        await require_projects_shown(ctx)
    subject = await COMMENTABLE[type_name](ctx.session, principal, decode_id(subject_id, type_name))
    return type_name, subject


async def _author_name(ctx) -> str:
    principal = ctx.principal
    if principal.is_staff:
        return (await ctx.session.get(StaffUser, principal.staff_user_id)).name
    return (await ctx.session.get(ContactPerson, principal.contact_person_id)).full_name


async def add_comment(ctx, *, subject_id: str, body: str, visible_in_portal: bool):
    type_name, subject = await commentable(ctx, subject_id)
    principal = ctx.principal
    author = await _author_name(ctx)
    comment = new_comment(principal, subject_type=type_name, subject_id=subject.id, customer_id=subject.customer_id,
                          body=body, author_name=author, visible_in_portal=visible_in_portal)
    ctx.session.add(comment)
    await ctx.session.flush()
    await events.comment_added(ctx.session, comment, subject)
    await _tell_about_comment(ctx, comment, subject)
    return comment


async def _tell_about_comment(ctx, comment: Comment, subject) -> None:
    """A contact person's comment goes to the owner; a staff comment to the customer, where the rules say so."""
    if not comment.by_staff:
        await messages.notify_owner_of_comment(ctx.session, ctx.settings, ctx.organization, comment, subject)
        return
    if tells_customer(comment, subject, await ctx.session.get(PortalSettings, ctx.organization.id)):
        for contact in await active_contacts_of(ctx.session, comment.customer_id):
            messages.queue_comment_notice(ctx.session, ctx.settings, ctx.organization, comment, subject, contact)
