"""A local webhook receiver for tests: an HTTP server on 127.0.0.1 that records every
request and answers each with the next status of its script (then 200)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from projections.base import current_tables
from projections.db import ViewDatabase

# In a script: answer 200, send the start of a body, then stall (never finish it).
STALL = -200


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[int] = []
        self.lock = threading.Lock()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/in"

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers["webhook-id"] for r in self.received]


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            status = receiver.answer()
            if status == STALL:
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"2\r\nok\r\n")
                self.wfile.flush()
                time.sleep(3)
                return
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def delivered(views: ViewDatabase) -> int:
    """How many webhook deliveries the install has recorded delivered."""
    with views.read() as tx:
        t = current_tables(tx, "webhooks")
        row = tx.one(
            f"SELECT COUNT(*) AS n FROM {t['webhook_deliveries']} WHERE state = 'delivered'"
        )
    return 0 if row is None else int(row["n"])


def attempts(views: ViewDatabase) -> list[dict[str, Any]]:
    """Every recorded delivery attempt: its event's id and the status it met."""
    with views.read() as tx:
        t = current_tables(tx, "webhooks")
        return tx.all(
            f"SELECT d.event_id, a.status FROM {t['webhook_attempts']} a"
            f" JOIN {t['webhook_deliveries']} d ON d.id = a.delivery_id"
        )
