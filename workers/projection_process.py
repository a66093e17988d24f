"""Runs projection runners in threads: in the embedded server, or as their own process."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from projections.runner import ProjectionRunner


class FollowingRunner:
    """Follows the log in background threads until stopped.

    Woken by commits in this process (embedded mode) and, on PostgreSQL, by
    NOTIFY from the event store's inserts in any process.
    """

    def __init__(
        self, runner: ProjectionRunner, channel: str | None, names: Sequence[str] | None = None
    ) -> None:
        self.runner = runner
        self.channel = channel
        self.names = names
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        follow = threading.Thread(
            target=self.runner.run, args=(self.stop, self.names), name="projections", daemon=True
        )
        self.threads.append(follow)
        if self.channel is not None:
            listen = threading.Thread(
                target=self.runner.listen,
                args=(self.channel, self.stop),
                name="listen",
                daemon=True,
            )
            self.threads.append(listen)
        for thread in self.threads:
            thread.start()

    def close(self) -> None:
        self.stop.set()
        self.runner.wake.set()
        for thread in self.threads:
            thread.join(timeout=5)
