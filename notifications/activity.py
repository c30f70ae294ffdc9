"""Storing and reading activity events. Use cases record them through the typed recorders of
notifications/events.py, which call `record_activity` inside the action's transaction."""
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput
from portal.models.activity import ActivityEvent, ActivityKind
from portal.models.sequences import next_value
from portal.notifications.webhooks import queue_webhooks

PENDING_EVENTS = "pending_activity_events"


async def record_activity(session: AsyncSession, *, organization_id: int, kind: ActivityKind, customer_id: int,
                          summary: str, contact_person_id: int | None = None, subject_type: str | None = None,
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
    await queue_webhooks(session, event)  # the same event feeds live activity and webhooks, in its transaction
    session.info.setdefault(PENDING_EVENTS, []).append(event)
    return event


def take_pending_events(session: AsyncSession) -> list[ActivityEvent]:
    return session.info.pop(PENDING_EVENTS, [])


async def events_after(session: AsyncSession, organization_id: int, sequence: int, *, limit: int,
                       kinds: list[str] | None = None) -> list[ActivityEvent]:
    query = select(ActivityEvent).where(col(ActivityEvent.organization_id) == organization_id,
                                        col(ActivityEvent.sequence) > sequence)
    if kinds:
        query = query.where(col(ActivityEvent.kind).in_(kinds))
    return list(await session.scalars(query.order_by(col(ActivityEvent.sequence)).limit(limit)))


async def check_cursor_exists(session: AsyncSession, organization_id: int, sequence: int) -> None:
    if sequence == 0:
        return
    found = await session.scalar(select(col(ActivityEvent.id)).where(
        col(ActivityEvent.organization_id) == organization_id, col(ActivityEvent.sequence) == sequence))
    if found is None:
        raise BadUserInput("Unknown activity cursor.")


async def events_before(session: AsyncSession, organization_id: int, sequence: int | None, *,
                        limit: int) -> list[ActivityEvent]:
    """The latest `limit` events before `sequence` (without one: the latest of all), newest first."""
    query = select(ActivityEvent).where(col(ActivityEvent.organization_id) == organization_id)
    if sequence is not None:
        query = query.where(col(ActivityEvent.sequence) < sequence)
    return list(await session.scalars(query.order_by(col(ActivityEvent.sequence).desc()).limit(limit)))


@dataclass(frozen=True)
class EventCounts:
    total: int
    at_or_before: int = 0
    at_or_after: int = 0


async def count_events(session: AsyncSession, organization_id: int, *, at_or_before: int | None = None,
                       at_or_after: int | None = None) -> EventCounts:
    """How many events the organization has, and how many of them are at or before, or at or after, the
    sequences given: one statement."""
    sequence = col(ActivityEvent.sequence)
    counts = {"total": func.count()}
    if at_or_before is not None:
        counts["at_or_before"] = func.count(case((sequence <= at_or_before, 1)))
    if at_or_after is not None:
        counts["at_or_after"] = func.count(case((sequence >= at_or_after, 1)))
    row = (await session.execute(select(*counts.values()).where(
        col(ActivityEvent.organization_id) == organization_id))).one()
    return EventCounts(**dict(zip(counts, row, strict=True)))
