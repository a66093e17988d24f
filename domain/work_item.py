"""What every item kind (ticket, task) has and does: its place, fields, people, status,
conversation, attachments and logged time, recorded with the events the `Ticket` aggregate
defines (`domain.ticket`), which a `Task` records on its own stream too.

The write side keeps only what the rules need; the views fold the events into everything
people read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from domain.errors import (
    EmptyMessageError,
    EmptyTitleError,
    InternalMessageReplyError,
    InvalidValueError,
    MessageNotFoundError,
)
from domain.values import (
    DEFAULT_TICKET_LIFECYCLE,
    Actor,
    Lifecycle,
    Priority,
    State,
)

CUSTOMER = "customer"
INTERNAL = "internal"


def _shared(name: str) -> Callable[..., None]:
    """A method that records the shared event `Ticket.<name>` on whichever item calls it
    (the Ticket class body defines each such event and how it applies)."""

    def record(self: Any, **fields: Any) -> None:
        self.trigger_event(getattr(self.shared_events(), name), **fields)

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

    @classmethod
    def shared_events(cls) -> type:
        """The aggregate class whose body defines the shared events (`Ticket`): other kinds
        record them through it (`Ticket` overrides each recording method with its own)."""
        raise NotImplementedError

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
    _reported = _shared("Reported")

    def record_reported(self, reported_at: str, actor: Actor, correlation_id: str) -> None:
        """When the item was first reported, in the system it came from (an import keeps
        the original creation time, as fixed-width UTC text); its events keep their own."""
        if reported_at != getattr(self, "reported_at", None):
            self._reported(reported_at=reported_at, actor=actor.ref, correlation_id=correlation_id)

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

    def close(self, actor: Actor, correlation_id: str, lifecycle: Lifecycle | None = None) -> None:
        """To the lifecycle's default finished status ("Closed"), unless it is finished."""
        if self.state is not State.FINISHED:
            lifecycle = lifecycle or self.LIFECYCLE
            self.change_status(
                lifecycle.default(State.FINISHED).name, actor, correlation_id, lifecycle
            )

    def reopen(self, actor: Actor, correlation_id: str, lifecycle: Lifecycle | None = None) -> None:
        """Back to the lifecycle's default in-progress status ("Open"), if it is finished."""
        if self.state is State.FINISHED:
            lifecycle = lifecycle or self.LIFECYCLE
            self.change_status(
                lifecycle.default(State.IN_PROGRESS).name, actor, correlation_id, lifecycle
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
        lifecycle: Lifecycle | None = None,
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
        if counted and minutes > 0:
            self.mark_started(actor, correlation_id, lifecycle)
        self.follow_time(actor, correlation_id)

    def mark_started(
        self, actor: Actor, correlation_id: str, lifecycle: Lifecycle | None = None
    ) -> None:
        """A not-started item goes to the default in-progress status (the first time logged
        on it: work has started)."""
        if self.state is State.NOT_STARTED:
            lifecycle = lifecycle or self.LIFECYCLE
            self.change_status(
                lifecycle.default(State.IN_PROGRESS).name, actor, correlation_id, lifecycle
            )

    def follow_time(self, actor: Actor, correlation_id: str) -> None:
        """What an item derives from its logged time (a task: progress and actual dates)."""

    @property
    def logged_minutes(self) -> int:
        return sum(minutes for _, minutes in self.logged.values())

    @property
    def state(self) -> State:
        """The state its status had when it took it (as recorded: a later change of the
        statuses never changes it)."""
        recorded = self.__dict__.get("status_state")
        if recorded is None:  # A snapshot taken before the state was kept.
            return self.LIFECYCLE.status(self.status).state
        return State(recorded)


def check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise EmptyTitleError
    return title
