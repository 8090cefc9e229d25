"""API Gateway may invoke a function only as its resource policy allows: integrations and Lambda authorizers
through the gateway core, each refusal answered as AWS answers it, and the source ARNs API Gateway names."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from gateway_helpers import ACCOUNT, FUNCTION_ARN, LAMBDA_URI, REGION, FakeLambda, make_api, make_gateway
from test_lambda_authorizer import AUTHORIZER_ARN, Functions, custom_api

from serverless_lab.dataplane.apigateway.invoke_permission import (
    authorizer_source_arn,
    function_resource_arn,
    integration_source_arn,
)
from serverless_lab.dataplane.apigateway.model import RestApiConfig
from serverless_lab.dataplane.http import HttpRequest, HttpResponse
from serverless_lab.dataplane.iam.policy import Policy

API = "a1b2c3d4e5"
EXECUTE_API = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}"
INTERNAL_ERROR = b'{"message": "Internal server error"}'


def permission(
    source_arn: str | None = None,
    *,
    principal: str = "apigateway.amazonaws.com",
    source_account: str | None = None,
    resource: str = FUNCTION_ARN,
    effect: str = "Allow",
) -> dict[str, Any]:
    """One statement as lambda.add_permission writes it (SourceArn -> ArnLike AWS:SourceArn, SourceAccount
    -> StringEquals AWS:SourceAccount)."""
    condition: dict[str, Any] = {}
    if source_arn is not None:
        condition["ArnLike"] = {"AWS:SourceArn": source_arn}
    if source_account is not None:
        condition["StringEquals"] = {"AWS:SourceAccount": source_account}
    statement = {
        "Sid": f"s{abs(hash((source_arn, principal, source_account, effect))) % 10_000}",
        "Effect": effect,
        "Principal": {"Service": principal},
        "Action": "lambda:InvokeFunction",
        "Resource": resource,
    }
    return {**statement, "Condition": condition} if condition else statement


def policies(by_function: dict[str, list[dict[str, Any]]]) -> Any:
    """The resource policies by function ARN (qualified or not); a function left out has none."""
    parsed = {
        arn: Policy.parse({"Version": "2012-10-17", "Id": "default", "Statement": statements})
        for arn, statements in by_function.items()
        if statements
    }
    return lambda function_arn: parsed.get(function_arn)


def serve(
    request: HttpRequest, statements: list[dict[str, Any]], api: RestApiConfig | None = None
) -> tuple[HttpResponse, FakeLambda, list[dict[str, Any]]]:
    gateway, fake, _ = make_gateway(api or make_api(), policies=policies({FUNCTION_ARN: statements}))
    spans: list[dict[str, Any]] = []
    return gateway.handle(request, API, "prod", spans), fake, spans


def test_no_permission_answers_500_without_invoking_and_says_what_to_add() -> None:
    answer, fake, spans = serve(HttpRequest("GET", "/"), [])
    assert (answer.status, answer.body) == (500, INTERNAL_ERROR)
    assert answer.header("x-amzn-ErrorType") == "InternalServerErrorException"
    assert fake.calls == []
    gateway_span = next(span for span in spans if span["component"] == "gateway")
    assert gateway_span["detail"]["error"] == "InternalServerError"
    cause = gateway_span["detail"]["cause"]
    assert (
        "Invalid permissions on Lambda function" in cause
        and "ada-items has no resource-based policy" in cause
    )
    assert f"SourceArn='{EXECUTE_API}/prod/GET/'" in cause and "lambda.add_permission(" in cause


def test_a_permission_for_another_method_does_not_cover_this_one() -> None:
    statements = [permission(f"{EXECUTE_API}/*/POST/files")]
    assert serve(HttpRequest("POST", "/files"), statements)[0].status == 200
    refused, fake, spans = serve(HttpRequest("GET", "/"), statements)
    assert (refused.status, refused.body, fake.calls) == (500, INTERNAL_ERROR, [])
    assert "no statement of the resource-based policy of ada-items" in spans[-1]["detail"]["cause"]


@pytest.mark.parametrize(
    ("source_arn", "method", "path", "allowed"),
    [
        (f"{EXECUTE_API}/*/*/*", "DELETE", "/items/42", True),  # what the lab's api step writes
        (f"{EXECUTE_API}/*", "DELETE", "/items/42", True),
        (f"{EXECUTE_API}/prod/DELETE/items/{{id}}", "DELETE", "/items/42", True),  # the resource's own path
        (f"{EXECUTE_API}/prod/DELETE/items/42", "DELETE", "/items/42", False),  # not the requested path
        (f"{EXECUTE_API}/*/GET/items/*", "DELETE", "/items/42", False),  # another method
        (f"{EXECUTE_API}/dev/*/*", "DELETE", "/items/42", False),  # another stage
        (f"arn:aws:execute-api:{REGION}:{ACCOUNT}:otherapi/*", "DELETE", "/items/42", False),
        (f"arn:aws:execute-api:{REGION}:*:{API}/*/DEL?TE/items/*", "DELETE", "/items/42", True),
        (f"{EXECUTE_API}/*/POST/public/*", "POST", "/public/a/b", True),  # ANY: the request's method
        (f"{EXECUTE_API}/*/ANY/public/*", "POST", "/public/a/b", False),
        (f"{EXECUTE_API}/*/*/public/{{proxy+}}", "POST", "/public/a/b", True),
    ],
)
def test_the_source_arn_is_matched_with_arnlike_wildcards(
    source_arn: str, method: str, path: str, allowed: bool
) -> None:
    answer, fake, _ = serve(HttpRequest(method, path), [permission(source_arn)])
    assert (answer.status, len(fake.calls)) == ((200, 1) if allowed else (500, 0))


def test_source_account_principal_and_an_explicit_deny_decide_too() -> None:
    request = HttpRequest("GET", "/")
    everywhere = f"{EXECUTE_API}/*"
    assert serve(request, [permission(everywhere, source_account=ACCOUNT)])[0].status == 200
    assert serve(request, [permission(everywhere, source_account="210987654321")])[0].status == 500
    assert serve(request, [permission(everywhere, principal="s3.amazonaws.com")])[0].status == 500
    assert serve(request, [permission()])[0].status == 200  # no SourceArn: any API may invoke it
    denied = [permission(everywhere), permission(f"{EXECUTE_API}/*/GET/", effect="Deny")]
    answer, _, spans = serve(request, denied)
    assert answer.status == 500 and "a Deny statement" in spans[-1]["detail"]["cause"]


def test_a_permission_takes_effect_as_soon_as_the_policy_read_changes() -> None:
    current: dict[str, Policy | None] = {"policy": None}
    gateway, fake, _ = make_gateway(make_api(), policies=lambda arn: current["policy"])
    request = HttpRequest("GET", "/")
    assert gateway.handle(request, API, "prod").status == 500
    current["policy"] = Policy.parse({"Version": "2012-10-17", "Statement": [permission(f"{EXECUTE_API}/*")]})
    assert gateway.handle(request, API, "prod").status == 200
    current["policy"] = None  # removed again (remove_permission)
    assert gateway.handle(request, API, "prod").status == 500
    assert len(fake.calls) == 1


def with_integration_arn(function_arn: str, credentials: str | None = None) -> RestApiConfig:
    """The test API whose `GET /` integration invokes function_arn (an alias or version ARN, say)."""
    api = make_api()
    root = api.resources[0]
    method = root.methods["GET"]
    assert method.integration is not None
    integration = dataclasses.replace(
        method.integration, uri=LAMBDA_URI.replace(FUNCTION_ARN, function_arn), credentials=credentials
    )
    changed = dataclasses.replace(root, methods={"GET": dataclasses.replace(method, integration=integration)})
    return dataclasses.replace(api, resources=(changed, *api.resources[1:]))


def test_each_qualifier_has_its_own_policy() -> None:
    alias = f"{FUNCTION_ARN}:live"
    request = HttpRequest("GET", "/")
    everywhere = f"{EXECUTE_API}/*"
    on_function = policies({FUNCTION_ARN: [permission(everywhere)]})
    on_alias = policies({alias: [permission(everywhere, resource=alias)]})
    for api, source, status in [
        (with_integration_arn(alias), on_function, 500),  # the function's permission does not cover the alias
        (with_integration_arn(alias), on_alias, 200),
        (make_api(), on_alias, 500),  # nor the alias's the function
        (with_integration_arn(f"{FUNCTION_ARN}:$LATEST"), on_function, 200),  # $LATEST is the function's
        (with_integration_arn(f"{FUNCTION_ARN}:3"), on_function, 500),
    ]:
        gateway, _, _ = make_gateway(api, policies=source)
        assert gateway.handle(request, API, "prod").status == status, api.resources[0].methods


def test_an_integration_with_credentials_is_left_to_its_role() -> None:
    api = with_integration_arn(FUNCTION_ARN, credentials=f"arn:aws:iam::{ACCOUNT}:role/apigateway-invoke")
    gateway, fake, _ = make_gateway(api, policies=policies({}))
    assert gateway.handle(HttpRequest("GET", "/"), API, "prod").status == 200 and len(fake.calls) == 1


def authorizer_call(statements: dict[str, list[dict[str, Any]]]) -> tuple[HttpResponse, Functions]:
    functions = Functions()
    gateway, _, _ = make_gateway(custom_api(), functions, policies=policies(statements))
    request = HttpRequest("GET", "/items/special", headers=(("Authorization", "let-me-in"),))
    return gateway.handle(request, API, "prod"), functions


def test_an_authorizer_without_permission_is_an_authorizer_configuration_error() -> None:
    integration = [permission(f"{EXECUTE_API}/*/*/*")]
    answer, functions = authorizer_call({FUNCTION_ARN: integration})
    assert (answer.status, answer.body) == (500, b'{"message":null}')
    assert answer.header("x-amzn-ErrorType") == "AuthorizerConfigurationException"
    assert functions.authorizer_events == [] and functions.integration_events == []
    # The integration's `<api>/*/*/*` does not cover `<api>/authorizers/<id>`; the authorizer's ARN does.
    answer, _ = authorizer_call({FUNCTION_ARN: integration, AUTHORIZER_ARN: integration})
    assert answer.status == 500
    granted = [permission(f"{EXECUTE_API}/authorizers/lambda1", resource=AUTHORIZER_ARN)]
    answer, functions = authorizer_call({FUNCTION_ARN: integration, AUTHORIZER_ARN: granted})
    assert answer.status == 200 and len(functions.authorizer_events) == 1
    # The authorizer allowed, but the integration may not be invoked: the integration's 500.
    answer, functions = authorizer_call({AUTHORIZER_ARN: granted})
    assert (answer.status, answer.body) == (500, INTERNAL_ERROR)
    assert len(functions.authorizer_events) == 1 and functions.integration_events == []


def test_source_and_resource_arns() -> None:
    api = make_api()
    assert (
        integration_source_arn(api, ACCOUNT, "GET", "/items/{id}") == f"{EXECUTE_API}/prod/GET/items/{{id}}"
    )
    assert integration_source_arn(api, ACCOUNT, "GET", "/") == f"{EXECUTE_API}/prod/GET/"
    assert authorizer_source_arn(api, ACCOUNT, "abc123") == f"{EXECUTE_API}/authorizers/abc123"
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:items"
    for given, expected in [
        (function, function),
        (f"{function}:$LATEST", function),
        (f"{function}:live", f"{function}:live"),
        ("items:7", f"{function}:7"),
        (f"{ACCOUNT}:function:items", function),
    ]:
        assert function_resource_arn(given, REGION, ACCOUNT) == expected
