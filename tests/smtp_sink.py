"""A real SMTP server that keeps what it is sent (aiosmtpd), for tests of mail out; it can
refuse chosen recipients with a given code, as a real server would."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    to: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Sink:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    # recipient address -> SMTP code to refuse it with (550 for good, 451 for now).
    refuse: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.to]

    def all(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        code = self.refuse.get(address.lower())
        if code is not None:
            return f"{code} {'5.1.1 no such user' if code >= 500 else '4.2.0 try later'}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.append(
                Received(
                    envelope.mail_from, [a.lower() for a in envelope.rcpt_tos], envelope.content
                )
            )
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_sink() -> Iterator[Sink]:
    sink = Sink("127.0.0.1", free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
