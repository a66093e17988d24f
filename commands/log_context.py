"""What every log line of a piece of work carries: its correlation id, its actor, the route or
actor it runs in. A request (or a message) opens a context; whoever learns more on the way —
the token's holder once authenticated — notes it, and every line logged in that context
carries it — in any thread the work hops to with its context (the server's thread pool copies
it), since the context holds one shared dict."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_FIELDS: ContextVar[dict[str, str] | None] = ContextVar("ledgerdesk_log_fields", default=None)


@contextmanager
def log_context(**fields: str) -> Iterator[dict[str, str]]:
    """A context for one piece of work, with `fields` (and those of the one around it)."""
    token = _FIELDS.set({**(_FIELDS.get() or {}), **fields})
    try:
        yield _FIELDS.get() or {}
    finally:
        _FIELDS.reset(token)


def note(**fields: str) -> None:
    """Add `fields` to the current piece of work's lines (nothing outside one)."""
    current = _FIELDS.get()
    if current is not None:
        current.update(fields)


def log_fields() -> dict[str, str]:
    return dict(_FIELDS.get() or {})
