"""Whether an error says the database could not be reached (restarting, failing over), and logging it so.

Such errors are expected during an outage, every request and every background pass meets them: one
warning line each, without a traceback, keeps the log readable; anything else keeps its traceback.
"""
import logging
import sys

from sqlalchemy.exc import DBAPIError

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


def log_failure(logger: logging.Logger, message: str, *arguments: object) -> None:
    """Log the exception being handled: a warning line if the database is unreachable, else with its traceback."""
    error = sys.exc_info()[1]
    if error is not None and database_unreachable(error):
        logger.warning(message + " (the database is unreachable: %s)", *arguments, type(error).__name__)
    else:
        logger.exception(message, *arguments)
