"""The chat benchmark's raw baseline: the same transport with none of ledgerdesk's work — an
SSE echo served by the same server (uvicorn, sse-starlette). `POST /echo` hands its body to
every open `GET /stream` at once; nothing is written anywhere.

`python -m bench.sse_echo PORT`."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import uvicorn
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

LISTENERS: set[asyncio.Queue[str]] = set()


async def stream(request: Request) -> EventSourceResponse:
    queue: asyncio.Queue[str] = asyncio.Queue()
    LISTENERS.add(queue)

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            yield ServerSentEvent(event="stream.ready", data="{}")
            while True:
                yield ServerSentEvent(event="echo", data=await queue.get())
        finally:
            LISTENERS.discard(queue)

    return EventSourceResponse(events(), ping=15)


async def echo(request: Request) -> Response:
    body = (await request.body()).decode()
    for queue in list(LISTENERS):
        queue.put_nowait(body)
    return Response(status_code=204)


async def health(request: Request) -> Response:
    return Response(status_code=200)


app = Starlette(
    routes=[
        Route("/stream", stream),
        Route("/echo", echo, methods=["POST"]),
        Route("/health", health),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
