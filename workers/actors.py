"""Actors: one per purpose, declared on a given broker, each skipping what it has already done.

A feature adds an actor by writing a handler, `handler(services, delivery)`, and an
`ActorSpec(purpose, handler)` in `workers/registry.py`. The plumbing (the dramatiq actor,
the receipt that makes a redelivery a no-op, the message format) is here.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dramatiq

from commands.accounts import AccountService
from commands.application import LedgerDesk
from commands.company_settings import CompanySettingsService
from commands.customers import CustomerService
from commands.imports.jobs import ImportJobService
from commands.log_context import log_context
from commands.mail.outgoing.service import MailOutService
from commands.mail.service import MailService
from commands.metrics import count_worker_message
from commands.projects import ProjectService
from commands.push import PushService
from commands.recurrence import RecurrenceService
from commands.service import CommandService
from commands.sla.items import ItemSlaService
from commands.teams import TeamService
from commands.views.schedules import ReportScheduleService
from commands.webhooks.deliveries import DeliveryService
from commands.workflow.rule_runs import RuleRunner
from projections.base import view_position
from projections.db import ViewDatabase
from projections.outbox import CORRELATION_KEY
from workers.receipts import Receipts

log = logging.getLogger("ledgerdesk.workers")
# dramatiq's own message id is derived from ours, so broker logs name the same message.
MESSAGE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://ledgerdesk.invalid/messages")


@dataclass(frozen=True)
class Delivery:
    """One message as an actor receives it: the id it is deduplicated by, and ids to act on."""

    message_id: str
    purpose: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class WorkerServices:
    """What actors may use: the write side's services and the views (never the API)."""

    app: LedgerDesk
    commands: CommandService
    accounts: AccountService
    teams: TeamService
    customers: CustomerService
    projects: ProjectService
    views: ViewDatabase
    recurrence: RecurrenceService
    mail_out: MailOutService
    # Receives mail fetched by IMAP (None only in tests that build a host without it).
    mail: MailService | None = None
    # Keeps items' SLAs (None only in tests that build a host without it).
    sla: ItemSlaService | None = None
    # Runs automation rules (None only in tests that build a host without it).
    rules: RuleRunner | None = None
    # Sends Web Push (None only in tests that build a host without it).
    push: PushService | None = None
    # Delivers webhooks (None only in tests that build a host without it).
    webhooks: DeliveryService | None = None
    # Makes and mails scheduled reports (None only in tests that build a host without it).
    schedules: ReportScheduleService | None = None
    # Runs imports queued as jobs (None only in tests that build a host without it).
    imports: ImportJobService | None = None
    # Enqueues a message for an actor (set by the host that declares the actors).
    send: Callable[[Delivery], None] | None = None


Handler = Callable[[WorkerServices, Delivery], None]


@dataclass(frozen=True)
class ActorSpec:
    """The actor for `purpose`: `handler` does the work; a failure is retried by dramatiq
    (exponential back-off) up to `max_retries` times."""

    purpose: str
    handler: Handler
    max_retries: int = 20
    # The company switches (group, name) it acts under: while one is off, its messages are
    # taken and dropped unread (what they were about is still in the log and the views).
    needs: tuple[tuple[str, str], ...] = ()
    # False: no receipt; the handler keeps itself from doing a thing twice (in the write
    # model), and a message retried with a delay must run again under its same id.
    once: bool = True


def declare_actors(
    broker: dramatiq.Broker,
    queue: str,
    specs: Sequence[ActorSpec],
    services: WorkerServices,
    receipts: Receipts,
) -> dict[str, dramatiq.Actor[Any, None]]:
    """Declare one dramatiq actor per spec on `broker` (never on dramatiq's global broker).

    Each actor runs its handler at most once per message id (see `Receipts.once`).
    """
    actors: dict[str, dramatiq.Actor[Any, None]] = {}
    for spec in specs:
        if spec.purpose in actors:
            raise ValueError(f"two actors for purpose {spec.purpose!r}")
        actors[spec.purpose] = dramatiq.Actor(
            _performer(spec, services, receipts),
            broker=broker,
            actor_name=spec.purpose,
            queue_name=queue,
            priority=0,
            options={"max_retries": spec.max_retries},
        )
    return actors


def _performer(
    spec: ActorSpec, services: WorkerServices, receipts: Receipts
) -> Callable[[str, dict[str, Any]], None]:
    def perform(message_id: str, payload: dict[str, Any]) -> None:
        # Every line logged while it runs names the message (whose id names the event that
        # called for it) and the correlation id of the request that made that event.
        payload = dict(payload)
        correlation_id = payload.pop(CORRELATION_KEY, None)
        context: dict[str, Any] = {"actor_name": spec.purpose, "message_id": message_id}
        if isinstance(correlation_id, str):
            context["correlation_id"] = correlation_id
        with log_context(**context):
            run_message(message_id, payload)

    def run_message(message_id: str, payload: dict[str, Any]) -> None:
        try:
            outcome = take(message_id, payload)
        except BaseException:
            count_worker_message(spec.purpose, "failed")  # dramatiq retries it
            raise
        count_worker_message(spec.purpose, outcome)

    def take(message_id: str, payload: dict[str, Any]) -> str:
        if spec.needs:
            current = CompanySettingsService(services.app).current()
            off = [f"{g}.{n}" for g, n in spec.needs if not current[g][n]]
            if off:
                log.info("%s: %s switched off; message %s dropped", spec.purpose, off, message_id)
                return "switched_off"
        delivery = Delivery(message_id, spec.purpose, payload)
        if not spec.once:
            spec.handler(services, delivery)
            return "done"
        ran = receipts.once(message_id, spec.purpose, lambda: spec.handler(services, delivery))
        return "done" if ran else "duplicate"

    perform.__name__ = perform.__qualname__ = spec.purpose.replace(".", "_")
    return perform


def message_for(actor: dramatiq.Actor[Any, None], delivery: Delivery) -> dramatiq.Message[None]:
    """The dramatiq message carrying a delivery: its id and payload only."""
    return dramatiq.Message(
        queue_name=actor.queue_name,
        actor_name=actor.actor_name,
        args=(),
        kwargs={"message_id": delivery.message_id, "payload": dict(delivery.payload)},
        options={},
        message_id=str(uuid.uuid5(MESSAGE_NAMESPACE, delivery.message_id)),
    )


def wait_for_views(
    services: WorkerServices, views: Sequence[str], position: int, seconds: float
) -> None:
    """Wait until the live generation of each of `views` (projected in this process or
    another) has reached log `position`; TimeoutError after `seconds`, so that dramatiq
    gives the message back and it is tried again later."""
    deadline = time.monotonic() + seconds
    while True:
        with services.views.read() as tx:
            if all(view_position(tx, view) >= position for view in views):
                return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"the views {', '.join(views)} have not reached log position {position} yet;"
                " tried again later"
            )
        time.sleep(0.02)
