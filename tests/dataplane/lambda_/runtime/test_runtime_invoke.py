"""One invoke: payloads, the Python runtime's error documents, timeouts, crashes and the platform logs."""

from __future__ import annotations

import base64
import math
import re
import threading

import pytest

from serverless_lab.dataplane.lambda_.runtime import (
    InvalidRequestContentException,
    LambdaRuntime,
    RequestTooLargeException,
)

REQUEST_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
REPORT = re.compile(
    rf"REPORT RequestId: {REQUEST_ID}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: 128 MB\tMax Memory Used: \d+ MB(?P<init>\tInit Duration: \d+\.\d\d ms)?(?P<rest>.*)"
)
LOG_LINE = re.compile(
    rf"\[(?P<level>[A-Z]+)\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{REQUEST_ID}\t(?P<msg>.*)"
)


def test_cold_and_warm_logs_have_lambdas_shape(runtime, make_spec, log_sink):
    spec = make_spec("printer.handler")
    cold = runtime.invoke(spec, {"who": "ada"})
    warm = runtime.invoke(spec, {"who": "grace"})
    assert cold.payload == "printed"
    assert cold.logs[0].startswith("INIT_START Runtime Version: python:3.12")
    assert cold.logs[1] == "init: loading printer"  # module-level output comes before START
    assert cold.logs[2] == f"START RequestId: {cold.request_id} Version: $LATEST"
    assert cold.logs[3:6] == ["hello from print", "two", "lines"]
    info, warning = (LOG_LINE.fullmatch(line) for line in cold.logs[6:8])
    assert (info["level"], info["msg"]) == ("INFO", "info via logging ada")
    assert (warning["level"], warning["msg"]) == ("WARNING", "a warning")
    assert cold.request_id in cold.logs[6]
    assert cold.logs[8] == f"END RequestId: {cold.request_id}"
    report = REPORT.fullmatch(cold.logs[9])
    assert report and report["init"] and report["rest"] == ""
    assert len(cold.logs) == 10  # logger.debug is below the INFO level the handler set
    assert f"Init Duration: {cold.init_ms:.2f} ms" in cold.logs[9]

    assert warm.logs[0] == f"START RequestId: {warm.request_id} Version: $LATEST"
    assert "info via logging grace" in warm.logs[4]
    warm_report = REPORT.fullmatch(warm.logs[-1])
    assert warm_report and warm_report["init"] is None

    assert cold.billed_ms >= cold.duration_ms + cold.init_ms  # Init is billed since August 2025
    assert warm.billed_ms == max(1, math.ceil(warm.duration_ms))
    (group, stream, events), _ = log_sink.deliveries
    assert group == "/aws/lambda/printer"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", stream)
    assert stream == cold.log_stream_name and stream.endswith(cold.environment_id)
    # CloudWatch gets each line with its newline, the REPORT line with a tab before it, as Lambda writes them
    assert [message for _, message in events] == [line + "\n" for line in cold.logs[:-1]] + [
        cold.logs[-1] + "\t\n"
    ]
    assert all(isinstance(ts, int) and ts > 1_600_000_000_000 for ts, _ in events)


