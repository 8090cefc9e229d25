"""The local API Gateway (REST API): route, authorize, invoke the Lambda proxy integration, answer.

A pure core in the chalice `local.py` style: `Gateway.handle()` takes an `HttpRequest` and returns an
`HttpResponse`, opens no sockets, and reaches the rest of the lab only through the callables it is
given (the stage's configuration, the Lambda invoke, the user pools' JWKS, the stage's API keys). After
routing, the stage's method throttling (`stage_throttling`), then the method's authorizer (Cognito here,
Lambda authorizers in `lambda_authorizer`), its API key and usage plan (`usage_plans`), then the
integration. Every answer carries the
headers AWS adds (`x-amzn-RequestId`, `x-amz-apigw-id`; `X-Amzn-Trace-Id` once the integration ran),
and every refusal is one of the classes in `errors`, with AWS's status and body.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from serverless_lab.dataplane.apigateway.cognito_authorizer import CognitoAuthorizer
from serverless_lab.dataplane.apigateway.errors import (
    BadGateway,
    EndpointTimeout,
    Forbidden,
    GatewayAnswerError,
    IncompleteSignature,
    IntegrationThrottled,
    InternalServerError,
    InvalidApiKey,
    MissingAuthenticationToken,
    RequestTooLarge,
)
from serverless_lab.dataplane.apigateway.invoke_permission import (
    InvokePermissions,
    PolicySource,
    integration_source_arn,
)
from serverless_lab.dataplane.apigateway.lambda_authorizer import LambdaAuthorizer
from serverless_lab.dataplane.apigateway.model import IntegrationConfig, RestApiConfig
from serverless_lab.dataplane.apigateway.proxy_event import RequestIds, build_proxy_event, matches_media_type
from serverless_lab.dataplane.apigateway.request_parameters import parameter_value
from serverless_lab.dataplane.apigateway.request_validation import validate_request
from serverless_lab.dataplane.apigateway.routing import RouteMatch, RouteTable
from serverless_lab.dataplane.apigateway.stage_throttling import StageThrottle
from serverless_lab.dataplane.apigateway.usage_plans import ApiKeyGrant, UsagePlanMeter
from serverless_lab.dataplane.http import HttpRequest, HttpResponse
from serverless_lab.dataplane.lambda_.invoke_api import FUNCTION_NAME
from serverless_lab.errors import LabError

__all__ = [
    "MAX_REQUEST_BODY_BYTES",
    "REMAPPED_RESPONSE_HEADERS",
    "Gateway",
    "LambdaResult",
    "answer_mock",
    "gateway_error_response",
    "map_proxy_result",
    "with_stage_variables",
]

# REST API payload quota: 10 MB (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024

# Headers a REST API will not pass from the integration as they are: it sends them as
# x-amzn-Remapped-<name> and sets its own (API Gateway important notes for REST APIs, header table).
REMAPPED_RESPONSE_HEADERS = frozenset(
    {
        "authorization",
        "connection",
        "content-length",
        "date",
        "server",
        "www-authenticate",
        "x-amzn-requestid",
    }
)
_MAX_KEPT_MATCHES = 1024  # route matches kept per stage
_NOT_MATCHED_YET = object()
_STATIC_PARAMETER = re.compile(r"^'(.*)'$", re.DOTALL)
_TEMPLATE_STATUS = re.compile(r"\"statusCode\"\s*:\s*\"?(\d{3})")


@dataclass
class LambdaResult:
    """What a synchronous Invoke of the function gave back, as the gateway needs it.

    `payload` is the response payload (bytes or str of JSON, or the already-decoded object);
    `function_error` is Lambda's X-Amz-Function-Error ("Unhandled"), with `error` its error object (a
    function that hits its own timeout ends here too); `throttled` is Lambda's 429 TooManyRequests;
    `timed_out` means the integration timeout the gateway passed ran out before an answer.
    `trace` gives what the lambda span carries (cold start, init/duration, billed ms...); it is called
    only when a span is recorded, and most requests record none.
    """

    payload: bytes | str | dict[str, Any] | list[Any] | None = None
    function_error: str | None = None
    error: dict[str, Any] | None = None
    throttled: bool = False
    timed_out: bool = False
    trace: Callable[[], dict[str, Any]] | None = field(default=None, repr=False, compare=False)


Span = dict[str, Any]


# (method authorizationType, authorizer type) pairs the lab serves.
_SERVED_AUTHORIZERS = frozenset(
    {("COGNITO_USER_POOLS", "COGNITO_USER_POOLS"), ("CUSTOM", "TOKEN"), ("CUSTOM", "REQUEST")}
)


@dataclass(slots=True)  # not frozen: made on every authorized request, and frozen __init__ costs more
class _Authorized:
    """What the method's authorizer let through: a Cognito authorizer's claims, or a Lambda authorizer's
    requestContext.authorizer and the API key it named (usageIdentifierKey)."""

    claims: dict[str, str] | None = None
    context: dict[str, Any] | None = None
    usage_identifier_key: str | None = None


@dataclass(slots=True)
class _RequestState:
    """What handle() learns while serving one request: the API once resolved, the route once matched, the
    gateway span's detail (None when no spans are asked for)."""

    detail: dict[str, Any] | None
    api: RestApiConfig | None = None
    route: RouteMatch | None = None


