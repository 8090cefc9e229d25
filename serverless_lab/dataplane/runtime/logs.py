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

import math
import os
import time
import uuid
from typing import Any


def new_log_stream(version: str, now: float | None = None) -> tuple[str, str]:
    """(log stream name, its 32-hex suffix): one stream per execution environment."""
    suffix = uuid.uuid4().hex
    day = time.strftime("%Y/%m/%d", time.gmtime(time.time() if now is None else now))
    return f"{day}/[{version}]{suffix}", suffix


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
