"""PORTAL_SHUTDOWN_DRAIN_SECONDS: on SIGTERM, keep serving a while with /readyz answering 503, then stop.

A proxy that health-checks `/readyz` takes the server out of its pool during the drain, so no request
is sent to it as it stops accepting connections (a connection the kernel had queued but the server not
yet taken is reset when the listening socket closes: its request would be lost). After the drain,
uvicorn's own shutdown runs: stop accepting, close WebSockets with 1012, let requests in flight finish
(PORTAL_SHUTDOWN_GRACE_SECONDS). With no drain (0, the default) SIGTERM is uvicorn's at once.
"""
import asyncio
import logging
import signal
import threading
from types import FrameType
from typing import Any

logger = logging.getLogger("portal")


class Drain:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.draining = False
        self._stop: Any = None

    def install(self) -> None:
        """Put the drain in front of the server's SIGTERM handler (uvicorn's, installed before the lifespan)."""
        if self.seconds <= 0 or threading.current_thread() is not threading.main_thread():
            return
        stop = signal.getsignal(signal.SIGTERM)
        if not callable(stop):
            return
        self._stop = stop
        loop = asyncio.get_running_loop()

        def drain_first(number: int, frame: FrameType | None) -> None:
            if self.draining:  # the same SIGTERM from the supervisor and the process group: one drain
                return
            self.draining = True
            logger.info("SIGTERM: draining for %.1f s (/readyz answers 503), then stopping", self.seconds)
            loop.call_soon_threadsafe(loop.call_later, self.seconds, stop, number, frame)

        signal.signal(signal.SIGTERM, drain_first)

    def uninstall(self) -> None:
        if self._stop is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._stop)
            self._stop = None
