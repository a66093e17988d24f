"""What the command line's modules share: the CLI's context, its error, and a container
that is closed on exit."""

from __future__ import annotations

from commands.models import Context
from domain.values import Actor
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings

CLI = Context(actor=Actor.system("cli"), correlation_id="cli")


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


class _container:
    """A built container that is closed on exit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __enter__(self) -> bootstrap.Container:
        self.c = bootstrap.build(self.settings)
        return self.c

    def __exit__(self, *exc: object) -> None:
        self.c.close()