_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")


def with_stage_variables(text: str, variables: Mapping[str, str]) -> str:
    """An integration URI with its `${stageVariables.<name>}` references filled in from the stage.

    API Gateway fills them in for each request, which is how one API invokes a different function or
    alias per stage (`...:function:items:${stageVariables.alias}`, "Set up stage variables for REST APIs"
    in the API Gateway developer guide). A variable the stage does not define becomes empty; the function
    it names then does not exist, and the request fails with 500 as on AWS.
    """
    return _STAGE_VARIABLE.sub(lambda found: variables.get(found.group(1), ""), text)


class Gateway:
    """Serves the deployed stages of REST APIs, the way `https://<id>.execute-api...` does."""

    def __init__(
        self,
        *,
        api_source: Callable[[str, str], RestApiConfig],
        invoke: Callable[[str, dict[str, Any], float], LambdaResult],
        jwks_source: Callable[[str], Mapping[str, Any]],
        clock: Callable[[], float] = time.time,
        account_id: str = "123456789012",
        app_clients_source: Callable[[str], Collection[str]] | None = None,
        api_keys_source: Callable[[str, str], Mapping[str, ApiKeyGrant]] | None = None,
        function_policy_source: PolicySource,
    ) -> None:
        self._api_source = api_source
        # The enabled API keys of a stage's usage plans by value; none when not given (every key refused).
        self._api_keys_source = api_keys_source or (lambda rest_api_id, stage: {})
        self._usage = UsagePlanMeter()
        self._stage_throttle = StageThrottle()
        self._invoke = invoke
        self._clock = clock
        self._account_id = account_id
        self._authorizer = CognitoAuthorizer(jwks_source, clock, app_clients_source)
        # Lambda runs a function for API Gateway only when its resource policy lets it (invoke_permission).
        self._permissions = InvokePermissions(function_policy_source, account_id=account_id)
        self._lambda_authorizer = LambdaAuthorizer(
            invoke, account_id=account_id, permissions=self._permissions
        )
        # Per stage: the API it was built for, its route table, and the matches made so far.
        self._route_tables: dict[
            tuple[str, str], tuple[RestApiConfig, RouteTable, dict[tuple[str, str], RouteMatch | None]]
        ] = {}

    def handle(
        self, request: HttpRequest, rest_api_id: str, stage: str, spans: list[Span] | None = None
    ) -> HttpResponse:
        """Answer one request; `request.path` is the path after `/<stage>`.

        When `spans` is given, one dict per step is appended to it: {component: "gateway" |
        "authorizer" | "lambda", operation, start (epoch s), duration_ms, status, detail}.
        """
        ids = self._new_ids(request)
        started = time.perf_counter()
        state = _RequestState({"api_id": rest_api_id, "stage": stage} if spans is not None else None)
        try:
            response = self._serve(request, rest_api_id, stage, ids, spans, state)
        except GatewayAnswerError as error:
            response = gateway_error_response(error, state.api, request, ids, state.route)
            if state.detail is not None:
                state.detail["error"] = type(error).__name__
                if error.message != (error.body_message or type(error).__doc__):
                    state.detail["cause"] = error.message  # what to fix, beyond AWS's terse body
            response.set_headers(
                (("x-amzn-RequestId", ids.request_id), ("x-amz-apigw-id", ids.extended_request_id))
            )
        else:
            # X-Amzn-Trace-Id only once the integration ran; the three set in one pass over the headers.
            response.set_headers(
                (
                    ("X-Amzn-Trace-Id", ids.trace_id),
                    ("x-amzn-RequestId", ids.request_id),
                    ("x-amz-apigw-id", ids.extended_request_id),
                )
            )
        if spans is not None and state.detail is not None:
            _record(
                spans,
                "gateway",
                f"{request.method} {request.path}",
                ids.epoch_seconds,
                started,
                response.status,
                {**state.detail, "request_id": ids.request_id},
            )
        return response

    def _serve(
        self,
        request: HttpRequest,
        rest_api_id: str,
        stage: str,
        ids: RequestIds,
        spans: list[Span] | None,
        state: _RequestState,
    ) -> HttpResponse:
        if len(request.body) > MAX_REQUEST_BODY_BYTES:
            raise RequestTooLarge()
        try:
            api = self._api_source(rest_api_id, stage)
        except LookupError as error:
            raise Forbidden() from error
        state.api = api
        route = state.route = self._match(rest_api_id, stage, api, request.method, request.path)
        if route is None:
            authorization = request.header("Authorization")
            if authorization:
                has_date = request.header("X-Amz-Date") is not None or request.header("Date") is not None
                raise IncompleteSignature(authorization, has_date)
            raise MissingAuthenticationToken()
        if state.detail is not None:
            state.detail["resource"] = route.resource.path
        self._stage_throttle.admit(api, route.resource.path, route.method.http_method)
        authorized = self._authorize(request, api, route, ids, spans)
        # After the authorizer, as on API Gateway: the API key, then its usage plan's throttle and quota.
        api_key = (
            self._check_api_key(request, api, route, rest_api_id, stage, authorized)
            if route.method.api_key_required
            else None
        )
        if route.method.request_validator_id is not None:  # then the method's request validator
            validate_request(request, api, route.method, route.path_parameters)
        integration = route.method.integration
        if integration is None:
            raise InternalServerError()
        if integration.type == "AWS_PROXY":
            response = self._invoke_lambda(request, api, route, integration, ids, authorized, spans, api_key)
        elif integration.type == "MOCK":
            response = answer_mock(integration, request)
        else:
            # AWS, HTTP and HTTP_PROXY integrations are not served by the lab: a configuration error.
            raise InternalServerError()
        return response

    def _authorize(
        self,
        request: HttpRequest,
        api: RestApiConfig,
        route: RouteMatch,
        ids: RequestIds,
        spans: list[Span] | None,
    ) -> _Authorized | None:
        kind = route.method.authorization_type
        if kind == "NONE":
            return None
        if kind == "AWS_IAM" and request.header("Authorization") is None:
            raise MissingAuthenticationToken()  # an IAM-authorized method without a SigV4 signature
        authorizer = api.authorizers.get(route.method.authorizer_id or "")
        if authorizer is None or (kind, authorizer.type) not in _SERVED_AUTHORIZERS:
            raise InternalServerError()  # IAM authorization is not served by the lab
        if spans is None and kind == "COGNITO_USER_POOLS":  # the common case, without the span's bookkeeping
            return _Authorized(claims=self._authorizer.authorize(request, authorizer, route.method).claims)
        start, started = (self._clock(), time.perf_counter()) if spans is not None else (0.0, 0.0)
        status, detail = 500, {"type": authorizer.type}  # until the authorizer answers
        try:
            if kind == "COGNITO_USER_POOLS":
                result = self._authorizer.authorize(request, authorizer, route.method)
                authorized = _Authorized(claims=result.claims)
                if spans is not None:
                    detail.update(
                        token_use=result.token_use,
                        sub=result.claims.get("sub"),
                        jwks_cache="hit" if result.jwks_cache_hit else "miss",
                        result_cache="hit" if result.result_cache_hit else "miss",
                    )
            else:
                allowed = self._lambda_authorizer.authorize(
                    request,
                    api,
                    authorizer,
                    lambda: build_proxy_event(request, api, route, ids, self._account_id),
                )
                authorized = _Authorized(
                    context=allowed.context, usage_identifier_key=allowed.usage_identifier_key
                )
                if spans is not None:
                    detail.update(
                        principal_id=allowed.principal_id,
                        function_arn=authorizer.function_arn,
                        result_cache="hit" if allowed.cache_hit else "miss",
                    )
            status = 200
        except GatewayAnswerError as error:
            if spans is not None:
                status, detail["error"] = error.status, type(error).__name__
            raise
        finally:
            if spans is not None:
                _record(spans, "authorizer", authorizer.name or authorizer.id, start, started, status, detail)
        return authorized

    def _check_api_key(
        self,
        request: HttpRequest,
        api: RestApiConfig,
        route: RouteMatch,
        rest_api_id: str,
        stage: str,
        authorized: _Authorized | None,
    ) -> tuple[str, str]:
        """The (value, id) of the valid API key, counted against its usage plan: from x-api-key, or, for an
        API whose key source is AUTHORIZER, the usageIdentifierKey its Lambda authorizer answered."""
        if api.api_key_source == "AUTHORIZER":
            value = authorized.usage_identifier_key if authorized is not None else None
        else:
            value = request.header("x-api-key")
        grant = self._api_keys_source(rest_api_id, stage).get(value) if value else None
        if grant is None:
            raise InvalidApiKey()
        self._usage.admit(grant, f"{route.resource.path}/{route.method.http_method}")
        return value, grant.key_id  # type: ignore[return-value]

    def _invoke_lambda(
        self,
        request: HttpRequest,
        api: RestApiConfig,
        route: RouteMatch,
        integration: IntegrationConfig,
        ids: RequestIds,
        authorized: _Authorized | None,
        spans: list[Span] | None,
        api_key: tuple[str, str] | None = None,
    ) -> HttpResponse:
        function_arn = integration.function_arn
        if function_arn is None:
            raise InternalServerError()
        if "${stageVariables." in function_arn:
            function_arn = with_stage_variables(function_arn, api.stage.variables)
            if not FUNCTION_NAME.fullmatch(function_arn):  # e.g. "...:function:items:" (variable unset)
                raise InternalServerError()
        if integration.credentials is None:  # with a role to assume, its IAM policies decide instead
            source_arn = integration_source_arn(
                api, self._account_id, request.method.upper(), route.resource.path
            )
            refused = self._permissions.refusal(function_arn, source_arn, api.region)
            if refused is not None:
                raise InternalServerError(refused)
        event = build_proxy_event(
            request,
            api,
            route,
            ids,
            self._account_id,
            authorized.claims if authorized is not None else None,
            api_key,
            authorized.context if authorized is not None else None,
        )
        start, started = self._clock(), time.perf_counter()
        try:
            result = self._invoke(function_arn, event, integration.timeout_in_millis / 1000)
        except LabError as error:
            # Lambda refused the invoke (no such function, no permission): API Gateway answers 500.
            _record(spans, "lambda", function_arn, start, started, error.status, {"error": error.message})
            raise InternalServerError() from error
        if spans is not None:
            outcome = {
                "function_arn": function_arn,
                "function_error": result.function_error,
                "throttled": result.throttled,
                "timed_out": result.timed_out,
                **(result.trace() if result.trace is not None else {}),
            }
            _record(spans, "lambda", function_arn, start, started, _invoke_status(result), outcome)
        if result.timed_out:
            raise EndpointTimeout()
        if result.throttled:
            raise IntegrationThrottled()  # Lambda's 429 reaches the client as 500 unless customised, per AWS
        if result.function_error:
            raise BadGateway()
        return map_proxy_result(result.payload, request.header("Accept"), api.binary_media_types)

    def _match(
        self, rest_api_id: str, stage: str, api: RestApiConfig, method: str, path: str
    ) -> RouteMatch | None:
        """The route table's match, kept per deployed API: clients repeat the same few paths, and a
        match (segments, percent-decoding, the tree walk) costs more than the lookup. The RouteMatch is
        shared between requests, which only read it (the event gets a copy of its path parameters)."""
        cached = self._route_tables.get((rest_api_id, stage))
        if cached is None or cached[0] is not api:
            cached = (api, RouteTable(api.resources), {})
            self._route_tables[(rest_api_id, stage)] = cached
        matches = cached[2]
        key = (method, path)
        found = matches.get(key, _NOT_MATCHED_YET)
        if found is _NOT_MATCHED_YET:
            found = cached[1].match(method, path)
            if len(matches) >= _MAX_KEPT_MATCHES:
                matches.clear()  # unbounded paths (/items/<id>): start again rather than grow
            matches[key] = found
        return found  # type: ignore[return-value]

    def _new_ids(self, request: HttpRequest) -> RequestIds:
        now = self._clock()
        incoming = request.header("X-Amzn-Trace-Id") or ""
        # One getrandom() call for the three ids (16 bytes of UUID, 12 of trace id, 11 of apigw id)
        # instead of one each: a system call less per request on the hot path.
        random = os.urandom(39)
        trace_id = (
            incoming if incoming.startswith("Root=") else f"Root=1-{int(now):08x}-{random[16:28].hex()}"
        )
        return RequestIds(
            uuid4_text(random[:16]),
            # extendedRequestId / x-amz-apigw-id look like "LLCm7FonFiAFXFg=": 11 random bytes in base64.
            binascii.b2a_base64(random[28:], newline=False).decode("ascii"),
            trace_id,
            now,
        )


