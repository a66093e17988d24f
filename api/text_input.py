"""Every text a request brings is checked before any route runs: query and path parameters,
JSON bodies at any depth, multipart fields and the names and types of uploaded files.

One app-wide dependency, so no route or request model can leave text unchecked. A
disallowed character (the rule is `domain.text`) answers 422 `validation-error` naming
where it was (`["body", "title"]`, `["query", "q"]`), and nothing is written.
"""

from __future__ import annotations

import email.message
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.params import Form
from fastapi.routing import APIRoute
from starlette.datastructures import FormData, UploadFile

from domain.text import disallowed_character

Location = tuple[str | int, ...]
ERROR_TYPE = "disallowed_character"


async def refuse_disallowed_text(request: Request) -> None:
    """422 for any text of the request that holds a disallowed character."""
    errors = [
        *_values(request.path_params.items(), "path"),
        *_values(request.query_params.multi_items(), "query"),
    ]
    route = request.scope.get("route")
    if isinstance(route, APIRoute) and route.body_field is not None:
        # The route reads a body: FastAPI has parsed it already, and the parse is cached.
        if isinstance(route.body_field.field_info, Form):
            errors += _form(await request.form())
        elif _is_json(request.headers.get("content-type", "")) and await request.body():
            errors += _json(await request.json(), ("body",))
    if errors:
        raise RequestValidationError(errors)


def _is_json(content_type: str) -> bool:
    """Whether FastAPI parsed the body as JSON (as it decides: by the declared type only)."""
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _error(text: str, loc: Location, what: str = "") -> Iterator[dict[str, Any]]:
    found = disallowed_character(text)
    if found is not None:
        yield {"type": ERROR_TYPE, "loc": loc, "msg": f"{what or 'text'} contains {found}"}


def _values(items: Iterable[tuple[str, Any]], where: str) -> Iterator[dict[str, Any]]:
    for name, value in items:
        if isinstance(value, str):
            yield from _error(value, (where, name))


def _form(form: FormData) -> Iterator[dict[str, Any]]:
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            where = ("body", name)
            yield from _error(value.filename or "", (*where, "filename"), "file name")
            yield from _error(value.content_type or "", (*where, "content_type"), "media type")
        else:
            yield from _error(value, ("body", name))


def _json(value: Any, loc: Location) -> Iterator[dict[str, Any]]:
    if isinstance(value, str):
        yield from _error(value, loc)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json(item, (*loc, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _error(key, loc, "a member name")
            yield from _json(item, (*loc, key))
