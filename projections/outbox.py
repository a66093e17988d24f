"""Outbox view: reads the events the policies react to; shows the messages they ask for, one
row per event and purpose (`outbox_messages`), for the relay in `workers/` to send.

A *policy* is a pure function of one committed event: it returns the messages (a purpose,
which names the actor, and a payload of ids) that the event calls for. Because the view
follows the committed log like every other view, a message exists only once its event has
committed, and its id (`<aggregate id>:<version>:<purpose>`) is the same in every rebuild,
so the relay's sent marks (kept outside the generations) survive a rebuild and nothing is
sent twice.

A policy reacts only to events committed after it was installed: `outbox_policies` records,
once per policy, the log position it starts after. A new policy therefore never sends
messages for history, not even when the view is rebuilt from position 0.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from projections.base import Positioned, Projection, Tables, dumps
from projections.db import Tx
from projections.integrations.feed import PUBLISHING
from projections.live.notifications import PUSH_POLICIES
from projections.mail.policies import MAIL_POLICIES
from projections.policy import Policy, Send
from projections.sla.policies import SLA_POLICIES
from projections.workflow.automations import AUTOMATION_POLICIES
from projections.workflow.statuses import STATUS_POLICIES

# Where a message's payload carries the correlation id of the event that asked for it.
CORRELATION_KEY = "_correlation_id"
# Beside the generations, so that rebuilds keep them: where each policy starts, and which
# messages the relay has sent.
POLICIES_DDL = (
    "CREATE TABLE IF NOT EXISTS outbox_policies (policy TEXT PRIMARY KEY, since BIGINT NOT NULL)"
)
SENT_DDL = (
    "CREATE TABLE IF NOT EXISTS outbox_sent (message_id TEXT PRIMARY KEY, sent_at TEXT NOT NULL)"
)
# The position up to which the active relay has sent every message (one row): the backlog
# is counted from there, never over the whole history.
RELAYED_DDL = (
    "CREATE TABLE IF NOT EXISTS outbox_relayed (id INTEGER PRIMARY KEY, position BIGINT NOT NULL)"
)


def create_due_now(event: Any) -> list[Send]:
    """A recurring series was set up or its rule changed: create what is already due, not
    waiting for the next `recurrence.tick`."""
    return [Send("recurrence.create_due", {"series_id": str(event.originator_id)})]


def run_import_job(event: Any) -> list[Send]:
    """An import was queued as a job: run it now, not waiting for the next `imports.tick`."""
    return [Send("imports.run", {"job_id": str(event.originator_id)})]


# Every policy ledgerdesk runs; a feature appends its own. Names never change.
POLICIES: tuple[Policy, ...] = (
    Policy("recurrence.schedule", frozenset({"ledgerdesk:Task.RecurrenceSet"}), create_due_now),
    *MAIL_POLICIES,
    *SLA_POLICIES,
    *STATUS_POLICIES,
    *AUTOMATION_POLICIES,
    *PUSH_POLICIES,
    *PUBLISHING,
    Policy("imports.queued", frozenset({"ledgerdesk:ImportJob.Queued"}), run_import_job),
)


# An item import writes history: its events ask for no mail, notification, automation
# (an auto-reply, the default SLA policy) or SLA measurement. Publishing goes on.
QUIET_FOR_IMPORTS = frozenset(
    {"mail.user_assigned", "workflow.automations", "push.notify", "mail.notify", "sla.item_moved"}
)


def by_import(event: Any) -> bool:
    return str(getattr(event, "actor", "")).startswith("import:")


def _correlated(event: Any) -> dict[str, str]:
    """The event's correlation id, under a key no actor reads (the worker logs it with every
    line the message makes, and takes it out of the payload)."""
    correlation_id = getattr(event, "correlation_id", None)
    return {CORRELATION_KEY: correlation_id} if isinstance(correlation_id, str) else {}


def message_id(event: Any, purpose: str) -> str:
    """The message's id: one per event and purpose, the same in every rebuild."""
    return f"{event.originator_id}:{event.originator_version}:{purpose}"


