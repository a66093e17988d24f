"""Liveness."""

from __future__ import annotations

from fastapi import APIRouter

from api.responses import OrjsonResponse
from api.schemas import Health
from api.tags import Tag

router = APIRouter(prefix="/api/v1", tags=[Tag.HEALTH])


@router.get("/health", summary="Is the service up?", responses={200: {"model": Health}})
def health() -> OrjsonResponse:
    """Answers 200 while the process serves requests; needs no token."""
    return OrjsonResponse({"status": "ok"})
