"""A small HTTP load generator for the benchmarks: keep-alive clients in separate processes.

Each client process keeps one connection to 127.0.0.1 and sends the same request again and again, so the
server under test, not the client, sets the pace. Clients live in their own processes so that eight clients
are eight, not eight threads behind one GIL.

`run_paired` measures a baseline and a subject in alternating 100 ms slices, which is how the benchmarks
compare them on a machine whose speed drifts with other work; `run_paired_inline` does the same for two
calls made in the calling process. Each pair of slices runs in the opposite order to the one before (baseline
then subject, subject then baseline): measured on the 2-core reference machine, the second slice of a pair
ran 1-2% faster than the first with the same target in both, which a fixed order would have credited to
the subject. `run_load` drives one target for a while and reports what the clients
themselves cost, so a benchmark can split the CPU time of a request between the processes it crosses.
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


def sender(target: Target) -> Callable[[], bool]:
    """A function that makes one request of target and tells whether it succeeded."""
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


def pair_order(slots: int) -> list[int]:
    """Which side each slot measures (0 baseline, 1 subject): pairs of adjacent slots, in the order 0, 1 for
    even pairs and 1, 0 for odd ones, so that neither side always runs first."""
    return [(slot % 2) ^ ((slot // 2) % 2) for slot in range(slots)]


def split_pairs(rates: list[float], order: list[int]) -> tuple[list[float], list[float]]:
    """The per-slot rates as (baseline, subject) lists, element i of each from pair i."""
    baseline = [rate for rate, side in zip(rates, order, strict=True) if side == 0]
    subject = [rate for rate, side in zip(rates, order, strict=True) if side == 1]
    return baseline, subject


def _paired_client(
    targets: tuple[Target | None, Target | None],
    slots: int,
    slice_s: float,
    ready: Any,
    start: Any,
    start_at: Any,
    out: multiprocessing.Queue,
) -> None:
    senders = [sender(target) if target else None for target in targets]
    for send in senders:
        for _ in range(WARM_REQUESTS if send else 0):
            send()  # type: ignore[misc]
    ready.put(True)
    start.wait()
    rates, errors = [0.0] * slots, 0
    for slot, side in enumerate(pair_order(slots)):
        slot_end = start_at.value + (slot + 1) * slice_s
        send = senders[side]
        if send is None:
            time.sleep(max(0.0, slot_end - time.time()))
            continue
        rates[slot], failed = _slice(send, slot_end, time.time)
        errors += failed
    out.put((rates, errors))


def _slice(send: Callable[[], object], end: float, clock: Callable[[], float]) -> tuple[float, int]:
    """send() until clock() reaches end: (rate over the time actually spent, calls that answered False).

    A request still running when its slot ends delays the next slot's start; the rate is taken over the
    time spent on this slot's target, so the overlap does not bias either side. Every slot gets at least
    one request, so a stall longer than a slice leaves no empty slot behind.
    """
    done = failed = 0
    began = time.perf_counter()
    while True:
        if send() is False:
            failed += 1
        done += 1
        if clock() >= end:
            break
    return done / (time.perf_counter() - began), failed


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
    return PairedResult(*split_pairs(totals, pair_order(slots)), sum(errors for _, errors in results))


def run_paired_inline(
    baseline: Callable[[], object], subject: Callable[[], object], *, seconds: float, slice_s: float = 0.1
) -> PairedResult:
    """run_paired's alternation for two calls made in this process, one after the other (one client)."""
    for _ in range(WARM_REQUESTS):
        baseline()
        subject()
    order = pair_order(2 * max(1, round(seconds / (2 * slice_s))))
    rates, errors = [], 0
    for side in order:
        rate, failed = _slice((baseline, subject)[side], time.perf_counter() + slice_s, time.perf_counter)
        rates.append(rate)
        errors += failed
    return PairedResult(*split_pairs(rates, order), errors)


# ------------------------------------------------------------------ plain load -------------------------------


@dataclass(frozen=True)
class LoadResult:
    """Requests answered by all clients together, over `seconds`, and the CPU time the clients used."""

    requests: int
    seconds: float
    client_cpu_s: float
    client_pids: tuple[int, ...]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _load_client(target: Target, seconds: float, ready: Any, start: Any, out: multiprocessing.Queue) -> None:
    send = sender(target)
    for _ in range(WARM_REQUESTS):
        send()
    ready.put(True)
    start.wait()
    done = failed = 0
    cpu = time.process_time()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        if send() is False:
            failed += 1
        done += 1
    out.put((done, time.process_time() - cpu, failed))


def run_load(
    target: Target, *, clients: int = 1, seconds: float = 2.0, on_start: Callable[[], object] | None = None
) -> LoadResult:
    """`clients` processes sending requests to target for `seconds`; on_start() runs as they start (to read
    the servers' CPU counters), and the caller reads them again when this returns."""
    context = multiprocessing.get_context("spawn")
    ready, out, start = context.Queue(), context.Queue(), context.Event()
    processes = [
        context.Process(target=_load_client, args=(target, seconds, ready, start, out))
        for _ in range(clients)
    ]
    for process in processes:
        process.start()
    _collect(ready, processes, timeout=120)
    if on_start is not None:
        on_start()
    start.set()
    results = _collect(out, processes, timeout=seconds + 120)
    for process in processes:
        process.join()
    return LoadResult(
        requests=sum(done for done, _, _ in results),
        seconds=seconds,
        client_cpu_s=sum(cpu for _, cpu, _ in results),
        client_pids=tuple(p.pid for p in processes if p.pid is not None),
        errors=sum(failed for _, _, failed in results),
    )
