"""A small HTTP load generator for the benchmarks: keep-alive clients in separate processes.

Each client process keeps one connection to 127.0.0.1 and sends the same request again and again, so the
server under test, not the client, sets the pace. Clients live in their own processes so that eight clients
are eight, not eight threads behind one GIL.

`run_load` measures one target for a while. `run_paired` measures a baseline and a subject in alternating
100 ms slices, which is how the benchmarks compare them on a machine whose speed drifts with other work.
"""

from __future__ import annotations

import multiprocessing
import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from queue import Empty
from typing import Any
from urllib.parse import urlsplit

WARM_REQUESTS = 20  # per target and client, before the clock starts


class KeepAliveGet:
    """GET one URL again and again on one kept-alive connection; each call returns the response status.

    Written by hand, not with http.client: http.client parses every response's headers with the email
    package, which costs this machine about 170 us per request, more than a stdlib server takes to answer
    one. A client that slow sets the pace itself and squeezes every ratio towards 1 (a stdlib floor of
    ~5,500 req/s instead of ~12,500). This one sends prebuilt bytes and reads to the end of the body
    announced by Content-Length, which every server measured here sends; it reconnects when the server
    closes the connection, as keep-alive clients do.
    """

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"KeepAliveGet needs an http:// URL with a host, not {url!r}")
        self.address = (parts.hostname, parts.port or 80)
        target = parts.path or "/"
        if parts.query:
            target += f"?{parts.query}"
        lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.sock: socket.socket | None = None

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        return sock

    def __call__(self) -> int:
        sock = self.sock or self._connect()
        sock.sendall(self.request)
        data = b""
        while (end := data.find(b"\r\n\r\n")) < 0:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection before answering")
            data += chunk
        head = data[:end].decode("latin-1")
        status_line, *header_lines = head.split("\r\n")
        length, close = None, False
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection":
                close = value.strip().lower() == "close"
        if length is None:
            raise ValueError(f"no Content-Length in the answer to GET {self.address}: {status_line}")
        body = data[end + 4 :]
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection in the middle of a body")
            body += chunk
        if close:
            sock.close()
            self.sock = None
        return int(status_line.split(" ", 2)[1])

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


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
    get = KeepAliveGet(url, headers)
    while time.time() < start_at:
        time.sleep(0.001)
    done = errors = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if get() != expect:
            errors += 1
        done += 1
    out.put((done, errors))
    get.close()


def _collect(queue: Any, processes: list[Any], *, timeout: float) -> list[Any]:
    """One message from each client process; a clear error as soon as one of them died instead."""
    messages: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(messages) < len(processes):
        try:
            messages.append(queue.get(timeout=0.2))
        except Empty:
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(
                    f"a load client exited with {dead[0].exitcode}: its traceback is above"
                ) from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"the load clients did not answer within {timeout:.0f} s") from None
    return messages


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
    results = _collect(queue, processes, timeout=seconds + 60)
    for process in processes:
        process.join()
    return LoadResult(sum(r[0] for r in results), sum(r[1] for r in results), seconds)


# ------------------------------------------------------------------ paired measurement ---------------------


