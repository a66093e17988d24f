"""Running until SIGINT or SIGTERM, for the long-running commands."""

from __future__ import annotations

import signal
import threading

# How often the main thread wakes while it waits (see `wait_for`).
WAKE_SECONDS = 0.5


def stop_on_signals(stop: threading.Event | None = None) -> threading.Event:
    """An event set by SIGINT or SIGTERM."""
    stop = stop or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def wait_for(stop: threading.Event) -> None:
    """Block until `stop` is set. The kernel may deliver a signal to any thread, and Python
    runs its handler only when the main thread runs again: a main thread blocked without a
    timeout would never see a SIGTERM that another thread caught, so it wakes now and then."""
    while not stop.wait(WAKE_SECONDS):
        pass
