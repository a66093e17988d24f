"""What an import answers, whether its request waits for it or a job runs it: the result
(`item_result`, `plan_result`) and, when it fails, the RFC 9457 problem (`problem_of`) — the
same documents the HTTP routes answer with, so a job's outcome reads as the request's
would have."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from commands.imports.csv_files import ImportRejectedError
from commands.imports.items import ImportStoppedError, ItemImport
from commands.imports.staging import ImportInterruptedError
from commands.msproject.importer import PlanImport
from commands.msproject.mpp import UnsupportedPlanFormatError
from domain.errors import (
    ConflictError,
    DomainError,
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
)

PROBLEMS = "/problems/"


def item_result(done: ItemImport, dry_run: bool) -> dict[str, Any]:
    return {
        "rows": done.rows,
        "created": done.created,
        "existing": done.existing,
        "dry_run": dry_run,
        "import_id": str(done.imported.import_id) if done.imported else None,
    }


def plan_result(done: PlanImport, dry_run: bool) -> dict[str, Any]:
    return {
        "import_id": str(done.import_id) if done.import_id else None,
        "project_id": str(done.project_id) if done.project_id else None,
        "project_name": done.project_name,
        "project_created": done.project_created,
        "created": done.created,
        "existing": done.existing,
        "calendar": done.calendar.as_dict(),
        "warnings": [
            {"task_uid": w.task_uid, "task": w.task, "message": w.message} for w in done.warnings
        ],
        "dry_run": dry_run,
    }


def _problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": PROBLEMS + slug, "title": title, "status": status, "detail": detail, **extra}


def _row_errors(error: ImportRejectedError) -> list[dict[str, Any]]:
    return [
        {"location": ["file", p.row, p.column], "row": p.row, "column": p.column,
         "message": p.message, "type": "value_error"}
        for p in error.problems
    ]  # fmt: skip


def problem_of(error: DomainError | ValidationError) -> dict[str, Any]:
    """The problem document an import that raised `error` answers with."""
    if isinstance(error, ValidationError):  # A command model refused a value.
        errors = [
            {"location": ["body", *e["loc"]], "message": e["msg"], "type": e["type"]}
            for e in error.errors()
        ]
        detail = "; ".join(f"{'.'.join(map(str, e['location']))}: {e['message']}" for e in errors)
        return _problem(422, "validation-error", "Your request is not valid", detail, errors=errors)
    detail = str(error)
    if isinstance(error, ImportStoppedError):
        return _problem(
            409, "import-stopped", "The import stopped at a row it could not write", detail,
            import_id=str(error.import_id), written=error.written, errors=_row_errors(error),
        )  # fmt: skip
    if isinstance(error, ImportRejectedError):
        return _problem(
            422, "validation-error", "Your request is not valid", detail,
            errors=_row_errors(error),
        )  # fmt: skip
    if isinstance(error, ImportInterruptedError):
        return _problem(
            503, "import-interrupted", "The import stopped before it completed", detail,
            import_id=str(error.import_id),
        )  # fmt: skip
    if isinstance(error, UnsupportedPlanFormatError):
        return _problem(
            415, "unsupported-plan-format", "This kind of plan file cannot be read here",
            detail, install="pip install 'ledgerdesk[msproject]'",
        )  # fmt: skip
    if isinstance(error, InvalidValueError):
        errors = [{"location": ["body", error.field], "message": detail, "type": "value_error"}]
        return _problem(
            422, "validation-error", "Your request is not valid", f"{error.field}: {detail}",
            errors=errors,
        )  # fmt: skip
    if isinstance(error, PermissionDeniedError):
        return _problem(403, "forbidden", "Forbidden", detail)
    if isinstance(error, NotFoundError):
        return _problem(404, "not-found", "Not found", detail)
    if isinstance(error, ConflictError):
        return _problem(409, "conflict", "Conflict", detail)
    return _problem(422, "rule-broken", "The request breaks a rule", detail)


def stalled_problem(attempts: int) -> dict[str, Any]:
    return _problem(
        500, "internal-error", "Internal error",
        f"the import stopped its worker {attempts} times (it showed no sign of life): it is"
        " not tried again",
    )  # fmt: skip


def internal_problem() -> dict[str, Any]:
    return _problem(
        500,
        "internal-error",
        "Internal error",
        "the import failed on an error of ours; it is logged",
    )
