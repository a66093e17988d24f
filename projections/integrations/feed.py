"""Feed view: reads the events integrations are told of; shows one `feed_events` row per
public event (`domain.integrations`), at its log position, with who did it, its
correlation and causation, where it happened (for scoping) and its public `data`.

To say where an event happened it keeps what the events themselves do not repeat: each
item's number, kind, title and project (`feed_items`), each time entry's owner and place
(`feed_entries`), and each item SLA's item, policy and the rounds already seen breached
(`feed_slas`). A public event's position is its domain event's: the webhooks' publisher,
told of each domain event that may be public by its policy (`PUBLISHING`, with the
position), looks it up here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.chat.chats import Chat
from domain.notifications import message_news
from domain.sla.clock import SlaState
from domain.sla.item_sla import ItemSla
from domain.task import Task
from domain.ticket import Ticket
from domain.timesheet import TimesheetEntry
from projections.base import Positioned, Projection, Tables, dumps, iso, loads, topic_name
from projections.db import Tx
from projections.policy import Policy, Send

TICKET, TASK = Ticket.TOPIC, Task.TOPIC
READS = frozenset(
    {
        f"{TICKET}.Opened",
        f"{TASK}.Planned",
        f"{TICKET}.Retitled",
        f"{TICKET}.Moved",
        f"{TICKET}.StatusChanged",
        f"{TICKET}.UserAssigned",
        f"{TICKET}.CustomerReplyPosted",
        f"{TICKET}.ConvertedToTask",
        f"{TimesheetEntry.TOPIC}.Logged",
        f"{TimesheetEntry.TOPIC}.Edited",
        f"{TimesheetEntry.TOPIC}.Approved",
        f"{Chat.TOPIC}.Opened",
        f"{ItemSla.TOPIC}.Started",
        f"{ItemSla.TOPIC}.Applied",
        f"{ItemSla.TOPIC}.Changed",
    }
)
# The webhooks' policy: each event that may be public asks the publisher to look it up in
# this view and send it to the subscriptions that take it.
PUBLISHING = (
    Policy(
        "webhooks.publish",
        frozenset(
            {
                f"{TICKET}.Opened",
                f"{TASK}.Planned",
                f"{TICKET}.StatusChanged",
                f"{TICKET}.UserAssigned",
                f"{TICKET}.CustomerReplyPosted",
                f"{TICKET}.ConvertedToTask",
                f"{TimesheetEntry.TOPIC}.Approved",
                f"{Chat.TOPIC}.Opened",
                f"{ItemSla.TOPIC}.Changed",
            }
        ),
        lambda e: [Send("webhooks.publish", {})],
        positioned=True,
    ),
)
ENTRY_FIELDS = ("user_id", "item_number", "project_id", "work_date", "minutes", "billable")


class FeedProjection(Projection):
    name = "feed"
    tables = ("feed_events", "feed_items", "feed_entries", "feed_slas")
    topics = READS

    def create(self, tx: Tx, t: Tables) -> None:
        events = t["feed_events"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {events} ("
            " position BIGINT PRIMARY KEY, type TEXT NOT NULL, occurred_at TEXT NOT NULL,"
            " actor TEXT NOT NULL, correlation_id TEXT NOT NULL, causation_id TEXT,"
            " kind TEXT, project_id TEXT, user_id TEXT, data TEXT NOT NULL)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {events}_type ON {events} (type, position)")
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['feed_items']} (id TEXT PRIMARY KEY,"
            " number BIGINT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL,"
            " project_id TEXT NOT NULL)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['feed_entries']} (id TEXT PRIMARY KEY,"
            " user_id TEXT NOT NULL, item_number BIGINT NOT NULL, project_id TEXT NOT NULL,"
            " work_date TEXT NOT NULL, minutes INTEGER NOT NULL, billable INTEGER NOT NULL)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['feed_slas']} (id TEXT PRIMARY KEY,"
            " item_id TEXT NOT NULL, policy TEXT, breached TEXT NOT NULL)"
        )

    def key_columns(self, base: str) -> str:
        return "position" if base == "feed_events" else "id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        for p in events:
            _Apply(tx, t, p).run()


class _Apply:
    """One event's change to the feed."""

    def __init__(self, tx: Tx, t: Tables, p: Positioned) -> None:
        self.tx, self.t, self.p, self.e = tx, t, p, p.event
        self.id = str(p.event.originator_id)

    def run(self) -> None:
        kind, _, name = topic_name(self.e).partition(".")
        handler = getattr(self, f"_{kind}_{name}".lower(), None)
        if handler is not None:
            handler()

    # --- writing ---------------------------------------------------------------------

    def publish(
        self,
        name: str,
        data: dict[str, Any],
        *,
        item: dict[str, Any] | None = None,
        project_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        e = self.e
        self.tx.insert_row(
            self.t["feed_events"],
            {
                "position": self.p.position,
                "type": name,
                "occurred_at": iso(e.timestamp),
                "actor": e.actor,
                "correlation_id": e.correlation_id,
                "causation_id": e.__dict__.get("causation_id"),
                "kind": item["kind"] if item else None,
                "project_id": item["project_id"] if item else project_id,
                "user_id": user_id,
                "data": dumps(data),
            },
            ("position",),
        )

    def item(self, item_id: str | None = None) -> dict[str, Any] | None:
        return self.tx.one(
            f"SELECT number, kind, title, project_id FROM {self.t['feed_items']} WHERE id = ?",
            (item_id or self.id,),
        )

    def _item_event(self, name: str, **data: Any) -> None:
        item = self.item()
        if item is not None:
            self.publish(name, {"item": item, **data}, item=item)

    # --- items -----------------------------------------------------------------------

    def _opened(self, kind: str) -> dict[str, Any]:
        e = self.e
        item = {"number": e.number, "kind": kind, "title": e.title, "project_id": e.project_id}
        self.tx.insert_row(self.t["feed_items"], {"id": self.id, **item})
        return item

    def _ticket_opened(self) -> None:
        e, item = self.e, self._opened("ticket")
        shown = {**item, "priority": e.priority, "channel": e.channel}
        self.publish(
            "item.created", {"item": {**shown, "requester_email": e.requester_email}}, item=item
        )

    def _task_planned(self) -> None:
        e, item = self.e, self._opened("task")
        if e.converted_from is None:  # A conversion is told as `item.converted`.
            # A task has no channel: the recurrence made it, or someone did.
            channel = "recurrence" if e.series_number is not None else None
            shown = {**item, "priority": e.priority, "channel": channel}
            self.publish(
                "item.created",
                {"item": {**shown, "requester_email": e.requester_email}},
                item=item,
            )

    def _ticket_retitled(self) -> None:
        self.tx.update_row(self.t["feed_items"], {"id": self.id}, {"title": self.e.title})

    def _ticket_moved(self) -> None:
        self.tx.update_row(self.t["feed_items"], {"id": self.id}, {"project_id": self.e.project_id})

    def _ticket_statuschanged(self) -> None:
        self._item_event("item.status_changed", status=self.e.status, state=self.e.state)

    def _ticket_userassigned(self) -> None:
        self._item_event("item.assigned", user_id=self.e.user_id)

    def _ticket_customerreplyposted(self) -> None:
        e = self.e
        replied, _ = message_news(str(e.actor), e.body, True)
        if replied:
            self._item_event("item.customer_replied", message={"id": e.message_id, "body": e.body})

    def _ticket_convertedtotask(self) -> None:
        e, item = self.e, self.item()
        if item is None:
            return
        task = {**item, "number": e.task_number, "kind": "task"}
        self.publish("item.converted", {"item": item, "task": task}, item=item)

    # --- time entries ----------------------------------------------------------------

    def _timesheetentry_logged(self) -> None:
        e = self.e
        row = {field: getattr(e, field) for field in ENTRY_FIELDS}
        row["billable"] = int(row["billable"])
        self.tx.insert_row(self.t["feed_entries"], {"id": self.id, **row})

    def _timesheetentry_edited(self) -> None:
        changes = {k: v for k, v in self.e.changes.items() if k in ENTRY_FIELDS}
        if "billable" in changes:
            changes["billable"] = int(changes["billable"])
        if changes:
            self.tx.update_row(self.t["feed_entries"], {"id": self.id}, changes)

    def _timesheetentry_approved(self) -> None:
        entry = self.tx.one(
            f"SELECT {', '.join(ENTRY_FIELDS)} FROM {self.t['feed_entries']} WHERE id = ?",
            (self.id,),
        )
        if entry is None:
            return
        entry["billable"] = bool(entry["billable"])
        self.publish(
            "timesheet.approved",
            {"entry": {"id": self.id, **entry}},
            project_id=entry["project_id"],
            user_id=entry["user_id"],
        )

    # --- chats and SLAs --------------------------------------------------------------

    def _chat_opened(self) -> None:
        e = self.e
        chat = {"id": self.id, "name": e.name, "email": e.email, "source": e.source}
        self.publish("chat.started", {"chat": {**chat, "offline": bool(e.offline)}})

    def _itemsla_started(self) -> None:
        row = {"id": self.id, "item_id": self.e.item_id, "policy": None, "breached": "[]"}
        self.tx.insert_row(self.t["feed_slas"], row)

    def _itemsla_applied(self) -> None:
        policy = self.e.policy
        name = policy.get("name") if policy else None
        self.tx.update_row(self.t["feed_slas"], {"id": self.id}, {"policy": name})

    def _itemsla_changed(self) -> None:
        sla = self.tx.one(
            f"SELECT item_id, policy, breached FROM {self.t['feed_slas']} WHERE id = ?",
            (self.id,),
        )
        if sla is None:
            return
        seen = set(loads(sla["breached"]))
        rounds = [*((m, r) for m, r in self.e.metrics.items())]
        rounds += [(r["metric"], r) for r in self.e.__dict__.get("earlier") or ()]
        new = sorted(
            {
                f"{metric}@{r['started_at']}"
                for metric, r in rounds
                if r.get("state") == SlaState.BREACHED.value
            }
            - seen
        )
        if not new:
            return
        self.tx.update_row(
            self.t["feed_slas"], {"id": self.id}, {"breached": dumps(sorted(seen | set(new)))}
        )
        item = self.item(sla["item_id"])
        if item is not None:
            metrics = sorted({key.partition("@")[0] for key in new})
            data = {"item": item, "metrics": metrics, "policy": sla["policy"]}
            self.publish("sla.breached", data, item=item)
