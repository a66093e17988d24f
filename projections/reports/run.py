"""A report template run for one reader, as the API runs it on request and a worker runs a
scheduled report: the request (the days, the period, the grouping, the projects the
reader sees), the run, and the file it is exported as (CSV, XLSX, or PDF with the
company's branding and the chart)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.access import StaffScope
from projections.base import tables_of
from projections.db import Tx
from projections.reports.export import csv_blocks, xlsx_file
from projections.reports.pdf import Brand, pdf_file
from projections.reports.templates import Template
from projections.reports.templates.common import Report, ReportRequest
from projections.timesheet_query import EntryScope

MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class Asked:
    """What a run covers: the days (inclusive), the period, the grouping and the one
    project it is limited to (None: every one the reader sees)."""

    first: date
    last: date
    period: str
    group_by: str | None
    project: str | None
    custom: dict[str, Any] | None = None  # a custom report's definition

    def described(self, template: Template) -> str:
        """`2026-11-01 to 2026-11-30, per week, by priority`."""
        said = f"{self.first} to {self.last}"
        said += f", per {self.period}" if template.uses_period else ""
        return said + (f", by {self.group_by}" if self.group_by else "")

    def file_name(self, template: Template) -> str:
        return f"{template.key}-{self.first}-{self.last}"


def template_report(
    tx: Tx,
    template: Template,
    asked: Asked,
    user_id: str,
    scope: StaffScope,
    switches: dict[str, dict[str, bool]],
    today: date,
) -> Report:
    """`template` run over `asked` for a reader who sees `scope`: only the items, SLA
    targets and time entries they may see."""
    projects = None if scope.all_projects else scope.project_ids
    if asked.project is not None:
        only = {asked.project}
        projects = frozenset(only if projects is None else only & projects)
    request = ReportRequest(
        since=asked.first,
        until=asked.last,
        period=asked.period,  # type: ignore[arg-type]
        group_by=asked.group_by,
        projects=projects,
        kinds=scope.kinds,
        entries=EntryScope.of(user_id, scope),
        today=today,
        timesheets=switches["apps"]["timesheets"],
        project=asked.project,
        custom=asked.custom,
    )
    return template.run(tx, tables_of(tx), request)


def report_file(
    output: str, made: Report, brand: Brand, title: str, subtitle: str
) -> tuple[bytes, str]:
    """The report as a file's bytes, and its media type."""
    rows: list[dict[str, Any]] = made.rows
    if output == "csv":
        return b"".join(csv_blocks(made.columns, rows)), MEDIA_TYPES["csv"]
    if output == "pdf":
        made_file = pdf_file(brand, title, subtitle, made.columns, rows, None, made.chart)
    else:
        made_file = xlsx_file(made.columns, rows)
    with made_file:
        made_file.seek(0)
        data = made_file.read()
    return data, MEDIA_TYPES[output]
