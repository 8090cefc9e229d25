"""The Python runtime as it runs *inside* an execution environment.

This module copies what AWS's runtime interface client (github.com/aws/aws-lambda-python-runtime-interface-client,
`awslambdaric/bootstrap.py`, `lambda_context.py`, `lambda_runtime_marshaller.py`) does around the handler: load
`module.function` from the task root, build the context object, format `logging` records, marshal the
result with simplejson, and shape errors as `{errorMessage, errorType, requestId, stackTrace}`.

It is loaded by the zygote (a fresh interpreter) and, in "inprocess" mode, by the lab itself, so it imports
nothing from serverless_lab, and only the standard library and simplejson at module level. The SDK call
timing lives in its sibling sdk_calls.py; `install_call_hooks()` below is the one place that imports
botocore (the in-environment exception to "no boto3 under dataplane/").
Keep the file name: like the real runtime, frames of a file named ``bootstrap.py`` are cut from stack traces.
"""

from __future__ import annotations

import decimal
import importlib
import importlib.util
import logging
import math
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

try:  # the real runtime marshals with simplejson (Decimal support, e.g. DynamoDB numbers)
    import simplejson as _json

    _SIMPLEJSON = True
except ImportError:  # pragma: no cover - simplejson is a dependency of the lab
    import json as _json  # type: ignore[no-redef]

    _SIMPLEJSON = False


def _load_sibling(name: str) -> Any:
    """In the zygote this file runs under a private module name, so its sibling is loaded by path too."""
    if __package__:
        return importlib.import_module(f"{__package__}.{name}")
    private_name = f"_serverless_lab_{name}"
    if private_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            private_name, os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[private_name] = module
        spec.loader.exec_module(module)
    return sys.modules[private_name]


sdk_calls = _load_sibling("sdk_calls")

# Error types of awslambdaric's FaultException, word for word.
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"

# awslambdaric/lambda_literals.py: logged at WARNING when the function init fails.
UNHANDLED_EXCEPTION_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. However, "
    "in rare cases, a Lambda runtime update can cause unexpected function behavior. For functions using "
    "managed runtimes, runtime updates can be triggered by a function change, or can be applied "
    "automatically. To determine if the runtime has been updated, check the runtime version in the "
    "INIT_START log entry. If this error correlates with a change in the runtime version, you may be able "
    "to mitigate this error by temporarily rolling back to the previous runtime version. For more "
    "information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)


class FaultError(Exception):
    """awslambdaric's FaultException: an error of the runtime itself (import, marshal), not of the handler."""

    def __init__(self, exception_type: str, msg: str, trace: list[str] | None = None) -> None:
        super().__init__(msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


def make_error(
    message: str, error_type: str, stack_trace: list[str] | None, request_id: str | None = None
) -> dict[str, Any]:
    """The error document the Python runtime posts (and Invoke returns), keys in the runtime's order."""
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace or [],
    }


# The lab's own frames (zygote.py, workers.py, this file) that run user code: cut like awslambdaric's.
_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def error_from_exception(exc: BaseException, request_id: str | None) -> dict[str, Any]:
    """Shape an exception as the runtime does: frames of bootstrap.py before user code are cut (and the
    lab's frames around them, so an init error's trace starts in importlib, as on Lambda)."""
    if isinstance(exc, FaultError):
        return make_error(exc.msg, exc.exception_type, exc.trace, request_id)
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(exc.__traceback__)]
    for index, frame in enumerate(frames):
        if "/bootstrap.py" not in frame[0] and not frame[0].startswith(_RUNTIME_DIR):
            frames = frames[index:]
            break
    return make_error(str(exc), type(exc).__name__, traceback.format_list(frames), request_id)


function_logs = _load_sibling("function_logs")
# The function's log output lives in function_logs.py; the zygote, the workers and run_invoke use it here.
LogCollector = function_logs.LogCollector
CapturedStream = function_logs.CapturedStream
LambdaLogHandler = function_logs.LambdaLogHandler
current_collector = function_logs.current_collector
set_process_collector = function_logs.set_process_collector
set_thread_collector = function_logs.set_thread_collector
install_lambda_logging = function_logs.install_lambda_logging
log_settings = function_logs.log_settings
format_error_log = function_logs.format_error_log
_THREAD_STATE = function_logs._THREAD_STATE


# ---------------------------------------------------------------- context --------------------------------


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity: dict[str, Any] | None) -> None:
        identity = identity or {}
        self.cognito_identity_id = identity.get("cognitoIdentityId")
        self.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")

    def __repr__(self) -> str:  # awslambdaric's, so repr(context) reads the same
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    __slots__ = ("app_package_name", "app_title", "app_version_code", "app_version_name", "installation_id")

    def __init__(self, client: dict[str, Any] | None) -> None:
        for name in self.__slots__:
            setattr(self, name, (client or {}).get(name))

    def __repr__(self) -> str:
        return (
            f"Client([installation_id={self.installation_id},app_title={self.app_title},"
            f"app_version_name={self.app_version_name},app_version_code={self.app_version_code},"
            f"app_package_name={self.app_package_name}])"
        )


