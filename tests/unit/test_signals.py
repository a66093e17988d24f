"""The long-running commands stop on SIGTERM even when the kernel hands the signal to
another thread than the one waiting for it."""

from __future__ import annotations

import signal
import threading
import time

from ledgerdesk.signals import stop_on_signals, wait_for


def test_a_signal_caught_by_another_thread_still_ends_the_wait() -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    stop = stop_on_signals()
    gave_up = threading.Event()

    def give_up() -> None:  # Only if the signal never ended the wait.
        gave_up.set()
        stop.set()

    sleeper = threading.Thread(target=time.sleep, args=(3,), daemon=True)
    sleeper.start()
    assert sleeper.ident is not None
    kill = threading.Timer(0.2, signal.pthread_kill, (sleeper.ident, signal.SIGTERM))
    watchdog = threading.Timer(10, give_up)
    try:
        kill.start()
        watchdog.start()
        # When SIGTERM reaches a thread that is not waiting
        wait_for(stop)
        # Then the wait ends because of it, not because the watchdog gave up
        assert not gave_up.is_set()
    finally:
        kill.cancel()
        watchdog.cancel()
        for sig, handler in before.items():
            signal.signal(sig, handler)
