"""Custom reports over HTTP, on both backends: a data set (items, changes, time) grouped by
the dimensions asked, its measures summed, filtered — exact figures on a seeded desk for
whoever runs it (a member sees only what they may), run from the query or saved and shared
like any saved report, as JSON, CSV and PDF; a bad data set, dimension, measure or filter
refused naming it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
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
    # A member sees their own time only, not the others'
    entry = {"item": desk.door, "date": desk.today.isoformat(), "minutes": 45}
    ok(client.post("/api/v1/timesheets", json=entry, headers=desk.ann_headers), 201)
    theirs = ok(custom(client, desk, dataset="time", dimensions="user", measures="hours",
                       headers=desk.ann_headers))  # fmt: skip
    assert theirs["rows"] == [
        {"user": desk.ann["id"], "user_name": desk.ann["name"], "hours": 0.75}
    ]
    everyone = ok(custom(client, desk, dataset="time", dimensions="user", measures="hours"))
    assert everyone["totals"] == {"hours": 2.75}

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
        ({"dataset": "time", "measures": "hours",
          "filters": [{"field": "billable", "op": "eq", "value": "yes"}]}, "filters[0].value",
         "billable is true or false"),
    ]  # fmt: skip
    for params, name, says in cases:
        refused = custom(client, desk, **params)
        assert refused.status_code == 422, (params, refused.text)
        [error] = refused.json()["errors"]
        assert error["location"] == ["query", name], (params, error)
        assert says in error["message"], (params, error)
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


def test_customers_filters_exports_and_switched_off_apps(
    client: TestClient, live: bootstrap.Container
) -> None:
    acme, globex = (
        ok(client.post("/api/v1/customers", json={"name": n}), 201)["id"]
        for n in ("Acme", "Globex")
    )
    site = ok(
        client.post("/api/v1/projects", json={"name": "Site", "customer_ids": [acme, globex]}), 201
    )
    office = ok(client.post("/api/v1/projects", json={"name": "Office"}), 201)
    on_site = ok(
        client.post("/api/v1/tickets", json={"title": "Roof", "project_id": site["id"]}), 201
    )
    ok(client.post("/api/v1/tickets", json={"title": "Desk", "project_id": office["id"]}), 201)
    ok(client.post("/api/v1/tasks", json={"title": "Paint", "project_id": office["id"]}), 201)
    today = datetime.now(UTC).date().isoformat()
    entry = {"item": on_site["number"], "date": today, "minutes": 60, "billable": False}
    ok(client.post("/api/v1/timesheets", json=entry), 201)

    def run(**params: Any) -> Any:
        params.setdefault("from", today)
        params.setdefault("to", today)
        if "filters" in params:
            params["filters"] = orjson.dumps(params["filters"]).decode()
        return client.get(f"{BASE}/custom", params=params, headers=after(live))

    # A project in two customers' folders counts for each customer
    by_customer = ok(run(dataset="items", dimensions="customer", measures="count"))
    assert [(r["customer_name"], r["count"]) for r in by_customer["rows"]] == [
        ("(none)", 2), ("Acme", 1), ("Globex", 1),
    ]  # fmt: skip
    # ... but a filter on customers counts each row once, and `ne` leaves the project out
    either = [{"field": "customer", "op": "in", "value": [acme, globex]}]
    assert ok(run(dataset="items", measures="count", filters=either))["rows"] == [{"count": 1}]
    not_acme = [{"field": "customer", "op": "ne", "value": acme}]
    assert ok(run(dataset="items", measures="count", filters=not_acme))["totals"] == {"count": 2}
    for_acme = [{"field": "customer", "op": "eq", "value": acme}]
    hours = ok(run(dataset="time", measures="hours,entries", filters=for_acme))
    assert hours["rows"] == [{"hours": 1.0, "entries": 1}]
    # `ne` keeps what has no value (no SLA state); billable is true or false
    no_breach = [{"field": "sla_state", "op": "ne", "value": "breached"}]
    assert ok(run(dataset="items", measures="count", filters=no_breach))["totals"] == {"count": 3}
    billable = [{"field": "billable", "op": "eq", "value": True}]
    assert ok(run(dataset="time", measures="entries", filters=billable))["rows"] == [{"entries": 0}]
    # Nothing matches: still one row of totals
    assert ok(run(dataset="time", measures="hours", **{"from": "2020-01-01", "to": "2020-01-31"}))[
        "rows"
    ] == [{"hours": 0}]

    exported = client.get(
        f"{BASE}/custom",
        params={"dataset": "items", "dimensions": "project,kind", "measures": "count",
                "from": today, "to": today, "format": "xlsx"},
        headers=after(live),
    )  # fmt: skip
    assert exported.status_code == 200, exported.text
    sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
    assert sheet is not None
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["project", "project_name", "kind", "count"],
        [office["id"], "Office", "task", 1],
        [office["id"], "Office", "ticket", 1],
        [site["id"], "Site", "ticket", 1],
    ]

    # Switched off, an app's items are in no row, and time is empty
    settings = {"apps": {"tasks": False, "timesheets": False}}
    assert client.patch("/api/v1/admin/settings", json=settings).status_code == 200
    kinds = ok(run(dataset="items", dimensions="kind", measures="count"))["rows"]
    assert kinds == [{"kind": "ticket", "count": 2}]
    assert ok(run(dataset="time", measures="hours"))["rows"] == [{"hours": 0}]