def uuid4_text(random: bytes) -> str:
    """`str(uuid.UUID(bytes=random, version=4))` for 16 random bytes, written from their hex directly.

    The same text (version nibble 4, RFC 4122 variant bits 10 over the high nibble of byte 8) in about a
    quarter of the time: uuid.UUID goes through a 128-bit int and its own checks, ~2 us a request.
    """
    digits = random.hex()
    variant = "89ab"[(random[8] >> 4) & 3]
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


def gateway_error_response(
    error: GatewayAnswerError,
    api: RestApiConfig | None,
    request: HttpRequest,
    ids: RequestIds,
    route: RouteMatch | None = None,
) -> HttpResponse:
    """API Gateway's own answer, with the API's customized gateway response applied when it has one.

    The customization of the error's type is used, else DEFAULT_4XX / DEFAULT_5XX
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html):
    its statusCode, its `gatewayresponse.header.*` parameters (a static `'value'`, or any request
    parameter: `method.request.header|querystring|path.<name>`, `stageVariables.<name>`) and its
    application/json template. `route`: the matched route, when the error came after routing.
    """
    status, body, content_type = error.status, error.body(), error.content_type
    headers: list[tuple[str, str]] = []
    custom = None
    if api is not None and error.response_type is not None:
        fallback = "DEFAULT_4XX" if error.status < 500 else "DEFAULT_5XX"
        custom = api.gateway_responses.get(error.response_type) or api.gateway_responses.get(fallback)
    if custom is not None:
        status = custom.status_code or status
        for key, source in custom.response_parameters.items():
            if not key.startswith("gatewayresponse.header."):
                continue
            value = _parameter_value(source, request, api, route)
            if value is not None:
                headers.append((key.removeprefix("gatewayresponse.header."), value))
        template = custom.response_templates.get("application/json")
        if template is not None:
            body = _render_error_template(template, error, ids, api, request, route).encode("utf-8")
            content_type = "application/json"
    response = HttpResponse(status, [("Content-Type", content_type), *headers], body)
    if error.error_type:
        response.headers.append(("x-amzn-ErrorType", error.error_type))
    return response


