"""An endless chunked body, without a token, against a real server process: the server stops
reading at the limit and its memory stays flat (it once grew to 6.4 GB before its 401)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Served

MiB = 1024 * 1024
OFFERED = 640 * MiB  # What the client would send if the server kept reading.
BOUNDARY = "endless"
BODIES = {
    "json": ("/api/v1/tickets", "application/json", b'{"title": "'),
    "upload": (
        "/api/v1/timesheets/import",
        f"multipart/form-data; boundary={BOUNDARY}",
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="t.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode(),
    ),
}


def memory_kib(pid: int, field: str) -> int:
    """`VmRSS` (resident now) or `VmHWM` (the peak resident) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


class Endless:
    """A chunked body that goes on until OFFERED bytes, counting what was taken."""

    def __init__(self, first: bytes) -> None:
        self.first = first
        self.taken = 0

    def __iter__(self) -> Iterator[bytes]:
        chunk = b"x" * MiB
        yield self.first
        while self.taken < OFFERED:
            self.taken += len(chunk)
            yield chunk


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(BODIES))
def test_an_endless_chunked_body_is_cut_off_and_the_server_memory_stays_flat(
    served: tuple[Served, str], kind: str
) -> None:
    server, _ = served
    path, content_type, first = BODIES[kind]
    pid = server.process.pid
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # The peak (VmHWM) starts again from now.
    resident_before = memory_kib(pid, "VmRSS")
    # When an endless body is streamed without a token
    body = Endless(first)
    try:
        answer: int | str = httpx.post(
            server.base + path,
            content=iter(body),
            headers={"Content-Type": content_type},
            timeout=60,
        ).status_code
    except httpx.TransportError as error:
        answer = f"closed: {error!r}"
    # Then the server answered 413 or closed the connection, long before the body ended
    assert answer == 413 or str(answer).startswith("closed"), answer
    assert body.taken < OFFERED // 8, body.taken
    # And its peak memory grew by far less than what it was offered (or even sent)
    peak_growth = (memory_kib(pid, "VmHWM") - resident_before) * 1024
    assert peak_growth < 64 * MiB, (peak_growth, body.taken)
    assert server.process.poll() is None, server.output()
    # And it still serves
    assert httpx.get(f"{server.base}/api/v1/health", timeout=10).status_code == 200
