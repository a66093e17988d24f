"""Web Push: an event that made notifications has them pushed, once the `live` view holds
them, to each subscription of each staff member who wants them pushed — and may still see
what they are about (the same check as the list and the stream)."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import orjson

from commands.chat.service import in_conversations
from commands.company_settings import CompanySettingsService
from commands.push import PushFailedError
from commands.unit_of_work import UnitOfWork
from projections.access import staff_scope
from projections.base import current_tables
from projections.live.reading import notifications_made_by, visible
from projections.live.view import LiveProjection
from workers.actors import Delivery, WorkerServices, wait_for_views

log = logging.getLogger("ledgerdesk.push")
# How long the actor waits for the live view before it gives up (dramatiq retries later,
# backing off): short, so that a view that lags does not hold a worker thread long.
WAIT_SECONDS = 5.0


def notify(services: WorkerServices, delivery: Delivery) -> None:
    if services.push is None:
        raise RuntimeError("this worker was built without Web Push")
    made = made_by(services, delivery.payload["event"])
    failed: list[str] = []
    for row in made:
        user_id = UUID(row["user_id"])
        if not may_see(services, row):
            continue
        try:
            services.push.deliver(user_id, orjson.loads(row["payload"]), delivery.message_id)
        except PushFailedError as exc:  # the others still get theirs; this one is retried
            log.warning("push to %s failed: %s", user_id, exc)
            failed.append(str(user_id))
    if failed:
        raise PushFailedError(f"pushes to {len(failed)} users failed; retried")


def made_by(services: WorkerServices, event_id: str) -> list[dict[str, Any]]:
    head = services.app.head()  # the event is in the log: the view has it at this position
    wait_for_views(services, (LiveProjection.name,), head, WAIT_SECONDS)
    with services.views.read() as tx:
        return notifications_made_by(tx, current_tables(tx, LiveProjection.name), event_id)


def may_see(services: WorkerServices, row: dict[str, Any]) -> bool:
    """The user is active and may still see what the notification is about (its app
    switched on too)."""
    user = UnitOfWork(services.app).find_user(UUID(row["user_id"]))
    if user is None or not user.is_active:
        return False
    with services.views.read() as tx:
        scope = staff_scope(tx, row["user_id"])
    company = CompanySettingsService(services.app).current()["apps"]
    return visible(row, scope.under(company), in_conversations(services.app, user))
