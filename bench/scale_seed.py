"""The issue's scale in bulk SQL, on a database the project's migrations made: 1 organization, 1,000 customers
each with a contact person signed in, 100,000 invoices of 3 lines each, 30 % of them paid.

Rows are written as the service writes them (models/): amounts rounded half-up to cents per line, totals the
sum of the lines, gap-free INV-/PAY- numbers with their counters in number_sequences, only the SHA-256 of a
session token stored. Run alone: `.venv/bin/python bench/scale_seed.py` (prints the database and a token).
"""
import asyncio
import hashlib
import secrets
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from argon2 import PasswordHasher

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgresql://postgres@127.0.0.1:5432"
CUSTOMERS = 1000
INVOICES = 100_000
LINES_PER_INVOICE = 3
DAYS = 1000  # invoices are dated over the last DAYS days, about 100 a day
PASSWORD = "bench-password-1234"


@dataclass(frozen=True)
class Seeded:
    database: str  # the database's name
    url: str  # postgresql:// URL (asyncpg, PostGraphile)
    sqlalchemy_url: str  # postgresql+asyncpg:// URL (the service)
    organization_id: int
    customer_id: int  # the customer whose contact person the benchmark signs in as
    token: str  # that contact person's bearer token
    seconds: float


def numbered(prefix: str, expression: str) -> str:
    """SQL for f"{prefix}-{n:05d}" (models/sequences.py): zero-padded to five digits, longer numbers as they are."""
    return (f"'{prefix}-' || CASE WHEN {expression} < 100000 THEN lpad(({expression})::text, 5, '0') "
            f"ELSE ({expression})::text END")


SEED_SQL = f"""
INSERT INTO organizations (id, name, portal_name, email, time_zone, created_at)
VALUES (1, 'Benchmark Books Ltd', 'bench', 'owner@bench.example.com', 'UTC', now());
INSERT INTO staff_users (id, organization_id, name, email, password_hash, created_at)
VALUES (1, 1, 'Bench Owner', 'owner@bench.example.com', $1, now());
INSERT INTO portal_settings (organization_id, banner_message, notify_owner_on_activity, allow_forwarding,
                             notify_customers_on_staff_comments, show_projects_and_timesheets,
                             allow_customers_to_edit_details)
VALUES (1, 'Invoices are due in 30 days.', true, true, true, true, true);

INSERT INTO customers (id, organization_id, display_name, company_name, currency, ach_enabled, created_at)
SELECT c, 1, 'Customer ' || lpad(c::text, 4, '0'), 'Customer ' || lpad(c::text, 4, '0') || ' Inc.', 'USD',
       c % 4 = 0, now()
FROM generate_series(1, {CUSTOMERS}) AS c;
INSERT INTO contact_persons (id, organization_id, customer_id, first_name, last_name, email, portal_access,
                             password_hash, created_at)
SELECT c, 1, c, 'Contact', lpad(c::text, 4, '0'), 'contact' || c || '@customer' || c || '.example.com', 'ACTIVE',
       $1, now()
FROM generate_series(1, {CUSTOMERS}) AS c;

-- Invoice i is the k-th (k = (i - 1) / {CUSTOMERS}) of customer (i - 1) % {CUSTOMERS} + 1, dated about i / 100 days
-- into the period; of each customer's invoices one in ten is a retainer and three in ten are paid in full.
-- Its lines are priced as build_lines prices them.
CREATE TEMP TABLE bench_lines ON COMMIT DROP AS
SELECT i AS invoice_id, p AS position, q AS quantity, r AS rate, t AS tax_percent,
       round(q * r, 2) AS amount, round(round(q * r, 2) * t / 100, 2) AS tax
FROM generate_series(1, {INVOICES}) AS i,
     generate_series(0, {LINES_PER_INVOICE - 1}) AS p,
     LATERAL (SELECT (1 + (i + p) % 5)::numeric AS q,
                     (12.5 * (p + 1) + (i % 97) * 0.35 + CASE WHEN p = 2 THEN 0.0125 ELSE 0 END)::numeric AS r,
                     (CASE WHEN (i + p) % 3 = 0 THEN 0 ELSE 8.25 END)::numeric AS t) AS priced;

INSERT INTO invoices (id, organization_id, customer_id, number, kind, date, due_date, status, currency,
                      sub_total, tax_total, total, amount_paid, payment_options, created_at)
SELECT i, 1, (i - 1) % {CUSTOMERS} + 1, {numbered('INV', 'i')},
       CASE WHEN ((i - 1) / {CUSTOMERS} / 10 + i) % 10 = 0 THEN 'RETAINER' ELSE 'STANDARD' END,
       d, d + 30,
       CASE WHEN paid THEN 'PAID' ELSE 'SENT' END, 'USD',
       s.sub_total, s.tax_total, s.sub_total + s.tax_total,
       CASE WHEN paid THEN s.sub_total + s.tax_total ELSE 0 END,
       'CARD', now()
FROM (SELECT invoice_id AS i, sum(amount) AS sub_total, sum(tax) AS tax_total FROM bench_lines GROUP BY invoice_id) s,
     LATERAL (SELECT current_date - {DAYS} + ((i - 1) * {DAYS} / {INVOICES}) AS d,
                     ((i - 1) / {CUSTOMERS} + i) % 10 IN (1, 4, 7) AS paid) AS dated;

INSERT INTO line_items (organization_id, invoice_id, position, name, description, quantity, rate, tax_percent,
                        amount, tax)
SELECT 1, invoice_id, position, (ARRAY['Consulting hours', 'Hosting (monthly)', 'Support plan'])[position + 1],
       NULL, quantity, rate, tax_percent, amount, tax
FROM bench_lines ORDER BY invoice_id, position;

-- One card payment per paid invoice, numbered in the order the invoices were paid.
INSERT INTO payments (id, organization_id, customer_id, contact_person_id, number, date, amount, currency, method,
                      reference, created_at)
SELECT n, 1, customer_id, customer_id, {numbered('PAY', 'n')}, least(date + 5, current_date), total, 'USD', 'CARD',
       'ch_bench_' || n, now()
FROM (SELECT row_number() OVER (ORDER BY id) AS n, * FROM invoices WHERE status = 'PAID') paid;
"""

