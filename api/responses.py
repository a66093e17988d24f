"""JSON responses rendered by orjson, and RFC 9457 problem documents."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse

from commands.blobs import BlobMissingError, BlobStore, LocalBlobStore

PROBLEM_TYPE_BASE = "/problems/"


class OrjsonResponse(JSONResponse):
    """A JSON response serialised with orjson (UUIDs and datetimes included)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class ProblemResponse(OrjsonResponse):
    media_type = "application/problem+json"


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    """An RFC 9457 problem document: `type` names the kind, `detail` this occurrence."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return ProblemResponse(body, status_code=status, headers=headers)


_SKIP = {"content-length", "content-type"}


def reply(sub: Any, content: Any, status: int = 200, **headers: str) -> OrjsonResponse:
    """An orjson response carrying the headers dependencies set on the sub-response."""
    response = OrjsonResponse(content, status_code=status)
    for name, value in sub.headers.items():
        if name not in _SKIP:
            response.headers[name] = value
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def with_headers(sub: Any, content: bytes | str, media_type: str) -> Response:
    """A non-JSON answer carrying the headers dependencies set on `sub` (X-View-Fresh)."""
    response = Response(content, media_type=media_type)
    for name, value in sub.headers.items():
        if name not in ("content-length", "content-type"):
            response.headers[name] = value
    return response


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses a route can give."""
    from api.schemas import Problem

    text = {
        401: "Missing or invalid bearer token.",
        403: "The caller may not do this.",
        404: "No such item.",
        409: "Conflicts with the current state.",
        412: "If-Match names a stale version.",
        413: "Upload too large.",
        415: "A kind of file this install cannot read; the problem says what to install.",
        422: "The request is not valid; `errors` names each problem.",
        429: "Too many attempts; `Retry-After` says when to try again.",
        503: "The server is shutting down; send the same request again.",
    }
    return {
        s: {
            "model": Problem,
            "description": text[s],
            "content": {"application/problem+json": {}},
        }
        for s in statuses
    }


def attachment_download(blobs: BlobStore, found: dict[str, Any]) -> Response:
    """An attachment's bytes, always as a download (never rendered inline) — `found`: its
    name, media type and sha256. From disk, a file response (with byte ranges, so a download
    can resume); from a shared store, streamed a chunk at a time."""
    sha256 = found["sha256"]
    headers = {
        "Content-Disposition": attachment(found["name"], "attachment"),
        "ETag": f'"{sha256}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private",
    }
    if isinstance(blobs, LocalBlobStore):
        path = blobs.path(sha256)
        if not path.is_file():
            raise BlobMissingError(sha256)
        return FileResponse(path, media_type=found["media_type"], headers=headers)
    size = blobs.size(sha256)  # before the reader is opened: a missing blob opens nothing
    headers["Content-Length"] = str(size)
    return StreamingResponse(blobs.chunks(sha256), media_type=found["media_type"], headers=headers)


def attachment(name: str, fallback: str) -> str:
    """A Content-Disposition for a download named `name`: an ASCII `filename` (the
    `fallback` where little of the name is ASCII) and the name itself as `filename*`
    (RFC 6266), so that any name can go in a header."""
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in name)
    if ascii_name.strip("-.") == "":
        ascii_name = fallback
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
