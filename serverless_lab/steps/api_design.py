"""The design of the items REST API as plain data: routes, integrations, CORS preflight, and how to tell
whether what API Gateway holds matches it. Pure (no boto3): the api step plans and verifies with it.

    /items        GET POST          -> Lambda sl-<student>-items     (Cognito authorizer)
    /items/{id}   GET PUT DELETE    -> Lambda sl-<student>-items     (Cognito authorizer)
    /me           GET               -> Lambda sl-<student>-me        (Cognito authorizer)
    each path     OPTIONS           -> MOCK integration answering the CORS preflight, no authorizer
                                       (browsers send the preflight without the Authorization header)
    DEFAULT_4XX, DEFAULT_5XX        -> API Gateway's own errors carry the CORS headers too
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

STAGE = "prod"
# API Gateway's default and largest timeout of a REST API integration (29 s).
INTEGRATION_TIMEOUT_MS = 29000
IDENTITY_SOURCE = "method.request.header.Authorization"
CORS_ALLOW_HEADERS = "Content-Type,Authorization"
CORS_ALLOW_ORIGIN = "*"
CORS_HEADERS = ("Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Access-Control-Allow-Origin")
# A MOCK integration answers with the status code its request template returns
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration.html).
MOCK_TEMPLATE = {"application/json": '{"statusCode": 200}'}
# The method response declares which headers the integration response may set (value: required or not).
CORS_METHOD_RESPONSE = {f"method.response.header.{header}": False for header in CORS_HEADERS}
INVOKE_PRINCIPAL = "apigateway.amazonaws.com"
# Deployment descriptions start with this, then the design_fingerprint() of what they froze.
DEPLOYMENT_MARK = "serverless-lab design "
# API Gateway's own errors (401 from the authorizer, 403, 429, 5xx) carry no CORS header unless the gateway
# responses add one; without it a browser reports a CORS failure instead of the 401 the app could handle
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html).
GATEWAY_RESPONSE_HEADERS = {
    "gatewayresponse.header.Access-Control-Allow-Origin": f"'{CORS_ALLOW_ORIGIN}'",
    "gatewayresponse.header.Access-Control-Allow-Headers": f"'{CORS_ALLOW_HEADERS}'",
}
# A throttled Lambda (its 429) reaches API Gateway as INTEGRATION_FAILURE, which answers 500 "Internal
# server error" unless customised; AWS's own answers on re:Post recommend mapping it to 429 so that
# clients can back off and retry. The cost: any other integration failure also answers 429.
THROTTLED_TEMPLATE = {"application/json": '{"message":"Too Many Requests"}'}


@dataclass(frozen=True)
class GatewayResponse:
    """A customised gateway response: the CORS headers always, a status and a body where AWS's differ."""

    status_code: str | None = None
    templates: dict[str, str] | None = None

    def put_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"responseParameters": GATEWAY_RESPONSE_HEADERS}
        if self.status_code:
            params["statusCode"] = self.status_code
        if self.templates:
            params["responseTemplates"] = self.templates
        return params


GATEWAY_RESPONSES = {
    "DEFAULT_4XX": GatewayResponse(),
    "DEFAULT_5XX": GatewayResponse(),
    "INTEGRATION_FAILURE": GatewayResponse("429", THROTTLED_TEMPLATE),
}
GATEWAY_RESPONSE_TYPES = tuple(GATEWAY_RESPONSES)


@dataclass(frozen=True)
class Route:
    """One API Gateway resource, the function behind it and its methods (OPTIONS is added for CORS)."""

    path: str
    function: str
    methods: tuple[str, ...]

    @property
    def ref_name(self) -> str:
        """The name its new resource id gets in a plan: "/items/{id}" -> "resource_items_id"."""
        words = "".join(c if c.isalnum() else " " for c in self.path).split()
        return "_".join(["resource", *words])

    @property
    def parent(self) -> str:
        return self.path.rsplit("/", 1)[0] or "/"

    @property
    def path_part(self) -> str:
        return self.path.rsplit("/", 1)[1]

    @property
    def allowed_methods(self) -> str:
        return ",".join((*self.methods, "OPTIONS"))

    @property
    def all_methods(self) -> tuple[str, ...]:
        return (*self.methods, "OPTIONS")


ROUTES = (
    Route("/items", "items", ("GET", "POST")),
    Route("/items/{id}", "items", ("GET", "PUT", "DELETE")),
    Route("/me", "me", ("GET",)),
)
FUNCTIONS = tuple(sorted({route.function for route in ROUTES}))


