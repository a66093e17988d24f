"""Which API routes each company switch governs: one table, read by one dependency that
every route runs, so a route under a switched-off app or feature answers a 404 problem
saying it is disabled, and a route added later under the same path is governed too
(tests/api/test_switches.py calls every route of the table with its switch off, and fails
on a route no entry names that an entry should).

The pages answer their own "switched off" page (`api.pages`); this table is the API's."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from domain.company_settings import AppSwitchedOffError


@dataclass(frozen=True)
class Switch:
    """The routes under `prefixes` answer only while `group`.`name` is on."""

    group: str  # apps | features
    name: str
    label: str  # as the problem names it: "the {label} is disabled ..."
    prefixes: tuple[str, ...]
    # Only these methods (None: every method).
    methods: frozenset[str] | None = None
    # Routes under `prefixes` that another switch governs instead.
    excepted: tuple[str, ...] = ()

    def governs(self, path: str, method: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return _under(path, self.prefixes) and not _under(path, self.excepted)


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(
        path == prefix or path.startswith((f"{prefix}/", f"{prefix}.")) for prefix in prefixes
    )


API = "/api/v1"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SWITCHES: tuple[Switch, ...] = (
    Switch("apps", "tickets", "tickets app", (f"{API}/tickets", f"{API}/portal/tickets")),
    Switch(
        "apps",
        "tasks",
        "tasks app",
        (f"{API}/tasks", f"{API}/views/gantt", f"{API}/views/gantt.svg"),
    ),
    Switch(
        "apps",
        "timesheets",
        "timesheets app",
        (
            f"{API}/timesheets",
            f"{API}/reports/timesheets",
            f"{API}/items/{{number}}/timer",
            f"{API}/me/timers",
        ),
    ),
    # The knowledge base's customer side answers without the portal (anonymous readers, the
    # widget's Help tab); signed in, only while the portal is on (`api/routers/portal_kb.py`).
    Switch("apps", "portal", "portal", (f"{API}/portal",), excepted=(f"{API}/portal/kb",)),
    Switch("apps", "knowledge_base", "knowledge base", (f"{API}/kb", f"{API}/portal/kb")),
    Switch("apps", "web_forms", "web forms app", (f"{API}/forms",)),
    Switch("apps", "messenger", "messenger", (f"{API}/chats", f"{API}/portal/chats")),
    Switch("apps", "widget", "widget", (f"{API}/widgets", f"{API}/admin/widgets")),
    Switch(
        "features",
        "timers",
        "timers feature",
        (f"{API}/items/{{number}}/timer", f"{API}/me/timers"),
    ),
    Switch(
        "features",
        "timesheet_approval",
        "timesheet approval feature",
        tuple(
            f"{API}/timesheets/{{entry_id:uuid}}/{step}"
            for step in ("submission", "approval", "rejection")
        ),
    ),
    Switch(
        "features",
        "recurring_items",
        "recurring items feature",
        (f"{API}/tasks/{{number}}/recurrence",),
    ),
    Switch(
        "features",
        "sla",
        "SLA feature",
        (
            f"{API}/sla-policies",
            f"{API}/items/{{number}}/sla",
            f"{API}/views/sla",
            f"{API}/reports/sla-compliance",
        ),
    ),
    Switch("features", "automations", "automations feature", (f"{API}/automations",)),
)


def governing(path: str, method: str) -> list[Switch]:
    """The switches a route answers to (the first off is the one named)."""
    return [switch for switch in SWITCHES if switch.governs(path, method)]


async def switched_on(request: Request, svc: ServicesDep) -> None:
    """Refuse (404) a request to an API route whose app or feature is switched off; the
    switches are read per request, so a change holds in every process at once. On the event
    loop: a route no switch governs (health, liveness) waits for no worker thread."""
    route = request.scope.get("route")
    path = getattr(route, "path", "")
    if not path.startswith(f"{API}/"):
        return
    switches = governing(path, request.method)
    if not switches:
        return
    current = await run_in_threadpool(svc.company.current)  # (read once per request)
    request.state.switches = current
    for switch in switches:
        if not current[switch.group][switch.name]:
            raise AppSwitchedOffError(switch.label)
