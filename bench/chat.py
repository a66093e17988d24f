"""The messenger's round trip: a customer posts in a chat, and the agent's staff stream
receives it — with CHATS chats open at once, each with its customer's stream open too —
p95 beside the same transport's raw echo (bench/sse_echo.py: an SSE echo through the same
server, uvicorn and sse-starlette, with none of ledgerdesk's work), and the server's memory
per open stream, both servers measured alike. On PostgreSQL, `ledgerdesk serve` embedded
(views and workers in the process).

Ours: `POST /api/v1/portal/chats/{id}/messages` (the command, its commit, the `live` view,
the stream hub) until the agent's `GET /api/v1/me/stream` sends the message. Raw:
`POST /echo` until the listener's `GET /stream` sends it. The messages go one at a time,
round robin over the chats, alternating ours and raw.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.common import REPO, Figure, latency_figure, pg_schema, say, scratch_dir, show
from bench.http_api import _env, _free_port, _ledgerdesk, _server

CHATS = 200
MESSAGES = 400
SMOKE_CHATS = 5
SMOKE_MESSAGES = 10


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def server_pid(port: int) -> int:
    """The process listening on `port` (this machine's /proc)."""
    found = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=False
    ).stdout
    return int(found.split("pid=")[1].split(",")[0])


class Listener:
    """One SSE stream read in the background: each event's name and data, as they come."""

    def __init__(self, client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> None:
        self.client, self.url, self.headers = client, url, headers
        self.seen: dict[str, asyncio.Future[float]] = {}
        self.ready = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    def expect(self, body: str) -> asyncio.Future[float]:
        found: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.seen[body] = found
        return found

    async def _read(self) -> None:
        async with self.client.stream("GET", self.url, headers=self.headers, timeout=None) as r:
            r.raise_for_status()
            name = ""
            async for line in r.aiter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    self._event(name, line[5:].strip())
                    self.ready.set()

    def _event(self, name: str, data: str) -> None:
        body = None
        if name == "echo":
            body = data
        elif name == "chat.message":
            body = orjson.loads(data)["message"]["body"]
        waiting = self.seen.pop(body, None) if body is not None else None
        if waiting is not None and not waiting.done():
            waiting.set_result(time.perf_counter())


async def _round_trip(listener: Listener, post: Any, body: str) -> float:
    arrived = listener.expect(body)
    started = time.perf_counter()
    await post(body)
    return (await asyncio.wait_for(arrived, 30) - started) * 1000


@contextlib.asynccontextmanager
async def _streams(
    client: httpx.AsyncClient, urls: list[tuple[str, dict[str, str]]]
) -> AsyncIterator[list[Listener]]:
    listeners = [Listener(client, url, headers) for url, headers in urls]
    try:
        yield listeners
    finally:
        for listener in listeners:
            listener.task.cancel()
        await asyncio.gather(*(lis.task for lis in listeners), return_exceptions=True)


async def _measure(base: str, echo: str, token: str, chats: int, messages: int) -> list[Figure]:
    admin = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=chats * 2 + 20, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await client.patch(
            "/api/v1/admin/settings", json={"features": {"anonymous_chats": True}}, headers=admin
        )
        async with _streams(client, [(f"{base}/api/v1/me/stream", admin)]) as (agent,):
            await agent.ready.wait()  # the agent is on duty: chats wait for them
            opened = []
            for n in range(chats):
                visitor = {
                    "body": f"hello {n}",
                    "name": f"Visitor {n}",
                    "email": f"v{n}@example.com",
                }
                answer = await client.post("/api/v1/portal/chats", json=visitor)
                answer.raise_for_status()
                opened.append(answer.json())
            customers = [
                (
                    f"{base}/api/v1/portal/chats/{c['id']}/stream",
                    {"Authorization": f"Bearer {c['token']}"},
                )
                for c in opened
            ]
            pid = server_pid(int(base.rsplit(":", 1)[1]))
            before = rss_mib(pid)
            async with _streams(client, customers) as listening:
                await asyncio.gather(*(lis.ready.wait() for lis in listening))
                ours_mib = (rss_mib(pid) - before) / chats
                async with httpx.AsyncClient(base_url=echo, limits=limits, timeout=30) as raw:
                    raw_figures = await _echo(raw, echo, chats, messages, client, opened, agent)
    ours_ms, raw_ms, raw_mib = raw_figures
    figures = [
        latency_figure(
            f"chat round trip (customer posts -> agent's stream), {chats} open chats and streams",
            ours_ms, raw_ms, note=f"{messages} messages",
            baseline_name="SSE echo through the same server",
        ),
    ]  # fmt: skip
    memory = Figure(
        name="server memory per open stream", value=ours_mib, unit="MiB", baseline=raw_mib,
        baseline_name="SSE echo server, per open stream", note=f"{chats} customer streams",
        lower_is_better=True,
    )  # fmt: skip
    show(memory)
    return [*figures, memory]


async def _echo(
    raw: httpx.AsyncClient,
    echo: str,
    chats: int,
    messages: int,
    client: httpx.AsyncClient,
    opened: list[dict[str, Any]],
    agent: Listener,
) -> tuple[list[float], list[float], float]:
    pid = server_pid(int(echo.rsplit(":", 1)[1]))
    before = rss_mib(pid)
    urls = [(f"{echo}/stream", {}) for _ in range(chats + 1)]
    async with _streams(raw, urls) as (listener, *others):
        await asyncio.gather(listener.ready.wait(), *(o.ready.wait() for o in others))
        raw_mib = (rss_mib(pid) - before) / (chats + 1)
        ours_ms, raw_ms = [], []

        async def post_ours(body: str, chat: dict[str, Any]) -> None:
            answer = await client.post(
                f"/api/v1/portal/chats/{chat['id']}/messages", json={"body": body},
                headers={"Authorization": f"Bearer {chat['token']}"},
            )  # fmt: skip
            answer.raise_for_status()

        async def post_raw(body: str) -> None:
            (await raw.post("/echo", content=body)).raise_for_status()

        for n in range(messages):
            chat = opened[n % len(opened)]
            ours_ms.append(await _round_trip(agent, lambda b, c=chat: post_ours(b, c), f"m{n}"))
            raw_ms.append(await _round_trip(listener, post_raw, f"r{n}"))
    return ours_ms, raw_ms, raw_mib


@contextlib.contextmanager
def _echo_server(port: int, log: Path) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.sse_echo", str(port)], cwd=REPO, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"echo server did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def run(smoke: bool = False) -> list[Figure]:
    chats, messages = (SMOKE_CHATS, SMOKE_MESSAGES) if smoke else (CHATS, MESSAGES)
    with scratch_dir() as scratch, pg_schema() as schema:
        env = _env(schema, scratch / "var")
        init = subprocess.run(
            [*_ledgerdesk(), "init", "--admin-email", "bench@example.com"],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        token = init.stdout.strip().splitlines()[-1]
        with (
            _server(env, _free_port(), scratch / "server.log") as base,
            _echo_server(_free_port(), scratch / "echo.log") as echo,
        ):
            say(f"chat: {chats} chats and streams, {messages} messages")
            return asyncio.run(_measure(base, echo, token, chats, messages))
