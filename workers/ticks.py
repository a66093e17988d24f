"""Periodic ticks: every `every` seconds, a message to each registered periodic purpose.

Each worker process ticks on its own. A tick's message id names its time slot
(`tick:<purpose>:<slot start>`), so the receipts turn the other processes' ticks for the
same slot into no-ops; the actor must still tolerate a repeat (clocks differ across
machines, and a slot's tick may land on either side of a boundary).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from projections.base import iso
from workers.actors import Delivery

TICK_PREFIX = "tick:"
log = logging.getLogger("ledgerdesk.workers")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Periodic:
    """A message sent to `purpose` on every tick, with `payload` plus `at` (the slot's start)."""

    purpose: str
    payload: Mapping[str, Any] = field(default_factory=dict)


class Ticker:
    """Sends every periodic message once per time slot of `every` seconds."""

    def __init__(
        self,
        periodic: Sequence[Periodic],
        send: Callable[[Delivery], None],
        every: float,
        clock: Clock = utc_now,
        after_tick: Callable[[datetime], None] | None = None,
    ) -> None:
        self.periodic = list(periodic)
        self.send = send
        self.every = every
        self.clock = clock
        self.after_tick = after_tick

    def slot(self) -> datetime:
        """The start of the current slot (slots are aligned to the epoch, not to start-up)."""
        now = self.clock().timestamp()
        return datetime.fromtimestamp(now - now % self.every, UTC)

    def tick(self) -> list[Delivery]:
        """Send this slot's messages (a repeat within the slot has the same ids)."""
        at = self.slot()
        deliveries = [
            Delivery(f"{TICK_PREFIX}{p.purpose}:{iso(at)}", p.purpose, {**p.payload, "at": iso(at)})
            for p in self.periodic
        ]
        for delivery in deliveries:
            self.send(delivery)
        if self.after_tick is not None:
            self.after_tick(at)
        return deliveries

    def run(self, stop: threading.Event) -> None:
        """Tick at once (a restart catches up), then at the start of every slot, until `stop`."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception:
                # A broker that is down must not end the ticks: the next slot tries again.
                log.exception("periodic tick failed; the next slot tries again")
            next_slot = self.slot() + timedelta(seconds=self.every)
            stop.wait(max((next_slot - self.clock()).total_seconds(), 0.01))
