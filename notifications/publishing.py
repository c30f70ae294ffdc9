"""After a commit: announce the activity it recorded and wake the mail and webhook senders."""
from portal.core.database import AsyncSession
from portal.core.runtime import Services
from portal.notifications.activity import take_pending_events
from portal.notifications.broadcast import publish_events
from portal.notifications.webhooks import take_webhooks_due


async def commit_and_publish(session: AsyncSession, services: Services) -> None:
    """Commit, then announce the activity the transaction recorded and wake the mail and webhook senders."""
    events = take_pending_events(session)
    webhooks_due = take_webhooks_due(session)
    await session.commit()
    if events:
        await publish_events(services.broadcast, events)
    if webhooks_due and services.webhook_sender is not None:  # other workers find them at their next poll
        services.webhook_sender.wake()
    if services.mail_sender is not None:
        services.mail_sender.wake()
