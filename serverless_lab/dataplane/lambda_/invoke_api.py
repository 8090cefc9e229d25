"""Lambda's Invoke API (`POST /2015-03-31/functions/<name>/invocations`) over the local runtime.

moto stores functions but cannot run them without Docker: its Invoke answers 200 with an error text as
the payload. The lab answers Invoke itself, on the data plane's port and for the lab's own boto3 Lambda
clients, so `lambda_client.invoke(...)` gives what Lambda gives. Source: the Invoke API reference
(docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):

- request headers X-Amz-Invocation-Type (RequestResponse, Event, DryRun), X-Amz-Log-Type (None, Tail),
  X-Amz-Client-Context (base64 JSON); the Qualifier query parameter; the payload is the body;
- the answer: 200 with the function's response, 202 for Event, 204 for DryRun; X-Amz-Executed-Version
  (the version that ran: an alias answers with the number of its version), X-Amz-Function-Error
  ("Unhandled") when the function failed, X-Amz-Log-Result (the last 4 KB of the invocation's log,
  base64) for Tail;
- Lambda's own errors as the REST-JSON protocol carries them: the status, the x-amzn-ErrorType header, a
  body of {"Type": "User", "message": ...} (plus "Reason" on a throttle), which botocore raises as
  lambda_client.exceptions.<code>.

This module is a pure core: `invoke` (given by the composition root) resolves the function and runs it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from serverless_lab.dataplane.http import HttpRequest, HttpResponse
from serverless_lab.dataplane.lambda_.runtime import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    Invocation,
    RequestTooLargeException,
    UnknownOperationException,
    ValidationException,
)
from serverless_lab.dataplane.lambda_.runtime.logs import new_request_id
from serverless_lab.errors import LambdaError

INVOKE_PREFIX = "/2015-03-31/functions/"
INVOKE_SUFFIX = "/invocations"
LOG_TAIL_BYTES = 4096  # "the last 4 KB of the execution log"
CLIENT_CONTEXT_MAX_BYTES = 3583  # "up to 3,583 bytes of base64-encoded data"
# "For asynchronous invocations, the maximum payload size is 1 MB" (Invoke API reference; 256 KB until
# October 2025). Synchronous payloads are checked against 6 MB where the runtime encodes them.
ASYNC_PAYLOAD_LIMIT = 1_048_576
# The Qualifier constraints of the Invoke API reference: 1 to 128 characters of this pattern.
QUALIFIER = re.compile(r"(|[a-zA-Z0-9$_-]+)")
LOG_TYPES = ("None", "Tail")
# The FunctionName pattern of the Invoke API reference (name, partial ARN or ARN, with an optional qualifier).
FUNCTION_NAME = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
    r"([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)


@dataclass(frozen=True)
class InvokeCall:
    """One Invoke request, parsed: what the runtime needs to run it."""

    function: str  # the FunctionName as sent (name, partial ARN or ARN), without its qualifier
    qualifier: str | None  # from the Qualifier parameter or the name's ":qualifier" suffix
    payload: bytes
    invocation_type: str
    client_context: dict[str, Any] | None


Invoke = Callable[[InvokeCall], Invocation]


class LambdaInvokeApi:
    """Answers Invoke requests with the local runtime; every other path here is not Lambda's."""

    def __init__(self, invoke: Invoke) -> None:
        self._invoke = invoke

    @staticmethod
    def serves(path: str) -> bool:
        return path.startswith(INVOKE_PREFIX)

    def handle(self, request: HttpRequest) -> HttpResponse:
        try:
            call = parse_invoke(request)
            invocation = self._invoke(call)
        except LambdaError as error:
            return error_response(error)
        tail = (request.header("X-Amz-Log-Type") or "None") == "Tail"
        return invoke_response(invocation, tail=tail)


