"""The recurring-task actors: create the occurrences that are due.

`recurrence.tick` runs on every periodic tick (several worker processes may each send it:
harmless) and asks every active series; `recurrence.create_due` runs when a series is set
up or changed (the `recurrence.schedule` policy). Both leave exactly-once to the write
model: see `commands.recurrence`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from domain.task import Task
from projections.base import current_tables
from projections.recurrence import active_series
from workers.actors import Delivery, WorkerServices


def today(delivery: Delivery) -> date:
    """The day a tick was for (its slot's start), or today for other messages."""
    at = delivery.payload.get("at")
    moment = datetime.fromisoformat(at) if at else datetime.now(UTC)
    return moment.astimezone(UTC).date()


def create_due(services: WorkerServices, delivery: Delivery) -> None:
    series: Task = services.app.repository.get(UUID(delivery.payload["series_id"]))
    services.recurrence.create_due(series.number, today(delivery), delivery.message_id)


def tick(services: WorkerServices, delivery: Delivery) -> None:
    with services.views.read() as tx:
        series_ids = active_series(tx, current_tables(tx, "recurring_series"))
    day = today(delivery)
    for series_id in series_ids:
        series: Task = services.app.repository.get(UUID(series_id))
        services.recurrence.create_due(series.number, day, delivery.message_id)
