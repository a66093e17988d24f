"""The Project aggregate: where items live, who may work on them, and in which folders
of the hierarchy (customer folders, portfolios) it appears."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.access import ProjectRole, strongest
from domain.errors import ConflictError, NotFoundError
from domain.planning.calendar import WorkCalendar
from domain.values import Actor, check_name

INBOX_ID = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/projects/inbox")
INBOX_NAME = "Inbox"


class NotAMemberError(NotFoundError):
    """Raised when a user or team the command names has no share in the project."""


class JoinRequestNotFoundError(NotFoundError):
    """Raised when a join request to approve or deny does not exist (or was decided)."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"no pending join request from user {user_id}")


class AlreadyAMemberError(ConflictError):
    """Raised when a user asks to join a project they already belong to."""

    def __init__(self) -> None:
        super().__init__("you are already a member of this project")


class NotSharedWithOrganisationError(NotFoundError):
    """Raised when a share to take away names an organisation the project is not shared with."""

    def __init__(self, organisation_id: str) -> None:
        super().__init__(f"the project is not shared with organisation {organisation_id}")


class InboxNotShareableError(ConflictError):
    """Raised when the Inbox would be shared with a customer organisation: it holds every
    customer's new requests."""

    def __init__(self) -> None:
        super().__init__("the Inbox holds every customer's requests: it cannot be shared")


# The kinds of item a customer organisation sees in a project shared with it. Sharing the
# project is the company's choice, so every item of these kinds is shown (with its safe
# fields only); a kind added later stays hidden until it is named here.
CUSTOMER_VISIBLE_KINDS = frozenset({"ticket", "task"})


def customer_visible(kind: str) -> bool:
    """Whether an item of `kind` in a shared project shows to the customer organisations."""
    return kind in CUSTOMER_VISIBLE_KINDS


