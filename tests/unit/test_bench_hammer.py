"""The benchmarks' load driver fails, never hangs, when a worker cannot start."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench.common import hammer


def test_a_worker_that_cannot_start_fails_the_run_instead_of_hanging_it() -> None:
    def make_worker(i: int) -> Callable[[], None]:
        if i == 3:
            raise ConnectionError("sorry, too many clients already")
        return lambda: None

    with pytest.raises(RuntimeError, match="too many clients"):
        hammer(8, 0.1, make_worker)


def test_workers_that_start_are_counted() -> None:
    done = hammer(2, 0.05, lambda i: lambda: None)
    assert done.operations > 0
    assert done.failures == 0
