"""Chats view: reads the `Chat` events; shows one `chats` row per chat (customer, state,
team, item, when it opened and last had a message, how many it has) and one
`chat_agents` row per agent in it, for staff's lists: the waiting queue, my chats, the open
ones and the closed ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.chat.chats import Chat
from domain.values import utc_text
from projections.base import Positioned, Projection, Tables, topic_name
from projections.db import Tx

READS = tuple(
    f"{Chat.TOPIC}.{name}"
    for name in (
        "Opened",
        "MessagePosted",
        "AgentJoined",
        "AgentLeft",
        "Transferred",
        "Closed",
        "ItemAttached",
    )
)
STATES = ("waiting", "mine", "open", "closed")


class ChatsProjection(Projection):
    name = "chats"
    tables = ("chats", "chat_agents")
    topics = frozenset(READS)

    def create(self, tx: Tx, t: Tables) -> None:
        chats = t["chats"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {chats} ("
            " id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,"
            " anonymous INTEGER NOT NULL, state TEXT NOT NULL, team_id TEXT,"
            " item_kind TEXT, item_number BIGINT, opened_at TEXT NOT NULL,"
            " last_message_at TEXT, messages INTEGER NOT NULL DEFAULT 0)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {chats}_state ON {chats} (state, opened_at)")
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['chat_agents']} ("
            " chat_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (chat_id, user_id))"
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {t['chat_agents']}_user"
            f" ON {t['chat_agents']} (user_id, chat_id)"
        )

    def key_columns(self, base: str) -> str:
        return "id" if base == "chats" else "chat_id, user_id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        chats, agents = t["chats"], t["chat_agents"]
        for p in events:
            e, name = p.event, topic_name(p.event)
            key = {"id": str(e.originator_id)}
            chat_id = str(e.originator_id)
            if name == "Chat.Opened":
                tx.insert_row(
                    chats,
                    {
                        **key, "name": e.name, "email": e.email,
                        "anonymous": int(e.contact_id is None), "state": "waiting",
                        "team_id": None, "item_kind": None, "item_number": None,
                        "opened_at": utc_text(e.timestamp), "last_message_at": None,
                        "messages": 0,
                    },
                )  # fmt: skip
            elif name == "Chat.MessagePosted":
                tx.execute(
                    f"UPDATE {chats} SET messages = messages + 1, last_message_at = ? WHERE id = ?",
                    (utc_text(e.timestamp), chat_id),
                )
            elif name == "Chat.AgentJoined":
                tx.execute(
                    f"INSERT INTO {agents} (chat_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (chat_id, e.user_id),
                )
                _state(tx, chats, agents, chat_id)
            elif name == "Chat.AgentLeft":
                tx.execute(
                    f"DELETE FROM {agents} WHERE chat_id = ? AND user_id = ?", (chat_id, e.user_id)
                )
                _state(tx, chats, agents, chat_id)
            elif name == "Chat.Transferred":
                tx.execute(f"DELETE FROM {agents} WHERE chat_id = ?", (chat_id,))
                if e.user_id is not None:
                    tx.execute(
                        f"INSERT INTO {agents} (chat_id, user_id) VALUES (?, ?)",
                        (chat_id, e.user_id),
                    )
                if e.team_id is not None:
                    tx.execute(f"UPDATE {chats} SET team_id = ? WHERE id = ?", (e.team_id, chat_id))
                _state(tx, chats, agents, chat_id)
            elif name == "Chat.Closed":
                tx.execute(f"UPDATE {chats} SET state = 'closed' WHERE id = ?", (chat_id,))
            elif name == "Chat.ItemAttached":
                tx.execute(
                    f"UPDATE {chats} SET item_kind = ?, item_number = ? WHERE id = ?",
                    (e.kind, e.number, chat_id),
                )


def _state(tx: Tx, chats: str, agents: str, chat_id: str) -> None:
    """Waiting without an agent, open with one (a closed chat stays closed)."""
    tx.execute(
        f"UPDATE {chats} SET state = CASE WHEN EXISTS"
        f" (SELECT 1 FROM {agents} a WHERE a.chat_id = {chats}.id) THEN 'open' ELSE 'waiting'"
        " END WHERE id = ? AND state <> 'closed'",
        (chat_id,),
    )


def list_chats(
    tx: Tx, t: Tables, state: str, user_id: str, limit: int = 100
) -> list[dict[str, Any]]:
    """Chats in `state` (`waiting`: the queue, oldest first; `mine`: those `user_id` is an
    agent in and not closed; `open`, `closed`: the latest activity first), each with its
    agents."""
    chats, agents = t["chats"], t["chat_agents"]
    if state == "mine":
        where = (
            f"c.state <> 'closed' AND EXISTS (SELECT 1 FROM {agents} a"
            " WHERE a.chat_id = c.id AND a.user_id = ?)"
        )
        params: tuple[Any, ...] = (user_id,)
    else:
        where, params = "c.state = ?", (state,)
    order = (
        "c.opened_at, c.id"
        if state == "waiting"
        else "COALESCE(c.last_message_at, c.opened_at) DESC, c.id"
    )
    rows = tx.all(
        f"SELECT c.* FROM {chats} c WHERE {where} ORDER BY {order} LIMIT ?", (*params, limit)
    )
    ids = [r["id"] for r in rows]
    found: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        marks = ",".join("?" * len(ids))
        for row in tx.all(
            f"SELECT chat_id, user_id FROM {agents} WHERE chat_id IN ({marks}) ORDER BY user_id",
            tuple(ids),
        ):
            found[row["chat_id"]].append(row["user_id"])
    return [
        {
            "id": r["id"], "name": r["name"], "email": r["email"],
            "anonymous": bool(r["anonymous"]), "state": r["state"], "team_id": r["team_id"],
            "agents": found[r["id"]],
            "item": {"kind": r["item_kind"], "number": r["item_number"]}
            if r["item_number"] is not None else None,
            "opened_at": r["opened_at"], "last_message_at": r["last_message_at"],
            "messages": r["messages"],
        }
        for r in rows
    ]  # fmt: skip
