"""`GET /metrics`: the Prometheus text format, for an operator's scraper only.

Two kinds of figures. What the processes count (requests, commands, events, worker
messages, mail, open streams: `commands.metrics`) comes from every process of this machine
when they share a metrics directory, else from this process. What the database knows (the
log's head, each view's position, lag and failure, the outbox's backlog and the age of its
oldest message) is read at each scrape, so every API process answers the same for it.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import ServicesDep
from api.read_your_writes import bearer_credential
from api.responses import problem
from commands.metrics import ENV, forget_dead_processes, instruments
from projections.base import current_tables
from projections.outbox import OutboxProjection, backlog

router = APIRouter()
log = logging.getLogger("ledgerdesk.metrics")


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, svc: ServicesDep) -> Response:
    """The figures, to a caller with the metrics token or from an operator's address."""
    refused = _refused(request, svc)
    if refused is not None:
        return problem(
            403, "metrics-forbidden", "Metrics are for the operator's scraper",
            refused, request.url.path,
        )  # fmt: skip
    # prometheus-client is imported only now: a process chooses its mode before (see
    # commands.metrics), and importing it earlier would choose for it.
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    instruments()
    shared = os.environ.get(ENV)
    if shared:
        forget_dead_processes(Path(shared))
        counted = CollectorRegistry()
        MultiProcessCollector(counted, shared)  # type: ignore[no-untyped-call]
    else:
        counted = REGISTRY
    known = CollectorRegistry()
    known.register(StoreFigures(svc))
    body = generate_latest(counted) + generate_latest(known)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _refused(request: Request, svc: ServicesDep) -> str | None:
    """Why this caller may not read the metrics (None: it may)."""
    token = svc.metrics_token
    given = bearer_credential(request.headers)
    if token is not None and given is not None:
        if hmac.compare_digest(given.encode(), token.encode()):
            return None
        return "The bearer token is not the metrics token (LEDGERDESK_METRICS_TOKEN)."
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        mapped = getattr(address, "ipv4_mapped", None)
        address = mapped or address
        if any(address in network for network in svc.metrics_networks):
            return None
    if token is None and not svc.metrics_networks:
        return (
            "Metrics are off: set LEDGERDESK_METRICS_TOKEN (scrapers send it as a bearer"
            " token) or LEDGERDESK_METRICS_ADDRESSES (the scrapers' addresses)."
        )
    return (
        "Send the metrics token as a bearer token, or scrape from an address in"
        " LEDGERDESK_METRICS_ADDRESSES."
    )


class StoreFigures:
    """What the database knows, read at the scrape."""

    def __init__(self, svc: Any) -> None:
        self.svc = svc

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        try:
            status = self.svc.runner.status()
        except Exception:
            log.exception("metrics: the views' positions could not be read")
            status = []
        head = GaugeMetricFamily("ledgerdesk_log_head", "The log position of the newest event.")
        position = GaugeMetricFamily(
            "ledgerdesk_view_position", "The log position each view has reached.", labels=["view"]
        )
        lag = GaugeMetricFamily(
            "ledgerdesk_view_lag_events", "How many events each view is behind.", labels=["view"]
        )
        failed = GaugeMetricFamily(
            "ledgerdesk_view_failed",
            "1 while a view has failed (stopped at an event it cannot apply), else 0.",
            labels=["view"],
        )
        attempts = GaugeMetricFamily(
            "ledgerdesk_view_failure_attempts",
            "How many times a failed view has tried its failing event.",
            labels=["view"],
        )
        if status:
            head.add_metric([], status[0].head)
        for view in status:
            position.add_metric([view.view], view.position)
            lag.add_metric([view.view], view.lag)
            failed.add_metric([view.view], 1 if view.failure is not None else 0)
            attempts.add_metric([view.view], view.failure.attempts if view.failure else 0)
        yield from (head, position, lag, failed, attempts)
        yield from self._outbox()

    def _outbox(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        waiting = GaugeMetricFamily(
            "ledgerdesk_outbox_backlog", "Messages the outbox holds that are not yet sent."
        )
        age = GaugeMetricFamily(
            "ledgerdesk_outbox_oldest_age_seconds",
            "How long ago the event that asked for the oldest unsent message happened"
            " (0 when none waits).",
        )
        try:
            with self.svc.views.read() as tx:
                count, oldest = backlog(tx, current_tables(tx, OutboxProjection.name))
            seconds = 0.0
            if oldest is not None:
                seconds = max(0.0, time.time() - self._happened(oldest))
        except Exception:
            log.exception("metrics: the outbox's backlog could not be read")
            return
        waiting.add_metric([], count)
        age.add_metric([], seconds)
        yield from (waiting, age)

    def _happened(self, position: int) -> float:
        """When the event at log `position` happened (a Unix time)."""
        app = self.svc.commands.app
        found = app.recorder.select_notifications(start=position, limit=1)
        if not found:
            return time.time()
        event = app.mapper.to_domain_event(found[0])
        stamp: datetime = event.timestamp
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
