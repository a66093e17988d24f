"""Reading a Microsoft Project XML file (MSPDI) into a `FilePlan`: as Project 2002 and 2003
write it (SaveVersion 9 and 11, or none), 2007 (12) and 2010 onwards (14 and later), with
the schema's namespace (`http://schemas.microsoft.com/project`) or without.

The XML is parsed by defusedxml: a file with a DTD — an entity bomb ("billion laughs"), an
external entity — is refused before anything is expanded or fetched (a Project file never
has one). Anything that cannot be read raises `MspdiError` naming what and where (the task's
UID and the element), never a bare KeyError or ValueError.

What is read, and how (the code tables are in `mspdi_format`, the calendars in
`mspdi_calendars`):

- **The project**: Name (else Title), StartDate, CalendarUID, MinutesPerDay,
  MinutesPerWeek, SaveVersion; Title, Subject, Category, Company, Manager and Author go to
  `extra`.
- **Tasks**, in file order: UID (required), ID (else the order in the file), Name, the
  outline, dates, Duration and Work (minutes), PercentComplete, the constraint, links,
  Recurring, GUID, IsNull, Active (absent: active), Manual. MSPDI holds no recurring task's
  pattern (only the flag; MPXJ reads a pattern from MPP files alone), so `recurrence` stays
  None here (`commands.msproject.plan_files` adds an MPP file's patterns).
- **Links** (`PredecessorLink`): Type (absent: finish-to-start); LinkLag in tenths of a
  minute, or — with a percent LagFormat (19, 20, 51, 52) — the percent itself, as MPXJ reads
  it (and as it and MS Project write it: 25 is 25 %); an elapsed LagFormat gives elapsed
  minutes. A link to a task in another project (CrossProject) or without a PredecessorUID
  is left out.
- **Resources**: UID, Name, EmailAddress, the kind (Type 1 work, 0 material, with
  IsCostResource 1 or Type 2 cost); the blank resource UID 0 MS Project always writes is
  left out. **Assignments**: TaskUID, ResourceUID, Units (1 is 100 %); an assignment to no
  resource (ResourceUID -65535) is left out.
"""

from __future__ import annotations

from typing import cast
from xml.etree.ElementTree import Element, ParseError

import defusedxml  # type: ignore[import-untyped]
import defusedxml.ElementTree as safe_xml  # type: ignore[import-untyped]

from commands.msproject.mspdi_calendars import read_calendars
from commands.msproject.mspdi_format import (
    CONSTRAINTS,
    ELAPSED_FORMATS,
    EXTRA,
    LINK_KINDS,
    NAMESPACE,
    NULL_RESOURCE_UID,
    RESOURCE_KINDS,
    Fields,
    MspdiError,
    lag_unit,
)
from domain.msproject.plan import (
    MINUTES_PER_DAY,
    FileAssignment,
    FileLink,
    FilePlan,
    FileResource,
    FileTask,
    LagUnit,
)
from domain.planning.constraints import ConstraintKind
from domain.planning.links import LinkKind


def read_mspdi(data: bytes) -> FilePlan:
    """The plan an MSPDI file holds (raises `MspdiError` for one it cannot read)."""
    project = _parse(data)
    fields = Fields(project, "the project")
    minutes_per_day = fields.integer("MinutesPerDay") or MINUTES_PER_DAY
    minutes_per_week = fields.integer("MinutesPerWeek") or minutes_per_day * 5
    tasks = _tasks(project, minutes_per_day, minutes_per_week)
    name = fields.string("Name") or fields.string("Title")
    if not name:
        name = next((task.name for task in tasks if task.outline_level == 0), "")
    return FilePlan(
        name=name,
        start=fields.date_time("StartDate"),
        calendar_uid=fields.integer("CalendarUID"),
        minutes_per_day=minutes_per_day,
        minutes_per_week=minutes_per_week,
        calendars=read_calendars(project),
        tasks=tasks,
        resources=_resources(project),
        assignments=_assignments(project),
        save_version=fields.integer("SaveVersion"),
        extra={key: value for key in EXTRA if (value := fields.string(key))},
    )


def _parse(data: bytes) -> Element:
    """The document's root `Project`, its tags without the namespace."""
    try:
        root = cast(Element, safe_xml.fromstring(data, forbid_dtd=True))
    except defusedxml.DefusedXmlException:
        raise MspdiError(
            "the file declares a DTD or entities (which a Microsoft Project XML file never"
            " does): refused, so that nothing in it is expanded or fetched"
        ) from None
    except ParseError as error:
        raise MspdiError(f"the file is not XML ({error})") from None
    namespace, _, tag = root.tag.rpartition("}")
    if tag != "Project" or namespace.lstrip("{") not in ("", NAMESPACE):
        raise MspdiError(
            f"the file is not a Microsoft Project XML file: its root element is <{tag}>"
            + (f" in the namespace {namespace.lstrip('{')}" if namespace else "")
            + f", not <Project> in {NAMESPACE}"
        )
    for element in root.iter():
        if isinstance(element.tag, str):  # (Not a comment or a processing instruction.)
            element.tag = element.tag.rpartition("}")[2]
    return root


