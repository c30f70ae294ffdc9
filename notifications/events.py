"""One recorder per kind of activity: what happened, to what, by whom, and its one-line summary.

Each adds its event to the caller's transaction (`record_activity`); the event is published once
that transaction commits.
"""
from portal.core.database import AsyncSession
from portal.models.activity import ActivityEvent, ActivityKind
from portal.models.comments import Comment, Commentable
from portal.models.customers import ContactPerson, Customer
from portal.models.estimates import Estimate
from portal.models.invoices import Invoice
from portal.models.payment_attempts import PaymentAttempt
from portal.models.payments import Payment
from portal.models.reviews import Review
from portal.models.rows import saved_id
from portal.notifications.activity import record_activity
from portal.notifications.labels import amount_label, invoice_numbers, lower_label, subject_label


async def document_viewed(session: AsyncSession, document: Estimate | Invoice, contact: ContactPerson) -> ActivityEvent:
    return await record_activity(
        session, organization_id=document.organization_id, kind=ActivityKind.VIEWED,
        customer_id=document.customer_id, contact_person_id=contact.id, subject_type=type(document).__name__,
        subject_id=document.id, summary=f"{contact.full_name} viewed {lower_label(document)}")


async def comment_added(session: AsyncSession, comment: Comment, subject: Commentable) -> ActivityEvent:
    """`subject` is the estimate, invoice or project the comment is on."""
    return await record_activity(
        session, organization_id=comment.organization_id, kind=ActivityKind.COMMENTED,
        customer_id=comment.customer_id, contact_person_id=comment.contact_person_id,
        subject_type=comment.subject_type, subject_id=comment.subject_id, comment_id=comment.id,
        summary=f"{comment.author_name} commented on {subject_label(subject)}")


async def payment_received(session: AsyncSession, payment: Payment, contact: ContactPerson,
                           invoices: list[Invoice]) -> ActivityEvent:
    """`invoices` are the ones paid, in the order the payer named them."""
    amount = amount_label(payment.currency, payment.amount)
    return await record_activity(
        session, organization_id=payment.organization_id, kind=ActivityKind.PAYMENT_RECEIVED,
        customer_id=payment.customer_id, contact_person_id=contact.id, subject_type="Payment",
        subject_id=payment.id, summary=f"{contact.full_name} paid {amount} for {invoice_numbers(invoices)}")


async def payment_failed(session: AsyncSession, attempt: PaymentAttempt, contact: ContactPerson,
                         first_invoice: Invoice) -> ActivityEvent:
    """A charge the gateway declined; the event points at the first invoice the payer named."""
    return await record_activity(
        session, organization_id=attempt.organization_id, kind=ActivityKind.PAYMENT_FAILED,
        customer_id=attempt.customer_id, contact_person_id=contact.id, subject_type="Invoice",
        subject_id=first_invoice.id, summary=f"{contact.full_name}'s payment of "
        f"{amount_label(attempt.currency, attempt.amount)} failed: {attempt.failure_reason}")


async def estimate_accepted(session: AsyncSession, estimate: Estimate, contact: ContactPerson) -> ActivityEvent:
    return await _estimate_answered(session, estimate, contact, kind=ActivityKind.ESTIMATE_ACCEPTED,
                                    verb="accepted", reason=None)


async def estimate_declined(session: AsyncSession, estimate: Estimate, contact: ContactPerson,
                            reason: str | None) -> ActivityEvent:
    return await _estimate_answered(session, estimate, contact, kind=ActivityKind.ESTIMATE_DECLINED,
                                    verb="declined", reason=reason)


async def _estimate_answered(session: AsyncSession, estimate: Estimate, contact: ContactPerson, *, kind: ActivityKind,
                             verb: str, reason: str | None) -> ActivityEvent:
    return await record_activity(
        session, organization_id=estimate.organization_id, kind=kind, customer_id=estimate.customer_id,
        contact_person_id=contact.id, subject_type="Estimate", subject_id=estimate.id,
        summary=f"{contact.full_name} {verb} estimate {estimate.number}" + (f": {reason}" if reason else ""))


async def document_forwarded(session: AsyncSession, document: Estimate | Invoice, sender: ContactPerson,
                             recipient: ContactPerson) -> ActivityEvent:
    return await record_activity(
        session, organization_id=document.organization_id, kind=ActivityKind.DOCUMENT_FORWARDED,
        customer_id=document.customer_id, contact_person_id=sender.id, subject_type=type(document).__name__,
        subject_id=document.id, summary=f"{sender.full_name} forwarded {lower_label(document)} to {recipient.email}")


async def details_updated(session: AsyncSession, customer: Customer, contact: ContactPerson) -> ActivityEvent:
    return await record_activity(
        session, organization_id=customer.organization_id, kind=ActivityKind.DETAILS_UPDATED,
        customer_id=saved_id(customer), contact_person_id=contact.id, subject_type="Customer", subject_id=customer.id,
        summary=f"{contact.full_name} updated the details of {customer.display_name}")


async def review_submitted(session: AsyncSession, review: Review, contact: ContactPerson) -> ActivityEvent:
    return await record_activity(
        session, organization_id=review.organization_id, kind=ActivityKind.REVIEW_SUBMITTED,
        customer_id=review.customer_id, contact_person_id=contact.id, subject_type="Review", subject_id=review.id,
        summary=f"{contact.full_name} left a {review.rating}-star review")


async def invite_accepted(session: AsyncSession, contact: ContactPerson) -> ActivityEvent:
    return await record_activity(
        session, organization_id=contact.organization_id, kind=ActivityKind.INVITE_ACCEPTED,
        customer_id=contact.customer_id, contact_person_id=contact.id, subject_type="ContactPerson",
        subject_id=contact.id, summary=f"{contact.full_name} accepted the invitation to the portal")