# Payment n pays the n-th paid invoice in full.
ALLOCATIONS_SQL = """
INSERT INTO payment_allocations (organization_id, payment_id, invoice_id, amount)
SELECT 1, paid.n, paid.id, paid.total
FROM (SELECT row_number() OVER (ORDER BY id) AS n, id, total FROM invoices WHERE status = 'PAID') paid;
"""

COUNTERS_SQL = """
INSERT INTO number_sequences (organization_id, name, last_value) VALUES
  (1, 'EST', 0), (1, 'INV', (SELECT count(*) FROM invoices)), (1, 'PAY', (SELECT count(*) FROM payments)),
  (1, 'ACTIVITY', 0), (1, 'UPDATE', 0);
"""

SERIAL_TABLES = ("organizations", "staff_users", "customers", "contact_persons", "sessions", "invoices",
                 "line_items", "payments", "payment_allocations")


async def create_database() -> tuple[str, str]:
    name = f"portal_scale_{uuid.uuid4().hex[:8]}"
    server = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await server.execute(f'CREATE DATABASE "{name}"')
    finally:
        await server.close()
    return name, f"{SERVER}/{name}"


async def drop_database(name: str) -> None:
    server = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await server.close()


def migrate(sqlalchemy_url: str) -> None:
    """The project's own migrations, in a subprocess: alembic runs its own event loop."""
    import subprocess

    subprocess.run([str(ROOT / ".venv/bin/python"), "-c",
                    "import sys; from portal.migrations import upgrade; upgrade(sys.argv[1])", sqlalchemy_url],
                   check=True, cwd=ROOT)


async def fill(url: str, password_hash: str) -> tuple[int, str]:
    """The rows; returns the benchmarked customer and its contact person's token."""
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL synchronous_commit = off")
            await connection.execute("SET LOCAL work_mem = '64MB'")
            statements = [part.strip() for part in SEED_SQL.split(";\n") if part.strip()]
            for statement in statements:
                if "$1" in statement:
                    await connection.execute(statement, password_hash)
                else:
                    await connection.execute(statement)
            await connection.execute(ALLOCATIONS_SQL)
            await connection.execute(COUNTERS_SQL)
            tokens = [secrets.token_urlsafe(32) for _ in range(CUSTOMERS)]
            await connection.copy_records_to_table(
                "sessions", columns=["id", "organization_id", "token_hash", "contact_person_id", "created_at",
                                     "expires_at"],
                records=[(index + 1, 1, hashlib.sha256(token.encode()).hexdigest(), index + 1,
                          _now(), _now(days=30)) for index, token in enumerate(tokens)])
            for table in SERIAL_TABLES:
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return 1, tokens[0]


def _now(days: int = 0):
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(days=days)


async def seed() -> Seeded:
    start = time.perf_counter()
    name, url = await create_database()
    sqlalchemy_url = url.replace("postgresql://", "postgresql+asyncpg://")
    await asyncio.to_thread(migrate, sqlalchemy_url)
    password_hash = PasswordHasher().hash(PASSWORD)
    customer_id, token = await fill(url, password_hash)
    return Seeded(database=name, url=url, sqlalchemy_url=sqlalchemy_url, organization_id=1, customer_id=customer_id,
                  token=token, seconds=round(time.perf_counter() - start, 1))


async def main() -> None:
    seeded = await seed()
    print(f"seeded {seeded.database} in {seeded.seconds} s; contact person token of customer "
          f"{seeded.customer_id}: {seeded.token}")


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
