"""LoggingConfig: the JSON log format, its application and system log levels, and a custom log group."""

from __future__ import annotations

import json

import pytest

from serverless_lab.dataplane.lambda_.runtime import LambdaRuntime
from serverless_lab.dataplane.lambda_.runtime.errors import (
    InvalidParameterValueException,
    ValidationException,
)


def _documents(lines: list[str]) -> list[dict | str]:
    """Each line as the JSON object it holds, or the line itself when it is plain text."""
    out: list[dict | str] = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            out.append(line)
    return out


def _platform(documents: list[dict | str]) -> list[str]:
    return [d["type"] for d in documents if isinstance(d, dict) and "type" in d]


@pytest.mark.parametrize("isolation", ["process", "inprocess"])
def test_json_format_writes_platform_records_and_json_logging_records(handlers_zip, make_spec, isolation):
    spec = make_spec(
        "json_logger.handler", log_format="JSON", application_log_level="INFO", system_log_level="INFO"
    )
    with LambdaRuntime(code_loader=lambda spec: handlers_zip, isolation=isolation) as runtime:
        cold = runtime.invoke(spec, {})
        warm = runtime.invoke(spec, {})
    documents = _documents(cold.logs)
    # platform.initStart, then the init's output, platform.start, the handler's lines, platform.report; no END.
    assert _platform(documents) == ["platform.initStart", "platform.start", "platform.report"]
    assert documents[1] == "init: json_logger"
    init_start = documents[0]
    assert init_start["record"]["functionName"] == spec.name and init_start["record"]["phase"] == "init"
    assert init_start["time"].endswith("Z") and len(init_start["time"]) == len("2026-01-01T00:00:00.000Z")
    report = documents[-1]["record"]
    assert report["requestId"] == cold.request_id and report["status"] == "success"
    assert set(report["metrics"]) == {
        "durationMs",
        "billedDurationMs",
        "memorySizeMB",
        "maxMemoryUsedMB",
        "initDurationMs",
    }
    assert report["metrics"]["memorySizeMB"] == 128
    assert "initDurationMs" not in _documents(warm.logs)[-1]["record"]["metrics"]  # warm: no init
    # logging records are JSON with the request id and `extra` fields; print() stays plain text.
    info = next(d for d in documents if isinstance(d, dict) and d.get("message") == "info record")
    assert info["level"] == "INFO" and info["logger"] == "root" and info["orderId"] == 7
    assert info["requestId"] == cold.request_id and info["timestamp"].endswith("Z")
    assert "plain print" in documents
    warning = next(d for d in documents if isinstance(d, dict) and d.get("message") == "warning record")
    assert warning["level"] == "WARNING"
    # INFO drops what is below it: the DEBUG record, and the JSON line printed with "level": "DEBUG".
    assert not any(isinstance(d, dict) and d.get("level") == "DEBUG" for d in documents)


def test_application_log_level_filters_printed_lines_and_records(handlers_zip, make_spec):
    debug = make_spec(
        "json_logger.handler", log_format="JSON", application_log_level="DEBUG", system_log_level="INFO"
    )
    warn = make_spec(
        "json_logger.handler", log_format="JSON", application_log_level="WARN", system_log_level="INFO"
    )
    with LambdaRuntime(code_loader=lambda spec: handlers_zip) as runtime:
        at_debug = _documents(runtime.invoke(debug, {}).logs)
        at_warn = _documents(runtime.invoke(warn, {}).logs)
    messages = [d.get("message") for d in at_debug if isinstance(d, dict)]
    assert "debug record" in messages and "a DEBUG line printed as JSON" in messages
    # At WARN: a line without a level counts as INFO and is dropped, init output included.
    assert not any(isinstance(d, str) for d in at_warn)
    kept = [d.get("message") for d in at_warn if isinstance(d, dict) and "message" in d]
    assert kept == ["warning record"]
    assert _platform(at_warn) == ["platform.initStart", "platform.start", "platform.report"]


def test_system_log_level_warn_drops_the_platform_records(handlers_zip, make_spec):
    spec = make_spec(
        "json_logger.handler", log_format="JSON", application_log_level="INFO", system_log_level="WARN"
    )
    with LambdaRuntime(code_loader=lambda spec: handlers_zip) as runtime:
        documents = _documents(runtime.invoke(spec, {}).logs)
    assert _platform(documents) == []
    assert "plain print" in documents


def test_unhandled_error_is_a_json_error_document(handlers_zip, make_spec):
    spec = make_spec(
        "json_logger.handler", log_format="JSON", application_log_level="INFO", system_log_level="INFO"
    )
    with LambdaRuntime(code_loader=lambda spec: handlers_zip) as runtime:
        invocation = runtime.invoke(spec, {"raise": True})
    assert invocation.function_error == "Unhandled"
    error = next(d for d in _documents(invocation.logs) if isinstance(d, dict) and d.get("errorType"))
    # awslambdaric's log_error with the JSON format: the error document, its level, a timestamp to the second.
    assert list(error)[:5] == ["timestamp", "level", "errorMessage", "errorType", "requestId"]
    assert (
        error["level"] == "ERROR" and error["errorMessage"] == "boom" and error["errorType"] == "ValueError"
    )
    assert len(error["timestamp"]) == len("2026-01-01T00:00:00")
    assert error["requestId"] == invocation.request_id and error["stackTrace"]


