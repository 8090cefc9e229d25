"""Lambda's Invoke API as a pure core: requests parsed as Lambda parses them, answers and errors in the
shape botocore reads (no moto, no runtime: the invoke it is given records the call)."""

from __future__ import annotations

import base64
import json
import re

import pytest

from serverless_lab.dataplane.http import HttpRequest
from serverless_lab.dataplane.lambda_.invoke_api import InvokeCall, LambdaInvokeApi, parse_invoke
from serverless_lab.dataplane.lambda_.runtime import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    Invocation,
    ResourceNotFoundException,
    TooManyRequestsException,
    UnknownOperationException,
    ValidationException,
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:hello"


def invocation(
    *,
    status_code: int = 200,
    payload: bytes = b'{"ok": true}',
    error: bool = False,
    log: list[str] | None = None,
    executed_version: str = "$LATEST",
) -> Invocation:
    lines = log if log is not None else ["START RequestId: r-1 Version: $LATEST", "END RequestId: r-1"]
    return Invocation(
        request_id="r-1",
        payload=json.loads(payload) if payload else None,
        raw_payload=payload,
        function_error="Unhandled" if error else None,
        error={"errorMessage": "boom"} if error else None,
        cold=False,
        init_ms=None,
        duration_ms=1.0,
        billed_ms=1,
        memory_mb=128,
        max_memory_used_mb=30,
        timed_out=False,
        logs=lines,
        environment_id="e",
        status_code=status_code,
        log_events=[(0, line + "\n") for line in lines],
        executed_version=executed_version,
    )


class Recorder:
    def __init__(self, answer: Invocation | Exception | None = None) -> None:
        self.calls: list[InvokeCall] = []
        self.answer = answer if answer is not None else invocation()

    def __call__(self, call: InvokeCall) -> Invocation:
        self.calls.append(call)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def invoke_request(
    name: str = "hello", body: bytes = b'{"n": 1}', query: str = "", method: str = "POST", **headers: str
) -> HttpRequest:
    pairs = tuple((key.replace("_", "-"), value) for key, value in headers.items())
    return HttpRequest(method, f"/2015-03-31/functions/{name}/invocations", query, pairs, body)


def test_a_synchronous_invoke_answers_the_payload_with_lambdas_headers() -> None:
    recorder = Recorder()
    answer = LambdaInvokeApi(recorder).handle(invoke_request())
    assert (answer.status, answer.body) == (200, b'{"ok": true}')
    assert answer.header("X-Amz-Executed-Version") == "$LATEST"
    # The version that ran, not the qualifier as named: an alias answers with its version's number.
    aliased = LambdaInvokeApi(Recorder(invocation(executed_version="3"))).handle(invoke_request("hello:live"))
    assert aliased.header("X-Amz-Executed-Version") == "3"
    assert answer.header("x-amzn-RequestId") == "r-1"
    assert answer.header("X-Amz-Function-Error") is None and answer.header("X-Amz-Log-Result") is None
    (call,) = recorder.calls
    assert call == InvokeCall("hello", None, b'{"n": 1}', "RequestResponse", None)


def test_names_arns_and_qualifiers_are_read_as_lambda_reads_them() -> None:
    assert parse_invoke(invoke_request(ARN)).function == ARN
    partial = parse_invoke(invoke_request("123456789012:function:hello"))
    assert (partial.function, partial.qualifier) == ("123456789012:function:hello", None)
    suffixed = parse_invoke(invoke_request("hello%3A%24LATEST"))  # "hello:$LATEST", URL-encoded by botocore
    assert (suffixed.function, suffixed.qualifier) == ("hello", "$LATEST")
    assert parse_invoke(invoke_request(f"{ARN}:7")).qualifier == "7"
    assert parse_invoke(invoke_request(query="Qualifier=live")).qualifier == "live"
    with pytest.raises(InvalidParameterValueException, match="derived qualifier"):
        parse_invoke(invoke_request("hello:7", query="Qualifier=8"))
    with pytest.raises(ValidationException, match="failed to satisfy constraint"):
        parse_invoke(invoke_request("bad%20name"))
    with pytest.raises(ValidationException):
        parse_invoke(invoke_request("x" * 171))
    # The Qualifier constraints of the Invoke reference: 1-128 characters of (|[a-zA-Z0-9$_-]+).
    with pytest.raises(
        ValidationException, match=r"Value 'bad!q' at 'qualifier' failed to satisfy constraint"
    ):
        parse_invoke(invoke_request(query="Qualifier=bad%21q"))
    with pytest.raises(ValidationException):
        parse_invoke(invoke_request(query="Qualifier=" + "a" * 129))