def _parameter_value(
    source: str, request: HttpRequest, api: RestApiConfig, route: RouteMatch | None
) -> str | None:
    static = _STATIC_PARAMETER.match(source or "")
    if static:
        return static[1]
    return parameter_value(
        request,
        source,
        path_parameters=route.path_parameters if route is not None else None,
        stage_variables=api.stage.variables,
    )


def _render_error_template(
    template: str,
    error: GatewayAnswerError,
    ids: RequestIds,
    api: RestApiConfig,
    request: HttpRequest,
    route: RouteMatch | None,
) -> str:
    """The $context variables gateway response templates commonly use; VTL beyond them is not evaluated."""
    values = {
        "$context.error.messageString": json.dumps(error.body_message),
        "$context.error.message": error.body_message or "",
        "$context.error.responseType": error.response_type or "",
        "$context.error.validationErrorString": f"[{', '.join(error.validation_errors)}]",
        "$context.requestId": ids.request_id,
        "$context.extendedRequestId": ids.extended_request_id,
        "$context.apiId": api.id,
        "$context.stage": api.stage.name,
        "$context.httpMethod": request.method.upper(),
        "$context.path": f"/{api.stage.name}{request.path}",
        "$context.resourcePath": route.resource.path if route is not None else "",
        "$context.identity.sourceIp": request.source_ip,
    }
    pattern = re.compile("|".join(re.escape(name) for name in sorted(values, key=len, reverse=True)))
    return pattern.sub(lambda found: values[found[0]], template)


