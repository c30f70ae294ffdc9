"""Webhook endpoints of a business and the deliveries queued for them, with the rules about both.

A delivery is one activity event for one endpoint: queued in the event's transaction with its body
fixed then, and sent until an attempt succeeds or the retry delays run out. Its state:
- PENDING: `next_attempt_at` is when it is due; a sender that is attempting it holds a claim until
  `claimed_until` (a worker that dies leaves it to be tried again once the claim runs out);
- SUCCEEDED or FAILED: `next_attempt_at` is NULL.

Secrets are kept as they are: signing needs the key itself (a hash could not sign), and the API shows
a secret only in the answer of the mutation that made it. Encrypting them with a key taken from the
environment would only move the secret next to PORTAL_DATABASE_URL, where whoever reads one reads both.
"""
import base64
import random
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Index, Select, Text, false, select
from sqlmodel import Field, SQLModel, col

from portal.models.activity import ActivityKind
from portal.models.auth import Principal
from portal.models.columns import UTCDateTime, utcnow

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
ROTATION_OVERLAP = timedelta(hours=24)
JITTER = 0.1  # each retry delay is stretched or shrunk by up to 10 %
MAX_URL = 2000
MAX_DESCRIPTION = 500
SNIPPET_CHARACTERS = 1000


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoints"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    url: str = Field(max_length=MAX_URL)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    # ActivityKind values, comma-separated; empty: every kind.
    kinds: str = Field(default="", max_length=400)
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    secret: str = Field(max_length=100)
    # During a rotation the old secret signs too, until it expires.
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the first attempt failed since the last one that succeeded; NULL while deliveries succeed.
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def kind_list(self) -> list[ActivityKind]:
        return [ActivityKind(kind) for kind in self.kinds.split(",") if kind]

    def wants(self, kind: str) -> bool:
        """Whether events of `kind` are delivered to the endpoint (no kinds named: every kind)."""
        return self.enabled and (not self.kinds or kind in self.kinds.split(","))

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets requests are signed with: the current one, and the previous one while it is valid."""
        previous = self.previous_secret
        expires = self.previous_secret_expires_at
        return [self.secret] + ([previous] if previous and expires and expires > now else [])


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoints.id", index=True)
    event_id: int = Field(foreign_key="activity_events.id", index=True)
    message_id: str = Field(max_length=64, unique=True)  # the webhook-id header, the same on every attempt
    body: str = Field(sa_type=Text)  # fixed when the event is recorded: every attempt sends these bytes
    status: str = Field(default=DeliveryStatus.PENDING, max_length=10)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    response_status: int | None = None
    response_snippet: str | None = Field(default=None, max_length=SNIPPET_CHARACTERS)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def webhook_endpoints_visible_to(principal: Principal) -> Select[WebhookEndpoint]:
    """Staff see their organization's endpoints; contact persons none."""
    query = select(WebhookEndpoint).where(col(WebhookEndpoint.organization_id) == principal.organization_id)
    return query if principal.is_staff else query.where(false())


def webhook_deliveries_visible_to(principal: Principal) -> Select[WebhookDelivery]:
    """Staff see their organization's deliveries; contact persons none."""
    query = select(WebhookDelivery).where(col(WebhookDelivery.organization_id) == principal.organization_id)
    return query if principal.is_staff else query.where(false())


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes, the HMAC key."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signing_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def new_message_id() -> str:
    return f"msg_{secrets.token_hex(16)}"


def joined_kinds(kinds: Sequence[ActivityKind] | None) -> str:
    return ",".join(dict.fromkeys(ActivityKind(kind).value for kind in kinds or ()))


def rotate(endpoint: WebhookEndpoint, now: datetime) -> str:
    """A new current secret; the one it replaces keeps signing for ROTATION_OVERLAP."""
    endpoint.previous_secret, endpoint.previous_secret_expires_at = endpoint.secret, now + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    return endpoint.secret


def retry_delay(attempts_made: int, delays: Sequence[float], *, rng: random.Random | None = None) -> timedelta | None:
    """How long to wait after the `attempts_made`-th failed attempt, with ±10 % jitter; None: give up (FAILED)."""
    if attempts_made > len(delays):
        return None
    jitter = 1 + (rng or random).uniform(-JITTER, JITTER)
    return timedelta(seconds=delays[attempts_made - 1] * jitter)
