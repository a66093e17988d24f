"""Fixtures of the pages' tests that send mail: a real SMTP sink, and an install that mails
through it with its workers running. A test module may set `MAIL_SETTINGS` (a dict) to
change more settings of that install."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests.smtp_sink import Sink, running_sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink() as running:
        yield running


@pytest.fixture
def mailing(
    request: pytest.FixtureRequest, settings: Settings, sink: Sink
) -> Iterator[bootstrap.Container]:
    extra = getattr(request.module, "MAIL_SETTINGS", {})
    configured = settings.model_copy(
        update={"smtp_url": sink.url, "forward_unread_after": 0, **extra}
    )
    bootstrap.migrate(configured)
    container = bootstrap.build(configured)
    container.follow()
    container.work()
    yield container
    container.close()
