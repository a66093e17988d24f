"""The access matrix: every ticket route x every role x every kind of object.

An "unexpected allow" (a 2xx where the rules say no) fails the test; so does an
unexpected refusal. The number of checks is printed.
"""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.factories import user_token

ROLES = ("admin", "manager", "lead", "standard", "restricted", "non_member", "anonymous")
OBJECTS = ("own", "same_project", "other_project")


@dataclass(frozen=True)
class Route:
    name: str
    call: Callable[[TestClient, int, dict[str, str], Any], Any]
    kind: str  # read | comment | edit | list


def _message(c: TestClient, n: int, h: dict[str, str], w: Any) -> Any:
    return c.post(
        f"/api/v1/tickets/{n}/messages",
        json={"body": "matrix", "visibility": "internal"},
        headers=h,
    )


ROUTES = [
    Route("GET ticket", lambda c, n, h, w: c.get(f"/api/v1/tickets/{n}", headers=h), "read"),
    Route(
        "GET history", lambda c, n, h, w: c.get(f"/api/v1/tickets/{n}/history", headers=h), "read"
    ),
    Route(
        "GET attachment",
        lambda c, n, h, w: c.get(f"/api/v1/tickets/{n}/attachments/{w.attachments[n]}", headers=h),
        "read",
    ),
    Route("POST message", _message, "comment"),
    Route(
        "PUT follower",
        lambda c, n, h, w: c.put(f"/api/v1/tickets/{n}/followers/{w.admin_id}", headers=h),
        "comment",
    ),
    Route(
        "PATCH ticket",
        lambda c, n, h, w: c.patch(f"/api/v1/tickets/{n}", json={"priority": "high"}, headers=h),
        "edit",
    ),
    Route(
        "PUT assignee",
        lambda c, n, h, w: c.put(f"/api/v1/tickets/{n}/assignees/{w.admin_id}", headers=h),
        "edit",
    ),
    Route(
        "PUT team",
        lambda c, n, h, w: c.put(f"/api/v1/tickets/{n}/team/{w.team_id}", headers=h),
        "edit",
    ),
    Route(
        "POST attachment",
        lambda c, n, h, w: c.post(
            f"/api/v1/tickets/{n}/attachments", files={"file": ("m.txt", b"m")}, headers=h
        ),
        "edit",
    ),
]


def expected(role: str, obj: str, kind: str) -> int:
    """The status the rules give: 2xx allowed, 401 anonymous, 404 invisible, 403 refused."""
    if role == "anonymous":
        return 401
    if role == "admin":
        return 200
    in_project = obj in ("own", "same_project")
    if role == "non_member" or not in_project:
        return 404
    if kind in ("read", "comment"):
        return 200
    if role in ("manager", "lead"):
        return 200
    if role == "standard":
        return 200 if obj == "own" else 403
    return 403  # restricted


class World:
    def __init__(self, client: TestClient, live: bootstrap.Container) -> None:
        self.headers: dict[str, dict[str, str]] = {
            "admin": dict(client.headers),
            "anonymous": {"Authorization": ""},
        }
        me = client.get("/api/v1/me").json()
        self.admin_id = me["id"]
        same = client.post("/api/v1/projects", json={"name": "Same"}).json()
        other = client.post("/api/v1/projects", json={"name": "Other"}).json()
        self.team_id = client.post("/api/v1/teams", json={"name": "Matrix"}).json()["id"]
        for role in ("manager", "lead", "standard", "restricted", "non_member"):
            token = user_token(live, f"{role}@example.com")
            h = {"Authorization": f"Bearer {token}"}
            user_id = client.get("/api/v1/me", headers=h).json()["id"]
            if role != "non_member":
                client.put(f"/api/v1/projects/{same['id']}/members/{user_id}", json={"role": role})
            self.headers[role] = h
        own = client.post(
            "/api/v1/tickets",
            json={"title": "own", "project_id": same["id"]},
            headers=self.headers["standard"],
        ).json()
        same_t = client.post(
            "/api/v1/tickets", json={"title": "same", "project_id": same["id"]}
        ).json()
        other_t = client.post(
            "/api/v1/tickets", json={"title": "other", "project_id": other["id"]}
        ).json()
        self.numbers = {
            "own": own["number"],
            "same_project": same_t["number"],
            "other_project": other_t["number"],
        }
        self.attachments: dict[int, str] = {}
        last = None
        for number in self.numbers.values():
            last = client.post(
                f"/api/v1/tickets/{number}/attachments", files={"file": ("a.txt", b"a")}
            )
            self.attachments[number] = last.headers["X-Attachment-ID"]
        assert last is not None
        self.position = last.headers["X-Log-Position"]


