"""Handlers for ticket commands: load, call one domain method, leave saving to the caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from commands.access import load_project, manages_projects, require_role, role_in
from commands.company_settings import require_kind_on
from commands.customers import ensure_contact
from commands.errors import TaskNotFoundError, TeamNotFoundError, TicketNotFoundError
from commands.folders import load_folder
from commands.models import (
    AddAttachment,
    AddFollower,
    AssignTeam,
    AssignUser,
    ChangeTicketStatus,
    Context,
    EditTicketDescription,
    MoveTicket,
    OpenTicket,
    PostMessage,
    RemoveFollower,
    ReprioritiseTicket,
    RetitleTicket,
    UnassignUser,
)
from commands.unit_of_work import UnitOfWork
from commands.users import acting_user
from commands.workflow.statuses import lifecycle_for, lifecycle_of_item
from domain.access import ProjectRole, may_comment, may_edit_item
from domain.errors import InvalidValueError, PermissionDeniedError
from domain.intake.item_types import (
    DEFAULT_TYPE,
    ITEM_TYPES_ID,
    ItemTypes,
    check_fields,
    customer_choosable,
    usable,
)
from domain.project import INBOX_ID, Project
from domain.team import Team
from domain.ticket import Ticket
from domain.user import Apps, User
from domain.work_item import WorkItem

# A handler changes the ticket; it returns other aggregates it changed, if any.
TicketHandler = Callable[[Any, Any, UnitOfWork, Context], list[Any] | None]
CREATORS = {ProjectRole.MANAGER, ProjectRole.LEAD, ProjectRole.STANDARD}


def require_tickets_app(user: User | None) -> None:
    if user is not None and user.apps not in (Apps.TICKETS, Apps.BOTH):
        raise PermissionDeniedError("the tickets app is not enabled for you")


def require_tasks_app(user: User | None) -> None:
    if user is not None and user.apps not in (Apps.TASKS, Apps.BOTH):
        raise PermissionDeniedError("the tasks app is not enabled for you")


def require_app(user: User | None, item: WorkItem) -> None:
    """The caller uses the app this item belongs to (tickets or tasks)."""
    (require_tickets_app if isinstance(item, Ticket) else require_tasks_app)(user)


def open_ticket(
    cmd: OpenTicket, uow: UnitOfWork, ctx: Context, requester_name: str = ""
) -> list[Any]:
    """A ticket of its item type (`ticket` by default), placed where the caller says or
    else where its type puts its items (the Inbox by default); a requester seen for the
    first time becomes a contact named `requester_name`."""
    kind = item_type_for(uow, cmd.item_type or DEFAULT_TYPE["ticket"], "ticket")
    fields = check_fields(kind, cmd.fields)
    target = (
        UUID(kind["project_id"]) if kind["project_id"] else INBOX_ID,
        UUID(kind["folder_id"]) if kind["folder_id"] else None,
    )
    if ctx.actor.kind == "customer":
        # Customers open tickets of the types they may choose, where those put them.
        if not customer_choosable(kind):
            raise InvalidValueError("item_type", f"customers may not open a {kind['key']!r}")
        if (cmd.project_id or target[0], cmd.folder_id or target[1]) != target:
            raise PermissionDeniedError("customers open requests where their type puts them")
        project_id, folder_id = target
        project = load_project(uow, project_id, ctx)
    else:
        require_tickets_app(acting_user(uow, ctx))
        placed = cmd.project_id is not None or cmd.folder_id is not None
        project_id, folder_id = (cmd.project_id or INBOX_ID, cmd.folder_id) if placed else target
        project = load_project(uow, project_id, ctx)
        require_role(uow, ctx, project, CREATORS, "open items here")
    return new_ticket(
        uow,
        ctx,
        project,
        folder_id,
        title=cmd.title,
        description=cmd.description,
        requester_email=cmd.requester_email,
        channel=cmd.channel,
        priority=cmd.priority.value,
        item_type=kind["key"],
        fields=fields,
        requester_name=requester_name,
    )


def item_type_for(uow: UnitOfWork, key: str, kind: str) -> dict[str, Any]:
    """The definition of item type `key`, usable for a new item of `kind` (422 if not)."""
    return usable(uow.get(ITEM_TYPES_ID, ItemTypes), key, kind)


def new_ticket(
    uow: UnitOfWork,
    ctx: Context,
    project: Project,
    folder_id: UUID | None,
    *,
    requester_name: str = "",
    **opened: Any,
) -> list[Any]:
    """A ticket with the next number in `project` (and the folder, of that project), opened
    by `ctx.actor` once whoever asks may; the aggregates to save, the ticket last. None
    while the tickets app is switched off, whichever way it would come in."""
    require_kind_on(uow, "ticket")
    folder = load_folder(uow, folder_id, project.id) if folder_id else None
    counter = uow.counter()
    ticket = Ticket.open(
        number=counter.issue("ticket", ctx.actor, ctx.correlation_id),
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
        project_id=project.id,
        folder_id=folder_id,
        lifecycle=lifecycle_for(uow, opened.get("item_type", "ticket"), "ticket"),
        **opened,
    )
    # A requester seen for the first time becomes a contact, in the same atomic write.
    requester = opened.get("requester_email")
    contact = ensure_contact(uow, requester, ctx, name=requester_name) if requester else None
    # The project saves nothing unless it is a new Inbox.
    if folder is not None:
        folder.file_item(ticket.number, ctx.actor, ctx.correlation_id)
    extra = [a for a in (contact, folder) if a is not None]
    return [counter, project, *extra, ticket]


def require_visible(ticket: WorkItem, uow: UnitOfWork, ctx: Context) -> ProjectRole | None:
    """The caller may know this item exists (has its app and a role in its project);
    otherwise it is not found, never forbidden. Returns the caller's role there (None for
    the system and those who manage every project)."""
    user = acting_user(uow, ctx)
    require_app(user, ticket)
    if manages_projects(user):
        return None
    assert user is not None
    role = role_in(uow, load_project(uow, UUID(ticket.project_id), ctx), user)
    if role is None:
        raise item_not_found(ticket)
    return role


def item_not_found(item: WorkItem) -> Exception:
    return (
        TicketNotFoundError(item.number)
        if isinstance(item, Ticket)
        else TaskNotFoundError(item.number)
    )


def authorize(ticket: WorkItem, cmd: Any, uow: UnitOfWork, ctx: Context) -> None:
    """May the caller do `cmd` to this item, given their role in its project?"""
    role = require_visible(ticket, uow, ctx)
    if role is None:
        return
    allowed = may_comment(role) if type(cmd) in ANYONE_IN_THE_PROJECT else _edits(ticket, role, ctx)
    if not allowed:
        raise PermissionDeniedError("your role in this project does not allow that")


def require_editor(ticket: WorkItem, uow: UnitOfWork, ctx: Context) -> None:
    """The caller may edit this item (what a change other than a comment needs)."""
    role = require_visible(ticket, uow, ctx)
    if role is not None and not _edits(ticket, role, ctx):
        raise PermissionDeniedError("your role in this project does not allow that")


def _edits(ticket: WorkItem, role: ProjectRole, ctx: Context) -> bool:
    own = ticket.created_by == ctx.actor.ref or ctx.actor.ident in ticket.assignees
    return may_edit_item(role, own_or_assigned=own)


def move_ticket(ticket: WorkItem, cmd: MoveTicket, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """Move to another project or folder; the folders' contents follow (saved together)."""
    target = load_project(uow, cmd.project_id, ctx)
    require_role(uow, ctx, target, CREATORS, "move items into that project")
    new = load_folder(uow, cmd.folder_id, cmd.project_id) if cmd.folder_id else None
    old = load_folder(uow, UUID(ticket.folder_id)) if ticket.folder_id else None
    ticket.move(cmd.project_id, cmd.folder_id, ctx.actor, ctx.correlation_id)
    if old is not None and old is not new:
        old.unfile_item(ticket.number, ctx.actor, ctx.correlation_id)
    if new is not None:
        new.file_item(ticket.number, ctx.actor, ctx.correlation_id)
    return [f for f in (old, new) if f is not None]


