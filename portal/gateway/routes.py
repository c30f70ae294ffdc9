"""The sandbox's own HTTP endpoints: a hosted card form's token call, and its ledger for tests."""
from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from portal.gateway.cards import CardRefused, check_card


async def create_token(request: Request) -> JSONResponse:
    try:
        details = await request.json()
    except ValueError:
        return JSONResponse({"error": "Send the card details as a JSON object."}, status_code=400)
    if not isinstance(details, dict):
        return JSONResponse({"error": "Send the card details as a JSON object."}, status_code=400)
    try:
        card = check_card(details, date.today())
    except CardRefused as refusal:
        return JSONResponse({"error": str(refusal)}, status_code=400)
    gateway = request.app.state.services.gateway
    token = await gateway.create_card_token(brand=card.brand, last4=card.last4, exp_month=card.exp_month,
                                            exp_year=card.exp_year, outcome=card.outcome)
    return JSONResponse({"token": token.token, "brand": token.brand, "last4": token.last4})


async def ledger(request: Request) -> JSONResponse:
    charges = await request.app.state.services.gateway.ledger()
    return JSONResponse({"count": len(charges), "charges": [
        {"id": charge.id, "amount": str(charge.amount), "currency": charge.currency, "succeeded": charge.succeeded,
         "failureReason": charge.failure_reason, "createdAt": charge.created_at.isoformat()} for charge in charges]})


routes = [
    Route("/sandbox-gateway/tokens", create_token, methods=["POST"]),
    Route("/sandbox-gateway/charges", ledger, methods=["GET"]),
]
