"""Gap-free numbers per organization: EST-00001, INV-00001, PAY-00001, activity and portal-update cursors.

The counter row is locked by the UPDATE until the transaction ends, so numbers are unique
under concurrency and a rolled-back transaction gives its number back.
"""
from sqlalchemy import update
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession

SEQUENCES = ("EST", "INV", "PAY", "ACTIVITY", "UPDATE")


class NumberSequence(SQLModel, table=True):
    __tablename__ = "number_sequences"

    organization_id: int = Field(foreign_key="organizations.id", primary_key=True)
    name: str = Field(primary_key=True, max_length=20)
    last_value: int = 0


async def next_value(session: AsyncSession, organization_id: int, name: str) -> int:
    statement = (
        update(NumberSequence)
        .where(col(NumberSequence.organization_id) == organization_id, col(NumberSequence.name) == name)
        .values(last_value=col(NumberSequence.last_value) + 1)
        .returning(col(NumberSequence.last_value))
    )
    value = (await session.execute(statement)).scalar()
    if value is None:
        raise LookupError(f"No {name} sequence for organization {organization_id}.")
    return value


def new_sequences(organization_id: int) -> list[NumberSequence]:
    """Created with the organization, so that no two requests race to create one."""
    return [NumberSequence(organization_id=organization_id, name=name) for name in SEQUENCES]


async def next_number(session: AsyncSession, organization_id: int, prefix: str) -> str:
    return f"{prefix}-{await next_value(session, organization_id, prefix):05d}"
