"""Reading a submitted form: its text fields, after the CSRF check every form goes through."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request

from api.pages.rendering import config_of
from api.pages.security import check_csrf

MAX_FIELD = 200_000


@dataclass(frozen=True)
class Form:
    data: FormData

    def text(self, name: str) -> str:
        """The field's text ("" when absent or a file), at most MAX_FIELD characters."""
        value = self.data.get(name)
        return value[:MAX_FIELD] if isinstance(value, str) else ""


async def read_form(request: Request) -> Form:
    """The form of `request`; CsrfError (403) unless it carries this browser's token."""
    data = await request.form(max_files=10, max_fields=50)
    form = Form(data)
    check_csrf(request, config_of(request), form.text("csrf"))
    return form
