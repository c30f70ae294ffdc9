"""The sandbox's own HTTP endpoint: a hosted card form's token call (its ledger is portal/web/sandbox_ledger.py)."""
from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from portal.core import bounded_json
from portal.gateway.cards import CardRefused, check_card


async def create_token(request: Request) -> JSONResponse:
    try:
        details = bounded_json.loads(await request.body())
    except ValueError:
        return JSONResponse({"error": "Send the card details as a JSON object."}, status_code=400)
    if not isinstance(details, dict):
        return JSONResponse({"error": "Send the card details as a JSON object."}, status_code=400)
    try:
        card = check_card(details, date.today())
    except CardRefused as refusal:
        return JSONResponse({"error": str(refusal), "field": refusal.field}, status_code=400)
    gateway = request.app.state.services.gateway
    token = await gateway.create_card_token(brand=card.brand, last4=card.last4, exp_month=card.exp_month,
                                            exp_year=card.exp_year, outcome=card.outcome)
    return JSONResponse({"token": token.token, "brand": token.brand, "last4": token.last4})


routes = [
    Route("/sandbox-gateway/tokens", create_token, methods=["POST"]),
]
