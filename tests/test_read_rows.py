"""read_rows (portal/core/database.py): the rows SQLAlchemy would give, fetched by asyncpg where it can."""
import asyncio
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import event, select, text
from sqlmodel import col

from portal.core import database
from portal.core.database import read_rows
from portal.core.ids import decode_id
from portal.models.documents import LineItem, _lines_statement
from portal.models.invoices import Invoice

LINES = [{"name": "Work", "description": "On site", "quantity": "1.5", "rate": "100", "taxPercent": "8.25"},
         {"name": "Parts", "quantity": "2", "rate": "0.1825"}]


async def _invoice_ids(session, customer_id: str) -> list[int]:
    customer_pk = decode_id(customer_id, "Customer")
    return list(await session.scalars(select(col(Invoice.id)).where(col(Invoice.customer_id) == customer_pk)))


async def test_the_driver_gives_the_rows_sqlalchemy_gives(app, business, monkeypatch):
    customer = await business.customer()
    for _ in range(2):
        await business.invoice(customer["id"], LINES)
    services = app.state.services
    dialect = services.engine.dialect.name
    statement = _lines_statement(col(LineItem.invoice_id), dialect)
    fetched_by_driver = []
    monkeypatch.setattr(database, "_fetch_by_driver", _noting(fetched_by_driver))

    async with services.session_factory() as session:
        ids = await _invoice_ids(session, customer["id"])  # begins the transaction
        through_sqlalchemy = (await session.execute(statement, {"document_ids": ids})).all()
        rows = await read_rows(session, statement, {"document_ids": ids})

    assert [tuple(row) for row in rows] == [tuple(row) for row in through_sqlalchemy]
    assert len(rows) == 4 and isinstance(rows[0][4], Decimal) and rows[0][4] == Decimal("100")
    assert fetched_by_driver == ([True] if dialect == "postgresql" else [])  # SQLite: through SQLAlchemy


async def test_a_first_read_begins_the_transaction_and_a_watched_engine_goes_through_sqlalchemy(app, business,
                                                                                              monkeypatch):
    services = app.state.services
    dialect = services.engine.dialect.name
    statement = _lines_statement(col(LineItem.invoice_id), dialect)
    fetched_by_driver = []
    monkeypatch.setattr(database, "_fetch_by_driver", _noting(fetched_by_driver))
    seen = []

    def watch(*args) -> None:
        seen.append(args[2])

    async with services.session_factory() as session:
        await read_rows(session, statement, {"document_ids": [0]})  # the session's first statement
        await asyncio.sleep(0.05)
        if dialect == "postgresql":  # one transaction, begun with that read: its clock started then
            began = await session.scalar(text("SELECT statement_timestamp() - transaction_timestamp()"))
            assert began >= timedelta(seconds=0.05)
        event.listen(services.engine.sync_engine, "before_cursor_execute", watch)
        try:
            await read_rows(session, statement, {"document_ids": [0]})
        finally:
            event.remove(services.engine.sync_engine, "before_cursor_execute", watch)

    assert fetched_by_driver == ([True] if dialect == "postgresql" else []) and len(seen) == 1


def _noting(noted: list[bool]):
    """The driver's fetch, noting each use."""
    fetch = database._fetch_by_driver

    async def noted_fetch(*args):
        noted.append(True)
        return await fetch(*args)

    return noted_fetch


async def test_sibling_fields_may_read_at_once_through_one_session(app, business):
    customer = await business.customer()
    await business.invoice(customer["id"], LINES)
    services = app.state.services
    statement = _lines_statement(col(LineItem.invoice_id), services.engine.dialect.name)
    async with services.session_factory() as session:
        ids = await _invoice_ids(session, customer["id"])
        first, second, third = await asyncio.gather(*(read_rows(session, statement, {"document_ids": ids})
                                                      for _ in range(3)))
    assert len(first) == len(second) == len(third) == 2


async def test_a_first_read_the_driver_fails_is_answered_by_sqlalchemy_in_a_fresh_transaction(app, business,
                                                                                             monkeypatch):
    customer = await business.customer()
    await business.invoice(customer["id"], LINES)
    services = app.state.services
    dialect = services.engine.dialect
    statement = _lines_statement(col(LineItem.invoice_id), dialect.name)
    plan = database._driver_plan(statement, dialect)
    if plan is None:  # SQLite: never read by the driver
        return
    # The driver's statement fails in the database (as a stale cached statement does after a migration),
    # which aborts the transaction it began.
    monkeypatch.setitem(database._driver_plans, id(statement), plan._replace(sql="SELECT * FROM no_such_table"))
    async with services.session_factory() as session:
        ids = await _invoice_ids(session, customer["id"])
        await session.rollback()
        rows = await read_rows(session, statement, {"document_ids": ids})  # the session's first statement
    assert len(rows) == 2
