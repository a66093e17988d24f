"""Read-your-writes across processes on PostgreSQL: two API processes that follow no views
(`serve --no-follow`) and a `projections run` process. Every write goes through process A
and is read at once, by the same token and without X-Min-Position, through process B."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests import read_your_writes as scenario
from tests.e2e.conftest import split_processes

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("split")]


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Clients, with the same admin token, of API processes A and B; the views are kept by a
    third process."""
    with (
        split_processes(tmp_path_factory.mktemp("split")) as (a, b, token),
        httpx.Client(base_url=a.base, headers=token, timeout=60) as write,
        httpx.Client(base_url=b.base, headers=token, timeout=60) as read,
    ):
        yield write, read


def test_a_task_created_through_one_process_is_at_its_location_through_another(
    split: tuple[httpx.Client, httpx.Client],
) -> None:
    scenario.a_new_task_is_at_its_location_at_once(*split)


def test_a_ticket_converted_through_one_process_redirects_through_another(
    split: tuple[httpx.Client, httpx.Client],
) -> None:
    scenario.a_converted_ticket_redirects_at_once(*split)


def test_time_logged_through_one_process_shows_on_the_ticket_through_another(
    split: tuple[httpx.Client, httpx.Client],
) -> None:
    scenario.logged_time_shows_on_the_ticket_at_once(*split)


def test_time_imported_through_one_process_is_listed_through_another(
    split: tuple[httpx.Client, httpx.Client],
) -> None:
    scenario.imported_time_is_listed_at_once(*split, "admin@example.com")


def test_the_other_direction_and_the_same_process_see_the_write_too(
    split: tuple[httpx.Client, httpx.Client],
) -> None:
    write, read = split
    scenario.a_new_task_is_at_its_location_at_once(read, write)
    scenario.a_new_task_is_at_its_location_at_once(write, write)
