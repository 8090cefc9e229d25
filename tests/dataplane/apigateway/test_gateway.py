"""Gateway.handle() end to end: routes, authorizer, Lambda proxy answers and API Gateway's own errors."""

from __future__ import annotations

import base64
import json
import os
import re
import uuid

import pytest
from gateway_helpers import FUNCTION_ARN, NOW, POOL, FakeLambda, make_api, make_gateway

from serverless_lab.dataplane.apigateway.gateway import (
    MAX_REQUEST_BODY_BYTES,
    LambdaResult,
    uuid4_text,
    with_stage_variables,
)
from serverless_lab.dataplane.apigateway.model import GatewayResponseConfig
from serverless_lab.dataplane.http import HttpRequest, HttpResponse
from serverless_lab.errors import GatewayError, LambdaError

API_ID, STAGE = "a1b2c3d4e5", "prod"


def call(
    request: HttpRequest, result: LambdaResult | None = None, **api_options
) -> tuple[HttpResponse, FakeLambda]:
    fake = FakeLambda(result) if result else FakeLambda()
    gateway, fake, _ = make_gateway(make_api(**api_options), fake)
    return gateway.handle(request, API_ID, STAGE), fake


def signed(method: str, path: str, **kwargs) -> HttpRequest:
    headers = (("Authorization", POOL.sign(POOL.id_claims())), *kwargs.pop("headers", ()))
    return HttpRequest(method, path, headers=headers, **kwargs)


def assert_aws_ids(response: HttpResponse) -> None:
    assert re.fullmatch(r"[0-9a-f-]{36}", response.header("x-amzn-RequestId"))
    assert re.fullmatch(r"[A-Za-z0-9+/]{15}=", response.header("x-amz-apigw-id"))


def assert_gateway_error(response: HttpResponse, status: int, body: bytes, error_type: str | None) -> None:
    assert (response.status, response.body) == (status, body)
    assert response.header("Content-Type") == "application/json"
    assert response.header("x-amzn-ErrorType") == error_type
    assert_aws_ids(response)


def test_authorized_get_reaches_the_function_with_claims() -> None:
    response, fake = call(signed("GET", "/items"))
    assert (response.status, response.body) == (200, b"ok")
    assert response.header("Content-Type") == "application/json"  # API Gateway's default
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", response.header("X-Amzn-Trace-Id"))
    assert_aws_ids(response)
    function_arn, event, timeout = fake.calls[0]
    assert (function_arn, timeout) == (FUNCTION_ARN, 29.0)
    assert event["requestContext"]["authorizer"]["claims"]["cognito:username"] == "ada"
    assert event["requestContext"]["requestId"] == response.header("x-amzn-RequestId")
    assert event["requestContext"]["extendedRequestId"] == response.header("x-amz-apigw-id")
    assert event["headers"]["X-Amzn-Trace-Id"] == response.header("X-Amzn-Trace-Id")


def test_integration_timeout_is_passed_to_invoke() -> None:
    _, fake = call(signed("GET", "/items"), timeout_ms=3_500)
    assert fake.calls[0][2] == 3.5


@pytest.mark.parametrize(
    ("request_", "error_type"),
    [
        (HttpRequest("GET", "/nothing"), "MissingAuthenticationTokenException"),
        (HttpRequest("POST", "/items/42"), "MissingAuthenticationTokenException"),  # no such method
        (HttpRequest("GET", "/public"), "MissingAuthenticationTokenException"),  # resource without methods
    ],
)
def test_unknown_routes_are_missing_authentication_token(request_: HttpRequest, error_type: str) -> None:
    response, fake = call(request_)
    assert_gateway_error(response, 403, b'{"message":"Missing Authentication Token"}', error_type)
    assert response.header("X-Amzn-Trace-Id") is None
    assert fake.calls == []


def test_unknown_route_with_a_bearer_token_is_a_sigv4_parse_error() -> None:
    response, _ = call(HttpRequest("GET", "/nothing", headers=(("Authorization", "Bearer abc.def.ghi"),)))
    assert response.status == 403
    assert response.header("x-amzn-ErrorType") == "IncompleteSignatureException"
    message = json.loads(response.body)["message"]
    assert re.fullmatch(
        r"Invalid key=value pair \(missing equal-sign\) in Authorization header \(hashed with "
        r"SHA-256 and encoded with Base64\): '[A-Za-z0-9+/]{43}='\.",
        message,
    )


