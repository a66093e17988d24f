"""The OpenAPI document as generated clients need it.

FastAPI documents what the routes declare; this adds, in one place, what every route shares:
each error as `application/problem+json` with the `Problem` schema (never FastAPI's
`HTTPValidationError`), the status codes the edge itself can send (401/403 for routes behind
a token, 413 and 422 for routes that take input, 308 under a ticket's number), the headers
that carry the protocol (`ETag`, `Location`, `X-Log-Position`, `X-Correlation-ID`,
`X-View-Fresh`, `Retry-After`), and readable operation ids (the route's name).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_CONTENT = {"application/problem+json": {"schema": PROBLEM_REF}}
TICKET_PATH = re.compile(r"^/api/v1/tickets/\{number\}")
READS = frozenset({"get", "head"})
REASONS = {
    400: "The body cannot be read as the media type it claims.",
    308: "The ticket became a task: `Location` names the same path under the task.",
    401: "Missing or invalid bearer token.",
    403: "The caller may not do this.",
    404: "No such resource, or one the caller may not know of.",
    405: "The method is not allowed here; `Allow` lists those that are.",
    409: "Conflicts with the current state.",
    412: "If-Match names a stale version.",
    413: "The request body is too large.",
    422: "The request is not valid; `errors` names each problem.",
    429: "Too many attempts; `Retry-After` says when to try again.",
}


def _header(description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


HEADERS = {
    "ETag": _header('The version of the item in the body, as `"<version>"`.', {"type": "string"}),
    "Location": _header("Where the resource is (created, or moved to).", {"type": "string"}),
    "X-Log-Position": _header(
        "The log position of this write; reads by the same caller wait for it.",
        {"type": "integer", "minimum": 0},
    ),
    "X-Correlation-ID": _header(
        "The request's correlation id (yours from `X-Correlation-ID`, or a new one).",
        {"type": "string"},
        True,
    ),
    "X-View-Fresh": _header(
        "`true` when the views had reached the position this read waited for.",
        {"type": "string", "enum": ["true", "false"]},
    ),
    "X-Message-ID": _header(
        "The id of the message just posted.", {"type": "string", "format": "uuid"}, True
    ),
    "X-Attachment-ID": _header(
        "The id of the attachment just added.", {"type": "string", "format": "uuid"}, True
    ),
    "Retry-After": _header("Seconds to wait before trying again.", {"type": "integer"}, True),
}


def operation_id(route: APIRoute) -> str:
    """A route's operation id is its name (`open_ticket`), unique across the API."""
    return route.name


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            complete(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    names = [r.name for r in app.routes if isinstance(r, APIRoute) and r.include_in_schema]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"operation ids must be unique; used twice: {', '.join(twice)}")


def complete(document: dict[str, Any]) -> None:
    """Add the shared statuses, problem bodies and headers to every operation."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            _complete_operation(path, method, operation)


def _complete_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        _without_null(parameter)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    secured = bool(operation.get("security"))
    takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
    statuses = {int(code) for code in responses if code.isdigit()}
    # 412 comes only from If-Match: declared where the operation takes one, nowhere else.
    if any(p["name"].lower() == "if-match" for p in operation.get("parameters", [])):
        statuses.add(412)
    else:
        statuses.discard(412)
    if secured:
        statuses |= {401, 403}
    if takes_input:
        statuses.add(422)
    if operation.get("requestBody"):
        statuses.add(400)
    # A body declared larger than its limit is refused (413) on any route, before routing.
    statuses.add(413)
    if TICKET_PATH.match(path):
        statuses.add(308)
    completed = {}
    for status in sorted(statuses):
        code = str(status)
        if status < 300:
            completed[code] = _success(responses[code], method, status, path)
        else:
            completed[code] = _problem(responses.get(code, {}), status)
    operation["responses"] = completed


def _without_null(parameter: dict[str, Any]) -> None:
    """An optional query parameter or header is absent, never `null`: a query string or a
    header cannot carry JSON's null, so a generated client must not be told it may."""
    schema = parameter.get("schema", {})
    choices = schema.get("anyOf")
    if parameter.get("required") or not choices:
        return
    kept = [c for c in choices if c.get("type") != "null"]
    if len(kept) == len(choices):
        return
    extra = {k: v for k, v in schema.items() if k != "anyOf"}
    parameter["schema"] = {**kept[0], **extra} if len(kept) == 1 else {**extra, "anyOf": kept}


def _success(response: dict[str, Any], method: str, status: int, path: str) -> dict[str, Any]:
    headers = response.setdefault("headers", {})
    if status == 201 and path.endswith("/messages"):
        headers["X-Message-ID"] = HEADERS["X-Message-ID"]
    if status == 201 and path.endswith("/attachments"):
        headers["X-Attachment-ID"] = HEADERS["X-Attachment-ID"]
    headers["X-Correlation-ID"] = HEADERS["X-Correlation-ID"]
    if method in READS:
        headers["X-View-Fresh"] = HEADERS["X-View-Fresh"]
    else:
        headers["X-Log-Position"] = HEADERS["X-Log-Position"]
    if status == 201:
        headers["Location"] = HEADERS["Location"]
    if _is_item(response):
        headers["ETag"] = HEADERS["ETag"]
    return response


def _is_item(response: dict[str, Any]) -> bool:
    """A body that is a ticket or a task carries its version as an ETag."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    refs = [schema.get("$ref", "")] + [s.get("$ref", "") for s in schema.get("anyOf", [])]
    return any(r.endswith(("/TicketOut", "/TaskOut")) for r in refs)


def _problem(response: dict[str, Any], status: int) -> dict[str, Any]:
    documented: dict[str, Any] = {
        "description": response.get("description") or REASONS.get(status, "A problem."),
        "content": PROBLEM_CONTENT,
    }
    headers = {**response.get("headers", {}), "X-Correlation-ID": HEADERS["X-Correlation-ID"]}
    if status == 308:
        headers["Location"] = {**HEADERS["Location"], "required": True}
    if status in (429, 503):
        headers["Retry-After"] = HEADERS["Retry-After"]
    if status == 405:
        headers["Allow"] = _header("The methods this path allows.", {"type": "string"}, True)
    if headers:
        documented["headers"] = headers
    return documented
