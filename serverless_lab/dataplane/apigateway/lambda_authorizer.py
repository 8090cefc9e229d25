"""Lambda authorizers (TOKEN and REQUEST) of a REST API: the function decides, API Gateway enforces.

What API Gateway does, as its developer guide describes it ("Use API Gateway Lambda authorizers", "Input to
an API Gateway Lambda authorizer", "Output from an API Gateway Lambda authorizer"):

- TOKEN: the token is the value of the identity source header. Missing or empty, or not matching the
  identityValidationExpression: 401 `{"message":"Unauthorized"}` without calling the function. The
  function gets `{"type": "TOKEN", "authorizationToken": ..., "methodArn": ...}`.
- REQUEST: every identity source (`method.request.header.X`, `method.request.querystring.Y`,
  `stageVariables.Z`) must be present and non-empty, else the same 401 without a call. The function gets
  the request as a proxy integration would (headers, query string, path parameters, stage variables,
  request context) plus `type` and `methodArn`, without the body.
- The methodArn is `arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path>`, the path as
  requested.
- The function answers with `principalId`, an IAM `policyDocument` (statements of `execute-api:Invoke` on
  method ARNs, `*` and `?` as wildcards), an optional `context` (string, number and boolean values only)
  and an optional `usageIdentifierKey` (the API key, for an API whose key source is AUTHORIZER).
  An error whose message is "Unauthorized" is 401; any other error, a timeout or a malformed answer is
  500 `{"message":null}` (AUTHORIZER_CONFIGURATION_ERROR).
- A Deny that matches the methodArn is 403 "User is not authorized to access this resource with an explicit
  deny"; no matching Allow is 403 "User is not authorized to access this resource".
- The answer is cached per identity source values for authorizerResultTtlInSeconds (300 s by default, 0
  turns it off; a REQUEST authorizer without identity sources is never cached). A cached policy is checked
  against the methodArn of each later request: a policy that allows only the first method denies the
  others for as long as it is cached, a classic surprise.
- The function's integration sees `requestContext.authorizer` = `{"principalId", "integrationLatency",
  **context}` with the context values as strings.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from serverless_lab.dataplane.apigateway.errors import (
    AccessDenied,
    AuthorizerConfigurationError,
    ExplicitDeny,
    Unauthorized,
)
from serverless_lab.dataplane.apigateway.invoke_permission import InvokePermissions, authorizer_source_arn
from serverless_lab.dataplane.apigateway.model import AuthorizerConfig, RestApiConfig
from serverless_lab.dataplane.apigateway.request_parameters import parameter_value, reads
from serverless_lab.dataplane.http import HttpRequest
from serverless_lab.dataplane.iam.patterns import action_matches, resource_matches
from serverless_lab.errors import LabError

__all__ = ["AuthorizerPolicy", "LambdaAuthorizer", "method_arn", "policy_allows"]

_MAX_CACHED_RESULTS = 4096
# A REQUEST authorizer gets the request as a proxy integration would, without the body.
_NOT_FOR_REQUEST_AUTHORIZERS = frozenset({"body", "isBase64Encoded"})


class InvokeResult(Protocol):
    """What the gateway's Lambda invoke returns (gateway.LambdaResult)."""

    payload: Any
    function_error: str | None
    error: Mapping[str, Any] | None
    timed_out: bool
    throttled: bool


Invoke = Callable[[str, dict[str, Any], float], InvokeResult]


@dataclass(frozen=True)
class AuthorizerPolicy:
    """What a Lambda authorizer answered, checked: kept in the cache and applied to each method ARN."""

    principal_id: str
    statements: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]  # (effect, actions, resources)
    context: Mapping[str, str | None]
    usage_identifier_key: str | None


def method_arn(api: RestApiConfig, account_id: str, http_method: str, path: str) -> str:
    return f"arn:aws:execute-api:{api.region}:{account_id}:{api.id}/{api.stage.name}/{http_method}{path}"


def policy_allows(policy: AuthorizerPolicy, arn: str) -> None:
    """Raises ExplicitDeny or AccessDenied unless the policy allows invoking `arn`."""
    allowed = False
    for effect, actions, resources in policy.statements:
        if not action_matches(actions, "execute-api:Invoke") or not resource_matches(resources, arn):
            continue
        if effect == "Deny":
            raise ExplicitDeny()
        allowed = True
    if not allowed:
        raise AccessDenied()


def _as_tuple(value: Any) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(item, str) for item in values):
        raise AuthorizerConfigurationError()
    return tuple(values)


def _context_value(value: Any) -> str | None:
    # "Only primitive types ... string, number, boolean" may be context values; API Gateway passes them on
    # as strings (true/false in lower case). An object or array is a configuration error. A null is passed
    # on as null, as a run against AWS shows (DefinitelyTyped pull request 69823: {"null": null} arrives
    # as "null": null, beside "bool": "true" and "num": "123").
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise AuthorizerConfigurationError()


def parse_answer(payload: Any) -> AuthorizerPolicy:
    """The authorizer function's answer, or AuthorizerConfigurationError for a malformed one."""
    if not isinstance(payload, Mapping):
        raise AuthorizerConfigurationError()
    principal = payload.get("principalId")
    document = payload.get("policyDocument")
    if not isinstance(principal, str) or not isinstance(document, Mapping):
        raise AuthorizerConfigurationError()
    raw_statements = document.get("Statement")
    if isinstance(raw_statements, Mapping):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise AuthorizerConfigurationError()
    statements = []
    for statement in raw_statements:
        if not isinstance(statement, Mapping) or statement.get("Effect") not in ("Allow", "Deny"):
            raise AuthorizerConfigurationError()
        statements.append(
            (statement["Effect"], _as_tuple(statement.get("Action")), _as_tuple(statement.get("Resource")))
        )
    context = payload.get("context") or {}
    if not isinstance(context, Mapping):
        raise AuthorizerConfigurationError()
    usage_key = payload.get("usageIdentifierKey")
    return AuthorizerPolicy(
        principal_id=principal,
        statements=tuple(statements),
        context={str(key): _context_value(value) for key, value in context.items()},
        usage_identifier_key=usage_key if isinstance(usage_key, str) else None,
    )


