"""Access view: reads User, Project and Team events; shows who may see which projects, so
that every staff read can be scoped (admins and `manage_projects` users see every project;
others the projects they are members of, directly or through a team)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from domain.company_settings import ITEM_APPS, effective_apps
from domain.project import Project
from domain.team import Team
from domain.user import Flag, User
from projections.base import (
    Positioned,
    Projection,
    Tables,
    current_tables,
    dumps,
    loads,
    topic_name,
    topics_of,
)
from projections.db import Tx, ViewDatabase

Handler = Callable[[Tx, Tables, Any], None]


@dataclass(frozen=True)
class StaffScope:
    """What one staff user may see: every project, or these (with their role in each)."""

    all_projects: bool
    project_ids: frozenset[str]
    roles: dict[str, str]
    apps: str
    # The item kinds whose app the company switched off (not in `kinds` either).
    switched_off: frozenset[str] = frozenset()

    def sees(self, project_id: str) -> bool:
        return self.all_projects or project_id in self.project_ids

    def under(self, company_apps: Mapping[str, bool]) -> StaffScope:
        """This scope as the company's app switches leave it: a switched-off app's items
        are nobody's to see, whatever their own apps."""
        return replace(
            self,
            apps=effective_apps(self.apps, company_apps),
            switched_off=frozenset(k for k, app in ITEM_APPS.items() if not company_apps[app]),
        )

    @property
    def uses_tickets(self) -> bool:
        return self.apps in ("tickets", "both")

    @property
    def uses_tasks(self) -> bool:
        return self.apps in ("tasks", "both")

    @property
    def kinds(self) -> frozenset[str]:
        """The item kinds the caller's apps show."""
        return frozenset(
            kind
            for kind, used in (("ticket", self.uses_tickets), ("task", self.uses_tasks))
            if used
        )


class AccessProjection(Projection):
    """Reads User, Project and Team events; shows `access_staff`, `access_project_users`,
    `access_project_teams` and `access_team_members`."""

    name = "access"
    tables = ("access_staff", "access_project_users", "access_project_teams", "access_team_members")
    topics = topics_of(User) | topics_of(Project) | topics_of(Team)

    def create(self, tx: Tx, t: Tables) -> None:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['access_staff']} (user_id TEXT PRIMARY KEY,"
            " role TEXT NOT NULL, flags TEXT NOT NULL, apps TEXT NOT NULL,"
            " active INTEGER NOT NULL)"
        )
        for table, member in (
            ("access_project_users", "user_id"),
            ("access_project_teams", "team_id"),
        ):
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {t[table]} (project_id TEXT NOT NULL,"
                f" {member} TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (project_id, {member}))"
            )
            tx.execute(f"CREATE INDEX IF NOT EXISTS {t[table]}_member ON {t[table]} ({member})")
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['access_team_members']} (team_id TEXT NOT NULL,"
            " user_id TEXT NOT NULL, PRIMARY KEY (team_id, user_id))"
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {t['access_team_members']}_user"
            f" ON {t['access_team_members']} (user_id)"
        )

    def key_columns(self, base: str) -> str:
        return {"access_staff": "user_id", "access_team_members": "team_id, user_id"}.get(
            base, "1, 2"
        )

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        for p in events:
            handler = _HANDLERS.get(topic_name(p.event))
            if handler is not None:
                handler(tx, t, p.event)


def _staff_registered(tx: Tx, t: Tables, e: Any) -> None:
    tx.execute(
        f"INSERT INTO {t['access_staff']} (user_id, role, flags, apps, active)"
        " VALUES (?, ?, ?, ?, 1)",
        (str(e.originator_id), e.role, dumps(e.flags), e.apps),
    )


def _staff(column: str, value: Callable[[Any], Any]) -> Handler:
    def apply(tx: Tx, t: Tables, e: Any) -> None:
        tx.execute(
            f"UPDATE {t['access_staff']} SET {column} = ? WHERE user_id = ?",
            (value(e), str(e.originator_id)),
        )

    return apply


def _share(table: str, member: str) -> Handler:
    def apply(tx: Tx, t: Tables, e: Any) -> None:
        tx.execute(
            f"INSERT INTO {t[table]} (project_id, {member}, role) VALUES (?, ?, ?)"
            f" ON CONFLICT (project_id, {member}) DO UPDATE SET role = excluded.role",
            (str(e.originator_id), getattr(e, member), e.role),
        )

    return apply


