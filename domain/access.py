"""Project roles and what each may do: the rules every command and query applies."""

from __future__ import annotations

from enum import StrEnum


class ProjectRole(StrEnum):
    """A user's role in one project (directly, or through a team the project is shared with)."""

    MANAGER = "manager"  # everything, and manages members
    LEAD = "lead"  # everything but members
    STANDARD = "standard"  # edits items they created or are assigned to; comments anywhere
    RESTRICTED = "restricted"  # reads and comments

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    ProjectRole.RESTRICTED: 0,
    ProjectRole.STANDARD: 1,
    ProjectRole.LEAD: 2,
    ProjectRole.MANAGER: 3,
}


def strongest(roles: list[ProjectRole]) -> ProjectRole | None:
    """The role that counts when a user has several (direct and through teams)."""
    return max(roles, key=lambda r: r.rank) if roles else None


def may_manage_members(role: ProjectRole | None) -> bool:
    return role is ProjectRole.MANAGER


def may_edit_item(role: ProjectRole | None, *, own_or_assigned: bool) -> bool:
    """Managers and leads edit any item; standard members their own or assigned ones."""
    if role in (ProjectRole.MANAGER, ProjectRole.LEAD):
        return True
    return role is ProjectRole.STANDARD and own_or_assigned


def may_comment(role: ProjectRole | None) -> bool:
    """Every role, restricted included, reads and comments."""
    return role is not None
