"""The emails the portal sends, each queued inside the transaction of its cause."""
from datetime import timedelta
from urllib.parse import urlencode

from portal.models.organizations import PortalSettings, owner_of
from portal.notifications.emails import Email, queue_email


def invitation_ttl(settings) -> timedelta:
    return timedelta(days=settings.invite_ttl_days)


def portal_link(settings, organization, path: str = "", **query) -> str:
    link = settings.link(f"/portal/{organization.portal_name}{path}")
    return f"{link}?{urlencode(query)}" if query else link


def queue_invitation(session, settings, organization, contact, token: str, *, document_label: str | None = None,
                     message: str | None = None):
    paragraphs = [f"Hello {contact.full_name},"]
    if document_label:
        paragraphs.append(f"{document_label} from {organization.name} is waiting for you in the portal.")
    paragraphs.append(
        f"{organization.name} invites you to its customer portal, where you can see your estimates, "
        f"invoices, payments and statement, and pay online."
    )
    paragraphs.append(f"The link works once and expires in {settings.invite_ttl_days} days.")
    email = Email(
        to_address=contact.email, to_name=contact.full_name,
        subject=f"{organization.name} invites you to its customer portal",
        paragraphs=paragraphs, quote=message, link_label="Accept the invitation",
        link_url=portal_link(settings, organization, "/accept-invite", token=token),
    )
    return queue_email(session, email, organization_id=organization.id)


def document_link(settings, organization, global_id: str) -> str:
    return portal_link(settings, organization, f"/documents/{global_id}")


def queue_notice(session, organization, *, to_address: str, to_name: str | None, subject: str,
                 paragraphs: list[str], link_url: str | None = None, link_label: str = "Open it in the portal",
                 quote: str | None = None):
    """A short notice: what happened, to what, by whom, the user's words if any, and a link."""
    email = Email(to_address=to_address, to_name=to_name, subject=subject, paragraphs=paragraphs,
                  quote=quote, link_label=link_label if link_url else None, link_url=link_url,
                  signature=[f"— {organization.name}"])
    return queue_email(session, email, organization_id=organization.id)


async def notify_owner(session, organization, *, subject: str, paragraphs: list[str], quote: str | None = None,
                       link_url: str | None = None) -> None:
    """Email the owner about portal activity, where the portal settings ask for it."""
    portal_settings = await session.get(PortalSettings, organization.id)
    if not portal_settings.notify_owner_on_activity:
        return
    owner = await owner_of(session, organization.id)
    queue_notice(session, organization, to_address=owner.email, to_name=owner.name, subject=subject,
                 paragraphs=paragraphs, quote=quote, link_url=link_url)
