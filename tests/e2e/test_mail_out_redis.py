"""Mail out with several workers on a real Redis broker: every message reaches each of its
recipients exactly once, however the work is shared out, and a worker that restarts does
not send again what was sent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from commands.models import AddFollower, PostMessage
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests.conftest import wait_until
from tests.e2e.test_workers_redis import on_redis, redis_namespace  # noqa: F401 (fixtures)
from tests.factories import SYSTEM, open_ticket, register
from tests.smtp_sink import Sink, running_sink

MESSAGES = 20


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink() as running:
        yield running


def worker(settings: Settings) -> bootstrap.Container:
    container = bootstrap.build(settings)
    container.follow()
    container.work()
    return container


def test_two_workers_and_a_restart_send_each_mail_once(
    on_redis: Settings,  # noqa: F811 (the fixture)
    sink: Sink,
) -> None:
    settings = on_redis.model_copy(update={"smtp_url": sink.url, "forward_unread_after": 0})
    bootstrap.migrate(settings)
    first, second = worker(settings), worker(settings)
    try:
        number = open_ticket(first)
        people = [register(first, f"staff{n}@ledgerdesk.example", admin=True) for n in range(3)]
        author, followers = people[0], people[1:]
        first.commands.change_item(number, [AddFollower(user_id=u) for u in followers], SYSTEM)
        as_author = SYSTEM.model_copy(update={"actor": SYSTEM.actor.user(author)})
        for n in range(MESSAGES):
            if n == MESSAGES // 2:  # One worker goes away and comes back halfway through.
                second.close()
                second = worker(settings)
            post = PostMessage(message_id=uuid.uuid4(), body=f"note {n}", visibility="internal")
            first.commands.change_item(number, [post], as_author)
        for follower in ("staff1@ledgerdesk.example", "staff2@ledgerdesk.example"):
            wait_until(lambda f=follower: len(sink.to(f)) >= MESSAGES, what=f"mail to {follower}")
        # Let any duplicate that would come, come.
        first.workers.relay.wake.set()
        for follower in ("staff1@ledgerdesk.example", "staff2@ledgerdesk.example"):
            ids = [r.message["Message-ID"] for r in sink.to(follower)]
            assert len(ids) == MESSAGES
            assert len(set(ids)) == MESSAGES
        assert sink.to("staff0@ledgerdesk.example") == []
    finally:
        first.close()
        second.close()