@dataclass(frozen=True)
class LambdaAuthorization:
    """An allowed request: requestContext.authorizer for the integration, the API key the function named,
    and whether the policy came from the cache."""

    context: dict[str, Any]
    usage_identifier_key: str | None
    cache_hit: bool
    principal_id: str


class LambdaAuthorizer:
    """Runs TOKEN and REQUEST authorizers through `invoke` (the gateway's Lambda invoke) and caches them."""

    def __init__(
        self,
        invoke: Invoke,
        *,
        account_id: str,
        permissions: InvokePermissions,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._invoke = invoke
        self._permissions = permissions
        self._account_id = account_id
        self._clock = clock
        self._results: dict[tuple[str, ...], tuple[float, AuthorizerPolicy]] = {}
        self._lock = threading.Lock()

    def authorize(
        self,
        request: HttpRequest,
        api: RestApiConfig,
        authorizer: AuthorizerConfig,
        request_event: Callable[[], dict[str, Any]],
    ) -> LambdaAuthorization:
        """Allow the request or raise API Gateway's answer; `request_event` builds the proxy event of the
        request (the REQUEST authorizer's input)."""
        arn = method_arn(api, self._account_id, request.method.upper(), request.path)
        identity = self._identity(request, api, authorizer)
        cache_key = (api.id, api.stage.name, authorizer.id, *identity) if identity else None
        ttl = authorizer.result_ttl_in_seconds
        now = self._clock()
        cached = self._results.get(cache_key) if cache_key is not None and ttl > 0 else None
        if cached is not None and cached[0] > now:
            policy, cache_hit, latency_ms = cached[1], True, 0
        else:
            started = time.perf_counter()
            policy = self._call(api, authorizer, self._input(authorizer, identity, arn, request_event))
            latency_ms = round((time.perf_counter() - started) * 1000)
            cache_hit = False
            if cache_key is not None and ttl > 0:
                with self._lock:
                    if len(self._results) >= _MAX_CACHED_RESULTS:
                        self._results.clear()
                    self._results[cache_key] = (now + ttl, policy)
        policy_allows(policy, arn)
        return LambdaAuthorization(
            context={"principalId": policy.principal_id, "integrationLatency": latency_ms, **policy.context},
            usage_identifier_key=policy.usage_identifier_key,
            cache_hit=cache_hit,
            principal_id=policy.principal_id,
        )

    @staticmethod
    def _identity(request: HttpRequest, api: RestApiConfig, authorizer: AuthorizerConfig) -> tuple[str, ...]:
        """The identity source values; Unauthorized when one is missing or empty, or a TOKEN fails the
        identityValidationExpression."""
        if authorizer.type == "TOKEN":
            token = request.header(authorizer.header_name or "Authorization") or ""
            if not token:
                raise Unauthorized()
            expression = authorizer.identity_validation_expression
            if expression and not re.fullmatch(expression, token):
                raise Unauthorized()
            return (token,)
        values = []
        for source in filter(None, (part.strip() for part in authorizer.identity_source.split(","))):
            if not reads(source):  # context variables: not read by the lab, so they identify nothing
                continue
            value = parameter_value(request, source, stage_variables=api.stage.variables)
            if not value:
                raise Unauthorized()
            values.append(f"{source}={value}")
        return tuple(values)

    @staticmethod
    def _input(
        authorizer: AuthorizerConfig,
        identity: tuple[str, ...],
        arn: str,
        request_event: Callable[[], dict[str, Any]],
    ) -> dict[str, Any]:
        if authorizer.type == "TOKEN":
            return {"type": "TOKEN", "authorizationToken": identity[0], "methodArn": arn}
        fields = {k: v for k, v in request_event().items() if k not in _NOT_FOR_REQUEST_AUTHORIZERS}
        return {"type": "REQUEST", "methodArn": arn, **fields}

    def _call(
        self, api: RestApiConfig, authorizer: AuthorizerConfig, event: dict[str, Any]
    ) -> AuthorizerPolicy:
        function_arn = authorizer.function_arn
        if function_arn is None:
            raise AuthorizerConfigurationError()
        if authorizer.credentials is None:  # with a role to assume, its IAM policies decide instead
            source_arn = authorizer_source_arn(api, self._account_id, authorizer.id)
            refused = self._permissions.refusal(function_arn, source_arn, api.region)
            if refused is not None:
                raise AuthorizerConfigurationError(refused)
        try:
            # API Gateway waits for an authorizer as long as for an integration: 29 s at most.
            result = self._invoke(function_arn, event, 29.0)
        except LabError as error:  # no such function, no permission
            raise AuthorizerConfigurationError() from error
        if result.function_error:
            message = (result.error or {}).get("errorMessage")
            if message == "Unauthorized":  # the documented way for a function to answer 401
                raise Unauthorized()
            raise AuthorizerConfigurationError()
        if result.timed_out or result.throttled:
            raise AuthorizerConfigurationError()
        payload = result.payload
        if isinstance(payload, bytes | bytearray):
            try:
                payload = json.loads(payload)
            except ValueError:
                raise AuthorizerConfigurationError() from None
        return parse_answer(payload)
