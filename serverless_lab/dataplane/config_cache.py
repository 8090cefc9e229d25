"""The control plane's read cache: each boto3 read reused for a short time, refreshed in the background.

A read is reused for `ttl_s`. A read that requests keep using is read again on a background thread shortly
before it expires, so a busy API never waits for the control plane; one that nobody used since it was last
read is left to expire, so an idle lab makes no calls. Either way a request is never served a read older
than `ttl_s`, and clear() makes the next request read synchronously.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
_FAILED = object()


@dataclass
class _Cached:
    value: Any
    read_at: float  # when the read that produced value started
    read: Callable[[], Any] | None = None  # how to read it again, in the background
    ttl_s: float = float("inf")
    used: bool = False  # served from the cache since it was last read
    pending: threading.Event | None = None  # set when the refresher's read of it in flight is done


class ReadCache:
    """Reads by key, each reused for its ttl (default `ttl_s`); thread-safe."""

    def __init__(self, *, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._cache: dict[tuple[str, ...], _Cached] = {}
        self._lock = threading.Lock()
        # clear() bumps the generation: a read that started before it is not stored after it.
        self._generation = 0
        self._refresher: threading.Thread | None = None
        self._refresher_wake = threading.Condition(self._lock)

    def remember(self, key: tuple[str, ...], value: Any) -> None:
        """Keep value under key for good (no read behind it, never refreshed)."""
        with self._lock:
            self._cache[key] = _Cached(value, float("inf"))

    def knows(self, key: tuple[str, ...]) -> bool:
        with self._lock:
            return key in self._cache

    def forget(self, *keys: tuple[str, ...]) -> None:
        with self._lock:
            for key in keys:
                self._cache.pop(key, None)

    def get(self, key: tuple[str, ...], read: Callable[[], T], ttl_s: float | None = None) -> T:
        """read()'s value, reused for ttl_s (default: the cache's ttl_s) under key."""
        now = self.clock()
        ttl = self.ttl_s if ttl_s is None else ttl_s
        # The common case without the lock: a fresh entry already marked used. Every request reads a few
        # entries, and with eight clients the lock was contended on each of them. A dict lookup and
        # attribute reads are atomic under the GIL, and the refresher stores an entry's value before its
        # read_at: a read_at that looks fresh belongs to the value read here or to a newer one.
        entry = self._cache.get(key)
        if entry is not None and entry.used and now - entry.read_at < ttl:
            return entry.value  # type: ignore[no-any-return]
        pending = None
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None:
                if now - entry.read_at < ttl:
                    if not entry.used:
                        # First use since the last read: the refresher reads it again before it expires.
                        entry.used = True
                        if ttl != float("inf") and entry.read is not None:
                            self._wake_refresher()
                    return entry.value  # type: ignore[no-any-return]
                pending = entry.pending
            generation = self._generation
        if pending is not None:
            # Expired while the refresher reads it (a busy backend): wait for that read, which started
            # before this request would have, rather than call the backend twice.
            pending.wait()
            with self._lock:
                entry = self._cache.get(key)
                if entry is not None and self.clock() - entry.read_at < ttl:
                    return entry.value  # type: ignore[no-any-return]
                generation = self._generation
        value = read()
        with self._lock:
            if generation == self._generation:
                self._cache[key] = _Cached(value, now, read, ttl)
        return value

    def clear(self) -> None:
        """Forget every read: the next get() of each key reads again."""
        with self._lock:
            self._cache.clear()
            self._generation += 1

    # --- background refresh -------------------------------------------------------------------------
    # Without it, the first request after an entry expires pays its boto3 reads inline (several ms each
    # second on a busy API). The refresher reads entries that requests use shortly before they expire,
    # stamps them with the time the read started, and drops a read that raced with refresh(); so a change
    # made with boto3 is still served within ttl_s, and the backend gets about as many calls as before (one
    # per entry and ttl_s less the lead, instead of one per ttl_s and a bit). An entry nobody used since
    # its last read is left to expire (an idle lab makes no calls), and a read that fails is left to
    # expire too: the next request reads it and gets the error.

    # How long before expiry a used entry is read again (at most a tenth of its ttl): a busy lab's reads of
    # one API take 5-30 ms, and a read that comes too late costs only what it did before, an inline read.
    _REFRESH_LEAD_S = 0.05
    _REFRESHER_IDLE_S = 5.0  # the thread ends after this long with nothing to refresh

    def _wake_refresher(self) -> None:
        """Called with the lock held, when an entry becomes used."""
        if self._refresher is None:
            self._refresher = threading.Thread(target=self._refresh_loop, name="config-refresh", daemon=True)
            self._refresher.start()
        else:
            self._refresher_wake.notify()

    def _refresh_loop(self) -> None:
        try:
            while True:
                with self._lock:
                    due = self._wait_for_due_entries()
                    if due is None:  # idle: a request that marks an entry used starts a new thread
                        self._refresher = None
                        return
                    generation = self._generation
                    for _, entry in due:
                        entry.used = False  # requests that use it from now on mark it again
                        entry.pending = threading.Event()
                try:
                    for key, entry in due:
                        started = self.clock()
                        try:
                            value = entry.read()  # type: ignore[misc]
                        except Exception:  # left to expire: the next request reads it and gets the error
                            value = _FAILED
                        with self._lock:
                            current = generation == self._generation and self._cache.get(key) is entry
                            if value is _FAILED:
                                entry.read = None  # not tried again, however busy: it expires
                            elif current:
                                entry.value = value  # before read_at: see get()'s lock-free path
                                entry.read_at = started
                            self._end_pending(entry)
                finally:  # a request waiting for one of these reads never waits for good
                    with self._lock:
                        for _, entry in due:
                            self._end_pending(entry)
        finally:
            with self._lock:
                if self._refresher is threading.current_thread():  # ended by an error
                    self._refresher = None

    @staticmethod
    def _end_pending(entry: _Cached) -> None:
        if entry.pending is not None:
            entry.pending.set()
            entry.pending = None

    def _wait_for_due_entries(self) -> list[tuple[tuple[str, ...], _Cached]] | None:
        """The used entries due for a read, once there are some (with the lock held); None after an idle spell."""
        idle_since = time.monotonic()  # real time, whatever the injected clock does
        while True:
            now = self.clock()
            next_due = float("inf")
            due = []
            for key, entry in self._cache.items():
                if not entry.used or entry.read is None or entry.ttl_s == float("inf"):
                    continue
                lead = min(self._REFRESH_LEAD_S, entry.ttl_s / 10)
                refresh_at = entry.read_at + entry.ttl_s - lead
                # Entries due within the lead go in the same round: the reads of one request (its stage,
                # then its function) are due a few ms apart, and each is marked pending at once, so a
                # request that finds one expired waits for the round instead of reading it itself.
                if refresh_at <= now + lead:
                    due.append((key, entry))
                else:
                    next_due = min(next_due, refresh_at)
            if due:
                return due
            if next_due == float("inf"):
                if time.monotonic() - idle_since >= self._REFRESHER_IDLE_S:
                    return None
                self._refresher_wake.wait(self._REFRESHER_IDLE_S)
            else:
                idle_since = time.monotonic()
                # At least a millisecond: an injected clock need not move with real time.
                self._refresher_wake.wait(max(next_due - now, 0.001))
