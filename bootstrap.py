"""The composition root: builds the event store, views, runner and API from settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI

from api.app import create_app
from api.deps import Services
from commands.accounts import AccountService
from commands.application import LedgerDesk
from commands.audience import AudienceService
from commands.blobs import BlobStore
from commands.customers import CustomerService
from commands.portal import PortalService
from commands.projects import ProjectService
from commands.service import CommandService
from commands.teams import TeamService
from projections.db import ViewDatabase, open_views
from projections.log import RecorderLog
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from settings import Settings
from workers.projection_process import FollowingRunner


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
    following: FollowingRunner | None = field(default=None)

    def services(self) -> Services:
        return Services(
            commands=self.commands,
            accounts=self.accounts,
            teams=self.teams,
            customers=self.customers,
            projects=self.projects,
            portal=self.portal,
            audience=self.audience,
            views=self.views,
            runner=self.runner,
            max_attachment_bytes=self.settings.max_attachment_bytes,
            read_wait_seconds=self.settings.read_wait_seconds,
        )

    def http_app(self) -> FastAPI:
        return create_app(self.services())

    def follow(self, names: Sequence[str] | None = None) -> None:
        """Keep the views live in this process (embedded mode, or a runner process)."""
        self.app.on_commit(lambda position: self.runner.wake.set())
        channel = getattr(self.app.recorder, "channel_name", None)
        self.following = FollowingRunner(self.runner, channel, names)
        self.following.start()

    def close(self) -> None:
        if self.following is not None:
            self.following.close()
        self.views.close()
        self.app.close()


def migrate(settings: Settings) -> None:
    """Create the event store's and the views' tables (the only place that runs DDL)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    container = build(settings, create_tables=True)
    try:
        container.runner.migrate()
    finally:
        container.close()


def build(settings: Settings, *, create_tables: bool = False) -> Container:
    """Wire everything for one process; servers and workers never create tables."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = LedgerDesk(env=settings.event_store_env(create_table=create_tables))
    views = open_views(settings.views_dsn(), settings.database_schema, settings.database_pool_size)
    runner = ProjectionRunner(RecorderLog(app.recorder, app.mapper), views, all_projections())
    commands = CommandService(app, BlobStore(settings.blob_dir))
    accounts = AccountService(app, timedelta(hours=settings.session_hours))
    teams = TeamService(app)
    customers = CustomerService(app)
    projects = ProjectService(app)
    portal = PortalService(app, timedelta(hours=settings.session_hours))
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
    )
