"""The emails the portal sends, each queued inside the transaction of its cause: all their wording is here."""
from datetime import timedelta
from urllib.parse import urlencode

from portal.core.database import AsyncSession
from portal.core.ids import to_global_id
from portal.core.settings import Settings
from portal.models.comments import Comment, Commentable
from portal.models.customers import ContactPerson, Customer
from portal.models.estimates import Estimate
from portal.models.invoices import Invoice
from portal.models.organizations import Organization, owner_of, read_portal_settings
from portal.models.outbox import OutboxEmail
from portal.models.payments import Payment
from portal.models.rows import saved_id
from portal.notifications.labels import amount_label, document_label, invoice_numbers, subject_label
from portal.notifications.outbox import Email, queue_email


def invitation_ttl(settings: Settings) -> timedelta:
    return timedelta(days=settings.invite_ttl_days)


def portal_link(settings: Settings, organization: Organization, path: str = "", **query: str) -> str:
    link = settings.link(f"/portal/{organization.portal_name}{path}")
    return f"{link}?{urlencode(query)}" if query else link


def queue_invitation(session: AsyncSession, settings: Settings, organization: Organization, contact: ContactPerson,
                     token: str, *, document_label: str | None = None, message: str | None = None,
                     message_author: str | None = None) -> OutboxEmail:
    """`message_author` wrote `message` (someone who forwarded a document), which is quoted as theirs."""
    paragraphs = [f"Hello {contact.full_name},"]
    if document_label:
        paragraphs.append(f"{document_label} from {organization.name} is waiting for you in the portal.")
    paragraphs.append(
        f"{organization.name} invites you to its customer portal, where you can see your estimates, "
        f"invoices, payments and statement, and pay online."
    )
    paragraphs.append(f"The link works once and expires in {settings.invite_ttl_days} days.")
    if message and message_author:
        paragraphs.append(message_attribution(message_author, organization))
    email = Email(
        to_address=contact.email, to_name=contact.full_name,
        subject=f"{organization.name} invites you to its customer portal",
        paragraphs=paragraphs, quote=message, link_label="Accept the invitation",
        link_url=portal_link(settings, organization, "/accept-invite", token=token),
    )
    return queue_email(session, email, organization_id=saved_id(organization))


def document_link(settings: Settings, organization: Organization, global_id: str) -> str:
    return portal_link(settings, organization, f"/documents/{global_id}")


def queue_notice(session: AsyncSession, organization: Organization, *, to_address: str, to_name: str | None,
                 subject: str, paragraphs: list[str], link_url: str | None = None,
                 link_label: str = "Open it in the portal", quote: str | None = None) -> OutboxEmail:
    """A short notice: what happened, to what, by whom, the user's words if any, and a link."""
    email = Email(to_address=to_address, to_name=to_name, subject=subject, paragraphs=paragraphs,
                  quote=quote, link_label=link_label if link_url else None, link_url=link_url,
                  signature=[f"— {organization.name}"])
    return queue_email(session, email, organization_id=saved_id(organization))


def owner_link(settings: Settings, row: Commentable | None = None) -> str:
    """Where the owner's pages show an estimate or invoice; anything else (a project, a customer) is on the
    owner's live activity page."""
    if isinstance(row, Estimate | Invoice):
        return settings.link(f"/owner/documents/{to_global_id(type(row).__name__, saved_id(row))}")
    return settings.link("/owner/")


async def notify_owner(session: AsyncSession, organization: Organization, *, subject: str, paragraphs: list[str],
                       quote: str | None = None, link_url: str | None = None) -> None:
    """Email the owner about portal activity, where the portal settings ask for it; links go to the owner's pages."""
    organization_id = saved_id(organization)
    portal_settings = await read_portal_settings(session, organization_id)
    if not portal_settings.notify_owner_on_activity:
        return
    owner = await owner_of(session, organization_id)
    queue_notice(session, organization, to_address=owner.email, to_name=owner.name, subject=subject,
                 paragraphs=paragraphs, quote=quote, link_url=link_url)