def test_the_runtime_is_told_the_format_and_level_and_text_sets_neither(handlers_zip, make_spec):
    json_spec = make_spec(
        "introspect.handler", log_format="JSON", application_log_level="TRACE", system_log_level="INFO"
    )
    text_spec = make_spec("introspect.handler")
    with LambdaRuntime(code_loader=lambda spec: handlers_zip) as runtime:
        json_environ = runtime.invoke(json_spec, {}).payload["environ"]
        text_environ = runtime.invoke(text_spec, {}).payload["environ"]
    assert json_environ["AWS_LAMBDA_LOG_FORMAT"] == "JSON" and json_environ["AWS_LAMBDA_LOG_LEVEL"] == "TRACE"
    assert "AWS_LAMBDA_LOG_FORMAT" not in text_environ and "AWS_LAMBDA_LOG_LEVEL" not in text_environ


def test_a_custom_log_group_receives_the_logs_with_the_function_in_the_stream_name(
    handlers_zip, make_spec, log_sink
):
    spec = make_spec("introspect.handler", log_group="/shared/app-logs")
    with LambdaRuntime(code_loader=lambda spec: handlers_zip, log_sink=log_sink) as runtime:
        invocation = runtime.invoke(spec, {})
    assert invocation.log_group_name == "/shared/app-logs"
    assert invocation.payload["context"]["log_group_name"] == "/shared/app-logs"
    assert invocation.payload["environ"]["AWS_LAMBDA_LOG_GROUP_NAME"] == "/shared/app-logs"
    # "YYYY/MM/DD/<function name>[<version>]<guid>" in a log group that several functions may share.
    stream = invocation.log_stream_name
    assert stream.split("/")[3].startswith(f"{spec.name}[$LATEST]")
    assert [group for group, _, _ in log_sink.deliveries] == ["/shared/app-logs"]


def test_text_format_is_unchanged(handlers_zip, make_spec):
    with LambdaRuntime(code_loader=lambda spec: handlers_zip) as runtime:
        lines = runtime.invoke(make_spec("json_logger.handler"), {}).logs
    assert lines[0].startswith("INIT_START ") and lines[2].startswith("START RequestId: ")
    assert lines[-2].startswith("END RequestId: ") and lines[-1].startswith("REPORT RequestId: ")
    # The text format's root logger stays at WARNING: info and debug records are not written.
    assert any(line.startswith("[WARNING]\t") for line in lines)
    assert not any(line.startswith("[INFO]\t") for line in lines)
    assert "plain print" in lines


@pytest.mark.parametrize(
    ("overrides", "member"),
    [
        ({"log_format": "XML"}, "loggingConfig.logFormat"),
        ({"log_format": "JSON", "application_log_level": "LOUD"}, "loggingConfig.applicationLogLevel"),
        ({"log_format": "JSON", "system_log_level": "ERROR"}, "loggingConfig.systemLogLevel"),
    ],
)
def test_a_bad_logging_setting_is_refused_by_name(make_spec, overrides, member):
    with pytest.raises(ValidationException, match=member):
        make_spec("json_logger.handler", **overrides)


def test_json_levels_default_to_info_and_a_level_with_text_is_refused(make_spec):
    spec = make_spec("json_logger.handler", log_format="JSON")
    assert (spec.application_log_level, spec.system_log_level) == ("INFO", "INFO")
    with pytest.raises(
        InvalidParameterValueException, match='LogLevel is not supported when LogFormat is set to "Text"'
    ):
        make_spec("json_logger.handler", system_log_level="WARN")


def test_init_records_have_an_empty_request_id_and_a_users_formatter_replaces_the_json_one(
    handlers_zip, make_spec
):
    spec = make_spec("json_logger.handler", log_format="JSON")
    with LambdaRuntime(code_loader=lambda spec: handlers_zip) as runtime:
        first = _documents(runtime.invoke(spec, {"formatter": True}).logs)
    init = next(d for d in first if isinstance(d, dict) and d.get("message") == "init record")
    assert init["requestId"] == ""  # awslambdaric's filter gives "" before the first invoke
    assert (
        "CUSTOM WARNING warning record" in first
    )  # setFormatter on the runtime's handler wins, as on Lambda


def test_a_record_json_cannot_write_raises_in_the_handler_as_on_lambda(handlers_zip, make_spec):
    spec = make_spec("json_logger.handler", log_format="JSON")
    with LambdaRuntime(code_loader=lambda spec: handlers_zip) as runtime:
        invocation = runtime.invoke(spec, {"decimal_extra": True})
    assert invocation.function_error == "Unhandled"
    assert invocation.payload["errorType"] == "TypeError"
    assert "Decimal is not JSON serializable" in invocation.payload["errorMessage"]


def test_inprocess_json_levels_do_not_reach_the_labs_own_handlers(handlers_zip, make_spec):
    import logging
    import threading

    spec = make_spec("talker.handler", log_format="JSON", application_log_level="DEBUG")
    seen: list[str] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    recorder = Recorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    lab_logger = logging.getLogger("serverless_lab.test")
    stop = threading.Event()

    def lab_thread() -> None:
        while not stop.is_set():
            lab_logger.debug("lab debug")
            stop.wait(0.01)

    chatter = threading.Thread(target=lab_thread)
    try:
        with LambdaRuntime(code_loader=lambda spec: handlers_zip, isolation="inprocess") as runtime:
            chatter.start()
            invocation = runtime.invoke(spec, {"seconds": 0.3})
    finally:
        stop.set()
        chatter.join()
        root.removeHandler(recorder)
    assert invocation.payload == "done"
    assert "lab debug" not in seen  # the lab's root level (WARNING) still holds for the lab's threads
