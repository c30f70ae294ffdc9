"""What a contact person does with any document: view it, forward it."""
from collections.abc import Awaitable, Callable
from typing import cast

from sqlalchemy import CursorResult, update
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.core.errors import NotFound
from portal.core.ids import issued_id
from portal.models import forwarding
from portal.models.auth import Principal
from portal.models.columns import utcnow
from portal.models.customers import ContactPerson
from portal.models.estimates import Estimate, get_estimate
from portal.models.invoices import Invoice, get_invoice
from portal.notifications import emails, events
from portal.resolvers.context import Context
from portal.resolvers.customers import invite
from portal.resolvers.scope import signed_in_contact

Document = Estimate | Invoice
DOCUMENTS: dict[str, Callable[[AsyncSession, Principal, int], Awaitable[Document]]] = {
    "Estimate": get_estimate, "Invoice": get_invoice}


async def visible_document(ctx: Context, document_id: str) -> Document:
    principal = ctx.viewer
    type_name, pk = issued_id(document_id)
    if type_name not in DOCUMENTS:
        raise NotFound("Estimate or invoice")
    return await DOCUMENTS[type_name](ctx.session, principal, pk)


async def mark_viewed(ctx: Context, document_id: str) -> Document:
    """The first view by any contact of the customer is recorded; later ones change nothing."""
    document = await visible_document(ctx, document_id)
    if document.viewed_at is not None:
        return document
    contact = await signed_in_contact(ctx)
    model = type(document)
    viewed_at = utcnow()
    # A conditional update, so that of two simultaneous first views only one records an event.
    # The ORM answers an UPDATE with a CursorResult, which the session's annotation cannot promise.
    claimed = cast(CursorResult, await ctx.session.execute(
        update(model).where(col(model.id) == document.id, col(model.viewed_at).is_(None))
        .values(viewed_at=viewed_at)))
    if claimed.rowcount == 1:
        await events.document_viewed(ctx.session, document, contact)
    await ctx.session.refresh(document)
    return document


async def forward_document(ctx: Context, *, document_id: str, email: str, name: str | None,
                           message: str | None) -> ContactPerson:
    """Send a document to a person of the sender's company: a notice if they sign in, else an invitation,
    unless their access is disabled (models/forwarding.py)."""
    sender = await signed_in_contact(ctx)
    document = await visible_document(ctx, document_id)
    email = forwarding.check_forward_request(email, message, name=name)
    await forwarding.check_forward_allowance(ctx.session, sender)
    recipient, added_now = await forwarding.recipient_for(ctx.session, sender, email=email, name=name)
    delivery = forwarding.delivery_to(recipient, added_now=added_now)
    if delivery == forwarding.Delivery.NOTICE:
        emails.queue_forwarded_document(ctx.session, ctx.settings, await ctx.viewer_organization(), document,
                                        sender=sender, recipient=recipient, message=message)
    elif delivery == forwarding.Delivery.INVITATION:
        await invite(ctx, recipient, document_label=emails.forwarded_by(document, sender), message=message,
                     quoted_from=sender.full_name)
    await events.document_forwarded(ctx.session, document, sender, recipient)
    return recipient
