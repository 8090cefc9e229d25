"""API Gateway's control-plane quotas, paced in the process so that a lab (or an instructor resetting a
class) never hits them.

"API Gateway quotas for creating, deploying and managing an API" (Amazon API Gateway Developer Guide,
https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html) are fixed, per account and Region,
and cannot be increased: one CreateRestApi every 3 seconds (regional APIs), one DeleteRestApi every 30
seconds, one CreateDeployment every 5 seconds. A call over the quota answers 429 TooManyRequestsException.
boto3's standard retry mode retries it with a backoff of at most 20 s, ten attempts in all: enough for one
lab, not for a class of 30 destroying at once in one account, whose last DeleteRestApi comes 15 minutes
after the first.

The pacer spaces the calls of one process (every lab and the instructor's operations share the backend):
before a paced call it waits until the quota allows the next one, with a progress line saying why. Other
processes in the same account (each student's kernel) still compete: their calls are retried, and the
api step's delete waits as long as the quota needs (steps/api.py).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ..progress import pause

# Seconds between two calls of the operation, per account and Region (limits.html).
PACED_OPERATIONS = {
    ("apigateway", "CreateRestApi"): 3.0,
    ("apigateway", "DeleteRestApi"): 30.0,
    ("apigateway", "CreateDeployment"): 5.0,
}


class ControlPlanePacer:
    """Spaces the paced operations of every client of one backend; `backend.time_scale` scales the clock."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._next: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self.waited_s = 0.0  # AWS seconds spent waiting, for the report and the tests

    def watch(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        event_prefix = client.meta.service_model.service_id.hyphenize()  # botocore's event name: api-gateway
        for paced_service, operation in PACED_OPERATIONS:
            if paced_service == service:
                client.meta.events.register(f"before-call.{event_prefix}.{operation}", self._before_call)

    def _before_call(self, model: Any, **_: Any) -> None:
        key = (model.service_model.service_name, model.name)
        interval = PACED_OPERATIONS[key] * self.backend.time_scale
        with self._lock:  # one slot at a time: the next caller waits behind this one
            now = time.monotonic()
            wait = max(0.0, self._next.get(key, 0.0) - now)
            self._next[key] = max(now, self._next.get(key, 0.0)) + interval
        if wait > 0:
            scale = self.backend.time_scale or 1.0
            self.waited_s += wait / scale
            pause(
                wait / scale,
                f"{key[1]}: API Gateway allows one every {PACED_OPERATIONS[key]:g} s per account",
                scale=scale,
            )