def test_every_ticket_route_for_every_staff_role_and_object(
    client: TestClient, live: bootstrap.Container
) -> None:
    world = World(client, live)
    checks, unexpected = 0, []
    for role, obj, route in itertools.product(ROLES, OBJECTS, ROUTES):
        headers = {**world.headers[role], "X-Min-Position": world.position}
        response = route.call(client, world.numbers[obj], headers, world)
        want = expected(role, obj, route.kind)
        got = response.status_code
        checks += 1
        allowed = 200 <= got < 300
        if allowed != (want == 200) or (not allowed and got != want):
            unexpected.append(f"{role} {route.name} on {obj}: got {got}, want {want}")
    print(f"access matrix: {checks} checks, {len(unexpected)} unexpected")
    assert not unexpected, "\n".join(unexpected)


def test_the_flat_list_shows_each_role_exactly_the_items_it_may_see(
    client: TestClient, live: bootstrap.Container
) -> None:
    world = World(client, live)
    visible = {
        "admin": set(OBJECTS),
        "manager": {"own", "same_project"},
        "lead": {"own", "same_project"},
        "standard": {"own", "same_project"},
        "restricted": {"own", "same_project"},
        "non_member": set(),
    }
    for role, objs in visible.items():
        headers = {**world.headers[role], "X-Min-Position": world.position}
        items = client.get("/api/v1/views/flat", headers=headers).json()["items"]
        assert {i["number"] for i in items} == {world.numbers[o] for o in objs}, role


# --- customers ------------------------------------------------------------------------------

SHARING = (
    ("none", False),
    ("per_member", False),
    ("per_member", True),
    ("everyone", False),
)
MARKER = "INTERNAL-MARKER-7f3a"


def _portal_session(client: TestClient, email: str, organisation_id: str) -> str:
    made = client.post(
        "/api/v1/contacts", json={"email": email, "organisation_id": organisation_id}
    )
    assert made.status_code == 201, made.text
    contact_id = made.json()["id"]
    invited = client.post(f"/api/v1/contacts/{contact_id}/portal-invitations").json()
    session = client.post(
        "/api/v1/portal/session",
        json={"invitation": invited["invitation"]},
        headers={"Authorization": ""},
    )
    assert session.status_code == 201, session.text
    return str(session.json()["access_token"])


