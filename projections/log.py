"""The event log as the views read it: pages of positioned events."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder, Mapper

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
