"""Automation rules in the views: the outbox policy that asks the workflow worker to run the
rules on each committed item event that a trigger may fire on, and the `automation_clock`
view, which keeps when each item last did what time-based triggers count from (created,
status changed, customer replied, staff replied, any change) and which time-based runs have
acted, so the worker's tick asks it which items' time has come instead of reading every
item's history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.task import Task
from domain.ticket import Ticket
from domain.values import utc_text
from domain.workflow.rules import EVERY_TICKET_TYPE
from domain.workflow.runs import AutomationRun
from domain.workflow.triggers import CHANGES, CLOCK_MARKS, automatic_messages, clock_marks
from projections.base import Positioned, Projection, Tables, topic_name
from projections.db import Tx
from projections.policy import Policy, Send

ITEM_TOPICS = frozenset(
    {
        f"{Ticket.TOPIC}.Opened",
        f"{Task.TOPIC}.Planned",
        *(
            f"{Ticket.TOPIC}.{name}"
            for name in (
                *CHANGES,
                "StatusChanged",
                "CustomerReplyPosted",
                "InternalMessagePosted",
            )
        ),
    }
)
COLUMNS = {mark: f"{mark}_at" for mark in CLOCK_MARKS}


def item_event(event: Any) -> list[Send]:
    """Any of these may fire a rule: the worker judges which, from the write model."""
    return [
        Send(
            "workflow.run_rules",
            {"item_id": str(event.originator_id), "version": event.originator_version},
        )
    ]


AUTOMATION_POLICIES = (Policy("workflow.automations", ITEM_TOPICS, item_event),)


class AutomationClockProjection(Projection):
    name = "automation_clock"
    tables = ("automation_clock", "automation_done")
    topics = frozenset(
        {
            *ITEM_TOPICS,
            f"{Ticket.TOPIC}.ConvertedToTask",
            f"{Ticket.TOPIC}.MailReceived",
            f"{AutomationRun.TOPIC}.Ran",
            f"{AutomationRun.TOPIC}.LoopStopped",
        }
    )

    def create(self, tx: Tx, t: Tables) -> None:
        clock = t["automation_clock"]
        marks = ", ".join(f"{c} TEXT" for c in COLUMNS.values())
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {clock} ("
            f" item_id TEXT PRIMARY KEY, number BIGINT NOT NULL, item_type TEXT NOT NULL,"
            " status TEXT, state TEXT,"
            f" {marks})"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {clock}_number ON {clock} (item_type, number)")
        for column in ("created_at", "status_changed_at"):
            tx.execute(
                f"CREATE INDEX IF NOT EXISTS {clock}_{column} ON {clock} (item_type, {column})"
            )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['automation_done']} ("
            " rule_id TEXT NOT NULL, item_id TEXT NOT NULL, start TEXT NOT NULL,"
            " PRIMARY KEY (rule_id, item_id, start))"
        )

    def key_columns(self, base: str) -> str:
        return "item_id" if base == "automation_clock" else "rule_id, item_id, start"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        # Rows by key (merged into few bulk statements while a generation is built).
        clock = t["automation_clock"]
        # A reply that came by mail a program sent (its `MailReceived` follows it in the same
        # write) is no reply to time-based triggers.
        automatic = automatic_messages([p.event for p in events])
        for p in events:
            e, name = p.event, topic_name(p.event)
            if name in ("AutomationRun.Ran", "AutomationRun.LoopStopped"):
                judged = [*e.rules, *e.skipped] if name == "AutomationRun.Ran" else e.rules[-1:]
                start = getattr(e, "start", None)
                if start is not None:
                    tx.executemany(
                        f"INSERT INTO {t['automation_done']} (rule_id, item_id, start)"
                        " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                        [(rule, e.item_id, start) for rule in judged],
                    )
                continue
            if name == "Ticket.MailReceived":
                continue
            key = {"item_id": str(e.originator_id)}
            if name == "Ticket.ConvertedToTask":
                tx.delete_row(clock, key)
                continue
            at = utc_text(e.timestamp)
            # An import writes history: its events start no clock (a rule counts from
            # what happens here after it).
            imported = str(getattr(e, "actor", "")).startswith("import:")
            stamped = [] if imported else clock_marks(e, automatic)
            if name in ("Ticket.Opened", "Task.Planned"):
                kind = "task" if name == "Task.Planned" else getattr(e, "item_type", "ticket")
                row = {**key, "number": e.number, "item_type": kind}
                row |= {"status": e.status, "state": e.state}
                row |= {column: None for column in COLUMNS.values()}
                row |= {COLUMNS[m]: at for m in stamped}
                tx.insert_row(clock, row, key=("item_id",))
                continue
            values = {COLUMNS[m]: at for m in stamped}
            if name == "Ticket.StatusChanged":  # (a moved status too: its name is new)
                values |= {"status": e.status, "state": e.state}
            if values:
                tx.update_row(clock, key, values)


def due_items(
    tx: Tx, t: Tables, rule: dict[str, Any], cutoff: str, not_before: str = "", limit: int = 1000
) -> list[str]:
    """The ids of the items of `rule`'s type whose clock for the time-based rule started
    at or before `cutoff` (its hours ago) and not before the rule took effect, where what
    `without` names has not happened since, and which the rule has not judged for that
    start; those whose status or state the rule's conditions (all of them) rule out are
    left out here already (so a condition on a status must name its current names: the
    worker adds them, `RuleRunner.as_named_now`)."""
    trigger = rule["trigger"]
    since = COLUMNS[trigger["since"]]
    where = [_of_type(rule["item_type"]), f"c.{since} IS NOT NULL", f"c.{since} <= ?"]
    where += [f"c.{since} >= ?", f"c.{since} > ?"]
    values: list[Any] = [rule["item_type"], cutoff, rule["since"], not_before]
    if trigger.get("without") is not None:
        without = COLUMNS[trigger["without"]]
        where.append(f"NOT (c.{without} IS NOT NULL AND c.{without} > c.{since})")
    if rule["conditions"]["match"] == "all":
        for condition in rule["conditions"]["rules"]:
            if condition["field"] in ("status", "state") and condition["operator"] in LISTED:
                wanted = condition["value"]
                if condition["operator"] == "is":
                    wanted = [wanted]
                if not all(str(w).isascii() for w in wanted):
                    continue  # (SQLite's LOWER knows ASCII only: judged by the worker.)
                marks = ", ".join("?" for _ in wanted)
                where.append(f"LOWER(c.{condition['field']}) IN ({marks})")
                values += [str(w).lower() for w in wanted]
    rows = tx.all(
        f"SELECT c.item_id FROM {t['automation_clock']} c WHERE {' AND '.join(where)}"
        f" AND NOT EXISTS (SELECT 1 FROM {t['automation_done']} d"
        f" WHERE d.rule_id = ? AND d.item_id = c.item_id AND d.start = c.{since})"
        f" ORDER BY c.{since} LIMIT ?",
        (*values, rule["id"], limit),
    )
    return [row["item_id"] for row in rows]


def rules_began(tx: Tx) -> int:
    """The log position after which rules run on this install (the automation policy was
    installed there; 0: from the start)."""
    row = tx.one("SELECT since FROM outbox_policies WHERE policy = ?", ("workflow.automations",))
    return int(row["since"]) if row else 0


def candidates(tx: Tx, t: Tables, item_type: str, limit: int) -> list[int]:
    """The numbers of `item_type`'s items (but converted tickets), the most recent first."""
    rows = tx.all(
        f"SELECT number FROM {t['automation_clock']} c WHERE {_of_type(item_type)}"
        " ORDER BY number DESC LIMIT ?",
        (item_type, limit),
    )
    return [int(row["number"]) for row in rows]


def _of_type(item_type: str) -> str:
    """The SQL that picks the items a rule of `item_type` runs on (its one parameter: the
    type); a rule for every ticket type, every item but tasks."""
    if item_type == EVERY_TICKET_TYPE:
        return "(c.item_type <> 'task' OR c.item_type = ?)"
    return "c.item_type = ?"


# Conditions the clock's SQL can apply (a value, or a list of values, the field must be).
LISTED = ("is", "in")
