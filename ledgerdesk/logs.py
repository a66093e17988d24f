"""Logs as JSON lines on standard error (`LEDGERDESK_LOG_FORMAT=json`, the default) or as
plain text (`text`), at `LEDGERDESK_LOG_LEVEL`.

Each line: `time` (UTC, ISO 8601), `level`, `role` (the process's: api, worker, runner, mail,
cli, rebuild), `logger`, `message`, and what the work it belongs to noted (`commands.log_context`):
`correlation_id`, `actor` (`user:<id>`, `contact:<id>`), `route` (a route's template, never
its path: paths can hold tokens), `method`, `status`, `duration_ms`; in a worker, the
`actor_name` and `message_id` of the message it runs, and the correlation id of the event
it was made for (carried in the outbox payload, and on to the messages it sends);
`exception` with a traceback.
Nothing else of a request is logged — no headers, no query string, no body — so no token or
secret is (tests/e2e/test_logs.py greps a whole scenario's logs for the ones it used)."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from commands.log_context import log_fields

# What a call may add with `extra=`; other attributes of a record are the logging module's.
EXTRA = ("method", "route", "status", "duration_ms")
# Chatty below warnings; aiosmtpd's `mail.log` writes every SMTP command with its addresses.
QUIET = (
    "uvicorn.access",
    "pika",
    "botocore",
    "boto3",
    "s3transfer",
    "urllib3",
    "httpx",
    "mail.log",
)


class JsonLines(logging.Formatter):
    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "role": self.role,
            "logger": record.name,
            "message": record.getMessage(),
            **log_fields(),
        }
        for name in EXTRA:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class Text(logging.Formatter):
    def __init__(self, role: str) -> None:
        super().__init__("%(asctime)s %(levelname)s " + role + " %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = {**log_fields(), **{n: getattr(record, n) for n in EXTRA if hasattr(record, n)}}
        return text + "".join(f" {k}={v}" for k, v in fields.items())


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is written (not when configured)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(role: str, log_format: str, level: str) -> None:
    """One handler on the root logger for the whole process (uvicorn's and dramatiq's loggers
    go through it too); libraries' chatter below warnings is left out."""
    handler = StderrHandler(sys.stderr)
    handler.setFormatter(JsonLines(role) if log_format == "json" else Text(role))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "dramatiq"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
