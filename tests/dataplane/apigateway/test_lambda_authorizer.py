"""Lambda authorizers (TOKEN and REQUEST) through the gateway core: who is asked, what they are given,
how their policy is enforced and cached, and API Gateway's answers word for word."""

from __future__ import annotations

import dataclasses
from typing import Any

from aws_lambda_powertools.utilities.parser.models import (
    ApiGatewayAuthorizerRequest,
    ApiGatewayAuthorizerToken,
    APIGatewayProxyEventModel,
)
from gateway_helpers import ACCOUNT, FUNCTION_ARN, LAMBDA_URI, REGION, lambda_method, make_api, make_gateway

from serverless_lab.dataplane.apigateway.errors import AccessDenied, ExplicitDeny
from serverless_lab.dataplane.apigateway.gateway import Gateway, LambdaResult
from serverless_lab.dataplane.apigateway.lambda_authorizer import AuthorizerPolicy, policy_allows
from serverless_lab.dataplane.apigateway.model import AuthorizerConfig, RestApiConfig
from serverless_lab.dataplane.http import HttpRequest, HttpResponse

AUTHORIZER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:lab-authorizer"
AUTHORIZER_URI = LAMBDA_URI.replace(FUNCTION_ARN, AUTHORIZER_ARN)
ARN_PREFIX = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:a1b2c3d4e5/prod"


def policy(effect: str, resource: str | list[str], **extra: Any) -> dict[str, Any]:
    return {
        "principalId": "user-42",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        **extra,
    }


class Functions:
    """Both functions at the gateway's invoke boundary: the authorizer answers `answer`, the
    integration echoes its event."""

    def __init__(self, answer: Any = None, error: str | None = None) -> None:
        self.answer = answer if answer is not None else policy("Allow", f"{ARN_PREFIX}/*")
        self.error = error
        self.authorizer_events: list[dict[str, Any]] = []
        self.integration_events: list[dict[str, Any]] = []

    def __call__(self, function_arn: str, event: dict[str, Any], timeout_s: float) -> LambdaResult:
        if function_arn == AUTHORIZER_ARN:
            self.authorizer_events.append(event)
            if self.error is not None:
                return LambdaResult(function_error="Unhandled", error={"errorMessage": self.error})
            return LambdaResult(payload=self.answer)
        self.integration_events.append(event)
        return LambdaResult(payload={"statusCode": 200, "body": "ok"})


def custom_api(kind: str = "TOKEN", **authorizer: Any) -> RestApiConfig:
    api = make_api()
    settings: dict[str, Any] = {
        "id": "lambda1",
        "name": "lab-lambda-authorizer",
        "type": kind,
        "authorizer_uri": AUTHORIZER_URI,
        "identity_source": "method.request.header.Authorization"
        if kind == "TOKEN"
        else "method.request.header.X-Team, method.request.querystring.tenant",
    }
    settings.update(authorizer)
    guarded = dataclasses.replace(lambda_method("GET"), authorization_type="CUSTOM", authorizer_id="lambda1")
    resources = tuple(
        dataclasses.replace(
            r,
            methods={
                **r.methods,
                "GET": guarded,
                "DELETE": dataclasses.replace(guarded, http_method="DELETE"),
            },
        )
        if r.path == "/items/special"
        else r
        for r in api.resources
    )
    return dataclasses.replace(
        api, resources=resources, authorizers={**api.authorizers, "lambda1": AuthorizerConfig(**settings)}
    )


def gateway_for(api: RestApiConfig, functions: Functions) -> Gateway:
    return make_gateway(api, functions)[0]


def call(gateway: Gateway, *headers: tuple[str, str], method: str = "GET", query: str = "") -> HttpResponse:
    request = HttpRequest(method, "/items/special", query, headers)
    return gateway.handle(request, "a1b2c3d4e5", "prod")


def test_a_token_authorizer_is_given_the_token_and_its_context_reaches_the_function() -> None:
    functions = Functions(
        policy(
            "Allow", f"{ARN_PREFIX}/GET/items/*", context={"tier": "gold", "n": 3, "ok": True, "none": None}
        )
    )
    gateway = gateway_for(custom_api(), functions)
    answer = call(gateway, ("Authorization", "allow-me"))
    assert answer.status == 200
    (asked,) = functions.authorizer_events
    assert asked == {
        "type": "TOKEN",
        "authorizationToken": "allow-me",
        "methodArn": f"{ARN_PREFIX}/GET/items/special",
    }
    ApiGatewayAuthorizerToken.model_validate(asked)
    event = functions.integration_events[-1]
    APIGatewayProxyEventModel.model_validate(event)
    authorizer = event["requestContext"]["authorizer"]
    assert {k: authorizer[k] for k in ("principalId", "tier", "n", "ok", "none")} == {
        "principalId": "user-42",
        "tier": "gold",
        "n": "3",
        "ok": "true",
        "none": None,  # a null stays null (a run against AWS, DefinitelyTyped pull request 69823)
    }
    assert isinstance(authorizer["integrationLatency"], int)


