"""The lab's ``/cognito-idp/`` route: Cognito's user pools endpoint for the browser.

Only what Cognito's endpoint answers goes through to the backend: POSTs of a Cognito operation (X-Amz-Target
``AWSCognitoIdentityProviderService.*``) with a JSON body. A CORS preflight is answered here, as Cognito
answers it (`cors.answer_preflight`): passed on, moto's server took it for an S3 request (no signature, no
target) and answered 500, which made every sign-up and sign-in fail in a browser. Anything else is answered
here as an AWS JSON 1.1 service answers it (UnknownOperationException, SerializationException): the backend
behind this route serves every service of every student, and must not be reachable through it (a GET of it
listed every bucket). Every answer carries Cognito's CORS headers (`cors.with_cognito_cors`).

Pure: the backend is reached through the `Forward` callable it is given (`passthrough.CognitoPassThrough`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

from ..http import HttpRequest, HttpResponse
from .cors import answer_preflight, is_preflight, with_cognito_cors

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
JSON_1_1 = "application/x-amz-json-1.1"

Forward = Callable[[HttpRequest], HttpResponse]


class CognitoEndpoint:
    """Answers the browser's requests to Cognito: preflights here, operations through `forward`."""

    def __init__(self, forward: Forward) -> None:
        self.forward = forward

    def handle(self, request: HttpRequest, spans: list[dict[str, Any]] | None = None) -> HttpResponse:
        started_epoch, started = time.time(), time.perf_counter()
        if is_preflight(request):
            response = answer_preflight(request)
            operation = "OPTIONS"
        else:
            target = request.header("X-Amz-Target") or ""
            operation = target.rsplit(".", 1)[-1] or request.method
            error = refusal(request)
            response = error_answer(error) if error else with_cognito_cors(self.forward(request))
        if spans is not None:
            spans.append(
                {
                    "component": "cognito",
                    "operation": operation,
                    "start": started_epoch,
                    "duration_ms": (time.perf_counter() - started) * 1000,
                    "status": response.status,
                    "detail": {},
                }
            )
        return response


def refusal(request: HttpRequest) -> str | None:
    """The error type an AWS JSON 1.1 service answers a request that is not one of its operations with."""
    target = request.header("X-Amz-Target") or ""
    if request.method != "POST" or not target.startswith(TARGET_PREFIX):
        return "UnknownOperationException"
    try:
        json.loads(request.body or b"")
    except ValueError:
        return "SerializationException"
    return None


def error_answer(error_type: str, message: str | None = None) -> HttpResponse:
    """A 400 as AWS JSON services send it: the type in the body and in x-amzn-ErrorType (with the colon
    Cognito's front end puts after it), and Cognito's CORS headers so the page can read it."""
    headers = [
        ("Date", formatdate(usegmt=True)),
        ("Content-Type", JSON_1_1),
        ("x-amzn-RequestId", str(uuid.uuid4())),
        ("x-amzn-ErrorType", f"{error_type}:"),
    ]
    body = json.dumps({"__type": error_type, "message": message}).encode()
    return with_cognito_cors(HttpResponse(400, headers, body))
