"""API keys and usage plans of a REST API stage: which keys a method that requires one accepts, and each
key's throttle and quota, as API Gateway applies them.

A pure core: the keys come from the control plane as `ApiKeyGrant`s (GetUsagePlans, GetUsagePlanKeys,
GetApiKeys with their values), and `UsagePlanMeter.admit()` counts the requests. What it copies from the API
Gateway developer guide ("Usage plans and API keys for REST APIs", "Throttle requests to your REST APIs"):

- a method with apiKeyRequired answers 403 `{"message":"Forbidden"}` (gateway response INVALID_API_KEY)
  unless the request's `x-api-key` header holds the value of an enabled key that a usage plan of this
  stage includes (API key source HEADER; with a key source of AUTHORIZER, the usageIdentifierKey the
  method's Lambda authorizer answers, which gateway.py passes in instead);
- a plan's throttle is a token bucket: burstLimit tokens at most, refilled at rateLimit per second, one
  per request; an empty bucket answers 429 `{"message":"Too Many Requests"}` (THROTTLED);
- a plan's quota counts the requests of a key per DAY, WEEK or MONTH (offset: for WEEK the weekday the
  period starts on, 0 = Sunday; for MONTH the day after the first); past it, 429 `{"message":"Limit
  Exceeded"}` (QUOTA_EXCEEDED). Throttled requests do not count against the quota.

Departures: the counts live in the data plane's process (they start again when it restarts, where AWS keeps
them), and a plan's quota counts this lab's requests only. A plan's per-method throttle of a stage
(apiStages[].throttle, "/items/{id}/GET": {rateLimit, burstLimit}) also counts that method's requests of
a key in a bucket of their own. (A stage's own method throttling is stage_throttling's.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from serverless_lab.dataplane.apigateway.errors import QuotaExceeded, UsagePlanThrottled
from serverless_lab.dataplane.apigateway.token_buckets import TokenBuckets

__all__ = ["ApiKeyGrant", "UsagePlanMeter", "quota_period_index"]

_SECONDS_PER_DAY = 86_400
_EPOCH_WEEKDAY_FROM_SUNDAY = 4  # 1970-01-01 was a Thursday


@dataclass(frozen=True)
class ApiKeyGrant:
    """One enabled API key in one usage plan of the stage, with the plan's limits (None: no limit)."""

    key_id: str
    plan_id: str
    rate_limit: float | None = None
    burst_limit: int | None = None
    quota_limit: int | None = None
    quota_period: str | None = None  # DAY, WEEK or MONTH
    quota_offset: int = 0
    # The plan's per-method throttle of this stage: (rate, burst) by "<resource path>/<HTTP method>", e.g.
    # "/items/{id}/GET" (the keys of apiStages[].throttle).
    method_throttles: Mapping[str, tuple[float, int]] = field(default_factory=dict)


def quota_period_index(period: str, offset: int, epoch_seconds: float) -> int:
    """A number that changes exactly when a new quota period of this kind begins."""
    if period == "DAY":
        return int(epoch_seconds // _SECONDS_PER_DAY)
    if period == "WEEK":
        days = int(epoch_seconds // _SECONDS_PER_DAY)
        return (days + _EPOCH_WEEKDAY_FROM_SUNDAY - offset) // 7
    if period == "MONTH":
        day = datetime.fromtimestamp(epoch_seconds, UTC) - timedelta(days=offset)
        return day.year * 12 + day.month
    raise ValueError(f"Unknown quota period {period!r}: API Gateway's periods are DAY, WEEK and MONTH.")


class UsagePlanMeter:
    """Token buckets and quota counts of the keys seen so far, per (plan, key); thread-safe."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._buckets = TokenBuckets(clock)
        self._quotas: dict[tuple[str, str], tuple[int, int]] = {}  # (period index, requests in it)

    def admit(self, grant: ApiKeyGrant, method: str | None = None) -> None:
        """Counts one request of this key to `method` ("/items/{id}/GET"); raises UsagePlanThrottled or
        QuotaExceeded as API Gateway would. A method with a throttle of its own in the plan takes a token
        from a bucket of its own too: the plan's throttle still limits the key as a whole."""
        key = (grant.plan_id, grant.key_id)
        own = grant.method_throttles.get(method) if method is not None else None
        if own is not None and not self._buckets.take((*key, method, own), *own):
            raise UsagePlanThrottled()
        plan = (grant.rate_limit, grant.burst_limit)
        if None not in plan and not self._buckets.take(key, *plan):  # type: ignore[arg-type]
            raise UsagePlanThrottled()
        with self._lock:
            if grant.quota_limit is not None and grant.quota_period is not None:
                period = quota_period_index(grant.quota_period, grant.quota_offset, self._wall_clock())
                counted_period, used = self._quotas.get(key, (period, 0))
                used = used if counted_period == period else 0
                if used >= grant.quota_limit:
                    raise QuotaExceeded()
                self._quotas[key] = (period, used + 1)
