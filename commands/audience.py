"""Who could see an item at a past moment, rebuilt from the events up to that moment.

The item's project, that project's shares, the shared teams' members, the staff users'
roles and flags, and the customers' organisations are each folded from their own events
up to the moment; the rules that turn that state into an audience are `domain.audience`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import takewhile
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import project_aggregate

from commands.application import LedgerDesk
from commands.errors import TicketNotFoundError
from domain.audience import Audience, ContactThen, Moment, StaffThen, audience
from domain.contact import Contact, contact_id_for
from domain.customer import Organisation
from domain.errors import PermissionDeniedError
from domain.item_numbers import item_id
from domain.project import Project
from domain.task import Task
from domain.team import Team
from domain.ticket import Ticket
from domain.user import Flag, User

T = TypeVar("T")


class Directory(Protocol):
    """Where candidates come from: a superset of the users and contacts that matter (each
    is then decided from its own events, so a stale or generous answer is still right)."""

    def staff_candidates(self, as_of: datetime) -> Iterable[str]:
        """Users who may have been admins or managed projects at `as_of`."""

    def contact_candidates(self, organisation_id: str, as_of: datetime) -> Iterable[str]:
        """Contacts who may have been in the organisation at `as_of`."""


@dataclass(frozen=True)
class AudienceReport:
    as_of: datetime
    project_id: str
    audience: Audience


class AudienceService:
    """Answers "who could see item #n at that moment" from the event store."""

    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def audience(
        self, caller: User, number: int, as_of: datetime, directory: Directory
    ) -> AudienceReport:
        """The item's audience at `as_of` (admins and project managers may ask)."""
        if not caller.has_flag(Flag.MANAGE_PROJECTS):
            raise PermissionDeniedError("only admins and project managers may ask who saw an item")
        events = self._events(item_id(number), as_of)
        ticket = project_aggregate(None, events) if events else None
        if not isinstance(ticket, Ticket | Task):
            raise TicketNotFoundError(number)
        project = self._then(UUID(ticket.project_id), as_of, Project)
        members = dict(project.members) if project else {}
        teams = dict(project.teams) if project else {}
        team_members = {t: frozenset(self._team_members(t, as_of)) for t in teams}
        user_ids = {*directory.staff_candidates(as_of), *members}
        user_ids.update(*team_members.values())
        staff = [s for s in (self._staff(u, as_of) for u in sorted(user_ids)) if s]
        # Customers see tickets (in the portal), never tasks.
        email = events[0].requester_email if isinstance(ticket, Ticket) else None
        requester = self._requester(email, as_of)
        organisation = None
        colleagues: list[ContactThen] = []
        if requester is not None and requester.organisation_id is not None:
            organisation = self._then(UUID(requester.organisation_id), as_of, Organisation)
            candidates = directory.contact_candidates(requester.organisation_id, as_of)
            colleagues = [c for c in (self._contact(c, as_of) for c in candidates) if c]
        moment = Moment(
            members=members,
            teams=teams,
            team_members=team_members,
            staff=staff,
            requester=requester,
            organisation_sharing=organisation.sharing if organisation else None,
            colleagues=colleagues,
            kind=ticket.KIND,
        )
        return AudienceReport(as_of, ticket.project_id, audience(moment))

    def _events(self, aggregate_id: UUID, as_of: datetime) -> list[Any]:
        # Snapshots are not used: one may be newer than the moment asked about.
        stored: Iterable[Any] = self.app.events.get(aggregate_id)
        return list(takewhile(lambda e: e.timestamp <= as_of, stored))

    def _then(self, aggregate_id: UUID, as_of: datetime, kind: type[T]) -> T | None:
        """The aggregate as it was at `as_of` (None if it did not exist yet)."""
        events = self._events(aggregate_id, as_of)
        found = project_aggregate(None, events) if events else None
        return found if isinstance(found, kind) else None

    def _team_members(self, team_id: str, as_of: datetime) -> list[str]:
        team = self._then(UUID(team_id), as_of, Team)
        return list(team.members) if team else []

    def _staff(self, user_id: str, as_of: datetime) -> StaffThen | None:
        user = self._then(UUID(user_id), as_of, User)
        if user is None:
            return None
        return StaffThen(
            str(user.id), user.email, user.role, tuple(user.flags), user.is_active, user.apps
        )

    def _contact(self, contact_id: str, as_of: datetime) -> ContactThen | None:
        contact = self._then(UUID(contact_id), as_of, Contact)
        if contact is None:
            return None
        return ContactThen(
            str(contact.id), contact.email, contact.organisation_id, contact.sees_colleagues_items
        )

    def _requester(self, email: str | None, as_of: datetime) -> ContactThen | None:
        """The requester (who sees their own item even before they are a known contact)."""
        if email is None:
            return None
        found = self._contact(str(contact_id_for(email)), as_of)
        return found or ContactThen(str(contact_id_for(email)), email, None, False)
