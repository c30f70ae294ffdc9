"""The async engine and sessions."""
import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Concatenate, NamedTuple, ParamSpec, TypeVar

from sqlalchemy import Connection, Dialect, Select, event
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
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


class _DriverPlan(NamedTuple):
    statement: Select[Any]  # kept, so that its id is not another statement's
    sql: str
    parameters: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # in the SQL's order, with their conversions


_driver_plans: dict[int, _DriverPlan | None] = {}


def _driver_plan(statement: Select[Any], dialect: Dialect) -> _DriverPlan | None:
    """How asyncpg runs `statement` as SQLAlchemy would: its SQL and its parameters' conversions; None where
    SQLAlchemy would also convert a column of the result, or expand a parameter into the SQL."""
    if dialect.driver != "asyncpg":
        return None
    if id(statement) in _driver_plans:
        return _driver_plans[id(statement)]
    compiled = statement.compile(dialect=dialect)
    plain = (compiled.positiontup is not None and not compiled.literal_execute_params
             and not compiled.post_compile_params
             and all(column.type._cached_result_processor(dialect, None) is None
                     for column in compiled._result_columns))
    plan = _DriverPlan(statement, compiled.string, tuple(
        (name, compiled.binds[name].type._cached_bind_processor(dialect))
        for name in compiled.positiontup or ())) if plain else None
    _driver_plans[id(statement)] = plan
    return plan


async def read_rows(session: AsyncSession, statement: Select[Any], params: dict[str, Any]) -> Sequence[Any]:
    """The rows of a prebuilt read-only statement (kept for the process's life), in the session's transaction.

    Where SQLAlchemy would pass the result's values through unchanged, asyncpg runs the very SQL that
    SQLAlchemy compiles, with the parameters converted as it converts them, straight on the session's
    connection: without SQLAlchemy's execution and result layers, which cost as much as the rest of a page's
    lines. The transaction is begun as SQLAlchemy begins it, before the first statement. Otherwise, while
    something listens to the engine's statements (tracing, a test counting them), and when the driver fails
    (so that the error, and what happens to the connection, are SQLAlchemy's), through `session.execute`.
    All of it holds the session's lock, as its own operations do: sibling fields share the session.
    """
    async with _lock_of(session):
        connection = await session.connection()
        plan = _driver_plan(statement, connection.dialect)
        if plan is not None and not _watched(connection.sync_connection):
            adapted = await _adapted(connection)
            try:
                return await _fetch_by_driver(adapted, plan, params)
            except Exception:
                pass  # SQLAlchemy runs it again below, and fails as it fails
        return (await AsyncSession.execute(session, statement, params)).all()  # the lock is held already


async def _adapted(connection: AsyncConnection) -> Any:
    """SQLAlchemy's adapter of the driver's connection under `connection`: read at once where the connection is
    open and valid (what `get_raw_connection` does in a greenlet, for a reconnect that has nothing to do)."""
    sync = connection.sync_connection
    if sync is not None and not sync.closed and not sync.invalidated:
        return sync.connection.dbapi_connection
    return (await connection.get_raw_connection()).dbapi_connection


async def _fetch_by_driver(adapted: Any, plan: _DriverPlan, params: dict[str, Any]) -> Sequence[Any]:
    values = [params[name] if convert is None else convert(params[name]) for name, convert in plan.parameters]
    async with adapted._execute_mutex:
        began = adapted._transaction is None
        if began:  # as SQLAlchemy's adapter begins it before its first statement
            await adapted._start_transaction()
        try:
            return await adapted.driver_connection.fetch(plan.sql, *values)
        except Exception:
            if began:  # nothing else ran in it: ended, SQLAlchemy's retry runs in a fresh one, not an aborted one
                with contextlib.suppress(Exception):
                    await adapted._call_and_discard(adapted._transaction.rollback)
            raise


def _lock_of(session: AsyncSession) -> asyncio.Lock | contextlib.nullcontext[None]:
    return session.lock if isinstance(session, SerialSession) else contextlib.nullcontext()


def _watched(connection: Connection | None) -> bool:
    dispatch: Any = connection.dispatch if connection is not None else None
    return dispatch is None or bool(dispatch.before_cursor_execute) or bool(dispatch.after_cursor_execute)
