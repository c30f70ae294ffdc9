"""Queuing webhooks: one delivery per enabled endpoint that wants the event, in the event's transaction.

Called by `record_activity` for every event it records, so that live activity and webhooks are fed
by the same events. The body is fixed here, as the event is recorded (OPERATIONS.md, "Webhooks"):
every attempt sends the same bytes.
"""
import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import col

from portal.core.cursors import encode_activity_cursor
from portal.core.database import AsyncSession
from portal.core.ids import to_global_id
from portal.models.activity import ActivityEvent
from portal.models.comments import Comment
from portal.models.customers import ContactPerson, Customer
from portal.models.estimates import Estimate
from portal.models.invoices import Invoice
from portal.models.payments import Payment
from portal.models.rows import saved_id
from portal.models.webhooks import WebhookDelivery, WebhookEndpoint, new_message_id

WEBHOOKS_DUE = "webhooks_due"


def mark_webhooks_due(session: AsyncSession) -> None:
    """The transaction queued webhook attempts: the sender is woken once it commits (publishing.py)."""
    session.info[WEBHOOKS_DUE] = True


def take_webhooks_due(session: AsyncSession) -> bool:
    return bool(session.info.pop(WEBHOOKS_DUE, False))


def iso_time(value: datetime) -> str:
    """As the API's DateTime writes it: UTC, milliseconds, `Z`."""
    instant = value.astimezone(UTC)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


async def queue_webhooks(session: AsyncSession, event: ActivityEvent) -> list[WebhookDelivery]:
    """A delivery of `event` for each enabled endpoint of its organization whose kinds include it."""
    endpoints = await session.scalars(select(WebhookEndpoint).where(
        col(WebhookEndpoint.organization_id) == event.organization_id, col(WebhookEndpoint.enabled)))
    wanting = [endpoint for endpoint in endpoints if endpoint.wants(event.kind)]
    if not wanting:
        return []
    body = await webhook_body(session, event)
    deliveries = [WebhookDelivery(organization_id=event.organization_id, endpoint_id=saved_id(endpoint),
                                  event_id=saved_id(event), message_id=new_message_id(), body=body)
                  for endpoint in wanting]
    session.add_all(deliveries)
    mark_webhooks_due(session)
    return deliveries


async def webhook_body(session: AsyncSession, event: ActivityEvent) -> str:
    """`{"type", "timestamp", "data": {...}}`, the event as the API shows it, with GraphQL ids."""
    occurred_at = iso_time(event.occurred_at)
    data = {
        "id": to_global_id("ActivityEvent", event.id),
        "cursor": encode_activity_cursor(event.organization_id, event.sequence),
        "kind": event.kind,
        "occurredAt": occurred_at,
        "summary": event.summary,
        "customer": await _customer(session, event.customer_id),
        "contactPerson": await _contact_person(session, event.contact_person_id),
        "subject": await _subject(session, event.subject_type, event.subject_id),
        "comment": await _comment(session, event.comment_id),
    }
    return json.dumps({"type": event.kind, "timestamp": occurred_at, "data": data}, ensure_ascii=False,
                      separators=(",", ":"))


async def _customer(session: AsyncSession, customer_id: int) -> dict[str, object]:
    customer = await session.get(Customer, customer_id)
    return {"id": to_global_id("Customer", customer_id), "displayName": customer.display_name if customer else None}


async def _contact_person(session: AsyncSession, contact_person_id: int | None) -> dict[str, object] | None:
    contact = None if contact_person_id is None else await session.get(ContactPerson, contact_person_id)
    if contact is None:
        return None
    return {"id": to_global_id("ContactPerson", contact.id), "name": contact.full_name, "email": contact.email}


async def _subject(session: AsyncSession, subject_type: str | None, subject_id: int | None) -> dict[str, object] | None:
    if subject_type is None or subject_id is None:
        return None
    return {"type": subject_type, "id": to_global_id(subject_type, subject_id),
            "number": await _number(session, subject_type, subject_id)}


async def _number(session: AsyncSession, subject_type: str, subject_id: int) -> str | None:
    """The number of an estimate, invoice or payment; None for what has none (a project, a review, …)."""
    numbered: Estimate | Invoice | Payment | None = None
    if subject_type == "Estimate":
        numbered = await session.get(Estimate, subject_id)
    elif subject_type == "Invoice":
        numbered = await session.get(Invoice, subject_id)
    elif subject_type == "Payment":
        numbered = await session.get(Payment, subject_id)
    return numbered.number if numbered is not None else None


async def _comment(session: AsyncSession, comment_id: int | None) -> dict[str, object] | None:
    comment = None if comment_id is None else await session.get(Comment, comment_id)
    if comment is None:
        return None
    return {"id": to_global_id("Comment", comment.id), "body": comment.body}
