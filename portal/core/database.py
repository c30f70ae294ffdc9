"""The async engine and sessions."""
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def create_engine(url: str, *, for_reading: bool = False, **kwargs) -> AsyncEngine:
    """The engine; `for_reading` on SQLite gives one whose transactions do not take the write lock."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_deferred if for_reading else _begin_immediate)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, **kwargs)


def _configure_sqlite(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by _begin_immediate
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_immediate(connection) -> None:
    """Take SQLite's write lock when a transaction starts, not when it first writes.

    Otherwise two transactions that read, then write, deadlock and one fails at once with
    "database is locked"; taking the lock up front makes the second wait its turn instead.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection) -> None:
    """For sessions that only read (live activity): in WAL mode they neither wait for nor block writers."""
    connection.exec_driver_sql("BEGIN")


class SerialSession(AsyncSession):
    """A session that its callers may share across concurrently resolved GraphQL fields.

    graphql-core resolves sibling fields concurrently; an AsyncSession refuses concurrent
    use, so every round trip takes a per-session lock. Only leaf operations lock (execute
    is what scalars/scalar call), so the lock is never taken twice by one caller.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lock = asyncio.Lock()

    async def execute(self, *args, **kwargs):
        async with self._lock:
            return await super().execute(*args, **kwargs)

    async def scalar(self, *args, **kwargs):
        async with self._lock:
            return await super().scalar(*args, **kwargs)

    async def delete(self, *args, **kwargs):
        async with self._lock:
            return await super().delete(*args, **kwargs)

    async def get(self, *args, **kwargs):
        async with self._lock:
            return await super().get(*args, **kwargs)

    async def flush(self, *args, **kwargs):
        async with self._lock:
            return await super().flush(*args, **kwargs)

    async def commit(self):
        async with self._lock:
            return await super().commit()

    async def rollback(self):
        async with self._lock:
            return await super().rollback()

    async def refresh(self, *args, **kwargs):
        async with self._lock:
            return await super().refresh(*args, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[SerialSession]:
    return async_sessionmaker(engine, class_=SerialSession, expire_on_commit=False, autoflush=True)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker) -> AsyncIterator[SerialSession]:
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
