"""Liveness, and whether every view follows the log: none has failed, and none stays
behind the log. `/health/live` answers while the process does; `/health/ready` while it can
serve: the database and the broker answer, no view has failed or lags too far."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request

from api.deps import ServicesDep
from api.read_your_writes import bearer_credential
from api.responses import OrjsonResponse
from api.schemas import Health, Liveness, Readiness
from api.tags import Tag
from domain.errors import DomainError
from domain.user import Scope

router = APIRouter(prefix="/api/v1", tags=[Tag.HEALTH])

# A view that has not reached, within this long, a head the log had is behind.
BEHIND_AFTER_SECONDS = 10.0
# A readiness check that takes longer than this has failed (a probe must answer promptly).
CHECK_SECONDS = 3.0
# A check's answer serves the probes that come within this long of it.
FRESH_SECONDS = 1.0

log = logging.getLogger("ledgerdesk.health")


class Probe:
    """One kind of readiness check, run at most once at a time in a daemon thread of its own:
    probes that come while it runs wait for its answer (up to CHECK_SECONDS), and one that
    hangs on a dead server is not started again until it ends — so probes never pile up
    threads or connections, and each check is blamed for its own slowness only."""

    def __init__(self, what: str, check: Callable[[], object]) -> None:
        self.what, self.check = what, check
        self._lock = threading.Lock()
        self._done: threading.Event | None = None
        self._answer: tuple[object, str | None] = (None, None)
        self._at = 0.0

    def start(self) -> threading.Event:
        with self._lock:
            done = self._done
            stale = (
                done is not None and done.is_set() and time.monotonic() - self._at > FRESH_SECONDS
            )
            if done is None or stale:
                done = self._done = threading.Event()
                threading.Thread(target=self._run, args=(done,), daemon=True).start()
            return done

    def answer(self, done: threading.Event) -> tuple[object, str | None]:
        """The check's value, or None and what is wrong. The error is logged, not answered:
        it may name hosts and users."""
        if not done.wait(CHECK_SECONDS):
            return None, f"{self.what} did not answer within {CHECK_SECONDS:g} s"
        return self._answer

    def _run(self, done: threading.Event) -> None:
        try:
            answer: tuple[object, str | None] = (self.check(), None)
        except Exception as error:  # noqa: BLE001 - any failure of the check is the answer
            log.warning("readiness: %s: %s", self.what, error)
            answer = (None, f"{self.what} does not answer ({type(error).__name__})")
        self._answer, self._at = answer, time.monotonic()
        done.set()


def _probes(request: Request, svc: ServicesDep) -> dict[str, Probe]:
    state = request.app.state
    if not hasattr(state, "probes"):

        def database() -> list[Any]:
            with svc.views.read() as tx:
                tx.one("SELECT 1 AS one")
            return svc.runner.status()  # reads the log's head and every view's position

        state.probes = {"database": Probe("the database", database)}
        if svc.broker_check is not None:
            state.probes["broker"] = Probe("the broker", svc.broker_check)
    probes: dict[str, Probe] = state.probes
    return probes


class HeadSamples:
    """The log's head as this process saw it at earlier health checks."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self.clock = clock
        self._samples: deque[tuple[float, int]] = deque(maxlen=64)
        self._lock = threading.Lock()

    def settled(self, head: int) -> int | None:
        """Note `head` now; answer the newest head seen at least BEHIND_AFTER_SECONDS ago
        (every view should have reached it), None if there is none yet."""
        now = self.clock()
        with self._lock:
            old = [h for t, h in self._samples if now - t >= BEHIND_AFTER_SECONDS]
            if not self._samples or now - self._samples[-1][0] >= 1.0:
                self._samples.append((now, head))
            return old[-1] if old else None


def _samples(request: Request) -> HeadSamples:
    state = request.app.state
    if not hasattr(state, "head_samples"):
        state.head_samples = HeadSamples()
    samples: HeadSamples = state.head_samples
    return samples


def _is_admin(svc: ServicesDep, request: Request) -> bool:
    credential = bearer_credential(request.headers)
    if credential is None:
        return False
    try:
        caller = svc.accounts.authenticate(credential)
        return caller.user.is_admin and Scope.ADMIN.value in caller.scopes
    except DomainError:
        return False


@router.get("/health", summary="Is the service up?", responses={200: {"model": Health}})
def health(svc: ServicesDep, request: Request) -> OrjsonResponse:
    """Answers 200 while the process serves requests; needs no token. `degraded` names the
    views that have failed (`failed_views`) or stay behind the log (`behind_views`: a view
    that has not reached, within 10 s, a position the log had): still 200, since every
    other view and every write still work. The error of a failed view is shown to admins
    only."""
    status = svc.runner.status()
    settled = _samples(request).settled(status[0].head if status else 0)
    admin = _is_admin(svc, request)
    failed = []
    for view in status:
        if view.failure is not None:
            shown = asdict(view.failure)
            if not admin:
                shown.pop("error")
            failed.append(shown)
    behind = [
        {"view": v.view, "position": v.position, "head": v.head}
        for v in status
        if v.failure is None and settled is not None and v.position < settled
    ]
    if not failed and not behind:
        return OrjsonResponse({"status": "ok"})
    answer: dict[str, Any] = {"status": "degraded", "failed_views": failed}
    if behind:
        answer["behind_views"] = behind
    return OrjsonResponse(answer)


@router.get(
    "/health/live",
    summary="Does the process answer?",
    responses={200: {"model": Liveness}},
)
async def live() -> OrjsonResponse:
    """Always 200 while the process answers; checks nothing else (needs no token). A
    supervisor restarts a process that stops answering this."""
    return OrjsonResponse({"status": "ok"})


@router.get(
    "/health/ready",
    summary="Can this process serve traffic?",
    responses={200: {"model": Readiness}, 503: {"model": Readiness}},
)
def ready(svc: ServicesDep, request: Request) -> OrjsonResponse:
    """200 when the database (the event store and the views) answers, the broker answers
    (when one is configured), no view has failed and none lags the log by more than
    LEDGERDESK_READY_MAX_VIEW_LAG events; else 503, and `problems` names what is wrong.
    Needs no token; a view's error is never shown here (admins see it on `/health`)."""

    probes = _probes(request, svc)
    started = {kind: probe.start() for kind, probe in probes.items()}  # the checks at once
    answers = {kind: probes[kind].answer(done) for kind, done in started.items()}
    problems = [wrong for _, wrong in answers.values() if wrong is not None]
    status, _ = answers["database"]
    checks = {kind: "ok" if wrong is None else "failed" for kind, (_, wrong) in answers.items()}
    checks.setdefault("broker", "not configured")
    views = status if isinstance(status, list) else []
    failed = [v for v in views if v.failure is not None]
    lagging = [v for v in views if v.failure is None and v.lag > svc.ready_max_view_lag]
    problems += [f"view {v.view} has failed at position {v.position}" for v in failed]
    problems += [
        f"view {v.view} is {v.lag} events behind the log (more than {svc.ready_max_view_lag})"
        for v in lagging
    ]
    if not isinstance(status, list):
        checks["views"] = "unknown"  # The database does not say.
    else:
        checks["views"] = "failed" if failed or lagging else "ok"
    answer = {
        "status": "not ready" if problems else "ready",
        "checks": checks,
        "problems": problems,
        "failed_views": [v.view for v in failed],
        "lagging_views": [
            {"view": v.view, "position": v.position, "head": v.head, "lag": v.lag} for v in lagging
        ],
    }
    return OrjsonResponse(answer, status_code=503 if problems else 200)
