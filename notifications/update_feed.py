"""Customer updates for `portalUpdates` subscribers: the activity feed's machinery over another log.

The updates of an organization are numbered from one counter, so that a worker reads them once per
organization for all its subscribers (notifications/subscriptions.py explains why none is missed or
repeated); each subscriber then keeps those of its own customer.
"""
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput
from portal.core.runtime import Services
from portal.models.customer_updates import CustomerUpdate
from portal.notifications.broadcast import UPDATES_CHANNEL
from portal.notifications.subscriptions import ActivityFeed


class UpdateFeed(ActivityFeed):
    """Follows customer updates; `only` is a customer id (None: the whole organization)."""

    channel = UPDATES_CHANNEL

    async def read_after(self, session: AsyncSession, organization_id: int, sequence: int, *, limit: int,
                         only: Any = None) -> list[Any]:
        return await updates_after(session, organization_id, sequence, limit=limit, customer_id=only)

    def wanted(self, event: Any, only: Any) -> bool:
        return only is None or event.customer_id == only

    async def latest(self, session: AsyncSession, organization_id: int) -> int:
        latest = await session.scalar(select(func.max(CustomerUpdate.sequence))
                                      .where(col(CustomerUpdate.organization_id) == organization_id))
        return latest or 0

    async def latest_many(self, session: AsyncSession, organization_ids: list[int]) -> dict[int, int]:
        rows = await session.execute(
            select(col(CustomerUpdate.organization_id), func.max(CustomerUpdate.sequence))
            .where(col(CustomerUpdate.organization_id).in_(organization_ids))
            .group_by(col(CustomerUpdate.organization_id)))
        return dict(rows.all())


async def updates_after(session: AsyncSession, organization_id: int, sequence: int, *, limit: int,
                        customer_id: int | None = None) -> list[CustomerUpdate]:
    query = select(CustomerUpdate).where(col(CustomerUpdate.organization_id) == organization_id,
                                         col(CustomerUpdate.sequence) > sequence)
    if customer_id is not None:
        query = query.where(col(CustomerUpdate.customer_id) == customer_id)
    return list(await session.scalars(query.order_by(col(CustomerUpdate.sequence)).limit(limit)))


async def check_update_cursor_exists(session: AsyncSession, organization_id: int, customer_id: int,
                                     sequence: int) -> None:
    """A cursor names an update of this customer that exists (0: before the first)."""
    if sequence == 0:
        return
    found = await session.scalar(select(col(CustomerUpdate.id)).where(
        col(CustomerUpdate.organization_id) == organization_id, col(CustomerUpdate.customer_id) == customer_id,
        col(CustomerUpdate.sequence) == sequence))
    if found is None:
        raise BadUserInput("Unknown update cursor.")


def running_update_feed(services: Services) -> UpdateFeed:
    """This worker's update feed, which the app's lifespan starts before it serves any subscription."""
    if not isinstance(services.update_feed, UpdateFeed):
        raise RuntimeError("The update feed is not running.")
    return services.update_feed
