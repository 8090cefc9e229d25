"""The lab's /cognito-idp/ route without a backend: what reaches the backend, and what is answered at the
route. The backend is stood in for by a function that records what it got and answers as moto's server
does (tests/dataplane/test_dataplane_service.py runs the same route against moto itself)."""

from __future__ import annotations

import json

import pytest

from serverless_lab.dataplane.cognito.endpoint import CognitoEndpoint
from serverless_lab.dataplane.http import HttpRequest, HttpResponse

SITE = "http://127.0.0.1:8123"
TARGET = "AWSCognitoIdentityProviderService.SignUp"


class Backend:
    def __init__(self) -> None:
        self.got: list[HttpRequest] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.got.append(request)
        return HttpResponse(
            200,
            [("Content-Type", "application/x-amz-json-1.1"), ("Access-Control-Allow-Origin", SITE)],
            b'{"UserConfirmed": false}',
        )


@pytest.fixture
def backend() -> Backend:
    return Backend()


def test_a_preflight_never_reaches_the_backend(backend: Backend) -> None:
    spans: list[dict] = []
    request = HttpRequest(
        "OPTIONS",
        "/cognito-idp/",
        headers=(("Origin", SITE), ("Access-Control-Request-Method", "POST"),
                 ("Access-Control-Request-Headers", "content-type,x-amz-target")),
    )  # fmt: skip
    answer = CognitoEndpoint(backend).handle(request, spans)
    assert (
        answer.status == 200 and answer.header("Access-Control-Allow-Headers") == "content-type,x-amz-target"
    )
    assert backend.got == []
    assert [(s["component"], s["operation"], s["status"]) for s in spans] == [("cognito", "OPTIONS", 200)]


def test_an_operation_goes_through_and_comes_back_with_cognitos_cors(backend: Backend) -> None:
    request = HttpRequest(
        "POST", "/cognito-idp/", headers=(("Origin", SITE), ("X-Amz-Target", TARGET)), body=b"{}"
    )
    spans: list[dict] = []
    answer = CognitoEndpoint(backend).handle(request, spans)
    assert backend.got == [request]
    assert (answer.status, answer.body) == (200, b'{"UserConfirmed": false}')
    assert answer.header("Access-Control-Allow-Origin") == "*"
    assert answer.header("Access-Control-Expose-Headers") == (
        "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"
    )
    assert [(s["operation"], s["status"]) for s in spans] == [("SignUp", 200)]


@pytest.mark.parametrize(
    ("method", "target", "body", "error"),
    [
        ("GET", None, b"", "UnknownOperationException"),
        ("PUT", TARGET, b"{}", "UnknownOperationException"),
        ("POST", "DynamoDB_20120810.ListTables", b"{}", "UnknownOperationException"),
        ("POST", TARGET, b"{not json", "SerializationException"),
    ],
)
def test_what_is_no_cognito_operation_is_refused_at_the_route(
    backend: Backend, method: str, target: str | None, body: bytes, error: str
) -> None:
    headers = (("Origin", SITE), *((("X-Amz-Target", target),) if target else ()))
    answer = CognitoEndpoint(backend).handle(HttpRequest(method, "/cognito-idp/", headers=headers, body=body))
    assert backend.got == []
    assert (answer.status, json.loads(answer.body)["__type"]) == (400, error)
    assert answer.header("x-amzn-ErrorType") == f"{error}:"
    assert answer.header("Access-Control-Allow-Origin") == "*"  # the page can read the error
    assert "x-amzn-ErrorType" in (answer.header("Access-Control-Expose-Headers") or "")
