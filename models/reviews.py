"""Reviews that contact persons leave for the business."""
from datetime import datetime

from sqlalchemy import Select
from sqlmodel import Field, SQLModel, col

from portal.core.errors import InputCheck
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


def reviews_visible_to(principal: Principal) -> Select[Review]:
    """Staff see every review; a contact person their own."""
    return organization_rows(Review, principal, col(Review.contact_person_id) == principal.contact_person_id)


def new_review(principal: Principal, *, rating: int, comment: str | None, author_name: str) -> Review:
    check = InputCheck()
    if not 1 <= rating <= 5:
        check.add("rating", "A rating is from 1 to 5.")
    if comment is not None and len(comment) > 5000:
        check.add("comment", "A review comment has at most 5,000 characters.")
    check.done()
    customer_id, contact_person_id = principal.contact_ids()
    return Review(organization_id=principal.organization_id, customer_id=customer_id,
                  contact_person_id=contact_person_id, rating=rating, comment=comment, author_name=author_name)
