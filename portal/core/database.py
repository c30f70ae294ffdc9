"""The async engine and sessions."""
import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Dialect, event
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

_P = ParamSpec("_P")
_T = TypeVar("_T")


def create_engine(url: str, *, for_reading: bool = False) -> AsyncEngine:
    """The engine; `for_reading` on SQLite gives one whose transactions do not take the write lock."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_deferred if for_reading else _begin_immediate)
        return engine
    engine = create_async_engine(url, pool_size=10, max_overflow=20)
    event.listen(engine.sync_engine, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    event.listen(engine.sync_engine, "checkin", _note_idle_since)
    return engine


# A connection used within this many seconds is not pinged before its next use: under load none is, and
# a ping is three round trips on asyncpg (BEGIN, `;`, ROLLBACK). One that died meanwhile fails its request
# once, and the pool then replaces every connection opened before that failure.
PING_AFTER_IDLE_SECONDS = 5.0
_IDLE_SINCE = "portal_idle_since"


def _ping_if_idle(dialect: Dialect, dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry,
                  _proxy: object) -> None:
    if time.monotonic() - record.info.get(_IDLE_SINCE, 0.0) < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as error:
        raise DisconnectionError(f"a pooled connection failed its ping: {error}") from error


def _note_idle_since(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _configure_sqlite(dbapi_connection: AsyncAdapt_aiosqlite_connection, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by _begin_immediate
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    """Take SQLite's write lock when a transaction starts, not when it first writes.

    Otherwise two transactions that read, then write, deadlock and one fails at once with
    "database is locked"; taking the lock up front makes the second wait its turn instead.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection: Connection) -> None:
    """For sessions that only read (live activity): in WAL mode they neither wait for nor block writers."""
    connection.exec_driver_sql("BEGIN")


def _one_at_a_time(
    method: Callable[Concatenate[AsyncSession, _P], Coroutine[Any, Any, _T]],
) -> Callable[Concatenate["SerialSession", _P], Coroutine[Any, Any, _T]]:
    """AsyncSession's `method`, with the same signature, run while holding the session's lock."""

    @functools.wraps(method)
    async def locked(session: "SerialSession", /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        async with session.lock:
            return await method(session, *args, **kwargs)

    return locked


class SerialSession(AsyncSession):
    """A session that its callers may share across concurrently resolved GraphQL fields.

    graphql-core resolves sibling fields concurrently; an AsyncSession refuses concurrent
    use, so every round trip takes a per-session lock. Only leaf operations lock (execute
    is what scalars/scalar call), so the lock is never taken twice by one caller.
    """

    @functools.cached_property
    def lock(self) -> asyncio.Lock:
        return asyncio.Lock()

    execute = _one_at_a_time(AsyncSession.execute)
    if not TYPE_CHECKING:
        # mypy loses scalar's overloads in the wrapper (SQLAlchemy's TypedReturnsRows[Never] special case
        # for python/mypy#20651): to mypy it stays AsyncSession.scalar, with the same signature.
        scalar = _one_at_a_time(AsyncSession.scalar)
    delete = _one_at_a_time(AsyncSession.delete)
    get = _one_at_a_time(AsyncSession.get)
    flush = _one_at_a_time(AsyncSession.flush)
    commit = _one_at_a_time(AsyncSession.commit)
    rollback = _one_at_a_time(AsyncSession.rollback)
    refresh = _one_at_a_time(AsyncSession.refresh)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[SerialSession]:
    return async_sessionmaker(engine, class_=SerialSession, expire_on_commit=False, autoflush=True)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[SerialSession]) -> AsyncIterator[SerialSession]:
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