def test_log_type_is_none_or_tail_and_an_event_payload_at_most_1_mb() -> None:
    api = LambdaInvokeApi(Recorder())
    refused = api.handle(invoke_request(X_Amz_Log_Type="Full"))
    assert refused.status == 400 and b"Member must satisfy enum value set: [None, Tail]" in refused.body
    big = b'{"blob": "' + b"a" * 1_048_576 + b'"}'
    too_large = api.handle(invoke_request(body=big, X_Amz_Invocation_Type="Event"))
    assert (too_large.status, too_large.header("x-amzn-ErrorType")) == (413, "RequestTooLargeException")
    assert b"Request must be smaller than 1048576 bytes" in too_large.body
    recorder = Recorder()
    assert LambdaInvokeApi(recorder).handle(invoke_request(body=big)).status == 200  # synchronous: 6 MB


def test_an_empty_payload_runs_the_function_on_an_empty_object() -> None:
    assert parse_invoke(invoke_request(body=b"")).payload == b"{}"


def test_event_and_dry_run_answer_202_and_204_without_a_body() -> None:
    for kind, status in (("Event", 202), ("DryRun", 204)):
        recorder = Recorder(invocation(status_code=status, payload=b""))
        answer = LambdaInvokeApi(recorder).handle(invoke_request(X_Amz_Invocation_Type=kind))
        assert (answer.status, answer.body) == (status, b"")
        assert recorder.calls[0].invocation_type == kind
    answer = LambdaInvokeApi(Recorder()).handle(invoke_request(X_Amz_Invocation_Type="Later"))
    assert answer.status == 400 and answer.header("x-amzn-ErrorType") == "InvalidParameterValueException"


def test_a_function_error_is_200_with_the_function_error_header() -> None:
    answer = LambdaInvokeApi(Recorder(invocation(payload=b'{"errorMessage": "boom"}', error=True))).handle(
        invoke_request()
    )
    assert answer.status == 200 and answer.header("X-Amz-Function-Error") == "Unhandled"
    assert json.loads(answer.body) == {"errorMessage": "boom"}


def test_log_tail_is_the_last_4_kb_of_the_log_in_base64() -> None:
    lines = [
        "START RequestId: r-1 Version: $LATEST",
        *(f"line {n:05d}" for n in range(1000)),
        "END RequestId: r-1",
    ]
    answer = LambdaInvokeApi(Recorder(invocation(log=lines))).handle(invoke_request(X_Amz_Log_Type="Tail"))
    tail = base64.b64decode(answer.header("X-Amz-Log-Result") or "")
    assert len(tail) == 4096
    assert tail.endswith(b"line 00999\nEND RequestId: r-1\n")
    short = LambdaInvokeApi(Recorder()).handle(invoke_request(X_Amz_Log_Type="Tail"))
    log = base64.b64decode(short.header("X-Amz-Log-Result") or "").decode()
    assert log == "START RequestId: r-1 Version: $LATEST\nEND RequestId: r-1\n"


def test_client_context_is_base64_json_and_anything_else_is_refused() -> None:
    context = {"custom": {"tenant": "a"}}
    encoded = base64.b64encode(json.dumps(context).encode()).decode()
    recorder = Recorder()
    LambdaInvokeApi(recorder).handle(invoke_request(X_Amz_Client_Context=encoded))
    assert recorder.calls[0].client_context == context
    for bad in ("not base64!", base64.b64encode(b"[1, 2]").decode(), "A" * 3584):
        answer = LambdaInvokeApi(Recorder()).handle(invoke_request(X_Amz_Client_Context=bad))
        assert answer.status == 400, bad
        assert answer.header("x-amzn-ErrorType") == InvalidRequestContentException.code


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ResourceNotFoundException(f"Function not found: {ARN}"), 404),
        (InvalidRequestContentException("Could not parse request body into json"), 400),
        (TooManyRequestsException("ReservedFunctionConcurrentInvocationLimitExceeded"), 429),
    ],
)
def test_lambda_errors_carry_status_error_type_and_message(error: Exception, status: int) -> None:
    answer = LambdaInvokeApi(Recorder(error)).handle(invoke_request())
    body = json.loads(answer.body)
    assert answer.status == status
    assert answer.header("x-amzn-ErrorType") == type(error).code  # type: ignore[attr-defined]
    assert body["message"] == str(error) and body["Type"] == "User"
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        answer.header("x-amzn-RequestId") or "",
    )
    if isinstance(error, TooManyRequestsException):
        assert body["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_other_methods_and_paths_under_functions_are_unknown_operations() -> None:
    api = LambdaInvokeApi(Recorder())
    for request in (
        invoke_request(method="GET"),
        HttpRequest("POST", "/2015-03-31/functions/hello/configuration"),
        HttpRequest("POST", "/2015-03-31/functions//invocations"),
    ):
        answer = api.handle(request)
        assert answer.status == 404 and answer.header("x-amzn-ErrorType") == UnknownOperationException.code