def _unshare(table: str, member: str) -> Handler:
    def apply(tx: Tx, t: Tables, e: Any) -> None:
        tx.execute(
            f"DELETE FROM {t[table]} WHERE project_id = ? AND {member} = ?",
            (str(e.originator_id), getattr(e, member)),
        )

    return apply


def _project_created(tx: Tx, t: Tables, e: Any) -> None:
    if e.manager_id:
        tx.execute(
            f"INSERT INTO {t['access_project_users']} (project_id, user_id, role)"
            " VALUES (?, ?, 'manager')",
            (str(e.originator_id), e.manager_id),
        )


def _team_member_added(tx: Tx, t: Tables, e: Any) -> None:
    tx.execute(
        f"INSERT INTO {t['access_team_members']} (team_id, user_id) VALUES (?, ?)"
        " ON CONFLICT (team_id, user_id) DO NOTHING",
        (str(e.originator_id), e.user_id),
    )


def _team_member_removed(tx: Tx, t: Tables, e: Any) -> None:
    tx.execute(
        f"DELETE FROM {t['access_team_members']} WHERE team_id = ? AND user_id = ?",
        (str(e.originator_id), e.user_id),
    )


_HANDLERS: dict[str, Handler] = {
    "User.Registered": _staff_registered,
    "User.RoleChanged": _staff("role", lambda e: e.role),
    "User.FlagsChanged": _staff("flags", lambda e: dumps(e.flags)),
    "User.AppsChanged": _staff("apps", lambda e: e.apps),
    "User.Deactivated": _staff("active", lambda e: 0),
    "User.Reactivated": _staff("active", lambda e: 1),
    "Project.Created": _project_created,
    "Project.SharedWithUser": _share("access_project_users", "user_id"),
    "Project.JoinApproved": _share("access_project_users", "user_id"),
    "Project.UnsharedWithUser": _unshare("access_project_users", "user_id"),
    "Project.SharedWithTeam": _share("access_project_teams", "team_id"),
    "Project.UnsharedWithTeam": _unshare("access_project_teams", "team_id"),
    "Team.MemberAdded": _team_member_added,
    "Team.MemberRemoved": _team_member_removed,
}

_RANK = {"restricted": 0, "standard": 1, "lead": 2, "manager": 3}


def scope_of(views: ViewDatabase, user: User, company_apps: Mapping[str, bool]) -> StaffScope:
    """What `user` may see now, as the company's app switches leave it. Role and flags come
    from the write model (the User); only memberships from this view (not read for a user
    who sees every project)."""
    if user.has_flag(Flag.MANAGE_PROJECTS):
        return StaffScope(True, frozenset(), {}, user.apps).under(company_apps)
    with views.read() as tx:
        memberships = staff_scope(tx, str(user.id))
    scope = StaffScope(False, memberships.project_ids, memberships.roles, user.apps)
    return scope.under(company_apps)


def staff_scope(tx: Tx, user_id: str) -> StaffScope:
    """The projects `user_id` may see now, and their strongest role in each."""
    t = _tables(tx)
    staff = tx.one(
        f"SELECT role, flags, apps, active FROM {t['access_staff']} WHERE user_id = ?",
        (user_id,),
    )
    if staff is None or not staff["active"]:
        return StaffScope(False, frozenset(), {}, "none")
    everything = staff["role"] == "admin" or "manage_projects" in loads(staff["flags"])
    rows = tx.all(
        f"SELECT project_id, role FROM {t['access_project_users']} WHERE user_id = ?"
        f" UNION ALL SELECT pt.project_id, pt.role FROM {t['access_project_teams']} pt"
        f" JOIN {t['access_team_members']} tm ON tm.team_id = pt.team_id WHERE tm.user_id = ?",
        (user_id, user_id),
    )
    roles: dict[str, str] = {}
    for row in rows:
        best = roles.get(row["project_id"])
        if best is None or _RANK[row["role"]] > _RANK[best]:
            roles[row["project_id"]] = row["role"]
    return StaffScope(everything, frozenset(roles), roles, staff["apps"])


def _tables(tx: Tx) -> Tables:
    return current_tables(tx, AccessProjection.name)
