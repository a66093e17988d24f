"""Handlers for ticket commands: load, call one domain method, leave saving to the caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commands.models import (
    AddAttachment,
    AddFollower,
    AssignUser,
    ChangeTicketStatus,
    Context,
    EditTicketDescription,
    OpenTicket,
    PostMessage,
    RemoveFollower,
    ReprioritiseTicket,
    RetitleTicket,
    UnassignUser,
)
from commands.unit_of_work import UnitOfWork
from domain.ticket import Ticket

TicketHandler = Callable[[Ticket, Any, UnitOfWork, Context], None]


def open_ticket(cmd: OpenTicket, uow: UnitOfWork, ctx: Context) -> list[Any]:
    counter = uow.counter()
    ticket = Ticket.open(
        number=counter.issue("ticket", ctx.actor, ctx.correlation_id),
        title=cmd.title,
        description=cmd.description,
        requester_email=cmd.requester_email,
        channel=cmd.channel,
        priority=cmd.priority.value,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return [counter, ticket]


def retitle_ticket(ticket: Ticket, cmd: RetitleTicket, uow: UnitOfWork, ctx: Context) -> None:
    ticket.retitle(cmd.title, ctx.actor, ctx.correlation_id)


def edit_ticket_description(
    ticket: Ticket, cmd: EditTicketDescription, uow: UnitOfWork, ctx: Context
) -> None:
    ticket.edit_description(cmd.description, ctx.actor, ctx.correlation_id)


def reprioritise_ticket(
    ticket: Ticket, cmd: ReprioritiseTicket, uow: UnitOfWork, ctx: Context
) -> None:
    ticket.reprioritise(cmd.priority.value, ctx.actor, ctx.correlation_id)


def change_ticket_status(
    ticket: Ticket, cmd: ChangeTicketStatus, uow: UnitOfWork, ctx: Context
) -> None:
    ticket.change_status(cmd.status, ctx.actor, ctx.correlation_id)


def assign_user(ticket: Ticket, cmd: AssignUser, uow: UnitOfWork, ctx: Context) -> None:
    uow.user(cmd.user_id)
    ticket.assign(cmd.user_id, ctx.actor, ctx.correlation_id)


def unassign_user(ticket: Ticket, cmd: UnassignUser, uow: UnitOfWork, ctx: Context) -> None:
    ticket.unassign(cmd.user_id, ctx.actor, ctx.correlation_id)


def add_follower(ticket: Ticket, cmd: AddFollower, uow: UnitOfWork, ctx: Context) -> None:
    uow.user(cmd.user_id)
    ticket.add_follower(cmd.user_id, ctx.actor, ctx.correlation_id)


def remove_follower(ticket: Ticket, cmd: RemoveFollower, uow: UnitOfWork, ctx: Context) -> None:
    ticket.remove_follower(cmd.user_id, ctx.actor, ctx.correlation_id)


def post_message(ticket: Ticket, cmd: PostMessage, uow: UnitOfWork, ctx: Context) -> None:
    ticket.post_message(
        message_id=cmd.message_id,
        body=cmd.body,
        visibility=cmd.visibility,
        in_reply_to=cmd.in_reply_to,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )


def add_attachment(ticket: Ticket, cmd: AddAttachment, uow: UnitOfWork, ctx: Context) -> None:
    ticket.add_attachment(
        attachment_id=cmd.attachment_id,
        sha256=cmd.sha256,
        name=cmd.name,
        size=cmd.size,
        media_type=cmd.media_type,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )


TICKET_HANDLERS: dict[type[Any], TicketHandler] = {
    RetitleTicket: retitle_ticket,
    EditTicketDescription: edit_ticket_description,
    ReprioritiseTicket: reprioritise_ticket,
    ChangeTicketStatus: change_ticket_status,
    AssignUser: assign_user,
    UnassignUser: unassign_user,
    AddFollower: add_follower,
    RemoveFollower: remove_follower,
    PostMessage: post_message,
    AddAttachment: add_attachment,
}
