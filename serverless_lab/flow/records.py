"""What a simulated user's requests leave behind: plain values the tables and charts are built from.

A `RequestRecord` is one HTTP request as the client saw it (start, total time, status, bytes) together with
the spans the server side recorded for it: on the offline backends the data plane's own spans (returned in
the lab-only `X-Serverless-Lab-Trace` header), on AWS the spans rebuilt from the functions' REPORT lines in
CloudWatch Logs. `trace.py` turns records into tidy DataFrames.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The hops of the architecture, in the order a request meets them. `client` is the total the simulated
# user measured around the whole request (network and HTTP parsing included).
COMPONENTS: tuple[str, ...] = (
    "client",
    "edge",
    "s3-origin",
    "cognito",
    "gateway",
    "authorizer",
    "lambda-init",
    "lambda-handler",
    "dynamodb",
)

# The flow, in order: what one user session does (see user.py).
FLOW_STEPS: tuple[str, ...] = (
    "site",
    "sign-up",
    "confirm",
    "sign-in",
    "create",
    "list",
    "get",
    "update",
    "delete",
)


@dataclass
class RequestRecord:
    """One request of one simulated user, with the spans recorded for it on the server side.

    `start_s` is the epoch time the client started the request; `client_ms` the time until the whole
    answer was read. `status` is None when no answer came (then `error` says why). `spans` are raw span
    dicts as the data plane records them (component, operation, start, duration_ms, status, and detail
    or cache), or spans already in the tidy vocabulary when `source` is "cloudwatch".
    """

    session: int
    request: int
    step: str
    method: str
    url: str
    start_s: float
    client_ms: float
    status: int | None
    bytes_sent: int = 0
    bytes_received: int = 0
    error: str | None = None
    x_cache: str | None = None
    spans: list[dict[str, Any]] = field(default_factory=list)
    source: str = "dataplane"
    run: str = ""
    concurrency: int | None = None

    @property
    def path(self) -> str:
        """The URL's path without scheme, host and query, e.g. /items/1700000000000-ab12..."""
        without_scheme = self.url.split("://", 1)[-1]
        path = "/" + without_scheme.split("/", 1)[1] if "/" in without_scheme else "/"
        return path.split("?", 1)[0]

    @property
    def failed(self) -> bool:
        """No answer, or an answer the flow did not expect (any 4xx/5xx)."""
        return self.status is None or self.status >= 400


@dataclass
class SessionResult:
    """Everything one simulated user did: the requests in order, and whether the session completed."""

    session: int
    username: str
    requests: list[RequestRecord] = field(default_factory=list)
    completed: bool = False
    error: str | None = None
    started_s: float = 0.0
    ended_s: float = 0.0


def request_counter() -> Callable[[], int]:
    """A thread-safe source of request numbers 0, 1, 2... shared by the users of one run."""
    numbers = itertools.count()
    lock = threading.Lock()

    def next_number() -> int:
        with lock:
            return next(numbers)

    return next_number
