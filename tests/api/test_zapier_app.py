"""docs/zapier-app.json works against this API: each request it makes is made here, as
Zapier would make it (its templates filled, empty values removed), and answers 2xx; its
triggers cover every public event with the samples the API gives."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from domain.integrations import EVENT_NAMES, sample

APP = json.loads((Path(__file__).resolve().parents[2] / "docs" / "zapier-app.json").read_text())
TEMPLATE = re.compile(r"\{\{bundle\.(\w+)\.(\w+)\}\}|\{\{bundle\.(\w+)\}\}")


def fill(value: Any, bundle: dict[str, Any]) -> Any:
    """A request template with Zapier's `{{bundle...}}` filled from `bundle`."""
    if isinstance(value, dict):
        return {k: fill(v, bundle) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    whole = TEMPLATE.fullmatch(value)
    if whole and whole.group(1):
        return bundle[whole.group(1)].get(whole.group(2), "")
    return TEMPLATE.sub(
        lambda m: str(bundle[m.group(1)].get(m.group(2), "")) if m.group(1) else bundle[m.group(3)],
        value,
    )


def call(client: TestClient, request: dict[str, Any], bundle: dict[str, Any]) -> Any:
    done = fill(request, bundle)
    body = done.get("body")
    if body is not None and done.get("removeMissingValuesFrom", {}).get("body"):
        body = {k: v for k, v in body.items() if v not in ("", None)}
    url = done["url"].removeprefix("http://testserver")
    return client.request(done["method"], url, json=body, headers=done["headers"])


def test_every_request_of_the_zapier_app_is_answered(client: TestClient) -> None:
    token = client.headers["Authorization"].split()[1]
    auth = {"baseUrl": "http://testserver", "token": token}
    bundle: dict[str, Any] = {"authData": auth, "inputData": {}}
    assert call(client, APP["authentication"]["test"], bundle).status_code == 200
    # The actions, with what a zap would give them
    creates = APP["creates"]
    opened = call(
        client,
        creates["open_ticket"]["operation"]["perform"],
        {**bundle, "inputData": {"title": "From a zap", "requester_email": "ada@example.com"}},
    )
    assert opened.status_code == 201, opened.text
    number = opened.json()["number"]
    posted = call(
        client,
        creates["post_message"]["operation"]["perform"],
        {**bundle, "inputData": {"number": number, "body": "Hi", "visibility": "internal"}},
    )
    assert posted.status_code == 201, posted.text
    task = client.post("/api/v1/tasks", json={"title": "Billable"}).json()["number"]
    logged = call(
        client,
        creates["log_time"]["operation"]["perform"],
        {**bundle, "inputData": {"item": task, "date": "2026-12-01", "minutes": 45}},
    )
    assert logged.status_code == 201, logged.text
    # The triggers: one per public event, each subscribing, listing and unsubscribing
    triggers = APP["triggers"]
    assert sorted(t["operation"]["sample"]["type"] for t in triggers.values()) == sorted(
        EVENT_NAMES
    )
    for trigger in triggers.values():
        operation = trigger["operation"]
        assert operation["sample"] == sample(operation["sample"]["type"])
        hook_bundle = {**bundle, "targetUrl": "https://93.184.216.34/zap"}
        subscribed = call(client, operation["performSubscribe"], hook_bundle)
        assert subscribed.status_code == 201, subscribed.text
        listed = call(client, operation["performList"], bundle)
        assert listed.status_code == 200, listed.text
        assert isinstance(listed.json(), list)
        gone = call(
            client, operation["performUnsubscribe"], {**bundle, "subscribeData": subscribed.json()}
        )
        assert gone.status_code == 204, gone.text
    created = call(client, triggers["item_created"]["operation"]["performList"], bundle).json()
    assert [e["data"]["item"]["title"] for e in created][:1] == ["Billable"]
