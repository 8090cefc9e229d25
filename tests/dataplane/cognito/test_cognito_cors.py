"""Cognito's CORS answers, as the real endpoint gives them (serverless_lab/dataplane/cognito/cors.py cites
the recordings). Pure: no backend."""

from __future__ import annotations

from serverless_lab.dataplane.cognito.cors import (
    EXPOSE_HEADERS,
    answer_preflight,
    is_preflight,
    with_cognito_cors,
)
from serverless_lab.dataplane.http import HttpRequest, HttpResponse

SITE = "http://127.0.0.1:8123"


def preflight(requested: str | None) -> HttpRequest:
    headers = [("Origin", SITE), ("Access-Control-Request-Method", "POST")]
    if requested is not None:
        headers.append(("Access-Control-Request-Headers", requested))
    return HttpRequest("OPTIONS", "/", headers=tuple(headers))


def test_a_preflight_is_answered_200_with_cognitos_headers() -> None:
    answer = answer_preflight(preflight("content-type,x-amz-target,x-amz-user-agent"), request_id="r-1")
    assert (answer.status, answer.body) == (200, b"")
    assert {name: value for name, value in answer.headers if name != "Date"} == {
        "x-amzn-RequestId": "r-1",
        "Access-Control-Allow-Origin": "*",  # never the Origin echoed
        "Access-Control-Allow-Headers": "content-type,x-amz-target,x-amz-user-agent",
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Expose-Headers": "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date",
        "Access-Control-Max-Age": "172800",
    }
    assert answer.header("Date", "").endswith(" GMT")
    assert answer.header("Vary") is None and answer.header("Access-Control-Allow-Credentials") is None


def test_the_allowed_headers_are_the_requested_ones_verbatim() -> None:
    # Cognito reflects the list with its case: an SDK v3 preflight asks for more than the lab's page.
    requested = "Content-Type,X-Amz-Target,amz-sdk-invocation-id,amz-sdk-request,cache-control"
    assert answer_preflight(preflight(requested)).header("Access-Control-Allow-Headers") == requested
    assert answer_preflight(preflight(None)).header("Access-Control-Allow-Headers") is None


def test_only_options_is_a_preflight() -> None:
    assert is_preflight(preflight("content-type"))
    assert not is_preflight(HttpRequest("POST", "/", headers=(("Origin", SITE),)))


def test_an_answer_gets_cognitos_headers_in_place_of_flask_cors_ones() -> None:
    # What moto's server sends: the Origin echoed by flask-cors, Vary: Origin, nothing exposed.
    from_moto = HttpResponse(
        400,
        [
            ("Content-Type", "application/json"),
            ("X-Amzn-ErrorType", "NotAuthorizedException"),
            ("Access-Control-Allow-Origin", SITE),
            ("Vary", "Origin"),
            ("Access-Control-Allow-Credentials", "true"),
        ],
        b'{"__type": "NotAuthorizedException"}',
    )
    answer = with_cognito_cors(from_moto)
    assert (answer.status, answer.body) == (400, from_moto.body)
    assert answer.headers == [
        ("Content-Type", "application/json"),
        ("X-Amzn-ErrorType", "NotAuthorizedException"),
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", EXPOSE_HEADERS),
    ]
    # A Vary of something else is the backend's and stays.
    kept = with_cognito_cors(HttpResponse(200, [("Vary", "Accept-Encoding")]))
    assert kept.header("Vary") == "Accept-Encoding"
