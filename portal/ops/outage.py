"""Whether an error says the database could not be reached (restarting, failing over), and logging it so.

Such errors are expected during an outage, every request and every background pass meets them: one
warning line each, without a traceback, keeps the log readable; anything else keeps its traceback. A loop
that runs every second (the mail and webhook senders) logs an outage once, and its end (`PassFailures`).
"""
import logging
import sys
import time

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


class PassFailures:
    """How a background loop (a sender's pass each second, in every worker) logs its failures.

    While the database is unreachable every pass fails alike: the first failure is one warning line, the
    rest are not logged, and the first pass that works again says so in one line. Any other error keeps its
    traceback, every time.
    """

    def __init__(self, logger: logging.Logger, message: str) -> None:
        self.logger, self.message = logger, message
        self._unreachable_since: float | None = None

    def failed(self) -> None:
        """Log the exception being handled, as the class says."""
        error = sys.exc_info()[1]
        if error is None or not database_unreachable(error):
            self.logger.exception(self.message)
        elif self._unreachable_since is None:
            self._unreachable_since = time.monotonic()
            self.logger.warning("%s (the database is unreachable: %s); quiet until it is back", self.message,
                                type(error).__name__)

    def succeeded(self) -> None:
        """A pass went through: if the database was unreachable, say that it is back."""
        if self._unreachable_since is not None:
            seconds = time.monotonic() - self._unreachable_since
            self._unreachable_since = None
            self.logger.info("%s: the database is reachable again after %.1f s", self.message, seconds)