_PROXY_RESULT_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})


def map_proxy_result(
    payload: bytes | str | dict[str, Any] | list[Any] | None,
    accept: str | None,
    binary_media_types: tuple[str, ...],
) -> HttpResponse:
    """Turn a Lambda proxy result into the HTTP answer, or BadGateway for a malformed one.

    The output format is statusCode (200 when left out), headers, multiValueHeaders, body (a string),
    isBase64Encoded, and nothing else (API Gateway answers anything else with 502, as LocalStack's tests
    validated against AWS record: {"statusCode": 200, "wrongValue": ...} is 502, {} is 200). When
    a name is in both header maps only the multiValueHeaders values are sent; connection-level headers
    (Date, Server, Content-Length...) come back as x-amzn-Remapped-<name>. A base64 body is decoded
    only when the first Accept type matches binaryMediaTypes; otherwise the base64 text is passed on.
    """
    result = _decode_payload(payload)
    # Only the five keys of the output format: any other ("cookies" of the HTTP API's format 2.0, a typo)
    # makes the answer malformed, 502. None of the five is required: {} is a 200 with an empty body.
    if not isinstance(result, dict) or not result.keys() <= _PROXY_RESULT_KEYS:
        raise BadGateway()
    status = _status_code(result.get("statusCode"))
    single_value, multi_value = result.get("headers"), result.get("multiValueHeaders")
    single = _header_map(single_value, multi=False) if single_value is not None else []
    multi = _header_map(multi_value, multi=True) if multi_value is not None else []
    body = result.get("body")
    is_base64 = result.get("isBase64Encoded", False)
    if (body is not None and not isinstance(body, str)) or not isinstance(is_base64, bool | None):
        raise BadGateway()
    if multi:
        multi_names = {name.lower() for name, _ in multi}
        single = [(name, value) for name, value in single if name.lower() not in multi_names]
    # One pass: remap connection-level names, and see whether a Content-Type came back.
    headers: list[tuple[str, str]] = []
    has_content_type = False
    for name, value in single + multi if multi else single:
        lower = name.lower()
        if lower in REMAPPED_RESPONSE_HEADERS:
            name = f"x-amzn-Remapped-{name}"
        elif lower == "content-type":
            has_content_type = True
        headers.append((name, value))
    if not has_content_type:
        headers.append(("Content-Type", "application/json"))  # API Gateway's default for proxy answers
    body_bytes = body.encode("utf-8") if body else b""
    if is_base64 and body and matches_media_type((accept or "").split(",")[0], binary_media_types):
        try:
            body_bytes = base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise InternalServerError() from error  # API_CONFIGURATION_ERROR: base64 decoding failed
    return HttpResponse(status, headers, body_bytes)


