"""Emails waiting to be sent, written in the transaction of the change that causes them."""
from datetime import datetime

from sqlmodel import Field, SQLModel

from portal.models.columns import UTCDateTime, utcnow


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
