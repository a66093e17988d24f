"""Calendar queries: the Gantt view's bars laid on days.

The calendar keeps no tables of its own. It shows the very bars the Gantt shows (planned
and actual spans of tasks), so it reads `gantt_tasks`: a second projection would fold the
same events into the same columns, and could only drift from the Gantt or double the
work of a rebuild. Its month windows use the view's indexes on planned and actual start.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from projections.base import InvalidCursorError, Tables, decode_cursor, encode_cursor
from projections.db import Tx
from projections.gantt import BAR_COLUMNS, GanttBar

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