def answer_mock(integration: IntegrationConfig, request: HttpRequest) -> HttpResponse:
    """A MOCK integration (the CORS preflight): status from the request template, static headers."""
    content_type = (request.header("Content-Type") or "application/json").split(";")[0].strip().lower()
    templates = integration.request_templates
    template = templates.get(content_type) or templates.get("application/json") or ""
    found = _TEMPLATE_STATUS.search(template)
    status_code = found[1] if found else "200"
    chosen = None
    for response in integration.integration_responses.values():
        if response.selection_pattern and re.fullmatch(response.selection_pattern, status_code):
            chosen = response
            break
        if not response.selection_pattern and chosen is None:
            chosen = response  # the default integration response
    if chosen is None:
        raise InternalServerError()  # "No match for output mapping and no default output mapping"
    headers = [("Content-Type", "application/json")]
    for key, value in chosen.response_parameters.items():
        static = _STATIC_PARAMETER.match(value or "")
        if key.startswith("method.response.header.") and static:
            headers.append((key.removeprefix("method.response.header."), static[1]))
    body_template = chosen.response_templates.get("application/json") or ""
    return HttpResponse(int(chosen.status_code), headers, body_template.encode("utf-8"))


def _decode_payload(payload: bytes | str | dict[str, Any] | list[Any] | None) -> Any:
    if isinstance(payload, bytes | str):
        try:
            return json.loads(payload)
        except ValueError:
            return None
    return payload


