"""One settings object, read from the environment (prefix PORTAL_) once."""
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///portal.db"
    broadcast_url: str = "memory://"
    smtp_url: str | None = None
    mail_dir: str = "./outbox"
    mail_from: str = "portal@localhost"
    base_url: str = "http://127.0.0.1:8000"
    payment_gateway: Literal["sandbox"] = "sandbox"  # a real processor's adapter adds its name here
    session_ttl_hours: int = 24
    invite_ttl_days: int = 7
    pdf_page_size: Literal["A4", "Letter"] = "A4"
    # Browsers send an Origin header on WebSockets; native clients do not.
    allowed_origins: list[str] | None = None
    owner_password: str | None = None
    # Live activity: how far a subscriber may fall behind before it is closed (it resumes with
    # `after`), how often the database is checked for events whose announcement was lost, and
    # how often a heartbeat goes round the broker to prove its listener alive.
    activity_queue_limit: int = 1000
    activity_poll_seconds: float = 5.0
    broker_heartbeat_seconds: float = 5.0
    ws_keep_alive_seconds: float = 15.0
    # The mail sender: how often it looks for due emails, and the cap of its retry backoff.
    mail_poll_seconds: float = 1.0
    mail_max_backoff_seconds: float = 30.0

    @field_validator("base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def base_origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def link(self, path: str) -> str:
        """An absolute link for emails and API answers; never built from the request."""
        return f"{self.base_url}{path}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
