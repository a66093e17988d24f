"""A Server-Sent Events reader for the stream tests: one connection in a thread of its own,
its events queued as they arrive, and a way to cut it as a dropped network would."""

from __future__ import annotations

import http.client
import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
import uvicorn
from fastapi import FastAPI

from tests.e2e.conftest import free_address


@dataclass(frozen=True)
class Event:
    name: str
    data: Any
    id: str | None


@dataclass
class Stream:
    """An open stream: `status` once it answered, its events in `events`."""

    url: str
    headers: dict[str, str]
    events: queue.Queue[Event | None] = field(default_factory=queue.Queue)
    status: int | None = None
    body: bytes = b""
    comments: int = 0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        self.conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        self.path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.answered = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assert self.answered.wait(15), "the stream did not answer"

    def _read(self) -> None:
        try:
            self.conn.request("GET", self.path, headers=self.headers)
            response = self.conn.getresponse()
            self.status = response.status
            if response.status != 200:
                self.body = response.read()
                self.answered.set()
                return
            self.answered.set()
            name, data, ident = "message", "", None
            while True:
                line = response.fp.readline()
                if not line:
                    break
                text = line.decode().rstrip("\r\n")
                if text.startswith(":"):
                    self.comments += 1
                elif text.startswith("event:"):
                    name = text[6:].strip()
                elif text.startswith("data:"):
                    data += text[5:].strip()
                elif text.startswith("id:"):
                    ident = text[3:].strip()
                elif text == "" and data:
                    self.events.put(Event(name, orjson.loads(data), ident))
                    name, data, ident = "message", "", None
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            pass
        finally:
            self.answered.set()
            self.events.put(None)

    def next(self, timeout: float = 15) -> Event:
        """The next event (fails after `timeout` seconds, or when the stream ended)."""
        try:
            found = self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s") from None
        assert found is not None, "the stream ended"
        return found

    def until(self, name: str, timeout: float = 15) -> tuple[list[Event], Event]:
        """Events up to the first named `name`: those before it, and it."""
        before: list[Event] = []
        deadline = time.monotonic() + timeout
        while True:
            event = self.next(max(deadline - time.monotonic(), 0.01))
            if event.name == name:
                return before, event
            before.append(event)

    def quiet(self, seconds: float) -> list[Event]:
        """Every event that arrives within `seconds` (the stream stays open)."""
        found: list[Event] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            if event is None:
                break
            found.append(event)
        return found

    def cut(self) -> None:
        """Drop the connection, as a lost network would."""
        sock = self.conn.sock
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()
        self.thread.join(timeout=10)


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """`app` served by uvicorn in this process, on a loopback address of its own."""
    host, port = free_address()
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the server stopped before it started"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
