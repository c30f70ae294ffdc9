"""What changed in a customer's portal, for its contact persons' pages to update themselves.

Numbered per organization from the UPDATE counter row (models/sequences.py), like activity events,
so that what is committed is always 1..k and a cursor ("up to k") says what a subscriber has had.
"""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, UniqueConstraint, select
from sqlmodel import Field, SQLModel, col

from portal.models.auth import Principal
from portal.models.columns import UTCDateTime, utcnow


class PortalUpdateKind(StrEnum):
    DOCUMENT_SENT = "DOCUMENT_SENT"
    DOCUMENT_CHANGED = "DOCUMENT_CHANGED"
    PAYMENT_RECORDED = "PAYMENT_RECORDED"
    COMMENT_ADDED = "COMMENT_ADDED"


class CustomerUpdate(SQLModel, table=True):
    __tablename__ = "customer_updates"
    __table_args__ = (UniqueConstraint("organization_id", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    sequence: int
    customer_id: int = Field(foreign_key="customers.id", index=True)
    kind: str = Field(max_length=24)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    subject_type: str = Field(max_length=20)
    subject_id: int
    comment_id: int | None = Field(default=None, foreign_key="comments.id")
    summary: str = Field(max_length=500)


def updates_visible_to(principal: Principal) -> Select[CustomerUpdate]:
    """Staff see their organization's updates; a contact person their own customer's."""
    query = select(CustomerUpdate).where(col(CustomerUpdate.organization_id) == principal.organization_id)
    if principal.is_contact:
        query = query.where(col(CustomerUpdate.customer_id) == principal.customer_id)
    return query