def retitle_ticket(ticket: WorkItem, cmd: RetitleTicket, uow: UnitOfWork, ctx: Context) -> None:
    ticket.retitle(cmd.title, ctx.actor, ctx.correlation_id)


def edit_ticket_description(
    ticket: WorkItem, cmd: EditTicketDescription, uow: UnitOfWork, ctx: Context
) -> None:
    ticket.edit_description(cmd.description, ctx.actor, ctx.correlation_id)


def reprioritise_ticket(
    ticket: WorkItem, cmd: ReprioritiseTicket, uow: UnitOfWork, ctx: Context
) -> None:
    ticket.reprioritise(cmd.priority.value, ctx.actor, ctx.correlation_id)


def change_ticket_status(
    ticket: WorkItem, cmd: ChangeTicketStatus, uow: UnitOfWork, ctx: Context
) -> None:
    ticket.change_status(cmd.status, ctx.actor, ctx.correlation_id, lifecycle_of_item(uow, ticket))


def assign_user(ticket: WorkItem, cmd: AssignUser, uow: UnitOfWork, ctx: Context) -> None:
    uow.user(cmd.user_id)
    ticket.assign(cmd.user_id, ctx.actor, ctx.correlation_id)


def unassign_user(ticket: WorkItem, cmd: UnassignUser, uow: UnitOfWork, ctx: Context) -> None:
    ticket.unassign(cmd.user_id, ctx.actor, ctx.correlation_id)


