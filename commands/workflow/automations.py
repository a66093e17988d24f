"""Automation rules, managed by admins: each change one event of the `Automations`
aggregate (defined, deleted, reordered). A rule is checked whole before it is recorded — its
shape (`domain.workflow.rules.checked_rule`), what it names (the item type, statuses of that
type, users, teams, the project and folder, the SLA policy) and its templates — so a rule
that is saved can run. The dry run judges a rule's conditions on existing items now."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from commands.access import load_project
from commands.application import LedgerDesk
from commands.errors import TeamNotFoundError
from commands.folders import load_folder
from commands.models import Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import require_admin
from commands.workflow.rule_fields import complete
from commands.workflow.rule_templates import check_templates
from commands.workflow.statuses import item_types, statuses_of_type, with_statuses
from domain.errors import InvalidValueError, NotFoundError
from domain.item_numbers import item_id
from domain.sla.policies import SLA_POLICIES_ID, SlaPolicies, SlaPolicyNotFoundError
from domain.team import Team
from domain.values import utc_text
from domain.workflow.automations import AUTOMATIONS_ID, Automations, applies_to
from domain.workflow.rules import (
    EVERY_TICKET_TYPE,
    blank_rule,
    checked_actions,
    checked_rule,
    matches,
)
from domain.workflow.triggers import fields_at


def _automations(uow: UnitOfWork, ctx: Context) -> Automations:
    return uow.get(AUTOMATIONS_ID, Automations) or Automations.start(
        ctx.actor.ref, ctx.correlation_id
    )


def _if_changed(automations: Automations, before: int) -> list[Any]:
    """What to save: the rules, if a change was recorded after the `before` events already
    pending (a fresh start's shipped rules) — one that changes nothing saves nothing."""
    return [automations] if len(automations.pending_events) > before else []


def shown(automations: Automations, rule: dict[str, Any]) -> dict[str, Any]:
    """A rule for an answer: with its position in its type's order."""
    order = automations.orders.get(rule["item_type"], [])
    return {**rule, "position": order.index(rule["id"])}


class AutomationService:
    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def _read(self, ctx: Context) -> tuple[UnitOfWork, Automations]:
        uow = UnitOfWork(self.app)
        require_admin(uow, ctx, "read automation rules")
        return uow, uow.get(AUTOMATIONS_ID, Automations) or Automations.shipped()

    def rules(self, item_type: str | None, ctx: Context) -> list[dict[str, Any]]:
        """The rules (of `item_type`), each type's in the order they run."""
        _, automations = self._read(ctx)
        types = [item_type] if item_type else sorted(automations.orders)
        return [shown(automations, r) for t in types for r in automations.of_type(t)]

    def get(self, rule_id: str, ctx: Context) -> dict[str, Any]:
        _, automations = self._read(ctx)
        return shown(automations, automations.find(rule_id))

    def create(self, given: dict[str, Any], ctx: Context) -> tuple[dict[str, Any], int]:
        """A new rule (`item_type` required); it acts on what happens from now on."""
        rule_id = str(uuid.uuid4())
        item_type = given.get("item_type")
        if not isinstance(item_type, str) or not item_type:
            raise InvalidValueError("item_type", "a rule needs an item type")
        return self._define(rule_id, given, ctx, new=True)

    def change(
        self, rule_id: str, given: dict[str, Any], ctx: Context, position: Any = None
    ) -> tuple[dict[str, Any], int]:
        """Change what is `given` of a rule (enabled among them), and with `position` its
        place in its type's order, in one write; the rest stays."""
        return self._define(rule_id, given, ctx, new=False, position=position)

    def _define(
        self,
        rule_id: str,
        given: dict[str, Any],
        ctx: Context,
        new: bool,
        position: Any = None,
    ) -> tuple[dict[str, Any], int]:
        if "actions" in given:  # Rendered here, not while every writer waits on the commit.
            check_templates(checked_actions(given["actions"]))

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "change automation rules")
            automations = _automations(uow, ctx)
            before = len(automations.pending_events)
            base = blank_rule(rule_id, given.get("item_type", "")) if new else None
            if base is None:
                base = {k: v for k, v in automations.find(rule_id).items() if k != "since"}
            rule = checked_rule(given, base)
            if new or "actions" in given or "trigger" in given:
                # (Only what is given: a rule whose status was retired since can still be
                # disabled or renamed.)
                check_references(uow, rule)
            now = utc_text(datetime.now(UTC))
            automations.define(rule, now, ctx.actor.ref, ctx.correlation_id)
            if position is not None:
                automations.move(rule_id, position, ctx.actor.ref, ctx.correlation_id)
            return _if_changed(automations, before)

        saved, at = run(self.app, AUTOMATIONS_ID, decide)
        found = saved[0] if saved else self._current()
        return shown(found, found.find(rule_id)), at

    def move(self, rule_id: str, position: Any, ctx: Context) -> tuple[dict[str, Any], int]:
        """Put a rule at `position` (0: it runs first) among its type's rules."""

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "change automation rules")
            automations = _automations(uow, ctx)
            before = len(automations.pending_events)
            automations.move(rule_id, position, ctx.actor.ref, ctx.correlation_id)
            return _if_changed(automations, before)

        saved, at = run(self.app, AUTOMATIONS_ID, decide)
        found = saved[0] if saved else self._current()
        return shown(found, found.find(rule_id)), at

    def delete(self, rule_id: str, ctx: Context) -> int:
        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "change automation rules")
            automations = _automations(uow, ctx)
            automations.delete(rule_id, ctx.actor.ref, ctx.correlation_id)
            return [automations]

        return run(self.app, AUTOMATIONS_ID, decide)[1]

    def _current(self) -> Automations:
        return UnitOfWork(self.app).get(AUTOMATIONS_ID, Automations) or Automations.shipped()

    def dry_run(self, rule_id: str, numbers: Sequence[int], ctx: Context) -> list[dict[str, Any]]:
        """Which of the items `numbers` (the rule's type, from a view) the rule's
        conditions hold for now: number, title, status."""
        uow, automations = self._read(ctx)
        rule = automations.find(rule_id)
        found = []
        for number in numbers:
            events: list[Any] = list(self.app.events.get(item_id(number)))
            fields = fields_at(events)
            if fields is None or not applies_to(rule, fields["item_type"]):
                continue
            if type(events[-1]).__name__ == "ConvertedToTask":
                continue  # A converted ticket: its task is the item now.
            fields = complete(uow, item_id(number), fields)
            if matches(rule["conditions"], fields):
                found.append(
                    {"number": number, "title": fields["title"], "status": fields["status"][0]}
                )
        return found


