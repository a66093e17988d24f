"""The event log as the views read it: pages of positioned events."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder, Mapper
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from projections.base import Positioned


class EventLog(Protocol):
    def head(self) -> int:
        """The position of the newest event (0 when the log is empty)."""

    def read(
        self, after: int, limit: int, stop: int | None, topics: Collection[str]
    ) -> tuple[list[Positioned], int | None]:
        """Events after `after` (up to `stop`) whose topic is in `topics`, and the last
        position scanned (None when there was nothing after `after`)."""


class RecorderLog:
    """An `EventLog` over the eventsourcing application recorder and mapper."""

    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[Any]) -> None:
        self.recorder = recorder
        self.mapper = mapper

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def read(
        self, after: int, limit: int, stop: int | None, topics: Collection[str]
    ) -> tuple[list[Positioned], int | None]:
        notifications = self.recorder.select_notifications(
            start=after, limit=limit, stop=stop, inclusive_of_start=False
        )
        if not notifications:
            return [], None
        events = [
            # Decode only what the view reads: most of a page may be other aggregates'.
            Positioned(n.id, self.mapper.to_domain_event(n), n.topic)
            for n in notifications
            if n.topic in topics
        ]
        return events, notifications[-1].id

    def topic_counts(self) -> dict[str, int]:
        """How many events of each stored topic the log holds (on PostgreSQL; elsewhere
        none are counted): what a rebuild shares out between its processes."""
        recorder = self.recorder
        if not isinstance(recorder, PostgresApplicationRecorder):
            return {}
        sql = SQL("SELECT topic, count(*) AS n FROM {}.{} GROUP BY topic").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
        )
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(sql)
            return {row["topic"]: int(row["n"]) for row in cursor.fetchall()}
