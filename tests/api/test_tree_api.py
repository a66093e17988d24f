"""The tree view over HTTP: structure, counts per state, paging, and scoping by project and
by the item kinds the caller's apps show."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.factories import user_token

TREE = "/api/v1/views/tree"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class Writer:
    """Writes through the API and remembers the newest log position, to read it back."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.position = "0"

    def __call__(self, method: str, url: str, expect: int = 200, /, **body: Any) -> Any:
        response = self.client.request(method, url, json=body)
        self.position = response.headers.get("X-Log-Position", self.position)
        return ok(response, expect)

    def create(self, url: str, **body: Any) -> Any:
        return self("POST", url, 201, **body)

    def ticket(self, title: str, project: str, folder: str | None = None) -> int:
        created = self.create("/api/v1/tickets", title=title, project_id=project, folder_id=folder)
        return int(created["number"])

    def task(self, title: str, project: str, folder: str | None = None) -> int:
        created = self.create("/api/v1/tasks", title=title, project_id=project, folder_id=folder)
        return int(created["number"])

    def member(
        self, live: bootstrap.Container, email: str, project: str, apps: str
    ) -> dict[str, str]:
        """A standard member of `project` using `apps`: their request headers."""
        headers = {"Authorization": f"Bearer {user_token(live, email)}"}
        user_id = ok(self.client.get("/api/v1/me", headers=headers))["id"]
        self("PUT", f"/api/v1/projects/{project}/members/{user_id}", role="standard")
        self("PATCH", f"/api/v1/users/{user_id}", apps=apps)
        return headers

    def tree(
        self, parent: str = "root", headers: dict[str, str] | None = None, **params: Any
    ) -> Any:
        return ok(
            self.client.get(
                TREE,
                params={"parent": parent, **params},
                headers={"X-Min-Position": self.position, **(headers or {})},
            )
        )


def counts(node: dict[str, Any]) -> tuple[int, int, int, int]:
    c = node["counts"]
    return c["not_started"], c["in_progress"], c["finished"], c["total"]


def names(page: dict[str, Any]) -> list[tuple[str, str]]:
    return [(child["kind"], child["name"]) for child in page["items"]]


def build(w: Writer) -> dict[str, Any]:
    """Clients > 2027 > Relaunch (folders Design > Icons), Support at the top (in Acme's
    customer folder), one item in each place."""
    clients = w.create("/api/v1/portfolios", name="Clients")
    year = w.create("/api/v1/portfolios", name="2027", parent_id=clients["id"])
    acme = w.create("/api/v1/customers", name="Acme")
    relaunch = w.create("/api/v1/projects", name="Relaunch", portfolio_id=year["id"])
    support = w.create("/api/v1/projects", name="Support", customer_ids=[acme["id"]])
    design = w.create("/api/v1/folders", project_id=relaunch["id"], name="Design")
    icons = w.create(
        "/api/v1/folders", project_id=relaunch["id"], name="Icons", parent_id=design["id"]
    )
    numbers = {
        "brief": w.ticket("Brief", relaunch["id"]),
        "mockup": w.ticket("Mockup", relaunch["id"], design["id"]),
        "favicon": w.ticket("Favicon", relaunch["id"], icons["id"]),
        "outage": w.ticket("Outage", support["id"]),
    }
    return {
        "clients": clients,
        "year": year,
        "acme": acme,
        "relaunch": relaunch,
        "support": support,
        "design": design,
        "icons": icons,
        **numbers,
    }


