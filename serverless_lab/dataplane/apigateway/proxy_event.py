"""Build the Lambda proxy event (REST API, payload format 1.0) exactly as API Gateway sends it.

Field by field as in "Input format of a Lambda function for proxy integration"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html):
`headers` and `queryStringParameters` carry the last value of a repeated name, the `multiValue...`
fields carry all of them; absent query strings, path parameters and stage variables are null; a body
whose Content-Type matches one of the API's binaryMediaTypes is base64-encoded.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from serverless_lab.dataplane.apigateway.model import RestApiConfig
from serverless_lab.dataplane.apigateway.routing import RouteMatch
from serverless_lab.dataplane.http import HttpRequest

__all__ = [
    "RequestIds",
    "build_proxy_event",
    "format_request_time",
    "matches_media_type",
]

# The identity keys a REST API request context always has (null unless IAM or Cognito identity apply).
_IDENTITY_KEYS = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "user",
)
_NULL_IDENTITY = dict.fromkeys(_IDENTITY_KEYS)  # copied into each event, never handed out itself


@dataclass(frozen=True)
class RequestIds:
    """The ids API Gateway gives one request: requestId (a UUID), extendedRequestId, X-Ray trace id."""

    request_id: str
    extended_request_id: str
    trace_id: str
    epoch_seconds: float


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_request_time(epoch_seconds: float) -> str:
    """`requestTime` as API Gateway writes it (CLF format): `09/Apr/2015:12:34:56 +0000`."""
    return _format_whole_second(int(epoch_seconds))


@functools.lru_cache(maxsize=8)
def _format_whole_second(epoch_seconds: int) -> str:
    # Cached: the text changes once a second and every request of that second needs it.
    moment = time.gmtime(epoch_seconds)  # month names spelled out here: strftime's %b follows the locale
    return f"{moment.tm_mday:02d}/{MONTHS[moment.tm_mon - 1]}/{moment.tm_year}:" + time.strftime(
        "%H:%M:%S +0000", moment
    )


def matches_media_type(content_type: str | None, media_types: Iterable[str]) -> bool:
    """Whether a Content-Type (or Accept entry) matches binaryMediaTypes, with `*` wildcards as AWS allows."""
    if not content_type:
        return False
    wanted_type, _, wanted_subtype = content_type.split(";")[0].strip().lower().partition("/")
    for pattern in media_types:
        pattern_type, _, pattern_subtype = pattern.strip().lower().partition("/")
        if pattern_type in ("*", wanted_type) and pattern_subtype in ("*", wanted_subtype):
            return True
    return False


def build_proxy_event(
    request: HttpRequest,
    api: RestApiConfig,
    route: RouteMatch,
    ids: RequestIds,
    account_id: str,
    claims: Mapping[str, str] | None = None,
    api_key: tuple[str, str] | None = None,
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The event a Lambda proxy integration receives for this request. `claims`: a Cognito authorizer's;
    `authorizer`: requestContext.authorizer as a whole (a Lambda authorizer's principalId and context);
    `api_key`: the value and id of the API key a method that requires one was called with."""
    host = request.first_values().get("host")
    domain_name, domain_prefix, port, proto = _host_parts(host, api.domain_name)
    single_headers, multi_headers = _event_headers(request, ids, host, domain_name, port, proto)
    if "EDGE" in api.endpoint_types:
        _add_edge_headers(single_headers, multi_headers, api.id, proto)
    single_query, multi_query = _single_and_multi(request.query_pairs()) if request.query else (None, None)
    body, is_base64 = _event_body(request, api)
    http_method = request.method.upper()
    stage = api.stage.name
    resource = route.resource
    request_context: dict[str, Any] = {
        "resourceId": resource.id,
        "resourcePath": resource.path,
        "httpMethod": http_method,
        "extendedRequestId": ids.extended_request_id,
        "requestTime": format_request_time(ids.epoch_seconds),
        "path": f"/{stage}{request.path}",
        "accountId": account_id,
        "deploymentId": api.stage.deployment_id,
        "protocol": "HTTP/1.1",
        "stage": stage,
        "domainPrefix": domain_prefix,
        "requestTimeEpoch": int(ids.epoch_seconds * 1000),
        "requestId": ids.request_id,
        "identity": {
            **_NULL_IDENTITY,
            "sourceIp": request.source_ip,
            "userAgent": request.first_values().get("user-agent"),
        },
        "domainName": domain_name,
        "apiId": api.id,
    }
    if api_key is not None:  # a method that requires an API key: the key the request used, and its id
        request_context["identity"]["apiKey"], request_context["identity"]["apiKeyId"] = api_key
    if claims is not None:
        # A Cognito user pool authorizer passes the token's claims, every value a string.
        request_context["authorizer"] = {"claims": dict(claims)}
    elif authorizer is not None:
        request_context["authorizer"] = dict(authorizer)
    return {
        "resource": resource.path,
        "path": request.path,
        "httpMethod": http_method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(route.path_parameters) or None,
        "stageVariables": dict(api.stage.variables) or None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


@functools.lru_cache(maxsize=256)
def _host_parts(host: str | None, api_domain_name: str) -> tuple[str, str, str, str]:
    """domainName, domainPrefix, X-Forwarded-Port and -Proto for a Host header (clients send a few).

    The domain is the Host the client used, unless it is loopback: then the execute-api name the API has
    on AWS. Cached: parsing a Host with ipaddress costs microseconds, and the rest is the same per Host.
    """
    name = (host or "").rsplit(":", 1)[0].strip("[]")
    loopback = not name or name == "localhost" or _is_ip_address(name)
    domain_name = api_domain_name if loopback else name
    host_port = (host or "").rpartition(":")[2]
    port = host_port if host_port.isdigit() else "443"
    return domain_name, domain_name.split(".")[0], port, "https" if port == "443" else "http"


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# Headers API Gateway sets itself: a client's values are dropped (X-Forwarded-For's are kept in front).
_ADDED_HEADERS = frozenset({"x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"})


def _event_headers(
    request: HttpRequest, ids: RequestIds, host: str | None, domain_name: str, port: str, proto: str
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """`headers` and `multiValueHeaders`: the client's headers plus those API Gateway adds
    (X-Amzn-Trace-Id, X-Forwarded-*). `headers` holds the last value of a repeated name, in the order
    names first appeared; both maps are built in the one pass over the request's headers."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    if host is None:
        single["Host"], multi["Host"] = domain_name, [domain_name]
    forwarded_for: list[str] = []
    for name, value in request.headers:
        lower = name.lower()
        if lower in _ADDED_HEADERS:
            if lower == "x-forwarded-for":
                forwarded_for.append(value)
            continue
        if lower == "authorization":
            # API Gateway spells this one header "Authorization" whatever the client sent ("authorization",
            # "aUThorization"); every other name keeps the client's spelling (LocalStack's
            # test_lambda_aws_proxy_integration, recorded against AWS).
            name = "Authorization"
        values = multi.get(name)
        if values is None:
            multi[name] = [value]
        else:
            values.append(value)
        single[name] = value
    forwarded_for.append(request.source_ip)
    forwarded = ", ".join(forwarded_for)
    single["X-Amzn-Trace-Id"], multi["X-Amzn-Trace-Id"] = ids.trace_id, [ids.trace_id]
    single["X-Forwarded-For"], multi["X-Forwarded-For"] = forwarded, [forwarded]
    single["X-Forwarded-Port"], multi["X-Forwarded-Port"] = port, [port]
    single["X-Forwarded-Proto"], multi["X-Forwarded-Proto"] = proto, [proto]
    return single, multi


def _add_edge_headers(single: dict[str, str], multi: dict[str, list[str]], api_id: str, proto: str) -> None:
    """The headers an edge-optimized API's CloudFront distribution adds in front of API Gateway (the
    default endpoint type of a REST API). Left out: CloudFront-Viewer-Country and -ASN, which name the
    caller's country and network, unknown offline."""
    added = {
        "CloudFront-Forwarded-Proto": proto,
        "CloudFront-Is-Desktop-Viewer": "true",
        "CloudFront-Is-Mobile-Viewer": "false",
        "CloudFront-Is-SmartTV-Viewer": "false",
        "CloudFront-Is-Tablet-Viewer": "false",
        "Via": _edge_via(api_id),
        # 40 random bytes in URL-safe base64, as CloudFront's request ids look.
        "X-Amz-Cf-Id": base64.urlsafe_b64encode(os.urandom(40)).decode(),
    }
    for name, value in added.items():
        single[name], multi[name] = value, [value]


@functools.lru_cache(maxsize=64)
def _edge_via(api_id: str) -> str:
    # The hidden distribution's edge server, the same for every request of an API.
    return f"1.1 {hashlib.md5(api_id.encode()).hexdigest()}.cloudfront.net (CloudFront)"


def _single_and_multi(
    pairs: Iterable[tuple[str, str]],
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    if not multi:
        return None, None
    return {name: values[-1] for name, values in multi.items()}, multi


def _event_body(request: HttpRequest, api: RestApiConfig) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    if api.binary_media_types and matches_media_type(request.header("Content-Type"), api.binary_media_types):
        return base64.b64encode(request.body).decode("ascii"), True
    return request.body.decode("utf-8", errors="replace"), False
