"""A custom report's definition: a data set, the dimensions its rows are grouped by, the
measures each row sums, and filters on the dimensions — kept in one normal form.

A custom report is a saved report of template `custom` (`domain.views.report`), saved and
shared like a view; it also runs unsaved, its definition given in the query. What each
data set, dimension and measure reads is on the read side
(`projections/reports/custom.py`); this module names them, so that a definition is checked
where it is recorded."""

from __future__ import annotations

from typing import Any

from domain.errors import InvalidValueError

# Each data set: its dimensions (`period`: the period of its date) and its measures (each
# a sum, so that days add up to weeks and months).
DATASETS: dict[str, dict[str, tuple[str, ...]]] = {
    # Items created in the range (the flat view): counted, and how many are open or done.
    "items": {
        "dimensions": (
            "period", "kind", "item_type", "project", "customer", "priority", "status",
            "state", "channel", "sla_state",
        ),
        "measures": ("count", "open", "finished"),
    },
    # Every change to an item in the range, from the log (`item_changes`).
    "changes": {
        "dimensions": ("period", "kind", "change", "actor", "cause", "project"),
        "measures": (
            "changes", "created", "changed", "moved", "finished", "reopened", "converted",
        ),
    },
    # Time entries worked in the range (the timesheets view).
    "time": {
        "dimensions": ("period", "user", "project", "customer", "activity", "billable", "state"),
        "measures": ("hours", "billable_hours", "minutes", "entries"),
    },
}  # fmt: skip
OPS = ("eq", "ne", "in")
MAX_DIMENSIONS = 3
MAX_MEASURES = 10
MAX_FILTERS = 10
# Dimensions of a few known values, which a filter must name.
VALUES = {"billable": ("true", "false")}
MAX_VALUES = 100
MAX_VALUE = 200


def _refuse(path: str, message: str) -> InvalidValueError:
    return InvalidValueError(f"definition.custom.{path}", message)


def _names(given: Any, part: str, allowed: tuple[str, ...], most: int) -> list[str]:
    if isinstance(given, str):  # `user,period` in a query
        given = [name.strip() for name in given.split(",") if name.strip()]
    if not isinstance(given, list) or len(given) > most:
        raise _refuse(part, f"{part} is a list of at most {most}")
    for index, name in enumerate(given):
        if name not in allowed:
            raise _refuse(f"{part}[{index}]", f"{part} are from {', '.join(allowed)}")
    if len(set(given)) != len(given):
        raise _refuse(part, f"each of {part} once")
    return list(given)


def _filter(given: Any, index: int, dimensions: tuple[str, ...]) -> dict[str, Any]:
    where = f"filters[{index}]"
    if not isinstance(given, dict) or set(given) != {"field", "op", "value"}:
        raise _refuse(where, "a filter is {field, op, value}")
    field, op, value = given["field"], given["op"], given["value"]
    filtered = tuple(d for d in dimensions if d != "period")
    if field not in filtered:
        raise _refuse(f"{where}.field", f"a filter's field is one of {', '.join(filtered)}")
    if op not in OPS:
        raise _refuse(f"{where}.op", f"op is one of {', '.join(OPS)}")
    values = value if op == "in" else [value]
    if (
        not isinstance(values, list)
        or not 1 <= len(values) <= MAX_VALUES
        or not all(isinstance(v, str | bool) and len(str(v)) <= MAX_VALUE for v in values)
    ):
        expected = "a list of 1 to 100 texts" if op == "in" else "a text"
        raise _refuse(f"{where}.value", f"value is {expected}")
    kept = [str(v).lower() if isinstance(v, bool) else v for v in values]
    known = VALUES.get(field)
    if known and any(v not in known for v in kept):
        raise _refuse(f"{where}.value", f"{field} is {' or '.join(known)}")
    return {"field": field, "op": op, "value": kept if op == "in" else kept[0]}


def checked_custom(given: Any) -> dict[str, Any]:
    """`{dataset, dimensions, measures, filters}` in normal form: at least one measure,
    at most three dimensions (none: one row of totals), filters on the data set's
    dimensions (not `period`: the range says which days)."""
    if not isinstance(given, dict):
        raise InvalidValueError("definition.custom", "custom is {dataset, dimensions, ...}")
    unknown = sorted(set(given) - {"dataset", "dimensions", "measures", "filters"})
    if unknown:
        raise _refuse(unknown[0], f"a custom report takes no {unknown[0]!r}")
    dataset = given.get("dataset")
    if dataset not in DATASETS:
        raise _refuse("dataset", f"dataset is one of {', '.join(DATASETS)}")
    shape = DATASETS[dataset]
    dimensions = _names(
        given.get("dimensions", []), "dimensions", shape["dimensions"], MAX_DIMENSIONS
    )
    measures = _names(given.get("measures"), "measures", shape["measures"], MAX_MEASURES)
    if not measures:
        raise _refuse("measures", "a custom report needs a measure")
    filters = given.get("filters", [])
    if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
        raise _refuse("filters", f"filters is a list of at most {MAX_FILTERS}")
    return {
        "dataset": dataset,
        "dimensions": dimensions,
        "measures": measures,
        "filters": [_filter(f, i, shape["dimensions"]) for i, f in enumerate(filters)],
    }
