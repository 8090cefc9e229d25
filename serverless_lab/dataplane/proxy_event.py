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
import ipaddress
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from serverless_lab.dataplane.api_model import RestApiConfig
from serverless_lab.dataplane.http import HttpRequest
from serverless_lab.dataplane.routing import RouteMatch

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
) -> dict[str, Any]:
    """The event a Lambda proxy integration receives for this request."""
    domain_name = _domain_name(request, api)
    headers = _event_headers(request, ids, domain_name)
    single_headers, multi_headers = _single_and_multi(headers)
    single_query, multi_query = _single_and_multi(request.query_pairs())
    body, is_base64 = _event_body(request, api)
    request_context: dict[str, Any] = {
        "resourceId": route.resource.id,
        "resourcePath": route.resource.path,
        "httpMethod": request.method.upper(),
        "extendedRequestId": ids.extended_request_id,
        "requestTime": format_request_time(ids.epoch_seconds),
        "path": f"/{api.stage.name}{request.path}",
        "accountId": account_id,
        "protocol": "HTTP/1.1",
        "stage": api.stage.name,
        "domainPrefix": domain_name.split(".")[0],
        "requestTimeEpoch": int(ids.epoch_seconds * 1000),
        "requestId": ids.request_id,
        "identity": {
            **dict.fromkeys(_IDENTITY_KEYS),
            "sourceIp": request.source_ip,
            "userAgent": request.header("User-Agent"),
        },
        "domainName": domain_name,
        "apiId": api.id,
    }
    if claims is not None:
        # A Cognito user pool authorizer passes the token's claims, every value a string.
        request_context["authorizer"] = {"claims": dict(claims)}
    return {
        "resource": route.resource.path,
        "path": request.path,
        "httpMethod": request.method.upper(),
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


def _domain_name(request: HttpRequest, api: RestApiConfig) -> str:
    """The Host the client used, unless it is loopback: then the execute-api name the API has on AWS."""
    host = (request.header("Host") or "").rsplit(":", 1)[0].strip("[]")
    if not host or host == "localhost" or _is_ip_address(host):
        return api.domain_name
    return host


@functools.lru_cache(maxsize=256)
def _is_ip_address(host: str) -> bool:
    # Cached: clients send the same few Host values, and parsing one with ipaddress costs microseconds.
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _event_headers(request: HttpRequest, ids: RequestIds, domain_name: str) -> list[tuple[str, str]]:
    """The client's headers plus those API Gateway adds (X-Amzn-Trace-Id, X-Forwarded-*)."""
    added = {"x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"}
    headers = [(name, value) for name, value in request.headers if name.lower() not in added]
    if request.header("Host") is None:
        headers.insert(0, ("Host", domain_name))
    forwarded_for = ", ".join([*request.header_values("X-Forwarded-For"), request.source_ip])
    host_port = (request.header("Host") or "").rpartition(":")[2]
    port = host_port if host_port.isdigit() else "443"
    headers += [
        ("X-Amzn-Trace-Id", ids.trace_id),
        ("X-Forwarded-For", forwarded_for),
        ("X-Forwarded-Port", port),
        ("X-Forwarded-Proto", "https" if port == "443" else "http"),
    ]
    return headers


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
    if matches_media_type(request.header("Content-Type"), api.binary_media_types):
        return base64.b64encode(request.body).decode("ascii"), True
    return request.body.decode("utf-8", errors="replace"), False