def test_the_tree_shows_containers_then_items_with_counts_rolled_up(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given portfolios, a customer folder, projects, nested folders and items
    w = Writer(client)
    n = build(w)

    # When the tree is read from the top down
    root = w.tree()
    clients = w.tree(f"portfolio:{n['clients']['id']}")
    relaunch = w.tree(f"project:{n['relaunch']['id']}")
    design = w.tree(f"folder:{n['design']['id']}")
    acme = w.tree(f"customer:{n['acme']['id']}")

    # Then each level lists its children, containers by kind then name, items by number
    assert names(root) == [("portfolio", "Clients"), ("customer", "Acme"), ("project", "Support")]
    assert counts(root["node"]) == (4, 0, 0, 4)
    assert [counts(c) for c in root["items"]] == [(3, 0, 0, 3), (1, 0, 0, 1), (1, 0, 0, 1)]
    assert names(clients) == [("portfolio", "2027")]
    assert names(relaunch) == [("folder", "Design"), ("item", f"#{n['brief']} Brief")]
    assert [counts(c) for c in relaunch["items"]] == [(2, 0, 0, 2), (1, 0, 0, 1)]
    assert names(design) == [("folder", "Icons"), ("item", f"#{n['mockup']} Mockup")]
    assert names(acme) == [("project", "Support")]
    assert [c["has_children"] for c in design["items"]] == [True, False]
    assert w.tree(f"folder:{n['icons']['id']}")["items"][0]["number"] == n["favicon"]


def test_status_changes_and_moves_move_counts(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given the tree with one item in each place
    w = Writer(client)
    n = build(w)

    # When the favicon is finished, the mockup is in progress and moves to Support,
    # and the outage changes status within one state
    w("PATCH", f"/api/v1/tickets/{n['favicon']}", status="Resolved")
    w("PATCH", f"/api/v1/tickets/{n['mockup']}", status="Open")
    w("PATCH", f"/api/v1/tickets/{n['mockup']}", project_id=n["support"]["id"])
    w("PATCH", f"/api/v1/tickets/{n['outage']}", status="Open")
    w("PATCH", f"/api/v1/tickets/{n['outage']}", status="Waiting on customer")

    # Then the counts follow the items, in both places of a move
    root = w.tree()
    relaunch = w.tree(f"project:{n['relaunch']['id']}")
    support = w.tree(f"project:{n['support']['id']}")
    assert counts(root["node"]) == (1, 2, 1, 4)
    assert [counts(c) for c in root["items"]] == [(1, 0, 1, 2), (0, 2, 0, 2), (0, 2, 0, 2)]
    assert counts(relaunch["node"]) == (1, 0, 1, 2)
    assert [counts(c) for c in relaunch["items"]] == [(0, 0, 1, 1), (1, 0, 0, 1)]
    assert [c["number"] for c in support["items"]] == [n["mockup"], n["outage"]]
    design = w.tree(f"folder:{n['design']['id']}")
    assert names(design) == [("folder", "Icons")]
    # And a rebuild from the log gives the same rows
    assert live.runner.verify("tree") == []


def test_children_come_a_page_at_a_time(client: TestClient, live: bootstrap.Container) -> None:
    # Given a project with three folders and three items directly in it
    w = Writer(client)
    project = w.create("/api/v1/projects", name="Paged")
    for name in ("b", "A", "c"):
        w.create("/api/v1/folders", project_id=project["id"], name=name)
    numbers = [w.ticket(f"Item {i}", project["id"]) for i in range(3)]

    # When its children are read two at a time
    pages, cursor = [], None
    while True:
        params = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        page = w.tree(f"project:{project['id']}", **params)
        pages.append([c["name"] for c in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    # Then every child comes once, folders by name first, then items by number
    item_names = [f"#{number} Item {i}" for i, number in enumerate(numbers)]
    assert pages == [["A", "b"], ["c", item_names[0]], item_names[1:]]
    bad = client.get(TREE, params={"parent": f"project:{project['id']}", "cursor": "nope"})
    assert bad.status_code == 422


def test_a_member_sees_only_the_projects_shared_with_them(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given the tree, and a member shared into Support only
    w = Writer(client)
    n = build(w)
    token = user_token(live, "ada@example.com")
    ada = {"Authorization": f"Bearer {token}"}
    ada_id = ok(client.get("/api/v1/me", headers=ada))["id"]
    w("PUT", f"/api/v1/projects/{n['support']['id']}/members/{ada_id}", role="standard")

    # When the member and the admin read the tree
    theirs = w.tree(headers=ada)
    mine = w.tree()

    # Then the member sees Support (and its customer folder), counted alone
    assert names(theirs) == [("customer", "Acme"), ("project", "Support")]
    assert counts(theirs["node"]) == (1, 0, 0, 1)
    assert counts(mine["node"]) == (4, 0, 0, 4)
    # And a portfolio holding nothing of theirs, projects and folders outside their scope
    # are not found (they must not learn what they hold)
    for hidden in (
        f"portfolio:{n['clients']['id']}",
        f"project:{n['relaunch']['id']}",
        f"folder:{n['icons']['id']}",
    ):
        response = client.get(TREE, params={"parent": hidden}, headers=ada)
        assert response.status_code == 404, hidden
    assert client.get(TREE, params={"parent": "shelf:1"}).status_code == 422


def items(page: dict[str, Any]) -> list[tuple[str, int]]:
    return [
        (child["item_kind"], child["number"]) for child in page["items"] if child["kind"] == "item"
    ]


def test_each_caller_sees_the_item_kinds_their_apps_show(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a project holding a ticket outside any folder and a task (in progress) in a
    # folder, and members using only tickets and only tasks
    w = Writer(client)
    project = w.create("/api/v1/projects", name="Mixed")
    plan = w.create("/api/v1/folders", project_id=project["id"], name="Plan")
    ticket = w.ticket("Printer jammed", project["id"])
    task = w.task("Order toner", project["id"], plan["id"])
    w("PATCH", f"/api/v1/tasks/{task}", status="In progress")
    tickets_only = w.member(live, "tess@example.com", project["id"], "tickets")
    tasks_only = w.member(live, "tom@example.com", project["id"], "tasks")

    # When the admin (both apps) and each member read the root, the project and the folder
    def read(headers: dict[str, str] | None) -> tuple[Any, Any, Any]:
        return (
            w.tree(headers=headers),
            w.tree(f"project:{project['id']}", headers=headers),
            w.tree(f"folder:{plan['id']}", headers=headers),
        )

    root, mixed, folder = read(None)
    t_root, t_mixed, t_folder = read(tickets_only)
    k_root, k_mixed, k_folder = read(tasks_only)

    # Then the admin sees both, each counted in its own state
    assert counts(root["node"]) == counts(mixed["node"]) == (1, 1, 0, 2)
    assert names(mixed) == [("folder", "Plan"), ("item", f"#{ticket} Printer jammed")]
    assert items(mixed) == [("ticket", ticket)]
    assert items(folder) == [("task", task)]
    assert counts(mixed["items"][0]) == (0, 1, 0, 1)
    # And the tickets-only member sees the ticket alone, and an empty-looking folder
    assert names(t_root) == [("project", "Mixed")]
    assert counts(t_root["node"]) == counts(t_mixed["node"]) == (1, 0, 0, 1)
    assert items(t_mixed) == [("ticket", ticket)]
    assert t_folder["items"] == []
    assert counts(t_mixed["items"][0]) == (0, 0, 0, 0)
    assert t_mixed["items"][0]["has_children"] is False
    # And the tasks-only member (no longer refused) sees the task alone
    assert names(k_root) == [("project", "Mixed")]
    assert counts(k_root["node"]) == counts(k_mixed["node"]) == (0, 1, 0, 1)
    assert names(k_mixed) == [("folder", "Plan")]
    assert k_mixed["items"][0]["has_children"] is True
    assert items(k_folder) == [("task", task)]
    assert counts(k_folder["node"]) == (0, 1, 0, 1)


def test_a_converted_ticket_appears_once_as_its_task(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a ticket in a project shared with a tickets-only and a tasks-only member
    w = Writer(client)
    project = w.create("/api/v1/projects", name="Converted")
    ticket = w.ticket("Move the office", project["id"])
    tickets_only = w.member(live, "tess@example.com", project["id"], "tickets")
    tasks_only = w.member(live, "tom@example.com", project["id"], "tasks")

    # When it is converted to a task
    task = int(w.create(f"/api/v1/tickets/{ticket}/conversion")["number"])

    # Then the tree holds it once, as the task, for those who see tasks
    ref = f"project:{project['id']}"
    assert items(w.tree(ref)) == items(w.tree(ref, headers=tasks_only)) == [("task", task)]
    assert counts(w.tree(ref)["node"]) == (1, 0, 0, 1)
    assert w.tree(ref, headers=tickets_only)["items"] == []
    assert counts(w.tree(headers=tickets_only)["node"]) == (0, 0, 0, 0)
    # And a rebuild from the log gives the same rows
    assert live.runner.verify("tree") == []


def test_the_tree_as_of_a_moment_shows_its_places_and_counts_as_they_were(
    client: TestClient, live: bootstrap.Container
) -> None:
    import time
    from datetime import UTC, datetime

    w = Writer(client)
    n = build(w)
    time.sleep(0.05)
    before = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    w("PATCH", f"/api/v1/tickets/{n['favicon']}", status="Resolved")
    w("PATCH", f"/api/v1/tickets/{n['mockup']}", project_id=n["support"]["id"])
    w.create("/api/v1/portfolios", name="Archive")
    w.ticket("Later", n["support"]["id"])
    now = w.tree()
    then = w.tree(as_of=before)
    assert names(now)[0] == ("portfolio", "Archive")
    assert names(then) == [("portfolio", "Clients"), ("customer", "Acme"), ("project", "Support")]
    assert counts(then["node"]) == (4, 0, 0, 4)
    assert [counts(c) for c in then["items"]] == [(3, 0, 0, 3), (1, 0, 0, 1), (1, 0, 0, 1)]
    assert then["as_of"].startswith(before[:19])
    design = w.tree(f"folder:{n['design']['id']}", as_of=before)
    assert names(design) == [("folder", "Icons"), ("item", f"#{n['mockup']} Mockup")]
    # Before anything existed: an empty tree
    assert w.tree(as_of="2020-01-01T00:00:00Z")["items"] == []