def parse_invoke(request: HttpRequest) -> InvokeCall:
    """The Invoke call in a request, or the LambdaError Lambda answers it with."""
    path = request.path
    if not path.startswith(INVOKE_PREFIX) or not path.endswith(INVOKE_SUFFIX):
        raise UnknownOperationException("Unknown operation")
    raw_name = path[len(INVOKE_PREFIX) : -len(INVOKE_SUFFIX)]
    if request.method != "POST" or not raw_name or "/" in raw_name:
        raise UnknownOperationException("Unknown operation")
    function = unquote(raw_name)
    matched = FUNCTION_NAME.fullmatch(function) if 1 <= len(function) <= 170 else None
    if matched is None:
        raise ValidationException(
            f"1 validation error detected: Value '{function}' at 'functionName' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {FUNCTION_NAME.pattern}"
        )
    query = dict(parse_qsl(request.query, keep_blank_values=True))
    qualifier = query.get("Qualifier") or None
    if qualifier is not None and (len(qualifier) > 128 or not QUALIFIER.fullmatch(qualifier)):
        raise ValidationException(
            f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {QUALIFIER.pattern}"
        )
    derived = matched.group(9)  # "name:qualifier" or "arn:...:function:name:qualifier"
    if derived is not None:
        if qualifier is not None and qualifier != derived:
            raise InvalidParameterValueException(
                "The derived qualifier from the function name does not match the specified qualifier."
            )
        function, qualifier = function[: -len(derived) - 1], derived
    invocation_type = request.header("X-Amz-Invocation-Type") or "RequestResponse"
    if invocation_type not in ("RequestResponse", "Event", "DryRun"):
        raise InvalidParameterValueException(
            f"1 validation error detected: Value '{invocation_type}' at 'invocationType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
        )
    log_type = request.header("X-Amz-Log-Type") or "None"
    if log_type not in LOG_TYPES:
        raise InvalidParameterValueException(
            f"1 validation error detected: Value '{log_type}' at 'logType' failed to satisfy constraint: "
            "Member must satisfy enum value set: [None, Tail]"
        )
    if invocation_type == "Event" and len(request.body) > ASYNC_PAYLOAD_LIMIT:
        raise RequestTooLargeException(
            f"Request must be smaller than {ASYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation"
        )
    return InvokeCall(
        function=function,
        qualifier=qualifier,
        # An Invoke without a payload runs the function on an empty JSON object.
        payload=request.body or b"{}",
        invocation_type=invocation_type,
        client_context=_client_context(request.header("X-Amz-Client-Context")),
    )


def _client_context(value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    if len(value) > CLIENT_CONTEXT_MAX_BYTES:
        raise InvalidRequestContentException(
            f"Client context must be at most {CLIENT_CONTEXT_MAX_BYTES} bytes of base64-encoded JSON."
        )
    try:
        context = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        raise InvalidRequestContentException(
            "Client context must be a valid Base64-encoded JSON object."
        ) from None
    if not isinstance(context, dict):
        raise InvalidRequestContentException("Client context must be a valid Base64-encoded JSON object.")
    return context


def invoke_response(invocation: Invocation, *, tail: bool) -> HttpResponse:
    """Lambda's answer to a run (or queued, or dry) invocation."""
    headers = [("x-amzn-RequestId", invocation.request_id)]
    if invocation.status_code != 200:  # 202 Event, 204 DryRun: no payload, no log
        return HttpResponse(invocation.status_code, headers, b"")
    headers += [("Content-Type", "application/json"), ("X-Amz-Executed-Version", invocation.executed_version)]
    if invocation.function_error:
        headers.append(("X-Amz-Function-Error", invocation.function_error))
    if tail:
        log = "".join(message for _, message in invocation.log_events).encode("utf-8")
        headers.append(("X-Amz-Log-Result", base64.b64encode(log[-LOG_TAIL_BYTES:]).decode("ascii")))
    return HttpResponse(200, headers, invocation.raw_payload)


def error_response(error: LambdaError) -> HttpResponse:
    """A Lambda service error as the REST-JSON protocol carries it (botocore reads x-amzn-ErrorType)."""
    body: dict[str, Any] = {"Type": "User", "message": str(error)}
    reason = getattr(error, "reason", None)
    if reason is not None:
        body["Reason"] = reason
    return HttpResponse(
        error.status,
        [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", error.code),
            ("x-amzn-RequestId", new_request_id()),  # every Lambda answer carries one, errors too
        ],
        json.dumps(body).encode(),
    )