@dataclass(frozen=True)
class HttpTarget:
    """GET url on one kept-alive connection per client (KeepAliveGet); a status other than expect is an error."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    expect: int = 200


@dataclass(frozen=True)
class GetItemTarget:
    """One DynamoDB get_item per request with a boto3 client: the bare backend baseline."""

    endpoint_url: str
    region: str
    table: str
    key: dict[str, Any]


Target = HttpTarget | GetItemTarget


@dataclass(frozen=True)
class PairedResult:
    """Aggregate rates (requests/s over all clients) of each slot, baseline and subject in turn."""

    baseline: list[float]
    subject: list[float]
    errors: int

    @property
    def ratios(self) -> list[float]:
        """subject / baseline of each pair of adjacent slots."""
        return [s / b for b, s in zip(self.baseline, self.subject, strict=False) if b]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios) if self.ratios else 0.0

    @property
    def quartiles(self) -> tuple[float, float]:
        if len(self.ratios) < 2:
            return self.ratio, self.ratio
        low, _, high = statistics.quantiles(self.ratios, n=4)
        return low, high

    @property
    def baseline_rate(self) -> float:
        return statistics.fmean(self.baseline) if self.baseline else 0.0

    @property
    def subject_rate(self) -> float:
        return statistics.fmean(self.subject) if self.subject else 0.0


def _sender(target: Target | None) -> Callable[[], bool] | None:
    """A function that makes one request of target and tells whether it succeeded."""
    if target is None:
        return None
    if isinstance(target, GetItemTarget):
        import boto3

        client = boto3.client(
            "dynamodb",
            endpoint_url=target.endpoint_url,
            region_name=target.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

        def get_item() -> bool:
            client.get_item(TableName=target.table, Key=target.key)
            return True

        return get_item
    get = KeepAliveGet(target.url, target.headers)
    return lambda: get() == target.expect


def _paired_client(
    targets: tuple[Target | None, Target | None],
    slots: int,
    slice_s: float,
    ready: Any,
    start: Any,
    start_at: Any,
    out: multiprocessing.Queue,
) -> None:
    senders = [_sender(target) for target in targets]
    for send in senders:
        for _ in range(WARM_REQUESTS if send else 0):
            send()  # type: ignore[misc]
    ready.put(True)
    start.wait()
    rates, errors = [0.0] * slots, 0
    for slot in range(slots):
        slot_end = start_at.value + (slot + 1) * slice_s
        send = senders[slot % 2]
        if send is None:
            time.sleep(max(0.0, slot_end - time.time()))
            continue
        # A request still running when its slot ends delays this slot's start; the rate is taken over the
        # time this client actually spent on the slot's target, so the overlap does not bias either side.
        # Every slot gets at least one request, so a stall longer than a slice leaves no empty slot behind.
        done, began = 0, time.perf_counter()
        while True:
            if not send():
                errors += 1
            done += 1
            if time.time() >= slot_end:
                break
        rates[slot] = done / (time.perf_counter() - began)
    out.put((rates, errors))


def run_paired(
    baseline: Target,
    subject: Target,
    *,
    seconds: float = 6.0,
    slice_s: float = 0.1,
    baseline_clients: int = 1,
    subject_clients: int = 1,
) -> PairedResult:
    """Rates of baseline and subject measured in alternating slices of slice_s seconds, all clients in step.

    On a machine shared with other work the rates move by tens of percent from one second to the next.
    Alternating every 100 ms, a change of load lands on both sides of nearly every pair, so the median of
    the pairs' ratios is steady where separately timed runs are not. Each client is a process of its own
    (eight clients are eight, not eight threads behind one GIL); client i takes part in the baseline's
    slices if i < baseline_clients and in the subject's if i < subject_clients.
    """
    clients = max(baseline_clients, subject_clients)
    slots = 2 * max(1, round(seconds / (2 * slice_s)))
    context = multiprocessing.get_context("spawn")
    ready, out = context.Queue(), context.Queue()
    start, start_at = context.Event(), context.Value("d", 0.0)
    processes = [
        context.Process(
            target=_paired_client,
            args=(
                (baseline if i < baseline_clients else None, subject if i < subject_clients else None),
                slots,
                slice_s,
                ready,
                start,
                start_at,
                out,
            ),
        )
        for i in range(clients)
    ]
    for process in processes:
        process.start()
    _collect(ready, processes, timeout=120)
    start_at.value = time.time() + 0.05
    start.set()
    results = _collect(out, processes, timeout=seconds + 120)
    for process in processes:
        process.join()
    totals = [sum(rates[slot] for rates, _ in results) for slot in range(slots)]
    return PairedResult(totals[0::2], totals[1::2], sum(errors for _, errors in results))
