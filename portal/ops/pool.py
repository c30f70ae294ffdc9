"""How many pooled database connections are checked out, from the pool's own events."""
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.ops.metrics import DB_CONNECTIONS_IN_USE


def watch_pool(engine: AsyncEngine) -> None:
    pool = engine.sync_engine.pool
    event.listen(pool, "checkout", _checked_out)
    event.listen(pool, "checkin", _checked_in)


def _checked_out(*_: Any) -> None:
    DB_CONNECTIONS_IN_USE.inc()


def _checked_in(*_: Any) -> None:
    DB_CONNECTIONS_IN_USE.dec()
