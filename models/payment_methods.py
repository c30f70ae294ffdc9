"""Payment methods a contact person saved at the gateway: never a card number, only its reference."""
from datetime import datetime

from sqlalchemy import Select, false, select
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession
from portal.models.auth import Principal
from portal.models.columns import UTCDateTime, utcnow


class SavedPaymentMethod(SQLModel, table=True):
    __tablename__ = "saved_payment_methods"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    contact_person_id: int = Field(foreign_key="contact_persons.id", index=True)
    kind: str = Field(max_length=16)
    brand: str | None = Field(default=None, max_length=40)
    last4: str = Field(max_length=4)
    exp_month: int | None = None
    exp_year: int | None = None
    gateway_reference: str = Field(max_length=200)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def payment_methods_of(principal: Principal) -> Select[SavedPaymentMethod]:
    """Only ever the contact person's own, live methods; staff see none."""
    query = select(SavedPaymentMethod).where(
        col(SavedPaymentMethod.organization_id) == principal.organization_id,
        col(SavedPaymentMethod.contact_person_id) == principal.contact_person_id,
        col(SavedPaymentMethod.removed_at).is_(None),
    )
    return query if principal.is_contact else query.where(false())


async def remember_method(session: AsyncSession, *, organization_id: int, contact_person_id: int, kind: str,
                          brand: str | None, last4: str, exp_month: int | None, exp_year: int | None,
                          reference: str) -> SavedPaymentMethod:
    """Save a method for later, once: saving the same gateway reference again returns the first."""
    existing = await session.scalar(select(SavedPaymentMethod).where(
        col(SavedPaymentMethod.contact_person_id) == contact_person_id,
        col(SavedPaymentMethod.gateway_reference) == reference, col(SavedPaymentMethod.removed_at).is_(None)))
    if existing is not None:
        return existing
    method = SavedPaymentMethod(organization_id=organization_id, contact_person_id=contact_person_id, kind=kind,
                                brand=brand, last4=last4, exp_month=exp_month, exp_year=exp_year,
                                gateway_reference=reference)
    session.add(method)
    await session.flush()
    return method