def test_unhandled_exception_gives_the_runtime_error_document_and_keeps_the_environment(runtime, make_spec):
    spec = make_spec("raiser.handler")
    failed = runtime.invoke(spec, {"order": 7})
    assert failed.function_error == "Unhandled"
    assert list(failed.error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert failed.error["errorMessage"] == "order 7 rejected"
    assert failed.error["errorType"] == "OrderRejected"
    assert failed.error["requestId"] == failed.request_id
    [frame] = failed.error["stackTrace"]
    assert re.fullmatch(
        r'  File ".*/raiser\.py", line 12, in handler\n    raise OrderRejected\(.*\)\n', frame
    )
    assert failed.payload == failed.error
    assert failed.raw_payload.startswith(b'{"errorMessage": "order 7 rejected", "errorType": "OrderRejected"')
    error_log = next(line for line in failed.logs if line.startswith("[ERROR]"))
    assert error_log.startswith(
        "[ERROR] OrderRejected: order 7 rejected\nTraceback (most recent call last):\n"
    )
    assert "\n\u00a0\u00a0File " in error_log  # the runtime indents traces with no-break spaces
    assert REPORT.fullmatch(failed.logs[-1])["rest"] == ""  # a handled error is not a failed invoke
    after = runtime.invoke(spec, {"raise": False})
    assert after.payload == {"calls": 2} and not after.cold  # the Python runtime keeps the environment


def test_timeout_kills_the_environment_and_the_next_invoke_re_initialises(runtime, make_spec):
    spec = make_spec("sleeper.handler", timeout_s=1)
    timed_out = runtime.invoke(spec, {"seconds": 30})
    assert timed_out.timed_out and timed_out.function_error == "Unhandled"
    assert timed_out.error == {
        "errorMessage": f"RequestId: {timed_out.request_id} Error: Task timed out after 1.00 seconds",
        "errorType": "Sandbox.Timedout",
    }
    assert 1000 <= timed_out.duration_ms < 3000
    assert REPORT.fullmatch(timed_out.logs[-2])["rest"] == "\tStatus: timeout"
    # Then the line CloudWatch shows at the end of a timed-out invoke: ISO time, request id, elapsed seconds.
    stamp, request_id, text = timed_out.logs[-1].split("\t")
    assert (
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp) and request_id == timed_out.request_id
    )
    assert text == f"Task timed out after {timed_out.duration_ms / 1000:.2f} seconds"
    [environment] = runtime.environments()
    assert environment.pid is None  # stopped, kept for the next request
    again = runtime.invoke(spec, {"seconds": 0})
    assert again.payload == {"slept": 0, "started": 1}  # module state is gone
    assert again.environment_id == timed_out.environment_id
    assert again.cold and again.suppressed_init
    assert again.logs[0].startswith("START")  # a suppressed init prints no INIT_START ...
    assert REPORT.fullmatch(again.logs[-1])["init"] is None  # ... and no Init Duration
    assert again.duration_ms >= again.init_ms


def test_a_runtime_exit_resets_the_environment(runtime, make_spec):
    crashed = runtime.invoke(make_spec("exiter.handler"), {})
    assert crashed.error == {
        "errorMessage": f"RequestId: {crashed.request_id} Error: Runtime exited without providing a reason",
        "errorType": "Runtime.ExitError",
    }
    assert REPORT.fullmatch(crashed.logs[-1])["rest"] == "\tStatus: error\tError Type: Runtime.ExitError"


@pytest.mark.parametrize(
    ("code", "printed", "reason"),
    [
        (1, ["before exit"], "Runtime exited with error: exit status 1"),
        ("fatal: no config", ["before exit", "fatal: no config"], "Runtime exited with error: exit status 1"),
        (None, ["before exit"], "Runtime exited without providing a reason"),
    ],
)
def test_sys_exit_in_a_handler_ends_the_runtime_with_its_status(runtime, make_spec, code, printed, reason):
    # awslambdaric catches Exception only: SystemExit ends the runtime process, after its lines went out.
    spec = make_spec("sys_exiter.handler")
    exited = runtime.invoke(spec, {"code": code})
    assert exited.error == {
        "errorMessage": f"RequestId: {exited.request_id} Error: {reason}",
        "errorType": "Runtime.ExitError",
    }
    start = next(i for i, line in enumerate(exited.logs) if line.startswith("START "))
    assert exited.logs[start + 1 : start + 1 + len(printed)] == printed
    assert REPORT.fullmatch(exited.logs[-1])["rest"] == "\tStatus: error\tError Type: Runtime.ExitError"
    again = runtime.invoke(spec, {"code": 0})
    assert again.cold and again.suppressed_init  # a new runtime process, as after any exit


