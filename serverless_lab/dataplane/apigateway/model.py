"""A deployed REST API stage as plain values: what the local API Gateway needs to serve it.

Every dataclass maps 1:1 onto an API Gateway REST resource as boto3 returns it (`get_rest_api`,
`get_resources(embed=["methods"])`, `get_authorizers`, `get_stage`), with the same field names in
snake_case. `rest_api_from_boto3()` builds one from those raw responses; the data plane never imports
boto3 itself.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_TIMEOUT_MS",
    "AuthorizerConfig",
    "GatewayResponseConfig",
    "IntegrationConfig",
    "IntegrationResponseConfig",
    "MethodConfig",
    "ResourceConfig",
    "RestApiConfig",
    "StageConfig",
    "rest_api_from_boto3",
]

# Integration timeout of a REST API when timeoutInMillis is not set: 29 seconds.
DEFAULT_TIMEOUT_MS = 29_000

_LAMBDA_URI = re.compile(
    r"^arn:aws[\w-]*:apigateway:(?P<region>[\w-]+):lambda:path/2015-03-31/functions/"
    r"(?P<function_arn>.+)/invocations$"
)
_USER_POOL_ARN = re.compile(
    r"^arn:aws[\w-]*:cognito-idp:(?P<region>[\w-]+):(?P<account>\d*):userpool/(?P<pool_id>[\w-]+)$"
)


@dataclass(frozen=True)
class IntegrationResponseConfig:
    """One integration response (used by MOCK integrations, e.g. the CORS preflight)."""

    status_code: str
    selection_pattern: str | None = None
    response_parameters: Mapping[str, str] = field(default_factory=dict)
    response_templates: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class IntegrationConfig:
    """A method's integration: AWS_PROXY to a Lambda function, MOCK, or a type we do not serve."""

    type: str
    uri: str | None = None
    http_method: str | None = None
    timeout_in_millis: int = DEFAULT_TIMEOUT_MS
    request_templates: Mapping[str, str] = field(default_factory=dict)
    integration_responses: Mapping[str, IntegrationResponseConfig] = field(default_factory=dict)
    passthrough_behavior: str | None = None
    content_handling: str | None = None
    # An IAM role API Gateway assumes to invoke the function; without one, the function's resource policy
    # must let apigateway.amazonaws.com invoke it (invoke_permission.py).
    credentials: str | None = None

    @property
    def function_arn(self) -> str | None:
        """The Lambda function ARN inside an `arn:aws:apigateway:<region>:lambda:path/...` URI."""
        return _function_arn(self.uri or "")


@dataclass(frozen=True)
class MethodConfig:
    """One HTTP method on a resource (`ANY` matches every method)."""

    http_method: str
    authorization_type: str = "NONE"
    authorizer_id: str | None = None
    authorization_scopes: tuple[str, ...] = ()
    api_key_required: bool = False
    integration: IntegrationConfig | None = None
    request_validator_id: str | None = None
    # method.request.{querystring,header,path}.<name> -> required
    request_parameters: Mapping[str, bool] = field(default_factory=dict)
    request_models: Mapping[str, str] = field(default_factory=dict)  # content type -> model name


@dataclass(frozen=True)
class ResourceConfig:
    """One resource of the API tree, e.g. `/items/{id}` or `/{proxy+}`."""

    id: str
    path: str
    parent_id: str | None = None
    path_part: str | None = None
    methods: Mapping[str, MethodConfig] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthorizerConfig:
    """An authorizer: COGNITO_USER_POOLS (provider_arns), or a Lambda authorizer, TOKEN or REQUEST
    (authorizer_uri names its function)."""

    id: str
    name: str
    type: str
    provider_arns: tuple[str, ...] = ()
    identity_source: str = "method.request.header.Authorization"
    identity_validation_expression: str | None = None
    result_ttl_in_seconds: int = 300
    authorizer_uri: str | None = None
    credentials: str | None = None  # authorizerCredentials: an IAM role instead of the resource policy

    @property
    def function_arn(self) -> str | None:
        """The Lambda function of a TOKEN or REQUEST authorizer, from its authorizerUri."""
        return _function_arn(self.authorizer_uri or "")

    @property
    def header_name(self) -> str | None:
        """The request header holding the token (`method.request.header.<Name>`)."""
        return _header_name(self.identity_source)

    @property
    def issuers(self) -> tuple[str, ...]:
        """Token issuers of the user pools: `https://cognito-idp.<region>.amazonaws.com/<pool-id>`."""
        issuers = []
        for arn in self.provider_arns:
            found = _USER_POOL_ARN.match(arn)
            if found:
                issuers.append(f"https://cognito-idp.{found['region']}.amazonaws.com/{found['pool_id']}")
        return tuple(issuers)


