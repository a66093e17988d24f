"""Calendar queries: the Gantt view's bars and the tickets' resolution targets laid on days.

The calendar keeps no tables of its own. For tasks it shows the very bars the Gantt shows
(planned and actual spans), so it reads `gantt_tasks`: a second projection would fold the
same events into the same columns, and could only drift from the Gantt or double the work
of a rebuild. Its month windows use the view's indexes on planned and actual start.

A ticket's dates are its SLA's: planned from its opening to its resolution target, actual
from its opening to its resolution, open-ended while unresolved (the `resolution` round of
the `sla` view's `sla_rounds`, whose title, place and policy come from `flat_items`); a
ticket held to no policy, or to one without a resolution target for its priority, or
whose target is paused while it waits on the customer, has no dates and is not on the
calendar. Its days are UTC days.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from projections.base import InvalidCursorError, Tables, decode_cursor, encode_cursor
from projections.db import Tx
from projections.gantt import BAR_COLUMNS, GanttBar

KINDS = ("task", "ticket")

# A task with an actual start and no actual finish has, as far as the log says, worked on
# that one day: the calendar never guesses "until today" (a read must not depend on when
# it ran, and a view never reads the clock).
_ACTUAL_FINISH = "COALESCE(actual_finish, actual_start)"
_SORT_DAY = "COALESCE(start, actual_start)"
# What a bar is made of (not the chart's ready-made columns, which only the Gantt reads).
BARS = ", ".join(BAR_COLUMNS)


def _scope(visible: frozenset[str] | None, project: str | None) -> tuple[str, list[Any]] | None:
    """The WHERE clause limiting rows to the caller's projects; None if there are none."""
    where, params = "1 = 1", []
    if visible is not None:
        if not visible:
            return None
        where = f"project_id IN ({','.join('?' * len(visible))})"
        params = sorted(visible)
    if project is not None:
        where += " AND project_id = ?"
        params.append(project)
    return where, params


def month_bars(
    tx: Tx,
    t: Tables,
    first: date,
    last: date,
    visible: frozenset[str] | None,
    project: str | None = None,
    cursor: str | None = None,
    limit: int = 500,
) -> tuple[list[GanttBar], str | None]:
    """The tasks whose planned or actual span overlaps [first, last], by their first day
    then number, a page at a time (`visible` None: every project)."""
    scoped = _scope(visible, project)
    if scoped is None:
        return [], None
    where, params = scoped
    begin, end = first.isoformat(), last.isoformat()
    where += (
        " AND ((start IS NOT NULL AND start <= ? AND finish >= ?)"
        f" OR (actual_start IS NOT NULL AND actual_start <= ? AND {_ACTUAL_FINISH} >= ?))"
    )
    params += [end, begin, end, begin]
    if cursor is not None:
        day, number = decode_cursor(cursor, 2)
        if not isinstance(day, str) or not isinstance(number, int):
            raise InvalidCursorError("cursor is not valid")
        where += f" AND ({_SORT_DAY} > ? OR ({_SORT_DAY} = ? AND number > ?))"
        params += [day, day, number]
    rows = tx.all(
        f"SELECT {BARS}, {_SORT_DAY} AS sort_day FROM {t['gantt_tasks']} WHERE {where}"
        " ORDER BY sort_day, number LIMIT ?",
        (*params, limit + 1),
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["sort_day"], rows[-1]["number"])
    return [GanttBar.from_row(r) for r in rows], next_cursor


def _entry(bar: GanttBar) -> dict[str, Any]:
    return {
        "kind": "task",
        "number": bar.number,
        "title": bar.title,
        "project_id": bar.project_id,
        "planned": {"start": bar.start, "finish": bar.finish},
        "actual": {"start": bar.actual_start, "finish": bar.actual_finish},
        "milestone": bar.milestone,
    }