def test_sys_exit_in_module_code_is_an_init_exit_error(runtime, make_spec):
    failed = runtime.invoke(make_spec("sys_exiter.handler", environment={"EXIT_AT_INIT": "3"}), {})
    assert failed.error == {
        "errorMessage": f"RequestId: {failed.request_id} Error: Runtime exited with error: exit status 3",
        "errorType": "Runtime.ExitError",
    }
    assert "init: giving up" in failed.logs
    assert any(
        line.startswith("INIT_REPORT") and line.endswith("Error Type: Runtime.ExitError")
        for line in failed.logs
    )


def test_memory_beyond_the_function_size_stops_the_environment(runtime, make_spec):
    spec = make_spec("hog.handler", memory_mb=128)
    over = runtime.invoke(spec, {"mb": 400})
    assert over.error["errorType"] == "Runtime.OutOfMemory"
    assert (
        over.error["errorMessage"]
        == f"RequestId: {over.request_id} Error: Runtime exited with error: signal: killed"
    )
    assert runtime.environments()[0].pid is None
    within = runtime.invoke(make_spec("hog.handler", memory_mb=512), {"mb": 100})
    assert within.payload == {"allocated_mb": 100}
    assert within.max_memory_used_mb >= 100


def test_init_errors_are_reported_with_the_runtime_error_type(runtime, make_spec):
    failed = runtime.invoke(make_spec("broken_import.handler"), {})
    assert failed.error == {
        "errorMessage": "Unable to import module 'broken_import': No module named 'module_that_is_not_in_the_zip'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
    assert any(
        line.startswith("[WARNING]") and "LAMBDA_WARNING: Unhandled exception." in line
        for line in failed.logs
    )
    assert any(
        re.fullmatch(
            r"INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: "
            r"Runtime\.ImportModuleError",
            line,
        )
        for line in failed.logs
    )
    assert runtime.environments() == []
    missing = runtime.invoke(make_spec("counter.nothing_here"), {})
    assert missing.error["errorType"] == "Runtime.HandlerNotFound"
    assert missing.error["errorMessage"] == "Handler 'nothing_here' missing on module 'counter'"
    malformed = runtime.invoke(make_spec("counter"), {})
    assert malformed.error["errorType"] == "Runtime.MalformedHandlerName"
    assert (
        malformed.error["errorMessage"]
        == "Bad handler 'counter': not enough values to unpack (expected 2, got 1)"
    )


def test_context_log_is_one_event_and_the_context_reads_as_awslambdarics(runtime, make_spec):
    invocation = runtime.invoke(
        make_spec("context_logger.handler"),
        {},
        client_context={"custom": {"tenant": "ada"}},
        identity={"cognitoIdentityId": "eu-west-1:abc", "cognitoIdentityPoolId": "eu-west-1:pool"},
    )
    # Through the runtime's log sink: one event, its newline kept, not run together with the next print.
    start = next(i for i, line in enumerate(invocation.logs) if line.startswith("START "))
    assert invocation.logs[start + 1 : start + 3] == ["first\nsecond", "after"]
    shown = invocation.payload["repr"]
    assert (
        "identity=CognitoIdentity([cognito_identity_id=eu-west-1:abc,cognito_identity_pool_id=eu-west-1:pool])"
        in shown
    )
    assert "client_context=ClientContext([custom={'tenant': 'ada'},env=None,client=None])" in shown


def test_an_init_error_traces_from_importlib_not_from_the_lab(runtime, make_spec):
    failed = runtime.invoke(make_spec("init_raiser.handler"), {})
    assert (failed.error["errorType"], failed.error["errorMessage"]) == ("ValueError", "bad config")
    trace = failed.error["stackTrace"]
    # awslambdaric cuts its own frames: the trace starts where Lambda's does, in importlib, and ends in
    # the module; nothing of the lab's runtime (zygote.py, workers.py, bootstrap.py) shows.
    assert "importlib/__init__.py" in trace[0] and "init_raiser.py" in trace[-1]
    assert not any("serverless_lab" in frame or "bootstrap.py" in frame for frame in trace)


@pytest.mark.parametrize(
    ("kind", "raw"),
    [("decimal", b'{"price": 12.50, "count": 3}'), ("none", b"null"), ("plain", b'{"kind": "plain"}')],
)
def test_responses_are_marshalled_like_the_python_runtime(runtime, make_spec, kind, raw):
    assert runtime.invoke(make_spec("malformed.handler"), {"kind": kind}).raw_payload == raw


@pytest.mark.parametrize(("kind", "type_name"), [("set", "set"), ("datetime", "datetime")])
def test_a_response_that_is_not_json_is_a_marshal_error(runtime, make_spec, kind, type_name):
    failed = runtime.invoke(make_spec("malformed.handler"), {"kind": kind})
    assert failed.function_error == "Unhandled"
    assert failed.error == {
        "errorMessage": f"Unable to marshal response: Object of type {type_name} is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": failed.request_id,
        "stackTrace": [],
    }


def test_bytes_pass_through_and_base64_bodies_survive(runtime, make_spec):
    raw = runtime.invoke(make_spec("malformed.handler"), {"kind": "bytes"})
    assert (raw.raw_payload, raw.payload, raw.content_type) == (b"\x00\x01raw", None, "application/unknown")
    image = runtime.invoke(make_spec("binary.handler"), {})
    assert image.payload["isBase64Encoded"] is True
    assert base64.b64decode(image.payload["body"]) == b"\x89PNG\r\n\x1a\n"


def test_events_are_json(runtime, make_spec):
    assert runtime.invoke(make_spec("counter.handler"), b'{"sleep": 0}').payload["count"] == 1
    with pytest.raises(InvalidRequestContentException) as not_json:
        runtime.invoke(make_spec("counter.handler"), b"{not json")
    assert not_json.value.status == 400
    assert not_json.value.message.startswith("Could not parse request body into json")
    with pytest.raises(RequestTooLargeException) as too_large:
        runtime.invoke(make_spec("counter.handler"), {"blob": "x" * 6_300_000})
    assert too_large.value.status == 413
    assert (
        too_large.value.message
        == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )


def test_event_invocations_answer_202_and_run_later(handlers_zip, make_spec):
    delivered: list[list[tuple[int, str]]] = []
    done = threading.Event()

    def sink(group, stream, events):
        delivered.append(events)
        done.set()

    with LambdaRuntime(code_loader=lambda spec: handlers_zip, log_sink=sink) as runtime:
        queued = runtime.invoke(make_spec("printer.handler"), {}, invocation_type="Event")
        assert (queued.status_code, queued.raw_payload, queued.payload) == (202, b"", None)
        assert done.wait(10)
        assert any(queued.request_id in message for _, message in delivered[0])
        dry = runtime.invoke(make_spec("printer.handler"), {}, invocation_type="DryRun")
    assert dry.status_code == 204 and len(delivered) == 1


def test_lines_printed_before_a_timeout_reach_the_logs(runtime, make_spec):
    # On Lambda, what the function printed before it was stopped is in CloudWatch Logs, between START and
    # END, before the REPORT line with Status: timeout.
    spec = make_spec("talker.handler", timeout_s=1)
    timed_out = runtime.invoke(spec, {"seconds": 30})
    assert timed_out.timed_out
    messages = [line.split("\t")[-1] for line in timed_out.logs]
    start = next(i for i, line in enumerate(timed_out.logs) if line.startswith("START RequestId:"))
    end = next(i for i, line in enumerate(timed_out.logs) if line.startswith("END RequestId:"))
    assert "working on it" in messages[start + 1 : end]