def link_to(settings: Settings, organization: Organization, row: Commentable) -> str:
    """Where the portal shows an estimate, an invoice or a project (the id re-encoded from the row)."""
    global_id = to_global_id(type(row).__name__, saved_id(row))
    if type(row).__name__ == "Project":
        return portal_link(settings, organization, f"/projects/{global_id}")
    return document_link(settings, organization, global_id)


def forwarded_by(document: Estimate | Invoice, sender: ContactPerson) -> str:
    """How the invitation of a forwarded document's recipient names the document."""
    return f"{document_label(document)}, forwarded by {sender.full_name},"


def message_attribution(author: str, organization: Organization) -> str:
    """Said right before a forwarder's message, so that nobody reads it as the business's words."""
    return f"{author} wrote this message; it does not come from {organization.name}:"


def queue_forwarded_document(session: AsyncSession, settings: Settings, organization: Organization,
                             document: Estimate | Invoice, *, sender: ContactPerson, recipient: ContactPerson,
                             message: str | None) -> OutboxEmail:
    """To a recipient with access; anyone else is sent an invitation naming the document instead."""
    what = document_label(document)
    paragraphs = [f"Hello {recipient.full_name},",
                  f"{sender.full_name} forwarded {what} from {organization.name} to you."]
    if message:
        paragraphs.append(message_attribution(sender.full_name, organization))
    return queue_notice(session, organization, to_address=recipient.email, to_name=recipient.full_name,
                        subject=f"{sender.full_name} forwarded {what} from {organization.name}",
                        paragraphs=paragraphs, quote=message, link_url=link_to(settings, organization, document))


def queue_review_request(session: AsyncSession, settings: Settings, organization: Organization,
                         contact: ContactPerson) -> OutboxEmail:
    return queue_notice(session, organization, to_address=contact.email, to_name=contact.full_name,
                        subject=f"How did {organization.name} do?",
                        paragraphs=[f"Hello {contact.full_name},",
                                    f"{organization.name} would value your review. It takes a minute: rate us "
                                    "from 1 to 5 and, if you like, say why."],
                        link_label="Leave a review", link_url=portal_link(settings, organization, "/review"))


def queue_comment_notice(session: AsyncSession, settings: Settings, organization: Organization, comment: Comment,
                         subject: Commentable, contact: ContactPerson) -> OutboxEmail:
    """A staff comment, to a contact person of the customer; `subject` is what it is on."""
    label = subject_label(subject)
    return queue_notice(session, organization, to_address=contact.email, to_name=contact.full_name,
                        subject=f"{organization.name} commented on {label}",
                        paragraphs=[f"Hello {contact.full_name},",
                                    f"{comment.author_name} of {organization.name} commented on {label}:"],
                        quote=comment.body, link_url=link_to(settings, organization, subject))


async def notify_owner_of_comment(session: AsyncSession, settings: Settings, organization: Organization,
                                  comment: Comment, subject: Commentable) -> None:
    """A contact person's comment; `subject` is what it is on."""
    label = subject_label(subject)
    await notify_owner(session, organization, subject=f"{comment.author_name} commented on {label}",
                       paragraphs=[f"{comment.author_name} commented on {label}:"], quote=comment.body,
                       link_url=owner_link(settings, subject))


async def notify_estimate_accepted(session: AsyncSession, settings: Settings, organization: Organization,
                                   estimate: Estimate, *, customer: Customer, contact: ContactPerson) -> None:
    await _notify_estimate_answered(session, settings, organization, estimate, customer=customer, contact=contact,
                                    verb="accepted", reason=None)