def test_every_customer_sees_exactly_what_their_sharing_mode_allows(
    client: TestClient, live: bootstrap.Container
) -> None:
    checks, unexpected = 0, []
    nobody = str(uuid.uuid4())  # Ids the refused requests never get far enough to look up.
    stub = SimpleNamespace(admin_id=nobody, team_id=nobody, attachments=defaultdict(lambda: nobody))
    for n, (mode, flag) in enumerate(SHARING):
        org_a = client.post("/api/v1/customers", json={"name": f"A{n}", "sharing": mode}).json()
        org_b = client.post("/api/v1/customers", json={"name": f"B{n}", "sharing": "everyone"})
        a1 = _portal_session(client, f"a1-{n}@a{n}.example", org_a["id"])
        a2 = _portal_session(client, f"a2-{n}@a{n}.example", org_a["id"])
        b1 = _portal_session(client, f"b1-{n}@b{n}.example", org_b.json()["id"])
        if flag:
            a2_id = client.get(
                "/api/v1/portal/me", headers={"Authorization": f"Bearer {a2}"}
            ).json()["id"]
            client.patch(f"/api/v1/contacts/{a2_id}", json={"sees_colleagues_items": True})
        tickets = {}
        for who in ("a1", "a2", "b1"):
            email = f"{who}-{n}@{who[0]}{n}.example"
            made = client.post(
                "/api/v1/tickets", json={"title": f"{who}", "requester_email": email}
            ).json()
            tickets[who] = made["number"]
            last = client.post(
                f"/api/v1/tickets/{made['number']}/messages",
                json={"body": MARKER, "visibility": "internal"},
            )
        wait = {"X-Min-Position": last.headers["X-Log-Position"]}
        sees_colleague = mode == "everyone" or (mode == "per_member" and flag)
        want = {"a2": 200, "a1": 200 if sees_colleague else 404, "b1": 404}
        viewer = {"Authorization": f"Bearer {a2}", **wait}
        for owner, status in want.items():
            number = tickets[owner]
            for method, path, body in (
                ("GET", f"/api/v1/portal/tickets/{number}", None),
                ("POST", f"/api/v1/portal/tickets/{number}/messages", {"body": "hi"}),
            ):
                got = client.request(method, path, json=body, headers=viewer)
                checks += 1
                ok_status = status if method == "GET" or status != 200 else 201
                if got.status_code != ok_status:
                    unexpected.append(f"{mode}/{flag} a2 {method} {owner}: {got.status_code}")
                if MARKER in got.text:
                    unexpected.append(f"{mode}/{flag} a2 {method} {owner}: internal leaked")
        listed = client.get("/api/v1/portal/tickets", headers=viewer)
        checks += 1
        seen = {i["number"] for i in listed.json()["items"]}
        wanted = {tickets[o] for o, s in want.items() if s == 200}
        if seen != wanted or MARKER in listed.text:
            unexpected.append(f"{mode}/{flag} list: {seen} != {wanted}")
        for token in (a1, b1, a2):  # Customer tokens never open staff routes.
            for route in ROUTES:
                headers = {"Authorization": f"Bearer {token}"}
                got = route.call(client, tickets["a1"], headers, stub)
                checks += 1
                if got.status_code != 401:
                    unexpected.append(f"customer on staff {route.name}: {got.status_code}")
        staff_on_portal = client.get(f"/api/v1/portal/tickets/{tickets['a1']}")
        checks += 1
        if staff_on_portal.status_code != 401:
            unexpected.append(f"staff token on the portal: {staff_on_portal.status_code}")
    print(f"customer access matrix: {checks} checks, {len(unexpected)} unexpected")
    assert not unexpected, "\n".join(unexpected)


