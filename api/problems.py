"""Every error leaves the API as an RFC 9457 problem: each family is mapped once, here."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from api.body_limit import Accepts
from api.correlation import route_of
from api.responses import ProblemResponse, problem
from api.throttle import TooManyAttemptsError
from commands.blobs import BlobStoreUnavailableError
from commands.errors import AttachmentTooLargeError, InvalidTokenError, VersionMismatchError
from commands.imports.csv_files import ImportRejectedError
from commands.imports.items import ImportStoppedError
from commands.imports.staging import ImportInterruptedError
from commands.msproject.mpp import UnsupportedPlanFormatError
from domain.errors import (
    ConflictError,
    DomainError,
    InvalidCredentialsError,
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
    TicketConvertedError,
)
from projections.base import InvalidCursorError

log = logging.getLogger("ledgerdesk.api")
TICKET_PATH = re.compile(r"^/api/v1/tickets/[^/]+")


class InvalidParameterError(Exception):
    """Raised when a header or query parameter is malformed beyond what its type says."""

    def __init__(self, where: str, name: str, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.name = name


@contextmanager
def located(**places: tuple[str, str]) -> Iterator[None]:
    """Report a domain's `InvalidValueError` for one of `places`' fields where the request
    gave it (`field=("query", "name")`), not in the body."""
    try:
        yield
    except InvalidValueError as error:
        place = places.get(error.field)
        if place is None:
            raise
        raise InvalidParameterError(place[0], place[1], str(error)) from error


def _invalid(errors: list[dict[str, Any]], request: Request, detail: str) -> ProblemResponse:
    return problem(
        422,
        "validation-error",
        "Your request is not valid",
        detail,
        request.url.path,
        errors=errors,
    )


def _detail(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['location'])}: {e['message']}" for e in errors)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's own 405 names only the
    first route that matched the path)."""
    path = request.scope["path"]
    return sorted({m for route in _routes(request.app.router.routes) for m in _serves(route, path)})