def test_unknown_route_with_a_bare_token_asks_for_sigv4_parameters() -> None:
    response, _ = call(HttpRequest("GET", "/nothing", headers=(("Authorization", "eyJraWQ.x.y"),)))
    message = json.loads(response.body)["message"]
    assert message.startswith("Authorization header requires 'Credential' parameter.")
    assert message.endswith("Authorization=eyJraWQ.x.y")


def test_unknown_stage_or_api_is_forbidden() -> None:
    gateway, _, _ = make_gateway()
    for api_id, stage in ((API_ID, "dev"), ("zzzzzzzzzz", STAGE)):
        response = gateway.handle(HttpRequest("GET", "/items"), api_id, stage)
        assert_gateway_error(response, 403, b'{"message":"Forbidden"}', "ForbiddenException")


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ((), b'{"message":"Unauthorized"}'),
        (
            (("Authorization", POOL.sign(POOL.id_claims(exp=int(NOW) - 5))),),
            b'{"message":"The incoming token has expired"}',
        ),
        ((("Authorization", POOL.sign(POOL.access_claims())),), b'{"message":"Unauthorized"}'),
    ],
)
def test_authorizer_refusals(headers: tuple, body: bytes) -> None:
    response, fake = call(HttpRequest("GET", "/items", headers=headers))
    assert_gateway_error(response, 401, body, "UnauthorizedException")
    assert fake.calls == []


def test_scoped_method_takes_an_access_token() -> None:
    response, _ = call(
        HttpRequest("GET", "/reports", headers=(("Authorization", POOL.sign(POOL.access_claims())),))
    )
    assert response.status == 200


def test_open_method_needs_no_token() -> None:
    response, fake = call(HttpRequest("DELETE", "/items/7"))
    assert response.status == 200
    assert "authorizer" not in fake.last_event["requestContext"]


def test_multi_value_headers_merged_and_win_over_headers() -> None:
    payload = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "X-One": "1", "Set-Cookie": "dropped=1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Num": [7]},
        "body": "created",
    }
    response, _ = call(signed("POST", "/items"), LambdaResult(payload=json.dumps(payload).encode()))
    assert (response.status, response.body) == (201, b"created")
    assert response.header("Content-Type") == "text/plain"
    assert response.header("X-One") == "1"
    assert [value for name, value in response.headers if name == "Set-Cookie"] == ["a=1", "b=2"]
    assert response.header("X-Num") == "7"


def test_connection_level_headers_are_remapped() -> None:
    payload = {
        "statusCode": 401,
        "headers": {
            "WWW-Authenticate": 'Bearer realm="items"',
            "Date": "yesterday",
            "Content-Length": "999",
            "X-Kept": "yes",
        },
        "body": "no",
    }
    response, _ = call(signed("GET", "/items"), LambdaResult(payload=payload))
    assert response.header("WWW-Authenticate") is None
    assert response.header("x-amzn-Remapped-WWW-Authenticate") == 'Bearer realm="items"'
    assert response.header("x-amzn-Remapped-Date") == "yesterday"
    assert response.header("x-amzn-Remapped-Content-Length") == "999"
    assert response.header("Content-Length") is None
    assert response.header("X-Kept") == "yes"


def test_string_status_code_and_missing_body() -> None:
    response, _ = call(signed("GET", "/items"), LambdaResult(payload={"statusCode": "204"}))
    assert (response.status, response.body) == (204, b"")


