"""The pages' side of the company switches: a page of a switched-off app answers the
"switched off" page (404), as the API answers its problem (`api.switches`)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from api.pages.rendering import services_of


class AppOffError(Exception):
    """Raised on a page of an app that admins switched off."""

    def __init__(self, app: str) -> None:
        super().__init__(app)
        self.app = app


def apps_on(*apps: str) -> Callable[[Request], None]:
    """A dependency refusing the page while any of `apps` is switched off (the first named)."""

    def on(request: Request) -> None:
        current = services_of(request).company.current()["apps"]
        for app in apps:
            if not current[app]:
                raise AppOffError(app)

    return on
