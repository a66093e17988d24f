"""A shared project's timeline, drawn on the server: where each item's planned bar (planned
start to finish) and actual bar (actual start to finish, or to today while it runs) go on
an SVG. Only positions are computed here; the template draws them with SVG attributes and
the site's classes (the pages' CSP allows no inline style)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

LABEL_WIDTH = 280
CHART_WIDTH = 620
WIDTH = LABEL_WIDTH + CHART_WIDTH + 20
HEADER_HEIGHT = 28
ROW_HEIGHT = 34
BAR_HEIGHT = 10
LABEL_CHARS = 38
MIN_TICK_GAP = 80  # room for a month's label ("Sept. 2026")
MIN_BAR = 3.0  # a one-day bar on a long span stays visible


@dataclass(frozen=True)
class Bar:
    x: float
    width: float


@dataclass(frozen=True)
class TimelineRow:
    """One item's bars; `y` is the top of its row, `ongoing` an actual bar that runs to today."""

    number: int
    title: str
    label: str
    y: int
    planned: Bar | None
    actual: Bar | None
    ongoing: bool


@dataclass(frozen=True)
class Tick:
    """A month on the axis: its first day (or the axis's first day, in its month)."""

    x: float
    month: date


@dataclass(frozen=True)
class Timeline:
    first: date
    last: date
    rows: list[TimelineRow]
    ticks: list[Tick]
    today: float | None  # where today's line goes, if today is on the axis
    width: int
    height: int


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


Span = tuple[date, date]


def _span(start: date | None, finish: date | None) -> Span | None:
    """From `start` to `finish` (a lone day is a one-day span; reversed days are put right)."""
    if start is None or finish is None:
        return (start, start) if start else (finish, finish) if finish else None
    return (min(start, finish), max(start, finish))


def _spans(item: Mapping[str, Any], today: date) -> tuple[Span | None, Span | None]:
    """The item's planned span, and its actual one (to today while it has no finish)."""
    planned = _span(_day(item.get("start")), _day(item.get("finish")))
    actual_start = _day(item.get("actual_start"))
    actual = None
    if actual_start is not None:
        actual = _span(actual_start, _day(item.get("actual_finish")) or max(today, actual_start))
    return planned, actual


def _label(item: Mapping[str, Any]) -> str:
    text = f"#{item['number']} {item['title']}"
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def timeline(items: Iterable[Mapping[str, Any]], today: date) -> Timeline | None:
    """The timeline of the items that have planned or actual dates; None if none has."""
    dated = [(item, _spans(item, today)) for item in items]
    dated = [(item, spans) for item, spans in dated if any(spans)]
    if not dated:
        return None
    days = [d for _, spans in dated for span in spans if span for d in span]
    first, last = min(days), max(days)
    length = (last - first).days + 1

    def x(day: date) -> float:
        return round(LABEL_WIDTH + (day - first).days / length * CHART_WIDTH, 2)

    def bar(span: Span | None) -> Bar | None:
        if span is None:
            return None
        width = ((span[1] - span[0]).days + 1) / length * CHART_WIDTH
        return Bar(x(span[0]), round(max(width, MIN_BAR), 2))

    rows = [
        TimelineRow(
            number=item["number"],
            title=f"#{item['number']} {item['title']}",
            label=_label(item),
            y=HEADER_HEIGHT + index * ROW_HEIGHT,
            planned=bar(planned),
            actual=bar(actual),
            ongoing=actual is not None and not item.get("actual_finish"),
        )
        for index, (item, (planned, actual)) in enumerate(dated)
    ]
    return Timeline(
        first=first,
        last=last,
        rows=rows,
        ticks=_ticks(first, last, x),
        today=x(today) if first <= today <= last else None,
        width=WIDTH,
        height=HEADER_HEIGHT + len(rows) * ROW_HEIGHT + 4,
    )


def _ticks(first: date, last: date, x: Callable[[date], float]) -> list[Tick]:
    """The first days of the months on the axis, at least MIN_TICK_GAP apart and that far
    from the right edge (labels must not overlap or be cut); the axis's first day stands for
    its month when no month starts near it."""
    starts = []
    day = first if first.day == 1 else _next_month(first)
    while day <= last:
        starts.append(day)
        day = _next_month(day)
    if not starts or x(starts[0]) - x(first) >= MIN_TICK_GAP:
        starts.insert(0, first)
    kept: list[Tick] = []
    for day in starts:
        if x(day) > WIDTH - MIN_TICK_GAP:
            break  # No room for its label before the edge.
        if not kept or x(day) - kept[-1].x >= MIN_TICK_GAP:
            kept.append(Tick(x(day), day))
    return kept


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)
