"""Importing a Microsoft Project plan (MSPDI XML) into a new or existing project.

The file is read (`commands.msproject.mspdi`), mapped onto folders, tasks, subtasks and
links (`domain.msproject.mapping`, which also says what cannot be kept: the warnings), its
resources matched to staff by email, then by name, and everything is written in **one**
write, by `import:<import id>`: all or nothing. The plan's dates are the file's: no task
is rescheduled (the scheduler moves nothing until someone changes something).

Each task is keyed by the project and its UID in the file (an `ImportedItem`), each folder
by the same: importing the file again adds nothing, and a later version of the plan adds
only the tasks (and links) that are new, leaving those imported before as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from commands.access import (
    EDITORS,
    ProjectNotFoundError,
    load_project,
    manages_projects,
    outsider,
    require_manager,
    require_role,
)
from commands.application import LedgerDesk
from commands.company_settings import require_kind_on
from commands.imports.item_checks import Places
from commands.imports.progress import Progress, quiet
from commands.models import Context
from commands.msproject.plan_write import NAMESPACE, Written, write_plan
from commands.projects import CreateProject, create_project
from commands.tickets import CREATORS, require_tasks_app
from commands.unit_of_work import UnitOfWork, run
from commands.users import acting_user
from domain.errors import DomainError, InvalidValueError, PermissionDeniedError
from domain.imports import Import, import_id
from domain.msproject.mapping import MappedPlan, map_plan
from domain.msproject.plan import FilePlan, FileResource
from domain.msproject.warnings import PlanWarning
from domain.planning.calendar import STANDARD, WorkCalendar
from domain.project import Project
from domain.user import user_id_for
from domain.values import Actor

KIND = "msproject"
# Staff by name, as the users directory knows them: lower-cased name -> user ids.
StaffByName = Callable[[Sequence[str]], dict[str, list[str]]]


@dataclass(frozen=True)
class Target:
    """Where the plan goes: an existing project (`project_id`), or a new one (`name`; the
    plan's own name when None)."""

    project_id: UUID | None = None
    name: str | None = None


@dataclass
class PlanImport:
    import_id: UUID | None  # None in a dry run
    project_id: UUID | None  # None in a dry run into a new project
    project_name: str
    project_created: bool
    created: dict[str, int]  # tasks, subtasks, folders, links, assignments
    existing: int  # tasks an earlier import of this plan into the project made
    warnings: list[PlanWarning]
    position: int = 0  # the log position of the write (0: nothing written)
    calendar: WorkCalendar = STANDARD  # the project's, by which the plan's days count


def new_project_id(import_ref: UUID) -> UUID:
    """A new project's id comes from its import: sending the file again finds it."""
    return uuid5(NAMESPACE, f"project|{import_ref}")


class PlanImportService:
    """Imports Microsoft Project plans (see the module)."""

    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def sees(self, ctx: Context) -> Callable[[str], bool]:
        """Whether the importer may know of a project (by id)."""
        uow = UnitOfWork(self.app)

        def sees(project_id: str) -> bool:
            project = uow.get(UUID(project_id), Project)
            return project is not None and not outsider(uow, ctx, project)

        return sees

    def import_plan(
        self,
        plan: FilePlan,
        sha256: str,
        target: Target,
        ctx: Context,
        staff_by_name: StaffByName,
        dry_run: bool = False,
        progress: Progress = quiet,
    ) -> PlanImport:
        if ctx.actor.kind not in ("user", "system"):
            raise PermissionDeniedError("only staff import plans")
        mapped = map_plan(plan)
        progress("writing", 0, len(mapped.tasks))
        where = str(target.project_id) if target.project_id else f"new:{target.name or ''}"
        ref = import_id(f"{KIND}|{where}", ctx.actor.ref, sha256)
        project_id = target.project_id or new_project_id(ref)
        name = target.name or mapped.name
        people = _people(UnitOfWork(self.app), plan, mapped, staff_by_name)
        kept: list[Written] = [Written()]

        def decide(uow: UnitOfWork) -> list[Any]:
            written = Written()
            kept[0] = written  # Only the attempt that saves counts.
            writer = Context(actor=Actor("import", str(ref)), correlation_id=ctx.correlation_id)
            project, made = _project(uow, ctx, project_id, name, target, mapped, written)
            written.project_name, written.calendar = project.name, project.work_calendar
            imp = uow.get(ref, Import)
            before = imp is not None and imp.completed  # This file, imported before.
            calendar = _calendar(uow, ctx, writer, project, mapped, written, apply=not before)
            # The plan's days count by the project's calendar: the file's, unless it kept
            # its own.
            written.calendar = counted = project.work_calendar
            used = mapped if counted == mapped.calendar else map_plan(plan, counted)
            written.warnings[:0] = [*used.warnings, *people.warnings]
            if before:  # (The same answer as the first time, and nothing written.)
                written.existing, written.recorded = len(mapped.tasks), True
                return []
            changed = write_plan(uow, writer, project, used, people.assignees, written)
            if not made and not changed and not calendar:
                return []  # Everything was imported before (by another file).
            imp = Import.start(
                kind=f"{KIND}|{where}", sha256=sha256, rows=len(mapped.tasks),
                actor=ctx.actor, correlation_id=ctx.correlation_id,
            )  # fmt: skip
            imp.complete(written.created["tasks"], ctx.actor, ctx.correlation_id)
            written.recorded = True
            saved = [*made, *calendar, *changed, imp]
            return list({aggregate.id: aggregate for aggregate in saved}.values())

        if dry_run:
            decide(UnitOfWork(self.app))
            done = kept[0]
            return PlanImport(
                None, target.project_id, done.project_name, done.created_project,
                done.created, done.existing, done.warnings, calendar=done.calendar,
            )  # fmt: skip
        saved, position = run(self.app, ref, decide)
        done = kept[0]
        progress("writing", len(mapped.tasks), len(mapped.tasks))
        return PlanImport(
            ref if done.recorded else None, project_id, done.project_name,
            done.created_project and bool(saved), done.created, done.existing, done.warnings,
            position if saved else self.app.head(), done.calendar,
        )  # fmt: skip


# -- the project ------------------------------------------------------------------------


def _project(
    uow: UnitOfWork, ctx: Context, project_id: UUID, name: str, target: Target,
    mapped: MappedPlan, written: Written,
) -> tuple[Project, list[Any]]:  # fmt: skip
    """The project to write into (made first, by the importer, when new), checked: the
    importer may create tasks in it (and folders, when the plan makes any)."""
    require_kind_on(uow, "task")
    require_tasks_app(acting_user(uow, ctx))
    found = uow.get(project_id, Project)
    if target.project_id is not None and (found is None or outsider(uow, ctx, found)):
        raise ProjectNotFoundError(target.project_id)  # (One the importer may not know of.)
    made: list[Any] = []
    if found is None:
        if not manages_projects(acting_user(uow, ctx)):
            raise PermissionDeniedError(
                "only admins and project managers may create projects: name a project"
                " to import the plan into"
            )
        made = create_project(CreateProject(name=name), uow, ctx, project_id)
        uow.keep(made)
        written.created_project = True
        found = made[-1]
    project = load_project(uow, found.id, ctx)
    require_role(uow, ctx, project, CREATORS, "create items here")
    if mapped.folders:
        require_role(uow, ctx, project, EDITORS, "create folders (the plan's summary tasks)")
    return project, made


def _calendar(
    uow: UnitOfWork, ctx: Context, writer: Context, project: Project, mapped: MappedPlan,
    written: Written, apply: bool = True,
) -> list[Project]:  # fmt: skip
    """The file's calendar becomes the project's (the project, to save, if it changed)
    when the project has none of its own and the importer may set it (its managers; a
    project the import makes, its maker); else the project keeps its calendar, which counts
    the plan's durations, with a warning. Without `apply` (the file imported before), only
    the warning."""
    calendar, own = mapped.calendar, project.work_calendar
    if calendar == own:
        return []
    if own.standard:
        try:
            require_manager(uow, ctx, project, "set its calendar")
        except PermissionDeniedError as refused:
            written.warnings.append(PlanWarning(
                f"the file's calendar is not kept ({refused}): the plan's durations are"
                " counted Monday to Friday"
            ))  # fmt: skip
            return []
        if not apply:  # (Set the first time, and changed since.)
            written.warnings.append(PlanWarning(
                "the file's calendar is not kept on a file imported before: the plan's"
                " durations are counted in the project's calendar"
            ))  # fmt: skip
            return []
        project.set_calendar(calendar, writer.actor, writer.correlation_id)
        return [project]
    written.warnings.append(PlanWarning(
        "the project keeps its own calendar, which is not the file's: the plan's durations"
        " are counted in its working days"
    ))  # fmt: skip
    return []


# -- people -----------------------------------------------------------------------------


@dataclass
class _People:
    assignees: dict[int, list[UUID]]  # task UID -> staff
    warnings: list[PlanWarning]


def _people(
    uow: UnitOfWork, plan: FilePlan, mapped: MappedPlan, staff_by_name: StaffByName
) -> _People:
    """The plan's resources matched to active staff (by email, then by a name only one
    member has), and the tasks' assignees; a resource that matches no one is a warning."""
    resources = {r.uid: r for r in plan.resources}
    used = sorted({uid for uids in mapped.assignments.values() for uid in uids})
    names = staff_by_name([resources[u].name for u in used if u in resources])
    matched: dict[int, UUID] = {}
    warnings: list[PlanWarning] = []
    for uid in used:
        resource = resources.get(uid)
        if resource is None:
            warnings.append(PlanWarning(f"an assignment names resource UID {uid}: no such"
                                        " resource in the file, not kept"))  # fmt: skip
            continue
        if resource.kind != "work":
            warnings.append(PlanWarning(
                f"resource {resource.name!r} is a {resource.kind} resource: its assignments"
                " are not kept (only people are assigned here)"
            ))  # fmt: skip
            continue
        user = _staff(uow, resource, names)
        if user is None:
            warnings.append(PlanWarning(
                f"resource {resource.name!r} matches no active staff member by email or"
                " name: its assignments are not kept"
            ))  # fmt: skip
            continue
        matched[uid] = user
    assignees = {
        task: list(dict.fromkeys(matched[u] for u in uids if u in matched))
        for task, uids in mapped.assignments.items()
    }
    return _People(assignees, warnings)


def _staff(uow: UnitOfWork, resource: FileResource, names: dict[str, list[str]]) -> UUID | None:
    if resource.email.strip():
        try:
            user = uow.find_user(user_id_for(resource.email.strip()))
        except DomainError:
            user = None
        if user is not None and user.is_active:
            return user.id
    ids = names.get(" ".join(resource.name.split()).lower(), [])
    if len(ids) == 1:
        user = uow.find_user(UUID(ids[0]))
        if user is not None and user.is_active:
            return user.id
    return None


def target_for(value: str | None, places: Places, sees: Callable[[str], bool]) -> Target:
    """Where `value` puts the plan: a project by id, by name or by `Customer/Project` path
    among those the importer `sees` (the import checks their rights in it), or a new
    project of that name when none of those has it (None: a new project named as the
    plan)."""
    if value is None or not value.strip():
        return Target()
    value = value.strip()
    try:
        return Target(project_id=UUID(value))
    except ValueError:
        pass
    found = [project_id for project_id in places.project(value) if sees(project_id)]
    if len(found) > 1:
        raise InvalidValueError(
            "project", f"{len(found)} projects are named {value!r}: name its customer too"
        )
    if found:
        return Target(project_id=UUID(found[0]))
    if "/" in value:
        raise InvalidValueError("project", f"no project {value!r}: name a new project without '/'")
    return Target(name=value)
