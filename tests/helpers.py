"""Reading what the service recorded, straight from its database."""
from sqlalchemy import text


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
