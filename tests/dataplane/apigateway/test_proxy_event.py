"""The REST API (payload 1.0) proxy event, field by field, validated with Powertools' model."""

from __future__ import annotations

import base64
import re

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel
from gateway_helpers import ACCOUNT, NOW, make_api

from serverless_lab.dataplane.apigateway.proxy_event import (
    RequestIds,
    build_proxy_event,
    format_request_time,
    matches_media_type,
)
from serverless_lab.dataplane.apigateway.routing import RouteTable
from serverless_lab.dataplane.http import HttpRequest

IDS = RequestIds(
    request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    extended_request_id="LLCm7FonFiAFXFg=",
    trace_id="Root=1-6553f100-0123456789abcdef01234567",
    epoch_seconds=NOW + 0.123,
)


def event_for(request: HttpRequest, **api_options) -> dict:
    api = make_api(**api_options)
    route = RouteTable(api.resources).match(request.method, request.path)
    assert route is not None
    event = build_proxy_event(request, api, route, IDS, ACCOUNT, claims=None)
    APIGatewayProxyEventModel.model_validate(event)  # the shape Powertools (and Lambda users) expect
    return event


def test_every_field_of_a_simple_get() -> None:
    request = HttpRequest(
        "GET", "/items/42", headers=(("User-Agent", "curl/8.5"), ("Accept", "*/*")), source_ip="203.0.113.9"
    )
    event = event_for(request)
    assert set(event) == {
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "requestContext",
        "body",
        "isBase64Encoded",
    }
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "GET"
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] == {"id": "42"}
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["resourceId"] == "res02"
    assert context["resourcePath"] == "/items/{id}"
    assert context["httpMethod"] == "GET"
    assert context["path"] == "/prod/items/42"
    assert context["stage"] == "prod"
    assert context["accountId"] == ACCOUNT
    assert context["deploymentId"] == "dep123"  # the stage's deployment
    assert context["apiId"] == "a1b2c3d4e5"
    assert context["requestId"] == IDS.request_id
    assert context["extendedRequestId"] == "LLCm7FonFiAFXFg="
    assert context["requestTime"] == "14/Nov/2023:22:13:20 +0000"
    assert context["requestTimeEpoch"] == 1_700_000_000_123
    assert context["protocol"] == "HTTP/1.1"
    assert context["domainName"] == "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
    assert context["domainPrefix"] == "a1b2c3d4e5"
    assert "authorizer" not in context
    identity = context["identity"]
    assert identity["sourceIp"] == "203.0.113.9"
    assert identity["userAgent"] == "curl/8.5"
    assert {key for key, value in identity.items() if value is None} >= {
        "cognitoIdentityPoolId",
        "accountId",
        "cognitoIdentityId",
        "caller",
        "accessKey",
        "principalOrgId",
        "cognitoAuthenticationType",
        "cognitoAuthenticationProvider",
        "userArn",
        "user",
    }


def test_headers_last_value_and_multi_values_in_order() -> None:
    request = HttpRequest(
        "GET",
        "/items",
        headers=(
            ("Host", "api.example.com"),
            ("X-Tag", "a"),
            ("X-Tag", "b"),
            ("X-Forwarded-For", "198.51.100.1"),
        ),
        source_ip="203.0.113.9",
    )
    event = event_for(request)
    assert event["headers"]["X-Tag"] == "b"
    assert event["multiValueHeaders"]["X-Tag"] == ["a", "b"]
    assert event["headers"]["Host"] == "api.example.com"
    assert event["requestContext"]["domainName"] == "api.example.com"
    assert event["requestContext"]["domainPrefix"] == "api"
    # Headers API Gateway adds: the client address appended to X-Forwarded-For, the trace id, proto/port.
    assert event["headers"]["X-Forwarded-For"] == "198.51.100.1, 203.0.113.9"
    assert event["headers"]["X-Amzn-Trace-Id"] == IDS.trace_id
    assert event["headers"]["X-Forwarded-Proto"] == "https"
    assert event["headers"]["X-Forwarded-Port"] == "443"


def test_the_authorization_header_is_spelled_as_api_gateway_spells_it() -> None:
    # As recorded against AWS (LocalStack's test_lambda_aws_proxy_integration): "authorization" and
    # "aUThorization" both arrive as "Authorization"; other names keep the client's spelling.
    request = HttpRequest("GET", "/items", headers=(("aUThorization", "Bearer x"), ("tEsT-HEADeR", "aValUE")))
    event = event_for(request)
    assert event["headers"]["Authorization"] == "Bearer x" and "aUThorization" not in event["headers"]
    assert event["multiValueHeaders"]["Authorization"] == ["Bearer x"]
    assert event["headers"]["tEsT-HEADeR"] == "aValUE"


