"""Reading a submitted form: its text fields, after the CSRF check every form goes through,
and after the check every text a request brings gets (`domain.text`): a field holding a
character no store can keep, or longer than any field may be, refuses the whole form."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from api.pages.rendering import config_of
from api.pages.security import check_csrf
from domain.text import disallowed_character

MAX_FIELD = 200_000


class FormRefusedError(Exception):
    """A form field holds what no field may (`reason`: "character" or "length")."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Form:
    data: FormData

    def text(self, name: str) -> str:
        """The field's text ("" when absent or a file)."""
        value = self.data.get(name)
        return value if isinstance(value, str) else ""


def check_fields(data: FormData) -> None:
    """FormRefusedError for the first field (or file name or type) that may not be kept."""
    for name, value in data.multi_items():
        texts = (
            [value.filename or "", value.content_type or ""]
            if isinstance(value, UploadFile)
            else [value]
        )
        for text in texts:
            if disallowed_character(text) is not None:
                raise FormRefusedError(name, "character")
            if len(text) > MAX_FIELD:
                raise FormRefusedError(name, "length")


async def read_form(request: Request) -> Form:
    """The form of `request`; CsrfError (403) unless it carries this browser's token,
    FormRefusedError (422) when a field may not be kept."""
    data = await request.form(max_files=10, max_fields=50)
    form = Form(data)
    check_csrf(request, config_of(request), form.text("csrf"))
    check_fields(data)
    return form
