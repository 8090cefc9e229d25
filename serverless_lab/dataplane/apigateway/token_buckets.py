"""API Gateway's token buckets, as its developer guide describes throttling ("Throttle requests to your REST
APIs"): a bucket holds at most `burst` tokens and refills at `rate` tokens per second; a request takes one
token, and a request that finds the bucket empty is throttled (429). A new bucket starts full.

Used for a usage plan's throttle per API key (usage_plans) and for a stage's method throttling
(stage_throttling). A pure core: the clock is injected, the buckets live in the data plane's process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    refilled_at: float


class TokenBuckets:
    """Token buckets by key; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[Hashable, _Bucket] = {}

    def take(self, key: Hashable, rate: float, burst: int) -> bool:
        """Takes a token from the bucket of `key` (rate and burst as configured now); False when empty."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(tokens=float(burst), refilled_at=now)
            else:
                bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.refilled_at) * rate)
                bucket.refilled_at = now
            if bucket.tokens < 1.0:
                return False
            bucket.tokens -= 1.0
            return True
