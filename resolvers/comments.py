"""Comments on estimates, invoices and projects, and who is told about them."""
from sqlalchemy import select

from portal.core.errors import NotFound
from portal.core.ids import decode_id, from_global_id
from portal.models.activity import ActivityKind
from portal.models.comments import new_comment
from portal.models.customers import ContactPerson, PortalAccess
from portal.models.estimates import get_estimate
from portal.models.invoices import get_invoice
from portal.models.organizations import PortalSettings, StaffUser
from portal.models.projects import get_project
from portal.notifications.activity import record_activity
from portal.notifications.messages import document_link, notify_owner, portal_link, queue_notice
from portal.resolvers.projects import require_projects_shown

COMMENTABLE = {"Estimate": get_estimate, "Invoice": get_invoice, "Project": get_project}


async def commentable(ctx, subject_id: str):
    """The estimate, invoice or project a comment is about, if the viewer may see it."""
    principal = ctx.require_principal()
    type_name, _ = from_global_id(subject_id)
    if type_name not in COMMENTABLE:
        raise NotFound("Estimate, invoice or project")
    if type_name == "Project" and principal.is_contact:
        await require_projects_shown(ctx)
    subject = await COMMENTABLE[type_name](ctx.session, principal, decode_id(subject_id, type_name))
    return type_name, subject


def _label(type_name: str, subject) -> str:
    return f"project {subject.name}" if type_name == "Project" else f"{type_name.lower()} {subject.number}"


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
    label = _label(type_name, subject)
    await record_activity(ctx.session, organization_id=principal.organization_id, kind=ActivityKind.COMMENTED,
                          customer_id=subject.customer_id, contact_person_id=principal.contact_person_id,
                          subject_type=type_name, subject_id=subject.id, comment_id=comment.id,
                          summary=f"{author} commented on {label}")
    await _tell_about_comment(ctx, comment, subject, label, link=_link(ctx, subject_id, type_name))
    await ctx.commit()
    return comment


def _link(ctx, subject_id: str, type_name: str) -> str:
    if type_name == "Project":
        return portal_link(ctx.settings, ctx.organization, f"/projects/{subject_id}")
    return document_link(ctx.settings, ctx.organization, subject_id)


async def _tell_about_comment(ctx, comment, subject, label: str, *, link: str) -> None:
    organization = ctx.organization
    if not comment.by_staff:
        await notify_owner(ctx.session, organization, subject=f"{comment.author_name} commented on {label}",
                           paragraphs=[f"{comment.author_name} commented on {label}:"], quote=comment.body,
                           link_url=link)
        return
    settings = await ctx.session.get(PortalSettings, organization.id)
    shown = getattr(subject, "status", None) != "DRAFT"  # a draft is not in the portal yet
    if comment.visible_in_portal and shown and settings.notify_customers_on_staff_comments:
        contacts = await ctx.session.scalars(select(ContactPerson).where(
            ContactPerson.customer_id == comment.customer_id, ContactPerson.portal_access == PortalAccess.ACTIVE))
        for contact in contacts:
            queue_notice(ctx.session, organization, to_address=contact.email, to_name=contact.full_name,
                         subject=f"{organization.name} commented on {label}",
                         paragraphs=[f"Hello {contact.full_name},", f"{comment.author_name} of {organization.name} "
                                     f"commented on {label}:"], quote=comment.body, link_url=link)
