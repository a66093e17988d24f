"""The scheduled reports' actors: on every tick, a run of each schedule that is due.

`reports.tick` runs in every worker process (each sends its own tick: harmless). It reads
which schedules are due from the `report_schedules` view and asks `reports.run` for each;
whether a period is still to be sent, and that it is made and sent once, is decided in the
write model (`commands.views.schedules.ReportScheduleService.run_due`). The report itself
is made here, from the views, as the schedule's owner sees it."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from commands.company_settings import CompanySettingsService
from commands.views.schedules import (
    MadeReport,
    Maker,
    ReportScheduleService,
    ReportUnavailableError,
)
from domain.user import User
from domain.views.report import days_of
from domain.views.report_schedule import ReportSchedule
from domain.views.saved_view import SavedView
from domain.views.schedule import local_day
from projections.access import scope_of
from projections.base import current_tables
from projections.reports.pdf import Brand
from projections.reports.run import Asked, report_file, template_report
from projections.reports.schedules import due_schedules
from projections.reports.templates import TEMPLATES
from workers.actors import Delivery, WorkerServices

log = logging.getLogger("ledgerdesk.workers")


def maker(services: WorkerServices) -> Maker:
    """Makes a run's report from the views: the saved report's template over its range,
    as its owner sees it on the period's day (in the schedule's time zone)."""

    def make(
        schedule: ReportSchedule, report: SavedView, owner: User, period: datetime
    ) -> MadeReport:
        definition = report.definition
        template = TEMPLATES[definition["template"]]
        switches = CompanySettingsService(services.app).current()
        if "sla" in template.reads and not switches["features"]["sla"]:
            raise ReportUnavailableError("the SLA feature is switched off")
        today = local_day(schedule.schedule, period)
        first, last = days_of(definition, today)
        asked = Asked(
            first,
            last,
            definition["period"],
            definition["group_by"],
            definition["project_id"],
            definition.get("custom"),
        )
        scope = scope_of(services.views, owner, switches["apps"])
        with services.views.read() as tx:
            made = template_report(tx, template, asked, str(owner.id), scope, switches, today)
        output = schedule.format
        subtitle = f"{asked.described(template)} · for {owner.email}"
        brand = Brand(*services.mail_out.brand())
        data, media_type = report_file(output, made, brand, report.name, subtitle)
        return MadeReport(
            file_name=f"{asked.file_name(template)}.{output}",
            media_type=media_type,
            data=data,
            days={"from": first.isoformat(), "to": last.isoformat()},
            title=report.name,
            period=asked.period if template.uses_period else None,
            group_by=asked.group_by,
        )

    return make


def tick(services: WorkerServices, delivery: Delivery) -> None:
    """Ask for a run of every due schedule, one message each, so that a slow report holds
    up no other. A message's id names the schedule and the tick's slot: the ticks of
    several workers ask once per slot, and every slot asks again (a run that found the
    period held, or not yet due, is asked again later)."""
    schedules = _schedules(services)
    if services.send is None:
        raise RuntimeError("this worker cannot enqueue messages")
    with services.views.read() as tx:
        due = due_schedules(tx, current_tables(tx, "report_schedules"), schedules.clock())
    slot = delivery.payload.get("at") or delivery.message_id
    for schedule_id, _ in due:
        payload = {"schedule_id": schedule_id}
        services.send(Delivery(f"report-run:{schedule_id}:{slot}", "reports.run", payload))


def run(services: WorkerServices, delivery: Delivery) -> None:
    """Make and mail one schedule's due period (once: the write model decides)."""
    schedule_id = UUID(delivery.payload["schedule_id"])
    outcome = _schedules(services).run_due(schedule_id, maker(services))
    if outcome != "nothing due":
        log.info("scheduled report %s: %s", schedule_id, outcome)


def _schedules(services: WorkerServices) -> ReportScheduleService:
    if services.schedules is None:
        raise RuntimeError("this worker was built without the report schedules")
    return services.schedules
