"""After a commit: announce the activity it recorded and wake the mail sender."""
from portal.core.database import AsyncSession
from portal.core.runtime import Services
from portal.notifications.activity import take_pending_events
from portal.notifications.broadcast import publish_events


async def commit_and_publish(session: AsyncSession, services: Services) -> None:
    """Commit, then announce the activity the transaction recorded and wake the mail sender."""
    events = take_pending_events(session)
    await session.commit()
    if events:
        await publish_events(services.broadcast, events)
    if services.mail_sender is not None:
        services.mail_sender.wake()
