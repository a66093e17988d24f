"""A small HTTP load generator, used when `wrk` is not installed (run as its own process).

`python -m bench.loadgen URL --connections 16 --seconds 10 [--body JSON] [--token T]`
prints one JSON line: requests, failures, seconds, p50_ms, p99_ms. Loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from urllib.parse import urlsplit

from bench.stats import percentile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--body")
    parser.add_argument("--token")
    args = parser.parse_args()
    url = urlsplit(args.url)
    if url.hostname not in ("127.0.0.1", "localhost"):
        parser.error("loopback only")
    headers = {"Content-Type": "application/json"}
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    method = "POST" if args.body is not None else "GET"
    deadline = time.perf_counter() + args.seconds
    latencies: list[list[float]] = [[] for _ in range(args.connections)]
    failures = [0] * args.connections

    def client(i: int) -> None:
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                conn.request(method, url.path, body=args.body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                failures[i] += 1
                conn.close()
                conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
                continue
            if response.status >= 400:
                failures[i] += 1
            latencies[i].append(time.perf_counter() - started)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    samples = [s for per_thread in latencies for s in per_thread]
    print(
        json.dumps(
            {
                "requests": len(samples),
                "failures": sum(failures),
                "seconds": elapsed,
                "p50_ms": percentile(samples, 50) * 1000,
                "p99_ms": percentile(samples, 99) * 1000,
            }
        )
    )


if __name__ == "__main__":
    main()