def _ticket_spans(
    tx: Tx,
    rounds: str,
    items: str,
    first: date,
    last: date,
    scoped: tuple[str, list[Any]],
    after: tuple[str, int] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The tickets whose resolution target or resolution touches [first, last]."""
    where, params = scoped
    where = where.replace("project_id", "f.project_id")
    opened, due, resolved = (
        f"substr(r.{c}, 1, 10)" for c in ("started_at", "due_at", "answered_at")
    )
    # Unresolved: on every month from its opening on.
    last_day = (
        f"CASE WHEN {resolved} IS NULL THEN '9999-12-31'"
        f" WHEN {resolved} > {due} THEN {resolved} ELSE {due} END"
    )
    sql = (
        f"SELECT f.number, f.title, f.project_id, {opened} AS opened, {due} AS due,"
        f" {resolved} AS resolved FROM {rounds} r JOIN {items} f ON f.number = r.number"
        f" WHERE r.metric = 'resolution' AND r.due_at IS NOT NULL AND f.kind = 'ticket'"
        " AND f.sla_policy_id IS NOT NULL"
        f" AND {where} AND {opened} <= ? AND {last_day} >= ?"
    )
    params = [*params, last.isoformat(), first.isoformat()]
    if after is not None:
        sql += f" AND ({opened} > ? OR ({opened} = ? AND f.number > ?))"
        params += [after[0], after[0], after[1]]
    rows = tx.all(f"{sql} ORDER BY opened, f.number LIMIT ?", (*params, limit))
    return [
        {
            "kind": "ticket",
            "number": r["number"],
            "title": r["title"],
            "project_id": r["project_id"],
            "planned": {"start": r["opened"], "finish": r["due"]},
            "actual": {"start": r["opened"], "finish": r["resolved"]},
            "milestone": False,
            "sort_day": r["opened"],
        }
        for r in rows
    ]


def month_entries(
    tx: Tx,
    tables: dict[str, Tables],
    first: date,
    last: date,
    visible: frozenset[str] | None,
    kinds: frozenset[str],
    project: str | None = None,
    cursor: str | None = None,
    limit: int = 500,
) -> tuple[list[dict[str, Any]], str | None]:
    """The tasks and tickets (of `kinds`) whose planned or actual span overlaps
    [first, last], by their first day then number, a page at a time. `tables` holds the
    current tables of the `gantt`, `sla` and `flat` views."""
    after: tuple[str, int] | None = None
    if cursor is not None:
        day, number = decode_cursor(cursor, 2)
        if not isinstance(day, str) or not isinstance(number, int):
            raise InvalidCursorError("cursor is not valid")
        after = (day, number)
    entries: list[dict[str, Any]] = []
    if "task" in kinds:
        bars, _ = month_bars(
            tx,
            tables["gantt"],
            first,
            last,
            visible,
            project,
            encode_cursor(*after) if after else None,
            limit + 1,
        )
        entries += [{**_entry(b), "sort_day": b.start or b.actual_start} for b in bars]
    scoped = _scope(visible, project)
    if "ticket" in kinds and scoped is not None:
        entries += _ticket_spans(
            tx,
            tables["sla"]["sla_rounds"],
            tables["flat"]["flat_items"],
            first,
            last,
            scoped,
            after,
            limit + 1,
        )
    entries.sort(key=lambda e: (e["sort_day"], e["number"]))
    next_cursor = None
    if len(entries) > limit:
        entries = entries[:limit]
        next_cursor = encode_cursor(entries[-1]["sort_day"], entries[-1]["number"])
    for entry in entries:
        del entry["sort_day"]
    return entries, next_cursor


def planned_bars(
    tx: Tx, t: Tables, visible: frozenset[str] | None, project: str | None = None
) -> list[GanttBar]:
    """Every task with a planned span, by number (the iCalendar feed)."""
    scoped = _scope(visible, project)
    if scoped is None:
        return []
    where, params = scoped
    rows = tx.all(
        f"SELECT {BARS} FROM {t['gantt_tasks']} WHERE {where} AND start IS NOT NULL"
        " ORDER BY number",
        params,
    )
    return [GanttBar.from_row(r) for r in rows]
