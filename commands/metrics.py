"""What every process counts for `/metrics`: requests, commands, events, worker messages, mail
and open streams (prometheus-client).

A long-running process (`serve`, `worker`, `projections run`, `mail serve`) calls
`enable_multiprocess` first: its samples then go to files in a directory shared by the
processes of its machine, and whichever API process is scraped answers for all of them
(prometheus-client's multi-process mode). Without it (tests, one-off commands) the samples
stay in the process. prometheus-client chooses between the two when it is first imported,
so it is imported here only when a first sample is taken, never at import.

What the database knows (each view's position and lag, the outbox's backlog) is read when
`/metrics` is scraped, not counted here.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram

log = logging.getLogger("ledgerdesk.metrics")
ENV = "PROMETHEUS_MULTIPROC_DIR"
# Request latency buckets, in seconds (a read that waits for the views may take seconds).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class Instruments:
    requests: Counter
    request_seconds: Histogram
    commands: Counter
    events: Counter
    worker_messages: Counter
    mail_received: Counter
    mail_quarantined: Counter
    mail_sent: Counter
    open_streams: Gauge


_lock = threading.Lock()
_made: Instruments | None = None
_complained = False
# The methods counted by name; any other (a client may send any token) is `OTHER`.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
P = ParamSpec("P")


def instruments() -> Instruments:
    """The process's instruments, made (and prometheus-client imported) once, on first use,
    whichever thread comes first."""
    global _made
    if _made is None:
        with _lock:
            if _made is None:
                _made = _make()
    return _made


def _make() -> Instruments:
    from prometheus_client import Counter, Gauge, Histogram

    return Instruments(
        requests=Counter(
            "ledgerdesk_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
        ),
        request_seconds=Histogram(
            "ledgerdesk_http_request_duration_seconds",
            "How long HTTP requests took to answer, by method, route template and status"
            " class (2xx, 4xx, 5xx).",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
        ),
        commands=Counter(
            "ledgerdesk_commands",
            "Commands run, by command and outcome (saved, refused, failed).",
            ["command", "outcome"],
        ),
        events=Counter(
            "ledgerdesk_events",
            "Events appended to the log, by event type.",
            ["type"],
        ),
        worker_messages=Counter(
            "ledgerdesk_worker_messages",
            "Messages the workers took, by actor and outcome"
            " (done, duplicate, switched_off, failed).",
            ["actor", "outcome"],
        ),
        mail_received=Counter(
            "ledgerdesk_mail_received",
            "Mail received, by transport (smtp, imap, http, pipe, release) and what became of it.",
            ["transport", "outcome"],
        ),
        mail_quarantined=Counter(
            "ledgerdesk_mail_quarantined",
            "Mail held in the quarantine, by reason.",
            ["reason"],
        ),
        mail_sent=Counter(
            "ledgerdesk_mail_sent",
            "Outgoing mail attempts, by outcome (sent, failed, retried).",
            ["outcome"],
        ),
        open_streams=Gauge(
            "ledgerdesk_open_streams",
            "Real-time streams (server-sent events) open now, by kind.",
            ["kind"],
            multiprocess_mode="livesum",
        ),
    )


def enable_multiprocess(directory: Path) -> bool:
    """Keep this process's samples in `directory` (made if missing), beside those of the
    machine's other processes. False (and a warning) if prometheus-client was already
    imported in single-process mode: the samples then stay in this process."""
    with _lock:
        directory.mkdir(parents=True, exist_ok=True)
        if not os.access(directory, os.W_OK | os.X_OK):
            raise PermissionError(f"{directory} is not writable by this user")
        if os.environ.get(ENV) == str(directory):
            return True
        import sys

        if "prometheus_client" in sys.modules:
            log.warning("metrics stay in this process: prometheus-client was already imported")
            return False
        os.environ[ENV] = str(directory)
        from prometheus_client import multiprocess

        # A dead process with this process's id (a reused id, a container's pid 1) left its
        # live gauges behind: this process would start from its open streams. (A scrape may
        # be removing them at the same moment.)
        with suppress(FileNotFoundError):
            multiprocess.mark_process_dead(os.getpid(), str(directory))  # type: ignore[no-untyped-call]
        atexit.register(_gone, os.getpid())
        return True


def _gone(pid: int) -> None:
    """At a clean exit: this process's live gauges (its open streams) no longer count."""
    if os.getpid() != pid or ENV not in os.environ:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def forget_dead_processes(directory: Path) -> None:
    """Drop the live gauges of processes that died without a clean exit (kill -9): their
    counters stay (what they counted happened), their open streams are gone."""
    from prometheus_client import multiprocess

    for path in directory.glob("gauge_live*_*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            # Another scrape (or the process's own exit) may have removed it meanwhile.
            with suppress(FileNotFoundError):
                multiprocess.mark_process_dead(int(pid), str(directory))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def harmless(count: Callable[P, None]) -> Callable[P, None]:
    """A count that never fails what it counts: it runs after a commit, a sent mail, an
    answer, so its error (a full disk under the metrics directory, say) is logged, once,
    and the work goes on as if it had not been counted."""

    @wraps(count)
    def counting(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            count(*args, **kwargs)
        except Exception:  # noqa: BLE001 - logged (once) by _complain
            _complain()

    return counting


def _complain() -> None:
    """Log the first failed count of this process (with its traceback), and no other."""
    global _complained
    if not _complained:
        _complained = True
        log.exception("metrics: a count failed; the work it counted stands")


def command_name(decide: Any) -> str:
    """A command's name from the function that decides it: `TeamService.rename` for a
    lambda or a local function inside that method (bounded by the code, never by data)."""
    name = getattr(decide, "__qualname__", None) or type(decide).__name__
    return str(name).split(".<locals>", 1)[0]


@harmless
def count_command(command: str, outcome: str) -> None:
    instruments().commands.labels(command, outcome).inc()


@harmless
def count_events(types: Iterable[str]) -> None:
    events = instruments().events
    for kind in types:
        events.labels(kind).inc()


@harmless
def count_request(method: str, route: str, status: int | None, seconds: float) -> None:
    meters = instruments()
    method = method if method in METHODS else "OTHER"
    code = str(status) if status else "none"
    meters.requests.labels(method, route, code).inc()
    group = f"{code[0]}xx" if status else "none"
    meters.request_seconds.labels(method, route, group).observe(seconds)


@harmless
def count_worker_message(actor: str, outcome: str) -> None:
    instruments().worker_messages.labels(actor, outcome).inc()


@harmless
def count_mail_received(transport: str, outcome: str, reason: str | None) -> None:
    """One message received; `reason` is the quarantine reason's name when it is held."""
    meters = instruments()
    meters.mail_received.labels(transport, outcome).inc()
    if outcome == "quarantined":
        meters.mail_quarantined.labels(reason or "unknown").inc()


@harmless
def count_mail_sent(outcome: str) -> None:
    instruments().mail_sent.labels(outcome).inc()


@contextmanager
def stream_open(kind: str) -> Iterator[None]:
    """Counts a real-time stream as open while the block runs (never failing it, and never
    taking off what could not be put on)."""
    counted = _move_streams(kind, 1)
    try:
        yield
    finally:
        if counted:
            _move_streams(kind, -1)


def _move_streams(kind: str, by: int) -> bool:
    try:
        instruments().open_streams.labels(kind).inc(by)
    except Exception:  # noqa: BLE001 - logged (once) by _complain
        _complain()
        return False
    return True
