"""What routers depend on: the services, the caller, and read-your-writes waits."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.answers import Answers
from api.pages.config import PagesConfig
from api.problems import InvalidParameterError
from api.read_your_writes import (
    READING,
    bearer_credential,
    caller_key,
    session_cookie,
    wait_for_views,
)
from api.streams import StreamHub
from api.throttle import SignInThrottle
from commands.accounts import AccountService
from commands.audience import AudienceService
from commands.chat.service import ChatService
from commands.company_settings import CompanySettingsService
from commands.customers import CustomerService
from commands.errors import InvalidTokenError
from commands.imports.items import ItemImportService
from commands.imports.jobs import ImportJobService
from commands.intake.catalogue import IntakeCatalogue
from commands.intake.submissions import SubmissionService
from commands.knowledge_base import KnowledgeBaseService
from commands.log_context import note
from commands.mail.mailboxes import MailboxService
from commands.mail.outgoing.service import MailOutService
from commands.mail.service import MailService
from commands.models import Context
from commands.msproject.importer import PlanImportService
from commands.notifications import NotificationService
from commands.portal import SESSION_PREFIX, PortalService
from commands.projects import ProjectService
from commands.push import PushService
from commands.service import CommandService
from commands.sla.items import ItemSlaService
from commands.sla.policies import SlaPolicyService
from commands.teams import TeamService
from commands.timesheets import TimesheetService
from commands.users import Caller
from commands.views.saved import SavedViewService
from commands.views.schedules import ReportScheduleService
from commands.webhooks.deliveries import DeliveryService
from commands.webhooks.subscriptions import SubscriptionService
from commands.widgets import WidgetService
from commands.workflow.automations import AutomationService
from commands.workflow.statuses import StatusService
from domain.errors import DomainError, PermissionDeniedError
from domain.user import Scope, User
from domain.values import Actor
from projections.access import StaffScope, scope_of
from projections.caller_positions import CallerPositions
from projections.db import ViewDatabase
from projections.runner import ProjectionRunner


@dataclass
class Services:
    """Everything the API needs, built once by the composition root."""

    commands: CommandService
    accounts: AccountService
    teams: TeamService
    projects: ProjectService
    customers: CustomerService
    portal: PortalService
    audience: AudienceService
    timesheets: TimesheetService
    views: ViewDatabase
    runner: ProjectionRunner
    throttle: SignInThrottle
    positions: CallerPositions
    mail: MailService
    mailboxes: MailboxService
    mail_out: MailOutService
    company: CompanySettingsService
    widgets: WidgetService
    kb: KnowledgeBaseService
    intake: IntakeCatalogue
    submissions: SubmissionService
    sla: SlaPolicyService
    sla_items: ItemSlaService
    statuses: StatusService
    automations: AutomationService
    saved_views: SavedViewService
    schedules: ReportScheduleService
    item_imports: ItemImportService
    plan_imports: PlanImportService
    import_jobs: ImportJobService
    chats: ChatService
    notifications: NotificationService
    push: PushService
    webhooks: SubscriptionService
    deliveries: DeliveryService
    max_attachment_bytes: int
    import_job_bytes: int
    max_mail_bytes: int
    max_json_bytes: int
    read_wait_seconds: float
    streams: StreamHub
    stream_heartbeat_seconds: float
    public_url: str  # Where people reach the install (no trailing slash).
    pages: PagesConfig | None = None
    # Readiness (`GET /health/ready`): raises when the broker does not answer (None: no
    # broker is configured), and how far a view may lag the log and still be ready.
    broker_check: Callable[[], None] | None = None
    ready_max_view_lag: int = 1000
    # Who may read `/metrics`: a scraper with this bearer token, or from these networks.
    metrics_token: str | None = field(default=None, repr=False)
    metrics_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # What writes answer with, folded on from what this process last folded (ADR 0004).
    answers: Answers = field(init=False)

    def __post_init__(self) -> None:
        self.answers = Answers(self.commands, self.views)


# A dependency that only looks at what is already at hand is `async`: FastAPI runs each
# plain `def` dependency in a worker thread, a hop (and a wake-up) per dependency per request.
# Those that read storage (`token_holder`, `project_scope`, `fresh`) stay in the threads.
async def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]
bearer = HTTPBearer(
    auto_error=False,
    description="A token from `POST /api/v1/auth/token`, `ledgerdesk init` or "
    "`ledgerdesk tokens create`.",
)


def token_holder(
    svc: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The staff user behind `Authorization: Bearer <token>`, whatever its scopes (enough
    for giving up that very token)."""
    if credentials is None or not credentials.credentials.strip():
        raise InvalidTokenError
    caller = svc.accounts.authenticate(credentials.credentials.strip())
    note(actor=f"user:{caller.user.id}")  # for the request's log lines
    return caller


TokenHolder = Annotated[Caller, Depends(token_holder)]


async def current_caller(request: Request, caller: TokenHolder) -> Caller:
    """The caller, if the token may do this: reads need `read`, changes `write`."""
    needed = Scope.READ if request.method in READING else Scope.WRITE
    if needed.value not in caller.scopes:
        raise PermissionDeniedError(f"this token lacks the {needed.value} scope")
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def current_user(caller: CurrentCaller) -> User:
    return caller.user


