"""What every view is: named tables in generations, and a deterministic `apply`."""

from __future__ import annotations

import base64
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from domain.values import utc_text
from projections.db import Tx

TRACKING_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_tracking ("
    " view TEXT NOT NULL,"
    " generation INTEGER NOT NULL,"
    " position BIGINT NOT NULL,"
    " is_current INTEGER NOT NULL,"
    " schema_version INTEGER NOT NULL DEFAULT 1,"
    " PRIMARY KEY (view, generation))"
)


class InvalidCursorError(ValueError):
    """Raised when a cursor was not made by this view (or for this sort)."""


@dataclass(frozen=True)
class Positioned:
    """A domain event and its position in the log (and its stored topic, when known)."""

    position: int
    event: Any
    topic: str = ""


class Tables:
    """The actual table names of one generation of a view (`flat_items_g3`)."""

    def __init__(self, generation: int) -> None:
        self.generation = generation

    def __getitem__(self, base: str) -> str:
        return f"{base}_g{self.generation}"


class Projection(ABC):
    """A view: which tables it owns and how events change their rows.

    `apply` must be deterministic (no clock, network or write-model reads):
    a rebuild from position 0 must produce the same rows.
    """

    name: str
    tables: tuple[str, ...]
    topics: frozenset[str]
    # Bump when the tables or what `apply` writes change: `migrate` then rebuilds the view
    # into a new generation beside the live one and switches over.
    schema_version: int = 1
    # True when `apply` reads this view's tables by primary key only: a rebuild then builds
    # their other indexes after loading the rows, in bulk (ADR 0014), not row by row.
    indexes_after_build: bool = False

    @abstractmethod
    def create(self, tx: Tx, t: Tables) -> None:
        """Create this view's tables for one generation."""

    @abstractmethod
    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        """Apply a page of events (already in log order) to the view's rows."""

    def drop(self, tx: Tx, t: Tables) -> None:
        for base in self.tables:
            tx.execute(f"DROP TABLE IF EXISTS {t[base]}")

    def key_columns(self, base: str) -> str:
        """The ORDER BY that makes a table's rows comparable across rebuilds."""
        return "1"


# Several views format the same event's time, and name the same event classes, for every
# event they read: remembered, for rebuilds (ADR 0014).
@functools.lru_cache(maxsize=4096)
def iso(moment: datetime) -> str:
    """One fixed-width UTC form, so timestamps sort as text on every backend."""
    return utc_text(moment)


def topic_name(event: Any) -> str:
    """`Ticket.Opened` for the event with topic `ledgerdesk:Ticket.Opened`."""
    kind = type(event)
    name = _TOPIC_NAMES.get(kind)
    if name is None:
        name = _TOPIC_NAMES[kind] = str(getattr(kind, "TOPIC", "")).partition(":")[2]
    return name


_TOPIC_NAMES: dict[type, str] = {}


EVENT_METADATA = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "originator_topic",
        "actor",
        "correlation_id",
        "causation_id",  # An automation rule's action: the event that triggered it.
    }
)


def event_fields(event: Any) -> dict[str, Any]:
    """The fields an event changed (everything but who, when and which stream)."""
    return {k: v for k, v in event.__dict__.items() if k not in EVENT_METADATA}


def topics_of(aggregate: type) -> frozenset[str]:
    """Every event topic an aggregate class defines (an unused `Created` costs nothing)."""
    # The @event decorator subclasses declared event classes: TOPIC may be inherited.
    return frozenset(
        str(getattr(value, "TOPIC"))  # noqa: B009
        for value in vars(aggregate).values()
        if isinstance(value, type) and hasattr(value, "TOPIC")
    )


def dumps(value: Any) -> str:
    """JSON with sorted keys, so a rebuilt row is byte-for-byte the live one."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def loads(text: str) -> Any:
    return orjson.loads(text)


def encode_cursor(*values: Any) -> str:
    """An opaque page cursor carrying the last row's sort key."""
    return base64.urlsafe_b64encode(dumps(list(values)).encode()).decode()


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The sort key inside a cursor made by `encode_cursor`; InvalidCursorError otherwise."""
    try:
        values = loads(base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode())
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise InvalidCursorError("cursor is not valid") from error
    if not isinstance(values, list) or len(values) != size or not all(map(_plain, values)):
        raise InvalidCursorError("cursor is not valid")
    return values


def _plain(value: Any) -> bool:
    """A value a cursor may carry into SQL: no NUL in text, integers a column can hold."""
    if isinstance(value, bool):  # JSON true/false: no sort key is one.
        return False
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, int):
        return -(2**62) < value < 2**62
    return value is None or isinstance(value, float)


def view_position(tx: Tx, view: str) -> int:
    """The log position the live generation of `view` has reached (0: none yet)."""
    row = tx.one(
        "SELECT position FROM projection_tracking WHERE view = ? AND is_current = 1", (view,)
    )
    return int(row["position"]) if row else 0


def current_tables(tx: Tx, view: str) -> Tables:
    """The live generation's tables of `view` (read in the query's own transaction)."""
    row = tx.one(
        "SELECT generation FROM projection_tracking WHERE view = ? AND is_current = 1", (view,)
    )
    return Tables(row["generation"] if row else 1)


def tables_of(tx: Tx) -> Callable[[str], Tables]:
    """`current_tables` for many views in one transaction, each looked up once."""
    found: dict[str, Tables] = {}

    def of(view: str) -> Tables:
        if view not in found:
            found[view] = current_tables(tx, view)
        return found[view]

    return of
