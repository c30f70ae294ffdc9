"""Reviews that contact persons leave for the business."""
from datetime import datetime

from sqlmodel import Field, SQLModel

from portal.core.errors import BadUserInput
from portal.models.auth import Principal
from portal.models.columns import UTCDateTime, utcnow
from portal.models.lookup import organization_rows


class Review(SQLModel, table=True):
    __tablename__ = "reviews"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    contact_person_id: int = Field(foreign_key="contact_persons.id")
    rating: int
    comment: str | None = None
    author_name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def reviews_visible_to(principal: Principal):
    """Staff see every review; a contact person their own."""
    return organization_rows(Review, principal, Review.contact_person_id == principal.contact_person_id)


def new_review(principal: Principal, *, rating: int, comment: str | None, author_name: str) -> Review:
    if not 1 <= rating <= 5:
        raise BadUserInput("A rating is from 1 to 5.", field="rating")
    if comment is not None and len(comment) > 5000:
        raise BadUserInput("A review comment has at most 5,000 characters.", field="comment")
    customer_id, contact_person_id = principal.contact_ids()
    return Review(organization_id=principal.organization_id, customer_id=customer_id,
                  contact_person_id=contact_person_id, rating=rating, comment=comment, author_name=author_name)
