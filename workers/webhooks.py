"""The webhook actors: the publisher finds the public event a committed domain event became
(the `feed` view, at the event's position) and the subscriptions that take it and may see
it, and sends one delivery message to each; the deliverer makes the delivery's next attempt
and, when it failed, asks dramatiq to run it again after the schedule's delay
(`dramatiq.Retry`)."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import dramatiq

from commands.company_settings import CompanySettingsService
from commands.unit_of_work import UnitOfWork
from commands.webhooks.deliveries import DeliveryService
from domain.user import Flag, User
from projections.access import StaffScope, staff_scope
from projections.base import current_tables
from projections.db import Tx
from projections.integrations.feed_query import (
    FeedScope,
    company_scope,
    event_at,
    feed_scope,
    visible,
)
from projections.integrations.webhooks import taking, unsettled
from workers.actors import Delivery, WorkerServices, wait_for_views

VIEW_WAIT_SECONDS = 30.0
# How long past its due time an attempt may be late before the sweep sends it again.
SWEEP_GRACE_SECONDS = 120.0
log = logging.getLogger("ledgerdesk.workers")


def _webhooks(services: WorkerServices) -> DeliveryService:
    if services.webhooks is None or services.send is None:
        raise RuntimeError("this worker was built without the webhook deliveries")
    return services.webhooks


def owner_scope(
    services: WorkerServices, tx: Tx, hook: dict[str, Any], apps: dict[str, bool]
) -> FeedScope | None:
    """What a subscription may see now: an admin's webhook is the company's (every event of
    the apps in force, whoever made it); a REST hook sees what its owner may see (None: an
    owner no longer active)."""
    owner = hook["owner"]
    if hook["kind"] == "webhook" or owner.startswith("system:"):
        return company_scope(apps)
    user = UnitOfWork(services.app).get(UUID(owner), User)
    if user is None or not user.is_active:
        return None
    if user.has_flag(Flag.MANAGE_PROJECTS):
        scope = StaffScope(True, frozenset(), {}, user.apps)
    else:
        memberships = staff_scope(tx, owner)
        scope = StaffScope(False, memberships.project_ids, memberships.roles, user.apps)
    return feed_scope(owner, scope, user.takes_chats, apps)


def publish(services: WorkerServices, delivery: Delivery) -> None:
    deliveries = _webhooks(services)
    position = int(delivery.payload["position"])
    # They usually show it already: the outbox that sent the message is a view too.
    wait_for_views(services, ("feed", "webhooks", "access"), position, VIEW_WAIT_SECONDS)
    with services.views.read() as tx:
        feed = current_tables(tx, "feed")
        event = event_at(tx, feed, position)
        if event is None:
            return
        takers = []
        hooks = current_tables(tx, "webhooks")
        apps = CompanySettingsService(services.app).current()["apps"]
        for hook in taking(tx, hooks, event["type"], event["position"]):
            scope = owner_scope(services, tx, hook, apps)
            if scope is not None and visible(tx, feed, scope, event):
                takers.append(hook["id"])
    assert services.send is not None
    for hook_id in takers:
        deliveries.queue(UUID(hook_id), event, delivery.message_id)
        _send(services, hook_id, event["position"])


def _send(services: WorkerServices, hook_id: str, position: int) -> None:
    assert services.send is not None
    payload = {"webhook_id": hook_id, "position": position}
    services.send(Delivery(f"{hook_id}:{position}", "webhooks.deliver", payload))


def sweep(services: WorkerServices, delivery: Delivery) -> None:
    """Send again the deliveries owed whose next attempt is long overdue (their message was
    lost); a message that was only late finds its attempt taken or not yet due."""
    deliveries = _webhooks(services)
    grace = max(SWEEP_GRACE_SECONDS, 2 * deliveries.timeout)
    with services.views.read() as tx:
        owed = unsettled(tx, current_tables(tx, "webhooks"))
    for row in owed:
        if deliveries.overdue(row, grace):
            log.warning(
                "webhook delivery of event %s to %s overdue: sent again",
                row["event_id"],
                row["webhook_id"],
            )
            _send(services, row["webhook_id"], int(row["event_id"]))


def deliver(services: WorkerServices, delivery: Delivery) -> None:
    deliveries = _webhooks(services)
    with services.views.read() as tx:
        event = event_at(tx, current_tables(tx, "feed"), int(delivery.payload["position"]))
    if event is None:
        raise LookupError(f"no public event at {delivery.payload['position']}")
    done = deliveries.deliver(UUID(delivery.payload["webhook_id"]), event, delivery.message_id)
    if done.outcome in ("retry", "wait") and done.retry_after is not None:
        why = "not yet due" if done.outcome == "wait" else f"attempt {done.attempt} failed"
        raise dramatiq.Retry(why, delay=max(1, int(done.retry_after * 1000)))
