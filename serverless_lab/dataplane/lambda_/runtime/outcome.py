"""Turning what an environment answered into an Invocation: payload, error document, log lines, billing.

Also the request side of Invoke: the event must be JSON (InvalidRequestContentException) and at most 6 MB
(RequestTooLargeException), as the Invoke API reference says.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import orjson

from serverless_lab.dataplane.lambda_.runtime import logs
from serverless_lab.dataplane.lambda_.runtime.environment import ExecutionEnvironment
from serverless_lab.dataplane.lambda_.runtime.errors import (
    InvalidRequestContentException,
    RequestTooLargeException,
)
from serverless_lab.dataplane.lambda_.runtime.results import Invocation
from serverless_lab.dataplane.lambda_.runtime.spec import FunctionSpec

SYNC_PAYLOAD_LIMIT = 6_291_456  # "6 MB each for request and response (synchronous)", Lambda quotas
RESPONSE_LIMIT = 6_291_556  # the figure in Lambda's Function.ResponseSizeTooLarge message


@dataclass(slots=True)
class Outcome:
    """What one invoke produced so far; finish() turns it into the Invocation and its log lines."""

    request_id: str
    spec: FunctionSpec
    env: ExecutionEnvironment
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
    start_ms: int | None = None  # when the invoke phase began (epoch ms): START's timestamp

    def fail_platform(self, timed_out: bool, since: float, exit_status: int | None = None) -> None:
        self.duration_ms = (time.monotonic() - since) * 1000
        self.timed_out = timed_out
        if timed_out:
            self.error = logs.timeout_error(self.request_id, self.spec.timeout_s)
            self.status = "timeout"
        else:
            self.error = logs.exit_error(self.request_id, exit_status)
            self.status, self.error_type = "error", "Runtime.ExitError"

    def _json_platform_records(
        self,
        ordered: list[tuple[int, str]],
        start_at: int,
        start: int,
        now: int,
        report_fields: dict[str, Any],
    ) -> list[tuple[int, str]]:
        """The JSON log format's platform.start and platform.report records (no END), unless the
        SystemLogLevel (WARN) leaves them out; the CloudWatch events, each record with its newline."""
        spec = self.spec
        if logs.system_logs_shown(spec.system_log_level):
            ordered.insert(start_at, (start, logs.start_record(self.request_id, spec.version, start)))
            ordered.append((now, logs.report_record(self.request_id, epoch_ms=now, **report_fields)))
        return [(stamp, logs.cloudwatch_message(line)) for stamp, line in ordered]

    def finish(self, events: list[tuple[int, str]]) -> Invocation:
        """The Invocation; `events` (this invoke's own list) gets the START, END and REPORT lines."""
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
        ordered = events  # the caller's list, used only for this invocation: no copy
        now = logs.now_ms()
        # START is stamped when the invoke phase begins, END and REPORT when it ends: CloudWatch Logs orders
        # events by timestamp, so a START stamped at the end would sort after the handler's own lines.
        start = now if self.start_ms is None else self.start_ms
        message = logs.cloudwatch_message
        # What REPORT (or platform.report) says, in either log format.
        report_fields: dict[str, Any] = {
            "duration_ms": duration,
            "billed_ms": billed,
            "memory_mb": spec.memory_mb,
            "max_memory_used_mb": self.max_memory_used_mb,
            "init_ms": report_init,
            "status": self.status,
            "error_type": self.error_type,
        }
        if spec.json_logs:
            log_events = self._json_platform_records(ordered, start_at, start, now, report_fields)
        else:
            ordered.insert(start_at, (start, logs.start_line(self.request_id, spec.version)))
            ordered.append((now, logs.end_line(self.request_id)))
            report = logs.report_line(self.request_id, **report_fields)
            # What CloudWatch Logs receives: every line with its newline, REPORT with its trailing tab.
            log_events = [(stamp, message(line)) for stamp, line in ordered]
            log_events.append((now, message(report, report=True)))
            ordered.append((now, report))
        if self.timed_out:  # the line CloudWatch shows after a timeout's REPORT, the one alarms filter on
            line = logs.timed_out_line(self.request_id, now, duration)
            ordered.append((now, line))
            log_events.append((now, message(line)))
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
            log_events=log_events,
            executed_version=spec.version,
        )


