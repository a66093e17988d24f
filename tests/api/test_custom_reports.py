"""Custom reports over HTTP, on both backends: a data set (items, changes, time) grouped by
the dimensions asked, its measures summed, filtered — exact figures on a seeded desk for
whoever runs it (a member sees only what they may), run from the query or saved and shared
like any saved report, as JSON, CSV and PDF; a bad data set, dimension, measure or filter
refused naming it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import orjson
import pypdf
from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.api.seeded_desk import Desk, after, ok

BASE = "/api/v1/reports"


def custom(client: TestClient, desk: Desk, **params: Any) -> Any:
    params.setdefault("from", desk.first.isoformat())
    params.setdefault("to", desk.today.isoformat())
    if "filters" in params and not isinstance(params["filters"], str):
        params["filters"] = orjson.dumps(params["filters"]).decode()
    headers = after(desk.live, params.pop("headers", None))
    return client.get(f"{BASE}/custom", params=params, headers=headers)


def test_a_custom_report_groups_a_data_set_by_what_is_asked(
    client: TestClient, live: bootstrap.Container
) -> None:
    desk = Desk(client, live)
    catalogue = ok(client.get(BASE))["templates"]
    [offered] = [t for t in catalogue if t["key"] == "custom"]
    assert offered["datasets"]["time"]["measures"] == [
        "hours",
        "billable_hours",
        "minutes",
        "entries",
    ]

    # Items created in the range, by kind and priority: counted, and how many are done
    items = ok(custom(client, desk, dataset="items", dimensions="kind,priority",
                      measures="count,finished"))  # fmt: skip
    assert items["columns"] == ["kind", "priority", "count", "finished"]
    assert items["rows"] == [
        {"kind": "task", "priority": "normal", "count": 3, "finished": 1},
        {"kind": "ticket", "priority": "low", "count": 2, "finished": 0},
        {"kind": "ticket", "priority": "normal", "count": 1, "finished": 1},
        {"kind": "ticket", "priority": "urgent", "count": 1, "finished": 0},
    ]
    assert items["totals"] == {"count": 7, "finished": 2}
    assert items["chart"]["labels"] == ["task", "ticket"]
    assert items["chart"]["series"] == [
        {"name": "count", "values": [3, 4]}, {"name": "finished", "values": [1, 1]},
    ]  # fmt: skip
    # Ann sees the agency's project only: one low-priority ticket, not the secret one
    hers = ok(custom(client, desk, dataset="items", dimensions="kind,priority",
                     measures="count", headers=desk.ann_headers))  # fmt: skip
    assert {(r["kind"], r["priority"]): r["count"] for r in hers["rows"]}[("ticket", "low")] == 1
    assert hers["totals"] == {"count": 6}
    # Filtered: the agency's tickets that are not low, by project (shown by name)
    filters = [
        {"field": "kind", "op": "eq", "value": "ticket"},
        {"field": "priority", "op": "ne", "value": "low"},
    ]
    by_project = ok(custom(client, desk, dataset="items", dimensions="project",
                           measures="count,open", filters=filters))  # fmt: skip
    assert by_project["rows"] == [
        {"project": desk.project, "project_name": "Agency", "count": 2, "open": 1}
    ]

    # Time worked, per user and week: hours (rounded once) and entries
    weeks = [(desk.first + timedelta(weeks=n)).isoformat() for n in range(3)]
    time = ok(custom(client, desk, dataset="time", dimensions="period,user",
                     measures="hours,entries", period="week"))  # fmt: skip
    assert time["rows"] == [
        {"period": weeks[1], "user": desk.me["id"], "user_name": desk.me["name"],
         "hours": 0.5, "entries": 1},
        {"period": weeks[2], "user": desk.me["id"], "user_name": desk.me["name"],
         "hours": 1.5, "entries": 1},
    ]  # fmt: skip
    assert time["totals"] == {"hours": 2.0, "entries": 2}
    assert time["chart"]["labels"] == weeks  # every week of the range, with or without time
    assert time["chart"]["series"][0] == {"name": "hours", "values": [0, 0.5, 1.5]}
    # A member sees their own time only (none), not the others'
    theirs = ok(custom(client, desk, dataset="time", dimensions="user", measures="hours",
                       headers=desk.ann_headers))  # fmt: skip
    assert (theirs["rows"], theirs["totals"]) == ([], {"hours": 0})

    # The log's changes to tickets: created and finished, no dimension (one row of totals)
    changes = ok(custom(client, desk, dataset="changes", measures="created,finished",
                        filters=[{"field": "kind", "op": "in", "value": ["ticket"]}]))  # fmt: skip
    assert changes["rows"] == [{"created": 4, "finished": 1}]


def test_a_custom_report_is_saved_shared_and_exported(
    client: TestClient, live: bootstrap.Container
) -> None:
    desk = Desk(client, live)
    definition = {
        "template": "custom",
        "period": "week",
        "range": {"last_days": 21},
        "custom": {
            "dataset": "items",
            "dimensions": ["priority"],
            "measures": ["count"],
            "filters": [{"field": "kind", "op": "eq", "value": "ticket"}],
        },
    }
    saved = ok(
        client.post(
            f"{BASE}/saved",
            json={
                "name": "Tickets by priority",
                "definition": definition,
                "sharing": {"all_staff": True},
            },
        ),
        201,
    )
    assert saved["definition"]["custom"]["filters"] == definition["custom"]["filters"]
    run = ok(client.get(f"{BASE}/{saved['id']}", headers=after(live)))
    assert (run["template"], run["title"]) == ("custom", "Tickets by priority")
    assert [(r["priority"], r["count"]) for r in run["rows"]] == [
        ("low", 2), ("normal", 1), ("urgent", 1),
    ]  # fmt: skip
    # Shared with all staff, it runs for Ann as she sees it
    hers = ok(client.get(f"{BASE}/{saved['id']}", headers=after(live, desk.ann_headers)))
    assert hers["totals"] == {"count": 3}
    # The query changes what is measured for this run
    wider = ok(client.get(f"{BASE}/{saved['id']}", params={"measures": "count,open"},
                          headers=after(live)))  # fmt: skip
    assert wider["columns"] == ["priority", "count", "open"]

    exported = client.get(f"{BASE}/{saved['id']}", params={"format": "csv"}, headers=after(live))
    assert exported.status_code == 200, exported.text
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table == [["priority", "count"], ["low", "2"], ["normal", "1"], ["urgent", "1"]]
    printed = client.get(f"{BASE}/{saved['id']}", params={"format": "pdf"}, headers=after(live))
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(printed.content)).pages)
    assert "Tickets by priority" in text
    assert "urgent" in text


def test_a_bad_custom_report_is_refused_naming_it(
    client: TestClient, live: bootstrap.Container
) -> None:
    desk = Desk(client, live)
    cases = [
        ({}, "dataset", "needs a dataset"),
        ({"dataset": "money", "measures": "count"}, "dataset", "dataset is one of items"),
        ({"dataset": "items", "dimensions": "colour", "measures": "count"}, "dimensions[0]",
         "dimensions are from period, kind"),
        ({"dataset": "items", "measures": "hours"}, "measures[0]", "measures are from count"),
        ({"dataset": "items", "dimensions": "kind"}, "measures", "is a list"),
        ({"dataset": "items", "measures": "count", "filters": "[{"}, "filters", "JSON"),
        ({"dataset": "items", "measures": "count",
          "filters": [{"field": "period", "op": "eq", "value": "x"}]}, "filters[0].field",
         "a filter's field is one of kind"),
        ({"dataset": "items", "measures": "count",
          "filters": [{"field": "kind", "op": "like", "value": "x"}]}, "filters[0].op",
         "op is one of eq, ne, in"),
    ]  # fmt: skip
    for params, name, says in cases:
        refused = custom(client, desk, **params)
        assert refused.status_code == 422, (params, refused.text)
        assert name in refused.text, (params, refused.json())
        assert says in refused.text, (params, refused.json())
    # Only the custom report takes a data set
    other = client.get(f"{BASE}/tickets", params={"dataset": "items"}, headers=after(live))
    assert other.status_code == 422
    assert "only the custom report takes dataset" in other.text
    # A saved one is checked where it is saved
    head = live.app.head()
    bad = {"template": "custom", "custom": {"dataset": "items", "measures": []}}
    saved = client.post(f"{BASE}/saved", json={"name": "Bad", "definition": bad})
    assert saved.status_code == 422
    assert "definition.custom.measures" in saved.text
    assert live.app.head() == head
    plain = {"template": "tickets", "custom": {"dataset": "items", "measures": ["count"]}}
    refused = client.post(f"{BASE}/saved", json={"name": "Bad", "definition": plain})
    assert refused.status_code == 422
    assert "only a custom report takes custom" in refused.text
