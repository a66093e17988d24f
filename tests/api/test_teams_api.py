"""Teams over HTTP: create, rename, members and their roles, who may, lists, errors."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from commands.models import IssueToken, RegisterUser
from domain.user import Flag
from ledgerdesk import bootstrap
from tests.factories import SYSTEM

PROBLEM = "application/problem+json"


def staff(live: bootstrap.Container, email: str, *flags: Flag) -> tuple[str, dict[str, str]]:
    """A staff member's id and the headers that authenticate as them."""
    registered = live.accounts.register_user(
        RegisterUser(email=email, name=email.split("@")[0], flags=list(flags)), SYSTEM
    )
    _, token = live.accounts.issue_token(IssueToken(email=email), SYSTEM)
    return str(registered.id), {"Authorization": f"Bearer {token}"}


def create_team(client: TestClient, name: str, **headers: str) -> dict[str, Any]:
    response = client.post("/api/v1/teams", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def seen(client: TestClient, response: Any) -> dict[str, str]:
    """Headers that read through the views at least as far as `response`'s write."""
    return {"X-Min-Position": response.headers["X-Log-Position"]}


def test_a_created_team_is_renamed_and_read_back_from_the_view(client: TestClient) -> None:
    # Given a new team
    created = client.post("/api/v1/teams", json={"name": "  Second line "})
    assert created.status_code == 201, created.text
    team = created.json()
    assert created.headers["Location"] == f"/api/v1/teams/{team['id']}"
    assert created.headers["ETag"] == '"1"'
    assert (team["name"], team["members"], team["version"]) == ("Second line", [], 1)
    # When it is renamed
    renamed = client.patch(f"/api/v1/teams/{team['id']}", json={"name": "Platform support"})
    # Then the write answers with the new state, and the view shows it once it has caught up
    assert renamed.status_code == 200, renamed.text
    assert renamed.headers["ETag"] == '"2"'
    assert (renamed.json()["name"], renamed.json()["version"]) == ("Platform support", 2)
    read = client.get(f"/api/v1/teams/{team['id']}", headers=seen(client, renamed))
    assert read.status_code == 200
    assert read.headers["X-View-Fresh"] == "true"
    assert read.headers["ETag"] == '"2"'
    assert read.json() == renamed.json()


def test_members_are_put_with_a_role_changed_and_removed(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a team and two staff users
    team = create_team(client, "Support")
    ada, _ = staff(live, "ada@example.com")
    bob, _ = staff(live, "bob@example.com")
    members = f"/api/v1/teams/{team['id']}/members"
    # When both are put in the team, one promoted to lead and the other taken out
    added = client.put(f"{members}/{ada}", json={})
    assert added.status_code == 200, added.text
    assert added.json()["members"] == [{"user_id": ada, "role": "member"}]
    assert client.put(f"{members}/{bob}", json={"role": "member"}).status_code == 200
    promoted = client.put(f"{members}/{ada}", json={"role": "lead"})
    assert promoted.status_code == 200
    assert promoted.headers["ETag"] == '"4"'
    removed = client.delete(f"{members}/{bob}")
    assert removed.status_code == 200, removed.text
    # Then the write model and the view agree on who is in the team, as what
    assert removed.json()["members"] == [{"user_id": ada, "role": "lead"}]
    read = client.get(f"/api/v1/teams/{team['id']}", headers=seen(client, removed)).json()
    assert read["members"] == [{"user_id": ada, "role": "lead"}]
    assert read["version"] == 5
    # And removing someone who is not a member is a 404
    again = client.delete(f"{members}/{bob}")
    assert again.status_code == 404
    assert again.headers["content-type"] == PROBLEM
    # And a rebuild of the view from the log gives the same rows
    assert live.runner.verify("teams") == []


def test_putting_a_member_as_they_are_records_nothing(
    client: TestClient, live: bootstrap.Container
) -> None:
    team = create_team(client, "Support")
    ada, _ = staff(live, "ada@example.com")
    first = client.put(f"/api/v1/teams/{team['id']}/members/{ada}", json={"role": "lead"})
    same = client.put(f"/api/v1/teams/{team['id']}/members/{ada}", json={"role": "lead"})
    assert same.status_code == 200
    assert same.headers["ETag"] == first.headers["ETag"] == '"2"'


def test_a_team_name_is_taken_once_until_its_team_is_renamed(client: TestClient) -> None:
    # Given teams named Support and Billing
    support = create_team(client, "Support")
    billing = create_team(client, "Billing")
    # When another team would take the name Support, in any case or spacing
    taken = client.post("/api/v1/teams", json={"name": " SUPPORT "})
    renamed_onto = client.patch(f"/api/v1/teams/{billing['id']}", json={"name": "support"})
    # Then both are conflicts
    for response in (taken, renamed_onto):
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "/problems/conflict"
    # And once Support is renamed, its old name is free
    assert client.patch(f"/api/v1/teams/{support['id']}", json={"name": "Help"}).status_code == 200
    assert create_team(client, "Support")["id"] not in (support["id"], billing["id"])


def test_a_plain_member_may_not_manage_teams_but_a_member_with_manage_teams_may(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a plain member, a member who manages teams, and a team
    ada, plain = staff(live, "ada@example.com")
    _, manager = staff(live, "bob@example.com", Flag.MANAGE_TEAMS)
    team = create_team(client, "Support")
    path = f"/api/v1/teams/{team['id']}"
    # When the plain member tries to create, rename or add members: 403
    refused = [
        client.post("/api/v1/teams", json={"name": "Mine"}, headers=plain),
        client.patch(path, json={"name": "Mine"}, headers=plain),
        client.put(f"{path}/members/{ada}", json={"role": "lead"}, headers=plain),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        assert response.json()["type"] == "/problems/forbidden"
    # Then the member who manages teams may do each of them
    assert client.post("/api/v1/teams", json={"name": "Mine"}, headers=manager).status_code == 201
    assert client.patch(path, json={"name": "Ours"}, headers=manager).status_code == 200
    put = client.put(f"{path}/members/{ada}", json={"role": "lead"}, headers=manager)
    assert put.status_code == 200, put.text
    assert put.json()["members"] == [{"user_id": ada, "role": "lead"}]


def test_a_team_lead_may_neither_change_members_nor_rename_it(
    client: TestClient, live: bootstrap.Container
) -> None:
    # A team shared with a project gives its members that project role, so adding a member
    # grants access: only admins and those who manage teams may do it.
    lead_id, lead = staff(live, "lead@example.com")
    other, _ = staff(live, "other@example.com")
    team = create_team(client, "Support")
    path = f"/api/v1/teams/{team['id']}"
    assert client.put(f"{path}/members/{lead_id}", json={"role": "lead"}).status_code == 200
    assert client.put(f"{path}/members/{other}", json={}, headers=lead).status_code == 403
    assert client.delete(f"{path}/members/{lead_id}", headers=lead).status_code == 403
    assert client.patch(path, json={"name": "Mine"}, headers=lead).status_code == 403


def test_the_team_list_pages_by_name_and_searches(client: TestClient) -> None:
    # Given four teams
    for name in ("delta", "Alpha", "charlie", "Bravo"):
        last = client.post("/api/v1/teams", json={"name": name})
    # When they are listed two at a time
    page = client.get("/api/v1/teams", params={"limit": 2}, headers=seen(client, last))
    assert page.status_code == 200
    rest = client.get("/api/v1/teams", params={"limit": 2, "cursor": page.json()["next_cursor"]})
    # Then they come in name order, case-blind, with no page left over
    listed = [t["name"] for t in page.json()["items"] + rest.json()["items"]]
    assert listed == ["Alpha", "Bravo", "charlie", "delta"]
    assert rest.json()["next_cursor"] is None
    found = client.get("/api/v1/teams", params={"q": "RAV"}).json()["items"]
    assert [t["name"] for t in found] == ["Bravo"]
    bad = client.get("/api/v1/teams", params={"cursor": "%%%"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["location"] == ["query", "cursor"]


def test_invalid_requests_get_a_422_naming_the_field(
    client: TestClient, live: bootstrap.Container
) -> None:
    team = create_team(client, "Support")
    ada, _ = staff(live, "ada@example.com")
    cases = [
        (client.post("/api/v1/teams", json={"name": ""}), ["body", "name"]),
        (client.post("/api/v1/teams", json={"name": "   "}), ["body", "name"]),
        (client.post("/api/v1/teams", json={"name": "X", "colour": "red"}), ["body", "colour"]),
        (client.patch(f"/api/v1/teams/{team['id']}", json={}), ["body", "name"]),
        (
            client.put(f"/api/v1/teams/{team['id']}/members/{ada}", json={"role": "boss"}),
            ["body", "role"],
        ),
        (client.get("/api/v1/teams/not-a-uuid"), ["path", "team_id"]),
        (client.delete(f"/api/v1/teams/{team['id']}/members/nobody"), ["path", "user_id"]),
    ]
    for response, location in cases:
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        assert location in [e["location"] for e in response.json()["errors"]], response.text


def test_unknown_teams_and_users_are_404s(client: TestClient, live: bootstrap.Container) -> None:
    team = create_team(client, "Support")
    ada, _ = staff(live, "ada@example.com")
    nowhere = f"/api/v1/teams/{uuid.uuid4()}"
    responses = [
        client.get(nowhere),
        client.patch(nowhere, json={"name": "X"}),
        client.put(f"{nowhere}/members/{ada}", json={}),
        client.put(f"/api/v1/teams/{team['id']}/members/{uuid.uuid4()}", json={}),
        client.delete(f"/api/v1/teams/{team['id']}/members/{ada}"),
    ]
    for response in responses:
        assert response.status_code == 404, response.text
        assert response.json()["type"] == "/problems/not-found"
