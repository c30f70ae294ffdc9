"""Emails waiting to be sent, written in the transaction of the change that causes them.

An email is in one of three states, read from its columns:
- pending: `sent_at` is NULL and `next_attempt_at` is when the sender next tries it;
- sent: `sent_at` is set;
- failed for good: `sent_at` is NULL and `next_attempt_at` is FAILED_FOR_GOOD, the end of time, so that
  no pass claims it again; `last_error` says why (a message that cannot be built, which no retry mends).
"""
from datetime import UTC, datetime

from sqlmodel import Field, SQLModel

from portal.models.columns import UTCDateTime, utcnow

FAILED_FOR_GOOD = datetime(9999, 12, 31, tzinfo=UTC)


class OutboxEmail(SQLModel, table=True):
    __tablename__ = "outbox_emails"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    message_id: str = Field(max_length=200, unique=True)
    to_address: str = Field(max_length=320)
    to_name: str | None = Field(default=None, max_length=200)
    subject: str = Field(max_length=300)
    text_body: str
    html_body: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    last_error: str | None = None

    @property
    def failed_for_good(self) -> bool:
        return self.sent_at is None and self.next_attempt_at >= FAILED_FOR_GOOD
