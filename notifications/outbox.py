"""Queuing emails: one plain structure rendered as text and as escaped HTML."""
import html
import secrets
from dataclasses import dataclass, field

from portal.core.database import AsyncSession
from portal.models.outbox import OutboxEmail
from portal.models.text import clamp


@dataclass(frozen=True)
class Email:
    to_address: str
    subject: str
    paragraphs: list[str]
    to_name: str | None = None
    link_label: str | None = None
    link_url: str | None = None
    quote: str | None = None  # user-written text shown as a quotation: a comment, a reason
    signature: list[str] = field(default_factory=list)


def render_text(email: Email) -> str:
    parts = list(email.paragraphs)
    if email.quote:
        parts.append("\n".join(f"> {line}" for line in email.quote.splitlines() or [""]))
    if email.link_url and email.link_label:
        parts.append(f"{email.link_label}: {email.link_url}")
    parts.extend(email.signature)
    return "\n\n".join(parts) + "\n"


def render_html(email: Email) -> str:
    parts = [f"<p>{html.escape(paragraph)}</p>" for paragraph in email.paragraphs]
    if email.quote:
        quoted = "<br>".join(html.escape(line) for line in email.quote.splitlines())
        parts.append(f'<blockquote style="border-left:3px solid #ccc;padding-left:8px">{quoted}</blockquote>')
    if email.link_url and email.link_label:
        parts.append(f'<p><a href="{html.escape(email.link_url, quote=True)}">{html.escape(email.link_label)}</a></p>')
    parts.extend(f"<p>{html.escape(line)}</p>" for line in email.signature)
    body = "\n".join(parts)
    return f'<!doctype html>\n<html><body style="font-family:sans-serif">\n{body}\n</body></html>\n'


def queue_email(session: AsyncSession, email: Email, *, organization_id: int,
                mail_domain: str = "portal.local") -> OutboxEmail:
    """Add the email to the current transaction; the sender delivers it after commit."""
    row = OutboxEmail(
        organization_id=organization_id, message_id=f"<{secrets.token_hex(16)}@{mail_domain}>",
        to_address=email.to_address, to_name=email.to_name and clamp(email.to_name, 200),
        subject=clamp(email.subject, 300),
        text_body=render_text(email), html_body=render_html(email),
    )
    session.add(row)
    return row