def test_a_missing_or_malformed_token_is_401_without_asking_the_function() -> None:
    functions = Functions()
    gateway = gateway_for(custom_api(identity_validation_expression="^Bearer [a-z]+$"), functions)
    for headers in [(), (("Authorization", ""),), (("Authorization", "Bearer NOT-LOWER"),)]:
        answer = call(gateway, *headers)
        assert (answer.status, answer.body) == (401, b'{"message":"Unauthorized"}')
    assert functions.authorizer_events == []
    assert call(gateway, ("Authorization", "Bearer fine")).status == 200


def test_policies_are_cached_per_token_and_checked_against_each_method() -> None:
    only_get = policy("Allow", f"{ARN_PREFIX}/GET/items/special")
    functions = Functions(only_get)
    gateway = gateway_for(custom_api(), functions)
    assert call(gateway, ("Authorization", "t1")).status == 200
    assert call(gateway, ("Authorization", "t1")).status == 200
    denied = call(gateway, ("Authorization", "t1"), method="DELETE")  # the cached policy has no DELETE
    assert (denied.status, denied.body) == (
        403,
        b'{"Message":"User is not authorized to access this resource"}',
    )
    assert denied.header("x-amzn-ErrorType") == "AccessDeniedException"
    assert len(functions.authorizer_events) == 1, "one call for token t1 within the TTL"
    assert call(gateway, ("Authorization", "t2")).status == 200
    assert len(functions.authorizer_events) == 2
    uncached = gateway_for(custom_api(result_ttl_in_seconds=0), functions)
    call(uncached, ("Authorization", "t1"))
    call(uncached, ("Authorization", "t1"))
    assert len(functions.authorizer_events) == 4


def test_an_explicit_deny_wins_and_errors_are_answered_as_api_gateway_does() -> None:
    both = policy("Allow", "*")
    both["policyDocument"]["Statement"].append(
        {"Action": "execute-api:*", "Effect": "Deny", "Resource": [f"{ARN_PREFIX}/*/items/sp?cial"]}
    )
    denied = call(gateway_for(custom_api(), Functions(both)), ("Authorization", "t"))
    assert (denied.status, denied.body) == (
        403,
        b'{"Message":"User is not authorized to access this resource with an explicit deny"}',
    )
    unauthorized = call(gateway_for(custom_api(), Functions(error="Unauthorized")), ("Authorization", "t"))
    assert (unauthorized.status, unauthorized.body) == (401, b'{"message":"Unauthorized"}')
    for broken in [
        Functions(error="KeyError: 'x'"),
        Functions({"principalId": "p"}),
        Functions(policy("Allow", "*", context={"nested": {"a": 1}})),
    ]:
        answer = call(gateway_for(custom_api(), broken), ("Authorization", "t"))
        assert (answer.status, answer.body) == (500, b'{"message":null}')
        assert answer.header("x-amzn-ErrorType") == "AuthorizerConfigurationException"


def test_a_request_authorizer_gets_the_request_and_needs_every_identity_source() -> None:
    functions = Functions()
    gateway = gateway_for(custom_api("REQUEST"), functions)
    missing = call(gateway, ("X-Team", "blue"))  # no ?tenant=
    assert (missing.status, missing.body) == (401, b'{"message":"Unauthorized"}')
    assert functions.authorizer_events == []
    assert call(gateway, ("X-Team", "blue"), query="tenant=acme").status == 200
    (asked,) = functions.authorizer_events
    ApiGatewayAuthorizerRequest.model_validate(asked)
    assert (asked["type"], asked["methodArn"]) == ("REQUEST", f"{ARN_PREFIX}/GET/items/special")
    assert asked["headers"]["X-Team"] == "blue" and asked["queryStringParameters"] == {"tenant": "acme"}
    assert "body" not in asked
    call(gateway, ("X-Team", "blue"), query="tenant=acme")
    call(gateway, ("X-Team", "red"), query="tenant=acme")
    assert len(functions.authorizer_events) == 2, "cached per identity source values"


def test_the_policy_matcher_uses_iam_wildcards() -> None:
    def allowed(resource: str) -> bool:
        statements = (("Allow", ("execute-api:Invoke",), (resource,)),)
        try:
            policy_allows(AuthorizerPolicy("p", statements, {}, None), f"{ARN_PREFIX}/GET/items/special")
        except AccessDenied:
            return False
        return True

    assert allowed("*") and allowed(f"{ARN_PREFIX}/*") and allowed(f"{ARN_PREFIX}/GET/items/specia?")
    assert not allowed(f"{ARN_PREFIX}/POST/*") and not allowed(f"{ARN_PREFIX}/GET/items")
    assert not allowed(f"{ARN_PREFIX}/GET/items/[s]pecial"), "brackets are literal in IAM, not a class"
    assert not allowed(f"{ARN_PREFIX}/get/items/special"), "resources are case-sensitive"
    # "The prefix and the action name are case insensitive" (IAM policy reference, Action element).
    for action in ("execute-api:invoke", "EXECUTE-API:Invoke", "execute-api:*"):
        statements = (("Allow", (action,), (f"{ARN_PREFIX}/*",)),)
        policy_allows(AuthorizerPolicy("p", statements, {}, None), f"{ARN_PREFIX}/GET/items/special")
    assert issubclass(ExplicitDeny, AccessDenied)
