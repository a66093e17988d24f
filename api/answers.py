"""Write answers at constant cost (ADR 0004, revised).

A write answers with the item as that write left it: the same document `GET` shows, folded
with the views' own `evolve` functions. Folding the item's whole stream for every answer
made a write to a long-lived ticket cost in proportion to its history. Instead, what a fold
reached is remembered — per process, per aggregate, at the version it reached — and the next
answer folds on from there over only the events written since (one indexed read of the
aggregate's events after that version, usually just the write's own).

Where nothing is remembered (the first write after a start, or an item this process has not
answered for), the item's document is taken from the `ticket_detail` view's row when that row
is at or before the version asked for and was written by this code's schema, and folded on
from there: the view is a snapshot of the same fold. Otherwise the whole stream is folded, as
before.

A remembered state is never shared: it is stored frozen (JSON bytes, or a copy) and thawed
for each answer, so an answer is never changed by a later one. The memory is bounded by a
byte budget and forgets the least recently used first; a process that forgets only loses
speed, never correctness, since every answer folds forward from a state at or before the
version it shows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar
from uuid import UUID

import orjson

from commands.models import CommandResult
from commands.service import CommandService
from domain.item_numbers import item_id
from projections.base import Tables, topic_name
from projections.db import ViewDatabase
from projections.portal import customer_document
from projections.status_board import READS as CARD_TOPICS
from projections.status_board import BoardCard, Cards
from projections.status_board import evolve as evolve_cards
from projections.ticket_detail import TicketDetailProjection, fold, fold_on

S = TypeVar("S")
F = TypeVar("F")
Doc = dict[str, Any]

# Per process, for each kind of answer. A ticket's document is a few KiB; a long
# conversation's can be a few MiB: the budget is in bytes, not in entries.
DEFAULT_BUDGET_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Remembered(Generic[F]):
    version: int
    frozen: F
    weight: int


class FoldMemory(Generic[S, F]):
    """The states folds reached, by aggregate and version: least recently used forgotten
    first once their weights pass `budget`. Thread-safe; states are stored frozen."""

    def __init__(
        self,
        freeze: Callable[[S], F],
        thaw: Callable[[F], S],
        weigh: Callable[[F], int],
        budget: int = DEFAULT_BUDGET_BYTES,
    ) -> None:
        self._freeze = freeze
        self._thaw = thaw
        self._weigh = weigh
        self.budget = budget
        self._entries: OrderedDict[UUID, Remembered[F]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def recall(self, key: UUID, version: int) -> tuple[int, S] | None:
        """A fresh copy of the state remembered for `key`, and its version, if it is at or
        before `version` (a later one cannot be folded back)."""
        with self._lock:
            found = self._entries.get(key)
            if found is None or found.version > version:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
        return found.version, self._thaw(found.frozen)

    def remember(self, key: UUID, version: int, state: S) -> None:
        """Keep `state` (as it is now) as `key`'s at `version`, unless a later one is kept."""
        frozen = self._freeze(state)
        weight = self._weigh(frozen)
        if weight > self.budget:
            return
        with self._lock:
            old = self._entries.get(key)
            if old is not None:
                if old.version >= version:
                    return
                self._weight -= old.weight
            self._entries[key] = Remembered(version, frozen, weight)
            self._entries.move_to_end(key)
            self._weight += weight
            while self._weight > self.budget:
                _, dropped = self._entries.popitem(last=False)
                self._weight -= dropped.weight

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._weight = 0

    def __len__(self) -> int:
        return len(self._entries)


def _doc_memory(budget: int) -> FoldMemory[Doc, bytes]:
    return FoldMemory(orjson.dumps, orjson.loads, len, budget)


def _copy_cards(cards: Cards) -> Cards:
    return {k: replace(c, assignees=list(c.assignees)) if c else None for k, c in cards.items()}


class Answers:
    """What a write answers with, folded on from what was last folded (see the module)."""

    # An item of this many events or fewer is folded whole when nothing is remembered: one
    # read of its stream costs less than looking up its view row and then its later events.
    whole_up_to = 32

    def __init__(
        self,
        commands: CommandService,
        views: ViewDatabase,
        budget: int = DEFAULT_BUDGET_BYTES,
    ) -> None:
        self.commands = commands
        self.views = views
        self.items = _doc_memory(budget)
        self.customer = _doc_memory(budget // 4)
        self.cards: FoldMemory[Cards, Cards] = FoldMemory(
            _copy_cards, _copy_cards, lambda cards: 256 * max(1, len(cards)), budget // 16
        )
        self.seeded = 0

    def forget(self) -> None:
        """Forget every state remembered: the next answers start from the view or the log."""
        for memory in (self.items, self.customer, self.cards):
            memory.clear()

    def item(self, number: int, version: int) -> Doc:
        """The ticket or task `number` as its events say at `version` (the shape of
        `GET /tickets/{n}`), even if another write followed."""
        own = item_id(number)
        start = self.items.recall(own, version)
        if start is None and version > self.whole_up_to:
            start = self._from_view(number, version)
        if start is None:
            events = self.commands.stream(own, version=version)
            if not events or getattr(events[0], "converted_from", None) is not None:
                # A task converted from a ticket begins with the ticket's events.
                events = self.commands.item_events_at(number, version)
            doc = fold(events)
            assert doc is not None
        else:
            doc = fold_on(start[1], self._since(own, start[0], version))
        self.items.remember(own, version, doc)
        return doc

    def customer_ticket(self, result: CommandResult) -> Doc:
        """The ticket as its customer sees it right after `result`; a ticket converted into
        a task goes on as the task, which `result` then names."""
        assert result.number is not None
        start = self.customer.recall(result.id, result.version)
        if start is None:
            events: Iterable[Any] = self.commands.customer_ticket_events_after(
                result.number, result.id, result.version
            )
            doc = customer_document(events)
        else:
            doc = customer_document(self._since(result.id, start[0], result.version), start[1])
        assert doc is not None
        self.customer.remember(result.id, result.version, doc)
        return doc

    def card(self, item: UUID, version: int) -> BoardCard | None:
        """The item's status-board card as its write at `version` left it."""
        start = self.cards.recall(item, version)
        if start is None:
            cards: Cards = {}
            events = self.commands.stream(item, version=version)
        else:
            cards = start[1]
            events = self._since(item, start[0], version)
        for event in events:
            if topic_name(event) in CARD_TOPICS:
                evolve_cards(cards, event)
        self.cards.remember(item, version, cards)
        return cards.get(str(item))

    def _since(self, aggregate: UUID, after: int, version: int) -> list[Any]:
        return self.commands.stream(aggregate, after=after, version=version)

    def _from_view(self, number: int, version: int) -> tuple[int, Doc] | None:
        """The item's `ticket_detail` row, if it is a fold of this code's schema at or
        before `version`: the snapshot the answer folds on from."""
        with self.views.read() as tx:
            live = tx.one(
                "SELECT generation, schema_version FROM projection_tracking"
                " WHERE view = ? AND is_current = 1",
                ("ticket_detail",),
            )
            if live is None or live["schema_version"] != TicketDetailProjection.schema_version:
                return None
            table = Tables(live["generation"])["ticket_detail_tickets"]
            row = tx.one(f"SELECT version, doc FROM {table} WHERE number = ?", (number,))
        if row is None or row["version"] > version:
            return None
        self.seeded += 1
        return row["version"], orjson.loads(row["doc"])