def _status_code(value: Any) -> int:
    if value is None:
        return 200
    if isinstance(value, bool):
        raise BadGateway()
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or not 100 <= value <= 599:
        raise BadGateway()
    return value


def _header_map(value: Any, *, multi: bool) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise BadGateway()
    pairs: list[tuple[str, str]] = []
    for name, entry in value.items():
        if not multi:
            if entry is not None:
                pairs.append((name if type(name) is str else str(name), _header_value(entry)))
            continue
        if not isinstance(entry, list):
            raise BadGateway()
        pairs += [(str(name), _header_value(item)) for item in entry if item is not None]
    return pairs


def _header_value(value: Any) -> str:
    if type(value) is str:  # nearly every value: skip the checks below
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise BadGateway()


def _invoke_status(result: LambdaResult) -> int:
    if result.timed_out:
        return 504
    if result.throttled:
        return 429
    return 500 if result.function_error else 200


def _record(
    spans: list[Span] | None,
    component: str,
    operation: str,
    start: float,
    started: float,
    status: int,
    detail: dict[str, Any],
) -> None:
    if spans is None:
        return
    spans.append(
        {
            "component": component,
            "operation": operation,
            "start": start,
            "duration_ms": (time.perf_counter() - started) * 1000,
            "status": status,
            "detail": detail,
        }
    )
