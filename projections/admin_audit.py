"""Admin audit view: reads the events of what admins configure — the company's switches,
widgets, webhooks, mail settings, templates and mailboxes, item types and forms, statuses,
automation rules, SLA policies, and staff users' roles, apps, flags, invitations and
(de)activation; shows one `admin_audit` row per event: when, who, which setting (the
aggregate and its id), what changed. Secrets never reach it: a field named for a password,
secret, token or hash is shown as `[redacted]`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.company_settings import CompanySettings
from domain.intake.forms import WebForms
from domain.intake.item_types import ItemTypes
from domain.mail.mailbox import Mailbox
from domain.mail.settings import MailSettings
from domain.mail.templates import MailTemplate
from domain.sla.policies import SlaPolicies
from domain.user import User
from domain.webhooks.subscriptions import Webhook
from domain.widgets import Widgets
from domain.workflow.automations import Automations
from domain.workflow.statuses import Statuses
from projections.base import (
    Positioned,
    Projection,
    Tables,
    dumps,
    event_fields,
    iso,
    loads,
    topic_name,
    topics_of,
)
from projections.db import Tx

CONFIGURED = (
    CompanySettings,
    Widgets,
    Webhook,
    MailSettings,
    MailTemplate,
    Mailbox,
    ItemTypes,
    WebForms,
    Statuses,
    Automations,
    SlaPolicies,
)
USER_EVENTS = (
    "Registered",
    "InvitationIssued",
    "RoleChanged",
    "AppsChanged",
    "FlagsChanged",
    "Deactivated",
    "Reactivated",
)
READS = frozenset(
    topic
    for kind in CONFIGURED
    for topic in topics_of(kind)
    if not topic.endswith(".Created")  # Declared, never recorded.
) | frozenset(f"{User.TOPIC}.{name}" for name in USER_EVENTS)
SECRET_WORDS = ("password", "secret", "token", "hash")


def redacted(value: Any) -> Any:
    """`value` with every field named for a secret replaced (at any depth)."""
    if isinstance(value, dict):
        return {
            k: "[redacted]" if any(w in str(k).lower() for w in SECRET_WORDS) else redacted(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


class AdminAuditProjection(Projection):
    name = "admin_audit"
    tables = ("admin_audit",)
    topics = READS
    indexes_after_build = True  # (apply only inserts)

    def create(self, tx: Tx, t: Tables) -> None:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['admin_audit']} (position BIGINT PRIMARY KEY,"
            " type TEXT NOT NULL, subject_id TEXT NOT NULL, occurred_at TEXT NOT NULL,"
            " actor TEXT NOT NULL, correlation_id TEXT NOT NULL, changes TEXT NOT NULL)"
        )

    def key_columns(self, base: str) -> str:
        return "position"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        tx.executemany(
            f"INSERT INTO {t['admin_audit']} (position, type, subject_id, occurred_at, actor,"
            " correlation_id, changes) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    p.position,
                    topic_name(p.event),
                    str(p.event.originator_id),
                    iso(p.event.timestamp),
                    p.event.actor,
                    p.event.correlation_id,
                    dumps(redacted(event_fields(p.event))),
                )
                for p in events
            ],
        )


def audit_page(
    tx: Tx, t: Tables, before: int | None, types: Sequence[str], limit: int
) -> list[dict[str, Any]]:
    """Admin changes, newest first, before position `before` (None: from the newest), of
    the aggregates `types` names (`CompanySettings`, `Webhook`, ...; empty: all)."""
    where, params = ["1 = 1"], list[Any]()
    if before is not None:
        where.append("position < ?")
        params.append(before)
    if types:
        where.append(f"({' OR '.join('type LIKE ?' for _ in types)})")
        params += [f"{kind}.%" for kind in types]
    rows = tx.all(
        f"SELECT position, type, subject_id, occurred_at, actor, correlation_id, changes"
        f" FROM {t['admin_audit']} WHERE {' AND '.join(where)}"
        f" ORDER BY position DESC LIMIT {int(limit)}",
        tuple(params),
    )
    for row in rows:
        row["changes"] = loads(row["changes"])
    return rows


AUDITED = tuple(kind.__name__ for kind in (*CONFIGURED, User))
