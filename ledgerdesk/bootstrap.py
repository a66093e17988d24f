"""The composition root: builds the event store, views, runner, workers and API from settings."""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI

from api import throttle
from api.app import create_app
from api.deps import Services
from api.pages.config import PagesConfig
from api.streams import StreamHub
from api.throttle import Limits, SignInThrottle
from commands.accounts import AccountService
from commands.application import LedgerDesk
from commands.audience import AudienceService
from commands.blobs import BlobStore, open_blob_store
from commands.blobs.postgres import create_tables as create_blob_tables
from commands.chat.service import ChatService
from commands.company_settings import CompanySettingsService
from commands.customers import CustomerService
from commands.imports.items import ItemImportService
from commands.imports.jobs import ImportJobService
from commands.intake.catalogue import IntakeCatalogue
from commands.intake.submissions import SubmissionService
from commands.knowledge_base import KnowledgeBaseService
from commands.mail.mailboxes import MailboxService
from commands.mail.outgoing.service import MailOutService, OutgoingConfig
from commands.mail.service import MailService
from commands.msproject.importer import PlanImportService
from commands.notifications import NotificationService
from commands.portal import PortalService
from commands.portal_sign_in import PortalSignIn
from commands.projects import ProjectService
from commands.push import PushConfig, PushService, new_private_pem
from commands.recurrence import RecurrenceService
from commands.service import CommandService
from commands.sla.items import ItemSlaService
from commands.sla.policies import SlaPolicyService
from commands.teams import TeamService
from commands.timesheets import TimesheetService
from commands.views.saved import SavedViewService
from commands.views.schedules import ReportScheduleService
from commands.webhooks.deliveries import DeliveryService
from commands.webhooks.guard import Guard
from commands.webhooks.subscriptions import SubscriptionService
from commands.widgets import WidgetService
from commands.workflow.automations import AutomationService
from commands.workflow.rule_runs import RuleRunner
from commands.workflow.statuses import StatusService
from ledgerdesk.rebuilds import in_parallel
from ledgerdesk.settings import Settings
from projections import caller_positions, presence
from projections.caller_positions import CallerPositions
from projections.db import ViewDatabase, open_views
from projections.log import RecorderLog
from projections.mail import imap_polls
from projections.outbox import OutboxProjection
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from workers.actors import WorkerServices
from workers.broker import broker_answers, open_broker
from workers.host import WorkerHost, migrate_workers
from workers.mail.imap import ImapPoller
from workers.mail.imap_idle import ImapIdlers
from workers.projection_process import FollowingRunner
from workers.registry import all_actors, all_periodic


