"""Turning what an environment answered into an Invocation: payload, error document, log lines, billing.

Also the request side of Invoke: the event must be JSON (InvalidRequestContentException) and at most 6 MB
(RequestTooLargeException), as the Invoke API reference says.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from serverless_lab.dataplane.runtime import logs
from serverless_lab.dataplane.runtime.errors import InvalidRequestContentException, RequestTooLargeException
from serverless_lab.dataplane.runtime.results import Invocation
from serverless_lab.dataplane.runtime.spec import FunctionSpec

if TYPE_CHECKING:
    from serverless_lab.dataplane.runtime.service import _Environment

SYNC_PAYLOAD_LIMIT = 6_291_456  # "6 MB each for request and response (synchronous)", Lambda quotas
RESPONSE_LIMIT = 6_291_556  # the figure in Lambda's Function.ResponseSizeTooLarge message


@dataclass
class Outcome:
    """What one invoke produced so far; finish() turns it into the Invocation and its log lines."""

    request_id: str
    spec: FunctionSpec
    env: _Environment
    cold: bool = False
    suppressed_init: bool = False
    init_ms: float | None = None
    duration_ms: float = 0.0
    max_memory_used_mb: int = 0
    content_type: str = "application/json"
    error: dict[str, Any] | None = None
    raw: bytes | None = None
    timed_out: bool = False
    status: str | None = None
    error_type: str | None = None
    calls: list[dict[str, Any]] | None = None
    start_at: int = 0  # how many init events precede START

    def fail_platform(self, timed_out: bool, since: float) -> None:
        self.duration_ms = (time.monotonic() - since) * 1000
        self.timed_out = timed_out
        if timed_out:
            self.error = logs.timeout_error(self.request_id, self.spec.timeout_s)
            self.status = "timeout"
        else:
            self.error = logs.exit_error(self.request_id)
            self.status, self.error_type = "error", "Runtime.ExitError"

    def finish(self, events: list[tuple[int, str]]) -> Invocation:
        spec = self.spec
        duration = self.duration_ms
        report_init = self.init_ms
        if self.suppressed_init:  # folded into Duration, no Init Duration field
            duration += self.init_ms or 0.0
            report_init = None
        billed = logs.billed_duration_ms(duration, report_init)
        # Function-init output and INIT_ lines come before START, as in CloudWatch; a suppressed init runs
        # inside the invoke phase, so its output follows START.
        start_at = 0 if self.suppressed_init else self.start_at
        ordered = list(events)
        ordered.insert(start_at, (logs.now_ms(), logs.start_line(self.request_id, spec.version)))
        ordered.append((logs.now_ms(), logs.end_line(self.request_id)))
        ordered.append(
            (
                logs.now_ms(),
                logs.report_line(
                    self.request_id,
                    duration_ms=duration,
                    billed_ms=billed,
                    memory_mb=spec.memory_mb,
                    max_memory_used_mb=self.max_memory_used_mb,
                    init_ms=report_init,
                    status=self.status,
                    error_type=self.error_type,
                ),
            )
        )
        if self.error is not None:
            raw = self.raw if self.raw is not None else json.dumps(self.error).encode()
            payload: Any = self.error
        else:
            raw = self.raw or b""
            payload = _decode(raw, self.content_type)
        return Invocation(
            request_id=self.request_id,
            payload=payload,
            raw_payload=raw,
            function_error="Unhandled" if self.error is not None else None,
            error=self.error,
            cold=self.cold,
            init_ms=self.init_ms,
            duration_ms=duration,
            billed_ms=billed,
            memory_mb=spec.memory_mb,
            max_memory_used_mb=self.max_memory_used_mb,
            timed_out=self.timed_out,
            logs=[message for _, message in ordered],
            environment_id=self.env.id,
            calls=self.calls or [],
            content_type=self.content_type,
            suppressed_init=self.suppressed_init,
            log_group_name=spec.log_group_name,
            log_stream_name=self.env.log_stream_name,
            log_events=ordered,
        )


def encode_event(event: Any) -> bytes:
    """The request payload: bytes are sent as they are (and must be JSON, as Invoke requires), anything
    else is serialised to JSON."""
    if isinstance(event, bytes | bytearray | memoryview):
        body = bytes(event)
        try:
            json.loads(body or b"null")
        except ValueError as exc:
            raise InvalidRequestContentException(
                f"Could not parse request body into json: Could not parse payload into json: {exc}"
            ) from None
    else:
        try:
            body = json.dumps(event).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise InvalidRequestContentException(f"Could not parse request body into json: {exc}") from None
    if len(body) > SYNC_PAYLOAD_LIMIT:
        raise RequestTooLargeException(
            f"Request must be smaller than {SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation"
        )
    return body or b"null"


def _decode(raw: bytes, content_type: str) -> Any:
    if content_type != "application/json" or not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def empty_invocation(spec: FunctionSpec, *, status_code: int) -> Invocation:
    return Invocation(
        request_id=str(uuid.uuid4()),
        payload=None,
        raw_payload=b"",
        function_error=None,
        error=None,
        cold=False,
        init_ms=None,
        duration_ms=0.0,
        billed_ms=0,
        memory_mb=spec.memory_mb,
        max_memory_used_mb=0,
        timed_out=False,
        logs=[],
        environment_id="",
        status_code=status_code,
        log_group_name=spec.log_group_name,
    )
