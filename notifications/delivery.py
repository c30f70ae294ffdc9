"""Handing one email to the world: an SMTP server, or an .eml file when there is none."""
import os
import tempfile
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Protocol, TypedDict
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from portal.core.settings import Settings
from portal.models.outbox import OutboxEmail
from portal.models.text import header_text


class UnbuildableEmail(ValueError):
    """An outbox row that no retry can turn into a message: the sender gives it up for good."""


def build_message(row: OutboxEmail, *, mail_from: str) -> EmailMessage:
    """The message of a queued email, checked to be writable; UnbuildableEmail if it cannot be."""
    try:
        message = _message(row, mail_from=mail_from)
        message.as_bytes()  # a header or body that cannot be written out fails here, not in every delivery
    except Exception as error:  # building is pure computation: what fails once fails every time
        raise UnbuildableEmail(f"{type(error).__name__}: {error}") from error
    return message


def _message(row: OutboxEmail, *, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    message["Message-ID"] = row.message_id  # stable across retries, so receivers can drop duplicates
    message["Date"] = format_datetime(row.created_at)
    message["From"] = header_text(mail_from)
    # Headers are one line: names and subjects come from user text, cleaned of every control character and
    # line or paragraph separator (U+2028 too), which would otherwise make the message unsendable for ever,
    # and of the invisible format characters that would make them read as something else.
    message["To"] = formataddr((header_text(row.to_name or ""), ascii_domain(row.to_address)))
    message["Subject"] = header_text(row.subject)
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    return message


def ascii_domain(address: str) -> str:
    """The address with an internationalized domain in its ASCII form (user@bücher.de -> user@xn--bcher-kva.de),
    as headers carry it; a local part beyond ASCII stays, and the message cannot be built."""
    local, at, domain = address.rpartition("@")
    if domain.isascii():
        return address
    try:
        return f"{local}{at}{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


class Delivery(Protocol):
    async def deliver(self, message: EmailMessage) -> None: ...


class FileDelivery:
    """Writes each email as <message id>.eml under a folder, atomically."""

    def __init__(self, mail_dir: str) -> None:
        self.mail_dir = Path(mail_dir)

    async def deliver(self, message: EmailMessage) -> None:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        descriptor, temporary = tempfile.mkstemp(dir=self.mail_dir, prefix=".", suffix=".tmp")
        with os.fdopen(descriptor, "wb") as file:
            file.write(message.as_bytes())
        os.replace(temporary, self.mail_dir / f"{name}.eml")


class SmtpOptions(TypedDict):
    """What aiosmtplib.send needs to reach the server."""

    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool
    timeout: float


class SmtpDelivery:
    """smtp://[user:password@]host:port[?tls=starttls|ssl]"""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        tls = parse_qs(parts.query).get("tls", [""])[0]
        self.options: SmtpOptions = {
            "hostname": parts.hostname or "localhost",
            "port": parts.port or (465 if tls == "ssl" else 25),
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "use_tls": tls == "ssl",
            "start_tls": tls == "starttls",
            "timeout": 30,
        }

    async def deliver(self, message: EmailMessage) -> None:
        await aiosmtplib.send(message, **self.options)


def delivery_for(settings: Settings) -> Delivery:
    return SmtpDelivery(settings.smtp_url) if settings.smtp_url else FileDelivery(settings.mail_dir)
