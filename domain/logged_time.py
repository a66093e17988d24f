"""Imported time on its item: one event per item for every entry an import made count.

Logging time entry by entry records `Ticket.TimeRecorded` per entry (see `WorkItem.
record_time`); an import of many thousand entries would write as many item events in its
final write and recompute the item's progress after each. `record_imported_time` records
them in one `Ticket.TimeImported` per item (for tickets and tasks alike, as every time event
is a `Ticket.*` event) and then applies the same consequences once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from domain.values import Actor, Lifecycle


class TimeImported(Aggregate.Event):
    """Entries of the completed import `import_id` count on the item: entry id ->
    [work date, minutes], as `TimeRecorded` records one entry."""

    TOPIC = "ledgerdesk:Ticket.TimeImported"
    import_id: str
    entries: dict[str, list[Any]]
    actor: str
    correlation_id: str

    def apply(self, aggregate: Any) -> None:
        aggregate.logged.update({k: list(v) for k, v in self.entries.items()})


register_topic(TimeImported.TOPIC, TimeImported)


def record_imported_time(
    item: Any,
    import_id: UUID,
    counted: Mapping[UUID, tuple[date, int]],
    actor: Actor,
    correlation_id: str,
    lifecycle: Lifecycle | None = None,
) -> None:
    """The entries `counted` (id -> day, minutes) now count on `item` (a ticket or task);
    then what follows from logged time, as `record_time` does for one entry."""
    new = {
        str(entry): [day.isoformat(), minutes]
        for entry, (day, minutes) in counted.items()
        if item.logged.get(str(entry)) != [day.isoformat(), minutes]
    }
    if new:
        item.trigger_event(
            TimeImported,
            import_id=str(import_id),
            entries=new,
            actor=actor.ref,
            correlation_id=correlation_id,
        )
    if any(minutes > 0 for _, minutes in counted.values()):
        item.mark_started(actor, correlation_id, lifecycle)
    item.follow_time(actor, correlation_id)
