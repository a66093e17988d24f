"""An import run as a job: a file sent for import, queued, run by a worker, and its outcome.

A large file is not imported while its request waits: the request stores the file and
queues a job (`Queued`), a worker runs it (`Started`, `Progressed` as it goes) and records
how it ended — `Succeeded` with the same result the request would have answered, or
`Failed` with the problem it would have answered. The import itself stays all or nothing
and idempotent (`commands.imports`, `commands.msproject`), so a job a worker dropped (its
hold lapsed) can be run again — up to `MAX_ATTEMPTS` runs — and a run that stops on a
shutdown puts it back in the queue (`Released`). Each run is numbered (`attempts`): only the
latest may record progress or an outcome.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError
from domain.values import Actor

HOLD = timedelta(minutes=15)  # a running job with no sign of life this long may run again
MAX_ATTEMPTS = 3  # runs a job that stalls each time is given, before it is failed
KINDS = ("items", "msproject")


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobStateError(ConflictError):
    def __init__(self, doing: str, state: str) -> None:
        super().__init__(f"cannot {doing} an import job that is {state}")
        self.state = state


class ImportJob(Aggregate):
    """One file to import, by one person, and what became of it."""

    TOPIC = "ledgerdesk:ImportJob"

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Started: ClassVar[type[Aggregate.Event]]
        Progressed: ClassVar[type[Aggregate.Event]]
        Released: ClassVar[type[Aggregate.Event]]
        Succeeded: ClassVar[type[Aggregate.Event]]
        Failed: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:ImportJob.Created"

    class Queued(Aggregate.Created):
        """`file_sha256` (a blob) is to be imported as `kind` with `options`, with the
        rights of `requested_by`."""

        TOPIC = "ledgerdesk:ImportJob.Queued"
        kind: str
        file_sha256: str
        file_name: str
        file_size: int
        options: dict[str, Any]
        requested_by: str
        actor: str
        correlation_id: str

    @event(Queued)
    def __init__(
        self,
        kind: str,
        file_sha256: str,
        file_name: str,
        file_size: int,
        options: dict[str, Any],
        requested_by: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.kind = kind
        self.file_sha256 = file_sha256
        self.file_name = file_name
        self.file_size = file_size
        self.options = dict(options)
        self.requested_by = requested_by
        self.correlation_id = correlation_id  # the request's: the import's events carry it
        self.state = JobState.QUEUED.value
        self.attempts = 0
        self.alive_at: datetime | None = None  # the running attempt's last sign of life

    @classmethod
    def queue(
        cls,
        *,
        job_id: UUID,
        kind: str,
        file_sha256: str,
        file_name: str,
        file_size: int,
        options: dict[str, Any],
        requested_by: Actor,
        correlation_id: str,
    ) -> ImportJob:
        return cls._create(
            cls.Queued,
            id=job_id,
            kind=kind,
            file_sha256=file_sha256,
            file_name=file_name,
            file_size=file_size,
            options=options,
            requested_by=requested_by.ref,
            actor=requested_by.ref,
            correlation_id=correlation_id,
        )

    @property
    def finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)

    def stalled(self, now: datetime) -> bool:
        """Running with no sign of life for `HOLD` (its worker died)."""
        return (
            self.state == JobState.RUNNING
            and self.alive_at is not None
            and now - self.alive_at >= HOLD
        )

    def may_start(self, now: datetime) -> bool:
        """Queued, or stalled and not yet tried `MAX_ATTEMPTS` times."""
        return self.state == JobState.QUEUED or (self.stalled(now) and self.attempts < MAX_ATTEMPTS)

    def start(self, now: datetime, actor: Actor, correlation_id: str) -> None:
        if not self.may_start(now):
            raise JobStateError("start", self.state)
        self._started(at=now.isoformat(), actor=actor.ref, correlation_id=correlation_id)

    @event("Started", topic="ledgerdesk:ImportJob.Started")
    def _started(self, at: str, actor: str, correlation_id: str) -> None:
        self.state = JobState.RUNNING.value
        self.attempts += 1
        self.alive_at = datetime.fromisoformat(at)

    def _check_attempt(self, attempt: int, doing: str) -> None:
        """Only the latest run of the job may tell of it (an earlier one that was given up
        for dead and came back is fenced off)."""
        if self.state != JobState.RUNNING or attempt != self.attempts:
            raise JobStateError(doing, f"{self.state} (attempt {self.attempts}, not {attempt})")

    def progress(
        self, attempt: int, stage: str, done: int, total: int | None, now: datetime,
        actor: Actor, correlation_id: str,
    ) -> None:  # fmt: skip
        self._check_attempt(attempt, "record progress of")
        self._progressed(
            attempt=attempt, stage=stage, done=done, total=total, at=now.isoformat(),
            actor=actor.ref, correlation_id=correlation_id,
        )  # fmt: skip

    @event("Progressed", topic="ledgerdesk:ImportJob.Progressed")
    def _progressed(
        self, attempt: int, stage: str, done: int, total: int | None, at: str, actor: str,
        correlation_id: str,
    ) -> None:  # fmt: skip
        self.alive_at = datetime.fromisoformat(at)

    def release(self, attempt: int, actor: Actor, correlation_id: str) -> None:
        """The run stopped before it finished (the worker shutting down): queued again."""
        self._check_attempt(attempt, "release")
        self._released(attempt=attempt, actor=actor.ref, correlation_id=correlation_id)

    @event("Released", topic="ledgerdesk:ImportJob.Released")
    def _released(self, attempt: int, actor: str, correlation_id: str) -> None:
        self.state = JobState.QUEUED.value
        self.alive_at = None

    def succeed(
        self, attempt: int, result: dict[str, Any], done: int, total: int | None, actor: Actor,
        correlation_id: str,
    ) -> None:  # fmt: skip
        self._check_attempt(attempt, "complete")
        self._succeeded(
            attempt=attempt, result=result, done=done, total=total, actor=actor.ref,
            correlation_id=correlation_id,
        )  # fmt: skip

    @event("Succeeded", topic="ledgerdesk:ImportJob.Succeeded")
    def _succeeded(
        self, attempt: int, result: dict[str, Any], done: int, total: int | None, actor: str,
        correlation_id: str,
    ) -> None:  # fmt: skip
        self.state = JobState.SUCCEEDED.value

    def fail(
        self, attempt: int, problem: dict[str, Any], actor: Actor, correlation_id: str
    ) -> None:
        self._check_attempt(attempt, "fail")
        self._failed(
            attempt=attempt, problem=problem, actor=actor.ref, correlation_id=correlation_id
        )

    def give_up(
        self, now: datetime, problem: dict[str, Any], actor: Actor, correlation_id: str
    ) -> None:
        """A job that stalled `MAX_ATTEMPTS` times (it stops its worker each time): failed."""
        if not self.stalled(now) or self.attempts < MAX_ATTEMPTS:
            raise JobStateError("give up", self.state)
        self._failed(
            attempt=self.attempts, problem=problem, actor=actor.ref, correlation_id=correlation_id
        )

    @event("Failed", topic="ledgerdesk:ImportJob.Failed")
    def _failed(
        self, attempt: int, problem: dict[str, Any], actor: str, correlation_id: str
    ) -> None:
        self.state = JobState.FAILED.value
