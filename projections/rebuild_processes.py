"""Rebuilds and audits in parallel processes, on PostgreSQL (ADR 0014).

The views being built are shared out into groups of about equal work (the events each
reads, counted per stored topic): this process builds the heaviest group, and a child
process (`python -m projections.rebuild_processes`) each of the others, every group in one
pass over the log of its own. A child only fills the new generations it was given and
their tracking positions, page by page as this process would; the switch to each new
generation (or the audit's comparison) stays here, per view, under the live row's lock, as
in ADR 0003. A view that fails in a child fails alone there (its generation dropped); a
child that dies fails its own views. Pointless on SQLite (one writer): never used there.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from projections.failures import ViewFailedError
from projections.generations import Generations, Progress, _Target

log = logging.getLogger("ledgerdesk.projections")
EVENTS_PER_PROCESS = 25_000
# How often this process looks at the children's positions (for progress) while it waits.
POLL_SECONDS = 0.5
# A runner over the same log and views, in a child process: picklable (a module-level
# function, or a `functools.partial` of one), used as a context manager that closes it.
RunnerFactory = Callable[[], AbstractContextManager[Generations]]
Job = tuple[str, int, int | None, int]  # view, generation, stop, position


@dataclass(frozen=True)
class RebuildProcesses:
    """Build the targets of a rebuild or audit in up to `processes` processes (this one
    included), each child making its runner with `factory`."""

    factory: RunnerFactory
    processes: int = 2
    # A child takes about a second to start (an interpreter, imports, connections): one
    # is started for every `events_per_process` events the views read, up to `processes`.
    events_per_process: int = EVENTS_PER_PROCESS

    def build(
        self, runner: Generations, targets: Sequence[_Target], progress: Progress | None
    ) -> dict[str, ViewFailedError]:
        counts: dict[str, int] = getattr(runner.log, "topic_counts", dict)()
        read = sum(
            counts.get(topic, 0) for topic in frozenset().union(*(t.topics for t in targets))
        )
        worth = 1 + read // max(self.events_per_process, 1)
        groups = share_out(targets, counts, min(self.processes, worth))
        if len(groups) < 2:
            return runner._build_here(targets, progress)
        children = [_Child(self.factory, runner.rebuild_page_size, group) for group in groups[1:]]
        try:
            failed = runner._build_here(groups[0], progress)
            head = runner.log.head()
            for child in children:
                failed.update(child.wait(runner, progress, head))
        finally:
            for child in children:
                child.stop()
        return failed


def share_out(
    targets: Sequence[_Target], counts: dict[str, int], groups: int
) -> list[list[_Target]]:
    """The targets in at most `groups` groups of about equal work (each view's work: the
    events of its topics in the log), heaviest first: the longest first, each to the group
    with the least work so far."""
    weight = {
        t.projection.name: 1 + sum(counts.get(topic, 0) for topic in t.topics) for t in targets
    }
    shares: list[tuple[int, list[_Target]]] = [(0, []) for _ in range(max(groups, 1))]
    for target in sorted(targets, key=lambda t: -weight[t.projection.name]):
        i = min(range(len(shares)), key=lambda j: shares[j][0])
        total, members = shares[i]
        shares[i] = (total + weight[target.projection.name], [*members, target])
    shares.sort(key=lambda share: -share[0])
    return [members for _, members in shares if members]


class _Child:
    """One group being built in a child process: its job and its answer go through files
    (no pipe to fill up while this process builds its own group)."""

    def __init__(self, factory: RunnerFactory, page_size: int, targets: Sequence[_Target]):
        self.targets = list(targets)
        self.folder = tempfile.TemporaryDirectory(prefix="ledgerdesk-rebuild-")
        folder = Path(self.folder.name)
        self.answer = folder / "answer.pickle"
        jobs: list[Job] = [
            (t.projection.name, t.generation, t.stop, t.position) for t in self.targets
        ]
        (folder / "job.pickle").write_bytes(pickle.dumps((factory, page_size, jobs)))
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", __name__, str(folder / "job.pickle"), str(self.answer)],
            stdin=subprocess.DEVNULL,
        )

    def wait(
        self, runner: Generations, progress: Progress | None, head: int
    ) -> dict[str, ViewFailedError]:
        """Wait for the child (showing its lowest position), then its failures."""
        while True:
            try:
                code = self.process.wait(POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                if progress is not None:
                    progress(self._lowest(runner), head)
        if code == 0 and self.answer.exists():
            # Written by our child into our own private folder (mode 0700).
            failed: dict[str, ViewFailedError] = pickle.loads(self.answer.read_bytes())  # noqa: S301
            return failed
        # Died (killed, out of memory, a fault outside any view): its views fail, each at
        # the position its generation reached, and their half-built generations go.
        failed = {}
        for target in self.targets:
            name = target.projection.name
            position = runner._generation_position(name, target.generation)
            failed[name] = ViewFailedError(
                name, position, f"the rebuild process exited with status {code}"
            )
            runner._discard(target.projection, target.generation)
        return failed

    def _lowest(self, runner: Generations) -> int:
        return min(
            runner._generation_position(t.projection.name, t.generation) for t in self.targets
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.folder.cleanup()


def _build(job: Path, answer: Path) -> None:
    # Written by the parent into its own private folder (mode 0700).
    factory, page_size, jobs = pickle.loads(job.read_bytes())  # noqa: S301
    with factory() as runner:
        runner.rebuild_page_size = page_size
        targets = []
        for name, generation, stop, position in jobs:
            target = runner._target(runner.projection(name), generation, stop)
            target.position = position
            targets.append(target)
        started = time.perf_counter()
        failed = runner._build_here(targets, None)
        log.info("rebuilt %d views in %.1f s", len(targets), time.perf_counter() - started)
    # Written aside and renamed: the parent reads a whole answer or none.
    aside = answer.with_suffix(".partial")
    aside.write_bytes(pickle.dumps(failed))
    os.replace(aside, answer)


if __name__ == "__main__":
    _build(Path(sys.argv[1]), Path(sys.argv[2]))
