"""The scheduled reports' actor: on every tick, make and mail each schedule's due period.

`reports.tick` runs in every worker process (each sends its own tick: harmless). It reads
which schedules are due from the `report_schedules` view; whether a period is still to be
sent, and that it is sent once, is decided in the write model
(`commands.views.schedules.ReportScheduleService.run_due`). The report itself is made here,
from the views, as the schedule's owner sees it."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from commands.company_settings import CompanySettingsService
from commands.views.schedules import MadeReport, Maker, ReportUnavailableError
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
    """Run every due schedule; one that fails is logged and the others still run (the next
    tick looks again)."""
    schedules = services.schedules
    if schedules is None:
        raise RuntimeError("this worker was built without the report schedules")
    with services.views.read() as tx:
        due = due_schedules(tx, current_tables(tx, "report_schedules"), schedules.clock())
    make = maker(services)
    for schedule_id in due:
        try:
            outcome = schedules.run_due(UUID(schedule_id), make)
        except Exception:
            log.exception(
                "scheduled report %s could not be run; the next tick tries again", schedule_id
            )
            continue
        if outcome != "nothing due":
            log.info("scheduled report %s: %s", schedule_id, outcome)
