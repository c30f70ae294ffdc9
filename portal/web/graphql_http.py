"""GraphQL over HTTP as the GraphQL-over-HTTP spec has it, and how a request is refused.

Queries come by GET or POST, mutations by POST only (a GET must not change anything: 405 with
`Allow: POST`), subscriptions only over the WebSocket. Every refusal is a GraphQL response body
with `extensions.code`, never text/plain, so that clients show the message rather than "Bad Request".
"""
from collections.abc import Mapping

from cross_web import HTTPException
from starlette.responses import JSONResponse
from strawberry.types.graphql import OperationType

HTTP_METHODS = ("GET", "POST")
OPERATIONS_BY_METHOD = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}


class Refusal(HTTPException):
    """A request refused before it runs, with the GraphQL error code and HTTP headers of its answer."""

    def __init__(self, status_code: int, message: str, *, code: str = "BAD_USER_INPUT",
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status_code, message)
        self.code = code
        self.headers = dict(headers or {})


def method_not_allowed(method: str) -> Refusal:
    return Refusal(405, f"/graphql takes GET (queries) and POST (queries and mutations), not {method}.",
                   headers={"Allow": ", ".join(HTTP_METHODS)})


def operation_not_allowed(operation: OperationType) -> Refusal:
    if operation is OperationType.SUBSCRIPTION:
        return Refusal(400, "Subscriptions are served over the WebSocket at /graphql (graphql-transport-ws), "
                            "not over HTTP.")
    return Refusal(405, "Mutations are sent by POST; GET serves queries only.", headers={"Allow": "POST"})


def error_body(*problems: tuple[str, str]) -> dict[str, object]:
    """A GraphQL response that holds only errors, each given as (message, code)."""
    return {"errors": [{"message": message, "extensions": {"code": code}} for message, code in problems]}


def refusal_response(refusal: HTTPException) -> JSONResponse:
    """The JSON answer to a refusal: ours, or one Strawberry raised while reading the request."""
    code = refusal.code if isinstance(refusal, Refusal) else "BAD_USER_INPUT"
    headers = refusal.headers if isinstance(refusal, Refusal) else {}
    return JSONResponse(error_body((refusal.reason, code)), status_code=refusal.status_code, headers=headers)