@pytest.mark.parametrize(
    ("payload", "body"), [(b"{}", b""), (b'{"body": "no status"}', b"no status")], ids=["{}", "body only"]
)
def test_a_result_without_status_code_is_200(payload: bytes, body: bytes) -> None:
    # None of the output format's keys is required: AWS answers {} with 200 and an empty body (LocalStack's
    # test_lambda_aws_proxy_response_format, validated against AWS).
    response, _ = call(signed("GET", "/items"), LambdaResult(payload=payload))
    assert (response.status, response.body) == (200, body)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"not json", id="not json"),
        pytest.param(b"null", id="None returned"),
        pytest.param(b'["statusCode", 200]', id="a list"),
        # LocalStack's test_lambda_aws_proxy_response_format, validated against AWS: a key outside the
        # output format makes it malformed.
        pytest.param(b'{"statusCode": 200, "wrongValue": "value"}', id="a key outside the format"),
        pytest.param(b'{"statusCode": 200, "body": "", "cookies": ["a=b"]}', id="format 2.0's cookies"),
        pytest.param(b'{"statusCode": 200, "body": {"items": []}}', id="body not a string"),
        pytest.param(b'{"statusCode": true}', id="boolean status"),
        pytest.param(b'{"statusCode": 999}', id="status out of range"),
        pytest.param(b'{"statusCode": 200, "headers": ["x"]}', id="headers not a map"),
        pytest.param(b'{"statusCode": 200, "headers": {"x": {"y": 1}}}', id="header value an object"),
        pytest.param(b'{"statusCode": 200, "multiValueHeaders": {"x": "y"}}', id="multi value not a list"),
        pytest.param(b'{"statusCode": 200, "isBase64Encoded": "yes"}', id="isBase64Encoded not a boolean"),
    ],
)
def test_malformed_proxy_result_is_502(payload: bytes) -> None:
    response, _ = call(signed("GET", "/items"), LambdaResult(payload=payload))
    assert_gateway_error(
        response, 502, b'{"message": "Internal server error"}', "InternalServerErrorException"
    )


def test_function_error_is_502() -> None:
    result = LambdaResult(
        payload=b'{"errorMessage": "boom", "errorType": "ValueError"}',
        function_error="Unhandled",
        error={"errorMessage": "boom", "errorType": "ValueError"},
    )
    response, _ = call(signed("GET", "/items"), result)
    assert_gateway_error(
        response, 502, b'{"message": "Internal server error"}', "InternalServerErrorException"
    )


def test_throttled_lambda_is_500_as_on_aws() -> None:
    response, _ = call(signed("GET", "/items"), LambdaResult(throttled=True))
    assert_gateway_error(
        response, 500, b'{"message": "Internal server error"}', "InternalServerErrorException"
    )


def test_integration_timeout_is_504() -> None:
    response, _ = call(signed("GET", "/items"), LambdaResult(timed_out=True))
    assert_gateway_error(response, 504, b'{"message": "Endpoint request timed out"}', None)


def test_lambda_service_refusal_is_500() -> None:
    def refuse(function_arn: str, event: dict, timeout_s: float) -> LambdaResult:
        raise LambdaError("Function not found: " + function_arn, status=404)

    gateway, _, _ = make_gateway(fake_lambda=refuse)
    response = gateway.handle(signed("GET", "/items"), API_ID, STAGE)
    assert_gateway_error(
        response, 500, b'{"message": "Internal server error"}', "InternalServerErrorException"
    )


def test_stage_variables_fill_an_integration_uri_and_an_unset_one_becomes_empty() -> None:
    uri = "arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.fn}:${stageVariables.alias}"
    filled = with_stage_variables(uri, {"fn": "items", "alias": "live"})
    assert filled == "arn:aws:lambda:us-east-1:123456789012:function:items:live"
    assert with_stage_variables(uri, {"fn": "items"}).endswith(":function:items:")
    assert with_stage_variables("no variables", {"fn": "x"}) == "no variables"


def test_body_over_10_mb_is_413_plain_text() -> None:
    response, fake = call(HttpRequest("POST", "/files", body=b"x" * (MAX_REQUEST_BODY_BYTES + 1)))
    assert (response.status, response.body) == (413, b"HTTP content length exceeded 10485760 bytes.")
    assert response.header("Content-Type") == "text/plain"
    assert fake.calls == []
    response, fake = call(HttpRequest("POST", "/files", body=b"x" * MAX_REQUEST_BODY_BYTES))
    assert response.status == 200


def test_binary_response_decoded_when_accept_is_a_binary_media_type() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    payload = {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(png).decode(),
        "isBase64Encoded": True,
    }
    request = HttpRequest("POST", "/files", headers=(("Accept", "image/png"),))
    response, _ = call(request, LambdaResult(payload=payload), binary_media_types=("image/png",))
    assert response.body == png
    # Without a matching Accept, API Gateway passes the base64 text on unchanged.
    request = HttpRequest("POST", "/files", headers=(("Accept", "application/json"),))
    response, _ = call(request, LambdaResult(payload=payload), binary_media_types=("image/png",))
    assert response.body == base64.b64encode(png)