class ClientContext:
    __slots__ = ("client", "custom", "env")

    def __init__(self, context: dict[str, Any]) -> None:
        self.custom = context.get("custom")
        self.env = context.get("env")
        self.client = Client(context.get("client")) if context.get("client") is not None else None

    def __repr__(self) -> str:
        return f"ClientContext([custom={self.custom},env={self.env},client={self.client}])"


_CONTEXT_VARIABLES = (
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
)
_ENCODED_CONTEXT_VARIABLES = tuple(os.fsencode(name) for name in _CONTEXT_VARIABLES)
_context_cache: tuple[tuple[Any, ...], tuple[str | None, ...]] = ((), ())


def _context_variables(environ: Any) -> tuple[str | None, ...]:
    """The five variables LambdaContext reads, as environ.get() gives them on every invoke.

    Why not five os.environ.get() calls: each encodes the name and decodes the value in Python (~1.5 us
    apiece). On POSIX the raw bytes are looked up in the dict behind os.environ instead and decoded only
    when they differ from the previous invoke's, so a handler that changes these variables still sees
    its change in the next context, as with awslambdaric, which reads os.environ for each context.
    """
    global _context_cache
    data = getattr(environ, "_data", None) if environ is os.environ and os.name == "posix" else None
    if data is None:
        return tuple(environ.get(name) for name in _CONTEXT_VARIABLES)
    raw = tuple(map(data.get, _ENCODED_CONTEXT_VARIABLES))
    cached_raw, values = _context_cache  # one tuple: threads of inprocess mode read a consistent pair
    if raw != cached_raw:
        decode = environ.decodevalue
        values = tuple(None if value is None else decode(value) for value in raw)
        _context_cache = (raw, values)
    return values


class LambdaContext:
    """The context argument, as awslambdaric's LambdaContext builds it (fields read from the environment)."""

    def __init__(
        self,
        *,
        request_id: str,
        invoked_function_arn: str,
        deadline_epoch_ms: int,
        environ: dict[str, str],
        client_context: dict[str, Any] | None = None,
        identity: dict[str, Any] | None = None,
    ) -> None:
        self.aws_request_id = request_id
        # memory_limit_in_mb is a str, as on Lambda
        (
            self.log_group_name,
            self.log_stream_name,
            self.function_name,
            self.memory_limit_in_mb,
            self.function_version,
        ) = _context_variables(environ)
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = None
        self.client_context = ClientContext(client_context) if client_context is not None else None
        self.identity = CognitoIdentity(identity)
        self._deadline_epoch_ms = deadline_epoch_ms

    def get_remaining_time_in_millis(self) -> int:
        remaining = self._deadline_epoch_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, message: Any) -> None:
        # awslambdaric's: through the runtime's log sink when its logging handler is installed (one event,
        # newlines kept, as a logging record), else written to stdout.
        collector = current_collector()
        if collector is None:
            return
        if any(isinstance(handler, LambdaLogHandler) for handler in logging.getLogger().handlers):
            collector.add_event(str(message))
        else:
            collector.write_stream(str(message))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},client_context={self.client_context},"
            f"identity={self.identity},tenant_id={self.tenant_id}])"
        )


# ---------------------------------------------------------------- marshalling ----------------------------


class _Encoder(_json.JSONEncoder):
    """awslambdaric's Encoder: Decimal as a JSON number (NaN special-cased); python3.12 keeps non-ASCII."""

    def __init__(self, ensure_ascii: bool) -> None:
        if _SIMPLEJSON:
            super().__init__(use_decimal=False, ensure_ascii=ensure_ascii)
        else:  # pragma: no cover
            super().__init__(ensure_ascii=ensure_ascii)

    def default(self, o: Any) -> Any:
        if isinstance(o, decimal.Decimal):
            if o.is_nan():
                return math.nan
            if _SIMPLEJSON:
                return _json.RawJSON(str(o))
            return int(o) if o == o.to_integral_value() else float(o)  # pragma: no cover
        return super().default(o)


# awslambdaric's LambdaMarshaller builds its Encoder once and reuses it for every response; so does the lab
# (one per ensure_ascii setting). JSONEncoder.encode keeps no state between calls, so threads may share it.
_ENCODERS: dict[bool, _Encoder] = {}


def marshal_response(response: Any, execution_env: str | None) -> tuple[bytes, str]:
    """bytes pass through as application/unknown; everything else must encode as JSON (Runtime.MarshalError)."""
    if isinstance(response, bytes):
        return response, "application/unknown"
    ensure_ascii = execution_env != "AWS_Lambda_python3.12"
    try:
        encoder = _ENCODERS.get(ensure_ascii)
        if encoder is None:
            encoder = _ENCODERS[ensure_ascii] = _Encoder(ensure_ascii=ensure_ascii)
        return encoder.encode(response).encode("utf-8"), "application/json"
    except Exception as exc:
        raise FaultError(MARSHAL_ERROR, f"Unable to marshal response: {exc}") from None