def encode_event(event: Any, *, json_native: bool = False) -> bytes:
    """The request payload: bytes are sent as they are (and must be JSON, as Invoke requires), anything
    else is serialised to JSON. `json_native`: see _encode_quickly."""
    if isinstance(event, bytes | bytearray | memoryview):
        body = bytes(event)
        try:
            json.loads(body or b"null")
        except ValueError as exc:
            raise InvalidRequestContentException(
                f"Could not parse request body into json: Could not parse payload into json: {exc}"
            ) from None
    else:
        body = _encode_quickly(event, json_native=json_native)
        if body is None:
            try:
                body = json.dumps(event).encode("utf-8")
            except (TypeError, ValueError) as exc:
                raise InvalidRequestContentException(
                    f"Could not parse request body into json: {exc}"
                ) from None
    if len(body) > SYNC_PAYLOAD_LIMIT:
        raise RequestTooLargeException(
            f"Request must be smaller than {SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation"
        )
    return body or b"null"


# By default orjson writes subclasses of str, int, dict and list, datetimes and dataclasses (json.dumps writes
# the first four its own way and refuses the rest); with these options it refuses them, and json.dumps decides.
_PASSTHROUGH = (
    orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
# json.dumps writes at most 6 bytes where orjson writes one (U+007F and non-ASCII characters escaped as
# \uXXXX, ", " and ": " separators), so below this size json.dumps' output is within the payload limit too.
_QUICK_LIMIT = SYNC_PAYLOAD_LIMIT // 6


def _encode_quickly(event: Any, *, json_native: bool = False) -> bytes | None:
    """The event as orjson writes it, when the handler would read back exactly what json.dumps gives; or None.

    orjson.dumps is ~10x faster than json.dumps. Its bytes differ (no spaces, UTF-8 rather than \\u escapes)
    but decode to the same values, which is all the handler sees. Where the two would disagree, orjson either
    refuses (non-str keys, ints beyond 64 bits, lone surrogates, the passthrough types above) or writes
    something that does not read back equal to the event: NaN and infinities as null, enums and UUIDs
    (which json.dumps refuses), tuples as lists (json.dumps does that too; the slow path keeps it simple).
    Those events, and any large enough to come near the payload limit, take the json.dumps path.

    `json_native`: the caller vouches that the event holds only JSON's own types (dicts with str keys,
    lists, str, int, bool, None and finite floats), as the proxy event API Gateway builds from a request
    does. Those read back equal by construction, so the check that reads the bytes back and compares them
    with the event (two thirds of the encoding's cost for a 3.5 KB proxy event) is skipped; what orjson
    refuses (an int beyond 64 bits, a lone surrogate) still takes the json.dumps path.
    """
    try:
        body = orjson.dumps(event, option=_PASSTHROUGH)
    except TypeError:  # orjson.JSONEncodeError
        return None
    if len(body) > _QUICK_LIMIT or (not json_native and orjson.loads(body) != event):
        return None
    return body


# An integer of 19 digits or more may be beyond 64 bits, which orjson.loads turns into a float (json keeps
# an int); such payloads, rare, are read with json.loads. Found by mapping every digit to "0" and the rest
# to a space, then looking for 19 zeros: ~10x faster than a regular expression.
_DIGITS_AS_ZEROS = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_INTEGER = b"0" * 19


def _decode(raw: bytes, content_type: str) -> Any:
    if content_type != "application/json" or not raw:
        return None
    try:
        # orjson reads strict JSON ~2x faster; what it refuses (NaN, a BOM, lone surrogates) json.loads
        # may still read, and it decides.
        # find(), not `in`: bytes.__contains__ first tries its operand as an int and formats a TypeError.
        if raw.translate(_DIGITS_AS_ZEROS).find(_LONG_INTEGER) < 0:
            return orjson.loads(raw)
    except ValueError:
        pass
    try:
        return json.loads(raw)
    except ValueError:
        return None


def empty_invocation(spec: FunctionSpec, *, status_code: int) -> Invocation:
    return Invocation(
        request_id=logs.new_request_id(),
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
        executed_version=spec.version,
    )
