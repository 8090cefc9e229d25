"""A stage's method throttling, the burst and rate limits of its methodSettings, as API Gateway applies them.

What it copies from the API Gateway developer guide ("Throttle requests to your REST APIs"):

- the stage's limits are set with update_stage, for every method (`/*/*/throttling/rateLimit` and
  `burstLimit`, the methodSettings key `*/*`) or for one method, which then has its own
  (`/~1items~1{id}/GET/throttling/...`, the key `~1items~1{id}/GET`: the resource path with "/" written
  "~1", then the method);
- they apply to each method of the stage on its own ("per-API, per-stage throttling limits are applied at
  the API method level"): one token bucket per method, at most burstLimit tokens, refilled at rateLimit a
  second, one per request;
- an empty bucket answers 429 `{"message":"Too Many Requests"}` (the THROTTLED gateway response).

Changed limits start a new bucket, full (AWS does not document what happens to one in use).

A change made with update_stage takes effect without a new deployment, as on AWS. The lab checks the
stage's limits after routing and before the authorizer, so a throttled request costs no authorizer call.
Departures: the buckets live in the data plane's process; the account's regional limits (10,000 requests a
second) are not applied.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from serverless_lab.dataplane.apigateway.errors import StageThrottled
from serverless_lab.dataplane.apigateway.model import RestApiConfig
from serverless_lab.dataplane.apigateway.token_buckets import TokenBuckets

__all__ = ["StageThrottle", "method_setting_key"]


def method_setting_key(resource_path: str, http_method: str) -> str:
    """The methodSettings key of one method: "/items/{id}", "GET" -> "~1items~1{id}/GET"."""
    return f"{resource_path.replace('/', '~1')}/{http_method}"


class StageThrottle:
    """The token buckets of the methods of every stage served; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets = TokenBuckets(clock)

    def admit(self, api: RestApiConfig, resource_path: str, http_method: str) -> None:
        """Counts one request to this method of the stage; raises StageThrottled when its bucket is empty."""
        throttles = api.stage.throttles
        if not throttles:  # most stages: no method settings at all
            return
        key = method_setting_key(resource_path, http_method)
        limits = throttles.get(key) or throttles.get("*/*")
        # New limits (an update_stage) start a new, full bucket.
        if limits is not None and not self._buckets.take((api.id, api.stage.name, key, limits), *limits):
            raise StageThrottled()
