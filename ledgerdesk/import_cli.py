"""`ledgerdesk import ...`: tickets and tasks from CSV, and Microsoft Project plans."""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from commands.imports.csv_files import ImportRejectedError
from commands.imports.items import ItemImportService
from commands.models import Context
from commands.msproject.importer import PlanImport, PlanImportService, target_for
from commands.msproject.plan_files import read_plan_file
from domain.msproject.warnings import PlanWarning
from domain.user import user_id_for
from domain.values import Actor
from ledgerdesk import bootstrap
from ledgerdesk.cli_common import CLI, CliError, _container
from ledgerdesk.settings import Settings
from projections.item_places import Places
from projections.users import staff_by_name

PLACES_VIEWS = ["hierarchy", "customers"]


def _acting(c: bootstrap.Container, email: str | None) -> Context:
    """The staff user `--as` names (their rights), or the system."""
    if not email:
        return CLI
    email = email.strip().lower()
    user = c.accounts.user(user_id_for(email))
    if not user.is_active:
        raise CliError(f"{email} is deactivated")
    return Context(actor=Actor.user(user.id), correlation_id="cli")


def _follow(c: bootstrap.Container, views: list[str]) -> None:
    c.follow(views)
    if not c.runner.wait_for(c.app.head(), views, 60):
        raise CliError(f"the views {', '.join(views)} are not up to date")


class _Bar:
    """A progress bar on stderr, one per stage (rows checked, rows or tasks written)."""

    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.stage: str | None = None
        self.bar: tqdm[Any] | None = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(desc=stage, total=total, unit=self.unit, file=sys.stderr, leave=True)
        assert self.bar is not None
        if total is not None and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _readable(name: str) -> Path:
    path = Path(name)
    if not path.is_file():
        raise CliError(f"cannot read {name}: no such file")
    return path


def _bytes(name: str) -> bytes:
    try:
        return _readable(name).read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {name}: {error.strerror or error}") from None


def cmd_import_items(args: argparse.Namespace) -> int:
    """Import tickets and tasks from a CSV file (`commands.imports.items`), as a staff
    user (`--as`) or as the system."""
    rename = {}
    for pair in args.map:
        header, equals, column = pair.partition("=")
        if not equals or not header.strip() or not column.strip():
            raise CliError(f"--map takes FILE_HEADER=column (Subject=title), not {pair!r}")
        rename[header.strip()] = column.strip()
    path = _readable(args.file)
    # A copy of the file, read twice (checked, then written): the same bytes both times.
    copy = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the with below
    with path.open("rb") as original:
        shutil.copyfileobj(original, copy)

    def source() -> Iterator[bytes]:
        copy.seek(0)
        yield from copy

    with copy, _container(Settings()) as c:
        ctx = _acting(c, args.as_email)
        _follow(c, PLACES_VIEWS)
        with c.views.read() as tx:
            places = Places.read(tx)
        bar = _Bar("rows")
        try:
            done = ItemImportService(c.app, c.stopping).import_csv(
                source, ctx, places, rename, dry_run=args.dry_run, progress=bar
            )
        except ImportRejectedError as rejected:
            bar.close()
            for problem in rejected.problems:
                where = f"row {problem.row}, {problem.column}"
                print(f"ledgerdesk: {where}: {problem.message}", file=sys.stderr)
            print(f"ledgerdesk: error: {rejected}", file=sys.stderr)
            return 2
        bar.close()
    made = f"{done.created['ticket']} ticket(s) and {done.created['task']} task(s)"
    if args.dry_run:
        print(f"dry run: {done.rows} row(s) would import {made}; {done.existing} imported before")
    else:
        print(
            f"imported {made} from {done.rows} row(s); {done.existing} imported before"
            + (f" (import {done.imported.import_id})" if done.imported else "")
        )
    return 0


def cmd_import_msproject(args: argparse.Namespace) -> int:
    """Import a Microsoft Project plan (MSPDI XML; MPP and MPT with the msproject extra)
    into the project `--project` names, or a new project of that name."""
    data = _bytes(args.file)
    plan = read_plan_file(data)
    with _container(Settings()) as c:
        ctx = _acting(c, args.as_email)
        _follow(c, [*PLACES_VIEWS, "users"])
        with c.views.read() as tx:
            target = target_for(args.project, Places.read(tx), PlanImportService(c.app).sees(ctx))

        bar = _Bar("tasks")
        done = PlanImportService(c.app).import_plan(
            plan,
            hashlib.sha256(data).hexdigest(),
            target,
            ctx,
            staff_by_name(c.views),
            args.dry_run,
            bar,
        )
        bar.close()
    for warning in done.warnings:
        print(f"warning: {_warning(warning)}", file=sys.stderr)
    print(_summary(done, args.dry_run))
    return 0


def _warning(warning: PlanWarning) -> str:
    if warning.task_uid is None:
        return warning.message
    return f"task UID {warning.task_uid} ({warning.task!r}): {warning.message}"


def _summary(done: PlanImport, dry_run: bool) -> str:
    made = done.created
    what = (
        f"{made['tasks']} task(s) ({made['subtasks']} subtask(s)), {made['folders']} folder(s),"
        f" {made['links']} link(s), {made['assignments']} assignment(s)"
    )
    where = f"{'new ' if done.project_created else ''}project {done.project_name!r}"
    if dry_run:
        return f"dry run: would import {what} into {where}; {done.existing} imported before"
    recorded = f" (import {done.import_id})" if done.import_id else ""
    return (
        f"imported {what} into {where} ({done.project_id}); {done.existing} imported"
        f" before{recorded}; {len(done.warnings)} warning(s)"
    )


def add_import_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imports = sub.add_parser("import", help="import items and plans").add_subparsers(
        dest="what", required=True
    )
    items = imports.add_parser("items", help="tickets and tasks from a CSV file")
    items.add_argument("file", help="a CSV file with a header row")
    items.add_argument(
        "--as", dest="as_email", help="a staff user's email: import with their rights"
    )
    items.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FILE_HEADER=column",
        help="a header of the file and the column it is (repeatable): Subject=title",
    )
    items.add_argument("--dry-run", action="store_true", help="check every row; write nothing")
    items.set_defaults(func=cmd_import_items)

    plan = imports.add_parser("msproject", help="a Microsoft Project plan (XML; MPP, MPT)")
    plan.add_argument("file", help="an MS Project XML file (or MPP/MPT with the extra)")
    plan.add_argument(
        "--project",
        required=True,
        help="the project's id, name or Customer/Project path; a name no project has"
        " makes a new project",
    )
    plan.add_argument(
        "--as", dest="as_email", help="a staff user's email: import with their rights"
    )
    plan.add_argument("--dry-run", action="store_true", help="check the plan; write nothing")
    plan.set_defaults(func=cmd_import_msproject)
