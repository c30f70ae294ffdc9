"""Log lines: one JSON object per line (PORTAL_LOG_FORMAT=json) or readable text, and the request being served.

Every HTTP request and WebSocket connection has a `RequestRecord` in a context variable, filled in as it is
served (the GraphQL operation, who asked) and logged once at its end. It holds only what an operator may
read: no token, password, variable or card detail ever goes into it.
"""
import json
import logging
import random
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Attributes of every LogRecord: whatever else a record carries was passed as `extra` and is logged too.
# uvicorn's `color_message` repeats the message with terminal colours: not for a log file.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName",
                                                                          "color_message"}


def new_request_id() -> str:
    """16 hex digits that name a request in the logs and its X-Request-ID: unique enough to find it by, and no
    secret, so they come from the process's own generator (uuid4 asks the kernel, a system call a request)."""
    return f"{random.getrandbits(64):016x}"


@dataclass
class RequestRecord:
    """What one request or connection did, for its log line."""

    kind: str  # "http" or "websocket"
    method: str
    path: str
    request_id: str = field(default_factory=new_request_id)
    started: float = field(default_factory=time.perf_counter)
    status: int | None = None
    operation_name: str | None = None
    operation_type: str | None = None
    fields: list[str] = field(default_factory=list)
    outcome: str | None = None
    principal_kind: str | None = None
    principal_id: int | None = None

    def signed_in(self, kind: str, principal_id: int | None) -> None:
        self.principal_kind, self.principal_id = kind, principal_id

    def as_extra(self) -> dict[str, object]:
        """The fields of the log line (`extra=` of the logging call)."""
        extra: dict[str, object] = {
            "request_id": self.request_id, "kind": self.kind, "method": self.method, "path": self.path,
            "status": self.status, "duration_ms": round((time.perf_counter() - self.started) * 1000, 2),
        }
        optional = {"operation_name": self.operation_name, "operation_type": self.operation_type,
                    "fields": ",".join(self.fields) or None, "outcome": self.outcome,
                    "principal_kind": self.principal_kind, "principal_id": self.principal_id}
        extra.update({name: value for name, value in optional.items() if value is not None})
        return extra


current_request: ContextVar[RequestRecord | None] = ContextVar("portal_request", default=None)


def current_request_id() -> str | None:
    record = current_request.get()
    return record.request_id if record is not None else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request id, and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id is not None:
            line["request_id"] = request_id
        line.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time level logger: message key=value …`, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = {key: value for key, value in vars(record).items() if key not in _STANDARD}
        request_id = current_request_id()
        if request_id is not None and "request_id" not in extras:
            extras["request_id"] = request_id
        if not extras:
            return text
        head, newline, rest = text.partition("\n")  # a traceback stays below the line
        details = " ".join(f"{key}={value}" for key, value in extras.items())
        return f"{head} {details}{newline}{rest}"


def logging_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A logging.config.dictConfig for the service and uvicorn, as uvicorn's `log_config` takes it."""
    formatter = "portal.ops.logs.JsonFormatter" if log_format == "json" else "portal.ops.logs.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"portal": {"()": formatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "portal",
                                "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # uvicorn's own lines go through the root handler; each request is logged once by the portal.
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
