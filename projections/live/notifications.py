"""The `live` view's notifications: which staff member is told of which event (the kinds and
rules are `domain.notifications`'), and what the view keeps to decide it — staff (handle,
role, apps), items (number, title, project, assignees and followers), project managers,
inboxes (preferences) — and what they read.

Each notification is a `notifications` row and a `notification` row of the user's stream,
with one id (`<position>.<seq>`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import orjson

from domain.notifications import mention_handle, message_news, preferences
from projections.base import Tables
from projections.db import Tx
from projections.policy import Policy, Send

if TYPE_CHECKING:
    from projections.live.view import _Rows

TABLES = (
    "notifications",
    "notify_staff",
    "notify_items",
    "notify_people",
    "notify_managers",
    "notify_inboxes",
)
EXCERPT = 140
STAFF_APPS = ("tickets", "both")  # who takes chats (see `domain.user.User.takes_chats`)
NO_CHATS = "no_chats"


def create(tx: Tx, t: Tables) -> None:
    n = t["notifications"]
    tx.execute(
        f"CREATE TABLE IF NOT EXISTS {n} ("
        " position BIGINT NOT NULL, seq INTEGER NOT NULL, user_id TEXT NOT NULL,"
        " kind TEXT NOT NULL, project_id TEXT, item_kind TEXT, item_number BIGINT,"
        " chat_id TEXT, event_id TEXT NOT NULL, payload TEXT NOT NULL, at TEXT NOT NULL,"
        " read INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (position, seq))"
    )
    tx.execute(f"CREATE INDEX IF NOT EXISTS {n}_user ON {n} (user_id, position, seq)")
    tx.execute(f"CREATE INDEX IF NOT EXISTS {n}_event ON {n} (event_id)")
    tx.execute(
        f"CREATE TABLE IF NOT EXISTS {t['notify_staff']} (id TEXT PRIMARY KEY,"
        " handle TEXT NOT NULL, role TEXT NOT NULL, apps TEXT NOT NULL, active INTEGER NOT NULL,"
        " chats INTEGER NOT NULL)"
    )
    tx.execute(
        f"CREATE TABLE IF NOT EXISTS {t['notify_items']} (id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
        " number BIGINT NOT NULL, title TEXT NOT NULL, project_id TEXT NOT NULL)"
    )
    tx.execute(
        f"CREATE TABLE IF NOT EXISTS {t['notify_people']} (item_id TEXT NOT NULL,"
        " user_id TEXT NOT NULL, how TEXT NOT NULL, PRIMARY KEY (item_id, user_id, how))"
    )
    tx.execute(
        f"CREATE TABLE IF NOT EXISTS {t['notify_managers']} (project_id TEXT NOT NULL,"
        " user_id TEXT NOT NULL, PRIMARY KEY (project_id, user_id))"
    )
    tx.execute(
        f"CREATE TABLE IF NOT EXISTS {t['notify_inboxes']} (id TEXT PRIMARY KEY,"
        " user_id TEXT NOT NULL, preferences TEXT NOT NULL)"
    )


KEYS = {
    "notifications": "position, seq",
    "notify_staff": "id",
    "notify_items": "id",
    "notify_people": "item_id, user_id, how",
    "notify_managers": "project_id, user_id",
    "notify_inboxes": "id",
}


class Notifier:
    """The notifications one event makes, through the event's `_Rows` (which numbers them)."""

    def __init__(self, rows: _Rows) -> None:
        self.rows = rows
        self.tx: Tx = rows.tx
        self.t: Tables = rows.t
        self.e: Any = rows.e
        self.id = str(self.e.originator_id)

    # --- who -------------------------------------------------------------------------

    def tell(self, users: Iterable[str], kind: str, payload: dict[str, Any], **where: Any) -> None:
        """Notify `users` (not the one who acted; only those who want it in the app). An
        item import writes history: it tells nobody."""
        actor = str(getattr(self.e, "actor", ""))
        if actor.startswith("import:"):
            return
        candidates = sorted(u for u in set(users) if f"user:{u}" != actor)
        chosen = self._preferences(candidates)
        for user_id in candidates:
            if preferences(chosen.get(user_id))[kind]["in_app"]:
                self.rows.notification(user_id, kind, payload, where)

    def _preferences(self, users: list[str]) -> dict[str, Any]:
        """What `users` chose (one read for all of them: a chat waiting tells all staff)."""
        if not users:
            return {}
        marks = ",".join("?" * len(users))
        rows = self.tx.all(
            f"SELECT user_id, preferences FROM {self.t['notify_inboxes']}"
            f" WHERE user_id IN ({marks})",
            tuple(users),
        )
        return {r["user_id"]: orjson.loads(r["preferences"]) for r in rows}

    def _staff(self, where: str, params: tuple[Any, ...] = ()) -> list[str]:
        rows = self.tx.all(
            f"SELECT id FROM {self.t['notify_staff']} WHERE active = 1 AND {where} ORDER BY id",
            params,
        )
        return [r["id"] for r in rows]

    def _people(self, item_id: str) -> list[str]:
        rows = self.tx.all(
            f"SELECT DISTINCT p.user_id FROM {self.t['notify_people']} p"
            f" JOIN {self.t['notify_staff']} s ON s.id = p.user_id AND s.active = 1"
            " WHERE p.item_id = ? ORDER BY p.user_id",
            (item_id,),
        )
        return [r["user_id"] for r in rows]

    def _item(self) -> dict[str, Any] | None:
        return self.tx.one(f"SELECT * FROM {self.t['notify_items']} WHERE id = ?", (self.id,))

    # --- staff -----------------------------------------------------------------------

    def registered(self) -> None:
        e = self.e
        self.tx.insert_row(
            self.t["notify_staff"],
            {"id": self.id, "handle": mention_handle(e.email), "role": e.role, "apps": e.apps,
             "active": 1, "chats": int(NO_CHATS not in e.flags)},
        )  # fmt: skip

    def staff_changed(self, values: dict[str, Any]) -> None:
        self.tx.update_row(self.t["notify_staff"], {"id": self.id}, values)

    # --- items -----------------------------------------------------------------------

    def item_created(self, kind: str) -> None:
        e = self.e
        self.tx.insert_row(
            self.t["notify_items"],
            {"id": self.id, "kind": kind, "number": e.number, "title": e.title,
             "project_id": e.project_id},
        )  # fmt: skip
        carried = getattr(e, "carried", None) or {}
        for how, key in (("assignee", "assignees"), ("follower", "followers")):
            for user_id in carried.get(key, []):
                self.person(user_id, how, True)

    def item_changed(self, values: dict[str, Any]) -> None:
        if self._item() is not None:
            self.tx.update_row(self.t["notify_items"], {"id": self.id}, values)

    def person(self, user_id: str, how: str, present: bool) -> None:
        key = {"item_id": self.id, "user_id": user_id, "how": how}
        table = self.t["notify_people"]
        self.tx.execute(
            f"DELETE FROM {table} WHERE item_id = ? AND user_id = ? AND how = ?",
            tuple(key.values()),
        )
        if present:
            self.tx.insert_row(table, key, ("item_id", "user_id", "how"))

    def assigned(self) -> None:
        self.person(self.e.user_id, "assignee", True)
        item = self._item()
        if item is not None:
            self.tell([self.e.user_id], "assigned", _about(item), **_where(item))

    def message(self, customer_visible: bool) -> None:
        """A message on an item: customers' replies to its people; mentions to those named."""
        item = self._item()
        if item is None:
            return
        e = self.e
        about = {**_about(item), "excerpt": " ".join(e.body.split())[:EXCERPT]}
        replied, named_handles = message_news(str(e.actor), e.body, customer_visible)
        if replied:
            self.tell(self._people(self.id), "customer_replied", about, **_where(item))
        handles = sorted(named_handles)
        if handles:
            marks = ",".join("?" * len(handles))
            named = self._staff(f"handle IN ({marks})", tuple(handles))
            self.tell(named, "mentioned", about, **_where(item))

    # --- projects --------------------------------------------------------------------

    def member(self, user_id: str, role: str | None) -> None:
        table = self.t["notify_managers"]
        project = str(self.e.originator_id)
        self.tx.execute(
            f"DELETE FROM {table} WHERE project_id = ? AND user_id = ?", (project, user_id)
        )
        if role == "manager":
            self.tx.insert_row(
                table, {"project_id": project, "user_id": user_id}, ("project_id", "user_id")
            )

    def join_requested(self) -> None:
        project = self.id
        managers = [
            r["user_id"]
            for r in self.tx.all(
                f"SELECT m.user_id FROM {self.t['notify_managers']} m"
                f" JOIN {self.t['notify_staff']} s ON s.id = m.user_id AND s.active = 1"
                " WHERE m.project_id = ? ORDER BY m.user_id",
                (project,),
            )
        ]
        admins = self._staff("role = 'admin'")
        payload = {"project_id": project, "user_id": self.e.user_id, "message": self.e.message}
        self.tell([*managers, *admins], "join_request", payload, project_id=project)

    # --- integrations ----------------------------------------------------------------

    def webhook_disabled(self) -> None:
        """Tell a subscription's owner that its deliveries stopped, and why."""
        e = self.e
        owner = e.owner
        if owner.startswith("system:"):  # Subscribed from the command line: nobody to tell.
            return
        payload = {
            "webhook_id": self.id, "kind_of_hook": e.kind, "url": e.url, "reason": e.reason,
        }  # fmt: skip
        self.tell([owner], "webhook_disabled", payload)

    def report_failed(self) -> None:
        """Tell a report schedule's owner that a run was not sent (given up making it, or
        a mail that could not be delivered), and why."""
        e = self.e
        if getattr(e, "retry_at", None):  # Tried again later: nothing to tell yet.
            return
        payload = {
            "schedule_id": self.id,
            "period": e.period,
            "recipient": getattr(e, "recipient", None),
            "error": e.error,
        }
        self.tell([e.owner], "report_failed", payload)

    # --- chats -----------------------------------------------------------------------

    def chat_waiting(self, chat_id: str, name: str) -> None:
        marks = ",".join("?" * len(STAFF_APPS))
        staff = self._staff(f"chats = 1 AND apps IN ({marks})", STAFF_APPS)
        self.tell(staff, "chat_waiting", {"chat_id": chat_id, "name": name}, chat_id=chat_id)

    # --- inboxes ---------------------------------------------------------------------

    def inbox_opened(self) -> None:
        self.tx.insert_row(
            self.t["notify_inboxes"],
            {"id": self.id, "user_id": self.e.user_id, "preferences": "{}"},
        )

    def preferred(self) -> None:
        prefs = orjson.dumps(self.e.preferences).decode()
        self.tx.update_row(self.t["notify_inboxes"], {"id": self.id}, {"preferences": prefs})

    def read(self) -> None:
        row = self.tx.one(
            f"SELECT user_id FROM {self.t['notify_inboxes']} WHERE id = ?", (self.id,)
        )
        if row is None:
            return
        table, e = self.t["notifications"], self.e
        conditions, params = [], []
        for ident in e.ids:
            position, _, seq = ident.partition(".")
            conditions.append("(position = ? AND seq = ?)")
            params += [int(position), int(seq)]
        if e.up_to is not None:
            position, _, seq = e.up_to.partition(".")
            conditions.append("(position < ? OR (position = ? AND seq <= ?))")
            params += [int(position), int(position), int(seq)]
        if conditions:
            self.tx.execute(
                f"UPDATE {table} SET read = 1 WHERE user_id = ? AND read = 0"
                f" AND ({' OR '.join(conditions)})",
                (row["user_id"], *params),
            )


