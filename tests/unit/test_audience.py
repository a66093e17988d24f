"""The audience rules over the state of one moment."""

from __future__ import annotations

import pytest

from domain.audience import ContactThen, Moment, StaffThen, audience


def staff(user_id: str, role: str = "member", *flags: str, active: bool = True) -> StaffThen:
    return StaffThen(user_id, f"{user_id}@example.com", role, flags, active)


def contact(contact_id: str, org: str | None = "acme", sees: bool = False) -> ContactThen:
    return ContactThen(contact_id, f"{contact_id}@acme.example", org, sees)


def test_staff_see_by_their_broadest_reason_and_deactivated_users_not_at_all() -> None:
    # Given a project shared with a user and a team, and users of every kind
    moment = Moment(
        members={"ann": "restricted", "gone": "manager"},
        teams={"t2": "lead", "t1": "standard"},
        team_members={"t1": frozenset({"bob", "ann"}), "t2": frozenset({"bob"})},
        staff=[
            staff("ann"),
            staff("bob"),
            staff("boss", "admin"),
            staff("pm", "member", "manage_projects"),
            staff("gone", active=False),
            staff("nobody"),
        ],
        requester=None,
        organisation_sharing=None,
    )

    # When the audience is decided
    seen = {(s.user_id, s.via, s.role) for s in audience(moment).staff}

    # Then each sees for one reason, with their strongest project role
    assert seen == {
        ("ann", "member", "standard"),
        ("bob", "team:t1", "lead"),
        ("boss", "admin", None),
        ("pm", "manage_projects", None),
    }


@pytest.mark.parametrize(
    ("sharing", "sees", "expected"),
    [
        ("none", True, ["req"]),
        ("per_member", False, ["req"]),
        ("per_member", True, ["req", "col"]),
        ("everyone", False, ["req", "col"]),
    ],
)
def test_colleagues_see_as_the_organisation_sharing_and_their_flag_allow(
    sharing: str, sees: bool, expected: list[str]
) -> None:
    # Given a requester and colleagues, one of them in another organisation
    moment = Moment(
        members={},
        teams={},
        team_members={},
        staff=[],
        requester=contact("req"),
        organisation_sharing=sharing,
        colleagues=[contact("req"), contact("col", sees=sees), contact("out", "other", True)],
    )

    # When / Then only the organisation's colleagues the sharing allows see it
    assert [c.contact_id for c in audience(moment).customers] == expected


def test_staff_without_the_tickets_app_are_not_in_a_tickets_audience() -> None:
    planner = StaffThen("planner", "planner@example.com", "admin", (), True, "tasks")
    boss = staff("boss", "admin")
    moment = Moment(
        members={},
        teams={},
        team_members={},
        staff=[planner, boss],
        requester=None,
        organisation_sharing=None,
    )
    assert [s.user_id for s in audience(moment).staff] == ["boss"]


def test_a_tasks_audience_is_the_staff_with_the_tasks_app() -> None:
    planner = StaffThen("planner", "planner@example.com", "admin", (), True, "tasks")
    agent = StaffThen("agent", "agent@example.com", "admin", (), True, "tickets")
    boss = staff("boss", "admin")
    moment = Moment(
        members={},
        teams={},
        team_members={},
        staff=[planner, agent, boss],
        requester=None,
        organisation_sharing=None,
        kind="task",
    )
    assert [s.user_id for s in audience(moment).staff] == ["boss", "planner"]
