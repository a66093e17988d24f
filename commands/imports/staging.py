"""Running an import: bounded batches that stay staged, then one write that shows them.

The rows are checked before this runs. `run_import` finds the import by its id (kind,
importer, the file's SHA-256): a completed import adds nothing. Otherwise each batch is one
write of at most `BATCH_UNITS` aggregates (and about `BATCH_BYTES`), together with
`Import.Started` (the first) or `Import.Staged`, so other writers wait for one batch at
most, never for the whole import. Between batches the runner stops when the process is
shutting down; what it staged stays invisible, and sending the same file again goes on
from there (a batch writes only what is not written yet). The final write records
`Import.Completed` with what the kind of import does on completion (e.g. the time on its
items), and from then on everything shows at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

from commands.application import LedgerDesk
from commands.errors import ConcurrentWriteError
from commands.models import Context
from commands.unit_of_work import UnitOfWork, run
from domain.errors import DomainError
from domain.imports import Import, ImportState, ImportStateError, import_id

BATCH_UNITS = 1_000
BATCH_BYTES = 1_000_000
# Another import abandoning this one while it runs makes it stage again (a race between two
# files sharing rows, sent at the same time): a few rounds settle it.
MAX_ROUNDS = 3
U = TypeVar("U")


class ImportInterruptedError(DomainError):
    """Raised when the process shuts down during an import (`shown`: what of it shows;
    for a staged import, nothing); sending the same file again completes it."""

    def __init__(self, import_ref: UUID, shown: str = "nothing of it shows") -> None:
        super().__init__(
            f"the server is shutting down; import {import_ref} stopped between two batches"
            f" and {shown}: send the same file again to complete it"
        )
        self.import_id = import_ref


@dataclass(frozen=True)
class Imported:
    import_id: UUID
    position: int  # the log position of the import's last write (the head if none)
    count: int  # what this run made visible (0: the file was imported before)


@dataclass
class Staged(Generic[U]):
    """A batch's writes, and the units that belong to the import once they are saved."""

    aggregates: list[Any] = field(default_factory=list)
    claimed: list[U] = field(default_factory=list)


class Staging(Protocol[U]):
    """What one kind of import does with its checked units (e.g. timesheet rows)."""

    kind: str

    def size(self, unit: U) -> int:
        """About how many bytes the unit's events take (to bound a batch)."""

    def stage(self, uow: UnitOfWork, imp: Import, batch: Sequence[U], ctx: Context) -> Staged[U]:
        """Write what the batch needs (staged under `imp`), skipping what is written."""

    def complete(
        self, uow: UnitOfWork, imp: Import, claimed: Sequence[U], ctx: Context
    ) -> list[Any]:
        """What completing the import with these units changes besides the import."""


def is_staged(uow: UnitOfWork, import_ref: str | None) -> bool:
    """Is an aggregate written by import `import_ref` still staged (not completed)?"""
    if import_ref is None:
        return False
    imp = uow.get(UUID(import_ref), Import)
    return imp is None or not imp.completed


def batches(units: Sequence[U], size: Any) -> Iterator[Sequence[U]]:
    """`units` in runs of at most `BATCH_UNITS` and about `BATCH_BYTES`."""
    start, total = 0, 0
    for end, unit in enumerate(units):
        total += size(unit)
        if end + 1 - start >= BATCH_UNITS or total >= BATCH_BYTES:
            yield units[start : end + 1]
            start, total = end + 1, 0
    if start < len(units):
        yield units[start:]


def run_import(
    app: LedgerDesk,
    job: Staging[U],
    units: Sequence[U],
    sha256: str,
    ctx: Context,
    stopping: threading.Event,
) -> Imported:
    """Stage `units` in batches under the import of these bytes, then complete it."""
    ref = import_id(job.kind, ctx.actor.ref, sha256)
    found = UnitOfWork(app).get(ref, Import)
    if found is not None and found.completed:
        return Imported(ref, app.head(), 0)
    for _ in range(MAX_ROUNDS):
        claimed: list[U] = []
        for batch in batches(units, job.size):
            if stopping.is_set():
                raise ImportInterruptedError(ref)
            claimed += stage_batch(app, job, ref, batch, sha256, len(units), ctx)
        if not claimed:  # Every unit was imported before (by another file).
            return Imported(ref, app.head(), 0)
        try:
            saved, position = run(
                app, ref, partial(_complete, job=job, ref=ref, claimed=claimed, ctx=ctx)
            )
        except ImportStateError as error:
            if error.state != ImportState.ABANDONED:
                raise
            continue  # Another file took some units over meanwhile: stage them back.
        return Imported(ref, position, len(claimed) if saved else 0)
    raise ConcurrentWriteError


def stage_batch(
    app: LedgerDesk,
    job: Staging[U],
    ref: UUID,
    batch: Sequence[U],
    sha256: str,
    rows: int,
    ctx: Context,
) -> list[U]:
    """Write one batch under the import `ref` (starting it, or restarting an abandoned
    one): the units it claimed."""
    kept: list[list[U]] = [[]]

    def decide(uow: UnitOfWork) -> list[Any]:
        imp = uow.get(ref, Import)
        restarted = imp is not None and imp.state == ImportState.ABANDONED
        if imp is None:
            imp = Import.start(
                kind=job.kind,
                sha256=sha256,
                rows=rows,
                actor=ctx.actor,
                correlation_id=ctx.correlation_id,
            )
        elif restarted:
            imp.restart(ctx.actor, ctx.correlation_id)
        staged = job.stage(uow, imp, batch, ctx)
        kept[0] = staged.claimed  # Only the attempt that saves counts.
        if not staged.aggregates:  # Nothing new here; an import is started by what it writes.
            return [imp] if restarted else []
        imp.stage(len(staged.aggregates), ctx.actor, ctx.correlation_id)
        return [imp, *staged.aggregates]

    run(app, ref, decide)
    return kept[0]


def _complete(
    uow: UnitOfWork, job: Staging[U], ref: UUID, claimed: Sequence[U], ctx: Context
) -> list[Any]:
    """Complete import `ref` with what it claimed (with what completing it changes)."""
    imp = uow.get(ref, Import)
    if imp is None or imp.completed:
        return []  # Completed by another process meanwhile: nothing more to show.
    changed = job.complete(uow, imp, claimed, ctx)
    imp.complete(len(claimed), ctx.actor, ctx.correlation_id)
    return [imp, *changed]