@dataclass
class Container:
    settings: Settings
    app: LedgerDesk
    commands: CommandService
    accounts: AccountService
    views: ViewDatabase
    runner: ProjectionRunner
    teams: TeamService
    customers: CustomerService
    projects: ProjectService
    portal: PortalService
    audience: AudienceService
    timesheets: TimesheetService
    workers: WorkerHost
    positions: CallerPositions
    mail: MailService
    mailboxes: MailboxService
    mail_out: MailOutService
    push: PushService
    webhooks: SubscriptionService
    deliveries: DeliveryService
    following: FollowingRunner | None = field(default=None)
    import_jobs: ImportJobService | None = field(default=None)
    # Set when the process shuts down: long requests (an import) stop at the next safe point.
    stopping: threading.Event = field(default_factory=threading.Event)
    # IMAP IDLE watchers, run with the workers (see `work`).
    imap_idle: ImapIdlers | None = field(default=None)
    # The real-time streams' hub: started by the first stream this process serves.
    streams: StreamHub = field(init=False)

    def __post_init__(self) -> None:
        channel = getattr(self.app.recorder, "channel_name", None)
        self.streams = StreamHub(
            self.views,
            self.runner,
            log_channel=channel,
            ephemeral_channel=f"{channel}_ephemeral" if channel else None,
        )
        # Commits in this process wake it at once (on PostgreSQL, NOTIFY wakes it too).
        self.app.on_commit(lambda position: self.streams.wake.set())

    @property
    def jobs(self) -> ImportJobService:
        if self.import_jobs is None:
            self.import_jobs = ImportJobService(
                self.app,
                self.commands.blobs,
                ItemImportService(self.app, self.stopping),
                PlanImportService(self.app),
            )
        return self.import_jobs

    def services(self) -> Services:
        return Services(
            commands=self.commands,
            accounts=self.accounts,
            teams=self.teams,
            customers=self.customers,
            projects=self.projects,
            portal=self.portal,
            audience=self.audience,
            timesheets=self.timesheets,
            views=self.views,
            runner=self.runner,
            throttle=SignInThrottle(
                self.views,
                Limits(
                    per_client=self.settings.sign_in_attempts_per_client,
                    per_address=self.settings.sign_in_failures_per_address,
                    window_seconds=self.settings.sign_in_window_seconds,
                    forms_per_client=self.settings.form_submissions_per_client,
                ),
            ),
            positions=self.positions,
            mail=self.mail,
            mailboxes=self.mailboxes,
            mail_out=self.mail_out,
            company=CompanySettingsService(self.app),
            widgets=WidgetService(self.app),
            kb=KnowledgeBaseService(self.app),
            intake=IntakeCatalogue(self.app),
            submissions=SubmissionService(self.app, self.mail.secret, self.mail_out),
            sla=SlaPolicyService(self.app),
            sla_items=ItemSlaService(self.app),
            statuses=StatusService(self.app),
            automations=AutomationService(self.app),
            saved_views=SavedViewService(self.app),
            schedules=ReportScheduleService(self.app, self.mail_out, self.commands.blobs),
            item_imports=self.jobs.items,
            plan_imports=self.jobs.plans,
            import_jobs=self.jobs,
            chats=ChatService(self.app),
            notifications=NotificationService(self.app),
            push=self.push,
            webhooks=self.webhooks,
            deliveries=self.deliveries,
            max_attachment_bytes=self.settings.max_attachment_bytes,
            import_job_bytes=self.settings.import_job_bytes,
            max_mail_bytes=self.settings.max_mail_bytes,
            max_json_bytes=self.settings.max_json_bytes,
            read_wait_seconds=self.settings.read_wait_seconds,
            streams=self.streams,
            stream_heartbeat_seconds=self.settings.stream_heartbeat_seconds,
            public_url=self.settings.base_url,
            broker_check=(
                functools.partial(broker_answers, self.settings.broker_url)
                if self.settings.broker_url
                else None
            ),
            ready_max_view_lag=self.settings.ready_max_view_lag,
            metrics_token=(
                self.settings.metrics_token.get_secret_value()
                if self.settings.metrics_token
                else None
            ),
            metrics_networks=self.settings.metrics_networks,
            pages=PagesConfig(
                sign_in=PortalSignIn(self.app, timedelta(hours=self.settings.session_hours)),
                secret=self.mail.secret,
                frame_ancestors=self.settings.frame_ancestors,
                session_seconds=int(self.settings.session_hours * 3600),
                secure_cookies=self.settings.base_url.startswith("https://"),
                public_url=self.settings.base_url,
            ),
        )

    def http_app(self) -> FastAPI:
        return create_app(self.services())

    def follow(self, names: Sequence[str] | None = None) -> None:
        """Keep the views live in this process (embedded mode, or a runner process)."""
        self.app.on_commit(lambda position: self.runner.wake.set())
        channel = getattr(self.app.recorder, "channel_name", None)
        self.following = FollowingRunner(self.runner, channel, names)
        self.following.start()

    def work(self) -> None:
        """Run actors, the outbox relay and periodic ticks in this process (until `close`).

        The relay is woken by commits here and, on PostgreSQL, by NOTIFY from any process;
        it waits for the outbox view to catch up, then sends.
        """
        self.app.on_commit(lambda position: self.workers.relay.wake.set())
        self.workers.start(channel=getattr(self.app.recorder, "channel_name", None))
        self.imap_idle = ImapIdlers(ImapPoller(self.app, self.views, self.mail))
        self.imap_idle.start()

    def close(self) -> None:
        self.stopping.set()
        self.streams.close()
        if self.imap_idle is not None:
            self.imap_idle.close()
        # Stop the relay and actors first: they read the views and write the store.
        self.workers.close()
        if self.following is not None:
            self.following.close()
        self.views.close()
        self.commands.blobs.close()
        self.app.close()


