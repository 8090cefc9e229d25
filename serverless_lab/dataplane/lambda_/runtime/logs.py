"""The platform's own log lines and error documents, formatted as Lambda writes them.

Sources: "Lambda execution environment lifecycle" (lambda-runtime-environment.html: START / END / REPORT,
INIT_REPORT, the new-style `Status:` field and the error types of a failed invoke), "Working with Lambda
function logs" (log group /aws/lambda/<name>, stream YYYY/MM/DD/[version]<32 hex>), and the runtime
interface emulator's timeout answer (`Sandbox.Timedout`, "RequestId: <id> Error: Task timed out after
3.00 seconds"). Fields of the REPORT line are separated by tabs as in CloudWatch.

The lab keeps lines without their line end (`Invocation.logs`); CloudWatch Logs stores each event as
Lambda writes it, newline included, and a REPORT line with a tab before the newline, as captured events
show ("END RequestId: ...\n", "REPORT RequestId: ...\tMax Memory Used: 118 MB\t\n").
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
from collections.abc import Iterable
from typing import Any


def new_log_stream(
    version: str, now: float | None = None, function_name: str | None = None
) -> tuple[str, str]:
    """(log stream name, its 32-hex suffix): one stream per execution environment. In a custom log group
    (LoggingConfig.LogGroup, which several functions may share) the name carries the function's:
    YYYY/MM/DD/<function name>[<version>]<guid> ("Working with log groups", Lambda developer guide)."""
    suffix = uuid.uuid4().hex
    day = time.strftime("%Y/%m/%d", time.gmtime(time.time() if now is None else now))
    return f"{day}/{function_name or ''}[{version}]{suffix}", suffix


def new_request_id() -> str:
    """A random (version 4) UUID, as Lambda's request ids are: str(uuid.uuid4()) at a third of the cost."""
    digits = os.urandom(16).hex()
    variant = "89ab"[int(digits[16], 16) & 3]  # the RFC 4122 variant: 10xx
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


def now_ms() -> int:
    return int(time.time() * 1000)


def init_start_line(runtime: str) -> str:
    # Lambda prints its runtime version ARN here; the lab names its own interpreter instead.
    return f"INIT_START Runtime Version: {runtime.replace('python', 'python:')}.serverless-lab"


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def billed_duration_ms(duration_ms: float, init_ms: float | None) -> int:
    """Rounded up to the next millisecond. Since 1 August 2025 the Init phase of on-demand ZIP functions on
    managed runtimes is billed too ("AWS Lambda standardizes billing for INIT Phase", AWS Compute Blog)."""
    return max(1, math.ceil(duration_ms + (init_ms or 0.0)))


def report_line(
    request_id: str,
    *,
    duration_ms: float,
    billed_ms: int,
    memory_mb: int,
    max_memory_used_mb: int,
    init_ms: float | None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed_ms} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_used_mb} MB",
    ]
    if init_ms is not None:
        fields.append(f"Init Duration: {init_ms:.2f} ms")
    if status is not None:  # only failed invokes carry a status (new-style platform logs)
        fields.append(f"Status: {status}")
    if error_type is not None:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields)


def cloudwatch_message(line: str, *, report: bool = False) -> str:
    """A line as a CloudWatch Logs event message: its newline kept (a blank line is "\n", never the empty
    message PutLogEvents refuses), a REPORT line ending in a tab before it."""
    return f"{line}\t\n" if report else f"{line}\n"


def line_of(message: str) -> str:
    """The inverse of cloudwatch_message: an event's message as the line the lab shows."""
    line = message[:-1] if message.endswith("\n") else message
    return line[:-1] if line.startswith("REPORT RequestId: ") and line.endswith("\t") else line


def init_report_line(init_ms: float, error_type: str | None, status: str | None) -> str:
    """Printed only when the Init phase fails (or with SnapStart / provisioned concurrency)."""
    line = f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init\tStatus: {status}"
    return f"{line}\tError Type: {error_type}" if error_type else line