def unmarshal_event(body: bytes) -> Any:
    try:
        return _json.loads(body)
    except Exception as exc:
        raise FaultError(UNMARSHAL_ERROR, f"Unable to unmarshal input: {exc}") from None


# ---------------------------------------------------------------- handler loading ------------------------


def load_handler(handler: str) -> Callable[[Any, Any], Any]:
    """awslambdaric's _get_handler: the same checks, error types and messages, in the same order."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise FaultError(MALFORMED_HANDLER_NAME, f"Bad handler '{handler}': {exc}") from None
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise FaultError(
                BUILT_IN_MODULE_CONFLICT, f"Cannot use built-in module {module_name} as a handler module"
            )
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise FaultError(IMPORT_MODULE_ERROR, f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise FaultError(
            USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{module_name}': {exc}", trace
        ) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise FaultError(
            HANDLER_NOT_FOUND, f"Handler '{function_name}' missing on module '{module_name}'"
        ) from None


_MAXRSS_PER_MB = 1024 * 1024 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB elsewhere


def max_memory_used_mb() -> int:
    """Peak resident memory of this process, the closest local stand-in for "Max Memory Used".

    getrusage's ru_maxrss is the kernel's RSS high-water mark (the VmHWM of /proc/self/status, in KiB on
    Linux) and costs one system call, where reading and parsing /proc/self/status after every invoke
    cost a measurable part of the warm overhead.
    """
    return -(-resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // _MAXRSS_PER_MB)  # rounded up


# ---------------------------------------------------------------- one invoke -----------------------------


@dataclass(slots=True)
class InvokeOutcome:
    """What the runtime posts back for one invoke, plus what the lab measures inside the environment."""

    body: bytes
    content_type: str
    error: dict[str, Any] | None
    out_of_memory: bool
    duration_ms: float
    logs: list[tuple[int, str]]
    calls: list[dict[str, Any]]

    def result_header(self) -> dict[str, Any]:
        """The header of the result frame the lab reads (the body is the response payload)."""
        return {
            "type": "result",
            "content_type": self.content_type,
            "error": self.error,
            "out_of_memory": self.out_of_memory,
            "duration_ms": self.duration_ms,
            # peak RSS of this process (getrusage: one system call, no /proc parsing per invoke)
            "max_memory_used_mb": max_memory_used_mb(),
            "logs": self.logs,
            "calls": self.calls,
        }


def run_invoke(
    handler: Callable[[Any, Any], Any],
    *,
    event_body: bytes,
    context: LambdaContext,
    collector: LogCollector,
    execution_env: str | None,
) -> InvokeOutcome:
    """handle_event_request of awslambdaric: unmarshal, call, marshal; an exception becomes the error document."""
    recorder = sdk_calls.CallRecorder()
    per_thread = _THREAD_STATE.collector is not None
    sdk_calls.set_call_recorder(recorder, per_thread=per_thread)
    collector.request_id = context.aws_request_id
    error: dict[str, Any] | None = None
    out_of_memory = False
    body, content_type = b"", "application/json"
    started = time.perf_counter()
    recorder.started = started
    try:
        event = unmarshal_event(event_body)
        response = handler(event, context)
        body, content_type = marshal_response(response, execution_env)
    except MemoryError:
        # Lambda stops an environment that exceeds its memory; the lab sees MemoryError under RLIMIT_AS.
        out_of_memory = True
    except Exception as exc:
        error = error_from_exception(exc, context.aws_request_id)
        collector.add_event(format_error_log(error, collector.json_format))
        body = _json.dumps(error).encode("utf-8")
    duration_ms = (time.perf_counter() - started) * 1000
    sdk_calls.set_call_recorder(None, per_thread=per_thread)
    return InvokeOutcome(
        body, content_type, error, out_of_memory, duration_ms, collector.take(), recorder.calls
    )


def exit_header(exc: SystemExit, collector: LogCollector, frame_type: str = "exit") -> dict[str, Any]:
    """What the lab is told when user code calls sys.exit() (during an invoke, or its init with
    frame_type "init_error"): the exit status, and the lines printed so far, which Lambda's unbuffered
    stdout would have delivered before the process ended.

    Python's own rules for the status: None is 0, an int is itself, anything else is printed to stderr
    and the status is 1.
    """
    code = exc.code
    if code is None or isinstance(code, int):
        status = int(code or 0)
    else:
        collector.write_stream(f"{code}\n")
        status = 1
    return {"type": frame_type, "exit_status": status, "logs": collector.take()}


def install_call_hooks() -> None:
    """Register the timing hooks on every botocore client created from now on (idempotent)."""
    import botocore.session  # the in-environment exception to "no botocore under dataplane/"

    if getattr(botocore.session.Session.create_client, "_serverless_lab_hooked", False):
        return
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        events = client.meta.events
        events.register("before-call", sdk_calls.before_call)
        events.register("after-call", sdk_calls.after_call)
        events.register("after-call-error", sdk_calls.after_call_error)
        return client

    create_client._serverless_lab_hooked = True  # type: ignore[attr-defined]
    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
