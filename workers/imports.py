"""The import jobs' actors: `imports.run` runs one job (whether it is due to run is decided
in the write model: `commands.imports.jobs`); `imports.tick` asks again for every job that
is queued, or running with no sign of life (its worker died: imports are idempotent, so it
simply runs again)."""

from __future__ import annotations

import logging
from uuid import UUID

from commands.imports.jobs import ImportJobService
from projections.base import current_tables
from projections.import_jobs import jobs_to_run
from projections.item_places import Places
from projections.users import staff_by_name
from workers.actors import Delivery, WorkerServices

log = logging.getLogger("ledgerdesk.workers")


def run(services: WorkerServices, delivery: Delivery) -> None:
    """Run one import job (once: the write model decides)."""
    job_id = UUID(delivery.payload["job_id"])

    def places() -> Places:
        with services.views.read() as tx:
            return Places.read(tx)

    outcome = _jobs(services).run_job(job_id, places, staff_by_name(services.views))
    log.info("import job %s: %s", job_id, outcome)


def tick(services: WorkerServices, delivery: Delivery) -> None:
    """Ask for a run of each job that should be running: one message per job and slot."""
    jobs = _jobs(services)
    if services.send is None:
        raise RuntimeError("this worker cannot enqueue messages")
    with services.views.read() as tx:
        due = jobs_to_run(tx, current_tables(tx, "import_jobs"), jobs.clock())
    slot = delivery.payload.get("at") or delivery.message_id
    for job_id in due:
        services.send(Delivery(f"import-run:{job_id}:{slot}", "imports.run", {"job_id": job_id}))


def _jobs(services: WorkerServices) -> ImportJobService:
    if services.imports is None:
        raise RuntimeError("this worker was built without the import jobs")
    return services.imports