def _about(item: dict[str, Any]) -> dict[str, Any]:
    return {"item": {"kind": item["kind"], "number": item["number"], "title": item["title"]}}


def _where(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "project_id": item["project_id"],
        "item_kind": item["kind"],
        "item_number": item["number"],
    }


# Event name -> what the notifier does with it.
HANDLERS: dict[str, Callable[[Notifier], None]] = {
    "User.Registered": Notifier.registered,
    "User.RoleChanged": lambda n: n.staff_changed({"role": n.e.role}),
    "User.AppsChanged": lambda n: n.staff_changed({"apps": n.e.apps}),
    "User.FlagsChanged": lambda n: n.staff_changed({"chats": int(NO_CHATS not in n.e.flags)}),
    "User.Deactivated": lambda n: n.staff_changed({"active": 0}),
    "User.Reactivated": lambda n: n.staff_changed({"active": 1}),
    "Ticket.Opened": lambda n: n.item_created("ticket"),
    "Task.Planned": lambda n: n.item_created("task"),
    "Ticket.Retitled": lambda n: n.item_changed({"title": n.e.title}),
    "Ticket.Moved": lambda n: n.item_changed({"project_id": n.e.project_id}),
    "Ticket.UserAssigned": Notifier.assigned,
    "Ticket.UserUnassigned": lambda n: n.person(n.e.user_id, "assignee", False),
    "Ticket.FollowerAdded": lambda n: n.person(n.e.user_id, "follower", True),
    "Ticket.FollowerRemoved": lambda n: n.person(n.e.user_id, "follower", False),
    "Ticket.CustomerReplyPosted": lambda n: n.message(True),
    "Ticket.InternalMessagePosted": lambda n: n.message(False),
    "Project.Created": lambda n: n.member(n.e.manager_id, "manager") if n.e.manager_id else None,
    "Project.SharedWithUser": lambda n: n.member(n.e.user_id, n.e.role),
    "Project.JoinApproved": lambda n: n.member(n.e.user_id, n.e.role),
    "Project.UnsharedWithUser": lambda n: n.member(n.e.user_id, None),
    "Project.JoinRequested": Notifier.join_requested,
    "Webhook.Disabled": Notifier.webhook_disabled,
    "ReportSchedule.RunFailed": Notifier.report_failed,
    "ReportSchedule.DeliveryFailed": Notifier.report_failed,
    "ReportSchedule.Missed": Notifier.report_failed,
    "Inbox.Opened": Notifier.inbox_opened,
    "Inbox.PreferencesChanged": Notifier.preferred,
    "Inbox.Read": Notifier.read,
}
TOPICS = frozenset(f"ledgerdesk:{name}" for name in HANDLERS)


def event_id(event: Any) -> str:
    """The id of the event a notification came from (`<aggregate id>:<version>`)."""
    return f"{event.originator_id}:{event.originator_version}"


def push_now(event: Any) -> list[Send]:
    """An event that may notify someone: push what it made, once it is in the view."""
    return [Send("push.notify", {"event": event_id(event)})]


# The events that make notifications (the others only keep the state that decides them).
NOTIFYING = frozenset(
    f"ledgerdesk:{name}"
    for name in (
        "Ticket.UserAssigned",
        "Ticket.CustomerReplyPosted",
        "Ticket.InternalMessagePosted",
        "Project.JoinRequested",
        "Webhook.Disabled",
        "ReportSchedule.RunFailed",
        "ReportSchedule.DeliveryFailed",
        "ReportSchedule.Missed",
        "Chat.Opened",
        "Chat.AgentLeft",
        "Chat.Transferred",
    )
)


def mail_now(event: Any) -> list[Send]:
    """An event that may notify someone: mail what it made to those who want it mailed."""
    return [Send("mail.notify", {"event": event_id(event)})]


PUSH_POLICIES = (
    Policy("push.notify", NOTIFYING, push_now),
    Policy("mail.notify", NOTIFYING, mail_now),
)
