"""Liveness, and whether every view follows the log: none has failed, and none stays
behind the log."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request

from api.deps import ServicesDep
from api.read_your_writes import bearer_credential
from api.responses import OrjsonResponse
from api.schemas import Health
from api.tags import Tag
from domain.errors import DomainError
from domain.user import Scope

router = APIRouter(prefix="/api/v1", tags=[Tag.HEALTH])

# A view that has not reached, within this long, a head the log had is behind.
BEHIND_AFTER_SECONDS = 10.0


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
