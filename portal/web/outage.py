"""A database that cannot be reached (restarting, failing over): a short answer and a log line, no traceback.

Nothing is retried here: the request may have written before the connection broke. A stale pooled
connection is replaced before use (pool_pre_ping), so what reaches this is a database that is down; the
client is told to try again, and `/readyz` answers 503 until it is back.
"""
import logging

from sqlalchemy.exc import DBAPIError
from starlette.responses import JSONResponse

logger = logging.getLogger("portal.database")
RETRY_AFTER_SECONDS = 2
TRY_AGAIN = "The service is briefly unavailable; try again in a moment."
# asyncpg's errors for a server that is going or gone (a shutdown, a failover), by name: not all are OSErrors.
CONNECTION_LOST = {"CannotConnectNowError", "ConnectionDoesNotExistError", "AdminShutdownError",
                   "CrashShutdownError", "ConnectionFailureError", "ClientCannotConnectError",
                   "TooManyConnectionsError", "InterfaceError"}


def database_unreachable(error: BaseException) -> bool:
    """Whether the error, or one it was raised from, says the database could not be reached."""
    seen: BaseException | None = error
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, (OSError, TimeoutError)) or type(seen).__name__ in CONNECTION_LOST:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def unavailable(request_id: str | None, error: BaseException) -> JSONResponse:
    logger.warning("database unreachable (%s); answered 503", type(error).__name__)
    body = {"errors": [{"message": TRY_AGAIN,
                        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}}]}
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
