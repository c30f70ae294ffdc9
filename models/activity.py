"""What contact persons did in the portal, in the order it was committed."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, UniqueConstraint, false, select
from sqlmodel import Field, SQLModel, col

from portal.models.auth import Principal
from portal.models.columns import UTCDateTime, utcnow


class ActivityKind(StrEnum):
    VIEWED = "VIEWED"
    COMMENTED = "COMMENTED"
    PAYMENT_RECEIVED = "PAYMENT_RECEIVED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    ESTIMATE_ACCEPTED = "ESTIMATE_ACCEPTED"
    ESTIMATE_DECLINED = "ESTIMATE_DECLINED"
    DOCUMENT_FORWARDED = "DOCUMENT_FORWARDED"
    DETAILS_UPDATED = "DETAILS_UPDATED"
    REVIEW_SUBMITTED = "REVIEW_SUBMITTED"
    INVITE_ACCEPTED = "INVITE_ACCEPTED"


class ActivityEvent(SQLModel, table=True):
    __tablename__ = "activity_events"
    __table_args__ = (UniqueConstraint("organization_id", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    # Per organization, taken from a row-locked counter, so commit order is sequence order.
    sequence: int
    kind: str = Field(max_length=24)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    customer_id: int = Field(foreign_key="customers.id")
    contact_person_id: int | None = Field(default=None, foreign_key="contact_persons.id")
    subject_type: str | None = Field(default=None, max_length=20)
    subject_id: int | None = None
    comment_id: int | None = Field(default=None, foreign_key="comments.id")
    summary: str = Field(max_length=500)


def activity_visible_to(principal: Principal) -> Select[ActivityEvent]:
    """Staff see their organization's events; contact persons none."""
    query = select(ActivityEvent).where(col(ActivityEvent.organization_id) == principal.organization_id)
    if not principal.is_staff:
        query = query.where(false())
    return query
