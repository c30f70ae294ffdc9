"""The per-request GraphQL context: a session, who asks, and fresh DataLoaders."""
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from portal.errors import Forbidden, Unauthenticated
from portal.models.auth import Principal
from portal.models.organizations import Organization, today_in
from portal.notifications.activity import take_pending_events
from portal.notifications.broadcast import publish_events
from portal.settings import Settings


@dataclass
class Services:
    """Process-wide parts built by the app's lifespan."""

    settings: Settings
    engine: object
    session_factory: object
    broadcast: object
    mail_sender: object | None = None
    gateway: object | None = None


@dataclass
class Context:
    services: Services
    session: object
    principal: Principal | None = None
    organization: Organization | None = None
    loaders: object | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    request: object | None = None
    response: object | None = None

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def today(self) -> date:
        return today_in(self.organization) if self.organization else date.today()

    @property
    def session_ttl(self) -> timedelta:
        return timedelta(hours=self.settings.session_ttl_hours)

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated()
        return self.principal

    def require_staff(self) -> Principal:
        principal = self.require_principal()
        if not principal.is_staff:
            raise Forbidden("Only the business's staff may do this.")
        return principal

    def require_contact(self) -> Principal:
        principal = self.require_principal()
        if not principal.is_contact:
            raise Forbidden("Only a contact person signed in to the portal may do this.")
        return principal

    async def commit(self) -> None:
        """Commit the request's transaction, then announce what it recorded and wake the mailer."""
        events = take_pending_events(self.session)
        await self.session.commit()
        if events:
            await publish_events(self.services.broadcast, events)
        if self.services.mail_sender is not None:
            self.services.mail_sender.wake()
