"""The function's own log output inside an execution environment, as Lambda's Python runtime writes it.

What awslambdaric (github.com/aws/aws-lambda-python-runtime-interface-client: `bootstrap.py`,
`lambda_runtime_log_utils.py`) does with a function's output: stdout split into one log event per line,
`logging` records through the runtime's handler on the root logger in its text format or, with the
function's LoggingConfig LogFormat JSON (AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL), its JSON format,
and the log event of an unhandled error. Loaded by bootstrap.py (in the zygote by path, as its sibling), so
like it this imports only the standard library and simplejson.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

try:  # awslambdaric writes its error documents with simplejson
    import simplejson as _json
except ImportError:  # pragma: no cover - simplejson is a dependency of the lab
    import json as _json  # type: ignore[no-redef]

# awslambdaric indents stack-trace lines with NO-BREAK SPACE so CloudWatch keeps the indentation.
_ERROR_LOG_INDENT = "\u00a0"
# awslambdaric's text log format: "[INFO]\t2025-01-31T12:00:00.123Z\t<request id>\tmessage\n" in UTC.
_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s"
_LOG_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


def format_error_log(error: dict[str, Any], json_format: bool = False) -> str:
    """The log event the runtime writes for an unhandled error: "[ERROR] Type: message / Traceback ..." in
    text, and with the JSON log format the error document itself with its level and a timestamp (to the
    second, without a zone: awslambdaric's log_error formats it with logging's %Y-%m-%dT%H:%M:%S in UTC)."""
    if json_format:
        stamp = time.strftime(_LOG_DATE_FORMAT, time.gmtime())
        return _json.dumps({"timestamp": stamp, "level": "ERROR", **error})
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description, "Traceback (most recent call last):"]
    for element in error.get("stackTrace") or []:
        for line in element.splitlines() or [""]:
            stripped = line.lstrip(" ")
            lines.append(_ERROR_LOG_INDENT * (len(line) - len(stripped)) + stripped)
    return "\n".join(lines)


@dataclass(slots=True)
class LogCollector:
    """The log events of one init or one invoke: (epoch ms, message), one event per printed line."""

    request_id: str = ""
    events: list[tuple[int, str]] = field(default_factory=list)
    _partial: str = ""
    # LoggingConfig.LogFormat JSON (AWS_LAMBDA_LOG_FORMAT): logging records and the runtime's error lines
    # are written as JSON objects; printed lines stay plain text, as on Lambda.
    json_format: bool = False

    def write_stream(self, text: str) -> None:
        # stdout reaches CloudWatch through a pipe that Lambda splits into one event per line.
        text = self._partial + text
        if "\n" not in text:  # print() writes its text and its end separately: most writes end no line
            self._partial = text
            return
        *lines, self._partial = text.split("\n")
        now = int(time.time() * 1000)
        # Lines without their newline: the lab adds it back when it writes them to CloudWatch Logs, where
        # a blank line is the event "\n", as on Lambda (see logs.cloudwatch_message).
        self.events.extend((now, line) for line in lines)

    def add_event(self, message: str) -> None:
        # logging records go through the runtime's framed log sink: one event each, newlines kept.
        self.flush()
        self.events.append((int(time.time() * 1000), message))

    def flush(self) -> None:
        if self._partial:
            self.events.append((int(time.time() * 1000), self._partial))
            self._partial = ""

    def take(self) -> list[tuple[int, str]]:
        self.flush()
        events, self.events = self.events, []
        return events


class _ThreadState(threading.local):
    # A class-level default: reading it on a thread that never set it costs no AttributeError (getattr with a
    # default formats and discards one, ~0.4 us, several times per invoke in process mode).
    collector: LogCollector | None = None


_PROCESS_COLLECTOR: LogCollector | None = None  # process mode: one environment per process
_THREAD_STATE = _ThreadState()  # inprocess mode: the collector of the thread running a handler


def current_collector() -> LogCollector | None:
    return _THREAD_STATE.collector or _PROCESS_COLLECTOR


def set_process_collector(collector: LogCollector | None) -> None:
    global _PROCESS_COLLECTOR
    _PROCESS_COLLECTOR = collector


def set_thread_collector(collector: LogCollector | None) -> None:
    _THREAD_STATE.collector = collector


class CapturedStream:
    """Stands in for sys.stdout / sys.stderr: writes of a handler go to its collector, others pass through."""

    def __init__(self, fallback: Any) -> None:
        self.fallback = fallback

    def write(self, text: str) -> int:
        collector = current_collector()
        if collector is None:
            return self.fallback.write(text) if self.fallback is not None else len(text)
        collector.write_stream(text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if current_collector() is None and self.fallback is not None:
            self.fallback.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fallback, name)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        collector = current_collector()
        record.aws_request_id = collector.request_id if collector else ""
        return True


# LogRecord attributes that are not a caller's `extra` fields (awslambdaric's JSON format adds the others).
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "aws_request_id",
    "tenant_id",
    "_frame_type",
}


# awslambdaric's JsonFormatter encodes with the standard library's encoder (a Decimal or any other value
# JSON cannot hold makes the logging call raise), keeping non-ASCII characters as they are.
_encode_log_json = json.JSONEncoder(ensure_ascii=False).encode


class LambdaJsonFormatter(logging.Formatter):
    """A logging record as Lambda's Python runtime writes it with the JSON log format (awslambdaric's
    JsonFormatter, "Using Lambda advanced logging controls with Python"): timestamp in UTC to the
    millisecond, the level rounded down to a standard one, message, logger, requestId ("" during init);
    with an exception also stackTrace, errorType, errorMessage and location; then the caller's `extra`
    fields. Keys whose value is None are left out."""

    def format(self, record: logging.LogRecord) -> str:
        level = min(50, max(0, record.levelno)) // 10 * 10
        stamp = time.strftime(_LOG_DATE_FORMAT, time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        error = record.exc_info if record.exc_info and record.exc_info[0] is not None else None
        document: dict[str, Any] = {
            "timestamp": stamp,
            "level": logging.getLevelName(level),
            "message": record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(error[2]) if error else None,
            "errorType": error[0].__name__ if error else None,
            "errorMessage": str(error[1]) if error else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}" if error else None,
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in document:
                document[key] = value
        return _encode_log_json({k: v for k, v in document.items() if v is not None})


class LambdaLogHandler(logging.Handler):
    """awslambdaric's handler on the root logger: its text format in UTC, or, when the collector of the
    invoke says so (the function's LoggingConfig), its JSON format. A formatter that user code sets on
    the handler replaces either, as on Lambda."""

    def __init__(self) -> None:
        super().__init__()
        self._text_formatter = logging.Formatter(_LOG_FORMAT, _LOG_DATE_FORMAT)
        self._text_formatter.converter = time.gmtime
        self._json_formatter = LambdaJsonFormatter()
        self.setFormatter(self._text_formatter)
        self.addFilter(_RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        collector = current_collector()
        if collector is None:
            return
        if collector.json_format:
            # As awslambdaric's JSON handler does, without a guard: a record that does not format (an
            # `extra` value JSON cannot hold) raises in the handler's logging call.
            formatter = self.formatter
            if formatter is self._text_formatter or formatter is None:
                formatter = self._json_formatter
            collector.add_event(formatter.format(record))
            return
        try:
            collector.add_event(self.format(record))
        except Exception:  # a logging error must never break the invoke, as in the logging module
            self.handleError(record)


def log_settings(environ: Any) -> tuple[bool, str | None]:
    """(JSON log format, root logger level) from AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL, which
    Lambda sets from LoggingConfig; awslambdaric maps TRACE to DEBUG and sets the root logger's level to
    the rest (so logging.info() is written at INFO, where the text format's root logger stays at WARNING)."""
    json_format = (environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"
    level = (environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper()
    level = "DEBUG" if level == "TRACE" else level
    return json_format, (level if level in logging.getLevelNamesMapping() else None)


def install_lambda_logging() -> LambdaLogHandler:
    """Add the runtime's handler to the root logger once; the root level stays WARNING unless user code sets it."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, LambdaLogHandler):
            return handler
    handler = LambdaLogHandler()
    root.addHandler(handler)
    return handler
