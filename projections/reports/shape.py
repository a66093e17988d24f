"""What the dashboard widgets and the report templates share: periods (days, weeks from
Monday, months), the chart shape both answer in, people told apart by name, and names
looked up by id.

A chart is `{"type", "title", "chart", "labels", "series", ...}`: `labels` name the points
along the axis (a period, a status, a person), each series is `{"name", "values"}` with one
value per label, and `chart` says how to draw it (`bar`, `stacked_bar`, `horizontal_bar`,
`line`: `api/widget_charts.py` as SVG, `projections/reports/pdf_chart.py` on a PDF page)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from projections.db import Tx
from projections.sla.compliance import Period, period_start

__all__ = ["Period"]


def period_of(day: str, period: Period) -> str:
    """The period an ISO day (or time) is in: the day, the week's Monday, or `YYYY-MM`."""
    start = period_start(date.fromisoformat(day[:10]), period)
    return start.isoformat()[:7] if period == "month" else start.isoformat()


def periods(since: date, until: date, period: Period) -> list[str]:
    """Every period from `since` to `until`, in order."""
    found: list[str] = []
    day = since
    while day <= until:
        key = period_of(day.isoformat(), period)
        if not found or found[-1] != key:
            found.append(key)
        day += timedelta(days=1)
    return found


def weeks(today: date, count: int) -> list[date]:
    """The Mondays of the `count` weeks up to and including this one, oldest first."""
    monday = period_start(today, "week")
    return [monday - timedelta(weeks=n) for n in range(count - 1, -1, -1)]


def shaped(
    kind: str,
    title: str,
    chart: str,
    labels: Sequence[Any],
    series: Mapping[str, Sequence[Any]],
    **extra: Any,
) -> dict[str, Any]:
    """Data in the chart shape."""
    return {
        "type": kind,
        "title": title,
        "chart": chart,
        "labels": list(labels),
        "series": [{"name": name, "values": list(values)} for name, values in series.items()],
        **extra,
    }


def distinct_names(names: Sequence[str], ids: Sequence[str]) -> list[str]:
    """The names as shown side by side: two people of one name told apart by their ids'
    first characters (a chart's series are keyed by what they show)."""
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return [
        name if counts[name] == 1 else f"{name} ({i[:8]})"
        for name, i in zip(names, ids, strict=True)
    ]


def names_in(
    tx: Tx, table: str, ids: Iterable[str | None], kind: str | None = None
) -> dict[str, str]:
    """The `name` of each id in `table` (of `kind`, in a table of several kinds), 500 ids a
    read; an id it does not know is shown as itself."""
    wanted = sorted({i for i in ids if i})
    found = {i: i for i in wanted}
    of_kind = " AND kind = ?" if kind is not None else ""
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row in tx.all(
            f"SELECT id, name FROM {table} WHERE id IN ({','.join('?' * len(chunk))}){of_kind}",
            [*chunk, *([kind] if kind is not None else [])],
        ):
            found[row["id"]] = row["name"]
    return found
