"""The shipped Prometheus alert rules (deploy/prometheus/) name only metrics `/metrics`
serves, and each rule is whole: an expression, a summary and a description."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from ledgerdesk import bootstrap

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "ledgerdesk-alerts.yml"
TOKEN = "alert-rules-0123456789abcdef"
SUFFIXES = re.compile(r"_(total|bucket|count|sum)$")


def rules() -> list[dict[str, object]]:
    loaded = yaml.safe_load(RULES.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def test_every_rule_is_whole() -> None:
    found = rules()
    assert len(found) >= 8
    names = [rule["alert"] for rule in found]
    assert len(set(names)) == len(names)
    for rule in found:
        assert isinstance(rule["expr"], str)
        assert rule["expr"].strip()
        annotations = rule["annotations"]
        assert isinstance(annotations, dict)
        assert annotations["summary"]
        assert annotations["description"]


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_the_rules_use_only_metrics_that_are_served(container: bootstrap.Container) -> None:
    used = {
        SUFFIXES.sub("", name)
        for rule in rules()
        for name in re.findall(r"\bledgerdesk_[a-z_]+", str(rule["expr"]))
    }
    with TestClient(create_app(replace(container.services(), metrics_token=TOKEN))) as http:
        answer = http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    served = {family.name for family in text_string_to_metric_families(answer.text)}
    assert used - served == set()
    assert len(used) >= 8