class OutboxProjection(Projection):
    """Reads the events the policies name; shows one `outbox_messages` row per message."""

    name = "outbox"
    tables = ("outbox_messages",)
    schema_version = 2  # 2: each message carries its event's correlation id

    def __init__(self, policies: Sequence[Policy] | None = None) -> None:
        self.policies = tuple(POLICIES if policies is None else policies)
        names = [p.name for p in self.policies]
        if len(set(names)) != len(names):
            raise ValueError(f"policy names must be unique: {names}")
        self.topics = frozenset().union(*(p.topics for p in self.policies))

    def create(self, tx: Tx, t: Tables) -> None:
        table = t["outbox_messages"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " message_id TEXT PRIMARY KEY, purpose TEXT NOT NULL, payload TEXT NOT NULL,"
            " position BIGINT NOT NULL)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {table}_position ON {table} (position, message_id)")
        tx.execute(POLICIES_DDL)
        tx.execute(SENT_DDL)
        tx.execute(RELAYED_DDL)

    def key_columns(self, base: str) -> str:
        return "message_id"

    def install_policies(self, tx: Tx, head: int) -> None:
        """Record that policies not seen before react only to events after `head`."""
        tx.execute(POLICIES_DDL)
        tx.executemany(
            "INSERT INTO outbox_policies (policy, since) VALUES (?, ?)"
            " ON CONFLICT (policy) DO NOTHING",
            [(p.name, head) for p in self.policies],
        )

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        since = self._since(tx)
        rows = [
            (
                message_id(p.event, send.purpose),
                send.purpose,
                dumps(
                    {
                        **send.payload,
                        **({"position": p.position} if policy.positioned else {}),
                        **_correlated(p.event),
                    }
                ),
                p.position,
            )
            for p in events
            for policy in self._reacting(p.event)
            if p.position > since[policy.name]
            and not (policy.name in QUIET_FOR_IMPORTS and by_import(p.event))
            for send in policy.react(p.event)
        ]
        # Two policies asking for the same purpose on one event make one message; rows by
        # key (in bulk while a generation is built).
        for message, purpose, payload, position in {r[0]: r for r in rows}.values():
            tx.insert_row(
                t["outbox_messages"],
                {
                    "message_id": message,
                    "purpose": purpose,
                    "payload": payload,
                    "position": position,
                },
                key=("message_id",),
            )

    def _reacting(self, event: Any) -> list[Policy]:
        topic = getattr(type(event), "TOPIC", "")
        return [p for p in self.policies if topic in p.topics]

    def _since(self, tx: Tx) -> dict[str, int]:
        since = self._recorded(tx)
        if any(p.name not in since for p in self.policies):
            # Installed without `migrate`: start after what the live view has already seen,
            # which during a rebuild is the live generation's position, not this page's.
            live = tx.one(
                "SELECT position FROM projection_tracking WHERE view = ? AND is_current = 1",
                (self.name,),
            )
            self.install_policies(tx, int(live["position"]) if live else 0)
            since = self._recorded(tx)
        return since

    def _recorded(self, tx: Tx) -> dict[str, int]:
        rows = tx.all("SELECT policy, since FROM outbox_policies")
        return {r["policy"]: int(r["since"]) for r in rows}


def mark_sent(tx: Tx, message_ids: Sequence[str], at: str) -> None:
    """Record that the relay has handed these messages to the broker."""
    tx.executemany(
        "INSERT INTO outbox_sent (message_id, sent_at) VALUES (?, ?)"
        " ON CONFLICT (message_id) DO NOTHING",
        [(m, at) for m in message_ids],
    )


def mark_relayed(tx: Tx, position: int) -> None:
    """Record that every message before `position` is sent (0: the relay starts over)."""
    tx.execute(
        "INSERT INTO outbox_relayed (id, position) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET position = excluded.position",
        (position,),
    )


def backlog(tx: Tx, t: Tables) -> tuple[int, int | None]:
    """The messages waiting for the relay, and the log position of the oldest (None: none
    waits). Counted from the relay's mark, so a scrape never reads the whole history."""
    mark = tx.one("SELECT position FROM outbox_relayed WHERE id = 1")
    row = tx.one(
        f"SELECT count(*) AS waiting, min(m.position) AS oldest FROM {t['outbox_messages']} m"
        " WHERE m.position >= ?"
        " AND NOT EXISTS (SELECT 1 FROM outbox_sent s WHERE s.message_id = m.message_id)",
        (int(mark["position"]) if mark else 0,),
    )
    if row is None or not row["waiting"]:
        return 0, None
    return int(row["waiting"]), int(row["oldest"])


def unsent_messages(
    tx: Tx, t: Tables, purposes: Collection[str], after: tuple[int, str], limit: int
) -> list[dict[str, Any]]:
    """Messages for `purposes` after the (position, message_id) cursor that the relay has not
    sent, in log order."""
    if not purposes:
        return []
    table = t["outbox_messages"]
    marks = ", ".join("?" for _ in purposes)
    return tx.all(
        f"SELECT m.message_id, m.purpose, m.payload, m.position FROM {table} m"
        f" WHERE m.purpose IN ({marks})"
        " AND (m.position > ? OR (m.position = ? AND m.message_id > ?))"
        " AND NOT EXISTS (SELECT 1 FROM outbox_sent s WHERE s.message_id = m.message_id)"
        " ORDER BY m.position, m.message_id LIMIT ?",
        (*sorted(purposes), after[0], after[0], after[1], limit),
    )
