"""A small HTTP load generator for the benchmarks: keep-alive clients in separate processes.

Each client process opens one http.client connection to 127.0.0.1 and sends the same request again and
again for a fixed time, so the server under test, not the client, sets the pace. Clients live in their own
processes so that eight clients are eight, not eight threads behind one GIL.
"""

from __future__ import annotations

import http.client
import multiprocessing
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _client(
    url: str,
    headers: dict[str, str],
    seconds: float,
    expect: int,
    start_at: float,
    out: multiprocessing.Queue,
) -> None:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    while time.time() < start_at:
        time.sleep(0.001)
    done = errors = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        done += 1
        if response.status != expect:
            errors += 1
    out.put((done, errors))
    connection.close()


def run_load(
    url: str,
    *,
    clients: int = 1,
    seconds: float = 2.0,
    headers: dict[str, str] | None = None,
    expect: int = 200,
) -> LoadResult:
    """Requests per second that `clients` keep-alive connections get from url in `seconds`."""
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = context.Queue()
    start_at = time.time() + 0.5 + 0.1 * clients  # all clients start together, after they are spawned
    processes = [
        context.Process(target=_client, args=(url, headers or {}, seconds, expect, start_at, queue))
        for _ in range(clients)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=seconds + 60) for _ in processes]
    for process in processes:
        process.join()
    return LoadResult(sum(r[0] for r in results), sum(r[1] for r in results), seconds)
