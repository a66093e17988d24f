"""Imports: a file's rows written in batches that stay staged, invisible, until the import
completes; then everything it wrote shows at once.

An import's id comes from what is imported, by whom, and the file's bytes (SHA-256), so
sending the same file again finds the same import: a completed one adds nothing, an
interrupted one goes on where it stopped. What an import writes carries its id; the views
hide it and the write side refuses to act on it until `Import.Completed`. A later import
that needs an aggregate an unfinished import staged (the same row in another file) takes it
over and abandons that import, which can then never complete (sending its file again
restarts it and takes back what it needs).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError
from domain.values import Actor

NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/import")


class ImportState(StrEnum):
    STARTED = "started"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


def import_id(kind: str, importer: str, sha256: str) -> UUID:
    """The one id of importing these bytes (`sha256`, hex) as `kind` for `importer`."""
    return uuid5(NAMESPACE, f"{kind}|{importer}|{sha256}")


class ImportStateError(ConflictError):
    """Raised when an import is not in a state that allows the change (e.g. staging into an
    import another one abandoned, or abandoning a completed one)."""

    def __init__(self, doing: str, state: str) -> None:
        super().__init__(f"cannot {doing} an import that is {state}")
        self.state = state


class Import(Aggregate):
    """One file imported by one person: staged in batches, then completed at once."""

    TOPIC = "ledgerdesk:Import"

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Staged: ClassVar[type[Aggregate.Event]]
        Abandoned: ClassVar[type[Aggregate.Event]]
        Restarted: ClassVar[type[Aggregate.Event]]
        Completed: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Import.Created"

    class Started(Aggregate.Created):
        """An import of `rows` rows of a `kind` file (`sha256`) began."""

        TOPIC = "ledgerdesk:Import.Started"
        kind: str
        sha256: str
        rows: int
        actor: str
        correlation_id: str

    @event(Started)
    def __init__(self, kind: str, sha256: str, rows: int, actor: str, correlation_id: str) -> None:
        self.kind = kind
        self.sha256 = sha256
        self.rows = rows
        self.importer = actor
        self.state = ImportState.STARTED.value
        self.staged = 0

    @classmethod
    def start(
        cls, *, kind: str, sha256: str, rows: int, actor: Actor, correlation_id: str
    ) -> Import:
        return cls._create(
            cls.Started,
            id=import_id(kind, actor.ref, sha256),
            kind=kind,
            sha256=sha256,
            rows=rows,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @property
    def completed(self) -> bool:
        return self.state == ImportState.COMPLETED

    def _check(self, doing: str, *allowed: ImportState) -> None:
        if self.state not in allowed:
            raise ImportStateError(doing, self.state)

    def stage(self, count: int, actor: Actor, correlation_id: str) -> None:
        """`count` more aggregates were written (staged) for this import."""
        self._check("stage into", ImportState.STARTED)
        self._staged(count=count, actor=actor.ref, correlation_id=correlation_id)

    @event("Staged", topic="ledgerdesk:Import.Staged")
    def _staged(self, count: int, actor: str, correlation_id: str) -> None:
        self.staged += count

    def abandon(self, by_import: UUID, actor: Actor, correlation_id: str) -> None:
        """Import `by_import` takes over what this one staged: this one never completes."""
        self._check("abandon", ImportState.STARTED, ImportState.ABANDONED)
        if self.state == ImportState.STARTED:
            self._abandoned(
                by_import=str(by_import), actor=actor.ref, correlation_id=correlation_id
            )

    @event("Abandoned", topic="ledgerdesk:Import.Abandoned")
    def _abandoned(self, by_import: str, actor: str, correlation_id: str) -> None:
        self.state = ImportState.ABANDONED.value

    def restart(self, actor: Actor, correlation_id: str) -> None:
        """The file of an abandoned import is sent again: it stages anew."""
        self._check("restart", ImportState.ABANDONED)
        self._restarted(actor=actor.ref, correlation_id=correlation_id)

    @event("Restarted", topic="ledgerdesk:Import.Restarted")
    def _restarted(self, actor: str, correlation_id: str) -> None:
        self.state = ImportState.STARTED.value

    def complete(self, count: int, actor: Actor, correlation_id: str) -> None:
        """Everything staged is written: the `count` aggregates it made show from now on."""
        self._check("complete", ImportState.STARTED)
        self._completed(count=count, actor=actor.ref, correlation_id=correlation_id)

    @event("Completed", topic="ledgerdesk:Import.Completed")
    def _completed(self, count: int, actor: str, correlation_id: str) -> None:
        self.state = ImportState.COMPLETED.value