def _routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route, through the routers FastAPI includes (each with its own prefix)."""
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if candidates is not None:
            yield from _routes(candidates())
        else:
            yield route


UPLOADS_MARK = "x-ledgerdesk-uploads"
MULTIPART = "multipart/form-data"


def routes_accepting_uploads(app: FastAPI) -> tuple[Accepts, ...]:
    """The routes whose body is a file upload (multipart) or a received message: the only
    bodies allowed past the JSON size limit."""
    found = []
    for route in _routes(app.router.routes):
        files = (getattr(route, "openapi_extra", None) or {}).get(UPLOADS_MARK)
        if files:
            # A page's form with files (`files` of them at most), read by the page itself.
            found.append(Accepts(frozenset(route.methods), route.path_regex, MULTIPART, int(files)))
            continue
        dependant = getattr(route, "dependant", None)
        for param in dependant.body_params if dependant is not None else ():
            media = getattr(param.field_info, "media_type", "application/json")
            if media in ("multipart/form-data", "message/rfc822"):
                found.append(Accepts(frozenset(route.methods), route.path_regex, media))
                break
    return tuple(found)


def _serves(route: Any, path: str) -> frozenset[str]:
    regex = getattr(route, "path_regex", None)
    if regex is None or not regex.match(path):
        return frozenset()
    return frozenset(getattr(route, "methods", None) or ())


def install(app: FastAPI) -> None:
    """Register the one mapping from error families to problem documents."""

    @app.exception_handler(RequestValidationError)
    def validation(request: Request, exc: RequestValidationError) -> ProblemResponse:
        errors = [
            {"location": list(e["loc"]), "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        return _invalid(errors, request, _detail(errors))

    @app.exception_handler(InvalidValueError)
    def invalid_value(request: Request, exc: InvalidValueError) -> ProblemResponse:
        errors = [{"location": ["body", exc.field], "message": str(exc), "type": "value_error"}]
        return _invalid(errors, request, f"{exc.field}: {exc}")

    @app.exception_handler(ImportRejectedError)
    def import_rejected(request: Request, exc: ImportRejectedError) -> ProblemResponse:
        errors = [
            {
                "location": ["file", p.row, p.column],
                "row": p.row,
                "column": p.column,
                "message": p.message,
                "type": "value_error",
            }
            for p in exc.problems
        ]
        return _invalid(errors, request, str(exc))

    @app.exception_handler(ImportStoppedError)
    def import_stopped(request: Request, exc: ImportStoppedError) -> ProblemResponse:
        errors = [
            {"location": ["file", p.row, p.column], "row": p.row, "column": p.column,
             "message": p.message, "type": "value_error"}
            for p in exc.problems
        ]  # fmt: skip
        return problem(
            409,
            "import-stopped",
            "The import stopped at a row it could not write",
            str(exc),
            request.url.path,
            import_id=str(exc.import_id),
            written=exc.written,
            errors=errors,
        )

    @app.exception_handler(ImportInterruptedError)
    def import_interrupted(request: Request, exc: ImportInterruptedError) -> ProblemResponse:
        return problem(
            503,
            "import-interrupted",
            "The import stopped before it completed",
            str(exc),
            request.url.path,
            headers={"Retry-After": "5"},
            import_id=str(exc.import_id),
        )

    @app.exception_handler(BlobStoreUnavailableError)
    def blobs_unavailable(request: Request, exc: BlobStoreUnavailableError) -> ProblemResponse:
        log.warning("blob store unavailable: %s", exc)  # Not in the answer: it names hosts.
        return problem(
            503, "storage-unavailable", "File storage does not answer",
            "The store that keeps files did not answer; nothing was written. Try again.",
            request.url.path, headers={"Retry-After": "5"},
        )  # fmt: skip

    @app.exception_handler(UnsupportedPlanFormatError)
    def unsupported_plan(request: Request, exc: UnsupportedPlanFormatError) -> ProblemResponse:
        return problem(
            415, "unsupported-plan-format", "This kind of plan file cannot be read here",
            str(exc), request.url.path, install="pip install 'ledgerdesk[msproject]'",
        )  # fmt: skip

    @app.exception_handler(InvalidCursorError)
    def invalid_cursor(request: Request, exc: InvalidCursorError) -> ProblemResponse:
        errors = [{"location": ["query", "cursor"], "message": str(exc), "type": "value_error"}]
        return _invalid(errors, request, f"cursor: {exc}")

    @app.exception_handler(InvalidParameterError)
    def bad_parameter(request: Request, exc: InvalidParameterError) -> ProblemResponse:
        errors = [{"location": [exc.where, exc.name], "message": str(exc), "type": "value_error"}]
        return _invalid(errors, request, f"{exc.name}: {exc}")

    @app.exception_handler(TooManyAttemptsError)
    def too_many(request: Request, exc: TooManyAttemptsError) -> ProblemResponse:
        return problem(
            429,
            "too-many-attempts",
            "Too many sign-in attempts",
            str(exc),
            request.url.path,
            headers={"Retry-After": str(exc.retry_after)},
            retry_after=exc.retry_after,
        )

    @app.exception_handler(NotFoundError)
    def not_found(request: Request, exc: NotFoundError) -> ProblemResponse:
        return problem(404, "not-found", "Not found", str(exc), request.url.path)

    @app.exception_handler(ConflictError)
    def conflict(request: Request, exc: ConflictError) -> ProblemResponse:
        return problem(409, "conflict", "Conflict", str(exc), request.url.path)

    @app.exception_handler(TicketConvertedError)
    def converted(request: Request, exc: TicketConvertedError) -> ProblemResponse:
        path = request.url.path
        detail = str(exc)
        if not TICKET_PATH.match(path):
            # Not a path under the ticket (e.g. a board move naming it): nothing to follow.
            return problem(
                409,
                "converted",
                "This ticket is now a task",
                detail,
                path,
                task_number=exc.task_number,
            )
        # The same path under the task: /api/v1/tickets/7/messages -> /api/v1/tasks/9/messages.
        target = TICKET_PATH.sub(f"/api/v1/tasks/{exc.task_number}", path, count=1)
        if request.url.query:
            target += f"?{request.url.query}"
        return problem(
            308,
            "converted",
            "This ticket is now a task",
            detail,
            path,
            headers={"Location": target},
            task_number=exc.task_number,
        )

    @app.exception_handler(VersionMismatchError)
    def stale(request: Request, exc: VersionMismatchError) -> ProblemResponse:
        return problem(
            412,
            "stale-version",
            "The item has changed since you read it",
            str(exc),
            request.url.path,
            headers={"ETag": f'"{exc.actual}"'},
            current_version=exc.actual,
        )

    @app.exception_handler(AttachmentTooLargeError)
    def too_large(request: Request, exc: AttachmentTooLargeError) -> ProblemResponse:
        return problem(
            413, "too-large", "Upload too large", str(exc), request.url.path, limit=exc.limit
        )

    @app.exception_handler(InvalidTokenError)
    def unauthorized(request: Request, exc: InvalidTokenError) -> ProblemResponse:
        return problem(
            401,
            "unauthorized",
            "Authentication required",
            str(exc),
            request.url.path,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(PermissionDeniedError)
    def forbidden(request: Request, exc: PermissionDeniedError) -> ProblemResponse:
        return problem(403, "forbidden", "Forbidden", str(exc), request.url.path)

    @app.exception_handler(InvalidCredentialsError)
    def bad_credentials(request: Request, exc: InvalidCredentialsError) -> ProblemResponse:
        return problem(
            401,
            "invalid-credentials",
            "Invalid credentials",
            str(exc),
            request.url.path,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(DomainError)
    def domain_error(request: Request, exc: DomainError) -> ProblemResponse:
        return problem(422, "rule-broken", "The request breaks a rule", str(exc), request.url.path)

    @app.exception_handler(ValidationError)
    def invalid_command(request: Request, exc: ValidationError) -> ProblemResponse:
        # A request the API model let through but a command model refuses: still the
        # caller's mistake, named field by field, never a 500.
        errors = [
            {"location": ["body", *e["loc"]], "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        return _invalid(errors, request, _detail(errors))

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> ProblemResponse:
        slug = {400: "malformed-body", 404: "not-found", 405: "method-not-allowed"}.get(
            exc.status_code, "http-error"
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(
            exc.status_code,
            slug,
            str(exc.detail),
            str(exc.detail),
            request.url.path,
            headers=headers,
        )

    @app.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception) -> ProblemResponse:
        # The route's template, never the path: a path can hold a token.
        log.error("unhandled error on %s %s", request.method, route_of(request.scope), exc_info=exc)
        return problem(
            500,
            "internal-error",
            "Internal error",
            "the server failed to handle this request; it has been logged",
            request.url.path,
        )