def secret_key(settings: Settings) -> bytes:
    """The install's signing key: LEDGERDESK_SECRET_KEY, or one made once and kept in the
    data directory (readable by its owner only)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    return _kept(settings, "secret.key", lambda: secrets.token_hex(32).encode())


def _kept(settings: Settings, name: str, make: Callable[[], bytes]) -> bytes:
    """The secret in the data directory's file `name`, made by `make` the first time."""
    path = settings.data_dir / name
    if not path.exists():
        # Written aside and linked into place: a process starting at the same moment reads
        # either no file or the whole secret, and one secret wins.
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd, aside = tempfile.mkstemp(dir=settings.data_dir, prefix=".secret-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(make())
            with contextlib.suppress(FileExistsError):
                os.link(aside, path)
        finally:
            os.unlink(aside)
    return path.read_bytes().strip()


def vapid_pem(settings: Settings) -> bytes:
    """The install's VAPID private key for Web Push: LEDGERDESK_VAPID_PRIVATE_KEY, or one made
    once (by `init`, or the first process that needs it) and kept in the data directory."""
    if settings.vapid_private_key is not None:
        return settings.vapid_private_key.get_secret_value().encode()
    return _kept(settings, "vapid.pem", new_private_pem)


def push_config(settings: Settings) -> PushConfig:
    return PushConfig(
        vapid_pem(settings),
        settings.push_subject or f"mailto:{settings.mail_address}",
        allow_http=settings.push_allow_http,
    )


def migrate(settings: Settings) -> None:
    """Create the event store's and the views' tables (the only place that runs DDL)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    container = build(settings, create_tables=True)
    try:
        # A view whose schema changed is rebuilt here, in one pass over the log: on
        # PostgreSQL shared out between processes, as `projections rebuild` does.
        in_parallel(container.runner, settings)
        container.runner.migrate()
        with container.views.write() as tx:
            throttle.migrate(tx)
        outbox = container.runner.projection(OutboxProjection.name)
        assert isinstance(outbox, OutboxProjection)
        migrate_workers(container.views, outbox, container.runner.log.head())
        caller_positions.migrate(container.views)
        presence.migrate(container.views)
        imap_polls.migrate(container.views)
        if settings.database_url is not None:  # There, `blobs migrate --to postgres` can run.
            create_blob_tables(settings.database_url, settings.database_schema)
    finally:
        container.close()


def blob_store(settings: Settings, spec: str | None = None) -> BlobStore:
    """The blob store LEDGERDESK_BLOB_STORE names (or `spec`, in the same form)."""
    return open_blob_store(
        settings.blob_store if spec is None else spec,
        root=settings.blob_dir,
        spool_dir=settings.spool_dir,
        database_url=settings.database_url,
        schema=settings.database_schema,
        s3_endpoint_url=settings.s3_endpoint_url,
        pool_size=settings.database_pool_size,
    )


def build(settings: Settings, *, create_tables: bool = False) -> Container:
    """Wire everything for one process; servers and workers never create tables."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = LedgerDesk(env=settings.event_store_env(create_table=create_tables))
    views = open_views(settings.views_dsn(), settings.database_schema, settings.database_pool_size)
    runner = ProjectionRunner(RecorderLog(app.recorder, app.mapper), views, all_projections())
    blobs = blob_store(settings)
    commands = CommandService(app, blobs)
    mail = MailService(
        app,
        blobs,
        address=settings.mail_address,
        secret=secret_key(settings),
        encryption_keys=settings.encryption_key_list,
        max_bytes=settings.max_mail_bytes,
    )
    accounts = AccountService(app, timedelta(hours=settings.session_hours))
    teams = TeamService(app)
    customers = CustomerService(app)
    projects = ProjectService(app)
    portal = PortalService(app, timedelta(hours=settings.session_hours), key=mail.secret)
    mail_out = MailOutService(
        app,
        blobs,
        OutgoingConfig(
            address=mail.address,
            secret=mail.secret,
            smtp_url=settings.smtp_url,
            forward_after=settings.forward_unread_after,
            public_url=settings.base_url,
            attach_limit=settings.max_mail_attachment_bytes,
            encryption_keys=settings.encryption_key_list,
        ),
    )
    portal.mailer = mail_out  # Invitations and sign-in links go out by mail when it is set up.
    push = PushService(app, push_config(settings))
    guard = Guard(settings.webhook_allow_list)
    webhooks = SubscriptionService(app, mail.credentials, guard)
    deliveries = DeliveryService(
        app,
        webhooks,
        guard,
        settings.webhook_retry_base_seconds,
        settings.webhook_timeout_seconds,
    )
    stopping = threading.Event()
    import_jobs = ImportJobService(
        app, blobs, ItemImportService(app, stopping), PlanImportService(app)
    )
    services = WorkerServices(
        app,
        commands,
        accounts,
        teams,
        customers,
        projects,
        views,
        RecurrenceService(app),
        mail_out,
        mail,
        ItemSlaService(app),
        RuleRunner(app, mail_out),
        push,
        deliveries,
        ReportScheduleService(app, mail_out, blobs),
        imports=import_jobs,
    )
    workers = WorkerHost(
        open_broker(settings.broker_url, settings.broker_namespace),
        settings.broker_namespace,
        views,
        services,
        all_actors(),
        all_periodic(),
        threads=settings.worker_threads,
        tick_seconds=settings.tick_seconds,
        head=runner.log.head,
        wait_for_outbox=lambda position, timeout: runner.wait_for(
            position, [OutboxProjection.name], timeout
        ),
    )
    return Container(
        settings,
        app,
        commands,
        accounts,
        views,
        runner,
        teams=teams,
        customers=customers,
        projects=projects,
        portal=portal,
        audience=AudienceService(app),
        timesheets=TimesheetService(app, settings.timers_allow_several, stopping),
        workers=workers,
        positions=CallerPositions(views, time.time),
        stopping=stopping,
        mail=mail,
        mailboxes=MailboxService(app, mail.address, mail.credentials),
        mail_out=mail_out,
        push=push,
        webhooks=webhooks,
        deliveries=deliveries,
        import_jobs=import_jobs,
    )
