"""The workflow actor: moves the items of a renamed or retired status to the status they
now have (each one's change an event, as the workflow). What an item takes is decided in the
write model (`commands.workflow.statuses`); an item that left the status meanwhile stays."""

from __future__ import annotations

import logging
import time

from commands.workflow.statuses import StatusService
from projections.base import current_tables
from projections.workflow.statuses import items_in, view_position
from workers.actors import Delivery, WorkerServices

log = logging.getLogger("ledgerdesk.workers")
# How long to wait for the flat view to reach the configuration's change before giving the
# message back (dramatiq retries it).
VIEW_WAIT_SECONDS = 30.0


def move_items(services: WorkerServices, delivery: Delivery) -> None:
    item_type, moves = delivery.payload["item_type"], dict(delivery.payload["moves"])
    # The change was committed before this message was sent: once the flat view has
    # reached the head as it is now, it shows every item still in a moved status.
    head = services.app.head()
    deadline = time.monotonic() + VIEW_WAIT_SECONDS
    while True:
        with services.views.read() as tx:
            if view_position(tx, "flat") >= head:
                numbers = items_in(tx, current_tables(tx, "flat"), item_type, list(moves))
                break
        if time.monotonic() > deadline:
            raise TimeoutError("the flat view has not reached the change of statuses yet")
        time.sleep(0.05)
    statuses = StatusService(services.app)
    for number in numbers:
        statuses.move_item(number, moves, delivery.message_id)
    if numbers:
        log.info("moved %d %s item(s) to their new status", len(numbers), item_type)
