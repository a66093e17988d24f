from __future__ import annotations

import io
from datetime import timedelta

import pypdf
from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.api.seeded_desk import Desk, after, ok

BASE = "/api/v1/reports"


def run(client, desk, template, **params):
    params.setdefault("from", desk.first.isoformat())
    params.setdefault("to", desk.today.isoformat())
    headers = after(desk.live, params.pop("headers", None))
    return client.get(f"{BASE}/{template}", params=params, headers=headers)


def test_probe(client: TestClient, live: bootstrap.Container) -> None:
    desk = Desk(client, live)
    acme, globex = (
        str(ok(client.post("/api/v1/customers", json={"name": n}), 201)["id"])
        for n in ("Acme", "Globex")
    )
    both = ok(client.post("/api/v1/projects", json={"name": "Both", "customer_ids": [acme, globex]}), 201)["id"]
    ok(client.post("/api/v1/tickets", json={"title": "Shared", "project_id": both}), 201)
    plain = ok(run(client, desk, "tickets"))
    cust = ok(run(client, desk, "tickets", group_by="customer"))
    print("PLAIN totals", plain["totals"], plain["chart"]["series"])
    print("CUSTOMER totals", cust["totals"], cust["chart"]["series"])
    print("CUSTOMER rows", cust["rows"])
    # own routes first
    ts = client.get(f"{BASE}/timesheets")
    print("TS", ts.status_code, list(ts.json())[:4])
    sla = client.get(f"{BASE}/sla-compliance")
    print("SLA", sla.status_code, list(sla.json())[:4])
    # pdfs
    for t in ("tickets", "response-times", "task-progress", "user-activity"):
        for extra in ({}, {"group_by": "project"} if t in ("tickets", "response-times", "task-progress") else {"period": "month"}):
            r = run(client, desk, t, format="pdf", **extra)
            pages = pypdf.PdfReader(io.BytesIO(r.content)).pages if r.status_code == 200 else []
            print("PDF", t, extra, r.status_code, len(pages))
    # empty range far in past
    r = run(client, desk, "tickets", format="pdf", **{"from": "2020-01-01", "to": "2020-01-31"})
    print("EMPTY", r.status_code)
    # only from in the future
    fut = (desk.today + timedelta(days=3)).isoformat()
    r = client.get(f"{BASE}/tickets", params={"from": fut})
    print("FUTURE FROM", r.status_code, r.json().get("errors"))
    # catalogue
    print("CAT", [ (t["key"], t["periods"], t["formats"]) for t in ok(client.get(BASE))["templates"]])
    # timesheets app off: own route still matched
    client.patch("/api/v1/admin/settings", json={"apps": {"timesheets": False}})
    ts = client.get(f"{BASE}/timesheets")
    print("TS OFF", ts.status_code, ts.json().get("detail"))
    client.patch("/api/v1/admin/settings", json={"features": {"sla": False}})
    sla = client.get(f"{BASE}/sla-compliance")
    print("SLA OFF", sla.status_code, sla.json().get("detail"))
    assert False