@dataclass(frozen=True)
class GatewayResponseConfig:
    """A customized gateway response (put_gateway_response), e.g. CORS headers on DEFAULT_4XX."""

    response_type: str
    status_code: int | None = None
    response_parameters: Mapping[str, str] = field(default_factory=dict)
    response_templates: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StageConfig:
    """The stage being served: its name, deployment and stage variables."""

    name: str
    deployment_id: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    # The stage's method throttling from its methodSettings: (rate limit per second, burst limit) by
    # setting key, "*/*" for every method or "<resource path with / as ~1>/<HTTP method>" for one.
    throttles: Mapping[str, tuple[float, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class RestApiConfig:
    """A REST API as deployed to one stage: everything the gateway core needs to answer requests."""

    id: str
    name: str
    region: str
    stage: StageConfig
    resources: tuple[ResourceConfig, ...] = ()
    authorizers: Mapping[str, AuthorizerConfig] = field(default_factory=dict)
    binary_media_types: tuple[str, ...] = ()
    endpoint_types: tuple[str, ...] = ("EDGE",)
    gateway_responses: Mapping[str, GatewayResponseConfig] = field(default_factory=dict)
    api_key_source: str = "HEADER"  # where a method that requires an API key reads it: HEADER or AUTHORIZER
    # Request validators by id: (validate the body, validate the parameters); models (JSON Schema) by name.
    request_validators: Mapping[str, tuple[bool, bool]] = field(default_factory=dict)
    models: Mapping[str, str] = field(default_factory=dict)

    @property
    def domain_name(self) -> str:
        return f"{self.id}.execute-api.{self.region}.amazonaws.com"


# The two properties the gateway reads on every request, cached by their input (a deployed API has a few):
# a regular expression match or a split per request otherwise.
@functools.lru_cache(maxsize=1024)
def _function_arn(uri: str) -> str | None:
    found = _LAMBDA_URI.match(uri)
    return found["function_arn"] if found else None


@functools.lru_cache(maxsize=256)
def _header_name(identity_source: str) -> str | None:
    prefix = "method.request.header."
    source = identity_source.split(",")[0].strip()
    return source[len(prefix) :] if source.startswith(prefix) else None


def rest_api_from_boto3(
    rest_api: Mapping[str, Any],
    resources: Iterable[Mapping[str, Any]],
    authorizers: Iterable[Mapping[str, Any]],
    stage: Mapping[str, Any],
    *,
    gateway_responses: Iterable[Mapping[str, Any]] = (),
    region: str | None = None,
    request_validators: Iterable[Mapping[str, Any]] = (),
    models: Iterable[Mapping[str, Any]] = (),
) -> RestApiConfig:
    """Build a `RestApiConfig` from raw boto3 responses.

    `rest_api` is `get_rest_api()`, `resources` the `items` of `get_resources(embed=["methods"])` (all
    pages), `authorizers` the `items` of `get_authorizers()`, `stage` is `get_stage()`, and the optional
    `gateway_responses` the `items` of `get_gateway_responses()` (AWS lists the untouched defaults too,
    flagged `defaultResponse`; those are skipped). The region is read from the integration URIs or
    user-pool ARNs when not given.
    """
    resource_configs = tuple(_resource_from_boto3(item) for item in resources)
    authorizer_configs = {item["id"]: _authorizer_from_boto3(item) for item in authorizers}
    return RestApiConfig(
        id=rest_api["id"],
        name=rest_api.get("name", ""),
        region=region or _guess_region(resource_configs, authorizer_configs.values()),
        stage=StageConfig(
            name=stage["stageName"],
            deployment_id=stage.get("deploymentId"),
            variables=dict(stage.get("variables") or {}),
            throttles=stage_throttles(stage),
        ),
        resources=resource_configs,
        authorizers=authorizer_configs,
        # Binary media types are stored with "/" escaped as "~1" when added by a patch operation.
        binary_media_types=tuple(t.replace("~1", "/") for t in rest_api.get("binaryMediaTypes") or () if t),
        endpoint_types=tuple((rest_api.get("endpointConfiguration") or {}).get("types") or ("EDGE",)),
        api_key_source=str(rest_api.get("apiKeySource") or "HEADER"),
        request_validators={
            item["id"]: (bool(item.get("validateRequestBody")), bool(item.get("validateRequestParameters")))
            for item in request_validators
        },
        models={item["name"]: item.get("schema") or "{}" for item in models},
        gateway_responses={
            item["responseType"]: GatewayResponseConfig(
                response_type=item["responseType"],
                status_code=int(item["statusCode"]) if item.get("statusCode") else None,
                response_parameters=dict(item.get("responseParameters") or {}),
                response_templates=dict(item.get("responseTemplates") or {}),
            )
            for item in gateway_responses
            if not item.get("defaultResponse")
        },
    )


def _resource_from_boto3(item: Mapping[str, Any]) -> ResourceConfig:
    methods = {
        name.upper(): _method_from_boto3(name, method)
        for name, method in (item.get("resourceMethods") or {}).items()
    }
    return ResourceConfig(
        id=item["id"],
        path=item["path"],
        parent_id=item.get("parentId"),
        path_part=item.get("pathPart"),
        methods=methods,
    )


def _method_from_boto3(name: str, method: Mapping[str, Any]) -> MethodConfig:
    integration = method.get("methodIntegration")
    return MethodConfig(
        http_method=(method.get("httpMethod") or name).upper(),
        authorization_type=method.get("authorizationType") or "NONE",
        authorizer_id=method.get("authorizerId"),
        authorization_scopes=tuple(method.get("authorizationScopes") or ()),
        api_key_required=bool(method.get("apiKeyRequired")),
        integration=_integration_from_boto3(integration) if integration else None,
        request_validator_id=method.get("requestValidatorId"),
        request_parameters={k: bool(v) for k, v in (method.get("requestParameters") or {}).items()},
        request_models=dict(method.get("requestModels") or {}),
    )


def _integration_from_boto3(item: Mapping[str, Any]) -> IntegrationConfig:
    responses = {
        str(code): IntegrationResponseConfig(
            status_code=str(response.get("statusCode", code)),
            selection_pattern=response.get("selectionPattern"),
            response_parameters=dict(response.get("responseParameters") or {}),
            response_templates=dict(response.get("responseTemplates") or {}),
        )
        for code, response in (item.get("integrationResponses") or {}).items()
    }
    timeout = item.get("timeoutInMillis")
    return IntegrationConfig(
        type=item.get("type") or "",
        uri=item.get("uri"),
        http_method=item.get("httpMethod"),
        timeout_in_millis=int(timeout) if timeout not in (None, "") else DEFAULT_TIMEOUT_MS,
        request_templates=dict(item.get("requestTemplates") or {}),
        integration_responses=responses,
        passthrough_behavior=item.get("passthroughBehavior"),
        content_handling=item.get("contentHandling"),
        credentials=item.get("credentials") or None,
    )


def _authorizer_from_boto3(item: Mapping[str, Any]) -> AuthorizerConfig:
    ttl = item.get("authorizerResultTtlInSeconds")
    return AuthorizerConfig(
        id=item["id"],
        name=item.get("name", ""),
        type=item.get("type", ""),
        provider_arns=tuple(item.get("providerARNs") or ()),
        # A REQUEST authorizer may have no identity source (then nothing is cached); the others default to
        # the Authorization header.
        identity_source=item.get("identitySource")
        or ("" if item.get("type") == "REQUEST" else "method.request.header.Authorization"),
        identity_validation_expression=item.get("identityValidationExpression"),
        result_ttl_in_seconds=int(ttl) if ttl is not None else 300,
        authorizer_uri=item.get("authorizerUri"),
        credentials=item.get("authorizerCredentials") or None,
    )


def _guess_region(resources: Iterable[ResourceConfig], authorizers: Iterable[AuthorizerConfig]) -> str:
    for resource in resources:
        for method in resource.methods.values():
            found = _LAMBDA_URI.match((method.integration and method.integration.uri) or "")
            if found:
                return found["region"]
    for authorizer in authorizers:
        for arn in authorizer.provider_arns:
            found = _USER_POOL_ARN.match(arn)
            if found:
                return found["region"]
    return "us-east-1"


def stage_throttles(stage: Mapping[str, Any]) -> dict[str, tuple[float, int]]:
    """(rate, burst) by methodSettings key, for the settings that throttle (a negative limit does not)."""
    throttles = {}
    for key, settings in (stage.get("methodSettings") or {}).items():
        rate, burst = settings.get("throttlingRateLimit"), settings.get("throttlingBurstLimit")
        if rate is not None and burst is not None and float(rate) >= 0 and int(burst) >= 0:
            throttles[key] = (float(rate), int(burst))
    return throttles
