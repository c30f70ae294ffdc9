"""Alembic migrations, packaged with the code so that `portal migrate` works from any directory."""
from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    """Bring the schema up to date; doing it twice changes nothing."""
    command.upgrade(alembic_config(database_url), "head")
