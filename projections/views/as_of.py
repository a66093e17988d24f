"""Views of the items as of a past moment: the items a caller may see now, each folded from
its events up to that moment into an in-memory copy of the `flat` view's tables, queried
then by the same SQL as the stored view (`list_items`, a saved view's run)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from projections.base import Positioned, Projection, Tables, topic_name
from projections.db import Tx, memory_tx
from projections.flat import FlatProjection, visible

# Items folded for one read as of a moment, at most.
AS_OF_LIMIT = 20_000

# The events of one item (a row with its `id`, `kind`, `number` and
# `converted_from_ticket`), its SLA's among them, in order, up to the moment asked.
ItemEvents = Callable[[dict[str, Any]], Iterable[Any]]


class TooManyToFold(Exception):
    """Raised when more than `AS_OF_LIMIT` items would be folded."""


@dataclass(frozen=True)
class Place:
    """Where the items folded may have been: one project (those in it now, and those a
    change moved out of it, from `item_changes`)."""

    project_id: str
    changes_table: str


def candidates(
    tx: Tx,
    t: Tables,
    visible_projects: frozenset[str] | None,
    visible_kinds: frozenset[str],
    kinds: frozenset[str],
    as_of: str,
    place: Place | None = None,
    budget: int = AS_OF_LIMIT,
) -> list[dict[str, Any]]:
    """The items to fold as of `as_of` (stored time text): those of `kinds` the caller
    may see now (in `visible_projects`, of `visible_kinds`) that existed then — a task
    converted since from a ticket among them when tickets are asked for and the caller
    sees tasks, since it was a ticket then — and with `place`, that were ever there. More
    than `budget` is `TooManyToFold`."""
    wanted = set(kinds & visible_kinds)
    if "ticket" in kinds and "task" in visible_kinds:
        wanted.add("task")
    scope = visible(visible_projects, frozenset(wanted))
    if scope is None:
        return []
    where = [*scope[0], "(created_at <= ? OR converted_from_ticket IS NOT NULL)"]
    params: list[Any] = [*scope[1], as_of]
    if "task" not in kinds:
        where.append("(kind = 'ticket' OR converted_from_ticket IS NOT NULL)")
    if place is not None:
        where.append(
            f"(project_id = ? OR id IN (SELECT shown_as FROM {place.changes_table}"
            " WHERE prior_project_id = ?))"
        )
        params += [place.project_id, place.project_id]
    sql = f"SELECT id, kind, number, converted_from_ticket FROM {t['flat_items']}"
    sql += " WHERE " + " AND ".join(where)
    found = tx.all(sql + " ORDER BY number LIMIT ?", (*params, budget + 1))
    if len(found) > budget:
        raise TooManyToFold()
    return found


@contextmanager
def folded(
    projection: Projection,
    items: Sequence[dict[str, Any]],
    events_of: ItemEvents,
    first: Iterable[Iterable[Any]] = (),
) -> Iterator[tuple[Tx, Tables]]:
    """An in-memory copy of `projection` (a view of items, each row built from one item's
    own events: `flat`, `status_board`; `tree`, whose items sit in the places whose event
    streams `first` gives) for `items`, as their events (`events_of`; those of the view's
    topics) leave them."""
    t = Tables(0)
    topics = projection.topics
    with memory_tx() as tx:
        projection.create(tx, t)
        for stream in first:  # (Each in its own order.)
            read = [e for e in stream if f"ledgerdesk:{topic_name(e)}" in topics]
            if read:
                projection.apply(tx, t, [Positioned(0, e) for e in read])
        for item in items:
            read = [e for e in events_of(item) if f"ledgerdesk:{topic_name(e)}" in topics]
            projection.apply(tx, t, [Positioned(0, e) for e in read])
        yield tx, t


def folded_flat(
    items: Sequence[dict[str, Any]], events_of: ItemEvents
) -> AbstractContextManager[tuple[Tx, Tables]]:
    """An in-memory flat view of `items` as their events (`events_of`) leave them."""
    return folded(FlatProjection(), items, events_of)
