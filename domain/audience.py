"""Who could see an item at one moment: the rules, over the state of that moment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from domain.access import ProjectRole, strongest
from domain.contact import item_scope
from domain.user import CompanyRole, Flag


@dataclass(frozen=True)
class StaffThen:
    """A staff user as they were at the moment."""

    user_id: str
    email: str
    role: str
    flags: tuple[str, ...]
    is_active: bool
    apps: str = "both"


@dataclass(frozen=True)
class ContactThen:
    """A customer contact as they were at the moment."""

    contact_id: str
    email: str
    organisation_id: str | None
    sees_colleagues_items: bool


@dataclass(frozen=True)
class Moment:
    """What decides an item's audience at one moment."""

    members: Mapping[str, str]  # user id -> project role, shared directly
    teams: Mapping[str, str]  # team id -> project role
    team_members: Mapping[str, frozenset[str]]  # team id -> its user ids
    staff: Sequence[StaffThen]  # every staff user that may be in the audience
    requester: ContactThen | None
    organisation_sharing: str | None  # the requester's organisation's sharing, if any
    colleagues: Sequence[ContactThen] = field(default_factory=tuple)
    kind: str = "ticket"  # the item's kind: its app decides which staff could open it


@dataclass(frozen=True)
class StaffSeer:
    user_id: str
    email: str
    via: str  # admin | manage_projects | member | team:<id>
    role: str | None  # the strongest project role, if any


@dataclass(frozen=True)
class CustomerSeer:
    contact_id: str
    email: str
    via: str  # requester | organisation


@dataclass(frozen=True)
class Audience:
    staff: list[StaffSeer]
    customers: list[CustomerSeer]


def _staff_via(moment: Moment, user: StaffThen) -> tuple[str, str | None] | None:
    """Why `user` could see the item (the broadest reason first), and their project role."""
    teams = sorted(t for t in moment.teams if user.user_id in moment.team_members.get(t, ()))
    roles = [ProjectRole(moment.teams[t]) for t in teams]
    if user.user_id in moment.members:
        roles.append(ProjectRole(moment.members[user.user_id]))
    best = strongest(roles)
    role = best.value if best else None
    if user.role == CompanyRole.ADMIN:
        return "admin", role
    if Flag.MANAGE_PROJECTS.value in user.flags:
        return "manage_projects", role
    if user.user_id in moment.members:
        return "member", role
    if teams:
        return f"team:{teams[0]}", role
    return None


def audience(moment: Moment) -> Audience:
    """Staff who could open the item's project (deactivated users could not log in), the
    requester, and the colleagues their organisation's sharing let see it."""
    staff = []
    for user in moment.staff:
        # Deactivated users could not log in; users without the item's app could not open it.
        can_open = user.is_active and user.apps in (f"{moment.kind}s", "both")
        reason = _staff_via(moment, user) if can_open else None
        if reason is not None:
            staff.append(StaffSeer(user.user_id, user.email, *reason))
    customers = []
    requester = moment.requester
    if requester is not None:
        customers.append(CustomerSeer(requester.contact_id, requester.email, "requester"))
        for colleague in sorted(moment.colleagues, key=lambda c: c.email):
            if (
                colleague.contact_id != requester.contact_id
                and requester.organisation_id is not None
                and colleague.organisation_id == requester.organisation_id
                and item_scope(moment.organisation_sharing, colleague.sees_colleagues_items)
                == "organisation"
            ):
                customers.append(
                    CustomerSeer(colleague.contact_id, colleague.email, "organisation")
                )
    return Audience(sorted(staff, key=lambda s: (s.email, s.user_id)), customers)