def check_references(uow: UnitOfWork, rule: dict[str, Any]) -> None:
    """What `rule` names exists: its item type, in use, and what each action names — a
    status of that type in use, users, a team, a project and a folder in it, an SLA policy
    in force (an InvalidValueError naming the part)."""
    item_type = rule["item_type"]
    kind = (
        "ticket" if item_type == EVERY_TICKET_TYPE else item_types(uow, in_use=True).get(item_type)
    )
    if kind is None:
        raise InvalidValueError("item_type", f"no item type {item_type!r} is in use")
    if kind == "task" and item_type != "task":
        raise InvalidValueError(
            "item_type", "every task follows the rules of the `task` type: write those"
        )
    in_use = _statuses_in_use(uow, item_type)
    trigger = rule["trigger"]
    if trigger["type"] == "field_changed" and trigger["field"] == "status":
        for end in ("from", "to"):
            if trigger.get(end) is not None and trigger[end].casefold() not in in_use:
                raise InvalidValueError(f"trigger.{end}", f"no status {trigger[end]!r} is in use")
    for index, action in enumerate(rule["actions"]):
        where = f"actions[{index}]"
        try:
            _check_action(uow, action, where, in_use, kind)
        except NotFoundError as missing:
            raise InvalidValueError(_place(action, where), str(missing)) from None


def _statuses_in_use(uow: UnitOfWork, item_type: str) -> set[str]:
    """The names (case-folded) of the statuses in use of `item_type`; for every ticket
    type, those of any."""
    types = [item_type]
    if item_type == EVERY_TICKET_TYPE:
        types = [t for t, kind in with_statuses(uow).items() if kind == "ticket"]
    return {
        s["name"].casefold() for t in types for s in statuses_of_type(uow, t)[2] if not s["retired"]
    }


def _place(action: dict[str, Any], where: str) -> str:
    """Where in `action` what it names is given."""
    field = {
        "assign": "user_ids",
        "add_follower": "user_id",
        "set_team": "team_id",
        "move": "project_id",
        "apply_sla": "policy_id",
    }.get(action["type"], "type")
    return f"{where}.{field}"


def _check_action(
    uow: UnitOfWork, action: dict[str, Any], where: str, in_use: set[str], kind: str
) -> None:
    kind_of = action["type"]
    if kind_of == "set_status" and action["status"].casefold() not in in_use:
        raise InvalidValueError(f"{where}.status", f"no status {action['status']!r} is in use")
    if kind_of in ("assign", "add_follower"):
        for user in action.get("user_ids", [action.get("user_id")]):
            uow.user(UUID(user))
    team = action.get("team_id") if kind_of == "set_team" else None
    if team and uow.get(UUID(team), Team) is None:
        raise TeamNotFoundError(UUID(team))
    if kind_of == "move":
        load_project(uow, UUID(action["project_id"]))
        if action["folder_id"]:
            try:
                load_folder(uow, UUID(action["folder_id"]), UUID(action["project_id"]))
            except (NotFoundError, InvalidValueError) as wrong:
                raise InvalidValueError(f"{where}.folder_id", str(wrong)) from None
    if kind_of == "apply_sla" and action["policy_id"]:
        policies = uow.get(SLA_POLICIES_ID, SlaPolicies)
        if policies is None:
            raise SlaPolicyNotFoundError(action["policy_id"])
        if policies.find(action["policy_id"])["retired"]:
            raise InvalidValueError(f"{where}.policy_id", "that policy is retired")
    if kind_of == "convert_to_task" and kind != "ticket":
        raise InvalidValueError(f"{where}.type", "only tickets are converted to tasks")
