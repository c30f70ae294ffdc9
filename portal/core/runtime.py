"""The process-wide parts that the app's lifespan builds and every request and background task uses.

Parts whose classes live in higher layers (notifications/) are described here by what is asked of
them, so that the core imports nothing above it.
"""
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from portal.core.database import SerialSession
from portal.core.gateway import PaymentGateway
from portal.core.settings import Settings


class MessageBroker(Protocol):
    """Announcements between workers (`portal.notifications.broadcast.Broker`)."""

    @property
    def healthy(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, channel: str, message: str) -> None: ...

    def listen(self, channel: str) -> AsyncIterator[str | None]:
        """The messages published on `channel`; None each time it has (re)subscribed."""


class MailSender(Protocol):
    """The background sender of queued email (`portal.notifications.sender.OutboxSender`)."""

    def wake(self) -> None:
        """Send what was just queued now rather than at the next poll."""


class LiveActivity(Protocol):
    """The live activity feed of this worker (`portal.notifications.subscriptions.ActivityFeed`)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Services:
    """Process-wide parts built by the app's lifespan."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[SerialSession]
    # For sessions that only read while others write (live activity); on PostgreSQL the same factory.
    read_session_factory: async_sessionmaker[SerialSession]
    broadcast: MessageBroker
    gateway: PaymentGateway
    # Started by the lifespan, so None until the app runs.
    mail_sender: MailSender | None = None
    activity_feed: LiveActivity | None = None
    # Customer updates for portalUpdates (`portal.notifications.update_feed.UpdateFeed`).
    update_feed: LiveActivity | None = None
    # The webhook sender (`portal.notifications.webhook_sender.WebhookSender`): woken, as the mail sender is.
    webhook_sender: MailSender | None = None
