"""Live view: what the real-time streams send, as rows keyed by log position.

Each event a stream reader should see live becomes one `live_events` row per audience —
`chat:<id>` (the customer's side of one chat), `user:<id>` (one staff member: the chats
they are an agent in), `queue` (staff who take chats: the waiting queue and its messages)
— named like `chat.message`, with a JSON payload. A row's id is `<position>.<seq>` (the
log position of the event that caused it, and its place among that event's rows): a
stream resumes exactly after the last id it sent (`Last-Event-ID`), in any API process,
and a rebuild writes the same ids again.

The view keeps what deciding the audience needs: each chat's customer and agents.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from domain.chat.chats import shown_file
from domain.values import utc_text
from projections.base import Positioned, Projection, Tables, topic_name
from projections.chats import READS as CHAT_EVENTS
from projections.db import Tx
from projections.live import notifications

QUEUE = "queue"
# Every fact of a chat (the same events the `chats` view reads), and what notifications read.
READS = frozenset(CHAT_EVENTS) | notifications.TOPICS


def chat_audience(chat_id: str) -> str:
    return f"chat:{chat_id}"


def user_audience(user_id: str) -> str:
    return f"user:{user_id}"


class LiveProjection(Projection):
    name = "live"
    tables = ("live_events", "live_chats", "live_chat_agents", *notifications.TABLES)
    topics = READS

    def create(self, tx: Tx, t: Tables) -> None:
        events = t["live_events"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {events} ("
            " position BIGINT NOT NULL, seq INTEGER NOT NULL, audience TEXT NOT NULL,"
            " name TEXT NOT NULL, payload TEXT NOT NULL, at TEXT NOT NULL,"
            " PRIMARY KEY (position, seq))"
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {events}_audience ON {events} (audience, position, seq)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['live_chats']} ("
            " id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,"
            " anonymous INTEGER NOT NULL, team_id TEXT, opened_at TEXT NOT NULL,"
            " closed INTEGER NOT NULL DEFAULT 0)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['live_chat_agents']} ("
            " chat_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (chat_id, user_id))"
        )
        notifications.create(tx, t)

    def key_columns(self, base: str) -> str:
        keys = {"live_events": "position, seq", "live_chats": "id", **notifications.KEYS}
        return keys.get(base, "chat_id, user_id")

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        for p in events:
            _Rows(tx, t, p).apply()


class _Rows:
    """The rows one event adds, numbered in order."""

    def __init__(self, tx: Tx, t: Tables, p: Positioned) -> None:
        self.tx, self.t, self.p = tx, t, p
        self.e: Any = p.event
        self.chat_id = str(self.e.originator_id)
        self.seq = 0

    def send(self, audiences: Iterable[str], name: str, payload: dict[str, Any]) -> None:
        body = orjson.dumps(payload).decode()
        at = utc_text(self.e.timestamp)
        for audience in dict.fromkeys(audiences):
            self.tx.insert_row(
                self.t["live_events"],
                {
                    "position": self.p.position, "seq": self.seq, "audience": audience,
                    "name": name, "payload": body, "at": at,
                },
                key=("position", "seq"),
            )  # fmt: skip
            self.seq += 1

    def notification(
        self, user_id: str, kind: str, payload: dict[str, Any], where: dict[str, Any]
    ) -> None:
        """A notification for `user_id`: its row, and the same on their stream (one id)."""
        at = utc_text(self.e.timestamp)
        ident = f"{self.p.position}.{self.seq}"
        document = {
            "id": ident, "kind": kind, "read": False, "at": at,
            "project_id": where.get("project_id"), **payload,
        }  # fmt: skip
        body = orjson.dumps(document).decode()
        self.tx.insert_row(
            self.t["notifications"],
            {
                "position": self.p.position, "seq": self.seq, "user_id": user_id, "kind": kind,
                "project_id": where.get("project_id"), "item_kind": where.get("item_kind"),
                "item_number": where.get("item_number"), "chat_id": where.get("chat_id"),
                "event_id": notifications.event_id(self.e), "payload": body, "at": at, "read": 0,
            },
            key=("position", "seq"),
        )  # fmt: skip
        self.send([user_audience(user_id)], "notification", document)

    def agents(self) -> list[str]:
        rows = self.tx.all(
            f"SELECT user_id FROM {self.t['live_chat_agents']} WHERE chat_id = ? ORDER BY user_id",
            (self.chat_id,),
        )
        return [r["user_id"] for r in rows]

    def staff(self, agents: Iterable[str]) -> list[str]:
        """Who on the staff side sees the chat: its agents, or the queue while it waits."""
        found = [user_audience(a) for a in agents]
        return found or [QUEUE]

    def author(self, actor: str) -> dict[str, Any]:
        """Staff by id (readers see their name), the customer by the chat's name."""
        kind, _, ident = actor.partition(":")
        if kind == "user":
            return {"kind": "staff", "user_id": ident}
        chat = self.tx.one(
            f"SELECT name, email FROM {self.t['live_chats']} WHERE id = ?", (self.chat_id,)
        )
        return {"kind": "customer", "name": (chat["name"] or chat["email"]) if chat else ""}

    def waiting(self) -> None:
        """The chat (back) in the queue, as the queue lists it."""
        chat = self.tx.one(f"SELECT * FROM {self.t['live_chats']} WHERE id = ?", (self.chat_id,))
        if chat is None or chat["closed"]:
            return
        notifications.Notifier(self).chat_waiting(chat["id"], chat["name"])
        self.send(
            [QUEUE],
            "chat.waiting",
            {
                "chat": {
                    "id": chat["id"], "name": chat["name"], "email": chat["email"],
                    "anonymous": bool(chat["anonymous"]), "team_id": chat["team_id"],
                    "opened_at": chat["opened_at"],
                }
            },
        )  # fmt: skip

    def set_agents(self, agents: Sequence[str]) -> None:
        table = self.t["live_chat_agents"]
        self.tx.execute(f"DELETE FROM {table} WHERE chat_id = ?", (self.chat_id,))
        for user_id in agents:
            self.tx.insert_row(
                table, {"chat_id": self.chat_id, "user_id": user_id}, ("chat_id", "user_id")
            )

    def apply(self) -> None:
        e, name, chat = self.e, topic_name(self.e), chat_audience(self.chat_id)
        handler = notifications.HANDLERS.get(name)
        if handler is not None:
            handler(notifications.Notifier(self))
            return
        ref = {"chat_id": self.chat_id}
        if name == "Chat.Opened":
            self.tx.insert_row(
                self.t["live_chats"],
                {
                    "id": self.chat_id, "name": e.name, "email": e.email,
                    "anonymous": int(e.contact_id is None), "team_id": None,
                    "opened_at": utc_text(e.timestamp), "closed": int(e.offline),
                },
            )  # fmt: skip
            self.waiting()  # (an offline chat never waits: it is a ticket already)
        elif name == "Chat.MessagePosted":
            message = {
                "id": e.message_id, "body": e.body, "author": self.author(e.actor),
                "attachments": [shown_file(f) for f in e.attachments], "at": utc_text(e.timestamp),
            }  # fmt: skip
            self.send(
                [chat, *self.staff(self.agents())], "chat.message", {**ref, "message": message}
            )
        elif name == "Chat.AgentJoined":
            before = self.agents()
            self.set_agents([*before, e.user_id])
            if not before:
                self.send([QUEUE], "chat.claimed", {**ref, "user_id": e.user_id})
            who = [user_audience(a) for a in (*before, e.user_id)]
            self.send([chat, *who], "chat.agent_joined", {**ref, "user_id": e.user_id})
        elif name == "Chat.AgentLeft":
            left = [a for a in self.agents() if a != e.user_id]
            self.set_agents(left)
            who = [user_audience(a) for a in (*left, e.user_id)]
            self.send([chat, *who], "chat.agent_left", {**ref, "user_id": e.user_id})
            if not left:
                self.waiting()
        elif name == "Chat.Transferred":
            before = self.agents()
            after = [e.user_id] if e.user_id is not None else []
            self.set_agents(after)
            if e.team_id is not None:
                self.tx.update_row(
                    self.t["live_chats"], {"id": self.chat_id}, {"team_id": e.team_id}
                )
            who = [user_audience(a) for a in (*before, *after)]
            payload = {**ref, "user_id": e.user_id, "team_id": e.team_id}
            self.send([chat, *who], "chat.transferred", payload)
            if not after:
                self.waiting()
            elif not before:
                self.send([QUEUE], "chat.claimed", {**ref, "user_id": e.user_id})
        elif name == "Chat.Closed":
            agents = self.agents()
            self.tx.update_row(self.t["live_chats"], {"id": self.chat_id}, {"closed": 1})
            self.send([chat, *self.staff(agents)], "chat.closed", ref)
        elif name == "Chat.ItemAttached":
            item = {"kind": e.kind, "number": e.number, "how": e.how}
            self.send([chat, *self.staff(self.agents())], "chat.item", {**ref, "item": item})
