"""After a commit: announce the activity it recorded and wake the mail and webhook senders."""
from portal.core.database import AsyncSession
from portal.core.runtime import Services
from portal.notifications.activity import take_pending_events
from portal.notifications.broadcast import UPDATES_CHANNEL, publish_events
from portal.notifications.customer_updates import take_pending_updates
from portal.notifications.webhooks import take_webhooks_due


async def commit_and_publish(session: AsyncSession, services: Services) -> None:
    """Commit, then announce the activity the transaction recorded and wake the mail and webhook senders."""
    events = take_pending_events(session)
    updates = take_pending_updates(session)
    webhooks_due = take_webhooks_due(session)
    await session.commit()
    if events:
        await publish_events(services.broadcast, events)
    if updates:
        await publish_events(services.broadcast, updates, UPDATES_CHANNEL)
    if webhooks_due and services.webhook_sender is not None:  # other workers find them at their next poll
        services.webhook_sender.wake()
    if services.mail_sender is not None:
        services.mail_sender.wake()
