"""Web Push: an event that made notifications has them pushed, once the `live` view holds
them, to each subscription of each staff member who wants them pushed."""

from __future__ import annotations

import time
from uuid import UUID

import orjson

from projections.base import current_tables
from projections.live.reading import notifications_made_by
from projections.live.view import LiveProjection
from workers.actors import Delivery, WorkerServices

# How long the actor waits for the live view before it gives up (and dramatiq retries).
WAIT_SECONDS = 30.0


def notify(services: WorkerServices, delivery: Delivery) -> None:
    if services.push is None:
        raise RuntimeError("this worker was built without Web Push")
    head = services.app.head()  # the event is in the log: the view has it at this position
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with services.views.read() as tx:
            reached = tx.one(
                "SELECT position FROM projection_tracking WHERE view = ? AND is_current = 1",
                (LiveProjection.name,),
            )
            if reached is not None and reached["position"] >= head:
                made = notifications_made_by(
                    tx, current_tables(tx, LiveProjection.name), delivery.payload["event"]
                )
                break
        if time.monotonic() > deadline:
            raise TimeoutError("the live view did not reach the event; retried later")
        time.sleep(0.05)
    for row in made:
        services.push.deliver(
            UUID(row["user_id"]), orjson.loads(row["payload"]), delivery.message_id
        )
