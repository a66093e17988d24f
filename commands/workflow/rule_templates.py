"""The templates of automation rules (auto-replies, internal messages, mail): Jinja2 in a
sandbox, with the item's fields as `item` (number, title, kind, item_type, status, state,
priority, requester, channel). A template that does not compile or render on a sample item
is refused when the rule is saved, naming the action; one that fails on a real item later
(it cannot: the variables are the same) would fail that rule's run, never another's."""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from domain.errors import InvalidValueError

_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
SAMPLE = {
    "number": 1042,
    "title": "The printer on floor 2 is on fire",
    "kind": "ticket",
    "item_type": "ticket",
    "status": "Open",
    "state": "in_progress",
    "priority": "normal",
    "requester": "ada@customer.example",
    "channel": "email",
}
TEMPLATED = ("body", "subject")


def render(template: str, item: dict[str, Any]) -> str:
    """`template` with `item` (the keys of `SAMPLE`)."""
    return _ENV.from_string(template).render(item=item)


def check_templates(actions: list[dict[str, Any]]) -> None:
    """Raise InvalidValueError naming the first template (`actions[1].body`) that does not
    compile or render on a sample item."""
    for index, action in enumerate(actions):
        for part in TEMPLATED:
            if part in action:
                where = f"actions[{index}].{part}"
                try:
                    rendered = render(action[part], SAMPLE)
                except TemplateError as problem:
                    raise InvalidValueError(where, f"{where}: {problem}") from None
                if not rendered.strip():
                    raise InvalidValueError(where, f"{where} renders as nothing")


def item_values(fields: dict[str, Any], number: int, kind: str) -> dict[str, Any]:
    """What templates see of an item, from its fields as rules see them."""
    return {
        "number": number,
        "title": fields["title"],
        "kind": kind,
        "item_type": fields["item_type"],
        "status": fields["status"],
        "state": fields["state"],
        "priority": fields["priority"],
        "requester": fields["requester"] or "",
        "channel": fields["channel"] or "",
    }