def assign_team(ticket: WorkItem, cmd: AssignTeam, uow: UnitOfWork, ctx: Context) -> None:
    if cmd.team_id is not None and uow.get(cmd.team_id, Team) is None:
        raise TeamNotFoundError(cmd.team_id)
    ticket.assign_team(cmd.team_id, ctx.actor, ctx.correlation_id)


def add_follower(ticket: WorkItem, cmd: AddFollower, uow: UnitOfWork, ctx: Context) -> None:
    uow.user(cmd.user_id)
    ticket.add_follower(cmd.user_id, ctx.actor, ctx.correlation_id)


def remove_follower(ticket: WorkItem, cmd: RemoveFollower, uow: UnitOfWork, ctx: Context) -> None:
    ticket.remove_follower(cmd.user_id, ctx.actor, ctx.correlation_id)


def post_message(ticket: WorkItem, cmd: PostMessage, uow: UnitOfWork, ctx: Context) -> None:
    ticket.post_message(
        message_id=cmd.message_id,
        body=cmd.body,
        visibility=cmd.visibility,
        in_reply_to=cmd.in_reply_to,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )


def add_attachment(ticket: WorkItem, cmd: AddAttachment, uow: UnitOfWork, ctx: Context) -> None:
    ticket.add_attachment(
        attachment_id=cmd.attachment_id,
        sha256=cmd.sha256,
        name=cmd.name,
        size=cmd.size,
        media_type=cmd.media_type,
        visibility=cmd.visibility,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )


TICKET_HANDLERS: dict[type[Any], TicketHandler] = {
    MoveTicket: move_ticket,
    RetitleTicket: retitle_ticket,
    EditTicketDescription: edit_ticket_description,
    ReprioritiseTicket: reprioritise_ticket,
    ChangeTicketStatus: change_ticket_status,
    AssignUser: assign_user,
    UnassignUser: unassign_user,
    AssignTeam: assign_team,
    AddFollower: add_follower,
    RemoveFollower: remove_follower,
    PostMessage: post_message,
    AddAttachment: add_attachment,
}

# Restricted members read and comment; following is a way of reading.
ANYONE_IN_THE_PROJECT = {PostMessage, AddFollower, RemoveFollower}
