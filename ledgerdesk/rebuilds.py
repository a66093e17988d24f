"""Rebuilds in parallel processes (ADR 0014): what a rebuild process runs, and the
processes a rebuild or an audit may use on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from commands.application import LedgerDesk
from ledgerdesk.logs import configure_logging
from ledgerdesk.settings import Settings
from projections.db import open_views
from projections.log import RecorderLog
from projections.rebuild_processes import RebuildProcesses
from projections.registry import all_projections
from projections.runner import ProjectionRunner

# More processes than cores only queue for them; the database server needs its share too.
MAX_PROCESSES = 4


@contextmanager
def rebuild_runner(settings: Settings) -> Iterator[ProjectionRunner]:
    """A runner over the install's log and views, for one rebuild process (no live views,
    no workers: only what building new generations needs). Its log lines are in the
    install's format, warnings and errors only, as a one-off command's."""
    level = "debug" if settings.log_level == "debug" else "warning"
    configure_logging("rebuild", settings.log_format, level)
    # (It reads the log through one connection: not the pool an API process keeps.)
    env = settings.event_store_env(create_table=False)
    if settings.is_postgres:
        env.update({"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "1"})
    app = LedgerDesk(env=env)
    views = open_views(settings.views_dsn(), settings.database_schema, pool_size=2)
    try:
        yield ProjectionRunner(RecorderLog(app.recorder, app.mapper), views, all_projections())
    finally:
        views.close()
        app.close()


def in_parallel(runner: ProjectionRunner, settings: Settings, processes: int | None = None) -> None:
    """Let `runner`'s rebuilds and audits share the views out between `processes`
    processes (default: one per core, at most `MAX_PROCESSES`) on PostgreSQL; on SQLite,
    which has one writer, they stay in this process."""
    count = processes or min(os.cpu_count() or 1, MAX_PROCESSES)
    if settings.is_postgres and count > 1:
        runner.processes = RebuildProcesses(partial(rebuild_runner, settings), count)
    else:
        runner.processes = None