def timed_out_line(request_id: str, epoch_ms: int, duration_ms: float) -> str:
    """The log event Lambda adds at the end of a timed-out invoke, its elapsed time in seconds:
    "2024-11-20T18:19:35.211Z\t<request id>\tTask timed out after 900.09 seconds" (as captured from
    CloudWatch Logs, a line filtered on by the usual "Task timed out" metric filters)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_ms // 1000)) + f".{epoch_ms % 1000:03d}Z"
    return f"{stamp}\t{request_id}\tTask timed out after {duration_ms / 1000:.2f} seconds"


def timeout_error(request_id: str, timeout_s: float) -> dict[str, Any]:
    return {
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds",
        "errorType": "Sandbox.Timedout",
    }


def exit_error(request_id: str, status: int | None = None) -> dict[str, Any]:
    """The runtime process ended during the invoke: with a non-zero exit status (sys.exit(1) in the handler
    ends Lambda's Python runtime too: awslambdaric catches only Exception), or without one (os._exit(0),
    a crash in C code ...)."""
    reason = (
        f"Runtime exited with error: exit status {status}"
        if status
        else "Runtime exited without providing a reason"
    )
    return {"errorMessage": f"RequestId: {request_id} Error: {reason}", "errorType": "Runtime.ExitError"}


def out_of_memory_error(request_id: str) -> dict[str, Any]:
    return {
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed",
        "errorType": "Runtime.OutOfMemory",
    }


def response_too_large_error(size: int) -> dict[str, Any]:
    return {
        "errorMessage": f"Response payload size ({size} bytes) exceeded maximum allowed payload size "
        "(6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }


# ---------------------------------------------------------------- JSON log format ------------------------
# With LoggingConfig.LogFormat JSON, Lambda writes its platform records as JSON objects instead of the
# START / END / REPORT lines: {"time": ..., "type": "platform.start", "record": {...}}, compact, the time in
# UTC to the millisecond ("Configuring JSON and plain text log formats"; the record shapes are those of the
# Telemetry API schema reference, as CloudWatch Logs shows them: platform.initStart, platform.start and
# platform.report, no END). These are INFO-level system logs: a SystemLogLevel of WARN drops them all.
# The lab does not write the DEBUG-level ones (platform.initRuntimeDone, platform.runtimeDone).

# Application log levels, lowest first; Python's logging names (WARNING, CRITICAL) count as their Lambda
# equivalents.
_APPLICATION_LEVELS = {
    "TRACE": 0, "DEBUG": 1, "INFO": 2, "WARN": 3, "WARNING": 3, "ERROR": 4, "FATAL": 5, "CRITICAL": 5,
}  # fmt: skip


def iso_time_ms(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_ms // 1000)) + f".{epoch_ms % 1000:03d}Z"


def platform_record(kind: str, record: dict[str, Any], epoch_ms: int) -> str:
    return json.dumps({"time": iso_time_ms(epoch_ms), "type": kind, "record": record}, separators=(",", ":"))


def system_logs_shown(system_log_level: str | None) -> bool:
    """Whether the INFO-level platform records are written at this SystemLogLevel (DEBUG, INFO: yes)."""
    return system_log_level != "WARN"


def init_start_record(runtime: str, function_name: str, version: str, epoch_ms: int) -> str:
    record = {
        "initializationType": "on-demand",
        "phase": "init",
        # Lambda names its runtime version and that version's ARN; the lab names its own interpreter.
        "runtimeVersion": f"{runtime.replace('python', 'python:')}.serverless-lab",
        "functionName": function_name,
        "functionVersion": version,
    }
    return platform_record("platform.initStart", record, epoch_ms)


def start_record(request_id: str, version: str, epoch_ms: int) -> str:
    return platform_record("platform.start", {"requestId": request_id, "version": version}, epoch_ms)


def report_record(
    request_id: str,
    *,
    duration_ms: float,
    billed_ms: int,
    memory_mb: int,
    max_memory_used_mb: int,
    init_ms: float | None,
    status: str | None,
    error_type: str | None,
    epoch_ms: int,
) -> str:
    metrics: dict[str, Any] = {
        "durationMs": round(duration_ms, 3),
        "billedDurationMs": billed_ms,
        "memorySizeMB": memory_mb,
        "maxMemoryUsedMB": max_memory_used_mb,
    }
    if init_ms is not None:
        metrics["initDurationMs"] = round(init_ms, 3)
    record: dict[str, Any] = {"requestId": request_id, "metrics": metrics, "status": status or "success"}
    if error_type is not None:
        record["errorType"] = error_type
    return platform_record("platform.report", record, epoch_ms)


def init_report_record(init_ms: float, error_type: str | None, status: str | None, epoch_ms: int) -> str:
    record: dict[str, Any] = {
        "initializationType": "on-demand",
        "phase": "init",
        "status": status or "error",
        "metrics": {"durationMs": round(init_ms, 3)},
    }
    if error_type:
        record["errorType"] = error_type
    return platform_record("platform.initReport", record, epoch_ms)


def line_level(line: str) -> int:
    """The application log level Lambda gives a line of the function's output: a JSON object's "level"
    (the runtime's logging records carry theirs), anything else INFO ("Log-level filtering": output
    without a valid level is treated as INFO)."""
    if line.startswith("{"):
        try:
            level = json.loads(line).get("level")
        except (ValueError, AttributeError):
            level = None
        if isinstance(level, str) and level.upper() in _APPLICATION_LEVELS:
            return _APPLICATION_LEVELS[level.upper()]
    return _APPLICATION_LEVELS["INFO"]


def keep_application_lines(
    events: Iterable[tuple[int, str]], application_log_level: str | None
) -> list[tuple[int, str]]:
    """The function's own log events that Lambda writes at this ApplicationLogLevel (JSON format only:
    with None, the text format, every line is kept)."""
    if application_log_level is None:
        return [(int(stamp), line) for stamp, line in events]
    threshold = _APPLICATION_LEVELS[application_log_level]
    return [(int(stamp), line) for stamp, line in events if line_level(line) >= threshold]
