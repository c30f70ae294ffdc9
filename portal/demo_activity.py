"""A week in the demo business's portal: what its contact persons did over the past seven days.

Each action changes what it would change in the portal (a view stamps the document, a payment
pays the invoice) and is recorded through the typed recorders of notifications/events.py, so
the owner's activity page, `activity` paging and the subjects of its events are real from the
first sign-in. Events are recorded in the order they happened, which is the order of their
sequence, and stamped with the time they happened.
"""
import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.core.gateway import PaymentFailureCode
from portal.models.activity import ActivityEvent
from portal.models.auth import Principal
from portal.models.columns import utcnow
from portal.models.comments import new_comment
from portal.models.customers import ContactPerson, Customer, update_company
from portal.models.estimates import Estimate, EstimateStatus
from portal.models.invoices import Invoice, InvoiceStatus, PaymentMethodKind
from portal.models.organizations import Organization
from portal.models.payment_attempts import AttemptStatus, PaymentAttempt, fingerprint, finish
from portal.models.payments import record_allocated_payment, settlement_in_full
from portal.models.reviews import new_review
from portal.models.rows import saved_id
from portal.notifications import events


class DemoWeek:
    """The demo's people and documents, and the clock of the week being told."""

    def __init__(self, session: AsyncSession, organization: Organization, now: datetime) -> None:
        self.session = session
        self.organization = organization
        self.now = now

    def hours_ago(self, hours: float) -> datetime:
        return self.now - timedelta(hours=hours)

    async def contact(self, email: str) -> ContactPerson:
        return (await self.session.scalars(select(ContactPerson).where(
            col(ContactPerson.organization_id) == self.organization.id, col(ContactPerson.email) == email))).one()

    async def customer(self, contact: ContactPerson) -> Customer:
        return (await self.session.scalars(select(Customer).where(col(Customer.id) == contact.customer_id))).one()

    async def estimate(self, status: EstimateStatus) -> Estimate:
        """The newest estimate of the demo with this stored status."""
        return (await self.session.scalars(select(Estimate).where(
            col(Estimate.organization_id) == self.organization.id, col(Estimate.status) == status)
            .order_by(col(Estimate.date).desc()).limit(1))).one()

    async def sent_invoices(self, customer_id: int) -> list[Invoice]:
        """The customer's sent, unpaid invoices, oldest first."""
        return list(await self.session.scalars(select(Invoice).where(
            col(Invoice.customer_id) == customer_id, col(Invoice.status) == InvoiceStatus.SENT)
            .order_by(col(Invoice.date))))

    @staticmethod
    def stamp(event: ActivityEvent, when: datetime) -> None:
        event.occurred_at = when

    async def view(self, document: Estimate | Invoice, contact: ContactPerson, when: datetime) -> None:
        document.viewed_at = document.viewed_at or when
        self.stamp(await events.document_viewed(self.session, document, contact), when)

    async def comment(self, subject: Estimate | Invoice, contact: ContactPerson, body: str, when: datetime) -> None:
        comment = new_comment(_as_principal(contact), subject_type=type(subject).__name__,
                              subject_id=saved_id(subject), customer_id=contact.customer_id, body=body,
                              author_name=contact.full_name, visible_in_portal=True)
        comment.created_at = when
        self.session.add(comment)
        await self.session.flush()
        self.stamp(await events.comment_added(self.session, comment, subject), when)

    async def card_attempt(self, invoice: Invoice, contact: ContactPerson, token: str) -> PaymentAttempt:
        """An online payment attempt of one invoice, as checkout reserves it."""
        invoice_id = saved_id(invoice)
        attempt = PaymentAttempt(
            organization_id=invoice.organization_id, customer_id=invoice.customer_id,
            contact_person_id=saved_id(contact), idempotency_key=f"demo-{secrets.token_hex(8)}",
            fingerprint=fingerprint([invoice_id], f"token:{token}", False),
            invoice_ids=str(invoice_id), amount=invoice.balance_due, currency=invoice.currency,
            method=PaymentMethodKind.CARD, source=token)
        self.session.add(attempt)
        await self.session.flush()
        return attempt

    async def declined_card(self, invoice: Invoice, contact: ContactPerson, when: datetime) -> None:
        attempt = await self.card_attempt(invoice, contact, "tok_chargeDeclined")
        finish(attempt, status=AttemptStatus.FAILED, charge_id=f"ch_{secrets.token_hex(12)}",
               failure_reason="Your card was declined.", failure_code=PaymentFailureCode.CARD_DECLINED)
        attempt.created_at = attempt.completed_at = when
        self.stamp(await events.payment_failed(self.session, attempt, contact, invoice), when)

    async def card_payment(self, invoice: Invoice, contact: ContactPerson, when: datetime) -> None:
        attempt = await self.card_attempt(invoice, contact, "tok_visa")
        charge_id = f"ch_{secrets.token_hex(12)}"
        payment = await record_allocated_payment(
            self.session, allocations=settlement_in_full([invoice]), payment_date=self.local_date(when),
            method=PaymentMethodKind.CARD, reference=charge_id, contact_person_id=contact.id)
        payment.created_at = when
        finish(attempt, status=AttemptStatus.SUCCEEDED, charge_id=charge_id, payment_id=payment.id)
        attempt.created_at = attempt.completed_at = when
        self.stamp(await events.payment_received(self.session, payment, contact, [invoice]), when)

    async def review(self, contact: ContactPerson, comment: str, when: datetime) -> None:
        review = new_review(_as_principal(contact), rating=5, comment=comment, author_name=contact.full_name)
        review.created_at = when
        self.session.add(review)
        await self.session.flush()
        self.stamp(await events.review_submitted(self.session, review, contact), when)

    def local_date(self, when: datetime) -> date:
        return when.astimezone(ZoneInfo(self.organization.time_zone)).date()


