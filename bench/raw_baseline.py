"""The raw baseline: the benchmark's two documents answered by hand with Starlette and asyncpg, no GraphQL, no ORM.

Same bearer-token check as portal/web/auth.py (the SHA-256 of the token looked up in `sessions`, joined to its
organization and contact person; ended sessions and contact persons without ACTIVE access refused) and, for
the documents of bench/scale.py, byte-for-byte the same JSON data as `portal serve`. Any other document is
refused: this is a yardstick, not a GraphQL server.

Run: .venv/bin/python bench/raw_baseline.py DATABASE_URL PORT
"""
import base64
import hashlib
import json
import re
import sys
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

INVOICES = """{ invoices(first: 20) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id number
  status date dueDate currency subTotal taxTotal total amountPaid balanceDue
  lineItems { name quantity rate amount } } } } }"""
DASHBOARD = """{ dashboard { currency bannerMessage outstandingInvoices { count total }
  outstandingRetainerInvoices { count total } lastPayment { id number date amount method }
  estimatesAwaitingApproval } }"""

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
SIGNED_IN = """
SELECT s.organization_id, s.staff_user_id, s.contact_person_id, s.expires_at, s.revoked_at, o.time_zone,
       c.customer_id, c.portal_access
FROM sessions s JOIN organizations o ON o.id = s.organization_id
LEFT JOIN contact_persons c ON c.id = s.contact_person_id
WHERE s.token_hash = $1"""
INVOICE_COUNT = "SELECT count(*) FROM invoices WHERE organization_id = $1 AND customer_id = $2 AND status <> 'DRAFT'"
INVOICE_PAGE = """
SELECT id, number, status, date, due_date, currency, sub_total, tax_total, total, amount_paid FROM invoices
WHERE organization_id = $1 AND customer_id = $2 AND status <> 'DRAFT'
ORDER BY date DESC, number DESC, id DESC LIMIT $3"""
LINES = """SELECT invoice_id, name, quantity, rate, amount FROM line_items WHERE invoice_id = ANY($1::int[])
ORDER BY invoice_id, position"""
DASHBOARD_SQL = """
SELECT c.currency, ps.banner_message,
  (SELECT count(*) FROM invoices i WHERE i.customer_id = c.id AND i.status IN ('SENT', 'PARTIALLY_PAID')
     AND i.kind = 'STANDARD') AS standard_count,
  (SELECT coalesce(sum(i.total - i.amount_paid), 0) FROM invoices i
     WHERE i.customer_id = c.id AND i.status IN ('SENT', 'PARTIALLY_PAID') AND i.kind = 'STANDARD') AS standard_total,
  (SELECT count(*) FROM invoices i WHERE i.customer_id = c.id AND i.status IN ('SENT', 'PARTIALLY_PAID')
     AND i.kind = 'RETAINER') AS retainer_count,
  (SELECT coalesce(sum(i.total - i.amount_paid), 0) FROM invoices i
     WHERE i.customer_id = c.id AND i.status IN ('SENT', 'PARTIALLY_PAID') AND i.kind = 'RETAINER') AS retainer_total,
  p.id AS payment_id, p.number AS payment_number, p.date AS payment_date, p.amount AS payment_amount,
  p.method AS payment_method,
  (SELECT count(*) FROM estimates e WHERE e.customer_id = c.id AND e.status = 'SENT'
     AND (e.expiry_date IS NULL OR e.expiry_date >= $3)) AS estimates
FROM customers c JOIN portal_settings ps ON ps.organization_id = c.organization_id
LEFT JOIN LATERAL (SELECT id, number, date, amount, method FROM payments WHERE customer_id = c.id
                   ORDER BY date DESC, number DESC LIMIT 1) p ON true
WHERE c.id = $1 AND c.organization_id = $2"""
OWED = ("SENT", "PARTIALLY_PAID")


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def money(value: Decimal) -> str:
    return f"{abs(value) if value.is_zero() else value:.2f}"


def quantity(value: Decimal) -> str:
    """NUMERIC(14, 4) as the service shows it: the decimals it has, at least two."""
    text = f"{value:f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def refused(message: str, reason: str | None = None) -> dict:
    extensions = {"code": "UNAUTHENTICATED", **({"reason": reason} if reason else {})}
    return {"data": None, "errors": [{"message": message, "extensions": extensions}]}


class Viewer:
    __slots__ = ("customer_id", "organization_id", "today")

    def __init__(self, organization_id: int, customer_id: int, today: date) -> None:
        self.organization_id, self.customer_id, self.today = organization_id, customer_id, today


