"""The Team aggregate: a named group of staff users, each with a role in the team."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError, TeamMemberExistsError, TeamMemberNotFoundError
from domain.values import Actor


class TeamRole(StrEnum):
    """A member's role in one team: leads may manage the team's members."""

    LEAD = "lead"
    MEMBER = "member"


def clean_team_name(name: str) -> str:
    """A team name as shown: trimmed, inner runs of white space made one space; never empty."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidValueError("name", "name must not be empty")
    return cleaned


class Team(Aggregate):
    """A named team of staff users, each member with a team role (lead or member)."""

    TOPIC = "ledgerdesk:Team"

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Formed: ClassVar[type[Aggregate.Event]]
        Renamed: ClassVar[type[Aggregate.Event]]
        MemberAdded: ClassVar[type[Aggregate.Event]]
        MemberRoleChanged: ClassVar[type[Aggregate.Event]]
        MemberRemoved: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Team.Created"

    @event("Formed", topic="ledgerdesk:Team.Formed")
    def __init__(self, name: str, actor: str, correlation_id: str) -> None:
        self.name = name
        self.members: dict[str, str] = {}

    @classmethod
    def form(cls, *, name: str, actor: Actor, correlation_id: str) -> Team:
        """A new team without members (its name must also be claimed: see TeamName)."""
        return cls(name=clean_team_name(name), actor=actor.ref, correlation_id=correlation_id)

    def role_of(self, user_id: UUID) -> TeamRole | None:
        role = self.members.get(str(user_id))
        return TeamRole(role) if role is not None else None

    def rename(self, name: str, actor: Actor, correlation_id: str) -> None:
        name = clean_team_name(name)
        if name != self.name:
            self._renamed(name=name, actor=actor.ref, correlation_id=correlation_id)

    @event("Renamed", topic="ledgerdesk:Team.Renamed")
    def _renamed(self, name: str, actor: str, correlation_id: str) -> None:
        self.name = name

    # --- members --------------------------------------------------------------

    def add_member(self, user_id: UUID, role: TeamRole, actor: Actor, correlation_id: str) -> None:
        """Add a staff user (who must exist: the caller checks); re-adding as is does nothing."""
        current = self.role_of(user_id)
        if current is role:
            return
        if current is not None:
            raise TeamMemberExistsError(str(user_id), current.value)
        self._member_added(
            user_id=str(user_id), role=role.value, actor=actor.ref, correlation_id=correlation_id
        )

    @event("MemberAdded", topic="ledgerdesk:Team.MemberAdded")
    def _member_added(self, user_id: str, role: str, actor: str, correlation_id: str) -> None:
        self.members[user_id] = role

    def change_member_role(
        self, user_id: UUID, role: TeamRole, actor: Actor, correlation_id: str
    ) -> None:
        if self._check_member(user_id) is not role:
            self._member_role_changed(
                user_id=str(user_id),
                role=role.value,
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("MemberRoleChanged", topic="ledgerdesk:Team.MemberRoleChanged")
    def _member_role_changed(
        self, user_id: str, role: str, actor: str, correlation_id: str
    ) -> None:
        self.members[user_id] = role

    def remove_member(self, user_id: UUID, actor: Actor, correlation_id: str) -> None:
        self._check_member(user_id)
        self._member_removed(user_id=str(user_id), actor=actor.ref, correlation_id=correlation_id)

    @event("MemberRemoved", topic="ledgerdesk:Team.MemberRemoved")
    def _member_removed(self, user_id: str, actor: str, correlation_id: str) -> None:
        del self.members[user_id]

    def _check_member(self, user_id: UUID) -> TeamRole:
        role = self.role_of(user_id)
        if role is None:
            raise TeamMemberNotFoundError(str(user_id))
        return role
