"""Team names: an index aggregate per name, so a name belongs to one team at most.

A name's id follows from the name, so the write model answers "is it taken?" without
asking a read model; the index is saved in the same transaction as the team that claims
or frees it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import TeamNameTakenError
from domain.values import Actor

TEAM_NAME_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/team-names")


def team_name_key(name: str) -> str:
    """The form in which two team names are the same: white space collapsed, case folded."""
    return " ".join(name.split()).casefold()


def team_name_id(name: str) -> UUID:
    return uuid5(TEAM_NAME_NAMESPACE, team_name_key(name))


class TeamName(Aggregate):
    """One team name and the team holding it (if any); freed names may be claimed again."""

    TOPIC = "ledgerdesk:TeamName"

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Indexed: ClassVar[type[Aggregate.Event]]
        Claimed: ClassVar[type[Aggregate.Event]]
        Released: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(key: str) -> UUID:
        return uuid5(TEAM_NAME_NAMESPACE, key)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:TeamName.Created"

    @event("Indexed", topic="ledgerdesk:TeamName.Indexed")
    def __init__(self, key: str, actor: str, correlation_id: str) -> None:
        self.key = key
        self.team_id: str | None = None

    @classmethod
    def index(cls, name: str, actor: Actor, correlation_id: str) -> TeamName:
        """The index entry for a name no team has held yet."""
        return cls(key=team_name_key(name), actor=actor.ref, correlation_id=correlation_id)

    def claim(self, team_id: UUID, actor: Actor, correlation_id: str) -> None:
        """Give the name to `team_id`; TeamNameTakenError if another team holds it."""
        if self.team_id == str(team_id):
            return
        if self.team_id is not None:
            raise TeamNameTakenError(self.key)
        self._claimed(team_id=str(team_id), actor=actor.ref, correlation_id=correlation_id)

    @event("Claimed", topic="ledgerdesk:TeamName.Claimed")
    def _claimed(self, team_id: str, actor: str, correlation_id: str) -> None:
        self.team_id = team_id

    def release(self, team_id: UUID, actor: Actor, correlation_id: str) -> None:
        """Free the name if `team_id` holds it (a team renamed away from it)."""
        if self.team_id == str(team_id):
            self._released(team_id=str(team_id), actor=actor.ref, correlation_id=correlation_id)

    @event("Released", topic="ledgerdesk:TeamName.Released")
    def _released(self, team_id: str, actor: str, correlation_id: str) -> None:
        self.team_id = None