async def sign_in(connection: asyncpg.Connection, authorization: str | None) -> Viewer | dict:
    """The contact person of the bearer token, or the refusal to answer with."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not TOKEN_SHAPE.fullmatch(token):
        return refused("The Authorization header must be 'Bearer <token>', with a token from a sign-in.", "MALFORMED")
    row = await connection.fetchrow(SIGNED_IN, hashlib.sha256(token.encode()).hexdigest())
    if row is None:
        return refused("This token is not known here; sign in to get one.", "UNKNOWN")
    now = datetime.now(UTC)
    if row["revoked_at"] is not None or row["expires_at"] <= now or (
            row["staff_user_id"] is None and row["portal_access"] != "ACTIVE"):
        return refused("This token's session has ended (it expired or was signed out); sign in again.", "EXPIRED")
    if row["customer_id"] is None:
        return {"data": None, "errors": [{"message": "The raw baseline serves contact persons only.",
                                          "extensions": {"code": "BAD_USER_INPUT"}}]}
    today = datetime.now(ZoneInfo(row["time_zone"])).date()
    return Viewer(row["organization_id"], row["customer_id"], today)


async def invoices_page(connection: asyncpg.Connection, viewer: Viewer, first: int = 20) -> dict:
    total_count = await connection.fetchval(INVOICE_COUNT, viewer.organization_id, viewer.customer_id)
    rows = await connection.fetch(INVOICE_PAGE, viewer.organization_id, viewer.customer_id, first + 1)
    page = rows[:first]
    lines: dict[int, list[dict]] = {row["id"]: [] for row in page}
    for line in await connection.fetch(LINES, list(lines)):
        lines[line["invoice_id"]].append({"name": line["name"], "quantity": quantity(line["quantity"]),
                                          "rate": quantity(line["rate"]), "amount": money(line["amount"])})
    edges = []
    for row in page:
        day, status = row["date"].isoformat(), row["status"]
        if status in OWED and row["due_date"] < viewer.today:
            status = "OVERDUE"
        balance = Decimal(0) if status == "VOID" else row["total"] - row["amount_paid"]
        cursor = b64(json.dumps([day, row["number"], row["id"]]))
        edges.append({"cursor": cursor, "node": {
            "id": b64(f"Invoice:{row['id']}"), "number": row["number"], "status": status, "date": day,
            "dueDate": row["due_date"].isoformat(), "currency": row["currency"],
            "subTotal": money(row["sub_total"]), "taxTotal": money(row["tax_total"]), "total": money(row["total"]),
            "amountPaid": money(row["amount_paid"]), "balanceDue": money(balance), "lineItems": lines[row["id"]]}})
    page_info = {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None}
    return {"data": {"invoices": {"totalCount": total_count, "pageInfo": page_info, "edges": edges}}}


async def dashboard(connection: asyncpg.Connection, viewer: Viewer) -> dict:
    row = await connection.fetchrow(DASHBOARD_SQL, viewer.customer_id, viewer.organization_id, viewer.today)
    payment = None if row["payment_id"] is None else {
        "id": b64(f"Payment:{row['payment_id']}"), "number": row["payment_number"],
        "date": row["payment_date"].isoformat(), "amount": money(row["payment_amount"]),
        "method": row["payment_method"]}
    return {"data": {"dashboard": {
        "currency": row["currency"], "bannerMessage": row["banner_message"],
        "outstandingInvoices": {"count": row["standard_count"], "total": money(row["standard_total"])},
        "outstandingRetainerInvoices": {"count": row["retainer_count"], "total": money(row["retainer_total"])},
        "lastPayment": payment, "estimatesAwaitingApproval": row["estimates"]}}}


DOCUMENTS = {" ".join(INVOICES.split()): invoices_page, " ".join(DASHBOARD.split()): dashboard}


async def answer(connection: asyncpg.Connection, authorization: str | None, query: str) -> dict:
    handler = DOCUMENTS.get(" ".join(query.split()))
    if handler is None:
        return {"errors": [{"message": "The raw baseline answers the benchmark's documents only.",
                            "extensions": {"code": "BAD_USER_INPUT"}}]}
    viewer = await sign_in(connection, authorization)
    if isinstance(viewer, dict):
        return viewer
    return await handler(connection, viewer)


def create_app(database_url: str) -> Starlette:
    pool: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(app: Starlette):
        pool.append(await asyncpg.create_pool(database_url, min_size=2, max_size=10))
        yield
        await pool[0].close()

    async def graphql(request: Request) -> Response:
        body = json.loads(await request.body())
        async with pool[0].acquire() as connection:
            result = await answer(connection, request.headers.get("authorization"), body.get("query", ""))
        return JSONResponse(result)

    async def readyz(request: Request) -> Response:
        return Response("ok")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"]), Route("/readyz", readyz)],
                     lifespan=lifespan)


if __name__ == "__main__":
    uvicorn.run(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
                access_log=False)
