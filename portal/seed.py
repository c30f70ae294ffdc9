"""Creating a business outside GraphQL: for the CLI, the demo and tests."""
from portal.core.database import create_engine, session_factory
from portal.core.ids import to_global_id
from portal.core.settings import Settings
from portal.models.auth import hash_password
from portal.models.organizations import create_organization
from portal.models.passwords import check_new_password


async def create_business(settings: Settings, *, name: str, portal_name: str, owner_name: str, owner_email: str,
                          password: str) -> str:
    check_new_password(password, owner_email)  # BAD_USER_INPUT before anything is created
    password_hash = await hash_password(password)
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            organization = await create_organization(
                session, name=name, portal_name=portal_name, owner_name=owner_name, owner_email=owner_email,
                password_hash=password_hash)
            await session.commit()
            return to_global_id("Organization", organization.id)
    finally:
        await engine.dispose()
