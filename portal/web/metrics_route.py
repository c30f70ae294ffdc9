"""GET /metrics: the Prometheus text format, for whoever PORTAL_METRICS_TOKEN admits (OPERATIONS.md).

Without a token only a direct request from this machine is answered: its peer is a loopback address and it
carries no X-Forwarded-For, Forwarded or X-Real-IP header (a request a local proxy forwarded is not
"loopback"). A peer listed in PORTAL_TRUSTED_PROXIES is a proxy, so whatever it sends was forwarded, even
without those headers (a same-host proxy configured not to add them). With a token, `Authorization: Bearer
<token>` is required. What lives in the database (the email outbox, webhook deliveries) is counted at each
scrape, with a short timeout.
"""
import asyncio
import hmac
import ipaddress
import logging
from collections.abc import Iterator, Sequence
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from portal.core.addresses import IPNetwork, is_trusted_proxy
from portal.core.database import SerialSession
from portal.core.runtime import Services
from portal.models.columns import utcnow
from portal.models.outbox import FAILED_FOR_GOOD, OutboxEmail
from portal.models.webhooks import DeliveryStatus, WebhookDelivery
from portal.ops.metrics import CONTENT_TYPE, exposition

logger = logging.getLogger("portal.metrics")
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
QUERY_TIMEOUT_SECONDS = 2.0


def admitted(request: Request, token: str | None, proxies: Sequence[IPNetwork]) -> bool:
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    peer = request.client.host if request.client is not None else None
    if peer is None or is_trusted_proxy(peer, proxies):
        return False
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


class QueueGauges(Collector):
    """Gauges read from the database for one scrape."""

    def __init__(self, values: dict[str, tuple[str, float]]) -> None:
        self.values = values

    def collect(self) -> Iterator[Metric]:
        for name, (documentation, value) in self.values.items():
            yield GaugeMetricFamily(name, documentation, value=value)


def _age(oldest: datetime | None, now: datetime) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


async def queue_values(factory: async_sessionmaker[SerialSession]) -> dict[str, tuple[str, float]]:
    now = utcnow()
    pending_mail = (col(OutboxEmail.sent_at).is_(None), col(OutboxEmail.next_attempt_at) < FAILED_FOR_GOOD)
    async with factory() as session:
        mail_count, mail_oldest = (await session.execute(
            select(func.count(), func.min(OutboxEmail.created_at)).where(*pending_mail))).one()
        mail_failed = await session.scalar(select(func.count()).where(
            col(OutboxEmail.sent_at).is_(None), col(OutboxEmail.next_attempt_at) >= FAILED_FOR_GOOD))
        hooks_count, hooks_oldest = (await session.execute(
            select(func.count(), func.min(WebhookDelivery.created_at))
            .where(col(WebhookDelivery.status) == DeliveryStatus.PENDING))).one()
    return {
        "portal_outbox_emails_pending": ("Emails queued and not sent yet.", mail_count),
        "portal_outbox_oldest_pending_age_seconds": ("Age of the oldest email not sent yet (0: none).",
                                                     _age(mail_oldest, now)),
        "portal_outbox_emails_failed": ("Emails given up for good (a message that cannot be built).",
                                        mail_failed or 0),
        "portal_webhook_deliveries_pending": ("Webhook deliveries waiting for a (next) attempt.", hooks_count),
        "portal_webhook_oldest_pending_age_seconds": ("Age of the oldest pending webhook delivery (0: none).",
                                                      _age(hooks_oldest, now)),
    }


async def scrape(services: Services) -> bytes:
    try:
        values = await asyncio.wait_for(queue_values(services.read_session_factory), QUERY_TIMEOUT_SECONDS)
        values["portal_metrics_database_up"] = ("1 if this scrape could read the database, else 0.", 1.0)
    except Exception as error:
        logger.warning("metrics: cannot read the queues from the database: %s", type(error).__name__)
        values = {"portal_metrics_database_up": ("1 if this scrape could read the database, else 0.", 0.0)}
    return await asyncio.to_thread(exposition, QueueGauges(values))


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    token = services.settings.metrics_token or None  # set but empty: as unset, never "Bearer "
    if not admitted(request, token, services.settings.proxy_networks):
        if token is None:
            return PlainTextResponse("/metrics answers only direct requests from this machine; set "
                                     "PORTAL_METRICS_TOKEN to read it from elsewhere.\n", status_code=403)
        return PlainTextResponse("A bearer token (PORTAL_METRICS_TOKEN) is required.\n", status_code=401,
                                 headers={"WWW-Authenticate": "Bearer"})
    return Response(await scrape(services), media_type=CONTENT_TYPE)
