"""Storing and reading activity events. Use cases record them through the typed recorders of
notifications/events.py, which call `record_activity` inside the action's transaction."""
from sqlalchemy import select

from portal.core.errors import BadUserInput
from portal.models.activity import ActivityEvent, ActivityKind
from portal.models.sequences import next_value

PENDING_EVENTS = "pending_activity_events"


async def record_activity(session, *, organization_id: int, kind: ActivityKind, customer_id: int, summary: str,
                          contact_person_id: int | None = None, subject_type: str | None = None,
                          subject_id: int | None = None, comment_id: int | None = None) -> ActivityEvent:
    """Add an event to the current transaction; it is published once the transaction commits.

    The sequence comes from a counter row that stays locked until commit, so events of one
    organization commit in sequence order and a resuming subscriber never skips one.
    """
    event = ActivityEvent(
        organization_id=organization_id, sequence=await next_value(session, organization_id, "ACTIVITY"),
        kind=kind, customer_id=customer_id, contact_person_id=contact_person_id, subject_type=subject_type,
        subject_id=subject_id, comment_id=comment_id, summary=summary[:500],
    )
    session.add(event)
    await session.flush()
    session.info.setdefault(PENDING_EVENTS, []).append(event)
    return event


def take_pending_events(session) -> list[ActivityEvent]:
    return session.info.pop(PENDING_EVENTS, [])


async def events_after(session, organization_id: int, sequence: int, *, limit: int,
                       kinds: list[str] | None = None) -> list[ActivityEvent]:
    query = select(ActivityEvent).where(ActivityEvent.organization_id == organization_id,
                                        ActivityEvent.sequence > sequence)
    if kinds:
        query = query.where(ActivityEvent.kind.in_(kinds))
    return list(await session.scalars(query.order_by(ActivityEvent.sequence).limit(limit)))


async def check_cursor_exists(session, organization_id: int, sequence: int) -> None:
    if sequence == 0:
        return
    found = await session.scalar(select(ActivityEvent.id).where(
        ActivityEvent.organization_id == organization_id, ActivityEvent.sequence == sequence))
    if found is None:
        raise BadUserInput("Unknown activity cursor.")