def _as_principal(contact: ContactPerson) -> Principal:
    return Principal(organization_id=contact.organization_id, session_id=0, contact_person_id=contact.id,
                     customer_id=contact.customer_id)


async def seed_week_of_activity(session: AsyncSession, organization: Organization, *,
                                now: datetime | None = None) -> None:
    """What Alice (Acme), Carol (Globex) and Dave (Initech) did in the portal over the past seven days."""
    week = DemoWeek(session, organization, now or utcnow())
    alice = await week.contact("alice@acme.example.com")
    carol = await week.contact("carol@globex.example.com")
    dave = await week.contact("dave@initech.example.com")
    declined, accepted = await week.estimate(EstimateStatus.DECLINED), await week.estimate(EstimateStatus.ACCEPTED)
    offered = await week.estimate(EstimateStatus.SENT)
    [initech_invoice] = await week.sent_invoices(dave.customer_id)
    globex_website, globex_hosting = await week.sent_invoices(carol.customer_id)
    acme_latest = (await week.sent_invoices(alice.customer_id))[-1]

    week.stamp(await events.invite_accepted(session, carol), week.hours_ago(166))
    await week.view(declined, alice, week.hours_ago(161))
    declined.declined_at = week.hours_ago(160)
    week.stamp(await events.estimate_declined(session, declined, alice, declined.decline_reason), declined.declined_at)
    await week.view(accepted, alice, week.hours_ago(140))
    accepted.accepted_at = week.hours_ago(139.8)
    week.stamp(await events.estimate_accepted(session, accepted, alice), accepted.accepted_at)
    await week.view(initech_invoice, dave, week.hours_ago(115))
    await week.comment(initech_invoice, dave, "Could you add our VAT number (DE 811 907 980) to this invoice?",
                       week.hours_ago(114.5))
    await week.view(globex_website, carol, week.hours_ago(92))
    globex = await week.customer(carol)
    update_company(globex, {"billing_address": {"attention": "Accounts payable", "street1": "500 Industrial Way",
                                                "city": "Cypress Creek", "state": "OR", "zip": "97045",
                                                "country": "United States"}})
    week.stamp(await events.details_updated(session, globex, carol), week.hours_ago(70))
    await week.view(offered, alice, week.hours_ago(52))
    await week.comment(offered, alice, "Looks good. Could the content migration start next month?",
                       week.hours_ago(51.6))
    await week.view(globex_hosting, carol, week.hours_ago(28))
    await week.declined_card(globex_hosting, carol, week.hours_ago(27.9))
    await week.card_payment(globex_hosting, carol, week.hours_ago(27.8))
    await week.review(alice, "Clear estimates, quick answers and a site our customers love.", week.hours_ago(5))
    await week.view(acme_latest, alice, week.hours_ago(2))
