"""A database that cannot be reached (restarting, failing over): a short answer and a log line, no traceback.

Nothing is retried here: the request may have written before the connection broke. A pooled connection
idle for a few seconds is pinged before use and replaced if stale (portal/core/database.py); one used
moments before the database went away fails its request once, and the pool then replaces all of its
age. What reaches this is a database that is down, or was until a moment ago; the client is told to try
again, and `/readyz` answers 503 until it is back.
"""
import logging

from starlette.responses import JSONResponse

from portal.ops.outage import database_unreachable

__all__ = ["TRY_AGAIN", "database_unreachable", "unavailable"]

logger = logging.getLogger("portal.database")
RETRY_AFTER_SECONDS = 2
TRY_AGAIN = "The service is briefly unavailable; try again in a moment."


def unavailable(request_id: str | None, error: BaseException) -> JSONResponse:
    logger.warning("database unreachable (%s); answered 503", type(error).__name__)
    body = {"errors": [{"message": TRY_AGAIN,
                        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}}]}
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
