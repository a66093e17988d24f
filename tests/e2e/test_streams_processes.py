"""Streams across processes on PostgreSQL: what is committed through API process A reaches a
stream held on process B (the views kept by a third process), typing indicators too."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import Served, split_processes
from tests.sse import Stream

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("split")]


@pytest.fixture(scope="module")
def split(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Served, Served, dict[str, str]]]:
    with split_processes(tmp_path_factory.mktemp("streams")) as found:
        yield found


def test_an_event_committed_through_one_process_reaches_a_stream_on_another(
    split: tuple[Served, Served, dict[str, str]],
) -> None:
    a, b, admin = split
    staff = Stream(f"{b.base}/api/v1/me/stream", admin)
    assert staff.status == 200
    assert staff.next().name == "stream.ready"
    switched = httpx.patch(
        f"{a.base}/api/v1/admin/settings", json={"features": {"anonymous_chats": True}},
        headers=admin,
    )  # fmt: skip
    assert switched.status_code == 200, switched.text
    visitor = {"body": "Hello from A", "name": "Bob", "email": "bob@example.com"}
    opened = httpx.post(f"{a.base}/api/v1/portal/chats", json=visitor)
    assert opened.status_code == 201, opened.text
    chat = opened.json()
    waiting = staff.until("chat.waiting")[1]
    assert waiting.data["chat"]["id"] == chat["id"]
    assert staff.until("chat.message")[1].data["message"]["body"] == "Hello from A"

    # The customer holds a stream on B; the agent answers and types through A.
    customer = Stream(
        f"{b.base}/api/v1/portal/chats/{chat['id']}/stream",
        {"Authorization": f"Bearer {chat['token']}"},
    )
    assert customer.until("chat.message")[1].data["message"]["body"] == "Hello from A"
    typed = httpx.post(f"{a.base}/api/v1/chats/{chat['id']}/typing", headers=admin)
    assert typed.status_code == 204, typed.text
    assert customer.until("typing")[1].data["who"] == "staff"
    answer = httpx.post(
        f"{a.base}/api/v1/chats/{chat['id']}/messages", json={"body": "Hi Bob"}, headers=admin
    )
    assert answer.status_code == 201, answer.text
    assert customer.until("chat.message")[1].data["message"]["body"] == "Hi Bob"
    customer.cut()
    staff.cut()
