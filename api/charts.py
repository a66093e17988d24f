"""Planning views drawn for people: the Gantt chart as SVG, the calendar as iCalendar."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from icalendar import Calendar, Event
from jinja2 import Environment, FileSystemLoader

from projections.gantt import GanttBar

# Autoescaping on: a task's title is text, never markup (`<script>` stays `&lt;script&gt;`).
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
LABEL_WIDTH = 300
ROW_HEIGHT = 26
HEADER_HEIGHT = 48
CHART_WIDTH = 1200  # the timeline's width, whatever the span (days get narrower)
LABEL_CHARS = 42
DIAMOND = 7  # half a milestone's width


@dataclass(frozen=True)
class _Row:
    y: int
    indent: int  # subtasks sit under their parent
    label: str
    tip: str
    critical: bool
    milestone: bool
    planned: tuple[float, float] | None  # x and width
    progress: float
    actual: tuple[float, float] | None

    @property
    def diamond(self) -> str:
        """A milestone's diamond, centred on its day."""
        assert self.planned is not None
        cx, cy = self.planned[0] + self.planned[1] / 2, self.y + ROW_HEIGHT / 2
        corners = ((cx, cy - DIAMOND), (cx + DIAMOND, cy), (cx, cy + DIAMOND), (cx - DIAMOND, cy))
        return " ".join(f"{px:.2f},{py:.2f}" for px, py in corners)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _label(task: dict[str, Any]) -> str:
    text = f"#{task['number']} {task['title']}"
    if len(text) > LABEL_CHARS:
        text = text[: LABEL_CHARS - 1] + "…"
    return text


def _tip(task: dict[str, Any]) -> str:
    planned, actual = task["planned"], task["actual"]
    parts = [f"#{task['number']} {task['title']}", f"{task['status']}"]
    if planned["start"]:
        parts.append(f"planned {planned['start']} to {planned['finish']}")
    if actual["start"]:
        parts.append(f"actual {actual['start']} to {actual['finish'] or '…'}")
    parts.append(f"{task['percent_complete']}% complete")
    if task["slack_days"] is not None:
        parts.append(f"slack {task['slack_days']} d" + (" (critical)" if task["critical"] else ""))
    return "; ".join(parts)


def _range(tasks: list[dict[str, Any]]) -> tuple[date, date] | None:
    days = [
        day
        for task in tasks
        for day in (
            _day(task["planned"]["start"]),
            _day(task["planned"]["finish"]),
            _day(task["actual"]["start"]),
            _day(task["actual"]["finish"]),
        )
        if day is not None
    ]
    return (min(days), max(days)) if days else None


MAX_TICKS = 120


