"""Ships function logs to CloudWatch Logs in the background, as Lambda does.

On AWS a function's log lines reach CloudWatch Logs asynchronously, after the invocation has answered;
writing them inside the request would add a control-plane round trip to every invocation. The shipper
queues each invocation's lines and a daemon thread writes them in batches per log stream, in order.
`flush()` waits until everything queued so far is written (a notebook cell that reads the logs right
after an invoke calls it first).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

Write = Callable[[str, str, list[tuple[int, str]]], None]
Batch = tuple[str, str, list[tuple[int, str]]]
_logger = logging.getLogger(__name__)


class LogShipper:
    """A background writer of (log group, log stream, events) batches."""

    def __init__(self, write: Write, *, linger_s: float = 0.25, busy_linger_s: float = 1.0) -> None:
        self._write = write
        # Lines wait linger_s for more of their kind and, while more keep coming, up to busy_linger_s in
        # all: a busy function costs the backend one PutLogEvents per stream and second, not one per
        # invocation or quarter second (moto answers both the logs and the handler's DynamoDB calls, in one
        # process; a PutLogEvents costs it ~2 ms of CPU plus ~8 us per line, and the lab ~1 ms plus ~5 us).
        # A quiet function's lines show after a quarter second, a busy one's within about a second, as on
        # AWS; flush() cuts the wait short.
        self._linger_s = linger_s
        self._busy_linger_s = max(busy_linger_s, linger_s)
        # A SimpleQueue, not a Queue: ship() runs on every invocation and SimpleQueue.put costs a fifth of
        # Queue.put, with no task_done() per batch. flush() queues an Event behind the batches it waits
        # for instead of joining the queue; None asks the thread to stop.
        self._queue: queue.SimpleQueue[Batch | threading.Event | None] = queue.SimpleQueue()
        self._wake = threading.Event()  # set by flush(): stop lingering
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ship(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        if not events:
            return
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)
                    self._thread.start()
        self._queue.put((group, stream, list(events)))

    def flush(self) -> None:
        """Returns once every batch queued before the call is written."""
        if self._thread is not None and self._thread.is_alive():
            written = threading.Event()
            self._queue.put(written)  # behind every batch queued so far
            self._wake.set()
            written.wait()

    def close(self) -> None:
        self.flush()
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            if isinstance(first, threading.Event):  # a flush() with nothing queued before it
                first.set()
                continue
            # Everything queued meanwhile goes out with it: one write per stream, lines kept in order.
            batches = [first]
            flushes: list[threading.Event] = []
            self._gather(batches, flushes)
            merged: dict[tuple[str, str], list[tuple[int, str]]] = {}
            for group, stream, events in batches:
                merged.setdefault((group, stream), []).extend(events)
            for (group, stream), events in merged.items():
                try:
                    self._write(group, stream, events)
                except Exception:  # the backend went away: the function's answer was already given
                    _logger.exception("Could not write logs to %s", group)
            for written in flushes:
                written.set()

    def _gather(self, batches: list[Batch], flushes: list[threading.Event]) -> None:
        """Adds what is queued while the lines linger: linger_s, then as long as more keep coming, up to
        busy_linger_s in all; no longer once a flush() or close() is waiting."""
        deadline = time.monotonic() + self._busy_linger_s
        while True:
            self._wake.wait(max(0.0, min(self._linger_s, deadline - time.monotonic())))
            self._wake.clear()
            arrived = 0
            while True:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:  # close(): write what we have, then whatever follows, then stop
                    self._queue.put(None)
                    return
                if isinstance(more, threading.Event):
                    flushes.append(more)
                    continue
                batches.append(more)
                arrived += 1
            if flushes or not arrived or time.monotonic() >= deadline:
                return
