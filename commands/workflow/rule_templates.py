"""The templates of automation rules (auto-replies, internal messages, mail): Jinja2 in the
mail templates' sandbox (its limits on depth, size and memory), with the item's fields as
`item` (number, title, kind, item_type, status, state, priority, requester, channel). A
template that does not compile or render on a sample item is refused when the rule is
saved, naming the action; one that still fails on a real item (a filter on an empty
requester, say) fails that rule's run — an InvalidValueError naming the part — never
another rule's."""

from __future__ import annotations

from typing import Any

from commands.mail.outgoing.templates import TemplateProblem, render_text
from domain.errors import InvalidValueError

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


def render(template: str, item: dict[str, Any], where: str = "body") -> str:
    """`template` with `item` (the keys of `SAMPLE`); an InvalidValueError naming `where`
    (`actions[1].body`) when it does not compile or render."""
    try:
        return render_text(where, template, {"item": item})
    except TemplateProblem as problem:
        line = f", line {problem.line}" if problem.line else ""
        raise InvalidValueError(where, f"{where}{line}: {problem.detail_message}") from None


def rendered_templates(
    actions: list[dict[str, Any]], item: dict[str, Any]
) -> dict[tuple[int, str], str]:
    """Each template of `actions` with `item`, by (action index, part); an
    InvalidValueError naming the first part (`actions[1].body`) that does not render."""
    return {
        (i, part): render(action[part], item, f"actions[{i}].{part}")
        for i, action in enumerate(actions)
        for part in TEMPLATED
        if part in action
    }


def check_templates(actions: list[dict[str, Any]]) -> None:
    """Raise InvalidValueError naming the first template (`actions[1].body`) that does not
    compile or render on a sample item, or renders as nothing."""
    for (i, part), text in rendered_templates(actions, SAMPLE).items():
        if not text.strip():
            where = f"actions[{i}].{part}"
            raise InvalidValueError(where, f"{where} renders as nothing")


def item_values(fields: dict[str, Any], number: int, kind: str) -> dict[str, Any]:
    """What templates see of an item, from its fields as rules see them."""
    return {
        "number": number,
        "title": fields["title"],
        "kind": kind,
        "item_type": fields["item_type"],
        # (Conditions see a status with its former names: the first is its name.)
        "status": fields["status"][0] if isinstance(fields["status"], list) else fields["status"],
        "state": fields["state"],
        "priority": fields["priority"],
        "requester": fields["requester"] or "",
        "channel": fields["channel"] or "",
    }
