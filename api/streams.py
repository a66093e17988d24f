"""The real-time streams' hub: one per API process, it follows the `live` view and hands
each new row to the open streams whose audience it is.

One thread reads what the view gained since it last looked — woken by a commit in this
process, by PostgreSQL NOTIFY from the event store's inserts in any process, or by a poll
every second — and keeps the latest rows in memory, so that a thousand open streams cost
one read, not a thousand. A stream that resumes from further back (`Last-Event-ID`) reads
its own audiences' rows from the view until it has caught up, then takes from memory.

Typing indicators are ephemeral: never events, never rows. On PostgreSQL they go out by
NOTIFY, so every API process hears them; on the embedded store, to this process's streams.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from domain.notifications import ID_PATTERN
from projections import presence
from projections.base import current_tables
from projections.db import ViewDatabase, listen_payloads
from projections.live.reading import last_row, read_after
from projections.live.view import LiveProjection
from projections.runner import ProjectionRunner
from projections.users import user_names

log = logging.getLogger("ledgerdesk.streams")
VIEW = LiveProjection.name
ID = re.compile(ID_PATTERN, re.ASCII)
Key = tuple[int, int]
# How many of the newest rows the hub keeps in memory (older: read from the view).
BUFFER_ROWS = 10_000
PAGE = 1000
# How long a staff member's name is trusted before it is read again.
NAME_SECONDS = 60.0


@dataclass(frozen=True)
class LiveRow:
    key: Key
    audience: str
    name: str
    payload: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.key[0]}.{self.key[1]}"


def parse_id(text: str) -> Key | None:
    """`<position>.<seq>` (a stream event's id) as a key; None when it is not one."""
    if not ID.match(text.strip()):
        return None
    position, _, seq = text.strip().partition(".")
    return int(position), int(seq)


@dataclass(eq=False)
class Subscription:
    """One open stream: whose rows it sends, the last it sent, and how to wake it."""

    audiences: frozenset[str]
    cursor: Key
    loop: asyncio.AbstractEventLoop
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    agent: str | None = None
    # Typing indicators heard since it last looked: (name, payload).
    ephemeral: deque[tuple[str, dict[str, Any]]] = field(default_factory=lambda: deque(maxlen=100))

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # Its loop has closed: the stream is gone.
            self.loop.call_soon_threadsafe(self.ready.set)


class StreamHub:
    def __init__(
        self,
        views: ViewDatabase,
        runner: ProjectionRunner,
        log_channel: str | None = None,
        ephemeral_channel: str | None = None,
        idle_seconds: float = 1.0,
        wait_seconds: float = 2.0,
    ) -> None:
        self.views = views
        self.runner = runner
        self.log_channel = log_channel
        self.ephemeral_channel = ephemeral_channel
        self.idle_seconds = idle_seconds
        self.buffer_rows = BUFFER_ROWS
        self.wait_seconds = wait_seconds
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._subs: set[Subscription] = set()
        self._rows: list[LiveRow] = []
        self._keys: list[Key] = []
        self._base: Key = (0, 0)  # every row after it is in `_rows` ((0, 0): before all)
        self._tail: Key = (0, 0)  # the newest row read
        self._threads: list[threading.Thread] = []
        self._names: dict[str, tuple[float, str]] = {}
        # Staff who take chats, by their open streams here (presence: projections.presence).
        self.process = uuid.uuid4().hex
        self._agents: Counter[str] = Counter()
        self._seen_at = 0.0

    # --- running ----------------------------------------------------------------------

    def start(self) -> None:
        """Start following (once; the first stream does it)."""
        with self._lock:
            if self._threads:
                return
            with self.views.read() as tx:
                self._tail = self._base = last_row(tx, current_tables(tx, VIEW))
            self._threads.append(threading.Thread(target=self._run, name="streams", daemon=True))
            channels = [c for c in (self.log_channel, self.ephemeral_channel) if c]
            if channels:
                self._threads.append(
                    threading.Thread(
                        target=listen_payloads,
                        args=(self.views, channels, self._stop, self._heard, self.wake.set),
                        name="streams-listen",
                        daemon=True,
                    )
                )
            for thread in self._threads:
                thread.start()

    def close(self) -> None:
        self._stop.set()
        self.wake.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.wake.wait(self.idle_seconds)
            self.wake.clear()
            try:
                if time.monotonic() - self._seen_at > presence.REFRESH_SECONDS:
                    self._seen_at = time.monotonic()
                    with self._lock:
                        agents = list(self._agents)
                    presence.seen(self.views, self.process, agents, time.time())
                self.poll()
            except Exception:
                log.exception("streams could not read the live view; trying again")
                self._stop.wait(1.0)

    def poll(self) -> None:
        """Read what the view gained (once it has caught up with the log), and wake the
        streams."""
        self.runner.wait_for(self.runner.log.head(), [VIEW], self.wait_seconds)
        gained = False
        while True:
            with self.views.read() as tx:
                found = read_after(tx, current_tables(tx, VIEW), self._tail, None, PAGE)
            if not found:
                break
            rows = [_row(r) for r in found]
            with self._lock:
                self._rows.extend(rows)
                self._keys.extend(r.key for r in rows)
                self._tail = rows[-1].key
                if len(self._rows) > 2 * self.buffer_rows:  # trimmed now and then
                    cut = len(self._rows) - self.buffer_rows
                    self._base = self._keys[cut - 1]
                    del self._rows[:cut], self._keys[:cut]
            gained = True
            if len(found) < PAGE:
                break
        if gained:
            for sub in self._subscribers():
                sub.wake()

    def _subscribers(self) -> list[Subscription]:
        with self._lock:
            return list(self._subs)

    # --- streams ----------------------------------------------------------------------

    def subscribe(
        self,
        audiences: Collection[str],
        after: Key | None,
        loop: asyncio.AbstractEventLoop,
        agent: str | None = None,
    ) -> Subscription:
        """A stream of `audiences`' rows after `after` (None: from now on); `agent`: the
        staff member who takes chats whose stream it is (on duty while it is open)."""
        self.start()
        with self._lock:
            sub = Subscription(frozenset(audiences), after or self._tail, loop, agent=agent)
            self._subs.add(sub)
            if agent is not None:
                self._agents[agent] += 1
        if agent is not None:
            try:
                presence.seen(self.views, self.process, [agent], time.time())
            except Exception:
                log.exception("could not record that %s is on duty", agent)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub not in self._subs:
                return
            self._subs.discard(sub)
            last = False
            if sub.agent is not None:
                self._agents[sub.agent] -= 1
                last = self._agents[sub.agent] <= 0
                if last:
                    del self._agents[sub.agent]
        if last and sub.agent is not None:
            try:
                presence.gone(self.views, self.process, sub.agent)
            except Exception:
                log.exception("could not record that %s left", sub.agent)

    def agents_on_duty(self) -> bool:
        """Whether anyone who takes chats has a staff stream open, in any API process."""
        return presence.on_duty(self.views, time.time())

    @property
    def open_streams(self) -> int:
        with self._lock:
            return len(self._subs)

    def take(self, sub: Subscription, limit: int = PAGE) -> list[LiveRow]:
        """The stream's next rows (moving its cursor past them): from memory, or — when it
        is further back than memory reaches — from the view."""
        with self._lock:
            if sub.cursor >= self._base:
                found: list[LiveRow] = []
                rows = self._rows
                for i in range(bisect.bisect_right(self._keys, sub.cursor), len(rows)):
                    if rows[i].audience in sub.audiences:
                        found.append(rows[i])
                        if len(found) == limit:
                            break
                if len(found) == limit:
                    sub.cursor = found[-1].key
                else:  # Nothing more of its own up to the newest row.
                    sub.cursor = max(sub.cursor, self._tail)
                return found
            upto = self._tail
        with self.views.read() as tx:
            read = read_after(
                tx, current_tables(tx, VIEW), sub.cursor, sorted(sub.audiences), limit, upto
            )
        found = [_row(r) for r in read]
        # Nothing more of its own up to `upto`: it has caught up with memory.
        sub.cursor = found[-1].key if len(found) == limit else max(upto, sub.cursor)
        return found

    # --- typing indicators (ephemeral) -------------------------------------------------

    def publish(self, audiences: Sequence[str], name: str, payload: dict[str, Any]) -> None:
        """Send an ephemeral event to the streams of `audiences`, in every API process."""
        message = {"audiences": list(audiences), "name": name, "payload": payload}
        if self.ephemeral_channel is None:
            self._deliver(message)
            return
        with self.views.write() as tx:
            tx.execute(
                "SELECT pg_notify(?, ?)", (self.ephemeral_channel, orjson.dumps(message).decode())
            )

    def _heard(self, channel: str, payload: str) -> None:
        if channel == self.ephemeral_channel:
            try:
                self._deliver(orjson.loads(payload))
            except (orjson.JSONDecodeError, KeyError, TypeError):
                log.warning("an ephemeral stream message could not be read: %.200s", payload)
        else:
            self.wake.set()

    def _deliver(self, message: dict[str, Any]) -> None:
        audiences = set(message["audiences"])
        for sub in self._subscribers():
            if sub.audiences & audiences:
                sub.ephemeral.append((message["name"], message["payload"]))
                sub.wake()

    # --- who is who ------------------------------------------------------------------

    def names(self, user_ids: Collection[str]) -> dict[str, str]:
        """Staff members' names (read again after `NAME_SECONDS`)."""
        now = time.monotonic()
        known = {u: self._names[u] for u in user_ids if u in self._names}
        missing = [u for u in user_ids if u not in known or now - known[u][0] > NAME_SECONDS]
        if missing:
            with self.views.read() as tx:
                found = user_names(tx, current_tables(tx, "users"), sorted(set(missing)))
            for user_id in missing:
                known[user_id] = self._names[user_id] = (now, found.get(user_id, ""))
        return {u: name for u, (_, name) in known.items()}


def _row(r: dict[str, Any]) -> LiveRow:
    return LiveRow(
        (int(r["position"]), int(r["seq"])), r["audience"], r["name"], orjson.loads(r["payload"])
    )