class Project(Aggregate):
    """A project: a name, customer folders and portfolios it sits in, and its shares."""

    TOPIC = "ledgerdesk:Project"
    # class_version 2: snapshots of version 1 had no slug; 3: nor had those of version 2
    # the customer organisations the project is shared with; 4: nor those of 3 a calendar.
    class_version = 4

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Bring a version-1 snapshot's state to the shape of version 2."""
        state["slug"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Bring a version-2 snapshot's state to the shape of version 3."""
        state["shared_with"] = []

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        """Bring a version-3 snapshot's state to the shape of version 4."""
        state["calendar"] = None

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Renamed: ClassVar[type[Aggregate.Event]]
        SlugChanged: ClassVar[type[Aggregate.Event]]
        PlacedInCustomerFolder: ClassVar[type[Aggregate.Event]]
        RemovedFromCustomerFolder: ClassVar[type[Aggregate.Event]]
        MovedToPortfolio: ClassVar[type[Aggregate.Event]]
        SharedWithUser: ClassVar[type[Aggregate.Event]]
        UnsharedWithUser: ClassVar[type[Aggregate.Event]]
        SharedWithTeam: ClassVar[type[Aggregate.Event]]
        UnsharedWithTeam: ClassVar[type[Aggregate.Event]]
        JoinRequested: ClassVar[type[Aggregate.Event]]
        JoinApproved: ClassVar[type[Aggregate.Event]]
        JoinDenied: ClassVar[type[Aggregate.Event]]
        SharedWithOrganisation: ClassVar[type[Aggregate.Event]]
        CalendarSet: ClassVar[type[Aggregate.Event]]
        UnsharedWithOrganisation: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        """The project exists, with its first manager (who created it), if any."""

        TOPIC = "ledgerdesk:Project.Created"
        name: str
        manager_id: str | None
        actor: str
        correlation_id: str

    def __init__(self, name: str, manager_id: str | None, actor: str, correlation_id: str) -> None:
        self.name = name
        self.customer_ids: list[str] = []
        self.portfolio_id: str | None = None
        self.members: dict[str, str] = {manager_id: ProjectRole.MANAGER.value} if manager_id else {}
        self.teams: dict[str, str] = {}
        self.join_requests: list[str] = []
        self.slug: str | None = None
        # Customer organisations whose contacts follow the project's items in the portal.
        self.shared_with: list[str] = []
        # The project's working days (`WorkCalendar.as_dict`); None: the standard calendar.
        self.calendar: dict[str, Any] | None = None

    @classmethod
    def create(
        cls,
        *,
        project_id: UUID,
        name: str,
        manager: UUID | None,
        actor: Actor,
        correlation_id: str,
    ) -> Project:
        return cls._create(
            cls.Created,
            id=project_id,
            name=check_name(name),
            manager_id=str(manager) if manager else None,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @classmethod
    def create_inbox(cls, actor: Actor, correlation_id: str) -> Project:
        """The default project every item lands in unless another is named."""
        return cls.create(
            name=INBOX_NAME,
            manager=None,
            actor=actor,
            correlation_id=correlation_id,
            project_id=INBOX_ID,
        )

    # --- who: roles --------------------------------------------------------------

    def role_of(self, user_id: UUID, team_ids: list[UUID]) -> ProjectRole | None:
        """The user's strongest role here: direct, or through any team shared in."""
        roles = [ProjectRole(self.members[str(user_id)])] if str(user_id) in self.members else []
        roles += [ProjectRole(self.teams[str(t)]) for t in team_ids if str(t) in self.teams]
        return strongest(roles)

    def share_with_user(
        self, user_id: UUID, role: ProjectRole, actor: Actor, correlation_id: str
    ) -> None:
        if self.members.get(str(user_id)) != role.value:
            self._shared_with_user(
                user_id=str(user_id),
                role=role.value,
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("SharedWithUser", topic="ledgerdesk:Project.SharedWithUser")
    def _shared_with_user(self, user_id: str, role: str, actor: str, correlation_id: str) -> None:
        self.members[user_id] = role
        if user_id in self.join_requests:
            self.join_requests.remove(user_id)

    def unshare_with_user(self, user_id: UUID, actor: Actor, correlation_id: str) -> None:
        if str(user_id) not in self.members:
            raise NotAMemberError(f"user {user_id} is not a member of this project")
        self._unshared_with_user(
            user_id=str(user_id), actor=actor.ref, correlation_id=correlation_id
        )

    @event("UnsharedWithUser", topic="ledgerdesk:Project.UnsharedWithUser")
    def _unshared_with_user(self, user_id: str, actor: str, correlation_id: str) -> None:
        del self.members[user_id]

    def share_with_team(
        self, team_id: UUID, role: ProjectRole, actor: Actor, correlation_id: str
    ) -> None:
        if self.teams.get(str(team_id)) != role.value:
            self._shared_with_team(
                team_id=str(team_id),
                role=role.value,
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("SharedWithTeam", topic="ledgerdesk:Project.SharedWithTeam")
    def _shared_with_team(self, team_id: str, role: str, actor: str, correlation_id: str) -> None:
        self.teams[team_id] = role

    def unshare_with_team(self, team_id: UUID, actor: Actor, correlation_id: str) -> None:
        if str(team_id) not in self.teams:
            raise NotAMemberError(f"team {team_id} has no share in this project")
        self._unshared_with_team(
            team_id=str(team_id), actor=actor.ref, correlation_id=correlation_id
        )

    @event("UnsharedWithTeam", topic="ledgerdesk:Project.UnsharedWithTeam")
    def _unshared_with_team(self, team_id: str, actor: str, correlation_id: str) -> None:
        del self.teams[team_id]

    # --- customers: organisations that follow the project in the portal ------------------

    def share_with_organisation(
        self, organisation_id: UUID, actor: Actor, correlation_id: str
    ) -> None:
        """Let the organisation's contacts follow the project's items in the portal."""
        if self.id == INBOX_ID:
            raise InboxNotShareableError
        if str(organisation_id) not in self.shared_with:
            self._shared_with_organisation(
                organisation_id=str(organisation_id),
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("SharedWithOrganisation", topic="ledgerdesk:Project.SharedWithOrganisation")
    def _shared_with_organisation(
        self, organisation_id: str, actor: str, correlation_id: str
    ) -> None:
        self.shared_with.append(organisation_id)

    def unshare_with_organisation(
        self, organisation_id: UUID, actor: Actor, correlation_id: str
    ) -> None:
        if str(organisation_id) not in self.shared_with:
            raise NotSharedWithOrganisationError(str(organisation_id))
        self._unshared_with_organisation(
            organisation_id=str(organisation_id), actor=actor.ref, correlation_id=correlation_id
        )

    @event("UnsharedWithOrganisation", topic="ledgerdesk:Project.UnsharedWithOrganisation")
    def _unshared_with_organisation(
        self, organisation_id: str, actor: str, correlation_id: str
    ) -> None:
        self.shared_with.remove(organisation_id)

    # --- joining -----------------------------------------------------------------

    def request_to_join(
        self, user_id: UUID, message: str, actor: Actor, correlation_id: str
    ) -> None:
        if str(user_id) in self.members:
            raise AlreadyAMemberError
        if str(user_id) not in self.join_requests:
            self._join_requested(
                user_id=str(user_id),
                message=message,
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("JoinRequested", topic="ledgerdesk:Project.JoinRequested")
    def _join_requested(self, user_id: str, message: str, actor: str, correlation_id: str) -> None:
        self.join_requests.append(user_id)

    def approve_join(
        self, user_id: UUID, role: ProjectRole, actor: Actor, correlation_id: str
    ) -> None:
        self._check_request(user_id)
        self._join_approved(
            user_id=str(user_id),
            role=role.value,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @event("JoinApproved", topic="ledgerdesk:Project.JoinApproved")
    def _join_approved(self, user_id: str, role: str, actor: str, correlation_id: str) -> None:
        self.join_requests.remove(user_id)
        self.members[user_id] = role

    def deny_join(self, user_id: UUID, reason: str, actor: Actor, correlation_id: str) -> None:
        self._check_request(user_id)
        self._join_denied(
            user_id=str(user_id), reason=reason, actor=actor.ref, correlation_id=correlation_id
        )

    @event("JoinDenied", topic="ledgerdesk:Project.JoinDenied")
    def _join_denied(self, user_id: str, reason: str, actor: str, correlation_id: str) -> None:
        self.join_requests.remove(user_id)

    def _check_request(self, user_id: UUID) -> None:
        if str(user_id) not in self.join_requests:
            raise JoinRequestNotFoundError(str(user_id))

    # --- when: the working days -----------------------------------------------------

    @property
    def work_calendar(self) -> WorkCalendar:
        """The calendar its tasks are planned by: Monday to Friday unless it set its own."""
        return WorkCalendar.from_dict(self.calendar)

    def set_calendar(self, calendar: WorkCalendar, actor: Actor, correlation_id: str) -> None:
        """Plan the project's tasks by `calendar` from now on (the standard one: none of its
        own). Dates already planned stay as they are until a change moves them."""
        recorded = None if calendar.standard else calendar.as_dict()
        if recorded != self.calendar:
            self._calendar_set(calendar=recorded, actor=actor.ref, correlation_id=correlation_id)

    @event("CalendarSet", topic="ledgerdesk:Project.CalendarSet")
    def _calendar_set(
        self, calendar: dict[str, Any] | None, actor: str, correlation_id: str
    ) -> None:
        self.calendar = calendar

    # --- where: the hierarchy ------------------------------------------------------

    def rename(self, name: str, actor: Actor, correlation_id: str) -> None:
        name = check_name(name)
        if name != self.name:
            self._renamed(name=name, actor=actor.ref, correlation_id=correlation_id)

    @event("Renamed", topic="ledgerdesk:Project.Renamed")
    def _renamed(self, name: str, actor: str, correlation_id: str) -> None:
        self.name = name

    def change_slug(self, slug: str | None, actor: Actor, correlation_id: str) -> None:
        """Give the project the slug mail reaches it by (`support+<slug>@`), or none; the
        caller claims the slug's index entry and frees the old one in the same save."""
        if slug != self.slug:
            self._slug_changed(slug=slug, actor=actor.ref, correlation_id=correlation_id)

    @event("SlugChanged", topic="ledgerdesk:Project.SlugChanged")
    def _slug_changed(self, slug: str | None, actor: str, correlation_id: str) -> None:
        self.slug = slug

    def place_in_customer_folder(
        self, organisation_id: UUID, actor: Actor, correlation_id: str
    ) -> None:
        """A project may sit in several customers' folders."""
        if str(organisation_id) not in self.customer_ids:
            self._placed(
                organisation_id=str(organisation_id),
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("PlacedInCustomerFolder", topic="ledgerdesk:Project.PlacedInCustomerFolder")
    def _placed(self, organisation_id: str, actor: str, correlation_id: str) -> None:
        self.customer_ids.append(organisation_id)

    def remove_from_customer_folder(
        self, organisation_id: UUID, actor: Actor, correlation_id: str
    ) -> None:
        if str(organisation_id) in self.customer_ids:
            self._removed(
                organisation_id=str(organisation_id),
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("RemovedFromCustomerFolder", topic="ledgerdesk:Project.RemovedFromCustomerFolder")
    def _removed(self, organisation_id: str, actor: str, correlation_id: str) -> None:
        self.customer_ids.remove(organisation_id)

    def move_to_portfolio(
        self, portfolio_id: UUID | None, actor: Actor, correlation_id: str
    ) -> None:
        target = str(portfolio_id) if portfolio_id else None
        if target != self.portfolio_id:
            self._moved_to_portfolio(
                portfolio_id=target, actor=actor.ref, correlation_id=correlation_id
            )

    @event("MovedToPortfolio", topic="ledgerdesk:Project.MovedToPortfolio")
    def _moved_to_portfolio(
        self, portfolio_id: str | None, actor: str, correlation_id: str
    ) -> None:
        self.portfolio_id = portfolio_id