def lambda_uri(partition: str, region: str, function_arn: str) -> str:
    """The integration URI of Lambda's Invoke API for a function."""
    return f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def cors_response_parameters(route: Route) -> dict[str, str]:
    """The preflight's header values; quoted, because API Gateway reads '...' as a literal."""
    values = (CORS_ALLOW_HEADERS, route.allowed_methods, CORS_ALLOW_ORIGIN)
    return {f"method.response.header.{h}": f"'{v}'" for h, v in zip(CORS_HEADERS, values, strict=True)}


def method_params(http_method: str, authorizer_id: Any) -> dict[str, Any]:
    """put_method's settings: the Cognito authorizer, except for the preflight."""
    if http_method == "OPTIONS":
        return {"authorizationType": "NONE"}
    return {"authorizationType": "COGNITO_USER_POOLS", "authorizerId": authorizer_id}


def integration_params(http_method: str, uri: str) -> dict[str, Any]:
    """put_integration's settings. A Lambda proxy integration always calls Invoke with POST, whatever the
    client's method (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html)."""
    if http_method == "OPTIONS":
        return {"type": "MOCK", "requestTemplates": MOCK_TEMPLATE}
    return {
        "type": "AWS_PROXY",
        "integrationHttpMethod": "POST",
        "uri": uri,
        "timeoutInMillis": INTEGRATION_TIMEOUT_MS,
    }


def method_matches(found: dict[str, Any], http_method: str, authorizer_id: Any) -> bool:
    """get_method's answer has the authorization of the design (Cognito, or none for the preflight)."""
    if http_method == "OPTIONS":
        return found.get("authorizationType") == "NONE"
    return (
        found.get("authorizationType") == "COGNITO_USER_POOLS" and found.get("authorizerId") == authorizer_id
    )


def integration_matches(found: dict[str, Any], http_method: str, uri: str) -> bool:
    integration = found.get("methodIntegration") or {}
    if http_method == "OPTIONS":
        return integration.get("type") == "MOCK" and integration.get("requestTemplates") == MOCK_TEMPLATE
    return (
        integration.get("type") == "AWS_PROXY"
        and integration.get("httpMethod") == "POST"
        and integration.get("uri") == uri
        and int(integration.get("timeoutInMillis") or 0) == INTEGRATION_TIMEOUT_MS
    )


def cors_response_matches(found: dict[str, Any], route: Route) -> bool:
    """The preflight declares the CORS headers (method response) and sets the design's values."""
    declared = ((found.get("methodResponses") or {}).get("200") or {}).get("responseParameters")
    if declared != CORS_METHOD_RESPONSE:
        return False
    responses = (found.get("methodIntegration") or {}).get("integrationResponses") or {}
    return (responses.get("200") or {}).get("responseParameters") == cors_response_parameters(route)


def gateway_response_matches(found: dict[str, Any] | None, response_type: str) -> bool:
    """get_gateway_response's answer is customized as GATEWAY_RESPONSES says (AWS answers the untouched
    default, flagged defaultResponse, for a type never customized; moto answers NotFoundException)."""
    if not found or found.get("defaultResponse"):
        return False
    wanted = GATEWAY_RESPONSES[response_type]
    return (
        found.get("responseParameters") == GATEWAY_RESPONSE_HEADERS
        and (wanted.status_code is None or str(found.get("statusCode")) == wanted.status_code)
        and (wanted.templates is None or found.get("responseTemplates") == wanted.templates)
    )


def permission_matches(statement: dict[str, Any], source_arn: str) -> bool:
    """A statement of a function's resource policy lets API Gateway invoke it from exactly this API."""
    principal = statement.get("Principal", {})
    service = principal.get("Service") if isinstance(principal, dict) else principal
    condition = statement.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
    return service == INVOKE_PRINCIPAL and condition == source_arn


def design_fingerprint(authorizer: dict[str, Any], uris: dict[str, str]) -> str:
    """A hash of everything a deployment freezes: routes, integrations, authorizer, CORS, gateway responses.

    Stored in each deployment's description, it lets a plan tell from the backend alone whether the stage
    serves the current design (moto keeps createdDate in whole seconds, too coarse to order changes).
    """
    design = {
        "authorizer": authorizer,
        "routes": [
            {
                "path": r.path,
                "methods": r.methods,
                "uri": uris[r.function],
                "cors": cors_response_parameters(r),
            }
            for r in ROUTES
        ],
        "timeout": INTEGRATION_TIMEOUT_MS,
        "mock": MOCK_TEMPLATE,
        "gateway_responses": {t: r.put_params() for t, r in GATEWAY_RESPONSES.items()},
    }
    return hashlib.sha256(json.dumps(design, sort_keys=True).encode()).hexdigest()[:32]
