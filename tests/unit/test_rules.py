"""Automation rules in the domain: a rule is checked whole (the part that is wrong named),
and when it fires on what happened and whether an item meets its conditions."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import InvalidValueError
from domain.workflow.automations import SHIPPED_RULES, Automations, RuleNotFoundError
from domain.workflow.rules import Happened, blank_rule, checked_rule, fires, matches

USER = "6b0f1c8e-2f4a-4c1e-9d7b-3a5e8f2c1d40"
TEAM = "0e6b3f1c-8a2d-4b7e-9c1f-5d4a3b2c1e0f"

REOPEN = {
    "name": "Customer replied: reopen",
    "trigger": {"type": "customer_replied"},
    "conditions": {
        "match": "any",
        "rules": [
            {"field": "status", "operator": "is", "value": "Waiting on customer"},
            {"field": "state", "operator": "is", "value": "finished"},
        ],
    },
    "actions": [{"type": "set_status", "status": "Open"}],
}


def rule(**given: Any) -> dict[str, Any]:
    return checked_rule({**REOPEN, **given}, blank_rule("r1", "ticket"))


def item(**fields: Any) -> dict[str, Any]:
    base = {
        "project": None, "organisation": None, "requester": "ann@example.com",
        "channel": "email", "priority": "normal", "status": "Open", "state": "in_progress",
        "item_type": "ticket", "assignee": [], "team": None, "text": "Printer on fire",
        "sla_state": None,
    }  # fmt: skip
    return {**base, **fields}


def test_a_rule_is_checked_whole_and_keeps_what_it_is_given() -> None:
    checked = rule()
    assert checked["id"] == "r1"
    assert checked["item_type"] == "ticket"
    assert checked["enabled"] is True
    assert checked["trigger"] == {"type": "customer_replied"}
    assert checked["conditions"]["match"] == "any"
    assert checked["actions"] == [{"type": "set_status", "status": "Open"}]
    # A change gives only what changes.
    renamed = checked_rule({"name": "  Reopen  ", "enabled": False}, checked)
    assert (renamed["name"], renamed["enabled"], renamed["actions"]) == (
        "Reopen", False, checked["actions"],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("given", "where"),
    [
        ({"name": ""}, "name"),
        ({"colour": "red"}, "colour"),
        ({"trigger": {"type": "moon_phase"}}, "trigger.type"),
        ({"trigger": {"type": "field_changed", "field": "mood"}}, "trigger.field"),
        ({"trigger": {"type": "customer_replied", "hours": 3}}, "trigger.hours"),
        ({"trigger": {"type": "time_elapsed", "hours": 0, "since": "created"}}, "trigger.hours"),
        ({"trigger": {"type": "time_elapsed", "hours": 4, "since": "dawn"}}, "trigger.since"),
        ({"conditions": {"match": "most"}}, "conditions.match"),
        (
            {"conditions": {"rules": [{"field": "mood", "operator": "is"}]}},
            "conditions.rules[0].field",
        ),
        (
            {"conditions": {"rules": [{"field": "priority", "operator": "is", "value": "asap"}]}},
            "conditions.rules[0].value",
        ),
        (
            {
                "conditions": {
                    "rules": [{"field": "priority", "operator": "contains", "value": "x"}]
                }
            },
            "conditions.rules[0].operator",
        ),
        (
            {"conditions": {"rules": [{"field": "team", "operator": "in", "value": ["nope"]}]}},
            "conditions.rules[0].value[0]",
        ),
        (
            {"conditions": {"rules": [{"field": "team", "operator": "is_set", "value": TEAM}]}},
            "conditions.rules[0].value",
        ),
        ({"actions": []}, "actions"),
        ({"actions": [{"type": "explode"}]}, "actions[0].type"),
        ({"actions": [{"type": "assign", "user_ids": ["x"]}]}, "actions[0].user_ids[0]"),
        ({"actions": [{"type": "set_status", "status": "Open", "extra": 1}]}, "actions[0].extra"),
        ({"actions": [{"type": "reply", "body": ""}]}, "actions[0].body"),
        (
            {"actions": [{"type": "send_email", "to": ["boss"], "subject": "S", "body": "B"}]},
            "actions[0].to[0]",
        ),
        (
            {"actions": [{"type": "convert_to_task"}, {"type": "set_priority", "priority": "low"}]},
            "actions[0].type",
        ),
    ],
)
def test_a_bad_rule_is_refused_naming_the_part_that_is_wrong(
    given: dict[str, Any], where: str
) -> None:
    with pytest.raises(InvalidValueError) as raised:
        rule(**given)
    assert raised.value.field == where


def test_a_trigger_fires_on_what_it_names() -> None:
    assert fires({"type": "customer_replied"}, Happened("customer_replied"))
    assert not fires({"type": "customer_replied"}, Happened("staff_replied"))
    changed = rule(trigger={"type": "field_changed", "field": "status", "to": "resolved"})
    trigger = changed["trigger"]
    assert fires(trigger, Happened("field_changed", "status", "Open", "Resolved"))
    assert not fires(trigger, Happened("field_changed", "status", "Resolved", "Open"))
    assert not fires(trigger, Happened("field_changed", "priority", "low", "resolved"))
    any_change = rule(trigger={"type": "field_changed", "field": "priority"})["trigger"]
    assert fires(any_change, Happened("field_changed", "priority", "low", "high"))
    timed = {"type": "time_elapsed", "hours": 168, "since": "status_changed"}
    assert rule(trigger=timed)["trigger"] == timed
    assert not fires(timed, Happened("time_elapsed"))  # the tick's, not an event's


def test_conditions_hold_with_all_or_any() -> None:
    conditions = rule()["conditions"]
    assert matches(conditions, item(status="waiting on customer"))
    assert matches(conditions, item(state="finished", status="Closed"))
    assert not matches(conditions, item())
    every = {**conditions, "match": "all"}
    assert not matches(every, item(status="Waiting on customer"))
    assert matches({"match": "any", "rules": []}, item())  # no condition: every item


@pytest.mark.parametrize(
    ("condition", "fields", "holds"),
    [
        ({"field": "assignee", "operator": "is", "value": USER}, {"assignee": [USER]}, True),
        ({"field": "assignee", "operator": "is_not", "value": USER}, {"assignee": [USER]}, False),
        ({"field": "assignee", "operator": "is_set"}, {"assignee": []}, False),
        ({"field": "team", "operator": "is_not_set"}, {"team": None}, True),
        (
            {"field": "priority", "operator": "in", "value": ["high", "urgent"]},
            {"priority": "urgent"},
            True,
        ),
        (
            {"field": "priority", "operator": "not_in", "value": ["high", "urgent"]},
            {"priority": "urgent"},
            False,
        ),
        ({"field": "text", "operator": "contains", "value": "FIRE"}, {}, True),
        ({"field": "text", "operator": "not_contains", "value": "refund"}, {}, True),
        ({"field": "requester", "operator": "contains", "value": "@example.com"}, {}, True),
        ({"field": "sla_state", "operator": "is", "value": "breached"}, {"sla_state": None}, False),
    ],
)
def test_each_operator(condition: dict[str, Any], fields: dict[str, Any], holds: bool) -> None:
    checked = rule(conditions={"rules": [condition]})["conditions"]
    assert matches(checked, item(**fields)) is holds


def test_the_rules_are_kept_in_order_each_change_an_event() -> None:
    kept = Automations.start("user:admin", "c")
    shipped = [r["id"] for r in SHIPPED_RULES]
    assert [r["id"] for r in kept.of_type("ticket")] == shipped[:3]
    assert [r["id"] for r in kept.of_type("*")] == shipped[3:]
    for one in shipped:
        kept.delete(one, "user:admin", "c")
    first, second = rule(), {**rule(), "id": "r2", "name": "Second"}
    kept.define(first, "2026-12-01T00:00:00Z", "user:admin", "c")
    kept.define(second, "2026-12-02T00:00:00Z", "user:admin", "c")
    kept.define(second, "2026-12-03T00:00:00Z", "user:admin", "c")  # the same: nothing new
    assert [type(e).__name__ for e in kept.collect_events()] == [
        "Started",
        *["Defined"] * len(shipped),
        *["Deleted"] * len(shipped),
        "Defined",
        "Defined",
    ]
    assert [r["id"] for r in kept.of_type("ticket")] == ["r1", "r2"]
    assert kept.find("r2")["since"] == "2026-12-02T00:00:00Z"
    # Disabled, then enabled again: it acts from then on, not on what happened between.
    kept.define({**second, "enabled": False}, "2026-12-04T00:00:00Z", "user:admin", "c")
    assert kept.find("r2")["since"] == "2026-12-02T00:00:00Z"
    kept.define(second, "2026-12-05T00:00:00Z", "user:admin", "c")
    assert kept.find("r2")["since"] == "2026-12-05T00:00:00Z"
    kept.move("r2", 0, "user:admin", "c")
    assert [r["id"] for r in kept.of_type("ticket")] == ["r2", "r1"]
    with pytest.raises(InvalidValueError):
        kept.move("r2", -1, "user:admin", "c")
    with pytest.raises(InvalidValueError) as raised:
        kept.define({**first, "item_type": "task"}, "2026-12-06T00:00:00Z", "user:admin", "c")
    assert raised.value.field == "item_type"
    kept.delete("r1", "user:admin", "c")
    assert [r["id"] for r in kept.of_type("ticket")] == ["r2"]
    with pytest.raises(RuleNotFoundError):
        kept.delete("r1", "user:admin", "c")