CurrentUser = Annotated[User, Depends(current_user)]


def project_scope(request: Request, svc: ServicesDep, caller: CurrentCaller) -> StaffScope:
    """The projects the caller may see, and the item kinds (their apps, while the company's
    are on: a switched-off app's items are in no list, board or calendar). Role and flags
    come from the write model (the caller's User); only memberships from the access view."""
    switches = getattr(request.state, "switches", None) or svc.company.current()
    return scope_of(svc.views, caller.user, switches["apps"])


ProjectScope = Annotated[StaffScope, Depends(project_scope)]


async def ticket_scope(scope: ProjectScope) -> StaffScope:
    """What the caller may read in the tickets app (403 without that app)."""
    if not scope.uses_tickets:
        raise PermissionDeniedError("the tickets app is not enabled for you")
    return scope


TicketScope = Annotated[StaffScope, Depends(ticket_scope)]


async def admin_caller(caller: CurrentCaller) -> Caller:
    """An admin using a token with the `admin` scope."""
    if not caller.user.is_admin:
        raise PermissionDeniedError("only admins may do this")
    if Scope.ADMIN.value not in caller.scopes:
        raise PermissionDeniedError("this token lacks the admin scope")
    return caller


AdminCaller = Annotated[Caller, Depends(admin_caller)]


async def correlation(
    request: Request,
    x_correlation_id: Annotated[
        str | None,
        Header(
            max_length=100,
            description="Ties the events of one request chain together (printable ASCII).",
        ),
    ] = None,
) -> str:
    """The request's correlation id: the caller's, or a new one (chosen by the
    `CorrelationIds` middleware, which echoes it on every answer)."""
    chosen: str = request.state.correlation_id
    return chosen


Correlation = Annotated[str, Depends(correlation)]


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy, run uvicorn with
    --proxy-headers so that this is the real client's). An IPv6 client is known by its /64:
    one host usually holds a whole /64, and must not get a fresh count per address in it."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


ClientAddress = Annotated[str, Depends(client_address)]


async def context(caller: CurrentCaller, correlation_id: Correlation) -> Context:
    return Context(actor=Actor.user(caller.user.id), correlation_id=correlation_id)


Ctx = Annotated[Context, Depends(context)]


# `"3"` as we send it; also `W/"3"` and `3`, as documented. The pattern is also the one
# the OpenAPI document declares.
IF_MATCH = re.compile(r'^\s*(?:\*|(?:W/)?"(0|[1-9][0-9]{0,17})"|(0|[1-9][0-9]{0,17}))\s*$')


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            description='The version you read, as its ETag (`"3"`): 412 if it moved on.',
            # Documented, and checked below with a message that says what is expected.
            json_schema_extra={"pattern": IF_MATCH.pattern},
            examples=['"3"'],
        ),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    match = IF_MATCH.match(if_match)
    if match is None:
        raise InvalidParameterError("header", "If-Match", 'expected an ETag such as "3"')
    return int(match.group(1) or match.group(2))


ExpectedVersion = Annotated[int | None, Depends(expected_version)]


FRESH_VIEWS = "ledgerdesk_fresh_views"


def fresh(*views: str) -> Callable[..., Any]:
    """A dependency that waits (briefly) until `views` have reached the caller's last write
    and X-Min-Position. Every route that reads a view names the views it reads here."""

    def wait(
        request: Request,
        svc: ServicesDep,
        response: Response,
        x_min_position: Annotated[
            int | None,
            Header(
                ge=0,
                description="Also wait (up to 2 s) until the views have this log position: "
                "another caller's write (422 if past the end of the log). Your own writes are "
                "waited for without it.",
            ),
        ] = None,
    ) -> None:
        reached = wait_for_views(
            svc.positions,
            svc.runner,
            svc.read_wait_seconds,
            caller_key(request.headers),
            x_min_position,
            views,
            lambda: signed_in(svc, request),
        )
        if reached is not None:
            response.headers["X-View-Fresh"] = "true" if reached else "false"
            request.state.view_fresh = response.headers["X-View-Fresh"]

    setattr(wait, FRESH_VIEWS, views)  # Read back by `fresh_views` (the route audit).
    return wait


def signed_in(svc: Services, request: Request) -> bool:
    """Whether the request's bearer credential is a live staff token or portal session (or
    its session cookie, in the customer pages)."""
    credential = bearer_credential(request.headers) or session_cookie(request.headers)
    if credential is None:
        return False
    try:
        if credential.startswith(f"{SESSION_PREFIX}_"):
            svc.portal.authenticate(credential)
        else:
            svc.accounts.authenticate(credential)
    except DomainError:
        return False
    return True


def fresh_views(dependency: Callable[..., Any]) -> tuple[str, ...] | None:
    """The views a `fresh(...)` dependency waits for (None for any other dependency)."""
    views: tuple[str, ...] | None = getattr(dependency, FRESH_VIEWS, None)
    return views


def written(response: Response, position: int, version: int | None = None) -> None:
    """Headers every write answers with: its log position and the new ETag."""
    response.headers["X-Log-Position"] = str(position)
    if version is not None:
        response.headers["ETag"] = f'"{version}"'
