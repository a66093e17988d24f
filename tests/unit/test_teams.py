"""Teams on the in-memory store: names, members, team roles, who may change them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from commands.accounts import AccountService
from commands.application import LedgerDesk
from commands.errors import TeamNotFoundError, UserNotFoundError
from commands.models import Context, RegisterUser
from commands.teams import (
    AddTeamMember,
    CreateTeam,
    RemoveTeamMember,
    RenameTeam,
    TeamService,
    create_team,
)
from commands.unit_of_work import UnitOfWork
from domain.errors import (
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
    TeamMemberExistsError,
    TeamMemberNotFoundError,
    TeamNameTakenError,
)
from domain.team import Team, TeamRole
from domain.team_names import TeamName, team_name_id
from domain.user import CompanyRole, Flag
from domain.values import Actor
from projections.base import Positioned, Tables, topics_of
from projections.db import SQLiteViews
from projections.teams import CHANGES, TeamDirectoryProjection, get_team, list_teams
from tests.factories import SYSTEM

AGENT = Actor.user(uuid.UUID(int=1))
ADA = uuid.UUID(int=2)
BOB = uuid.UUID(int=3)


@pytest.fixture
def app() -> Iterator[LedgerDesk]:
    app = LedgerDesk(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


@pytest.fixture
def teams(app: LedgerDesk) -> TeamService:
    return TeamService(app)


def staff(app: LedgerDesk, email: str, *, flags: list[Flag] | None = None) -> Context:
    """A registered staff member, as the context of their commands."""
    user = AccountService(app).register_user(
        RegisterUser(email=email, name=email, flags=flags or []), SYSTEM
    )
    return Context(actor=Actor.user(user.id), correlation_id=f"c-{email}")


def admin(app: LedgerDesk) -> Context:
    user = AccountService(app).register_user(
        RegisterUser(email="root@example.com", name="Root", role=CompanyRole.ADMIN), SYSTEM
    )
    return Context(actor=Actor.user(user.id), correlation_id="c-root")


def user_id(ctx: Context) -> uuid.UUID:
    return uuid.UUID(ctx.actor.ident)


def names(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


# --- the aggregate ------------------------------------------------------------


def test_a_team_is_formed_with_a_tidy_name_and_says_who_formed_it() -> None:
    team = Team.form(name="  Second \t line  ", actor=AGENT, correlation_id="c1")
    events = list(team.collect_events())
    assert (team.name, team.members) == ("Second line", {})
    assert names(events) == ["Formed"]
    assert events[0].TOPIC == "ledgerdesk:Team.Formed"
    assert (events[0].actor, events[0].correlation_id) == (AGENT.ref, "c1")


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_a_team_name_must_not_be_blank(blank: str) -> None:
    with pytest.raises(InvalidValueError) as formed:
        Team.form(name=blank, actor=AGENT, correlation_id="c")
    team = Team.form(name="Support", actor=AGENT, correlation_id="c")
    with pytest.raises(InvalidValueError) as renamed:
        team.rename(blank, AGENT, "c")
    assert formed.value.field == renamed.value.field == "name"
    assert team.name == "Support"


def test_members_join_with_a_role_change_role_and_leave() -> None:
    team = Team.form(name="Support", actor=AGENT, correlation_id="c")
    team.add_member(ADA, TeamRole.LEAD, AGENT, "c")
    team.add_member(BOB, TeamRole.MEMBER, AGENT, "c")
    team.change_member_role(BOB, TeamRole.LEAD, AGENT, "c")
    team.remove_member(ADA, AGENT, "c")
    assert team.members == {str(BOB): "lead"}
    assert names(list(team.collect_events())) == [
        "Formed",
        "MemberAdded",
        "MemberAdded",
        "MemberRoleChanged",
        "MemberRemoved",
    ]


def test_changes_that_change_nothing_record_nothing() -> None:
    team = Team.form(name="Support", actor=AGENT, correlation_id="c")
    team.add_member(ADA, TeamRole.LEAD, AGENT, "c")
    version = team.version
    team.rename(" Support ", AGENT, "c")
    team.add_member(ADA, TeamRole.LEAD, AGENT, "c")
    team.change_member_role(ADA, TeamRole.LEAD, AGENT, "c")
    assert team.version == version


def test_a_non_member_cannot_be_removed_or_given_a_role() -> None:
    team = Team.form(name="Support", actor=AGENT, correlation_id="c")
    with pytest.raises(TeamMemberNotFoundError):
        team.remove_member(ADA, AGENT, "c")
    with pytest.raises(NotFoundError):
        team.change_member_role(ADA, TeamRole.LEAD, AGENT, "c")
    assert team.version == 1


def test_adding_a_member_again_with_another_role_is_a_conflict() -> None:
    team = Team.form(name="Support", actor=AGENT, correlation_id="c")
    team.add_member(ADA, TeamRole.MEMBER, AGENT, "c")
    with pytest.raises(TeamMemberExistsError):
        team.add_member(ADA, TeamRole.LEAD, AGENT, "c")
    assert team.members == {str(ADA): "member"}


def test_a_team_survives_a_snapshot(app: LedgerDesk) -> None:
    team = Team.form(name="Support", actor=AGENT, correlation_id="c")
    team.add_member(ADA, TeamRole.LEAD, AGENT, "c")
    app.save(team)
    app.take_snapshot(team.id)
    loaded = app.repository.get(team.id)
    assert isinstance(loaded, Team)
    assert (loaded.name, loaded.members, loaded.version) == ("Support", {str(ADA): "lead"}, 2)


# --- names are unique ---------------------------------------------------------


def test_a_team_name_is_taken_once_whatever_its_case_or_spacing(teams: TeamService) -> None:
    teams.create_team(CreateTeam(name="Second line"), SYSTEM)
    head = teams.app.head()
    with pytest.raises(TeamNameTakenError):
        teams.create_team(CreateTeam(name="  SECOND   line "), SYSTEM)
    assert teams.app.head() == head


def test_renaming_frees_the_old_name_and_cannot_take_a_held_one(teams: TeamService) -> None:
    support = teams.create_team(CreateTeam(name="Support"), SYSTEM).id
    billing = teams.create_team(CreateTeam(name="Billing"), SYSTEM).id
    with pytest.raises(TeamNameTakenError):
        teams.rename_team(RenameTeam(team_id=billing, name="support"), SYSTEM)
    teams.rename_team(RenameTeam(team_id=support, name="Help desk"), SYSTEM)
    teams.rename_team(RenameTeam(team_id=billing, name="Support"), SYSTEM)
    assert teams.team(billing).name == "Support"
    assert teams.team(support).name == "Help desk"
    uow = UnitOfWork(teams.app)
    held = uow.get(team_name_id("support"), TeamName)
    assert held is not None
    assert held.team_id == str(billing)
    assert teams.create_team(CreateTeam(name="Billing"), SYSTEM).id not in (support, billing)


def test_a_team_may_change_the_case_of_its_own_name(teams: TeamService) -> None:
    support = teams.create_team(CreateTeam(name="support"), SYSTEM).id
    teams.rename_team(RenameTeam(team_id=support, name="Support"), SYSTEM)
    assert teams.team(support).name == "Support"


def test_two_teams_formed_at_once_with_one_name_cannot_both_be_saved(app: LedgerDesk) -> None:
    first = create_team(CreateTeam(name="Support"), UnitOfWork(app), SYSTEM)
    second = create_team(CreateTeam(name="support"), UnitOfWork(app), SYSTEM)
    app.save(*first)
    with pytest.raises(IntegrityError):
        app.save(*second)
    assert UnitOfWork(app).get(second[0].id, Team) is None


# --- handlers and who may run them -------------------------------------------


def test_only_admins_and_members_who_manage_teams_create_and_rename_teams(
    app: LedgerDesk, teams: TeamService
) -> None:
    plain = staff(app, "ada@example.com")
    manager = staff(app, "bob@example.com", flags=[Flag.MANAGE_TEAMS])
    with pytest.raises(PermissionDeniedError):
        teams.create_team(CreateTeam(name="Support"), plain)
    created = teams.create_team(CreateTeam(name="Support"), manager)
    with pytest.raises(PermissionDeniedError):
        teams.rename_team(RenameTeam(team_id=created.id, name="Help"), plain)
    teams.rename_team(RenameTeam(team_id=created.id, name="Help"), admin(app))
    assert teams.team(created.id).name == "Help"


def test_a_team_lead_cannot_change_members_since_membership_grants_project_access(
    app: LedgerDesk, teams: TeamService
) -> None:
    lead, member = (staff(app, f"{n}@example.com") for n in ("lead", "member"))
    team_id = teams.create_team(CreateTeam(name="Support"), SYSTEM).id
    teams.add_team_member(
        AddTeamMember(team_id=team_id, user_id=user_id(lead), role=TeamRole.LEAD), SYSTEM
    )
    with pytest.raises(PermissionDeniedError):
        teams.add_team_member(AddTeamMember(team_id=team_id, user_id=user_id(member)), lead)
    with pytest.raises(PermissionDeniedError):
        teams.rename_team(RenameTeam(team_id=team_id, name="Help"), lead)
    assert teams.team(team_id).members == {str(user_id(lead)): "lead"}


def test_a_plain_team_member_cannot_change_the_members(app: LedgerDesk, teams: TeamService) -> None:
    member, other = staff(app, "member@example.com"), staff(app, "other@example.com")
    team_id = teams.create_team(CreateTeam(name="Support"), SYSTEM).id
    teams.add_team_member(AddTeamMember(team_id=team_id, user_id=user_id(member)), SYSTEM)
    with pytest.raises(PermissionDeniedError):
        teams.add_team_member(AddTeamMember(team_id=team_id, user_id=user_id(other)), member)
    assert teams.team(team_id).members == {str(user_id(member)): "member"}


def test_members_must_be_staff_users_and_teams_must_exist(
    app: LedgerDesk, teams: TeamService
) -> None:
    team_id = teams.create_team(CreateTeam(name="Support"), SYSTEM).id
    with pytest.raises(UserNotFoundError):
        teams.add_team_member(AddTeamMember(team_id=team_id, user_id=uuid.uuid4()), SYSTEM)
    ada = user_id(staff(app, "ada@example.com"))
    with pytest.raises(TeamNotFoundError):
        teams.add_team_member(AddTeamMember(team_id=uuid.uuid4(), user_id=ada), SYSTEM)
    with pytest.raises(TeamMemberNotFoundError):
        teams.remove_team_member(RemoveTeamMember(team_id=team_id, user_id=ada), SYSTEM)


def test_setting_a_member_adds_them_then_changes_their_role(
    app: LedgerDesk, teams: TeamService
) -> None:
    ada = user_id(staff(app, "ada@example.com"))
    team_id = teams.create_team(CreateTeam(name="Support"), SYSTEM).id
    teams.set_team_member(AddTeamMember(team_id=team_id, user_id=ada), SYSTEM)
    result = teams.set_team_member(
        AddTeamMember(team_id=team_id, user_id=ada, role=TeamRole.LEAD), SYSTEM
    )
    again = teams.set_team_member(
        AddTeamMember(team_id=team_id, user_id=ada, role=TeamRole.LEAD), SYSTEM
    )
    assert teams.team(team_id).members == {str(ada): "lead"}
    assert (result.version, again.version) == (3, 3)


# --- the team directory view --------------------------------------------------


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SQLiteViews]:
    db = SQLiteViews(tmp_path / "views.sqlite3")
    yield db
    db.close()


def test_the_directory_reads_every_team_event() -> None:
    topics = topics_of(Team)
    assert "ledgerdesk:Team.Formed" in topics
    unused = {"ledgerdesk:Team.Created"}  # the library's default, never recorded
    assert {getattr(cls, "TOPIC") for cls in CHANGES} == topics - unused  # noqa: B009
    assert TeamDirectoryProjection().topics == topics


def test_the_directory_shows_teams_with_their_members_by_name(views: SQLiteViews) -> None:
    support = Team.form(name="support", actor=AGENT, correlation_id="c")
    support.add_member(ADA, TeamRole.MEMBER, AGENT, "c")
    support.add_member(BOB, TeamRole.MEMBER, AGENT, "c")
    support.change_member_role(BOB, TeamRole.LEAD, AGENT, "c")
    support.remove_member(ADA, AGENT, "c")
    support.rename("Support", AGENT, "c")
    billing = Team.form(name="Billing", actor=AGENT, correlation_id="c")
    events = [*support.collect_events(), *billing.collect_events()]
    view, t = TeamDirectoryProjection(), Tables(1)
    with views.write() as tx:
        view.create(tx, t)
        view.apply(tx, t, [Positioned(i + 1, e) for i, e in enumerate(events)])
    with views.read() as tx:
        doc = get_team(tx, t, str(support.id))
        first, cursor = list_teams(tx, t, None, None, 1)
        rest, end = list_teams(tx, t, None, cursor, 1)
        found, _ = list_teams(tx, t, "PORT", None, 10)
    assert doc is not None
    assert (doc["name"], doc["version"]) == ("Support", 6)
    assert doc["members"] == [{"user_id": str(BOB), "role": "lead"}]
    assert [d["name"] for d in first + rest] == ["Billing", "Support"]
    assert end is None
    assert [d["id"] for d in found] == [str(support.id)]
