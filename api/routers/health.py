"""Liveness, and whether every view follows the log."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from api.deps import ServicesDep
from api.responses import OrjsonResponse
from api.schemas import Health
from api.tags import Tag

router = APIRouter(prefix="/api/v1", tags=[Tag.HEALTH])


@router.get("/health", summary="Is the service up?", responses={200: {"model": Health}})
def health(svc: ServicesDep) -> OrjsonResponse:
    """Answers 200 while the process serves requests; needs no token. `degraded` names the
    views that have stopped following the log: still 200, since every other view and every
    write still work."""
    failed = svc.runner.failures()
    if not failed:
        return OrjsonResponse({"status": "ok"})
    return OrjsonResponse({"status": "degraded", "failed_views": [asdict(f) for f in failed]})
