"""What an automation rule's actions do to an item, in the unit of work of the rule's run:
each through the same handler a person's command takes (so the same checks hold), acting as
`automation:<rule id>`, which the access rules trust as they trust the system (admins wrote
the rule)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from commands.mail.outgoing.service import MailOutService
from commands.models import (
    AddFollower,
    AssignTeam,
    ChangeTicketStatus,
    Context,
    MoveTicket,
    PostMessage,
)
from commands.sla.items import ItemSlaService
from commands.tasks import convert_ticket
from commands.tickets import (
    add_follower,
    assign_team,
    change_ticket_status,
    move_ticket,
    post_message,
)
from commands.unit_of_work import UnitOfWork
from commands.workflow.statuses import status_named
from domain.errors import InvalidValueError
from domain.task import Task
from domain.ticket import Ticket


@dataclass(frozen=True)
class Acting:
    """One rule acting on one item: who acts, the run's id (what derived ids come from), and
    what the rule's templates see of the item."""

    ctx: Context
    run_id: UUID
    rule_id: str
    # Its templates, rendered before the write began: (action index, part) -> text.
    rendered: dict[tuple[int, str], str]
    sla: ItemSlaService
    mail_out: MailOutService | None


Spec = dict[str, Any]
Item = Ticket | Task
Action = Callable[[Spec, Item, UnitOfWork, Acting, int], list[Any]]


def set_status(a: Spec, item: Item, uow: UnitOfWork, on: Acting, i: int) -> list[Any]:
    """The status the rule names, or what it leads to now (renamed, or retired and
    replaced, since the rule was saved)."""
    item_type = getattr(item, "item_type", item.KIND)
    name = status_named(uow, item_type, a["status"]) or a["status"]
    change_ticket_status(item, ChangeTicketStatus(status=name), uow, on.ctx)
    return []


def set_priority(a: Spec, item: Item, uow: UnitOfWork, on: Acting, i: int) -> list[Any]:
    item.reprioritise(a["priority"], on.ctx.actor, on.ctx.correlation_id)
    return []


def assign(a: Spec, item: Item, uow: UnitOfWork, on: Acting, i: int) -> list[Any]:
    """The item's assignees become exactly these (each an existing user)."""
    wanted = [UUID(u) for u in a["user_ids"]]
    for user_id in wanted:
        uow.user(user_id)
    for old in list(item.assignees):
        if UUID(old) not in wanted:
            item.unassign(UUID(old), on.ctx.actor, on.ctx.correlation_id)
    for user_id in wanted:
        item.assign(user_id, on.ctx.actor, on.ctx.correlation_id)
    return []


def set_team(a: Spec, item: Item, uow: UnitOfWork, on: Acting, i: int) -> list[Any]:
    team = UUID(a["team_id"]) if a["team_id"] else None
    assign_team(item, AssignTeam(team_id=team), uow, on.ctx)
    return []


def move(a: Spec, item: Item, uow: UnitOfWork, on: Acting, i: int) -> list[Any]:
    folder = UUID(a["folder_id"]) if a["folder_id"] else None
    return move_ticket(
        item, MoveTicket(project_id=UUID(a["project_id"]), folder_id=folder), uow, on.ctx
    )


def follow(a: Spec, item: Item, uow: UnitOfWork, on: Acting, i: int) -> list[Any]:
    add_follower(item, AddFollower(user_id=UUID(a["user_id"])), uow, on.ctx)
    return []


def _post(visibility: str) -> Action:
    def post(a: Spec, item: Item, uow: UnitOfWork, on: Acting, i: int) -> list[Any]:
        message = PostMessage(
            message_id=uuid5(on.run_id, f"{on.rule_id}/{i}"),
            body=on.rendered[(i, "body")],
            visibility=visibility,
        )
        post_message(item, message, uow, on.ctx)
        return []

    return post


def apply_sla(a: Spec, item: Item, uow: UnitOfWork, on: Acting, i: int) -> list[Any]:
    """A policy, or with none named the default policy (if admins chose one) unless the item
    is held to one already."""
    if a["policy_id"] is None:
        return on.sla.default_in(uow, item.number, on.ctx)
    return on.sla.apply_in(uow, item.number, UUID(a["policy_id"]), on.ctx)


def send_email(a: Spec, item: Item, uow: UnitOfWork, on: Acting, i: int) -> list[Any]:
    if on.mail_out is None:
        return []
    rendered = {part: on.rendered[(i, part)] for part in ("subject", "body")}
    key = f"automation:{on.run_id}:{on.rule_id}:{i}"
    return on.mail_out.rule_mail(uow, item, a["to"], key, rendered, on.ctx)


def convert(a: Spec, item: Item, uow: UnitOfWork, on: Acting, i: int) -> list[Any]:
    if not isinstance(item, Ticket):
        raise InvalidValueError("type", "only a ticket is converted to a task")
    return convert_ticket(item, uow, on.ctx)


ACTIONS: dict[str, Action] = {
    "set_status": set_status,
    "set_priority": set_priority,
    "assign": assign,
    "set_team": set_team,
    "move": move,
    "add_follower": follow,
    "reply": _post("customer"),
    "internal_message": _post("internal"),
    "apply_sla": apply_sla,
    "send_email": send_email,
    "convert_to_task": convert,
}
