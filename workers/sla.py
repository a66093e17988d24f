"""The SLA actors: apply the default policy to a new ticket, measure an item again after
an event that may move its targets or once a warning or due time has passed (the tick),
and carry a policy's change to the items held to it. What is recorded, and that it is
recorded once, is decided in the write model (`commands.sla.items`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

from commands.sla.items import ItemSlaService
from projections.base import current_tables, iso
from projections.sla.view import due_by, holding
from workers.actors import Delivery, WorkerServices

log = logging.getLogger("ledgerdesk.workers")


def _sla(services: WorkerServices) -> ItemSlaService:
    if services.sla is None:
        raise RuntimeError("this worker was built without the SLA service")
    return services.sla


def apply_default(services: WorkerServices, delivery: Delivery) -> None:
    _sla(services).apply_default(int(delivery.payload["number"]), delivery.message_id)


def evaluate(services: WorkerServices, delivery: Delivery) -> None:
    _sla(services).evaluate(UUID(delivery.payload["item_id"]), delivery.message_id)


def follow_policy(services: WorkerServices, delivery: Delivery) -> None:
    with services.views.read() as tx:
        held = holding(tx, current_tables(tx, "sla"), delivery.payload["policy_id"])
    sla = _sla(services)
    _each(held, lambda sla_id: sla.follow_policy(UUID(sla_id), delivery.message_id))


def tick(services: WorkerServices, delivery: Delivery) -> None:
    """Measure again every item whose warning or due time has passed (by this worker's
    clock; a slot's tick from another process finds nothing new to record)."""
    sla = _sla(services)
    with services.views.read() as tx:
        items = due_by(tx, current_tables(tx, "sla"), iso(sla.clock()))
    _each(items, lambda item: sla.evaluate(UUID(item), delivery.message_id))


def _each(ids: list[str], work: Callable[[str], None]) -> None:
    """`work` on each id; one that fails is logged and the others still done (the next
    tick, or the item's next event, tries it again)."""
    failed = 0
    for one in ids:
        try:
            work(one)
        except Exception:
            failed += 1
            log.exception("could not measure the SLA %s again", one)
    if failed:
        log.warning("%d of %d SLAs could not be measured again", failed, len(ids))