def _ticks(first: date, last: date, x: Any, day_width: float) -> list[dict[str, Any]]:
    """A line at each Monday (every few Mondays over a long span, never more than
    MAX_TICKS lines), labelled when its gap is wide enough for a date, else at the first line
    of each month."""
    ticks: list[dict[str, Any]] = []
    weeks = ((last - first).days + 1) // 7 + 1
    step = max(1, -(-weeks // MAX_TICKS))
    gap = day_width * 7 * step
    # Over a long span, a label every few lines, 80 px apart at least.
    label_every = 1 if gap >= 80 or step == 1 else -(-80 // int(max(gap, 1)))
    day = first + timedelta(days=-first.weekday() % 7)
    labelled: set[tuple[int, int]] = set()
    while day <= last + timedelta(days=1):
        month = (day.year, day.month)
        weekly = gap >= 80 or month not in labelled
        shown = weekly if step == 1 else len(ticks) % label_every == 0
        labelled.add(month)
        ticks.append({"x": x(day), "label": day.strftime("%d %b %Y") if shown else ""})
        if day > date.max - timedelta(days=7 * step):
            break
        day += timedelta(days=7 * step)
    return ticks


def gantt_svg(title: str, doc: dict[str, Any]) -> str:
    """The chart of `projections.gantt_query.chart` drawn as a standalone SVG document."""
    tasks = doc["tasks"]
    span = _range(tasks)
    first, last = span if span else (date(2000, 1, 3), date(2000, 1, 3))
    day_width = CHART_WIDTH / ((last - first).days + 1)

    def x(day: date) -> float:
        return round(LABEL_WIDTH + (day - first).days * day_width, 2)

    def bar(start: str | None, finish: str | None) -> tuple[float, float] | None:
        begin = _day(start)
        if begin is None:
            return None
        end = _day(finish) or begin
        return x(begin), round(max((end - begin).days + 1, 1) * day_width, 2)

    rows = []
    where: dict[int, tuple[int, tuple[float, float] | None]] = {}
    for i, task in enumerate(tasks):
        y = HEADER_HEIGHT + i * ROW_HEIGHT
        planned = bar(task["planned"]["start"], task["planned"]["finish"])
        where[task["number"]] = (y, _diamond_box(planned) if task["milestone"] else planned)
        rows.append(
            _Row(
                y=y,
                indent=16 if task["parent"] is not None else 0,
                label=_label(task),
                tip=_tip(task),
                critical=task["critical"],
                milestone=task["milestone"],
                planned=planned,
                progress=round(planned[1] * task["percent_complete"] / 100, 2) if planned else 0,
                actual=bar(task["actual"]["start"], task["actual"]["finish"]),
            )
        )
    arrows = [arrow for link in doc["dependencies"] if (arrow := _arrow(link, where)) is not None]
    return _TEMPLATES.get_template("gantt.svg.j2").render(
        title=title,
        as_of=doc.get("as_of"),
        width=LABEL_WIDTH + CHART_WIDTH + 20,
        height=HEADER_HEIGHT + max(len(rows), 1) * ROW_HEIGHT + 10,
        label_width=LABEL_WIDTH,
        header=HEADER_HEIGHT,
        row_height=ROW_HEIGHT,
        rows=rows,
        arrows=arrows,
        ticks=_ticks(first, last, x, day_width) if span else [],
        empty=span is None,
    )


def _diamond_box(planned: tuple[float, float] | None) -> tuple[float, float] | None:
    """Where arrows meet a milestone: its diamond's corners, centred on its day."""
    if planned is None:
        return None
    return planned[0] + planned[1] / 2 - DIAMOND, 2 * DIAMOND


def _arrow(
    link: dict[str, Any], where: dict[int, tuple[int, tuple[float, float] | None]]
) -> str | None:
    """An elbow path from the predecessor's end (or start) to the successor's start (or
    end), as the link kind says; None when either task is undated."""
    before, after = where.get(link["predecessor"]), where.get(link["successor"])
    if before is None or after is None or before[1] is None or after[1] is None:
        return None
    (y1, (x1, w1)), (y2, (x2, w2)) = (before[0], before[1]), (after[0], after[1])
    kind = link["kind"]
    source = x1 if kind.startswith("start") else x1 + w1
    target = x2 + w2 if kind.endswith("finish") else x2
    middle_y1, middle_y2 = y1 + ROW_HEIGHT / 2, y2 + ROW_HEIGHT / 2
    elbow = source + 6 if not kind.startswith("start") else source - 6
    return f"M{source:.2f},{middle_y1:.2f} H{elbow:.2f} V{middle_y2:.2f} H{target:.2f}"


def calendar_ics(name: str, bars: Iterable[GanttBar]) -> bytes:
    """An iCalendar (RFC 5545) feed: one all-day event per task over its planned days."""
    feed = Calendar()
    feed.add("prodid", "-//ledgerdesk//planning views//EN")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("x-wr-calname", name)
    for bar in bars:
        assert bar.start is not None
        assert bar.finish is not None
        changed = datetime.fromisoformat(bar.updated_at)
        event = Event()
        event.add("uid", bar.id)
        event.add("summary", f"#{bar.number} {bar.title}")
        event.add("dtstart", date.fromisoformat(bar.start))
        # All-day events end on the day after their last day (DTEND is exclusive).
        event.add("dtend", date.fromisoformat(bar.finish) + timedelta(days=1))
        event.add("dtstamp", changed)
        event.add("last-modified", changed)
        event.add("description", f"{bar.status}, {bar.percent_complete}% complete")
        event.add("transp", "TRANSPARENT")
        if bar.milestone:
            event.add("categories", ["Milestone"])
        feed.add_component(event)
    ical: bytes = feed.to_ical()
    return ical
