"""An imported row checked on its own: the values the model keeps, each problem named by
its column, and keys that make the same file map to the same items."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.item_import import RowKeys, check_row
from projections.item_places import Places

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_a_row_is_kept_in_the_models_form() -> None:
    row, problems = check_row(
        5,
        {
            "title": "  Roof   leaks ", "kind": "Task", "priority": "HIGH",
            "assignees": "A@x.example; b@x.example;a@x.example", "points": "2,5",
            "created_at": "2019-03-04 10:30+02:00", "start": "2026-12-01",
        },
        NOW,
    )  # fmt: skip
    assert problems == []
    assert row is not None
    assert (row.title, row.kind, row.priority, row.points) == ("Roof leaks", "task", "high", 2.5)
    assert row.assignees == ("a@x.example", "b@x.example")
    assert row.created_at == "2019-03-04T08:30:00.000000Z"


def test_each_problem_names_its_column() -> None:
    _, problems = check_row(
        2,
        {
            "title": "", "kind": "story", "created_at": "1900-01-01T00:30+01:00",
            "points": "1e3", "start": "2026-02-30",
        },
        NOW,
    )  # fmt: skip
    assert {p.column for p in problems} == {"title", "kind", "created_at", "points", "start"}
    _, future = check_row(2, {"title": "T", "created_at": "2027-01-01"}, NOW)
    assert [p.message for p in future] == ["a time between 1900 and now"]


def test_the_same_rows_map_to_the_same_keys() -> None:
    def keys(rows: list[dict[str, str]]) -> list[str]:
        made = RowKeys()
        found = [check_row(n, r, NOW)[0] for n, r in enumerate(rows, 2)]
        return [made.key(r) for r in found if r is not None]

    same = {"title": "Same", "priority": ""}
    first = keys([same, same, {"title": "Other", "external_id": "X-1"}])
    assert first[2] == "external:X-1"
    assert first[0] != first[1]  # two identical rows are two items
    # Another export of the same rows: an empty column more, another order
    assert keys([{"priority": "", "title": "Same", "team": ""}] * 2) == first[:2]


def test_a_project_is_found_by_its_name_or_its_customers() -> None:
    places = Places(
        projects={"site": [("p1", ["acme"]), ("p2", ["globex"])], "a/b": [("p3", [])]},
        customers={"acme": ["acme"]},
    )
    assert places.project("Site") == ["p1", "p2"]
    assert places.project(" ACME /  site") == ["p1"]
    assert places.project("A/B") == ["p3"]
    assert places.project("Nobody/Site") == []
