"""What a contact person does with any document: view it, forward it."""
from sqlalchemy import update

from portal.core.errors import BadUserInput, Forbidden, NotFound
from portal.core.ids import from_global_id
from portal.models.activity import ActivityKind
from portal.models.columns import utcnow
from portal.models.customers import (
    PortalAccess,
    add_contact_person,
    find_contact_by_email,
    get_customer,
    normalize_email,
)
from portal.models.estimates import Estimate, get_estimate
from portal.models.invoices import Invoice, get_invoice
from portal.models.organizations import PortalSettings
from portal.notifications.activity import record_activity
from portal.notifications.messages import document_link, queue_notice
from portal.resolvers.customers import invite
from portal.resolvers.scope import signed_in_contact

DOCUMENTS = {"Estimate": (Estimate, get_estimate), "Invoice": (Invoice, get_invoice)}


async def visible_document(ctx, document_id: str):
    principal = ctx.require_principal()
    type_name, pk = from_global_id(document_id)
    if type_name not in DOCUMENTS:
        raise NotFound("Estimate or invoice")
    return await DOCUMENTS[type_name][1](ctx.session, principal, pk)


def label(document) -> str:
    return f"{type(document).__name__} {document.number}"


def lower_label(document) -> str:
    """'invoice INV-00002', for the middle of a sentence."""
    return f"{type(document).__name__.lower()} {document.number}"


async def mark_viewed(ctx, document_id: str):
    """The first view by any contact of the customer is recorded; staff views never are."""
    document = await visible_document(ctx, document_id)
    if not ctx.principal.is_contact or document.viewed_at is not None:
        return document
    contact = await signed_in_contact(ctx)
    model = type(document)
    viewed_at = utcnow()
    # A conditional update, so that of two simultaneous first views only one records an event.
    claimed = await ctx.session.execute(
        update(model).where(model.id == document.id, model.viewed_at.is_(None)).values(viewed_at=viewed_at))
    if claimed.rowcount == 1:
        await record_activity(ctx.session, organization_id=document.organization_id, kind=ActivityKind.VIEWED,
                              customer_id=document.customer_id, contact_person_id=contact.id,
                              subject_type=model.__name__, subject_id=document.id,
                              summary=f"{contact.full_name} viewed {lower_label(document)}")
    await ctx.commit()
    await ctx.session.refresh(document)
    return document


def _split_name(name: str | None, email: str) -> tuple[str, str | None]:
    name = (name or "").strip()
    if not name:
        return email.split("@")[0], None
    first, _, last = name.partition(" ")
    return first, last.strip() or None


async def forward_document(ctx, *, document_id: str, email: str, name: str | None, message: str | None):
    sender = await signed_in_contact(ctx)
    settings = await ctx.session.get(PortalSettings, ctx.principal.organization_id)
    if not settings.allow_forwarding:
        raise Forbidden("This portal does not allow forwarding documents.")
    document = await visible_document(ctx, document_id)
    email = normalize_email(email)
    if message is not None and len(message) > 5000:
        raise BadUserInput("A message has at most 5,000 characters.")
    recipient = await find_contact_by_email(ctx.session, sender.organization_id, email)
    if recipient is not None and recipient.customer_id != sender.customer_id:
        raise BadUserInput("This address cannot receive documents of your company.")
    if recipient is None:
        customer = await get_customer(ctx.session, ctx.principal, sender.customer_id)
        first_name, last_name = _split_name(name, email)
        recipient = await add_contact_person(ctx.session, customer, first_name=first_name, last_name=last_name,
                                             email=email, phone=None, mobile=None)
    what = label(document)
    link = document_link(ctx.settings, ctx.organization, document_id)
    if recipient.portal_access == PortalAccess.ACTIVE:
        queue_notice(ctx.session, ctx.organization, to_address=recipient.email, to_name=recipient.full_name,
                     subject=f"{sender.full_name} forwarded {what} from {ctx.organization.name}",
                     paragraphs=[f"Hello {recipient.full_name},",
                                 f"{sender.full_name} forwarded {what} from {ctx.organization.name} to you."],
                     quote=message, link_url=link)
    else:
        await invite(ctx, recipient, document_label=f"{what}, forwarded by {sender.full_name},", message=message)
    await record_activity(ctx.session, organization_id=document.organization_id,
                          kind=ActivityKind.DOCUMENT_FORWARDED, customer_id=document.customer_id,
                          contact_person_id=sender.id, subject_type=type(document).__name__, subject_id=document.id,
                          summary=f"{sender.full_name} forwarded {lower_label(document)} to {recipient.email}")
    await ctx.commit()
    return recipient