async def notify_estimate_declined(session: AsyncSession, settings: Settings, organization: Organization,
                                   estimate: Estimate, *, customer: Customer, contact: ContactPerson,
                                   reason: str | None) -> None:
    await _notify_estimate_answered(session, settings, organization, estimate, customer=customer, contact=contact,
                                    verb="declined", reason=reason)


async def _notify_estimate_answered(session: AsyncSession, settings: Settings, organization: Organization,
                                    estimate: Estimate, *, customer: Customer, contact: ContactPerson, verb: str,
                                    reason: str | None) -> None:
    await notify_owner(
        session, organization, subject=f"{contact.full_name} {verb} estimate {estimate.number}",
        paragraphs=[f"{contact.full_name} of {customer.display_name} {verb} estimate {estimate.number} "
                    f"({amount_label(estimate.currency, estimate.total)})."] + (["Their reason:"] if reason else []),
        quote=reason, link_url=owner_link(settings, estimate))


# The company details a contact person may change, as the owner's notice names them.
COMPANY_FIELDS = {"company_name": "company name", "billing_address": "billing address",
                  "shipping_address": "shipping address"}


async def notify_details_updated(session: AsyncSession, settings: Settings, organization: Organization,
                                 customer: Customer, *, contact: ContactPerson, changed: list[str]) -> None:
    """`changed` names the fields changed (company_name, billing_address, shipping_address)."""
    fields = ", ".join(COMPANY_FIELDS[key] for key in changed) or "nothing"
    await notify_owner(session, organization,
                       subject=f"{contact.full_name} updated the details of {customer.display_name}",
                       paragraphs=[f"{contact.full_name} updated the company details of {customer.display_name}: "
                                   f"{fields}."],
                       link_url=owner_link(settings))


async def notify_payment_received(session: AsyncSession, settings: Settings, organization: Organization,
                                  payment: Payment, *, contact: ContactPerson, invoices: list[Invoice]) -> None:
    """`invoices` are the ones paid, in the order the payer named them; the link opens the first."""
    amount = amount_label(payment.currency, payment.amount)
    method = payment.method.replace("_", " ").lower()
    await notify_owner(session, organization, subject=f"Payment received: {amount} from {contact.full_name}",
                       paragraphs=[f"{contact.full_name} paid {amount} by {method} for {invoice_numbers(invoices)} "
                                   f"({payment.number}, reference {payment.reference})."],
                       link_url=owner_link(settings, invoices[0]))


def queue_receipt(session: AsyncSession, settings: Settings, organization: Organization, payment: Payment, *,
                  contact: ContactPerson, invoices: list[Invoice]) -> OutboxEmail:
    """To the payer; `invoices` are the ones paid, in the order the payer named them."""
    amount, numbers = amount_label(payment.currency, payment.amount), invoice_numbers(invoices)
    return queue_notice(session, organization, to_address=contact.email, to_name=contact.full_name,
                        subject=f"Receipt for your payment {payment.number} to {organization.name}",
                        paragraphs=[f"Hello {contact.full_name},",
                                    f"Thank you: {organization.name} received {amount} for {numbers}.",
                                    f"Payment {payment.number}, {payment.date.isoformat()}, "
                                    f"reference {payment.reference}."],
                        link_url=link_to(settings, organization, invoices[0]),
                        link_label="See the invoice in the portal")


async def notify_webhook_endpoint_disabled(session: AsyncSession, organization: Organization, *, url: str,
                                           reason: str) -> None:
    """To the owner, always (not only with owner notifications on): their systems stopped getting events."""
    owner = await owner_of(session, saved_id(organization))
    queue_notice(session, organization, to_address=owner.email, to_name=owner.name,
                 subject="A webhook endpoint was disabled",
                 paragraphs=[f"Hello {owner.name},",
                             f"The portal stopped sending activity events to {url}: {reason}",
                             "Events that happen while it is disabled are not sent to it later. Once the "
                             "endpoint answers again, enable it with updateWebhookEndpoint (enabled: true); "
                             "the activity query lists what it missed."])