PUBLIC = {
    ("get", "/api/v1/health"),
    ("get", "/api/v1/health/live"),
    ("get", "/api/v1/health/ready"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/invitations/accept"),
    ("post", "/api/v1/portal/session"),
    # Anyone may open a chat while admins allow anonymous chats (403 while they do not).
    ("post", "/api/v1/portal/chats"),
    # What a website's widget reads before anyone signs in: its face and the public articles.
    ("get", "/api/v1/widgets/{widget_id}"),
    ("get", "/api/v1/portal/kb"),
    ("get", "/api/v1/portal/kb/{slug}"),
}


def _concrete(path: str) -> str:
    """The path with every parameter filled by a value of the right shape."""
    filled = path.replace("{number}", "1")
    while "{" in filled:
        start = filled.index("{")
        filled = filled[:start] + str(uuid.uuid4()) + filled[filled.index("}") + 1 :]
    return filled


def test_every_route_refuses_anonymous_callers_and_the_wrong_kind_of_token(
    client: TestClient,
) -> None:
    org = client.post("/api/v1/customers", json={"name": "Sweep", "sharing": "none"}).json()
    customer = {"Authorization": f"Bearer {_portal_session(client, 'c@sweep.example', org['id'])}"}
    staff = dict(client.headers)
    spec = client.get("/openapi.json").json()
    checks, unexpected = 0, []
    for path, item in spec["paths"].items():
        for method in item:
            if (method, path) in PUBLIC:
                continue
            url = _concrete(path)
            portal = path.startswith("/api/v1/portal/")
            callers = {
                "anonymous": {"Authorization": ""},
                "wrong kind": staff if portal else customer,
            }
            for who, headers in callers.items():
                got = client.request(method.upper(), url, headers=headers, json={})
                checks += 1
                if got.status_code != 401:
                    unexpected.append(f"{who} {method.upper()} {path}: {got.status_code}")
    print(f"route sweep: {checks} checks, {len(unexpected)} unexpected")
    assert checks > 100
    assert not unexpected, "\n".join(unexpected)


MANAGEMENT = ("admin", "manager", "lead", "standard", "restricted", "non_member")


def test_every_management_route_for_every_staff_role(
    client: TestClient, live: bootstrap.Container
) -> None:
    world = World(client, live)
    project = client.get(
        f"/api/v1/tickets/{world.numbers['own']}", headers={"X-Min-Position": world.position}
    ).json()["project_id"]
    folder = client.post("/api/v1/folders", json={"project_id": project, "name": "Ops"}).json()
    asker = client.get("/api/v1/me", headers=world.headers["non_member"]).json()["id"]
    target_token = user_token(live, "target@example.com")
    target = client.get("/api/v1/me", headers={"Authorization": f"Bearer {target_token}"})
    target_id = target.json()["id"]
    client.post(
        f"/api/v1/projects/{project}/join-requests", json={}, headers=world.headers["non_member"]
    )
    allowed = {
        "GET project": {"admin", "manager", "lead", "standard", "restricted"},
        "PATCH project": {"admin", "manager"},
        "PUT member": {"admin", "manager"},
        "PUT join decision": {"admin", "manager"},
        "POST folder": {"admin", "manager", "lead"},
        "PATCH folder": {"admin", "manager", "lead"},
        "POST portfolio": {"admin"},
        "POST team": {"admin"},
        "POST customer": {"admin"},
        "POST user": {"admin"},
    }
    hidden = {("non_member", "PATCH folder")}  # 404: the folder is not theirs to know of.
    n = itertools.count()
    calls = {
        "GET project": lambda h: client.get(f"/api/v1/projects/{project}", headers=h),
        "PATCH project": lambda h: client.patch(
            f"/api/v1/projects/{project}", json={"name": f"Same {next(n)}"}, headers=h
        ),
        "PUT member": lambda h: client.put(
            f"/api/v1/projects/{project}/members/{target_id}",
            json={"role": "restricted"},
            headers=h,
        ),
        "PUT join decision": lambda h: client.put(
            f"/api/v1/projects/{project}/join-requests/{asker}", json={"approve": False}, headers=h
        ),
        "POST folder": lambda h: client.post(
            "/api/v1/folders", json={"project_id": project, "name": f"F{next(n)}"}, headers=h
        ),
        "PATCH folder": lambda h: client.patch(
            f"/api/v1/folders/{folder['id']}", json={"name": f"Ops {next(n)}"}, headers=h
        ),
        "POST portfolio": lambda h: client.post(
            "/api/v1/portfolios", json={"name": f"P{next(n)}"}, headers=h
        ),
        "POST team": lambda h: client.post(
            "/api/v1/teams", json={"name": f"T{next(n)}"}, headers=h
        ),
        "POST customer": lambda h: client.post(
            "/api/v1/customers", json={"name": f"C{next(n)}"}, headers=h
        ),
        "POST user": lambda h: client.post(
            "/api/v1/users", json={"email": f"new{next(n)}@example.com", "name": "N"}, headers=h
        ),
    }
    checks, unexpected = 0, []
    for role in MANAGEMENT:
        for name, call in calls.items():
            headers = {**world.headers[role], "X-Min-Position": str(live.app.head())}
            got = call(headers).status_code
            checks += 1
            may = role in allowed[name]
            want_refusal = 404 if (role, name) in hidden else 403
            if may and not 200 <= got < 300:
                unexpected.append(f"{role} {name}: refused with {got}")
            if not may and got != want_refusal:
                unexpected.append(f"{role} {name}: got {got}, want {want_refusal}")
            if name == "PUT join decision" and may and 200 <= got < 300:
                client.post(
                    f"/api/v1/projects/{project}/join-requests",
                    json={},
                    headers=world.headers["non_member"],
                )  # Ask again for the next.
    print(f"management matrix: {checks} checks, {len(unexpected)} unexpected")
    assert not unexpected, "\n".join(unexpected)