def test_invalid_base64_body_is_500() -> None:
    payload = {"statusCode": 200, "body": "%%%not-base64", "isBase64Encoded": True}
    request = HttpRequest("POST", "/files", headers=(("Accept", "image/png"),))
    response, _ = call(request, LambdaResult(payload=payload), binary_media_types=("*/*",))
    assert response.status == 500


def test_mock_cors_preflight() -> None:
    request = HttpRequest(
        "OPTIONS",
        "/items",
        headers=(("Origin", "https://d111.cloudfront.net"), ("Access-Control-Request-Method", "POST")),
    )
    response, fake = call(request)
    assert (response.status, response.body) == (200, b"")
    assert response.header("Access-Control-Allow-Origin") == "*"
    assert response.header("Access-Control-Allow-Methods") == "GET,POST,OPTIONS"
    assert response.header("Access-Control-Allow-Headers") == "Content-Type,Authorization"
    assert_aws_ids(response)
    assert fake.calls == []


def test_spans_for_the_flow_tracer() -> None:
    gateway, _, jwks = make_gateway(clock=lambda: NOW)
    spans: list[dict] = []
    gateway.handle(signed("GET", "/items"), API_ID, STAGE, spans=spans)
    gateway.handle(signed("GET", "/items"), API_ID, STAGE, spans=spans)
    assert [(s["component"], s["status"]) for s in spans] == [
        ("authorizer", 200),
        ("lambda", 200),
        ("gateway", 200),
    ] * 2
    assert [s["detail"]["jwks_cache"] for s in spans if s["component"] == "authorizer"] == ["miss", "hit"]
    assert [s["detail"]["result_cache"] for s in spans if s["component"] == "authorizer"] == ["miss", "hit"]
    assert len(jwks.fetches) == 1
    gateway_span = spans[2]
    assert gateway_span["operation"] == "GET /items"
    assert gateway_span["detail"]["resource"] == "/items"
    assert gateway_span["start"] == NOW and gateway_span["duration_ms"] >= 0
    assert spans[1]["detail"]["function_arn"] == FUNCTION_ARN
    refused: list[dict] = []
    gateway.handle(HttpRequest("GET", "/items"), API_ID, STAGE, spans=refused)
    assert [(s["component"], s["status"]) for s in refused] == [("authorizer", 401), ("gateway", 401)]
    assert refused[0]["detail"]["error"] == "Unauthorized"


def test_gateway_errors_are_gateway_errors() -> None:
    from serverless_lab.dataplane.apigateway import errors as gateway_errors

    for name in gateway_errors.__all__:
        assert issubclass(getattr(gateway_errors, name), GatewayError)


CORS_4XX = GatewayResponseConfig(
    response_type="DEFAULT_4XX",
    response_parameters={
        "gatewayresponse.header.Access-Control-Allow-Origin": "method.request.header.origin",
        "gatewayresponse.header.Access-Control-Allow-Headers": "'Content-Type,Authorization'",
    },
    response_templates={"application/json": '{"message":$context.error.messageString}'},
)


def test_default_4xx_customization_adds_cors_to_a_401() -> None:
    request = HttpRequest("GET", "/items", headers=(("Origin", "https://d111.cloudfront.net"),))
    response, _ = call(request, gateway_responses=(CORS_4XX,))
    assert_gateway_error(response, 401, b'{"message":"Unauthorized"}', "UnauthorizedException")
    assert response.header("Access-Control-Allow-Origin") == "https://d111.cloudfront.net"
    assert response.header("Access-Control-Allow-Headers") == "Content-Type,Authorization"


def test_specific_gateway_response_beats_the_default_and_can_change_status() -> None:
    not_found = GatewayResponseConfig(
        response_type="MISSING_AUTHENTICATION_TOKEN",
        status_code=404,
        response_templates={
            "application/json": '{"message":"Not Found","type":"$context.error.responseType"}'
        },
    )
    response, _ = call(HttpRequest("GET", "/nothing"), gateway_responses=(CORS_4XX, not_found))
    assert response.status == 404
    assert json.loads(response.body) == {"message": "Not Found", "type": "MISSING_AUTHENTICATION_TOKEN"}
    assert response.header("Access-Control-Allow-Origin") is None


