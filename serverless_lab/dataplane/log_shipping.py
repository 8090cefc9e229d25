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
from collections.abc import Callable

Write = Callable[[str, str, list[tuple[int, str]]], None]
_logger = logging.getLogger(__name__)


class LogShipper:
    """A background writer of (log group, log stream, events) batches."""

    def __init__(self, write: Write, *, linger_s: float = 0.25) -> None:
        self._write = write
        # Lines wait up to linger_s for more of their kind, so that a busy function costs the backend one
        # PutLogEvents per stream and quarter second, not one per invocation (moto answers both the logs
        # and the handler's DynamoDB calls, in one process).
        self._linger_s = linger_s
        self._flushing = threading.Event()
        self._queue: queue.Queue[tuple[str, str, list[tuple[int, str]]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ship(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        if not events:
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)
                self._thread.start()
        self._queue.put((group, stream, list(events)))

    def flush(self) -> None:
        """Returns once every batch queued before the call is written."""
        if self._thread is not None and self._thread.is_alive():
            self._flushing.set()
            try:
                self._queue.join()
            finally:
                self._flushing.clear()

    def close(self) -> None:
        self.flush()
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                self._queue.task_done()
                return
            # Everything queued meanwhile goes out with it: one write per stream, lines kept in order.
            self._flushing.wait(self._linger_s)
            batches = [first]
            while True:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    self._queue.task_done()
                    break
                batches.append(more)
            merged: dict[tuple[str, str], list[tuple[int, str]]] = {}
            for group, stream, events in batches:
                merged.setdefault((group, stream), []).extend(events)
            for (group, stream), events in merged.items():
                try:
                    self._write(group, stream, events)
                except Exception:  # the backend went away: the function's answer was already given
                    _logger.exception("Could not write logs to %s", group)
            for _ in batches:
                self._queue.task_done()
