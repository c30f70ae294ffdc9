"""Reading what the service recorded, straight from its database."""
import hashlib

from sqlalchemy import func, select, text
from sqlmodel import SQLModel


async def activity_kinds(app, organization_global_id: str) -> list[str]:
    from portal.core.ids import from_global_id

    _, organization_id = from_global_id(organization_global_id)
    async with app.state.services.session_factory() as session:
        rows = await session.execute(
            text("SELECT kind FROM activity_events WHERE organization_id = :org ORDER BY sequence"),
            {"org": organization_id})
        return [row[0] for row in rows]


async def outbox_count(app) -> int:
    async with app.state.services.session_factory() as session:
        return (await session.execute(text("SELECT count(*) FROM outbox_emails"))).scalar()


async def row_counts(app) -> dict[str, int]:
    """How many rows each table of the models has."""
    async with app.state.services.session_factory() as session:
        return {table.name: await session.scalar(select(func.count()).select_from(table))
                for table in SQLModel.metadata.sorted_tables}


async def contents(app) -> dict[str, str]:
    """A digest of every row of each table (in primary-key order): an update shows, not only an insert."""
    digests = {}
    async with app.state.services.session_factory() as session:
        for table in SQLModel.metadata.sorted_tables:
            rows = await session.execute(select(table).order_by(*(table.primary_key.columns or table.columns)))
            digests[table.name] = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
    return digests


async def quiet(app) -> None:
    """Send the emails that are due, so that the sender does not mark one sent between two looks."""
    while await app.state.services.mail_sender.send_due():
        pass


# What the hostile battery tried, by line of the summary ("isolation tries on sqlite": 1400); conftest prints it.
BATTERY_COUNTS: dict[str, int] = {}


def count_try(what: str, backend_url: str, tries: int = 1) -> None:
    """Count tries of the battery, per backend (the scheme of the database URL)."""
    key = f"{what} on {backend_url.split('+')[0].split(':')[0]}"
    BATTERY_COUNTS[key] = BATTERY_COUNTS.get(key, 0) + tries