def test_an_edge_optimized_api_gets_the_headers_of_its_cloudfront_distribution() -> None:
    edge = event_for(HttpRequest("GET", "/items"), endpoint_types=("EDGE",))["headers"]
    assert {name: edge[name] for name in edge if name.startswith("CloudFront-")} == {
        "CloudFront-Forwarded-Proto": "https",
        "CloudFront-Is-Desktop-Viewer": "true",
        "CloudFront-Is-Mobile-Viewer": "false",
        "CloudFront-Is-SmartTV-Viewer": "false",
        "CloudFront-Is-Tablet-Viewer": "false",
    }
    assert re.fullmatch(r"1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)", edge["Via"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{54}==", edge["X-Amz-Cf-Id"])
    regional = event_for(HttpRequest("GET", "/items"))["headers"]  # a REGIONAL API has no distribution
    assert not {"Via", "X-Amz-Cf-Id"} & set(regional) and not any(
        n.startswith("CloudFront-") for n in regional
    )


def test_loopback_host_shows_the_execute_api_domain() -> None:
    event = event_for(HttpRequest("GET", "/items", headers=(("Host", "127.0.0.1:8080"),)))
    assert event["requestContext"]["domainName"] == "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
    assert event["headers"]["X-Forwarded-Port"] == "8080"


def test_query_string_single_and_multi_values_decoded() -> None:
    event = event_for(
        HttpRequest("GET", "/items", query="color=red&color=blue&q=caf%C3%A9%20au%20lait&empty=")
    )
    assert event["queryStringParameters"] == {"color": "blue", "q": "café au lait", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {
        "color": ["red", "blue"],
        "q": ["café au lait"],
        "empty": [""],
    }


def test_path_stays_encoded_and_keeps_trailing_slash() -> None:
    event = event_for(HttpRequest("GET", "/items/a%20b/"))
    assert event["path"] == "/items/a%20b/"
    assert event["pathParameters"] == {"id": "a%20b"}
    assert event["requestContext"]["path"] == "/prod/items/a%20b/"


def test_greedy_proxy_parameter_and_stage_variables() -> None:
    event = event_for(HttpRequest("DELETE", "/public/docs/v1/readme.md"), variables={"table": "ada-items"})
    assert event["resource"] == "/public/{proxy+}"
    assert event["pathParameters"] == {"proxy": "docs/v1/readme.md"}
    assert event["stageVariables"] == {"table": "ada-items"}
    assert event["httpMethod"] == "DELETE"  # the real method, though the resource's method is ANY


def test_text_body_is_passed_as_a_string() -> None:
    request = HttpRequest("POST", "/files", headers=(("Content-Type", "application/json"),), body=b'{"n": 1}')
    event = event_for(request, binary_media_types=("image/png",))
    assert (event["body"], event["isBase64Encoded"]) == ('{"n": 1}', False)


@pytest.mark.parametrize("media_types", [("image/png",), ("image/*",), ("*/*",)])
def test_binary_body_is_base64_when_content_type_is_a_binary_media_type(media_types: tuple[str, ...]) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    request = HttpRequest("POST", "/files", headers=(("Content-Type", "image/png"),), body=png)
    event = event_for(request, binary_media_types=media_types)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == png


def test_claims_go_to_the_authorizer_block() -> None:
    api = make_api()
    route = RouteTable(api.resources).match("GET", "/items")
    event = build_proxy_event(HttpRequest("GET", "/items"), api, route, IDS, ACCOUNT, claims={"sub": "x"})
    assert event["requestContext"]["authorizer"] == {"claims": {"sub": "x"}}


def test_request_time_format() -> None:
    assert format_request_time(1428582896) == "09/Apr/2015:12:34:56 +0000"
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", format_request_time(NOW))


@pytest.mark.parametrize(
    ("content_type", "patterns", "expected"),
    [
        ("image/png", ("image/png",), True),
        ("IMAGE/PNG; charset=binary", ("image/png",), True),
        ("image/jpeg", ("image/*",), True),
        ("application/json", ("image/*",), False),
        ("application/json", ("*/*",), True),
        (None, ("*/*",), False),
        ("text/plain", (), False),
    ],
)
def test_matches_media_type(content_type: str | None, patterns: tuple[str, ...], expected: bool) -> None:
    assert matches_media_type(content_type, patterns) is expected
