"""Timing of the AWS SDK calls a handler makes, measured inside the execution environment.

Every botocore client created after `install_call_hooks()` gets handlers for botocore's own events:
`before-call` (request serialised, about to be sent), `after-call` (response parsed, with its HTTP status
and, when the service refused the call, its error code and message: an AccessDeniedException names the
role, the action and the resource) and `after-call-error` (no response: connection refused, timeout). The time between them is what the call
cost the handler, retries included, the same span an X-Ray subsegment of the SDK covers.

The hooks are registered by bootstrap.install_call_hooks(), which (with zygote.py) is where the data plane
touches botocore: inside an environment, where user code uses boto3 anyway. Standard library only here.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class CallRecorder:
    """The AWS SDK calls of one invoke, timed with botocore's before-call / after-call events."""

    started: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)


class _ThreadState(threading.local):
    recorder: CallRecorder | None = None  # a class-level default: no AttributeError raised on each read


_THREAD_STATE = _ThreadState()


_PROCESS_RECORDER: CallRecorder | None = None


def set_call_recorder(recorder: CallRecorder | None, *, per_thread: bool) -> None:
    """Process mode records every thread of the environment; inprocess mode only the handler's thread."""
    global _PROCESS_RECORDER
    if per_thread:
        _THREAD_STATE.recorder = recorder
    else:
        _PROCESS_RECORDER = recorder


def _current_recorder() -> CallRecorder | None:
    return _THREAD_STATE.recorder or _PROCESS_RECORDER


_CALL_START_KEY = "serverless_lab_call_started"
_CALL_MODEL_KEY = "serverless_lab_call_model"


def before_call(model: Any = None, context: dict[str, Any] | None = None, **_: Any) -> None:
    if context is not None and _current_recorder() is not None:
        context[_CALL_START_KEY] = time.perf_counter()
        context[_CALL_MODEL_KEY] = model


def _record_call(
    model: Any,
    context: dict[str, Any] | None,
    status: int | None,
    error: str | None,
    refusal: dict[str, Any] | None = None,
) -> None:
    recorder = _current_recorder()
    if recorder is None or context is None or _CALL_START_KEY not in context:
        return
    started = context.pop(_CALL_START_KEY)
    call = {
        "service": model.service_model.service_name,
        "operation": model.name,
        "start_ms": round((started - recorder.started) * 1000, 3),
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "http_status": status,
        "error": error,
    }
    if refusal:
        call["error_code"] = refusal.get("Code")
        call["error_message"] = refusal.get("Message")
    recorder.calls.append(call)


def after_call(
    http_response: Any = None, parsed: Any = None, model: Any = None, context: Any = None, **_: Any
) -> None:
    refusal = parsed.get("Error") if isinstance(parsed, dict) else None
    _record_call(model, context, getattr(http_response, "status_code", None), None, refusal or None)


def after_call_error(exception: BaseException | None = None, context: Any = None, **_: Any) -> None:
    model = (context or {}).get(_CALL_MODEL_KEY)
    if model is not None:
        _record_call(model, context, None, type(exception).__name__)


def swap_default_session(session: Any) -> Any:
    """Put `session` in boto3.DEFAULT_SESSION and return the one it replaces (inprocess mode only).

    boto3's default session caches credentials and configuration once resolved; an inprocess environment
    must neither reuse the lab's (its own AWS identity) nor leave its own behind for the lab.
    """
    import sys

    boto3 = sys.modules.get("boto3")
    if boto3 is None:
        return None
    previous = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = session
    return previous
