"""Recording what changed in a customer's portal (`portalUpdates`), in the transaction of its cause.

One recorder per cause, called by the use case that records the cause. Lock order: counters stay
locked until commit (models/sequences.py), so every transaction takes them in one order — document and
payment numbers (EST, INV, PAY), then ACTIVITY, then UPDATE: record the update last, and two
transactions never wait on each other crosswise on PostgreSQL.
"""
from portal.core.database import AsyncSession
from portal.models.comments import Comment, Commentable, shown_in_portal
from portal.models.customer_updates import CustomerUpdate, PortalUpdateKind
from portal.models.estimates import Estimate
from portal.models.invoices import Invoice, InvoiceStatus
from portal.models.payments import Payment
from portal.models.rows import saved_id
from portal.models.sequences import next_value
from portal.notifications.labels import amount_label, document_label, invoice_numbers, subject_label

PENDING_UPDATES = "pending_customer_updates"


async def record_update(session: AsyncSession, *, organization_id: int, customer_id: int, kind: PortalUpdateKind,
                        subject_type: str, subject_id: int, summary: str,
                        comment_id: int | None = None) -> CustomerUpdate:
    """Add an update to the current transaction; it is announced once the transaction commits."""
    update = CustomerUpdate(
        organization_id=organization_id, sequence=await next_value(session, organization_id, "UPDATE"),
        customer_id=customer_id, kind=kind, subject_type=subject_type, subject_id=subject_id,
        comment_id=comment_id, summary=summary[:500])
    session.add(update)
    await session.flush()
    session.info.setdefault(PENDING_UPDATES, []).append(update)
    return update


def take_pending_updates(session: AsyncSession) -> list[CustomerUpdate]:
    return session.info.pop(PENDING_UPDATES, [])


async def document_sent(session: AsyncSession, document: Estimate | Invoice) -> CustomerUpdate:
    return await _about_document(session, document, PortalUpdateKind.DOCUMENT_SENT,
                                 f"{document_label(document)} was sent")


async def document_changed(session: AsyncSession, document: Estimate | Invoice, what: str) -> CustomerUpdate:
    """`what` completes "Invoice INV-00002 …": "was paid", "was voided"."""
    return await _about_document(session, document, PortalUpdateKind.DOCUMENT_CHANGED,
                                 f"{document_label(document)} {what}")


async def estimate_withdrawn(session: AsyncSession, estimate: Estimate, *, customer_id: int) -> CustomerUpdate:
    """The estimate left `customer_id`'s portal (reworked into a draft, or moved to another customer).

    Told with the number their contacts saw, and nothing of what it is becoming: delivered with no subject
    (resolvers/portal_updates.py), since they may no longer load it.
    """
    return await record_update(
        session, organization_id=estimate.organization_id, customer_id=customer_id,
        kind=PortalUpdateKind.DOCUMENT_CHANGED, subject_type="Estimate", subject_id=saved_id(estimate),
        summary=f"{document_label(estimate)} is being revised")


async def invoices_paid(session: AsyncSession, invoices: list[Invoice]) -> None:
    """After a payment: each invoice it went to is paid or partly paid."""
    for invoice in invoices:
        what = "was paid" if invoice.status == InvoiceStatus.PAID else "was partly paid"
        await document_changed(session, invoice, what)


async def payment_recorded(session: AsyncSession, payment: Payment, invoices: list[Invoice]) -> CustomerUpdate:
    amount = amount_label(payment.currency, payment.amount)
    return await record_update(
        session, organization_id=payment.organization_id, customer_id=payment.customer_id,
        kind=PortalUpdateKind.PAYMENT_RECORDED, subject_type="Payment", subject_id=saved_id(payment),
        summary=f"Payment {payment.number} of {amount} for {invoice_numbers(invoices)} was recorded")


async def comment_added(session: AsyncSession, comment: Comment, subject: Commentable) -> CustomerUpdate | None:
    """Only a comment the customer's side sees (not hidden by staff, not on a draft) is an update."""
    if not shown_in_portal(comment, subject):
        return None
    return await record_update(
        session, organization_id=comment.organization_id, customer_id=comment.customer_id,
        kind=PortalUpdateKind.COMMENT_ADDED, subject_type=comment.subject_type, subject_id=comment.subject_id,
        comment_id=saved_id(comment), summary=f"{comment.author_name} commented on {subject_label(subject)}")


async def _about_document(session: AsyncSession, document: Estimate | Invoice, kind: PortalUpdateKind,
                          summary: str) -> CustomerUpdate:
    return await record_update(
        session, organization_id=document.organization_id, customer_id=document.customer_id, kind=kind,
        subject_type=type(document).__name__, subject_id=saved_id(document), summary=summary)
