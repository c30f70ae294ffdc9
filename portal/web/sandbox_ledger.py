"""GET /sandbox-gateway/charges: the sandbox gateway's charges of one organization, for its staff.

Mounted only with the sandbox gateway. A real processor shows a merchant only its own charges;
so does this ledger: it answers a staff session's bearer token with the charges made for that
staff member's organization, and everyone else (no token, a bad or expired one, a contact
person's) exactly as a path that does not exist: 404 Not Found, which tells them nothing, not
even that the ledger is there.
"""
from sqlalchemy import String, cast, literal, select
from sqlmodel import col
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from portal.core.database import AsyncSession
from portal.core.runtime import Services
from portal.gateway.sandbox import SandboxCharge
from portal.models.payment_attempts import PaymentAttempt
from portal.web.auth import authenticate


async def organization_charges(session: AsyncSession, organization_id: int) -> list[SandboxCharge]:
    """The charges made for the organization's payment attempts, oldest first."""
    # Each attempt charges with its gateway key, "attempt-<id>" (PaymentAttempt.gateway_key).
    gateway_key = literal("attempt-").concat(cast(col(PaymentAttempt.id), String))
    return list(await session.scalars(
        select(SandboxCharge)
        .join(PaymentAttempt, col(SandboxCharge.idempotency_key) == gateway_key)
        .where(col(PaymentAttempt.organization_id) == organization_id)
        .order_by(col(SandboxCharge.created_at), col(SandboxCharge.id))))


async def ledger(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    async with services.session_factory() as session:
        signed_in = await authenticate(session, request.headers.get("authorization"))
        principal = signed_in.principal
        if principal is None or principal.staff_user_id is None:
            raise HTTPException(404)  # as the router answers a path it does not know
        charges = await organization_charges(session, principal.organization_id)
    return JSONResponse({"count": len(charges), "charges": [
        {"id": charge.id, "amount": str(charge.amount), "currency": charge.currency, "succeeded": charge.succeeded,
         "failureReason": charge.failure_reason, "createdAt": charge.created_at.isoformat()} for charge in charges]},
        headers={"Cache-Control": "private, no-store"})


routes = [Route("/sandbox-gateway/charges", ledger, methods=["GET"])]