def _tasks(project: Element, minutes_per_day: int, minutes_per_week: int) -> tuple[FileTask, ...]:
    tasks: list[FileTask] = []
    next_id = 1
    seen: dict[int, int] = {}
    for number, element in enumerate(project.iterfind("Tasks/Task"), 1):
        uid = Fields(element, f"task {number} of the file").integer("UID")
        if uid is None:
            raise MspdiError(f"task {number} of the file has no <UID>")
        if uid in seen:
            raise MspdiError(
                f"task {number} of the file has UID {uid}, as task {seen[uid]} has: a UID"
                " names one task"
            )
        seen[uid] = number
        fields = Fields(element, f"task UID {uid}")
        level = fields.integer("OutlineLevel")
        if level is None:
            level = 0 if uid == 0 else 1
        task_id = fields.integer("ID")
        if task_id is None:  # (MS Project numbers such tasks in file order.)
            task_id, next_id = (0, next_id) if level == 0 else (next_id, next_id + 1)
        else:
            next_id = task_id + 1
        duration_format = fields.integer("DurationFormat")
        tasks.append(
            FileTask(
                uid=uid,
                id=task_id,
                name=fields.string("Name"),
                outline_level=level,
                summary=fields.flag("Summary"),
                milestone=fields.flag("Milestone"),
                notes=fields.string("Notes"),
                start=fields.date_time("Start"),
                finish=fields.date_time("Finish"),
                duration_minutes=fields.duration("Duration", minutes_per_day, minutes_per_week),
                work_minutes=fields.duration("Work", minutes_per_day, minutes_per_week),
                percent_complete=round(fields.number("PercentComplete") or 0),
                actual_start=fields.date_time("ActualStart"),
                actual_finish=fields.date_time("ActualFinish"),
                constraint=_constraint(fields),
                constraint_date=fields.date_time("ConstraintDate"),
                predecessors=tuple(_links(element, fields.where)),
                recurring=fields.flag("Recurring"),
                guid=fields.text("GUID"),
                null=fields.flag("IsNull"),
                active=fields.flag("Active", default=True),
                manual=fields.flag("Manual"),
                outline_number=fields.string("OutlineNumber"),
                duration_elapsed=duration_format in ELAPSED_FORMATS,
            )
        )
    return tuple(tasks)


def _constraint(fields: Fields) -> ConstraintKind:
    code = fields.integer("ConstraintType")
    if code is None:
        return ConstraintKind.AS_SOON_AS_POSSIBLE
    if code not in CONSTRAINTS:
        raise MspdiError(f"{fields.where}: <ConstraintType> {code} is not one of 0 to 7")
    return CONSTRAINTS[code]


def _links(task: Element, where: str) -> list[FileLink]:
    links = []
    for element in task.iterfind("PredecessorLink"):
        fields = Fields(element, f"{where}, a <PredecessorLink>")
        predecessor = fields.integer("PredecessorUID")
        if predecessor is None or fields.flag("CrossProject"):
            continue  # Nothing to link to in this file.
        code = fields.integer("Type")
        if code is not None and code not in LINK_KINDS:
            raise MspdiError(f"{fields.where}: <Type> {code} is not one of 0 to 3")
        unit = lag_unit(fields.integer("LagFormat"))
        lag = fields.number("LinkLag") or 0.0
        links.append(
            FileLink(
                predecessor_uid=predecessor,
                kind=LinkKind.FINISH_TO_START if code is None else LINK_KINDS[code],
                lag=lag if unit == LagUnit.PERCENT else lag / 10,
                lag_unit=unit,
            )
        )
    return links


def _resources(project: Element) -> tuple[FileResource, ...]:
    resources = []
    for number, element in enumerate(project.iterfind("Resources/Resource"), 1):
        uid = Fields(element, f"resource {number} of the file").integer("UID")
        if uid is None:
            raise MspdiError(f"resource {number} of the file has no <UID>")
        fields = Fields(element, f"resource UID {uid}")
        name = fields.string("Name")
        if uid == 0 and not name.strip():
            continue  # MS Project's own blank resource.
        code = fields.integer("Type")
        kind = RESOURCE_KINDS.get(1 if code is None else code)
        if kind is None:
            raise MspdiError(f"{fields.where}: <Type> {code} is not one of 0 to 2")
        if fields.flag("IsCostResource"):
            kind = "cost"
        resources.append(FileResource(uid, name, fields.string("EmailAddress"), kind))
    return tuple(resources)


def _assignments(project: Element) -> tuple[FileAssignment, ...]:
    assignments = []
    for number, element in enumerate(project.iterfind("Assignments/Assignment"), 1):
        fields = Fields(element, f"assignment {number} of the file")
        task, resource = fields.integer("TaskUID"), fields.integer("ResourceUID")
        if task is None or resource is None or resource == NULL_RESOURCE_UID:
            continue
        units = fields.number("Units")
        assignments.append(FileAssignment(task, resource, 1.0 if units is None else units))
    return tuple(assignments)