def test_413_and_sigv4_parse_errors_ignore_gateway_responses() -> None:
    request = HttpRequest(
        "POST", "/files", headers=(("Origin", "https://x"),), body=b"x" * (MAX_REQUEST_BODY_BYTES + 1)
    )
    response, _ = call(request, gateway_responses=(CORS_4XX,))
    assert (response.status, response.header("Access-Control-Allow-Origin")) == (413, None)
    request = HttpRequest("GET", "/nothing", headers=(("Origin", "https://x"), ("Authorization", "Bearer t")))
    response, _ = call(request, gateway_responses=(CORS_4XX,))
    assert (response.status, response.header("Access-Control-Allow-Origin")) == (403, None)


def test_default_5xx_customization_applies_to_a_malformed_answer() -> None:
    cors_5xx = GatewayResponseConfig(
        response_type="DEFAULT_5XX",
        response_parameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
    )
    response, _ = call(signed("GET", "/items"), LambdaResult(payload=b"null"), gateway_responses=(cors_5xx,))
    assert (response.status, response.body) == (502, b'{"message": "Internal server error"}')
    assert response.header("Access-Control-Allow-Origin") == "*"


def test_a_gateway_response_takes_any_request_parameter_and_common_context_variables() -> None:
    # GET /items/42 without a token: the Cognito authorizer's 401, after the route /items/{id} matched.
    unauthorized = GatewayResponseConfig(
        response_type="UNAUTHORIZED",
        response_parameters={
            "gatewayresponse.header.x-id": "method.request.path.id",
            "gatewayresponse.header.x-table": "stageVariables.table",
            "gatewayresponse.header.x-q": "method.request.querystring.q",
        },
        response_templates={
            "application/json": '{"stage":"$context.stage","resource":"$context.resourcePath",'
            '"method":"$context.httpMethod","path":"$context.path"}'
        },
    )
    request = HttpRequest("GET", "/items/42", query="q=find")
    response, _ = call(request, gateway_responses=(unauthorized,), variables={"table": "ada-items"})
    assert response.status == 401
    assert (response.header("x-id"), response.header("x-table"), response.header("x-q")) == (
        "42",
        "ada-items",
        "find",
    )
    assert json.loads(response.body) == {
        "stage": "prod",
        "resource": "/items/{id}",
        "method": "GET",
        "path": "/prod/items/42",
    }


def test_request_ids_are_random_uuid4_text() -> None:
    for random in [bytes(16), b"\xff" * 16, *(os.urandom(16) for _ in range(2000))]:
        assert uuid4_text(random) == str(uuid.UUID(bytes=random, version=4))


def test_request_header_lookups_and_a_new_path_keep_the_request() -> None:
    request = HttpRequest(
        "GET", "/a", "x=1", (("Host", "h"), ("accept", "1"), ("ACCEPT", "2")), b"body", "203.0.113.9"
    )
    assert (request.header("Accept"), request.header("host"), request.header("Nope", "-")) == ("1", "h", "-")
    moved = request.with_path("/b")
    assert moved == HttpRequest("GET", "/b", "x=1", request.headers, b"body", "203.0.113.9")
    assert (moved.header("accept"), request.path) == ("1", "/a")


def test_set_headers_replaces_every_value_of_a_name_in_a_new_list() -> None:
    headers = [("X-A", "1"), ("x-a", "2"), ("B", "3")]
    response = HttpResponse(200, headers)
    response.set_headers((("x-A", "new"), ("C", "4")))
    assert response.headers == [("B", "3"), ("x-A", "new"), ("C", "4")]
    assert headers == [("X-A", "1"), ("x-a", "2"), ("B", "3")]  # the list it was made with is untouched


def test_kept_route_matches_follow_each_path_and_the_deployed_api() -> None:
    gateway, fake, _ = make_gateway()
    for number in [*range(1100), 7, 7]:  # more paths than the gateway keeps matches for, and a repeat
        assert gateway.handle(HttpRequest("DELETE", f"/items/{number}"), API_ID, STAGE).status == 200
        assert fake.last_event["pathParameters"] == {"id": str(number)}
    fake.last_event["pathParameters"]["id"] = "changed by the handler"
    gateway.handle(HttpRequest("DELETE", "/items/7"), API_ID, STAGE)
    assert fake.last_event["pathParameters"] == {"id": "7"}
    assert gateway.handle(HttpRequest("GET", "/items/7/nope"), API_ID, STAGE).status == 403
