"""The Ticket aggregate: a customer request and its conversation.

The write side keeps only what the rules need; the views fold the events
into everything people read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import (
    EmptyMessageError,
    EmptyTitleError,
    InternalMessageReplyError,
    InvalidValueError,
    MessageNotFoundError,
    TicketAlreadyConvertedError,
    TicketConvertedError,
)
from domain.item_numbers import item_id
from domain.project import INBOX_ID
from domain.values import (
    DEFAULT_TICKET_LIFECYCLE,
    Actor,
    Channel,
    Lifecycle,
    Priority,
    State,
    normalise_email,
)

CUSTOMER = "customer"
INTERNAL = "internal"


def _shared(name: str) -> Callable[..., None]:
    """A method that records the shared event `Ticket.<name>` on whichever item calls it
    (the Ticket class body defines each such event and how it applies)."""

    def record(self: Any, **fields: Any) -> None:
        self.trigger_event(getattr(Ticket, name), **fields)

    record.__name__ = name
    return record


class WorkItem:
    """What every item kind (ticket, task) has and does: its place, fields, people,
    status, conversation and attachments.

    Every kind records these facts with the same events. Their topics are
    `ledgerdesk:Ticket.*` because tickets were the first kind: `Ticket` defines them
    (and how each one applies), and a `Task` records them on its own stream too.
    """

    LIFECYCLE: ClassVar[Lifecycle] = DEFAULT_TICKET_LIFECYCLE
    KIND: ClassVar[str] = "ticket"
    number: int
    project_id: str
    folder_id: str | None
    created_by: str
    team_id: str | None
    title: str
    description: str
    priority: str
    status: str
    assignees: list[str]
    followers: list[str]
    message_visibility: dict[str, str]
    # Timesheet entry id -> [work date, minutes]: the time that counts on this item.
    logged: dict[str, list[Any]]

    if TYPE_CHECKING:

        def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

    def check_changeable(self) -> None:
        """Raise if this item takes no more changes (a converted ticket)."""

    _moved = _shared("Moved")
    _retitled = _shared("Retitled")
    _description_edited = _shared("DescriptionEdited")
    _reprioritised = _shared("Reprioritised")
    _status_changed = _shared("StatusChanged")
    _user_assigned = _shared("UserAssigned")
    _user_unassigned = _shared("UserUnassigned")
    _team_assigned = _shared("TeamAssigned")
    _team_unassigned = _shared("TeamUnassigned")
    _follower_added = _shared("FollowerAdded")
    _follower_removed = _shared("FollowerRemoved")
    _customer_reply_posted = _shared("CustomerReplyPosted")
    _internal_posted = _shared("InternalMessagePosted")
    _attachment_added = _shared("AttachmentAdded")
    _time_recorded = _shared("TimeRecorded")

    def move(
        self, project_id: UUID, folder_id: UUID | None, actor: Actor, correlation_id: str
    ) -> None:
        """Move to another project and/or folder (the caller checked the folder's project)."""
        self.check_changeable()
        target = (str(project_id), str(folder_id) if folder_id else None)
        if target != (self.project_id, self.folder_id):
            self._moved(
                project_id=target[0],
                folder_id=target[1],
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    # --- fields -------------------------------------------------------------

    def retitle(self, title: str, actor: Actor, correlation_id: str) -> None:
        self.check_changeable()
        title = check_title(title)
        if title != self.title:
            self._retitled(title=title, actor=actor.ref, correlation_id=correlation_id)

    def edit_description(self, description: str, actor: Actor, correlation_id: str) -> None:
        self.check_changeable()
        if description != self.description:
            self._description_edited(
                description=description, actor=actor.ref, correlation_id=correlation_id
            )

    def reprioritise(self, priority: str, actor: Actor, correlation_id: str) -> None:
        self.check_changeable()
        value = Priority.parse(priority).value
        if value != self.priority:
            self._reprioritised(priority=value, actor=actor.ref, correlation_id=correlation_id)

    def change_status(
        self,
        status: str,
        actor: Actor,
        correlation_id: str,
        lifecycle: Lifecycle | None = None,
    ) -> None:
        self.check_changeable()
        new = (lifecycle or self.LIFECYCLE).status(status)
        if new.name != self.status:
            self._status_changed(
                status=new.name,
                state=new.state.value,
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    # --- people -------------------------------------------------------------

    def assign(self, user_id: UUID, actor: Actor, correlation_id: str) -> None:
        self.check_changeable()
        if str(user_id) not in self.assignees:
            self._user_assigned(
                user_id=str(user_id), actor=actor.ref, correlation_id=correlation_id
            )

    def unassign(self, user_id: UUID, actor: Actor, correlation_id: str) -> None:
        self.check_changeable()
        if str(user_id) in self.assignees:
            self._user_unassigned(
                user_id=str(user_id), actor=actor.ref, correlation_id=correlation_id
            )

    def assign_team(self, team_id: UUID | None, actor: Actor, correlation_id: str) -> None:
        """Give the ticket to a team (one at a time), or take it away with None."""
        self.check_changeable()
        target = str(team_id) if team_id else None
        if target == self.team_id:
            return
        if target is None:
            self._team_unassigned(
                team_id=self.team_id, actor=actor.ref, correlation_id=correlation_id
            )
        else:
            self._team_assigned(team_id=target, actor=actor.ref, correlation_id=correlation_id)

    def add_follower(self, user_id: UUID, actor: Actor, correlation_id: str) -> None:
        self.check_changeable()
        if str(user_id) not in self.followers:
            self._follower_added(
                user_id=str(user_id), actor=actor.ref, correlation_id=correlation_id
            )

    def remove_follower(self, user_id: UUID, actor: Actor, correlation_id: str) -> None:
        self.check_changeable()
        if str(user_id) in self.followers:
            self._follower_removed(
                user_id=str(user_id), actor=actor.ref, correlation_id=correlation_id
            )

    # --- conversation -------------------------------------------------------

    def post_message(
        self,
        *,
        message_id: UUID,
        body: str,
        visibility: str,
        in_reply_to: UUID | None,
        actor: Actor,
        correlation_id: str,
    ) -> None:
        """Post a customer reply (seen by the customer) or an internal message."""
        self.check_changeable()
        self._check_message(body, visibility, in_reply_to)
        post = self._customer_reply_posted if visibility == CUSTOMER else self._internal_posted
        post(
            message_id=str(message_id),
            body=body,
            in_reply_to=str(in_reply_to) if in_reply_to else None,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def _check_message(self, body: str, visibility: str, in_reply_to: UUID | None) -> None:
        if not body.strip():
            raise EmptyMessageError
        if in_reply_to is None:
            return
        answered = self.message_visibility.get(str(in_reply_to))
        if answered is None:
            raise MessageNotFoundError(str(in_reply_to))
        if visibility == CUSTOMER and answered == INTERNAL:
            raise InternalMessageReplyError

    def add_attachment(
        self,
        *,
        attachment_id: UUID,
        sha256: str,
        name: str,
        size: int,
        media_type: str,
        visibility: str,
        actor: Actor,
        correlation_id: str,
    ) -> None:
        """Record an attachment whose bytes are already in the blob store."""
        self.check_changeable()
        if visibility not in (CUSTOMER, INTERNAL):
            raise InvalidValueError("visibility", "visibility is customer or internal")
        self._attachment_added(
            attachment_id=str(attachment_id),
            sha256=sha256,
            name=name,
            size=size,
            media_type=media_type,
            visibility=visibility,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    # --- time -----------------------------------------------------------------

    def record_time(
        self,
        entry_id: UUID,
        work_date: date | None,
        minutes: int,
        actor: Actor,
        correlation_id: str,
    ) -> None:
        """Timesheet entry `entry_id` now counts `minutes` on `work_date` here (None or 0:
        it no longer counts: withdrawn, rejected, or a draft)."""
        counted = [work_date.isoformat(), minutes] if work_date is not None and minutes else None
        if self.logged.get(str(entry_id)) != counted:
            self._time_recorded(
                entry_id=str(entry_id),
                work_date=counted[0] if counted else None,
                minutes=counted[1] if counted else 0,
                actor=actor.ref,
                correlation_id=correlation_id,
            )
        if counted and minutes > 0 and self.state is State.NOT_STARTED:
            # The first time logged on a not-started item: it is in progress now.
            started = next(s for s in self.LIFECYCLE.statuses if s.state is State.IN_PROGRESS)
            self.change_status(started.name, actor, correlation_id)
        self.follow_time(actor, correlation_id)

    def follow_time(self, actor: Actor, correlation_id: str) -> None:
        """What an item derives from its logged time (a task: progress and actual dates)."""

    @property
    def logged_minutes(self) -> int:
        return sum(minutes for _, minutes in self.logged.values())

    @property
    def state(self) -> State:
        return self.LIFECYCLE.status(self.status).state


class Ticket(WorkItem, Aggregate):
    """A request from a customer, with its people, status and conversation."""

    TOPIC = "ledgerdesk:Ticket"
    # class_version 2: snapshots of version 1 had no project, folder or creator.
    # class_version 3: snapshots of version 2 had no conversion mark.
    # class_version 4: snapshots of version 3 had no logged time.
    class_version = 4

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Bring a version-1 snapshot's state to the shape of version 2."""
        state["project_id"] = str(INBOX_ID)
        state["folder_id"] = None
        state["created_by"] = "system:unknown"
        state["team_id"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Bring a version-2 snapshot's state to the shape of version 3."""
        state["converted_to"] = None

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        """Bring a version-3 snapshot's state to the shape of version 4."""
        state["logged"] = {}

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Retitled: ClassVar[type[Aggregate.Event]]
        DescriptionEdited: ClassVar[type[Aggregate.Event]]
        Reprioritised: ClassVar[type[Aggregate.Event]]
        StatusChanged: ClassVar[type[Aggregate.Event]]
        UserAssigned: ClassVar[type[Aggregate.Event]]
        UserUnassigned: ClassVar[type[Aggregate.Event]]
        FollowerAdded: ClassVar[type[Aggregate.Event]]
        FollowerRemoved: ClassVar[type[Aggregate.Event]]
        CustomerReplyPosted: ClassVar[type[Aggregate.Event]]
        InternalMessagePosted: ClassVar[type[Aggregate.Event]]
        Moved: ClassVar[type[Aggregate.Event]]
        TeamAssigned: ClassVar[type[Aggregate.Event]]
        TeamUnassigned: ClassVar[type[Aggregate.Event]]
        ConvertedToTask: ClassVar[type[Aggregate.Event]]
        TimeRecorded: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(number: int) -> UUID:
        return item_id(number)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Ticket.Created"

    class Opened(Aggregate.Created):
        """The ticket exists. v2 added `channel` (v1 tickets all came from the API);
        v3 added `project_id` and `folder_id` (earlier tickets are in the Inbox)."""

        TOPIC = "ledgerdesk:Ticket.Opened"
        class_version = 3
        number: int
        title: str
        description: str
        requester_email: str | None
        channel: str
        priority: str
        status: str
        state: str
        project_id: str
        folder_id: str | None
        actor: str
        correlation_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["channel"] = Channel.API.value

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["project_id"] = str(INBOX_ID)
            state["folder_id"] = None

    @event(Opened)
    def __init__(
        self,
        number: int,
        title: str,
        description: str,
        requester_email: str | None,
        channel: str,
        priority: str,
        status: str,
        state: str,
        project_id: str,
        folder_id: str | None,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.number = number
        self.project_id = project_id
        self.folder_id = folder_id
        self.created_by = actor
        self.team_id: str | None = None
        self.title = title
        self.description = description
        self.priority = priority
        self.status = status
        # Lists, not sets: aggregate state must serialise into snapshots.
        self.assignees: list[str] = []
        self.followers: list[str] = []
        self.message_visibility: dict[str, str] = {}
        self.logged = {}
        self.converted_to: int | None = None

    @classmethod
    def open(
        cls,
        *,
        number: int,
        title: str,
        description: str,
        requester_email: str | None,
        channel: Channel,
        priority: str,
        actor: Actor,
        correlation_id: str,
        project_id: UUID = INBOX_ID,
        folder_id: UUID | None = None,
        lifecycle: Lifecycle = DEFAULT_TICKET_LIFECYCLE,
    ) -> Ticket:
        """Open a ticket with the next item number, in a project (the Inbox by default)."""
        title = check_title(title)
        status = lifecycle.initial
        return cls(
            number=number,
            title=title,
            description=description,
            requester_email=normalise_email(requester_email, "requester_email")
            if requester_email
            else None,
            channel=channel.value,
            priority=Priority.parse(priority).value,
            status=status.name,
            state=status.state.value,
            project_id=str(project_id),
            folder_id=str(folder_id) if folder_id else None,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @event("Moved", topic="ledgerdesk:Ticket.Moved")
    def _moved(
        self, project_id: str, folder_id: str | None, actor: str, correlation_id: str
    ) -> None:
        self.project_id = project_id
        self.folder_id = folder_id

    @event("Retitled", topic="ledgerdesk:Ticket.Retitled")
    def _retitled(self, title: str, actor: str, correlation_id: str) -> None:
        self.title = title

    @event("DescriptionEdited", topic="ledgerdesk:Ticket.DescriptionEdited")
    def _description_edited(self, description: str, actor: str, correlation_id: str) -> None:
        self.description = description

    @event("Reprioritised", topic="ledgerdesk:Ticket.Reprioritised")
    def _reprioritised(self, priority: str, actor: str, correlation_id: str) -> None:
        self.priority = priority

    @event("StatusChanged", topic="ledgerdesk:Ticket.StatusChanged")
    def _status_changed(self, status: str, state: str, actor: str, correlation_id: str) -> None:
        self.status = status

    @event("UserAssigned", topic="ledgerdesk:Ticket.UserAssigned")
    def _user_assigned(self, user_id: str, actor: str, correlation_id: str) -> None:
        self.assignees.append(user_id)

    @event("UserUnassigned", topic="ledgerdesk:Ticket.UserUnassigned")
    def _user_unassigned(self, user_id: str, actor: str, correlation_id: str) -> None:
        self.assignees.remove(user_id)

    @event("TeamAssigned", topic="ledgerdesk:Ticket.TeamAssigned")
    def _team_assigned(self, team_id: str, actor: str, correlation_id: str) -> None:
        self.team_id = team_id

    @event("TeamUnassigned", topic="ledgerdesk:Ticket.TeamUnassigned")
    def _team_unassigned(self, team_id: str | None, actor: str, correlation_id: str) -> None:
        self.team_id = None

    @event("FollowerAdded", topic="ledgerdesk:Ticket.FollowerAdded")
    def _follower_added(self, user_id: str, actor: str, correlation_id: str) -> None:
        self.followers.append(user_id)

    @event("FollowerRemoved", topic="ledgerdesk:Ticket.FollowerRemoved")
    def _follower_removed(self, user_id: str, actor: str, correlation_id: str) -> None:
        self.followers.remove(user_id)

    @event("CustomerReplyPosted", topic="ledgerdesk:Ticket.CustomerReplyPosted")
    def _customer_reply_posted(
        self, message_id: str, body: str, in_reply_to: str | None, actor: str, correlation_id: str
    ) -> None:
        self.message_visibility[message_id] = CUSTOMER

    @event("InternalMessagePosted", topic="ledgerdesk:Ticket.InternalMessagePosted")
    def _internal_posted(
        self, message_id: str, body: str, in_reply_to: str | None, actor: str, correlation_id: str
    ) -> None:
        self.message_visibility[message_id] = INTERNAL

    class AttachmentAdded(Aggregate.Event):
        """A file, by its hash in the blob store. v2 added `visibility` (customer or
        internal); v1 attachments were all shown to customers."""

        TOPIC = "ledgerdesk:Ticket.AttachmentAdded"
        class_version = 2
        attachment_id: str
        sha256: str
        name: str
        size: int
        media_type: str
        visibility: str
        actor: str
        correlation_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["visibility"] = CUSTOMER

    @event(AttachmentAdded)
    def _attachment_added(
        self,
        attachment_id: str,
        sha256: str,
        name: str,
        size: int,
        media_type: str,
        visibility: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        pass

    # --- conversion -----------------------------------------------------------

    def check_changeable(self) -> None:
        if self.converted_to is not None:
            raise TicketConvertedError(self.number, self.converted_to)

    def convert_to_task(
        self, task_id: UUID, task_number: int, actor: Actor, correlation_id: str
    ) -> None:
        """End this ticket's stream: it lives on as task `task_number` (saved together)."""
        if self.converted_to is not None:
            raise TicketAlreadyConvertedError(self.number, self.converted_to)
        self._converted(
            task_id=str(task_id),
            task_number=task_number,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @event("TimeRecorded", topic="ledgerdesk:Ticket.TimeRecorded")
    def _time_recorded(
        self, entry_id: str, work_date: str | None, minutes: int, actor: str, correlation_id: str
    ) -> None:
        if work_date is None:
            self.logged.pop(entry_id, None)
        else:
            self.logged[entry_id] = [work_date, minutes]

    @event("ConvertedToTask", topic="ledgerdesk:Ticket.ConvertedToTask")
    def _converted(self, task_id: str, task_number: int, actor: str, correlation_id: str) -> None:
        self.converted_to = task_number


def check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise EmptyTitleError
    return title
