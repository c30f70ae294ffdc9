"""The process-wide parts that the app's lifespan builds and every request and background task uses."""
from dataclasses import dataclass

from portal.core.settings import Settings


@dataclass
class Services:
    """Process-wide parts built by the app's lifespan."""

    settings: Settings
    engine: object
    session_factory: object
    # For sessions that only read while others write (live activity); on PostgreSQL the same factory.
    read_session_factory: object
    broadcast: object
    mail_sender: object | None = None
    gateway: object | None = None
    activity_feed: object | None = None
