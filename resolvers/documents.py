"""What a contact person does with any document: view it, forward it."""
from sqlalchemy import update

from portal.core.errors import NotFound
from portal.core.ids import from_global_id
from portal.models import access, forwarding
from portal.models.columns import utcnow
from portal.models.estimates import Estimate, get_estimate
from portal.models.invoices import Invoice, get_invoice
from portal.notifications import events, messages
from portal.resolvers.customers import invite
from portal.resolvers.scope import signed_in_contact

DOCUMENTS = {"Estimate": (Estimate, get_estimate), "Invoice": (Invoice, get_invoice)}


async def visible_document(ctx, document_id: str):
    principal = ctx.viewer
    type_name, pk = from_global_id(document_id)
    if type_name not in DOCUMENTS:
        raise NotFound("Estimate or invoice")
    return await DOCUMENTS[type_name][1](ctx.session, principal, pk)


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
        await events.document_viewed(ctx.session, document, contact)
    await ctx.session.refresh(document)
    return document


async def forward_document(ctx, *, document_id: str, email: str, name: str | None, message: str | None):
    """Send a document to a person of the sender's company: a notice if they sign in, else an invitation."""
    sender = await signed_in_contact(ctx)
    document = await visible_document(ctx, document_id)
    email = forwarding.check_forward_request(email, message)
    recipient = await forwarding.recipient_for(ctx.session, sender, email=email, name=name)
    if access.has_access(recipient):
        messages.queue_forwarded_document(ctx.session, ctx.settings, ctx.organization, document, sender=sender,
                                          recipient=recipient, message=message)
    else:
        await invite(ctx, recipient, document_label=messages.forwarded_by(document, sender), message=message)
    await events.document_forwarded(ctx.session, document, sender, recipient)
    return recipient
