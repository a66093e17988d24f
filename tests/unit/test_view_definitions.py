"""A saved view's definition: its normal form, and each refusal naming the part."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import InvalidValueError
from domain.views.definition import MAX_CONDITIONS, MAX_DEPTH, checked_definition
from domain.views.saved_view import SYSTEM_VIEWS, checked_sharing

ID = "1fb3b3f3-172b-5dd8-9eb4-b9b4eba64465"


def test_an_empty_definition_is_every_item_newest_first_in_a_flat_layout() -> None:
    assert checked_definition({}) == {
        "kinds": ["ticket", "task"],
        "item_types": [],
        "filter": None,
        "group_by": [],
        "columns": ["number", "title", "status", "priority", "assignees", "updated_at"],
        "sort": "-number",
        "layout": "flat",
    }


def test_values_are_kept_in_one_form() -> None:
    checked = checked_definition(
        {
            "kinds": ["task", "task"],
            "filter": {
                "or": [
                    {"field": "created_at", "op": "gte", "value": "2026-12-01"},
                    {"field": "updated_at", "op": "lt", "value": "2026-12-01T10:00:00+01:00"},
                    {"field": "team", "op": "in", "value": [ID.upper(), ID]},
                    {"field": "assignee", "op": "eq", "value": "me"},
                ]
            },
        }
    )
    assert checked["kinds"] == ["task"]
    values = [c["value"] for c in checked["filter"]["or"]]
    assert values == [
        "2026-12-01T00:00:00.000000Z",
        "2026-12-01T09:00:00.000000Z",
        [ID],
        "me",
    ]


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ([], "definition"),
        ({"filter": {"field": "title", "op": "contains", "value": ""}}, "definition.filter.value"),
        ({"filter": {"field": "number", "op": "gt", "value": True}}, "definition.filter.value"),
        ({"filter": {"field": "sla_due", "op": "eq", "value": "2026-12-01"}},
         "definition.filter.op"),
        ({"filter": {"field": "status", "op": "empty", "value": True}}, "definition.filter.op"),
        ({"filter": {"field": "team", "op": "empty", "value": "yes"}}, "definition.filter.value"),
        ({"filter": {"field": "team", "op": "in", "value": []}}, "definition.filter.value"),
        ({"filter": {"and": [], "or": []}}, "definition.filter"),
        ({"filter": {"field": "title", "op": "eq", "value": "x", "not": 1}}, "definition.filter"),
        ({"filter": {"field": "updated_at", "op": "gt", "value": "2026-12-01T10:00"}},
         "definition.filter.value"),
        ({"filter": {"field": "number", "op": "gt", "value": 10**30}}, "definition.filter.value"),
        ({"filter": {"field": "number", "op": "gt", "value": 2**31}}, "definition.filter.value"),
        ({"filter": {"field": [], "op": "eq", "value": 1}}, "definition.filter.field"),
        ({"filter": {"field": "title", "op": {}, "value": 1}}, "definition.filter.op"),
        ({"layout": []}, "definition.layout"),
        ({"filter": {"field": "created_at", "op": "gt", "value": "0001-01-01T00:00:00+01:00"}},
         "definition.filter.value"),
        ({"filter": {"field": "created_at", "op": "gt", "value": "0999-01-01"}},
         "definition.filter.value"),
        ({"columns": []}, "definition.columns"),
        ({"kinds": []}, "definition.kinds"),
        ({"sort": "--number"}, "definition.sort"),
        ({"item_types": [""]}, "definition.item_types"),
    ],
)  # fmt: skip
def test_a_bad_definition_is_refused_naming_the_part(definition: Any, field: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        checked_definition(definition)
    assert refused.value.field == field


def test_filters_are_bounded_in_depth_and_size() -> None:
    condition = {"field": "state", "op": "eq", "value": "finished"}
    nested: dict[str, Any] = condition
    for _ in range(MAX_DEPTH):
        nested = {"and": [nested]}
    with pytest.raises(InvalidValueError, match="nest"):
        checked_definition({"filter": nested})
    with pytest.raises(InvalidValueError, match="conditions"):
        checked_definition({"filter": {"or": [condition] * (MAX_CONDITIONS + 1)}})


def test_sharing_is_checked_and_sorted() -> None:
    assert checked_sharing({"users": [ID, ID]}) == {"users": [ID], "teams": [], "all_staff": False}
    for bad, field in (
        ({"users": ["ana"]}, "sharing.users"),
        ({"all_staff": "yes"}, "sharing.all_staff"),
        ({"groups": []}, "sharing"),
    ):
        with pytest.raises(InvalidValueError) as refused:
            checked_sharing(bad)
        assert refused.value.field == field


def test_every_system_view_is_a_valid_definition() -> None:
    for view in SYSTEM_VIEWS:
        checked_definition(view["definition"])
