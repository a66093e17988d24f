"""The background work of one process: actors on a broker, the outbox relay, periodic ticks.

Embedded mode (no broker URL) runs all of it in the server process on an in-memory broker.
With Redis or RabbitMQ, `ledgerdesk worker` processes run it; any number may, and one
relay among them is active at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import dramatiq

from commands.log_context import log_fields
from projections.db import ViewDatabase
from projections.outbox import CORRELATION_KEY, RELAYED_DDL, OutboxProjection
from workers.actors import ActorSpec, Delivery, WorkerServices, declare_actors, message_for
from workers.broker import describe, is_durable, stop_worker
from workers.receipts import Receipts
from workers.relay import Relay
from workers.ticks import TICK_PREFIX, Periodic, Ticker

log = logging.getLogger("ledgerdesk.workers")
# How long idle worker threads and consumers sleep between looks (and so how long `close`
# may wait for them).
WORKER_TIMEOUT_MS = 500
TICK_RECEIPTS_KEPT = timedelta(days=1)


def migrate_workers(db: ViewDatabase, outbox: OutboxProjection, head: int) -> None:
    """Create the receipts table; start policies installed by this release after `head`."""
    with db.write() as tx:
        Receipts.create(tx)
        outbox.install_policies(tx, head)
        tx.execute(RELAYED_DDL)  # the relay's mark, which /metrics counts the backlog from


class WorkerHost:
    """Declares every actor on `broker` at once; starts threads only in `start`."""

    def __init__(
        self,
        broker: dramatiq.Broker,
        queue: str,
        db: ViewDatabase,
        services: WorkerServices,
        actors: Sequence[ActorSpec],
        periodic: Sequence[Periodic],
        *,
        threads: int,
        tick_seconds: float,
        head: Callable[[], int],
        wait_for_outbox: Callable[[int, float], bool],
    ) -> None:
        self.broker = broker
        self.queue = queue
        self.threads = threads
        self.receipts = Receipts(db)
        # The actors may send messages of their own (a publisher's deliveries).
        self.services = services = replace(services, send=self.send)
        self.actors = declare_actors(broker, queue, actors, services, self.receipts)
        unknown = [p.purpose for p in periodic if p.purpose not in self.actors]
        if unknown:
            raise ValueError(f"periodic messages without an actor: {', '.join(unknown)}")
        self.relay = Relay(
            db,
            self.send,
            self.actors,
            durable=is_durable(broker),
            head=head,
            wait_for_view=wait_for_outbox,
        )
        self.ticker = Ticker(periodic, self.send, tick_seconds, after_tick=self._forget_ticks)
        self.worker: dramatiq.Worker | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def describe(self) -> str:
        return f"{describe(self.broker, self.queue)}, {self.threads} thread(s)"

    def send(self, delivery: Delivery) -> None:
        """Enqueue a delivery for the actor of its purpose; one sent while a message runs
        carries that message's correlation id on (its lines are logged under it too)."""
        correlation_id = log_fields().get("correlation_id")
        if correlation_id is not None and CORRELATION_KEY not in delivery.payload:
            payload = {**delivery.payload, CORRELATION_KEY: correlation_id}
            delivery = replace(delivery, payload=payload)
        self.broker.enqueue(message_for(self.actors[delivery.purpose], delivery))

    def start(self, *, channel: str | None = None) -> None:
        """Run worker threads, the relay and the ticks (and, on PostgreSQL, wake the relay
        on NOTIFY from `channel`) until `close`."""
        self.worker = dramatiq.Worker(
            self.broker, worker_threads=self.threads, worker_timeout=WORKER_TIMEOUT_MS
        )
        self.worker.start()
        self._spawn("outbox-relay", self.relay.run)
        if channel is not None:
            self._spawn("outbox-listen", lambda stop: self.relay.listen(channel, stop))
        if self.ticker.periodic:
            self._spawn("ticks", self.ticker.run)

    def _spawn(self, name: str, target: Callable[[threading.Event], None]) -> None:
        thread = threading.Thread(target=target, args=(self._stop,), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _forget_ticks(self, at: datetime) -> None:
        self.receipts.forget(TICK_PREFIX, at - TICK_RECEIPTS_KEPT)

    def close(self) -> None:
        """Stop relaying and ticking, let the actors finish what they hold, close the broker."""
        self._stop.set()
        self.relay.wake.set()
        for thread in self._threads:
            thread.join(timeout=10)
        if self.worker is not None:
            stop_worker(self.worker, self.broker, self.queue)
            self.worker = None
        self.broker.close()
        client = getattr(self.broker, "client", None)  # Redis: drop the pooled connections.
        if client is not None:
            client.connection_pool.disconnect()
