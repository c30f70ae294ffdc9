"""Comments on estimates, invoices and projects, by staff or by contact persons."""
from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput
from portal.models.auth import Principal
from portal.models.columns import UTCDateTime, utcnow
from portal.models.estimates import Estimate, EstimateStatus
from portal.models.invoices import Invoice, InvoiceStatus
from portal.models.lookup import group_by
from portal.models.organizations import PortalSettings
from portal.models.projects import Project, shown_only_with_projects

MAX_COMMENT = 5000
Commentable = Estimate | Invoice | Project


class Comment(SQLModel, table=True):
    __tablename__ = "comments"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    subject_type: str = Field(max_length=20)  # "Estimate", "Invoice" or "Project"
    subject_id: int = Field(index=True)
    body: str
    author_name: str = Field(max_length=200)
    staff_user_id: int | None = Field(default=None, foreign_key="staff_users.id")
    contact_person_id: int | None = Field(default=None, foreign_key="contact_persons.id")
    visible_in_portal: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def by_staff(self) -> bool:
        return self.staff_user_id is not None


def comments_visible_to(principal: Principal) -> Select[Comment]:
    """Staff see every comment; a contact person the visible ones on what they may see (never on a draft)."""
    query = select(Comment).where(col(Comment.organization_id) == principal.organization_id)
    if principal.is_contact:
        shown_estimates = select(col(Estimate.id)).where(col(Estimate.customer_id) == principal.customer_id,
                                                         col(Estimate.status) != EstimateStatus.DRAFT)
        shown_invoices = select(col(Invoice.id)).where(col(Invoice.customer_id) == principal.customer_id,
                                                       col(Invoice.status) != InvoiceStatus.DRAFT)
        query = query.where(
            col(Comment.customer_id) == principal.customer_id, col(Comment.visible_in_portal).is_(True),
            or_(col(Comment.subject_type) == "Project",
                and_(col(Comment.subject_type) == "Estimate", col(Comment.subject_id).in_(shown_estimates)),
                and_(col(Comment.subject_type) == "Invoice", col(Comment.subject_id).in_(shown_invoices))))
    return query


def shown_in_portal(comment: Comment, subject: Commentable) -> bool:
    """The customer's side sees the comment: staff did not hide it, and its subject is not a draft
    (a draft is not in the portal yet; a project has no drafts)."""
    return comment.visible_in_portal and getattr(subject, "status", None) != EstimateStatus.DRAFT


def tells_customer(comment: Comment, subject: Commentable, portal_settings: PortalSettings) -> bool:
    """A staff comment the customer's side sees is emailed to its contact persons, if the portal asks for it.

    A contact person's comment is told to the owner instead, by the owner's own setting.
    """
    return (comment.by_staff and shown_in_portal(comment, subject)
            and portal_settings.notify_customers_on_staff_comments
            # a comment on a project is in the portal only while the portal shows projects
            and (portal_settings.show_projects_and_timesheets or not shown_only_with_projects(comment.subject_type)))


def new_comment(principal: Principal, *, subject_type: str, subject_id: int, customer_id: int, body: str,
                author_name: str, visible_in_portal: bool) -> Comment:
    if not len(body.strip()) >= 1 or len(body) > MAX_COMMENT:
        raise BadUserInput(f"A comment has 1 to {MAX_COMMENT:,} characters.", field="body")
    return Comment(
        organization_id=principal.organization_id, customer_id=customer_id, subject_type=subject_type,
        subject_id=subject_id, body=body, author_name=author_name, staff_user_id=principal.staff_user_id,
        contact_person_id=principal.contact_person_id,
        # A contact person's comment is always visible to the customer's side.
        visible_in_portal=visible_in_portal if principal.is_staff else True,
    )


async def comments_on(session: AsyncSession, principal: Principal, subject_type: str,
                      subject_ids: list[int]) -> dict[int, list[Comment]]:
    rows = await session.scalars(
        comments_visible_to(principal)
        .where(col(Comment.subject_type) == subject_type, col(Comment.subject_id).in_(subject_ids))
        .order_by(col(Comment.created_at), col(Comment.id))
    )
    return group_by(rows, lambda row: row.subject_id)
