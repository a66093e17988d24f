"""Webhooks: deliveries per second to a local receiver by two worker threads, against the
same HTTP POSTs sent raw from one process.

ledgerdesk (PostgreSQL, the embedded in-memory broker, `worker_threads=2`): one webhook on
`item.created` at a receiver on 127.0.0.1 (allowed by LEDGERDESK_WEBHOOK_ALLOWED_HOSTS);
`EVENTS` tickets opened while no worker runs, so their `webhooks.publish` messages wait in
the outbox; then the workers start, and the clock runs until the receiver has every
delivery: each published (the event looked up in the `feed` view, the subscriptions in
`webhooks`), claimed in the write model, signed, POSTed to the judged address, recorded.
Raw: the same number of POSTs of a body of the same size, with the same headers, from one
thread, a new connection each (as each delivery makes one, with the certificates loaded
once), to the same receiver.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from bench.common import Figure, migrated, pg_schema, pg_settings, say, scratch_dir, show
from commands.models import Context, OpenTicket
from domain.values import Actor

EVENTS = 2_000
SMOKE_EVENTS = 20
ADMIN = Context(actor=Actor.system("bench"), correlation_id="bench-webhooks")


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.wanted = 0

    def hit(self) -> None:
        with self.lock:
            self.count += 1
            if self.count >= self.wanted:
                self.done.set()


@contextmanager
def receiver() -> Iterator[tuple[str, Counter]]:
    counter = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            counter.hit()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/in", counter
    finally:
        server.shutdown()
        server.server_close()


def run(smoke: bool = False) -> list[Figure]:
    events = SMOKE_EVENTS if smoke else EVENTS
    with scratch_dir() as data, pg_schema() as schema, receiver() as (url, counter):
        settings = pg_settings(schema, data).model_copy(
            update={"worker_threads": 2, "webhook_allowed_hosts": "127.0.0.1"}
        )
        with migrated(settings) as c:
            c.follow()
            c.webhooks.subscribe("webhook", url, ["item.created"], None, ADMIN)
            say(f"webhooks: {events:,} tickets opened while no worker runs")
            for n in range(events):
                c.commands.open_ticket(OpenTicket(title=f"Webhook {n}"), ADMIN)
            assert c.runner.wait_for(c.app.head(), ["outbox", "feed", "webhooks"], 120)
            counter.wanted = events
            started = time.perf_counter()
            c.work()
            if not counter.done.wait(timeout=max(60.0, events * 0.1)):
                raise RuntimeError(f"only {counter.count} of {events} deliveries arrived")
            ours = time.perf_counter() - started
        say(f"webhooks: {events:,} deliveries in {ours:.1f} s; now the raw POSTs")
        body = b"x" * 420  # About an item.created event's size.
        headers = {
            "Content-Type": "application/json",
            "webhook-id": "msg_1",
            "webhook-timestamp": "1",
            "webhook-signature": "v1," + "A" * 44,
        }
        counter.count, counter.wanted = 0, events
        counter.done.clear()
        started = time.perf_counter()
        tls = ssl.create_default_context()
        for _ in range(events):
            with httpx.Client(verify=tls, trust_env=False) as client:
                client.post(url, content=body, headers=headers).raise_for_status()
        raw = time.perf_counter() - started
    figure = Figure(
        name=f"webhook deliveries, 2 worker threads, {events:,} events",
        value=events / ours,
        unit="deliveries/s",
        baseline=events / raw,
        baseline_name="the same POSTs from one thread, raw",
        note=f"{ours:.1f} s vs {raw:.1f} s",
    )
    show(figure)
    return [figure]
