"""The values the local Lambda runtime hands back: one invocation, one execution environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Invocation:
    """The answer of one Invoke, with what CloudWatch and X-Ray would show about it.

    `payload` is the decoded JSON response (the error document when the function failed, None for a
    non-JSON or empty response), `raw_payload` the bytes Invoke returns. `function_error` is the
    X-Amz-Function-Error header ("Unhandled"), `status_code` the Invoke status (200, 202 Event, 204 DryRun).
    A `suppressed_init` is the re-initialisation after a crash or timeout: Lambda folds it into Duration
    and prints no Init Duration (lambda-runtime-environment.html, "Failures during the invoke phase").
    """

    request_id: str
    payload: Any
    raw_payload: bytes
    function_error: str | None
    error: dict[str, Any] | None
    cold: bool
    init_ms: float | None
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_used_mb: int
    timed_out: bool
    logs: list[str]
    environment_id: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    status_code: int = 200
    content_type: str = "application/json"
    suppressed_init: bool = False
    log_group_name: str = ""
    log_stream_name: str = ""
    # (epoch ms, message) as CloudWatch Logs stores them: `logs` with each line's newline (runtime/logs.py)
    log_events: list[tuple[int, str]] = field(default_factory=list)
    # The version that ran, Invoke's X-Amz-Executed-Version: $LATEST or a number, also when the caller
    # named an alias (Invoke API reference: "the version of the function that executed").
    executed_version: str = "$LATEST"


@dataclass(frozen=True)
class EnvironmentInfo:
    """One execution environment as a notebook shows it (times are readings of the runtime's clock)."""

    id: str
    function: str
    state: str  # "busy" or "idle"
    invocations: int
    created: float
    last_used: float
    rss_mb: float | None
    log_stream_name: str
    pid: int | None
