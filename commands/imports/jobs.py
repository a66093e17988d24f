"""Imports run as jobs: the file is stored (a blob), a job queued in one write, and a worker
runs it with the rights of the person who sent it (`domain.import_jobs`).

Running a job: one write starts it (a job already running, and still alive, is left to its
worker; a finished one is left alone), the import runs as its request would have run it —
telling its progress, recorded at most every `PROGRESS_EVERY` and at each change of stage —
and one write records its outcome: the result the request would have answered, or the
problem. Imports are idempotent, so a job whose worker died (no sign of life for
`domain.import_jobs.HOLD`) is simply run again by the next tick.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO
from uuid import UUID, uuid4

from pydantic import ValidationError

from commands.application import LedgerDesk
from commands.blobs import BlobStore, BlobStoreUnavailableError
from commands.imports.item_checks import Places
from commands.imports.items import ItemImportService
from commands.imports.outcomes import (
    internal_problem,
    item_result,
    plan_result,
    problem_of,
    stalled_problem,
)
from commands.imports.staging import ImportInterruptedError
from commands.models import Context
from commands.msproject.importer import PlanImportService, StaffByName, target_for
from commands.msproject.plan_files import read_plan_file
from commands.unit_of_work import UnitOfWork, run
from domain.errors import DomainError, NotFoundError, PermissionDeniedError
from domain.import_jobs import KINDS, MAX_ATTEMPTS, ImportJob, JobStateError
from domain.values import Actor

log = logging.getLogger("ledgerdesk.imports")
PROGRESS_EVERY = timedelta(seconds=2)
WORKER = Actor.system("imports")


class ImportJobNotFoundError(NotFoundError):
    def __init__(self, job_id: UUID) -> None:
        super().__init__(f"no import job {job_id}")


@dataclass(frozen=True)
class Queued:
    job_id: UUID
    position: int


def utc_now() -> datetime:
    return datetime.now(UTC)


class ImportJobService:
    """Queues imports as jobs and runs them (see the module)."""

    def __init__(
        self,
        app: LedgerDesk,
        blobs: BlobStore,
        items: ItemImportService,
        plans: PlanImportService,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.app, self.blobs, self.items, self.plans, self.clock = app, blobs, items, plans, clock

    def queue(
        self,
        kind: str,
        source: BinaryIO,
        file_name: str,
        options: dict[str, Any],
        ctx: Context,
        limit: int,
    ) -> Queued:
        """Store the file (refused past `limit` bytes) and queue its import."""
        if kind not in KINDS:
            raise ValueError(f"no import of kind {kind!r}")
        if ctx.actor.kind not in ("user", "system"):
            raise DomainError("only staff import")
        sha256, size = self.blobs.put(source, limit)
        job_id = uuid4()
        job = ImportJob.queue(
            job_id=job_id, kind=kind, file_sha256=sha256, file_name=file_name[:255],
            file_size=size, options=options, requested_by=ctx.actor,
            correlation_id=ctx.correlation_id,
        )  # fmt: skip
        _, position = run(self.app, job_id, lambda uow: [job])
        return Queued(job_id, position)

    def job(self, job_id: UUID) -> ImportJob:
        found = UnitOfWork(self.app).get(job_id, ImportJob)
        if found is None:
            raise ImportJobNotFoundError(job_id)
        return found

    def run_job(
        self, job_id: UUID, places: Callable[[], Places], staff_by_name: StaffByName
    ) -> str:
        """Run the job if it is due to run; what became of it."""
        job = self._start(job_id)
        if job is None:
            return "nothing to run"
        attempt, correlation = job.attempts, job.correlation_id
        ctx = Context(actor=_actor(job.requested_by), correlation_id=correlation)
        tell = _Teller(self, job_id, attempt)
        try:
            _check_sender(self.app, ctx)
            result = self._import(job, ctx, places, staff_by_name, tell)
        except ImportInterruptedError:
            self._finish(job_id, lambda j: j.release(attempt, WORKER, correlation))
            return "interrupted: queued again"
        except BlobStoreUnavailableError as error:  # The file could not be read: later.
            log.warning("import job %s queued again: %s", job_id, error)
            self._finish(job_id, lambda j: j.release(attempt, WORKER, correlation))
            return "the file could not be read now: queued again"
        except (DomainError, ValidationError) as error:
            problem = problem_of(error)
            self._finish(job_id, lambda j: j.fail(attempt, problem, WORKER, correlation))
            return f"failed: {error}"
        except Exception:
            log.exception("import job %s failed", job_id)
            self._finish(job_id, lambda j: j.fail(attempt, internal_problem(), WORKER, correlation))
            return "failed: an error of ours"
        done, total = tell.final()
        self._finish(job_id, lambda j: j.succeed(attempt, result, done, total, WORKER, correlation))
        return "succeeded"

    def _import(
        self, job: ImportJob, ctx: Context, places: Callable[[], Places],
        staff_by_name: StaffByName, tell: _Teller,
    ) -> dict[str, Any]:  # fmt: skip
        options = job.options
        dry_run = bool(options.get("dry_run"))
        sha256 = job.file_sha256
        if job.kind == "items":

            def source() -> Any:
                return self.blobs.chunks(sha256, 64 * 1024)

            done = self.items.import_csv(
                source, ctx, places(), options.get("mapping") or {}, dry_run, tell
            )
            return item_result(done, dry_run)
        data = self.blobs.read_bytes(sha256)
        tell("reading", 0, None)
        plan = read_plan_file(data)
        target = target_for(options.get("project"), places(), self.plans.sees(ctx))
        made = self.plans.import_plan(
            plan, job.file_sha256, target, ctx, staff_by_name, dry_run, tell
        )
        return plan_result(made, dry_run)

    def _start(self, job_id: UUID) -> ImportJob | None:
        """Start a run of the job (one write: of two workers, one starts it); a job that
        stalled `MAX_ATTEMPTS` times is failed instead."""
        started: list[ImportJob | None] = [None]

        def decide(uow: UnitOfWork) -> list[Any]:
            job = uow.get(job_id, ImportJob)
            started[0] = None
            now = self.clock()
            if job is None:
                return []
            if job.stalled(now) and job.attempts >= MAX_ATTEMPTS:
                job.give_up(now, stalled_problem(job.attempts), WORKER, job.correlation_id)
                return [job]
            if not job.may_start(now):
                return []
            job.start(now, WORKER, job.correlation_id)
            started[0] = job
            return [job]

        run(self.app, job_id, decide)
        return started[0]

    def _finish(self, job_id: UUID, change: Callable[[ImportJob], None]) -> None:
        """Record how the run ended (nothing, if it is no longer the job's latest run)."""

        def decide(uow: UnitOfWork) -> list[Any]:
            job = uow.get(job_id, ImportJob)
            if job is None:
                return []
            try:
                change(job)
            except JobStateError:
                return []
            return [job]

        run(self.app, job_id, decide)

    def record_progress(
        self, job_id: UUID, attempt: int, stage: str, done: int, total: int | None
    ) -> None:
        def decide(uow: UnitOfWork) -> list[Any]:
            job = uow.get(job_id, ImportJob)
            if job is None:
                return []
            try:
                job.progress(attempt, stage, done, total, self.clock(), WORKER, job.correlation_id)
            except JobStateError:
                return []
            return [job]

        run(self.app, job_id, decide)


def _check_sender(app: LedgerDesk, ctx: Context) -> None:
    """The job runs with its sender's rights: only while they may still import."""
    if ctx.actor.kind != "user":
        return
    user = UnitOfWork(app).find_user(UUID(ctx.actor.ident))
    if user is None or not user.is_active:
        raise PermissionDeniedError("the person who sent the file is deactivated")


class _Teller:
    """Records a running job's progress: at each new stage, else at most every
    `PROGRESS_EVERY`; keeps the last for the outcome."""

    def __init__(self, service: ImportJobService, job_id: UUID, attempt: int) -> None:
        self.service, self.job_id, self.attempt = service, job_id, attempt
        self.stage: str | None = None
        self.last: datetime | None = None
        self.latest: tuple[int, int | None] = (0, None)

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        self.latest = (done, total)
        now = self.service.clock()
        if stage == self.stage and self.last is not None and now - self.last < PROGRESS_EVERY:
            return
        self.stage, self.last = stage, now
        self.service.record_progress(self.job_id, self.attempt, stage, done, total)

    def final(self) -> tuple[int, int | None]:
        """Done and in all, as last told (a total not known by then: what was done)."""
        done, total = self.latest
        return done, total if total is not None else done


def _actor(ref: str) -> Actor:
    kind, _, ident = ref.partition(":")
    return Actor(kind, ident)
