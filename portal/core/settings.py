"""One settings object, read from the environment (prefix PORTAL_) once."""
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import NonNegativeFloat, PositiveFloat, PositiveInt, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from portal.core.addresses import IPNetwork, networks, parse_proxies
from portal.core.origins import parse_origins, url_origin
from portal.core.webhook_delays import parse_delays


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
    # The render workers start with the server and warm up on a sample document, so that no PDF waits for
    # a cold one (test runs, which start many servers, switch it off).
    pdf_workers_at_start: bool = True
    # Pages on these origins may call the API and open the WebSocket, besides the base URL's own.
    # Read by parse_origins (a comma-separated list or JSON), not as pydantic-settings' JSON.
    allowed_origins: Annotated[list[str], NoDecode] = []
    # Reverse proxies whose X-Forwarded-For entries are believed (addresses and CIDR ranges, comma-separated
    # or JSON): a sign-in's client address is the rightmost entry none of them added (portal/core/addresses.py).
    trusted_proxies: Annotated[list[str], NoDecode] = []
    owner_password: str | None = None
    # Larger HTTP bodies are answered 413 before they are read whole; larger WebSocket messages close it (1009).
    max_body_bytes: PositiveInt = 1024 * 1024
    # Live activity: how far a subscriber may fall behind before it is closed (it resumes with
    # `after`), how often the database is checked for events whose announcement was lost, and
    # how often a heartbeat goes round the broker to prove its listener alive.
    activity_queue_limit: int = 1000
    activity_poll_seconds: float = 5.0
    broker_heartbeat_seconds: float = 5.0
    ws_keep_alive_seconds: float = 15.0
    # permessage-deflate on WebSockets (`portal serve`): off saves each connection its compressor's memory;
    # on, it uses a 4 KB window and memory level 5 (uvicorn's websockets-sansio protocol).
    ws_per_message_deflate: bool = False
    # The mail sender: how often it looks for due emails, and the cap of its retry backoff.
    mail_poll_seconds: float = 1.0
    mail_max_backoff_seconds: float = 30.0
    # Webhooks (OPERATIONS.md): private and http:// endpoints (development, tests), the delays between the
    # attempts of one delivery (each with ±10 % jitter; FAILED after the last), and how long an endpoint may
    # fail every delivery before it is disabled.
    webhook_allow_private: bool = False
    webhook_retry_seconds: Annotated[list[float], NoDecode] = [5, 300, 1800, 7200, 18000, 36000, 36000]
    webhook_disable_after_hours: PositiveFloat = 120.0
    # Operations (portal/ops/): who may read /metrics (unset: direct loopback requests only), the log format,
    # and how long a stopping server lets requests in flight finish before it cancels them.
    metrics_token: str | None = None
    log_format: Literal["text", "json"] = "text"
    shutdown_grace_seconds: PositiveFloat = 20.0
    shutdown_drain_seconds: NonNegativeFloat = 0.0  # on SIGTERM, serve on this long with /readyz 503 first
    # GraphiQL at GET /graphql in a browser; unset: on with the embedded database (SQLite), off otherwise.
    graphiql: bool | None = None

    @field_validator("webhook_retry_seconds", mode="before")
    @classmethod
    def _read_retry_seconds(cls, value: object) -> list[float]:
        return parse_delays(value)

    @field_validator("base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        url_origin(value)  # an http(s) URL, or start-up stops here
        return value.rstrip("/")

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _read_origins(cls, value: object) -> list[str]:
        return parse_origins(value)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _read_proxies(cls, value: object) -> list[str]:
        return parse_proxies(value)

    @property
    def proxy_networks(self) -> list[IPNetwork]:
        return networks(self.trusted_proxies)

    @property
    def embedded_database(self) -> bool:
        """SQLite, the embedded default (development and demos), rather than a PostgreSQL server."""
        return self.database_url.startswith("sqlite")

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.embedded_database

    @property
    def base_origin(self) -> str:
        return url_origin(self.base_url)

    @property
    def browser_origins(self) -> list[str]:
        """Where browser pages may call the API from: the base URL's origin, always, and PORTAL_ALLOWED_ORIGINS."""
        return list(dict.fromkeys([self.base_origin, *self.allowed_origins]))

    def link(self, path: str) -> str:
        """An absolute link for emails and API answers; never built from the request."""
        return f"{self.base_url}{path}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
