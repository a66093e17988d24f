"""Project rules: roles (direct and through teams), sharing, joining, nesting."""

from __future__ import annotations

import uuid

import pytest

from domain.access import ProjectRole, may_comment, may_edit_item, may_manage_members, strongest
from domain.hierarchy import CycleError, Folder, Portfolio
from domain.project import (
    AlreadyAMemberError,
    InboxNotShareableError,
    JoinRequestNotFoundError,
    NotAMemberError,
    NotSharedWithOrganisationError,
    Project,
    customer_visible,
)
from domain.values import Actor

ADMIN = Actor.system("tests")
ADA, BOB = uuid.UUID(int=1), uuid.UUID(int=2)
TEAM = uuid.UUID(int=9)


def project() -> Project:
    p = Project.create(
        project_id=uuid.uuid4(), name="Ops", manager=ADA, actor=ADMIN, correlation_id="c"
    )
    p.collect_events()
    return p


@pytest.mark.parametrize(
    ("role", "own", "edit", "comment", "manage"),
    [
        (ProjectRole.MANAGER, False, True, True, True),
        (ProjectRole.LEAD, False, True, True, False),
        (ProjectRole.STANDARD, False, False, True, False),
        (ProjectRole.STANDARD, True, True, True, False),
        (ProjectRole.RESTRICTED, True, False, True, False),
        (None, True, False, False, False),
    ],
)
def test_what_each_project_role_may_do(
    role: ProjectRole | None, own: bool, edit: bool, comment: bool, manage: bool
) -> None:
    assert may_edit_item(role, own_or_assigned=own) is edit
    assert may_comment(role) is comment
    assert may_manage_members(role) is manage


def test_the_strongest_of_a_direct_and_a_team_role_counts() -> None:
    p = project()
    p.share_with_user(BOB, ProjectRole.RESTRICTED, ADMIN, "c")
    p.share_with_team(TEAM, ProjectRole.LEAD, ADMIN, "c")
    assert p.role_of(BOB, []) is ProjectRole.RESTRICTED
    assert p.role_of(BOB, [TEAM]) is ProjectRole.LEAD
    assert p.role_of(ADA, []) is ProjectRole.MANAGER
    assert strongest([]) is None


def test_a_join_request_is_decided_once() -> None:
    p = project()
    p.request_to_join(BOB, "please", ADMIN, "c")
    p.request_to_join(BOB, "please!", ADMIN, "c")
    p.approve_join(BOB, ProjectRole.STANDARD, ADMIN, "c")
    assert [type(e).__name__ for e in p.collect_events()] == ["JoinRequested", "JoinApproved"]
    with pytest.raises(JoinRequestNotFoundError):
        p.deny_join(BOB, "late", ADMIN, "c")
    with pytest.raises(AlreadyAMemberError):
        p.request_to_join(ADA, "", ADMIN, "c")


def test_unsharing_someone_without_a_share_is_an_error() -> None:
    with pytest.raises(NotAMemberError):
        project().unshare_with_user(BOB, ADMIN, "c")


def test_sharing_with_an_organisation_twice_records_one_event_and_unsharing_ends_it() -> None:
    p = project()
    acme = uuid.uuid4()
    p.share_with_organisation(acme, ADMIN, "c")
    p.share_with_organisation(acme, ADMIN, "c")
    shared = p.collect_events()
    assert [type(e).__name__ for e in shared] == ["SharedWithOrganisation"]
    assert (shared[0].organisation_id, shared[0].actor) == (str(acme), ADMIN.ref)
    assert p.shared_with == [str(acme)]
    p.unshare_with_organisation(acme, ADMIN, "c")
    assert p.shared_with == []
    with pytest.raises(NotSharedWithOrganisationError):
        p.unshare_with_organisation(acme, ADMIN, "c")


def test_the_inbox_is_never_shared_with_a_customer_organisation() -> None:
    inbox = Project.create_inbox(ADMIN, "c")
    with pytest.raises(InboxNotShareableError):
        inbox.share_with_organisation(uuid.uuid4(), ADMIN, "c")
    assert inbox.shared_with == []


def test_tickets_and_tasks_of_a_shared_project_are_customer_visible_and_nothing_else() -> None:
    assert customer_visible("ticket")
    assert customer_visible("task")
    assert not customer_visible("note")


def test_portfolios_and_folders_never_nest_inside_themselves() -> None:
    top = Portfolio.create(
        portfolio_id=uuid.uuid4(), name="Top", parent=None, actor=ADMIN, correlation_id="c"
    )
    child = Portfolio.create(
        portfolio_id=uuid.uuid4(), name="Child", parent=top.id, actor=ADMIN, correlation_id="c"
    )
    with pytest.raises(CycleError):
        top.move(child.id, [child.id, top.id], ADMIN, "c")
    folder = Folder.create(
        folder_id=uuid.uuid4(),
        name="F",
        project=uuid.uuid4(),
        parent=None,
        actor=ADMIN,
        correlation_id="c",
    )
    with pytest.raises(CycleError):
        folder.move(uuid.UUID(folder.project_id), folder.id, [], ADMIN, "c")
