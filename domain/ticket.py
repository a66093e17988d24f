"""The Ticket aggregate: a customer request and its conversation.

What every item kind has and does is `domain.work_item.WorkItem`; the `Ticket` class body
defines the events those facts are recorded with (their topics are `ledgerdesk:Ticket.*`,
tickets being the first kind) and how each one applies, for tasks too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import TicketAlreadyConvertedError, TicketConvertedError
from domain.item_numbers import item_id
from domain.project import INBOX_ID
from domain.values import (
    DEFAULT_TICKET_LIFECYCLE,
    Actor,
    Channel,
    Lifecycle,
    Priority,
    normalise_email,
)
from domain.work_item import CUSTOMER, INTERNAL, WorkItem, check_title


class Ticket(WorkItem, Aggregate):
    """A request from a customer, with its people, status and conversation."""

    TOPIC = "ledgerdesk:Ticket"
    # class_version 2: snapshots of version 1 had no project, folder or creator.
    # class_version 3: snapshots of version 2 had no conversion mark.
    # class_version 4: snapshots of version 3 had no logged time.
    # class_version 5: snapshots of version 4 had no item type or form fields.
    class_version = 5

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

    @staticmethod
    def upcast_v4_v5(state: dict[str, Any]) -> None:
        """Bring a version-4 snapshot's state to the shape of version 5."""
        state["item_type"] = "ticket"
        state["fields"] = {}

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Retitled: ClassVar[type[Aggregate.Event]]
        Reported: ClassVar[type[Aggregate.Event]]
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

    @classmethod
    def shared_events(cls) -> type:
        return cls

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Ticket.Created"

    class Opened(Aggregate.Created):
        """The ticket exists. v2 added `channel` (v1 tickets all came from the API);
        v3 added `project_id` and `folder_id` (earlier tickets are in the Inbox); v4 added
        `item_type` and `fields`, the custom fields of its type's form (earlier tickets are
        of type `ticket`, with none)."""

        TOPIC = "ledgerdesk:Ticket.Opened"
        class_version = 4
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
        item_type: str
        fields: dict[str, str]
        actor: str
        correlation_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["channel"] = Channel.API.value

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["project_id"] = str(INBOX_ID)
            state["folder_id"] = None

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            state["item_type"] = "ticket"
            state["fields"] = {}

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
        item_type: str,
        fields: dict[str, str],
        actor: str,
        correlation_id: str,
    ) -> None:
        self.number = number
        self.project_id = project_id
        self.folder_id = folder_id
        self.item_type = item_type
        self.fields = dict(fields)
        self.created_by = actor
        self.team_id: str | None = None
        self.title = title
        self.description = description
        self.priority = priority
        self.status = status
        self.status_state = state
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
        item_type: str = "ticket",
        fields: dict[str, str] | None = None,
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
            item_type=item_type,
            fields=dict(fields or {}),
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
        self.status_state = state

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

    @event("Reported", topic="ledgerdesk:Ticket.Reported")
    def _reported(self, reported_at: str, actor: str, correlation_id: str) -> None:
        self.reported_at = reported_at

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
