"""Publishing committed activity events to subscribers, in this process or across workers."""
import json
import logging

from portal.models.activity import ActivityEvent

logger = logging.getLogger("portal.broadcast")


def activity_channel(organization_id: int) -> str:
    return f"portal-activity-{organization_id}"


async def publish_events(broadcast, events: list[ActivityEvent]) -> None:
    """Announce events that are already committed; subscribers read them back from the database.

    A lost announcement delays an event, never loses it: subscribers catch up from the
    database by sequence on the next announcement or on resume.
    """
    for event in events:
        message = json.dumps({"sequence": event.sequence, "id": event.id})
        try:
            await broadcast.publish(channel=activity_channel(event.organization_id), message=message)
        except Exception:
            logger.exception("could not publish activity event %s", event.id)
